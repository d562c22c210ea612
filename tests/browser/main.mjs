// main.mjs: runs the browser flows in order, each in a fresh browser
// context (no cookies), against the stack at https://127.0.0.1:HTTPS_PORT.
// BROWSER_FLOWS=student,totp runs only those. Prints "N passed, N failed"
// last and exits non-zero on any failure.

import { env, Flow, harness, keepFailure, launch, newContext, prepareArtifacts, seen, Stop,
	base32Decode, totpAt } from './lib.mjs';
import stack from './flows/stack.mjs';
import student from './flows/student.mjs';
import wrongPassword from './flows/wrong_password.mjs';
import lockout from './flows/lockout.mjs';
import passwordRefused from './flows/password_refused.mjs';
import sessions from './flows/sessions.mjs';
import totp from './flows/totp.mjs';
import english from './flows/english.mjs';
import importFlow from './flows/import.mjs';
import uploadFlow from './flows/upload.mjs';
import certifyFlow from './flows/certify.mjs';

const FLOWS = [
	['stack', stack, 'zh-TW'],
	['student', student, 'zh-TW'],
	['password', passwordRefused, 'zh-TW'],
	['sessions', sessions, 'zh-TW'],
	['wrong-password', wrongPassword, 'zh-TW'],
	['lockout', lockout, 'zh-TW'],
	['totp', totp, 'zh-TW'],
	['english', english, 'en'],
	['import', importFlow, 'zh-TW'],
	['upload', uploadFlow, 'zh-TW'],
	['certify', certifyFlow, 'zh-TW'],
];

// The TOTP arithmetic against RFC 6238's SHA-1 vectors (appendix B), so a
// failing enrolment cannot be this side's mistake.
function selfCheck() {
	const key = base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'); // "12345678901234567890"
	const vectors = [[59, '94287082'], [1111111109, '07081804'], [2000000000, '69279037']];
	const ok = vectors.every(([t, code]) => totpAt(key, Math.floor(t / 30), 8) === code);
	if (ok) harness.ok('self-check: TOTP matches the RFC 6238 vectors');
	else harness.bad('self-check: TOTP does not match the RFC 6238 vectors');
}

async function main() {
	const only = (process.env.BROWSER_FLOWS || '').split(',').filter(Boolean);
	const started = Date.now();
	prepareArtifacts();
	selfCheck();
	const browser = await launch();
	harness.note(`chromium ${browser.version()} at ${env.chromium}; base ${env.base}; screenshots in ${env.artifacts}`);
	try {
		for (const [name, fn, lang] of FLOWS) {
			if (only.length && !only.includes(name)) continue;
			const t0 = Date.now();
			const context = await newContext(browser, name, lang);
			const flow = new Flow(name, await context.newPage(), lang);
			try {
				await fn(flow, { browser, context });
			} catch (e) {
				if (!(e instanceof Stop))
					harness.bad(`${name}: stopped: ${String(e.message).split('\n')[0]}`);
				await keepFailure(flow);
			}
			await context.close();
			harness.note(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
		}
	} finally {
		await browser.close();
	}
	if (seen.outside.length === 0) harness.ok('no page asked for anything but the stack');
	else harness.bad(`pages asked for outside addresses: ${[...new Set(seen.outside)].join(' ')}`);
	if (seen.csp.length === 0) harness.ok('no Content-Security-Policy violations');
	else harness.bad(`Content-Security-Policy violations: ${[...new Set(seen.csp)].join(' | ')}`);
	harness.note(`browser flows took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
	await main();
} catch (e) {
	harness.bad(`browser tests stopped: ${e.stack || e}`);
}
harness.summary();
process.exitCode = harness.fail === 0 ? 0 : 1;
