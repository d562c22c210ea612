// sessions: the session cookie's attributes, and "sign out everywhere" on
// /account ending the student's other session too.
import { goto, newContext, pathOf } from '../lib.mjs';
import { signInStudent } from '../steps.mjs';

export default async function sessions(flow, { browser, context }) {
	const { page } = flow;
	await signInStudent(flow);
	const cookie = (await context.cookies()).find((c) => c.name === '__Host-licheng');
	flow.check(cookie && cookie.secure && cookie.httpOnly && cookie.path === '/' && !cookie.domain.startsWith('.') &&
		['Lax', 'Strict'].includes(cookie.sameSite), 'the session cookie is __Host-, Secure, HttpOnly, SameSite',
		JSON.stringify(cookie && { ...cookie, value: '…' }));

	const other = await newContext(browser, flow.name);
	try {
		const b = flow.with(await other.newPage());
		await signInStudent(b);
		await goto(page, '/account');
		const form = page.locator('main form[action="/logout/all"]');
		flow.must(await form.count() === 1, '/account has a form posting to /logout/all');
		await flow.shot('account');
		const nav = page.waitForNavigation({ waitUntil: 'load' });
		await form.locator('[type=submit]').first().click();
		await nav;
		flow.eq(pathOf(page), '/login?done=signed_out', 'signing out everywhere leads to /login?done=signed_out');
		await goto(b.page, '/account');
		b.eq(pathOf(b.page), '/login', 'the other browser\'s session has ended too');
		await b.shot('other-session-ended');
	} finally {
		await other.close();
	}
}
