// stack: the plumbing before any flow — Chromium reaches the private
// stack's nginx over TLS (self-signed certificate) and GET / renders in
// zh-TW, the default language.
import { goto } from '../lib.mjs';

export default async function stack(flow) {
	const status = await goto(flow.page, '/');
	flow.must(status === 200 || status === 303, 'GET / answers over TLS', `status ${status}`);
	flow.eq(await flow.page.locator('html').getAttribute('lang'), 'zh-TW', 'the default language is zh-TW');
	await flow.shot('home');
}
