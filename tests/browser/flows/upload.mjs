// upload: a student with an enrolled course in an open term uploads a
// course learning outcome on /items. The upload is throttled (Chromium's
// network emulation) so that the progress bar is caught part-way and
// screenshotted; then the page lists the item as 檢查中 (checking; 待認證
// once the workers have run its jobs), with its file, and the file
// downloads with the same bytes.
import { createHash, randomBytes } from 'node:crypto';
import { addUser, alertText, ensureSchool, goto, pathOf, rand, strongPassword } from '../lib.mjs';
import { acceptPrivacy, activate, bodyText, resetAddressGuard, signInOk, sqlRoot } from '../steps.mjs';

function publicId() {
	return randomBytes(16).toString('base64url').slice(0, 22);
}

// A file the type detector takes for an MP4 (an ftyp box of brand mp42),
// random after that so that it is a new object.
function mp4(size) {
	const head = Buffer.from('00000018667479706d703432000000006d70343269736f6d', 'hex');
	return Buffer.concat([head, randomBytes(size - head.length)]);
}

// The bar's value while it is shown, or -1.
async function progressValue(page) {
	return page.locator('.upload-progress progress').first()
		.evaluate((e) => (e.closest('.upload-progress').hidden ? -1 : e.value))
		.catch(() => -1);
}

export default async function uploadFlow(flow) {
	const { page } = flow;
	resetAddressGuard();
	const school = ensureSchool();
	const user = addUser('student', '吳上傳');
	const course = publicId();
	const courseName = `專題研究 ${rand(4)}`;
	sqlRoot(`SET @school = (SELECT id FROM schools WHERE code = '${school.code}');
		SET @user = (SELECT id FROM users WHERE login = '${user.login}');
		INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
			VALUES ('${publicId()}', @school, 114, 1, CURDATE() - INTERVAL 30 DAY,
				CURDATE() + INTERVAL 30 DAY)
			ON DUPLICATE KEY UPDATE starts_on = VALUES(starts_on), ends_on = VALUES(ends_on);
		SET @term = (SELECT id FROM terms WHERE school_id = @school AND year = 114 AND semester = 1);
		INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind,
				national_id_hmac, national_id_sealed, birth_date)
			VALUES ('${publicId()}', @school, @user, 'U${rand(6)}', '吳上傳', 'national',
				SHA2(RAND(), 256), RANDOM_BYTES(40), '2009-03-04');
		SET @student = LAST_INSERT_ID();
		INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
			VALUES ('${course}', @school, @term, 'UP${rand(4).toUpperCase()}', '${courseName}', 2);
		INSERT INTO enrolments (public_id, school_id, student_id, course_id)
			VALUES ('${publicId()}', @school, @student, LAST_INSERT_ID());`);
	const password = strongPassword();
	await activate(flow, user, password);
	await signInOk(flow, user.login, password, '/privacy');
	await acceptPrivacy(flow, '/');

	// The form.
	const status = await goto(page, '/items');
	flow.must(status === 200, 'GET /items answers 200', `status ${status}`);
	const form = page.locator('#upload-form');
	flow.must(await form.count() === 1, 'the page offers the upload form', `alert ${await alertText(page)}`);
	flow.check(await form.getAttribute('enctype') === 'multipart/form-data', 'which posts multipart/form-data');
	await page.locator('select[name=course]').selectOption(course);
	await page.locator('input[name=description]').fill('校園植物觀察的期末報告影片');
	const video = mp4(6 * 1024 * 1024);
	await page.locator('input[name=video]').setInputFiles({ name: '植物觀察.mp4', mimeType: 'video/mp4', buffer: video });
	await flow.shot('upload-form');

	// Throttled upload: about 6 s for 6 MiB.
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions',
		{ offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });
	const done = page.waitForURL((u) => u.pathname === '/items' && u.search === '?done=created',
		{ timeout: 90000 }).then(() => true, () => false);
	await page.locator('#upload-form button[type=submit]').click();
	let seen = -1;
	for (let i = 0; i < 300 && seen < 0; i++) {
		const v = await progressValue(page);
		if (v > 0 && v < 100) seen = v;
		else await page.waitForTimeout(30);
	}
	flow.check(seen > 0 && seen < 100, 'the progress bar shows the upload part-way', `value ${seen}`);
	await flow.shot('upload-progress');
	const arrived = await done;
	await cdp.send('Network.emulateNetworkConditions',
		{ offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
	flow.must(arrived, 'the upload ends on /items with its done notice',
		`at ${pathOf(page)}, alert ${await alertText(page)}`);

	// The list.
	const item = page.locator('li.item', { hasText: '校園植物觀察的期末報告影片' });
	flow.must(await item.count() === 1, 'the new item is listed');
	// The workers run its hash and scan jobs at once; a fast machine may
	// have finished both before the list loads.
	const state = await item.locator('.state').innerText();
	flow.check(state.includes('檢查中') || state.includes('待認證'),
		'as checking (檢查中) until its hash and scan jobs have run, then 待認證', state);
	flow.check((await item.innerText()).includes(courseName), 'under its course');
	const link = item.locator('.item-files a').first();
	flow.must(await link.count() === 1, 'with a link to its file');
	flow.check((await link.innerText()).includes('植物觀察.mp4'), 'named as uploaded');
	await flow.shot('uploaded');
	flow.check(!(await bodyText(page)).includes('undefined'), 'the page shows no placeholder text');

	// The file comes back with the same bytes.
	const href = await link.getAttribute('href');
	const resp = await page.request.get(new URL(href, page.url()).href);
	flow.eq(resp.status(), 200, 'the student downloads their file');
	const body = await resp.body();
	flow.eq(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(video).digest('hex'),
		'and gets the bytes that were uploaded');
	flow.check(/^attachment;/.test(resp.headers()['content-disposition'] || ''), 'as an attachment');
}
