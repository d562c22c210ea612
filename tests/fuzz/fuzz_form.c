/*
 * fuzz_form: libFuzzer target for lib/form.c. Each input is one urlencoded
 * body parsed against a table with every kind (and a FORM_REPEAT field);
 * every accepted value is checked against its declaration and the form is
 * freed. It must never read past the input nor keep anything between runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "util.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FZ_TEXT,
	FZ_BIO,
	FZ_PW,
	FZ_LOGIN,
	FZ_NUM,
	FZ_DATE,
	FZ_BOX,
	FZ_ROLE,
	FZ_ROWS,
	FZ__MAX
};

static const struct form_field fuzz_fields[FZ__MAX] = {
    [FZ_TEXT] = {"t", FORM_TEXT, FORM_REQUIRED, 1, 20, NULL},
    [FZ_BIO] = {"m", FORM_MULTILINE, 0, 0, 100, NULL},
    [FZ_PW] = {"p", FORM_PASSWORD, 0, 4, 64, NULL},
    [FZ_LOGIN] = {"l", FORM_PATTERN, 0, 3, 32, "[a-z0-9][a-z0-9._-]*"},
    [FZ_NUM] = {"n", FORM_INT, 0, -1000, 1000, NULL},
    [FZ_DATE] = {"d", FORM_DATE, 0, 0, 0, NULL},
    [FZ_BOX] = {"c", FORM_CHECKBOX, 0, 0, 0, NULL},
    [FZ_ROLE] = {"r", FORM_ENUM, 0, 0, 0, "student|teacher|admin"},
    [FZ_ROWS] = {"x", FORM_PATTERN, FORM_REPEAT, 1, 8, "[0-9a-f]+"},
};

/* Aborts unless the valid value s of field i keeps its declaration. */
static void
fuzz_check_value(size_t i, const char *s)
{
	const struct form_field *fd = &fuzz_fields[i];
	size_t n = strlen(s);
	long cps;

	if (n == 0)
		abort();
	switch (fd->kind) {
	case FORM_TEXT:
	case FORM_MULTILINE:
	case FORM_PASSWORD:
		cps = validate_utf8_text(s, n, fd->kind == FORM_MULTILINE);
		if (cps < fd->min || cps > fd->max)
			abort();
		if (fd->kind == FORM_TEXT && (s[0] == ' ' || s[n - 1] == ' '))
			abort();
		if (fd->kind == FORM_MULTILINE && strchr(s, '\r') != NULL)
			abort();
		break;
	case FORM_PATTERN:
		if ((long long)n < fd->min || (long long)n > fd->max ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
			abort();
		break;
	case FORM_DATE:
		if (n != 10 || s[4] != '-' || s[7] != '-' ||
		    !validate_ymd(atoi(s), atoi(s + 5), atoi(s + 8)))
			abort();
		break;
	case FORM_ENUM:
		if (strcmp(s, "student") != 0 && strcmp(s, "teacher") != 0 &&
		    strcmp(s, "admin") != 0)
			abort();
		break;
	case FORM_INT:
	case FORM_CHECKBOX:
	case FORM_KIND__MAX: break;
	}
}

static void
fuzz_check(const struct form *f, int rc)
{
	size_t i, k, n;
	int ok = form_unknown(f) == NULL;
	long long v;

	for (i = 0; i < FZ__MAX; i++) {
		if (form_error(f, i) != FORM_E_OK) {
			ok = 0;
			if (form_str(f, i)[0] != '\0' ||
			    form_count(f, i) != 0 || form_int(f, i) != 0)
				abort();
			continue;
		}
		n = form_count(f, i);
		if (n > FORM_REPEAT_MAX || (n > 1 && i != FZ_ROWS) ||
		    (n == 0) != (form_str(f, i)[0] == '\0'))
			abort();
		for (k = 0; k < n; k++)
			fuzz_check_value(i, form_str_at(f, i, k));
		v = form_int(f, i);
		if (v < -1000 || v > 1000 || (i == FZ_BOX && v != 0 && v != 1))
			abort();
	}
	if (form_echo(f, FZ_PW)[0] != '\0' || (rc == 0) != ok)
		abort();
	if (strlen(form_error_name(form_error(f, FZ_TEXT))) == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form *f;
	char *copy;
	int rc;

	f = form_new(fuzz_fields, FZ__MAX);
	if (f == NULL)
		abort();
	/* An exact-size copy so ASan sees any read past the end; the
	 * input is not NUL-terminated, as a request body is not either. */
	copy = xmalloc(size ? size : 1);
	if (size > 0)
		memcpy(copy, data, size);
	rc = form_parse(f, copy, size);
	fuzz_check(f, rc);
	form_free(f);
	free(copy);
	return 0;
}
