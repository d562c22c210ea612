/*
 * letters.js: the Print button of the activation letters
 * (/admin/letters/:id). The CSP allows scripts from this site only, never
 * inline; the page works without it (the browser's own print prints the
 * same letters).
 */
'use strict';

(function () {
	var button = document.getElementById('print-letters');

	if (button) {
		button.addEventListener('click', function () {
			window.print();
		});
	}
}());
