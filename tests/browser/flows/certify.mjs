// certify: the whole flow of issue 7 in three browsers. A school
// administrator imports teachers (one the homeroom teacher of 301),
// students, a course and its enrolments on /admin/import and reads the
// activation letters; the student activates with a letter's code and
// uploads two course learning outcomes on /items, which the workers check
// until both are 待認證; the course's teacher activates, opens /certify,
// certifies one and rejects the other with a reason; the student's home
// shows both results, /items shows 認證通過 and 認證未通過 with the reason,
// the student ticks the certified one and the rejected one offers no tick;
// the teacher's home then shows the class's progress and /homeroom the
// student's counts. Every step is screenshotted.
import { randomBytes } from 'node:crypto';
import { alertText, ensureSchool, goto, msg, newContext, noticeText, pathOf, strongPassword,
	submit } from '../lib.mjs';
import { acceptPrivacy, activate, adminSignedIn, applyImport, bodyText, resetAddressGuard, signInOk,
	sqlRoot } from '../steps.mjs';

// The school year (ROC) of today in Taiwan: 114 from 2025-08 to 2026-07.
function schoolYear() {
	const d = new Date(Date.now() + 8 * 3600 * 1000);
	return d.getUTCFullYear() - 1911 - (d.getUTCMonth() + 1 < 8 ? 1 : 0);
}

