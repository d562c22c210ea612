// password: /password refuses weak new passwords (blocklisted; holding the
// login) with 422 and the rule named, and — the Ministry's rule — a strong
// one within a day of the last change; the old password still works
// afterwards. (An accepted password is tested at activation, the only
// change a test can make without waiting a day.)
import { csrfValue, fill, formWith, goto, pathOf, strongPassword, submit } from '../lib.mjs';
import { bodyText, checkAlert, checkNotEchoed, signInOk, signInStudent, signOut } from '../steps.mjs';

export default async function passwordRefused(flow) {
	const s = await signInStudent(flow);
	const status = await goto(flow.page, '/password');
	flow.must(status === 200 && pathOf(flow.page) === '/password', 'GET /password answers 200',
		`status ${status}, at ${pathOf(flow.page)}`);
	for (const f of ['current_password', 'new_password'])
		flow.must(await formWith(flow.page, f).count() === 1, `the form has a field "${f}"`);
	flow.check((await csrfValue(flow.page, 'new_password')).length >= 16, 'the form carries a CSRF token');
	await flow.shot('password-form');

	const tries = [
		['password1', 'blocklisted'],
		[`${s.user.login}-Harbour-77`, 'has_login'],
		[strongPassword(), 'too_soon'],
	];
	for (const [pw, rule] of tries) {
		await fill(flow.page, { current_password: s.password, new_password: pw });
		const st = await submit(flow.page, 'new_password');
		flow.eq(st, 422, `a new password refused by "${rule}" answers 422`);
		flow.eq(pathOf(flow.page), '/password', `the "${rule}" refusal re-renders /password`);
		await checkAlert(flow, `password.rule.${rule}`, `/password, ${rule}`);
		await checkNotEchoed(flow, 'new_password');
		await checkNotEchoed(flow, 'current_password');
		await flow.shot(`refused-${rule.replace('_', '-')}`);
		if (pathOf(flow.page) !== '/password') await goto(flow.page, '/password');
	}

	await signOut(flow);
	await signInOk(flow, s.user.login, s.password, '/');
	flow.check((await bodyText(flow.page)).includes(s.user.name), 'the old password still signs in after the refusals');
	await flow.shot('old-password-works');
}
