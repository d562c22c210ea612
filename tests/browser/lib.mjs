// lib.mjs: what every browser flow shares — the counting harness, the
// Chromium launch (Debian's /usr/bin/chromium, never a downloaded browser,
// kept off the network), accounts made with the licheng CLI, TOTP codes,
// the message catalogues, and small page helpers that screenshot each step.
// tests/browser/run sets the environment; see docs/testing.md.

import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '..', '..');

function required(name) {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set (tests/browser/run sets it)`);
	return v;
}

export const env = {
	bin: required('LICHENG_BIN'),
	conf: required('LICHENG_CONF'),
	base: `https://127.0.0.1:${required('HTTPS_PORT')}`,
	artifacts: required('BROWSER_ARTIFACTS'),
	chromium: process.env.CHROMIUM || '/usr/bin/chromium',
	// Per action; the ASan build answers more slowly.
	timeout: Number(process.env.BROWSER_STEP_TIMEOUT_MS || 15000),
};

// ---------------------------------------------------------------- harness

// Each check prints "ok - ..." or "FAIL - ..."; a flow that throws counts
// one failure and stops there (the next flow starts from a new context).
// The last line printed is "N passed, N failed", read by tests/run.
export const harness = {
	pass: 0,
	fail: 0,
	ok(msg) {
		this.pass++;
		console.log(`ok - ${msg}`);
	},
	bad(msg) {
		this.fail++;
		console.log(`FAIL - ${msg}`);
	},
	note(msg) {
		console.log(`# ${msg}`);
	},
	summary() {
		console.log(`${this.pass} passed, ${this.fail} failed`);
	},
};

// A Flow prefixes its checks and screenshots with its name and numbers the
// screenshots in order: <artifacts>/<flow>-NN-<step>.png.
export class Flow {
	constructor(name, page, lang = 'zh-TW') {
		this.name = name;
		this.page = page;
		this.lang = lang; // the language the pages should be in
		this.shots = 0;
	}

	// Another page (e.g. a second browser context) in the same flow: its
	// checks and screenshots continue this flow's names and numbers.
	with(page, lang = this.lang) {
		const f = new Flow(this.name, page, lang);
		f.parent = this;
		return f;
	}

	check(cond, msg, detail) {
		if (cond) harness.ok(`${this.name}: ${msg}`);
		else harness.bad(`${this.name}: ${msg}${detail ? ` (${detail})` : ''}`);
		return !!cond;
	}

	// Like check, but stops the flow: later steps depend on this one.
	must(cond, msg, detail) {
		if (!this.check(cond, msg, detail)) throw new Stop(msg);
	}

	// A precondition of a step already checked elsewhere: counted only
	// when it fails (then it stops the flow), so repeated steps such as
	// "GET /login answers" do not pad the count.
	need(cond, msg, detail) {
		if (!cond) this.must(cond, msg, detail);
	}

