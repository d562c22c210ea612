/*
 * form: the one validation layer every HTML form and query string goes
 * through. A handler declares its fields once in a table; form_parse decodes
 * an application/x-www-form-urlencoded text, checks every field against its
 * declaration and hands back typed values. It never escapes or otherwise
 * alters an accepted value for output (that is the template's job), never
 * accepts a parameter nobody declared, and never returns a password to echo.
 *
 * A worked example, the sign-in form:
 *
 *	enum { F_LOGIN, F_PASSWORD, F_REMEMBER, F_CSRF, F__MAX };
 *	static const struct form_field login_fields[F__MAX] = {
 *	    [F_LOGIN] = {"login", FORM_PATTERN, FORM_REQUIRED, 3, 32,
 *		"[a-z0-9][a-z0-9._-]*"},
 *	    [F_PASSWORD] = {"password", FORM_PASSWORD, FORM_REQUIRED, 1, 256,
 *		NULL},
 *	    [F_REMEMBER] = {"remember", FORM_CHECKBOX, 0, 0, 0, NULL},
 *	    [F_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
 *		"[A-Za-z0-9_-]+"},
 *	};
 *
 *	struct form *f = form_new(login_fields, F__MAX);
 *
 *	if (f == NULL)
 *		return RQ_ERROR;
 *	if (form_parse(f, r->input.data, r->input.len) == -1) {
 *		... show the page again: for each field i with
 *		form_error(f, i) != FORM_E_OK the message key is
 *		"form.error." + form_error_name(form_error(f, i)), and
 *		form_echo(f, F_LOGIN) is what the user typed ...
 *		form_free(f);
 *		return RQ_INVALID;
 *	}
 *	sign_in(form_str(f, F_LOGIN), form_str(f, F_PASSWORD),
 *	    form_int(f, F_REMEMBER));
 *	form_free(f);
 *
 * An empty value is the same as an absent one: a FORM_REQUIRED field then
 * gets FORM_E_MISSING and an optional one is valid with form_has() == 0.
 */
#ifndef LICHENG_FORM_H
#define LICHENG_FORM_H

#include <stddef.h>

/* name=value pairs in one text: enough for a batch of certify.page_size
 * (at most 500) checked rows and the form's other fields. */
#define FORM_PAIRS_MAX 512
#define FORM_NAME_MAX 64 /* bytes of a decoded name */
/* values of one FORM_REPEAT field: as many as the pairs */
#define FORM_REPEAT_MAX FORM_PAIRS_MAX

enum form_kind {
	FORM_TEXT, /* one line of UTF-8 text without control characters;
		    * surrounding ASCII spaces trimmed; length bounds in code
		    * points */
	FORM_MULTILINE, /* UTF-8 text; \n, \r\n and \t allowed; CRLF
			 * normalised to LF */
	FORM_PASSWORD, /* UTF-8 without control characters, never trimmed;
			* wiped in form_free */
	FORM_PATTERN, /* ASCII matched against the whole of an anchored POSIX
		       * extended regex (regcomp REG_EXTENDED|REG_NOSUB,
		       * compiled per form_new; "^(" pattern ")$" added by the
		       * layer) */
	FORM_INT, /* optional '-', decimal digits, min..max as values, no
		   * overflow */
	FORM_DATE, /* YYYY-MM-DD and a real calendar date (validate_ymd) */
	FORM_CHECKBOX, /* present with any of "1", "on", "yes", "true": value
			* 1; absent: 0 */
	FORM_ENUM, /* one of the '|'-separated words in pattern */
	FORM_KIND__MAX
};

#define FORM_REQUIRED 0x1 /* absent or empty is FORM_E_MISSING */
#define FORM_REPEAT                                                            \
	0x2 /* may appear several times (e.g. checked rows);                   \
	     * max repeats = FORM_REPEAT_MAX */

struct form_field {
	const char *name; /* [a-z0-9_], 1..FORM_NAME_MAX bytes */
	enum form_kind kind;
	unsigned flags;
	long long min, max; /* code points for text kinds, bytes for PATTERN,
			     * the value for INT; unused for the others */
	const char *pattern; /* FORM_PATTERN: the regex; FORM_ENUM: the words */
};

enum form_error {
	FORM_E_OK,
	FORM_E_MISSING,
	FORM_E_SHORT,
	FORM_E_LONG,
	FORM_E_ENCODING, /* bad %XX or invalid UTF-8 */
	FORM_E_CHARS, /* control characters */
	FORM_E_PATTERN, /* PATTERN mismatch, or an INT that is not a number */
	FORM_E_RANGE, /* INT outside min..max, overflow included */
	FORM_E_DATE,
	FORM_E_CHOICE, /* ENUM word or CHECKBOX value not allowed */
	FORM_E_REPEATED, /* more than once, or more than FORM_REPEAT_MAX */
	FORM_E__MAX
};

struct form;

/*
 * A form for one table; fields and n must outlive it, and the caller owns
 * the result (form_free). NULL only on a programming error, logged with the
 * field's name so the unit tests catch it: a pattern that does not compile,
 * a NULL, malformed or duplicated name, an unknown kind or flag, a text or
 * PATTERN field without 0 <= min <= max and max >= 1, an INT with min > max,
 * or a PATTERN or ENUM without its pattern.
 */
struct form *form_new(const struct form_field *fields, size_t n);
/* Accepts NULL; wipes every value, the passwords among them. */
void form_free(struct form *f);

/*
 * Parses one urlencoded body (or query string; text may be NULL when len is
 * 0) and validates every declared field. 0 when every field is valid, -1
 * when any is not: then form_error says which, and form_unknown names the
 * first undeclared parameter, if any. At most FORM_PAIRS_MAX pairs and names
 * of at most FORM_NAME_MAX bytes; more is an error (form_unknown reports
 * "(too many fields)" or "(name too long)"). May be called once per form.
 */
int form_parse(struct form *f, const char *text, size_t len);

/* 1 when present and non-empty (after trimming), valid or not. */
int form_has(const struct form *f, size_t i);
/* The decoded, validated value; "" when absent or invalid. The first value
 * of a FORM_REPEAT field. */
const char *form_str(const struct form *f, size_t i);
/* FORM_INT / FORM_CHECKBOX value; 0 when absent or invalid. */
long long form_int(const struct form *f, size_t i);
/* The number of values of a FORM_REPEAT field (0 when it is invalid). */
size_t form_count(const struct form *f, size_t i);
/* Value k of a FORM_REPEAT field; "" when k >= form_count. */
const char *form_str_at(const struct form *f, size_t i, size_t k);
enum form_error form_error(const struct form *f, size_t i);
/* The first undeclared parameter (decoded), NULL when none. A name that is
 * not printable ASCII is reported as "(malformed name)". */
const char *form_unknown(const struct form *f);
/*
 * The raw value as submitted (decoded, untrimmed, "" when absent or when its
 * %XX escapes are malformed) so a page can show back what the user typed in
 * a text field next to its error; never for FORM_PASSWORD (returns ""). It
 * may hold anything and must be escaped like every output.
 */
const char *form_echo(const struct form *f, size_t i);
/* Stable names: "ok", "missing", "short", ... used as message keys
 * "form.error.<name>"; "invalid" for a value out of range. */
const char *form_error_name(enum form_error e);

#endif
