// totp: a school administrator must enrol a second factor: activation,
// sign-in, privacy, /mfa/setup (secret, QR code, otpauth URI), a code
// computed here per RFC 6238, the ten recovery codes shown once, home.
// Then sign-out and sign-in through /login/totp, where the code already
// used in its 30-second step is refused as a replay and the next one works;
// and once more with a recovery code, which works only once.
import { addUser, alertText, base32Decode, fill, goto, pathOf, stepNow, strongPassword, submit,
	totpAt } from '../lib.mjs';
import { acceptPrivacy, activate, bodyText, checkAlert, signIn, signInOk, signOut } from '../steps.mjs';

// Password, then /login/totp.
async function toTotp(flow, user, password, shot) {
	const st = await signIn(flow, user.login, password);
	flow.must(pathOf(flow.page) === '/login/totp', 'the password leads to /login/totp',
		`status ${st}, at ${pathOf(flow.page)}, alert ${await alertText(flow.page)}`);
	if (shot) await flow.shot('login-totp');
}

export default async function totp(flow) {
	const { page } = flow;
	const user = addUser('school_admin', '吳教務');
	const password = strongPassword();
	await activate(flow, user, password, true);
	await signInOk(flow, user.login, password, '/privacy');
	await acceptPrivacy(flow, '/mfa/setup');

	flow.must(await page.locator('#totp-secret').count() === 1, '/mfa/setup shows #totp-secret');
	const secret = (await page.locator('#totp-secret').innerText()).replace(/\s+/g, '');
	flow.must(/^[A-Z2-7]{16,}=*$/.test(secret), 'the secret is base32 (at least 80 bits)', secret);
	// textContent: the URI sits in a closed <details>.
	const uri = ((await page.locator('#totp-uri').textContent().catch(() => '')) || '').trim();
	const params = uri.startsWith('otpauth://totp/') ? new URL(uri).searchParams : new URLSearchParams();
	flow.check(params.get('secret') === secret.replace(/=+$/, ''), '#totp-uri is the otpauth URI of the same secret',
		uri);
	flow.check(['SHA1', null].includes(params.get('algorithm')) && ['6', null].includes(params.get('digits')) &&
		['30', null].includes(params.get('period')), 'the URI asks for SHA-1, 6 digits, 30 s (RFC 6238)', uri);
	flow.check(await page.locator('main svg').count() >= 1, 'the QR code is an inline SVG');
	await flow.shot('mfa-setup');

	const key = base32Decode(secret);
	const used = stepNow();
	await fill(page, { totp: totpAt(key, used) });
	await submit(page, 'totp');
	const codes = (await page.locator('ol#recovery-codes > li').allInnerTexts()).map((c) => c.trim());
	flow.eq(codes.length, 10, 'a valid code enrols and shows ten recovery codes');
	flow.check(codes.length && codes.every((c) => /^[0-9A-Z]{5}-[0-9A-Z]{5}$/.test(c)),
		'recovery codes look like XXXXX-XXXXX', JSON.stringify(codes));
	await flow.shot('recovery-codes');

	const cont = page.locator('main a[href="/"], main form[action="/"] [type=submit]').first();
	if (await cont.count()) {
		const nav = page.waitForNavigation({ waitUntil: 'load' });
		await cont.click();
		await nav;
	} else {
		flow.check(false, 'the recovery codes page has a link or button to /');
		await goto(page, '/');
	}
	flow.eq(pathOf(page), '/', 'after enrolment the home page opens');
	flow.check((await bodyText(page)).includes(user.name), 'the home page shows the administrator\'s name');
	await flow.shot('home');
	await goto(page, '/mfa/setup');
	flow.eq(await page.locator('#recovery-codes').count(), 0, 'the recovery codes are shown only once');
	await goto(page, '/');

	await signOut(flow);
	await toTotp(flow, user, password, true);
	// The server accepts steps now-1 .. now+1 but none at or before the
	// last one used: the enrolment's code is a replay while still in that
	// window, and the step after it is accepted at once (no waiting).
	if (stepNow() <= used + 1) {
		await fill(page, { totp: totpAt(key, used) });
		await submit(page, 'totp');
		flow.eq(pathOf(page), '/login/totp', 'the code already used is refused (replay)');
		await checkAlert(flow, 'login.totp_failed', 'a replayed code');
		await flow.shot('totp-replay-refused');
	}
	const next = Math.max(stepNow(), used + 1);
	await fill(page, { totp: totpAt(key, next) });
	await submit(page, 'totp');
	flow.eq(pathOf(page), '/', 'the next step\'s code signs in');
	await flow.shot('home-after-totp');

	if (codes.length === 0) return;
	await signOut(flow);
	await toTotp(flow, user, password);
	await fill(page, { totp: codes[0] });
	await submit(page, 'totp');
	flow.eq(pathOf(page), '/', 'a recovery code signs in instead of a TOTP code');
	await flow.shot('home-after-recovery-code');
	await signOut(flow);
	await toTotp(flow, user, password);
	await fill(page, { totp: codes[0] });
	await submit(page, 'totp');
	flow.eq(pathOf(page), '/login/totp', 'a recovery code works only once');
	await flow.shot('recovery-code-spent');
}
