// import: a school administrator (activated, privacy notice, TOTP) imports
// a students file on /admin/import, reads the report, applies it, opens the
// activation letters and prints them to PDF (A4, one page per letter); then
// a student opens /activate in another browser with a letter's login and
// code, sets a password, accepts the privacy notice and reaches the home
// page.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alertText, ensureSchool, env, goto, newContext, pathOf, strongPassword, submit } from '../lib.mjs';
import { acceptPrivacy, activate, adminSignedIn, applyImport, bodyText, resetAddressGuard, signInOk,
	sqlRoot } from '../steps.mjs';

// A national ID with a valid check digit: letter, then 8 digits, then the
// check digit.
function twid(letter, digits) {
	const n = 'ABCDEFGHJKLMNPQRSTUVXYWZIO'.indexOf(letter) + 10;
	let s = Math.floor(n / 10) + (n % 10) * 9;
	for (let i = 0; i < 8; i++) s += Number(digits[i]) * (8 - i);
	return `${letter}${digits}${(10 - (s % 10)) % 10}`;
}

function rocYear() {
	const d = new Date();
	return d.getUTCFullYear() - 1911 - (d.getUTCMonth() + 1 < 8 ? 1 : 0);
}

// The number of pages of a PDF (its /Type /Page objects).
function pdfPages(buf) {
	return (buf.toString('latin1').match(/\/Type\s*\/Page(?![a-z])/g) || []).length;
}

export default async function importFlow(flow, { browser }) {
	const { page } = flow;
	resetAddressGuard();
	const school = ensureSchool();
	const classId = randomBytes(16).toString('base64url');
	sqlRoot(`INSERT IGNORE INTO classes (public_id, school_id, year, code, name, grade)
		SELECT '${classId}', id, ${rocYear()}, '201', '二年一班', 2 FROM schools WHERE code = '${school.code}'`);
	await adminSignedIn(flow);

	// The form.
	const status = await goto(page, '/admin/import');
	flow.must(status === 200, 'GET /admin/import answers 200', `status ${status}`);
	flow.check(await page.locator('form[enctype="multipart/form-data"] input[name=csrf]').count() === 1,
		'the upload form carries a CSRF token');
	await flow.shot('import-form');
	const no = String(200000 + Math.floor(Math.random() * 700000));
	const students = [
		[`${no}1`, '李宜蓁', twid('A', '23456781'), '2008-09-10', '201', '1'],
		[`${no}2`, '周子豪', twid('B', '13456782'), '2008-10-11', '201', '2'],
	];
	const csv = ['student_no,name,national_id,birth_date,class,seat_no',
		...students.map((s) => s.join(','))].join('\r\n') + '\r\n';
	await page.locator('select[name=kind]').selectOption('students');
	await page.locator('select[name=encoding]').selectOption('auto');
	await page.locator('input[name=file]').setInputFiles({
		name: 'students.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8'),
	});
	const posted = await submit(page, 'file');
	flow.must(posted === 303 && /^\/admin\/imports\/[A-Za-z0-9_-]{22}$/.test(pathOf(page)),
		'uploading the file leads to its report (303)', `status ${posted}, at ${pathOf(page)}, ` +
		`alert ${await alertText(page)}`);
	const report = pathOf(page);

	// The report.
	flow.eq((await page.locator('#rows-total').innerText()).trim(), '2', 'the report counts two rows');
	flow.eq((await page.locator('#rows-bad').innerText()).trim(), '0', 'and no bad row');
	flow.check(!(await bodyText(page)).includes(students[0][2]), 'the report shows no national ID');
	flow.must(await page.locator('#apply-form').count() === 1, 'the report offers the apply');
	await flow.shot('report');

	// The apply.
	const applied = await applyImport(page);
	flow.must(applied === 303 && pathOf(page) === `${report}?done=applied`,
		'applying leads back to the report (303)', `status ${applied}, at ${pathOf(page)}, ` +
		`alert ${await alertText(page)}`);
	flow.eq((await page.locator('#count-created').innerText()).trim(), '2', 'two students were added');
	flow.eq((await page.locator('#count-issued').innerText()).trim(), '2', 'with two accounts');
	await flow.shot('applied');

	// The letters.
	const link = page.locator('#letters-link');
	flow.must(await link.count() === 1, 'the report links to the activation letters');
	const nav = page.waitForNavigation({ waitUntil: 'load' });
	await link.click();
	await nav;
	flow.must(/^\/admin\/letters\/[A-Za-z0-9_-]{22}$/.test(pathOf(page)), 'the link opens the letters',
		`at ${pathOf(page)}`);
	const letters = page.locator('article.letter');
	flow.eq(await letters.count(), 2, 'one letter per student');
	const text = await bodyText(page);
	flow.check(text.includes(school.name), 'the letters name the school');
	flow.check(text.includes(`${env.base}/activate`), 'and the activation address');
	flow.check(students.every((s) => !text.includes(s[2])), 'and no national ID');
	flow.check(await page.locator('#print-letters').count() === 1, 'the page has a print button');
	await flow.shot('letters');
	const first = {
		login: (await letters.first().locator('.letter-login code').innerText()).trim(),
		code: (await letters.first().locator('code.code').innerText()).trim(),
		name: (await letters.first().locator('.letter-name').innerText()).trim(),
	};
	flow.check(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/.test(first.code), 'the letter shows the code XXXXX-XXXXX',
		first.code);
	flow.check(first.login.startsWith(students[0][0]) || first.login.startsWith(students[1][0]),
		'the login is made from the student number', first.login);

	// Printed: A4, one page per letter, nothing but the letters.
	const pdf = await page.pdf({ format: 'A4', printBackground: true });
	writeFileSync(join(env.artifacts, 'import-letters.pdf'), pdf);
	flow.eq(pdfPages(pdf), 2, 'printed to PDF (A4), each letter is one page');
	await page.emulateMedia({ media: 'print' });
	flow.check(!(await page.locator('.site-header').isVisible()) && !(await page.locator('#print-letters').isVisible()),
		'printing hides the site header and the buttons');
	await flow.shot('letters-print');
	await page.emulateMedia({ media: 'screen' });

	// The student, in a browser of their own.
	const context = await newContext(browser, 'import', flow.lang);
	try {
		const s = flow.with(await context.newPage());
		const password = strongPassword();
		await activate(s, first, password, true);
		await signInOk(s, first.login, password, '/privacy');
		await acceptPrivacy(s, '/', true);
		flow.check((await bodyText(s.page)).includes(first.name), 'the student reaches their home page',
			`at ${pathOf(s.page)}`);
		await s.shot('student-home');
	} finally {
		await context.close();
	}
}