// A national ID with a valid check digit (the letter, a sex digit, seven
// random digits).
function twid(letter) {
	const digits = `2${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
	const n = 'ABCDEFGHJKLMNPQRSTUVXYWZIO'.indexOf(letter) + 10;
	let s = Math.floor(n / 10) + (n % 10) * 9;
	for (let i = 0; i < 8; i++) s += Number(digits[i]) * (8 - i);
	return `${letter}${digits}${(10 - (s % 10)) % 10}`;
}

// A PDF of random bytes (a new object each time).
function pdf(size) {
	return Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(size - 9)]);
}

// Uploads a CSV of kind on /admin/import, applies it and returns the
// report's page (where the letters link is, for kinds that issue accounts).
async function importCsv(flow, kind, rows) {
	const { page } = flow;
	const status = await goto(page, '/admin/import');
	flow.need(status === 200, 'GET /admin/import answers 200', `status ${status}`);
	await page.locator('select[name=kind]').selectOption(kind);
	await page.locator('select[name=encoding]').selectOption('auto');
	await page.locator('input[name=file]').setInputFiles({
		name: `${kind}.csv`, mimeType: 'text/csv', buffer: Buffer.from(`${rows.join('\r\n')}\r\n`, 'utf8'),
	});
	const posted = await submit(page, 'file');
	flow.must(posted === 303 && /^\/admin\/imports\/[A-Za-z0-9_-]{22}$/.test(pathOf(page)),
		`the ${kind} file is checked (303 to its report)`, `status ${posted}, at ${pathOf(page)}, ` +
		`alert ${await alertText(page)}`);
	const bad = (await page.locator('#rows-bad').innerText()).trim();
	flow.must(bad === '0', `the ${kind} report has no bad row`, `${bad} bad: ${await bodyText(page)}`);
	const applied = await applyImport(page);
	flow.must(applied === 303 && /\?done=applied$/.test(pathOf(page)), `the ${kind} are applied`,
		`status ${applied}, at ${pathOf(page)}, alert ${await alertText(page)}`);
	await flow.shot(`import-${kind}`);
}

// The login and code of the letter (of the batch the report links to)
// for name.
async function letterOf(flow, name) {
	const { page } = flow;
	const link = page.locator('#letters-link');
	flow.must(await link.count() === 1, 'the report links to the activation letters');
	const nav = page.waitForNavigation({ waitUntil: 'load' });
	await link.click();
	await nav;
	const letter = page.locator('article.letter', { hasText: name });
	flow.must(await letter.count() === 1, `there is a letter for ${name}`);
	return {
		login: (await letter.locator('.letter-login code').innerText()).trim(),
		code: (await letter.locator('code.code').innerText()).trim(),
	};
}

// A new browser context signed in with a letter's account, on /.
async function signedInWith(flow, browser, account, what) {
	const context = await newContext(browser, 'certify', flow.lang);
	const f = flow.with(await context.newPage());
	const password = strongPassword();
	await activate(f, account, password);
	await signInOk(f, account.login, password, '/privacy');
	await acceptPrivacy(f, '/');
	await f.shot(`${what}-home`);
	return { context, f };
}

// Uploads a course learning outcome of the course on /items.
async function uploadOutcome(f, course, description, name) {
	const { page } = f;
	await goto(page, '/items');
	await page.locator('input[name=kind][value=course]').check();
	await page.locator('select[name=course]').selectOption(course);
	await page.locator('input[name=description]').fill(description);
	await page.locator('input[name=doc]').setInputFiles({ name, mimeType: 'application/pdf', buffer: pdf(20000) });
	const status = await submit(page, 'description');
	f.must(status === 303 && pathOf(page) === '/items?done=created', `"${description}" is uploaded`,
		`status ${status}, at ${pathOf(page)}, alert ${await alertText(page)}`);
}

// The row of /items (li#item-<id>) whose description is text, and its id.
async function itemRow(page, text) {
	const row = page.locator('li.item', { has: page.locator('.item-description', { hasText: text }) });
	const id = ((await row.getAttribute('id')) || '').replace(/^item-/, '');
	return { row, id };
}

// Reloads /items until both items show 待認證 (the workers' hash and scan
// jobs have run); true when they do within the time.
async function waitPending(page, texts) {
	for (let i = 0; i < 60; i++) {
		await goto(page, '/items');
		let all = true;
		for (const t of texts) {
			const { row } = await itemRow(page, t);
			if (!(await row.locator('.state').innerText()).includes(msg('zh-TW', 'items.state.pending')))
				all = false;
		}
		if (all) return true;
		await page.waitForTimeout(500);
	}
	return false;
}

// The teacher decides on item id on /certify/<id>: decision certified or
// rejected (with reason). Returns the status of the POST.
async function decide(t, id, decision, reason) {
	const { page } = t;
	const status = await goto(page, `/certify/${id}`);
	t.must(status === 200, `the teacher opens /certify/${id}`, `status ${status}`);
	const form = page.locator('#decide-form');
	t.must(await form.count() === 1, 'the item page has the decision form');
	await form.locator(`input[name=decision][value=${decision}]`).check();
	if (reason) await form.locator('textarea[name=reason]').fill(reason);
	await t.shot(`decide-${decision}`);
	const posted = page.waitForResponse((r) => r.request().method() === 'POST' &&
		new URL(r.url()).pathname === `/certify/${id}`);
	const nav = page.waitForNavigation({ waitUntil: 'load' });
	await form.locator('[type=submit]').first().click();
	const resp = await posted;
	await nav;
	return resp.status();
}

export default async function certifyFlow(flow, { browser }) {
	const { page } = flow;
	resetAddressGuard();
	const school = ensureSchool();
	const year = schoolYear();
	const tag = randomBytes(3).toString('hex');
	const term = `${year}-1`;
	const teacherName = `許認證${tag}`;
	const studentName = `蔡勾選${tag}`;
	const studentNo = `C${tag}`.toUpperCase();
	const teacherLogin = `bt-cert-${tag}`;
	const courseCode = `CRT${tag}`.toUpperCase();
	const courseName = `專題寫作${tag}`;
	// The term (open for uploads) and class 301 of this school year: made
	// on the admin pages in real life, and not what this flow is about.
	sqlRoot(`INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
			SELECT '${randomBytes(16).toString('base64url')}', id, ${year}, 1,
				CURDATE() - INTERVAL 30 DAY, CURDATE() + INTERVAL 30 DAY
			FROM schools WHERE code = '${school.code}'
		ON DUPLICATE KEY UPDATE starts_on = VALUES(starts_on), ends_on = VALUES(ends_on);
		INSERT IGNORE INTO classes (public_id, school_id, year, code, name, grade)
			SELECT '${randomBytes(16).toString('base64url')}', id, ${year}, '301', '三年一班', 3
			FROM schools WHERE code = '${school.code}'`);

	// The administrator imports the records.
	await adminSignedIn(flow);
	await importCsv(flow, 'teachers', ['login,name,homeroom_class', `${teacherLogin},${teacherName},301`]);
	const teacher = await letterOf(flow, teacherName);
	flow.eq(teacher.login, teacherLogin, 'the teacher\'s letter has the imported login');
	await flow.shot('letters-teachers');
	await importCsv(flow, 'students', ['student_no,name,national_id,birth_date,class,seat_no',
		`${studentNo},${studentName},${twid('F')},2008-05-06,301,7`]);
	const student = await letterOf(flow, studentName);
	await flow.shot('letters-students');
	await importCsv(flow, 'courses', ['term,code,name,credits,teachers',
		`${term},${courseCode},${courseName},2,${teacherLogin}`]);
	await importCsv(flow, 'enrolments', ['student_no,term,course_code', `${studentNo},${term},${courseCode}`]);

	// The student uploads two course learning outcomes.
	const stu = await signedInWith(flow, browser, student, 'student');
	const s = stu.f;
	try {
		await goto(s.page, '/items');
		const option = s.page.locator('select[name=course] option', { hasText: courseName });
		s.must(await option.count() === 1, 'the student may upload for the imported course');
		const course = await option.getAttribute('value');
		const good = `期末報告：校園生態調查 ${tag}`;
		const weak = `課堂筆記整理 ${tag}`;
		await uploadOutcome(s, course, good, '生態調查.pdf');
		await uploadOutcome(s, course, weak, '筆記.pdf');
		await s.shot('uploaded');
		s.must(await waitPending(s.page, [good, weak]), 'both become 待認證 once the workers checked them');
		await s.shot('pending');
		const g = await itemRow(s.page, good);
		const w = await itemRow(s.page, weak);
		s.check(await g.row.locator('.select-why').innerText() === '不能勾選：尚未認證',
			'an item waiting for certification cannot be ticked yet');

		// The teacher certifies one and rejects the other.
		const tea = await signedInWith(flow, browser, teacher, 'teacher');
		const t = tea.f;
		const reason = '內容與課程主題無關，請補充課堂實作的紀錄';
		try {
			const homeText = await bodyText(t.page);
			t.check(homeText.includes('待認證'), 'the teacher\'s home says items wait', homeText.slice(0, 200));
			const status = await goto(t.page, '/certify');
			t.must(status === 200, 'GET /certify answers 200', `status ${status}`);
			t.must(await t.page.locator(`tr.certify-row#item-${g.id}`).count() === 1 &&
				await t.page.locator(`tr.certify-row#item-${w.id}`).count() === 1,
				'both items wait on /certify');
			await t.shot('certify-list');
			const c = await decide(t, g.id, 'certified');
			t.must(c === 303 && pathOf(t.page) === '/certify?done=certified', 'the first is certified',
				`status ${c}, at ${pathOf(t.page)}, alert ${await alertText(t.page)}`);
			await t.shot('certified');
			const r = await decide(t, w.id, 'rejected', reason);
			t.must(r === 303 && pathOf(t.page) === '/certify?done=rejected', 'the second is rejected with a reason',
				`status ${r}, at ${pathOf(t.page)}, alert ${await alertText(t.page)}`);
			await t.shot('rejected');

			// The student sees both results and ticks the certified one.
			await goto(s.page, '/');
			const notice = s.page.locator('#student-notice');
			s.must(await notice.count() === 1, 'the student\'s home shows the new results');
			const text = await notice.innerText();
			s.check(text.includes('1 件課程學習成果已認證通過'), 'one certified', text);
			s.check(text.includes(reason), 'and the rejection with its reason', text);
			await s.shot('home-results');
			await goto(s.page, '/items');
			const g2 = await itemRow(s.page, good);
			const w2 = await itemRow(s.page, weak);
			s.eq((await g2.row.locator('.state').innerText()).trim(), '認證通過', 'the first is 認證通過');
			s.eq((await w2.row.locator('.state').innerText()).trim(), '認證未通過', 'the second is 認證未通過');
			s.check((await w2.row.locator('.item-reason').innerText()).includes(reason), 'with the reason');
			s.eq(await w2.row.locator('form.select-form').count(), 0, 'the rejected one offers no tick');
			s.eq((await w2.row.locator('.select-why').innerText()).trim(), '不能勾選：認證未通過', 'and says why');
			await s.shot('results');
			const nav = s.page.waitForNavigation({ waitUntil: 'load' });
			await g2.row.locator('form.select-form button[type=submit]').click();
			await nav;
			s.must(pathOf(s.page) === '/items?done=ticked', 'ticking the certified one leads to /items?done=ticked',
				`at ${pathOf(s.page)}, alert ${await alertText(s.page)}`);
			s.eq(await noticeText(s.page), msg('zh-TW', 'selection.done.ticked'), 'the page says it was ticked');
			const g3 = await itemRow(s.page, good);
			s.eq((await g3.row.locator('.ticked').innerText()).trim(), '已勾選提交', 'the row says it is ticked');
			s.check((await s.page.locator(`#selection-${year}`).innerText()).includes('課程學習成果 已勾選 1 / 6（尚可勾選 5 件）'),
				'the school year\'s box counts it');
			await s.shot('ticked');
			await goto(s.page, '/');
			s.eq(await s.page.locator('#student-notice').count(), 0, 'the results, once seen, leave the home page');

			// The homeroom teacher follows the class.
			await goto(t.page, '/');
			const line = t.page.locator('#homeroom-notice li', { hasText: '301 班' });
			t.check(await line.count() === 1 && (await line.innerText()).includes('已上傳 2 件，已認證 1 件，已勾選 1 件'),
				'the teacher\'s home shows the class\'s progress', await line.innerText().catch(() => ''));
			await t.shot('home-homeroom');
			await goto(t.page, '/homeroom');
			const row = t.page.locator('tr.homeroom-student', { hasText: studentNo });
			t.must(await row.count() === 1, '/homeroom lists the student');
			t.eq(await row.locator('.n-ticked').innerText(), '1', 'with one item ticked');
			t.check(!(await bodyText(t.page)).includes(studentName), 'and the name masked');
			await t.shot('homeroom');
		} finally {
			await tea.context.close();
		}
	} finally {
		await stu.context.close();
	}
}
