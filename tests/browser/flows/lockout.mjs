// lockout: five wrong passwords for one login, then the sixth attempt —
// even with the right password — shows the lock-out message (zh-TW "鎖定",
// English "locked") and does not sign in.
import { addUser, alertText, newContext, pathOf, strongPassword } from '../lib.mjs';
import { activate, signIn } from '../steps.mjs';

export default async function lockout(flow, { browser }) {
	const user = addUser('student', '張志明');
	const password = strongPassword();
	await activate(flow, user, password);

	const alerts = [];
	for (let i = 1; i <= 5; i++) {
		await signIn(flow, user.login, `wrong-${i}-${password}`);
		alerts.push(await alertText(flow.page));
		if (i === 1 || i === 5) await flow.shot(`wrong-${i}`);
	}
	flow.check(alerts.every((a) => a && a.includes('帳號或密碼錯誤')),
		'attempts 1 to 5 show the generic message', JSON.stringify(alerts));

	await signIn(flow, user.login, password);
	const locked = await alertText(flow.page);
	flow.check(locked && locked.includes('鎖定'), 'the 6th attempt shows the lock-out message (鎖定)',
		`alert ${JSON.stringify(locked)}`);
	flow.check(pathOf(flow.page).startsWith('/login'), 'a locked account is not signed in, even with the right password',
		`at ${pathOf(flow.page)}`);
	await flow.shot('locked');

	const ctx = await newContext(browser, flow.name, 'en');
	try {
		const en = flow.with(await ctx.newPage(), 'en');
		await signIn(en, user.login, password);
		const text = await alertText(en.page);
		en.check(text && /locked/i.test(text), 'in English the lock-out message says "locked"',
			`alert ${JSON.stringify(text)}`);
		await en.shot('locked-en');
	} finally {
		await ctx.close();
	}
}
