// wrong_password: a wrong password and an unknown login get the same
// generic message, so the page never tells which logins exist.
import { alertText, msg, pathOf, shared } from '../lib.mjs';
import { checkNotEchoed, signIn, studentAccount } from '../steps.mjs';

export default async function wrongPassword(flow) {
	const s = await studentAccount(flow);

	await signIn(flow, s.user.login, `${s.password}x`);
	const wrong = await alertText(flow.page);
	flow.check(pathOf(flow.page).startsWith('/login'), 'a wrong password stays on /login', `at ${pathOf(flow.page)}`);
	flow.check(wrong && wrong.includes('帳號或密碼錯誤'), 'a wrong password shows "帳號或密碼錯誤"',
		`alert ${JSON.stringify(wrong)}`);
	flow.eq(wrong, msg('zh-TW', 'login.failed'), 'the alert is the catalogue\'s login.failed');
	await checkNotEchoed(flow, 'password');
	await flow.shot('wrong-password');

	await signIn(flow, shared.unknownLogin, s.password);
	const unknown = await alertText(flow.page);
	flow.check(pathOf(flow.page).startsWith('/login'), 'an unknown login stays on /login', `at ${pathOf(flow.page)}`);
	flow.eq(unknown, wrong, 'an unknown login shows the very same message');
	await flow.shot('unknown-login');
}
