// student: activation with a refused weak password, then a strong one;
// the first sign-in; the privacy notice; the home page with the student's
// name; sign-out; and the activation code refused a second time. Later
// flows reuse this student.
import { addUser, formWith, msg, pathOf, shared, strongPassword } from '../lib.mjs';
import { acceptPrivacy, activate, bodyText, checkAlert, checkNotEchoed, openActivate, postActivate,
	signInOk, signOut } from '../steps.mjs';

async function checkTitle(flow, key, what) {
	const h1 = ((await flow.page.locator('main h1').first().textContent().catch(() => '')) || '').trim();
	flow.eq(h1, msg(flow.lang, key), what);
}

export default async function student(flow) {
	const user = addUser('student', '林小美');
	const password = strongPassword();

	// A POST whose CSRF token is not the page's changes nothing (403); the
	// activation below then still works with the same code.
	await openActivate(flow);
	await flow.shot('activate-form');
	await formWith(flow.page, 'new_password').locator('input[name=csrf]')
		.evaluate((el) => { el.value = 'forged-token-0000000000000000'; });
	const forged = await postActivate(flow, user, password);
	flow.eq(forged, 403, 'a POST with a forged CSRF token is refused with 403');
	await checkTitle(flow, 'form.csrf_title', 'the 403 page says the form expired');
	await flow.shot('activate-csrf-forged');

	await openActivate(flow);
	const status = await postActivate(flow, user, '12345678');
	flow.eq(status, 422, 'a weak first password is refused with 422');
	flow.eq(pathOf(flow.page), '/activate', 'the refusal re-renders /activate');
	await checkAlert(flow, 'password.rule.blocklisted', 'activation with "12345678"');
	await checkNotEchoed(flow, 'new_password');
	await flow.shot('activate-weak-refused');

	await activate(flow, user, password, true);
	shared.student = { user, password, privacy: false };
	await signInOk(flow, user.login, password, '/privacy');
	await acceptPrivacy(flow, '/', true);
	shared.student.privacy = true;
	flow.check((await bodyText(flow.page)).includes(user.name), 'the home page shows the student\'s name');
	await flow.shot('home');

	await signOut(flow);
	await flow.shot('signed-out');

	// The code was spent by the activation (and a refusal sets nothing).
	await openActivate(flow);
	const again = await postActivate(flow, user, strongPassword());
	flow.check(again !== 303 && pathOf(flow.page) === '/activate', 'an activation code works only once',
		`status ${again}, at ${pathOf(flow.page)}`);
	await checkAlert(flow, 'activate.failed', 'a spent activation code');
	await flow.shot('activate-code-spent');
}
