/*
 * items.js: the progress bar of the upload and change forms of /items and
 * /items/:id (forms marked data-upload). The form is sent with
 * XMLHttpRequest so that the upload's progress can be shown; then the
 * server's answer is followed as the browser would have: a redirect (the
 * upload was recorded) is opened, and any other page (the form again with
 * a refusal) replaces this one. The CSP allows scripts from this site
 * only, never inline; without this script the forms post as usual.
 */
'use strict';

(function () {
	var forms = document.querySelectorAll('form[data-upload]');

	function show(form, loaded, total) {
		var box = form.querySelector('.upload-progress');
		var bar = box && box.querySelector('progress');
		var text = box && box.querySelector('.upload-percent');
		var pct = total > 0 ? Math.floor(loaded * 100 / total) : 0;

		if (!box) {
			return;
		}
		box.hidden = false;
		bar.value = pct;
		text.textContent = pct + '%';
	}

	function failed(form, button) {
		var box = form.querySelector('.upload-progress');
		var note = box && box.querySelector('.upload-failed');

		if (note) {
			note.hidden = false;
		}
		if (button) {
			button.disabled = false;
		}
	}

	/* The answer: a followed redirect goes to its page; anything else
	 * is this page's new content. */
	function follow(form, xhr) {
		var target = new URL(form.action, window.location.href).href;

		if (xhr.responseURL && xhr.responseURL !== target) {
			window.location.assign(xhr.responseURL);
			return;
		}
		document.open();
		document.write(xhr.responseText);
		document.close();
	}

	function send(form, event) {
		var xhr = new XMLHttpRequest();
		var button = form.querySelector('button[type="submit"]');

		event.preventDefault();
		if (button) {
			button.disabled = true;
		}
		show(form, 0, 1);
		xhr.upload.addEventListener('progress', function (e) {
			if (e.lengthComputable) {
				show(form, e.loaded, e.total);
			}
		});
		xhr.addEventListener('load', function () {
			show(form, 1, 1);
			follow(form, xhr);
		});
		xhr.addEventListener('error', function () {
			failed(form, button);
		});
		xhr.addEventListener('abort', function () {
			failed(form, button);
		});
		xhr.open('POST', form.action);
		xhr.send(new FormData(form));
	}

	Array.prototype.forEach.call(forms, function (form) {
		if (!window.FormData || !window.XMLHttpRequest) {
			return;
		}
		form.addEventListener('submit', function (event) {
			send(form, event);
		});
	});
}());
