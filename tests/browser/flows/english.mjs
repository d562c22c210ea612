// english: Accept-Language en gives the English login page and messages;
// GET /lang/en sets a cookie that overrides a zh-TW browser.
import { alertText, goto, msg, newContext, pathOf, shared } from '../lib.mjs';
import { signIn } from '../steps.mjs';

export default async function english(flow, { browser }) {
	const { page } = flow;
	await goto(page, '/login');
	flow.eq(await page.locator('html').getAttribute('lang'), 'en', 'Accept-Language en: the login page is in English');
	flow.check((await page.title()).includes(msg('en', 'login.title')), 'the title says "Sign in"',
		await page.title());
	flow.check(!/[\u4e00-\u9fff]/.test(await page.locator('main').innerText()), 'no Chinese in the English form');
	await flow.shot('login-en');

	await signIn(flow, shared.unknownLogin, 'not-the-password-1');
	flow.eq(await alertText(page), msg('en', 'login.failed'), 'the generic failure message is in English');
	await flow.shot('failed-en');

	const ctx = await newContext(browser, flow.name, 'zh-TW');
	try {
		const zh = flow.with(await ctx.newPage(), 'zh-TW');
		await goto(zh.page, '/login');
		zh.eq(await zh.page.locator('html').getAttribute('lang'), 'zh-TW', 'a zh-TW browser gets zh-TW');
		await goto(zh.page, '/lang/en');
		await goto(zh.page, '/login');
		zh.eq(await zh.page.locator('html').getAttribute('lang'), 'en', 'after GET /lang/en the login page is in English');
		zh.check(pathOf(zh.page) === '/login', 'GET /lang/en then /login stays on /login', pathOf(zh.page));
		await zh.shot('lang-cookie-en');
	} finally {
		await ctx.close();
	}
}
