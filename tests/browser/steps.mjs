// steps.mjs: the sign-in pages' steps that several flows go through —
// activating an account, signing in and out, accepting the privacy notice —
// each checked and screenshotted as it goes; and the stack helpers several
// flows share (root SQL, forgetting the address's guard counters).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { addUser, alertText, base32Decode, csrfValue, env, fill, formWith, goto, msg, msgRe, noticeText,
	pathOf, shared, stepNow, strongPassword, submit, totpAt } from './lib.mjs';

// GET /activate and its form: login, code, new_password and a CSRF token
// (counted once per flow).
export async function openActivate(flow) {
	const { page } = flow;
	const c = flow.activateSeen ? flow.need.bind(flow) : flow.must.bind(flow);
	const status = await goto(page, '/activate');
	c(status === 200, 'GET /activate answers 200', `status ${status}`);
	for (const f of ['login', 'code', 'new_password'])
		c(await formWith(page, f).count() === 1, `the activation form has a field "${f}"`);
	c((await csrfValue(page, 'new_password')).length >= 16, 'the activation form carries a CSRF token');
	flow.activateSeen = true;
}

export async function postActivate(flow, user, password) {
	await fill(flow.page, { login: user.login, code: user.code, new_password: password });
	return submit(flow.page, 'new_password');
}

// Activates with a password expected to be accepted: 303 to
// /login?done=activated, where the login page shows a notice.
export async function activate(flow, user, password, shots = false) {
	await openActivate(flow);
	if (shots) await flow.shot('activate-form');
	const status = await postActivate(flow, user, password);
	flow.must(status === 303 && pathOf(flow.page) === '/login?done=activated',
		'a strong first password activates the account (303 to /login?done=activated)',
		`status ${status}, at ${pathOf(flow.page)}, alert ${await alertText(flow.page)}`);
	if (shots) {
		flow.eq(await noticeText(flow.page), msg(lang(flow), 'login.activated'),
			'the login page says the account is activated');
		await flow.shot('activated');
	}
}

// The student whom the student flow activated, or (when that flow was not
// run or stopped early) a new one activated here.
export async function studentAccount(flow) {
	if (!shared.student) {
		const user = addUser('student', '林小美');
		const password = strongPassword();
		await activate(flow, user, password);
		shared.student = { user, password, privacy: false };
	}
	return shared.student;
}

// Signs the shared student in and lands on /, accepting the notice first
// if nobody has yet.
export async function signInStudent(flow) {
	const s = await studentAccount(flow);
	await signInOk(flow, s.user.login, s.password, s.privacy ? '/' : '/privacy');
	if (!s.privacy) {
		await acceptPrivacy(flow, '/');
		s.privacy = true;
	}
	return s;
}

function lang(flow) {
	return flow.lang || 'zh-TW';
}

// Signs in on /login; returns the status of the POST (the page that
// follows is wherever the server sent the browser).
export async function signIn(flow, login, password) {
	const { page } = flow;
	const status = await goto(page, '/login');
	flow.need(status === 200, 'GET /login answers 200', `status ${status}`);
	flow.need((await csrfValue(page, 'password')).length >= 16, 'the login form carries a CSRF token');
	await fill(page, { login, password });
	return submit(page, 'password');
}

// Signs in expecting success: 303, then (for a first sign-in) /privacy.
export async function signInOk(flow, login, password, expectPath) {
	const status = await signIn(flow, login, password);
	flow.must(status === 303 && pathOf(flow.page) === expectPath,
		`the right password signs in (303, then ${expectPath})`,
		`status ${status}, at ${pathOf(flow.page)}, alert ${await alertText(flow.page)}`);
}

// /privacy: tick "accept", submit, land on `next` (/ or /mfa/setup).
export async function acceptPrivacy(flow, next, shots = false) {
	const { page } = flow;
	flow.must(pathOf(page) === '/privacy', 'the first sign-in shows the privacy notice',
		`at ${pathOf(page)}`);
	if (shots) await flow.shot('privacy');
	const box = formWith(page, 'accept').locator('[name="accept"]');
	flow.must(await box.count() === 1, 'the privacy notice has an "accept" checkbox');
	await box.check();
	const status = await submit(page, 'accept');
	flow.must(pathOf(page) === next, `accepting the notice leads to ${next}`,
		`status ${status}, at ${pathOf(page)}, alert ${await alertText(page)}`);
}