	eq(actual, expected, msg) {
		return this.check(actual === expected, msg,
			`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
	}

	async shot(step) {
		const owner = this.parent || this;
		owner.shots++;
		const n = String(owner.shots).padStart(2, '0');
		const file = join(env.artifacts, `${this.name}-${n}-${step}.png`);
		await this.page.screenshot({ path: file, fullPage: true });
		return file;
	}
}

// Thrown by Flow.must: the failure is already counted.
export class Stop extends Error {}

// ---------------------------------------------------------------- browser

// Headless Debian Chromium with everything that would reach out to the
// network switched off; the pages themselves only ever load from BASE.
export const CHROMIUM_ARGS = [
	'--no-sandbox', // root in CI, and no user namespaces in containers
	'--disable-dev-shm-usage', // small /dev/shm in containers
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-default-apps',
	'--disable-extensions',
	'--disable-breakpad',
	'--disable-domain-reliability',
	'--disable-client-side-phishing-detection',
	'--disable-features=Translate,OptimizationHints,MediaRouter,' +
		'AutofillServerCommunication,CertificateTransparencyComponentUpdater',
	'--no-first-run',
	'--no-default-browser-check',
	'--no-pings',
	'--metrics-recording-only',
	'--password-store=basic',
	'--use-mock-keychain',
];

export async function launch() {
	return chromium.launch({
		executablePath: env.chromium,
		headless: true,
		args: CHROMIUM_ARGS,
		// Debian's launcher script adds flags from /etc/chromium.d; ours
		// come after them and win where they overlap.
		timeout: 30000,
	});
}

// What any context saw that no page of ours should cause; main.mjs checks
// both are empty at the end.
export const seen = { outside: [], csp: [] };

// A fresh context (no cookies) with the self-signed certificate accepted.
// flow names it in reports; lang 'zh-TW' or 'en' sets Accept-Language exactly (Chromium would send
// en-US otherwise). Requests to anywhere but BASE are refused and reported.
export async function newContext(browser, flow, lang = 'zh-TW') {
	const context = await browser.newContext({
		ignoreHTTPSErrors: true,
		locale: lang,
		extraHTTPHeaders: { 'Accept-Language': lang },
		viewport: { width: 1024, height: 768 },
	});
	context.setDefaultTimeout(env.timeout);
	context.setDefaultNavigationTimeout(env.timeout);
	const origin = new URL(env.base).origin;
	await context.route((url) => url.origin !== origin && url.protocol !== 'data:',
		(route) => {
			seen.outside.push(`${flow}: ${route.request().url()}`);
			return route.abort('blockedbyclient');
		});
	context.on('console', (m) => {
		if (m.type() === 'error' && /Content Security Policy/i.test(m.text()))
			seen.csp.push(`${flow}: ${m.text()}`);
	});
	return context;
}

// ---------------------------------------------------------------- accounts

function licheng(args) {
	const r = spawnSync(join(env.bin, 'licheng'), ['-c', env.conf, ...args],
		{ encoding: 'utf8', timeout: 30000 });
	if (r.status !== 0)
		throw new Error(`licheng ${args.slice(0, 2).join(' ')} exited ${r.status}: ` +
			`${(r.stderr || '').trim()} ${(r.stdout || '').trim()}`);
	return r.stdout;
}

// Lower-case letters and digits; prefixed so that no value is ever a
// national ID, a date or another run's (lock-outs persist in Redis).
export function rand(n = 8) {
	const a = 'abcdefghijkmnpqrstuvwxyz23456789';
	return Array.from(randomBytes(n), (b) => a[b % a.length]).join('');
}

// Accounts that several flows share, so that a run activates only three
// (the stack blocks an address after more than detect.password_changes,
// default 5, passwords set within 10 minutes) and fails few distinct logins.
export const shared = {
	student: null, // { user, password, privacy: accepted already }
	unknownLogin: `bt-${rand(8)}`, // never added
};

export const school = {
	code: `bx${rand(10)}`,
	name: `瀏覽器測試高中 Browser Test High School`,
	made: false,
};

export function ensureSchool() {
	if (!school.made) {
		licheng(['school', 'add', '--code', school.code, '--name', school.name]);
		school.made = true;
	}
	return school;
}

// Adds a pending account and returns { login, name, role, code }.
export function addUser(role, name) {
	const login = `bt-${rand(8)}`;
	const args = ['user', 'add', '--role', role, '--login', login, '--name', name];
	if (role !== 'auditor' && role !== 'central_staff')
		args.push('--school', ensureSchool().code);
	const out = licheng(args);
	const m = /^activation code: ([0-9A-Z]{5}-[0-9A-Z]{5}) /m.exec(out);
	if (!m) throw new Error(`no activation code in: ${out}`);
	return { login, name, role, code: m[1] };
}

// A password no rule refuses: long, random, nothing personal in it.
export function strongPassword() {
	return `Lantern-${rand(6)}-Harbour-${rand(4)}!`;
}

// ---------------------------------------------------------------- TOTP

export function base32Decode(s) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	const clean = s.toUpperCase().replace(/[\s=-]/g, '');
	let bits = 0;
	let value = 0;
	const out = [];
	for (const ch of clean) {
		const i = alphabet.indexOf(ch);
		if (i < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
		value = (value << 5) | i;
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

// RFC 6238 with HMAC-SHA1, 30-second steps, 6 digits; step = floor(t/30).
export function totpAt(key, step, digits = 6) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(step));
	const h = createHmac('sha1', key).update(msg).digest();
	const off = h[h.length - 1] & 0x0f;
	const bin = (h.readUInt32BE(off) & 0x7fffffff) % 10 ** digits;
	return String(bin).padStart(digits, '0');
}

export function stepNow() {
	return Math.floor(Date.now() / 1000 / 30);
}

// ---------------------------------------------------------------- messages

// The message catalogues (conf/messages/<lang>.yaml) flattened to dotted
// keys, so that checks follow the wording rather than copy it. A minimal
// reader for their subset of YAML: nested maps of one-line scalars.
const catalogues = {};
// msgRe: the same as a RegExp matching the rendered text, where a
// placeholder such as {n} stands for any value.
export function msgRe(lang, key) {
	const m = msg(lang, key);
	if (m === undefined) return null;
	const esc = m.split(/\{[a-z_]+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
	return new RegExp(esc.join('.+?'));
}

export function msg(lang, key) {
	if (!catalogues[lang]) {
		const flat = {};
		const stack = [];
		const text = readFileSync(join(REPO, 'conf', 'messages', `${lang}.yaml`), 'utf8');
		for (const line of text.split('\n')) {
			const m = /^( *)("[^"]*"|'[^']*'|[^:#\s][^:]*):(?:\s+(.*))?$/.exec(line);
			if (!m) continue;
			const depth = m[1].length;
			while (stack.length && stack[stack.length - 1].depth >= depth) stack.pop();
			const k = m[2].replace(/^["']|["']$/g, '');
			const v = (m[3] || '').trim();
			if (v === '') {
				stack.push({ depth, k });
				continue;
			}
			const path = [...stack.map((s) => s.k), k].join('.');
			flat[path] = v.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
		}
		catalogues[lang] = flat;
	}
	return catalogues[lang][key];
}

// ---------------------------------------------------------------- pages

export function pathOf(page) {
	const u = new URL(page.url());
	return u.pathname + u.search;
}

export async function goto(page, path) {
	const resp = await page.goto(env.base + path, { waitUntil: 'load' });
	return resp ? resp.status() : 0;
}

// The form that holds a field of this name.
export function formWith(page, field) {
	return page.locator('form', { has: page.locator(`[name="${field}"]`) }).first();
}

// Clicks the submit button of the form holding `field` and waits for the
// page that results. Returns the status of the POST itself (303 when it
// redirected, 422 when it re-rendered with an alert).
export async function submit(page, field) {
	const form = formWith(page, field);
	const action = new URL((await form.getAttribute('action')) || page.url(), page.url());
	const posted = page.waitForResponse((r) => r.request().method() === 'POST' &&
		new URL(r.url()).pathname === action.pathname);
	const nav = page.waitForNavigation({ waitUntil: 'load' });
	await form.locator('[type=submit]').first().click();
	const resp = await posted;
	await nav;
	return resp.status();
}

export async function fill(page, values) {
	for (const [name, value] of Object.entries(values))
		await page.locator(`[name="${name}"]`).first().fill(value);
}

export async function alertText(page) {
	const a = page.locator('.alert[role=alert]');
	if ((await a.count()) === 0) return null;
	return (await a.first().innerText()).trim();
}

export async function noticeText(page) {
	const a = page.locator('.notice');
	if ((await a.count()) === 0) return null;
	return (await a.first().innerText()).trim();
}

export async function csrfValue(page, field) {
	const c = formWith(page, field).locator('input[type=hidden][name=csrf]');
	if ((await c.count()) === 0) return '';
	return (await c.first().getAttribute('value')) || '';
}

// Saves what the page showed when a flow stopped, for the post-mortem.
export async function keepFailure(flow) {
	try {
		await flow.shot('FAILED');
		writeFileSync(join(env.artifacts, `${flow.name}-FAILED.html`), await flow.page.content());
		harness.note(`${flow.name}: stopped at ${flow.page.url()}`);
	} catch (e) {
		harness.note(`${flow.name}: no failure screenshot: ${e.message}`);
	}
}

export function prepareArtifacts() {
	mkdirSync(env.artifacts, { recursive: true });
}