// The sign-out button in the page header: POST /logout, then
// /login?done=signed_out with a notice.
export async function signOut(flow) {
	const { page } = flow;
	const form = page.locator('header form.inline-form').first();
	flow.need(await form.count() === 1, 'the page header has a sign-out form', `at ${pathOf(page)}`);
	const action = await form.getAttribute('action');
	flow.need(action === '/logout', 'the sign-out form posts to /logout', `action ${action}`);
	const nav = page.waitForNavigation({ waitUntil: 'load' });
	await form.locator('button, [type=submit]').first().click();
	await nav;
	flow.check(pathOf(page) === '/login?done=signed_out', 'signing out leads to /login?done=signed_out',
		`at ${pathOf(page)}`);
	flow.eq(await noticeText(page), msg(lang(flow), 'login.signed_out'), 'the login page says you are signed out');
}

// Activation, sign-in, privacy notice and TOTP enrolment of a new school
// administrator; ends on /.
export async function adminSignedIn(flow) {
	const { page } = flow;
	const user = addUser('school_admin', '陳註冊組長');
	const password = strongPassword();
	await activate(flow, user, password);
	await signInOk(flow, user.login, password, '/privacy');
	await acceptPrivacy(flow, '/mfa/setup');
	const secret = (await page.locator('#totp-secret').innerText()).replace(/\s+/g, '');
	await fill(page, { totp: totpAt(base32Decode(secret), stepNow()) });
	await submit(page, 'totp');
	flow.must(await page.locator('ol#recovery-codes > li').count() === 10,
		'the administrator enrols a second factor', `at ${pathOf(page)}, alert ${await alertText(page)}`);
	await goto(page, '/');
	flow.must(pathOf(page) === '/', 'the administrator reaches the home page', `at ${pathOf(page)}`);
	return user;
}

// Clicks an import report's apply button and returns the status of its
// POST (lib's submit finds forms by a field, and every form there, the
// page header's sign-out too, has only csrf).
export async function applyImport(page) {
	const [resp] = await Promise.all([
		page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/apply')),
		page.waitForNavigation({ waitUntil: 'load' }),
		page.locator('#apply-form button[type=submit]').click(),
	]);
	return resp.status();
}

// Checks that the alert is a message of the catalogue (e.g.
// password.rule.blocklisted names the rule a password broke).
export async function checkAlert(flow, key, what) {
	const text = await alertText(flow.page);
	const re = msgRe(lang(flow), key);
	flow.check(text && re && re.test(text), `${what}: the alert is "${key}"`,
		`alert ${JSON.stringify(text)}, catalogue ${JSON.stringify(msg(lang(flow), key))}`);
}

// The page that re-rendered must not hand the password back.
export async function checkNotEchoed(flow, field) {
	const v = await flow.page.locator(`[name="${field}"]`).first().inputValue().catch(() => null);
	flow.check(v === '' || v === null, `the re-rendered form does not echo "${field}"`);
}

export async function bodyText(page) {
	return page.locator('body').innerText();
}

// The stack's MariaDB as root (unix_socket authentication), for what a
// flow's pages do not make themselves (a class, a term, an enrolment).
export function sqlRoot(sql) {
	const r = spawnSync('mariadb', [`--socket=${join(process.env.LICHENG_RUN, 'mysql.sock')}`, '-uroot',
		'-N', '-B', 'licheng', '-e', sql], { encoding: 'utf8', timeout: 30000 });
	if (r.status !== 0) throw new Error(`mariadb: ${(r.stderr || '').trim()}`);
	return r.stdout.trim();
}

// Earlier flows activated accounts from 127.0.0.1; this one activates two
// more, which must not add up to the address-wide limit on password
// changes (lib/guard.c): forget the address's counters, as tests/browser/run
// does before the first flow.
export function resetAddressGuard() {
	const sock = join(process.env.LICHENG_RUN, 'redis', 'redis.sock');
	const conf = spawnSync('sed', ['-n', 's/^[[:space:]]*prefix:[[:space:]]*"\\{0,1\\}\\([^"]*\\)"\\{0,1\\}[[:space:]]*$/\\1/p',
		env.conf], { encoding: 'utf8' });
	const prefix = (conf.stdout || '').split('\n')[0] || 'licheng:';
	const keys = spawnSync('redis-cli', ['-s', sock, '--scan', '--pattern', `${prefix}g:[abn]:*127.0.0.1`],
		{ encoding: 'utf8' });
	for (const k of (keys.stdout || '').split('\n').filter(Boolean))
		spawnSync('redis-cli', ['-s', sock, 'DEL', k]);
}
