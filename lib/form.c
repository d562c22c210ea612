/*
 * form: declared-field validation of application/x-www-form-urlencoded text.
 * It owns the decoding ('+', %XX), the per-kind checks and the typed values,
 * and wipes every decoded byte it held when the form is freed. It must never
 * accept a parameter nobody declared, never alter an accepted value for
 * output (escaping is the template's job) and never echo a password back.
 */
#include "form.h"

#include <assert.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "util.h"
#include "validate.h"

/* A decoded value; size is its allocation, wiped in full on free because
 * trimming may have moved bytes out of [0, len). */
struct form_value {
	char *s;
	size_t len;
	size_t size;
};

struct form_slot {
	struct form_value *vals; /* the valid, non-empty values, in order */
	size_t nvals;
	size_t cap;
	struct form_value echo; /* the first occurrence as decoded */
	long long ival; /* of the first value: FORM_INT, FORM_CHECKBOX */
	size_t seen; /* occurrences, empty ones included */
	int present; /* a non-empty occurrence, valid or not */
	enum form_error err; /* the first error found */
};

struct form {
	const struct form_field *fields;
	size_t n;
	regex_t *re; /* one per field; compiled where compiled[i] */
	unsigned char *compiled;
	struct form_slot *slots;
	int parsed;
	const char *unknown;
	char unknown_buf[FORM_NAME_MAX + 1];
};

static const char *const form_error_names[FORM_E__MAX] = {
    [FORM_E_OK] = "ok",
    [FORM_E_MISSING] = "missing",
    [FORM_E_SHORT] = "short",
    [FORM_E_LONG] = "long",
    [FORM_E_ENCODING] = "encoding",
    [FORM_E_CHARS] = "chars",
    [FORM_E_PATTERN] = "pattern",
    [FORM_E_RANGE] = "range",
    [FORM_E_DATE] = "date",
    [FORM_E_CHOICE] = "choice",
    [FORM_E_REPEATED] = "repeated",
};

/* The values a checkbox sends when ticked; browsers send "on" by default. */
static const char *const form_checkbox_words[] = {"1", "on", "yes", "true"};

static void
form_value_wipe(struct form_value *v)
{
	if (v->s != NULL) {
		OPENSSL_cleanse(v->s, v->size);
		free(v->s);
	}
	v->s = NULL;
	v->len = 0;
	v->size = 0;
}

/*
 * The closing ']' of the bracket expression that opens at p, or NULL. A
 * ']' right after "[" or "[^" is a literal, and "[:alpha:]", "[.x.]" and
 * "[=x=]" hold a ']' of their own.
 */
static const char *
form_bracket_end(const char *p)
{
	const char *q;
	char close;

	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p != '\0'; p++) {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			close = p[1];
			q = p + 2;
			while (*q != '\0' && !(q[0] == close && q[1] == ']'))
				q++;
			if (*q == '\0')
				return NULL;
			p = q + 1;
			continue;
		}
		if (*p == ']')
			return p;
	}
	return NULL;
}

/*
 * 1 when the parentheses of an extended regex nest properly outside escapes
 * and bracket expressions. The layer wraps a pattern in "^(" and ")$", so a
 * pattern such as "a)|(b" would compile and quietly lose both anchors.
 */
static int
form_parens_nest(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\\') {
			if (p[1] == '\0')
				return 0;
			p++;
		} else if (*p == '[') {
			if ((p = form_bracket_end(p)) == NULL)
				return 0;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && --depth < 0) {
			return 0;
		}
	}
	return depth == 0;
}

/* 1 when the '|'-separated words of an ENUM are all non-empty. */
static int
form_enum_words_ok(const char *p)
{
	size_t n = strlen(p);

	return n > 0 && p[0] != '|' && p[n - 1] != '|' &&
	    strstr(p, "||") == NULL;
}

static int
form_is_text_kind(enum form_kind k)
{
	return k == FORM_TEXT || k == FORM_MULTILINE || k == FORM_PASSWORD ||
	    k == FORM_PATTERN;
}

/* Checks the declaration of fields[i]; -1 (logged) on a programming error. */
static int
form_field_check(const struct form_field *fields, size_t i)
{
	const struct form_field *fd = &fields[i];
	size_t k, len;

	if (fd->name == NULL) {
		log_error("form field %zu has no name", i);
		return -1;
	}
	len = strlen(fd->name);
	if (len == 0 || len > FORM_NAME_MAX ||
	    strspn(fd->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		log_error(
		    "form field %zu: name \"%s\" is not 1..%d of [a-z0-9_]", i,
		    fd->name, FORM_NAME_MAX);
		return -1;
	}
	for (k = 0; k < i; k++) {
		if (strcmp(fields[k].name, fd->name) == 0) {
			log_error("form field %s: declared twice", fd->name);
			return -1;
		}
	}
	if ((unsigned)fd->kind >= FORM_KIND__MAX ||
	    (fd->flags & ~(unsigned)(FORM_REQUIRED | FORM_REPEAT)) != 0) {
		log_error("form field %s: unknown kind or flag", fd->name);
		return -1;
	}
	if (form_is_text_kind(fd->kind) &&
	    (fd->min < 0 || fd->max < 1 || fd->min > fd->max)) {
		log_error("form field %s: needs 0 <= min <= max and max >= 1",
		    fd->name);
		return -1;
	}
	if (fd->kind == FORM_INT && fd->min > fd->max) {
		log_error("form field %s: min > max", fd->name);
		return -1;
	}
	if (fd->kind == FORM_PATTERN &&
	    (fd->pattern == NULL || !form_parens_nest(fd->pattern))) {
		log_error("form field %s: no pattern, or its parentheses do "
			  "not nest",
		    fd->name);
		return -1;
	}
	if (fd->kind == FORM_ENUM &&
	    (fd->pattern == NULL || !form_enum_words_ok(fd->pattern))) {
		log_error("form field %s: no words, or an empty one", fd->name);
		return -1;
	}
	return 0;
}

static int
form_compile(regex_t *re, const struct form_field *fd)
{
	struct buf b;
	char msg[128];
	int rc;

	buf_init(&b);
	buf_printf(&b, "^(%s)$", fd->pattern);
	rc = regcomp(re, b.data, REG_EXTENDED | REG_NOSUB);
	buf_free(&b);
	if (rc != 0) {
		(void)regerror(rc, re, msg, sizeof(msg));
		log_error("form field %s: pattern does not compile: %s",
		    fd->name, msg);
		return -1;
	}
	return 0;
}

struct form *
form_new(const struct form_field *fields, size_t n)
{
	struct form *f;
	size_t i;

	if (n > 0 && fields == NULL) {
		log_error("form has %zu fields but no table", n);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (form_field_check(fields, i) == -1)
			return NULL;
	f = xcalloc(1, sizeof(*f));
	f->fields = fields;
	f->n = n;
	f->re = xcalloc(n, sizeof(*f->re));
	f->compiled = xcalloc(n, 1);
	f->slots = xcalloc(n, sizeof(*f->slots));
	for (i = 0; i < n; i++) {
		if (fields[i].kind != FORM_PATTERN)
			continue;
		if (form_compile(&f->re[i], &fields[i]) == -1) {
			form_free(f);
			return NULL;
		}
		f->compiled[i] = 1;
	}
	return f;
}

void
form_free(struct form *f)
{
	struct form_slot *s;
	size_t i, k;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		s = &f->slots[i];
		for (k = 0; k < s->nvals; k++)
			form_value_wipe(&s->vals[k]);
		free(s->vals);
		form_value_wipe(&s->echo);
		if (f->compiled[i])
			regfree(&f->re[i]);
	}
	free(f->slots);
	free(f->compiled);
	free(f->re);
	free(f);
}

/*
 * Decodes n bytes of s ('+' is a space, %XX a byte) into out, which holds
 * n + 1 bytes, and terminates it. A decoded NUL is kept: the checks refuse
 * it as a control character. -1 on a malformed escape.
 */
static int
form_decode(const char *s, size_t n, char *out, size_t *outn)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '%') {
			if (n - i < 3 || (hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		out[o++] = c;
	}
	out[o] = '\0';
	*outn = o;
	return 0;
}

/*
 * Checks n bytes of s as UTF-8 text and counts its code points. The rules
 * are validate_utf8_text's (no overlongs, surrogates or values past
 * U+10FFFF; no C0 or C1 controls, DEL or bidirectional overrides) but a form
 * must tell the user which rule a value broke, so this answers with an
 * error rather than -1. newlines allows \t, \n and a \r followed by \n.
 */
static enum form_error
form_utf8(const char *s, size_t n, int newlines, size_t *count)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, more;
	unsigned int c, cp;

	*count = 0;
	while (i < n) {
		c = p[i];
		if (c < 0x80) {
			if ((c < 0x20 || c == 0x7f) &&
			    !(newlines &&
				(c == '\n' || c == '\t' ||
				    (c == '\r' && i + 1 < n &&
					p[i + 1] == '\n'))))
				return FORM_E_CHARS;
			i++;
			(*count)++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else {
			return FORM_E_ENCODING;
		}
		for (k = 1; k <= more; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				return FORM_E_ENCODING;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return FORM_E_ENCODING;
		if ((cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return FORM_E_CHARS;
		i += more + 1;
		(*count)++;
	}
	return FORM_E_OK;
}

/* TEXT, MULTILINE and PASSWORD: checks and normalises s in place. */
static enum form_error
form_check_text(const struct form_field *fd, char *s, size_t *len)
{
	size_t n = *len, count, a, b;
	enum form_error e;

	e = form_utf8(s, n, fd->kind == FORM_MULTILINE, &count);
	if (e != FORM_E_OK)
		return e;
	if (fd->kind == FORM_TEXT) {
		a = 0;
		while (a < n && s[a] == ' ')
			a++;
		b = n;
		while (b > a && s[b - 1] == ' ')
			b--;
		count -= n - (b - a);
		memmove(s, s + a, b - a);
		n = b - a;
	} else if (fd->kind == FORM_MULTILINE) {
		/* form_utf8 let a \r through only before a \n. */
		for (a = b = 0; a < n; a++) {
			if (s[a] == '\r') {
				count--;
				continue;
			}
			s[b++] = s[a];
		}
		n = b;
	}
	s[n] = '\0';
	*len = n;
	if (n == 0)
		return FORM_E_OK;
	if ((long long)count < fd->min)
		return FORM_E_SHORT;
	if ((long long)count > fd->max)
		return FORM_E_LONG;
	return FORM_E_OK;
}

static enum form_error
form_check_pattern(
    const regex_t *re, const struct form_field *fd, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return FORM_E_PATTERN;
	if ((long long)n < fd->min)
		return FORM_E_SHORT;
	if ((long long)n > fd->max)
		return FORM_E_LONG;
	/* The length check comes first so the regex only ever sees a short,
	 * NUL-free, ASCII string. */
	if (regexec(re, s, 0, NULL, 0) != 0)
		return FORM_E_PATTERN;
	return FORM_E_OK;
}

static enum form_error
form_check_int(
    const struct form_field *fd, const char *s, size_t n, long long *out)
{
	size_t i = 0;
	long long v = 0;
	int neg = 0, d;

	if (s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || strspn(s + i, "0123456789") != n - i)
		return FORM_E_PATTERN;
	for (; i < n; i++) {
		d = s[i] - '0';
		/* Division truncates toward zero, which is the bound each
		 * side needs: v * 10 + d <= LLONG_MAX and v * 10 - d >=
		 * LLONG_MIN. */
		if (neg) {
			if (v < (LLONG_MIN + d) / 10)
				return FORM_E_RANGE;
			v = v * 10 - d;
		} else {
			if (v > (LLONG_MAX - d) / 10)
				return FORM_E_RANGE;
			v = v * 10 + d;
		}
	}
	if (v < fd->min || v > fd->max)
		return FORM_E_RANGE;
	*out = v;
	return FORM_E_OK;
}

static enum form_error
form_check_date(const char *s, size_t n)
{
	static const size_t digits[] = {0, 1, 2, 3, 5, 6, 8, 9};
	size_t i;
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return FORM_E_DATE;
	for (i = 0; i < ARRAY_SIZE(digits); i++)
		if (s[digits[i]] < '0' || s[digits[i]] > '9')
			return FORM_E_DATE;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return validate_ymd(y, m, d) ? FORM_E_OK : FORM_E_DATE;
}

static enum form_error
form_check_checkbox(const char *s, size_t n, long long *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(form_checkbox_words); i++) {
		if (strlen(form_checkbox_words[i]) == n &&
		    memcmp(s, form_checkbox_words[i], n) == 0) {
			*out = 1;
			return FORM_E_OK;
		}
	}
	return FORM_E_CHOICE;
}

static enum form_error
form_check_enum(const char *words, const char *s, size_t n)
{
	const char *p = words, *bar;
	size_t wlen;

	for (;;) {
		bar = strchr(p, '|');
		wlen = bar ? (size_t)(bar - p) : strlen(p);
		if (wlen == n && memcmp(p, s, n) == 0)
			return FORM_E_OK;
		if (bar == NULL)
			return FORM_E_CHOICE;
		p = bar + 1;
	}
}

/* 1 when n bytes of s hold a C0 control character or DEL. */
static int
form_has_controls(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * Checks the non-empty decoded value s (len bytes, size allocated) of field
 * i, normalising it in place; *len becomes 0 when only spaces were trimmed
 * away, which makes the value absent.
 */
static enum form_error
form_check(
    const struct form *f, size_t i, char *s, size_t *len, long long *ival)
{
	const struct form_field *fd = &f->fields[i];

	if (fd->kind != FORM_TEXT && fd->kind != FORM_MULTILINE &&
	    fd->kind != FORM_PASSWORD && form_has_controls(s, *len))
		return FORM_E_CHARS;
	switch (fd->kind) {
	case FORM_TEXT:
	case FORM_MULTILINE:
	case FORM_PASSWORD: return form_check_text(fd, s, len);
	case FORM_PATTERN: return form_check_pattern(&f->re[i], fd, s, *len);
	case FORM_INT: return form_check_int(fd, s, *len, ival);
	case FORM_DATE: return form_check_date(s, *len);
	case FORM_CHECKBOX: return form_check_checkbox(s, *len, ival);
	case FORM_ENUM: return form_check_enum(fd->pattern, s, *len);
	case FORM_KIND__MAX: break;
	}
	/* form_new refuses any other kind. */
	return FORM_E_CHOICE;
}

static void
form_slot_error(struct form_slot *s, enum form_error e)
{
	if (s->err == FORM_E_OK)
		s->err = e;
}

static void
form_slot_add(struct form_slot *s, char *v, size_t len, size_t size)
{
	if (s->nvals == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1;
		s->vals = xrealloc(s->vals, s->cap * sizeof(*s->vals));
	}
	s->vals[s->nvals].s = v;
	s->vals[s->nvals].len = len;
	s->vals[s->nvals].size = size;
	s->nvals++;
}

/* Decodes, checks and keeps one raw value (n bytes) of field i. */
static void
form_take(struct form *f, size_t i, const char *raw, size_t n)
{
	const struct form_field *fd = &f->fields[i];
	struct form_slot *s = &f->slots[i];
	struct form_value v;
	enum form_error e;
	long long ival = 0;

	s->seen++;
	if ((s->seen > 1 && !(fd->flags & FORM_REPEAT)) ||
	    s->seen > FORM_REPEAT_MAX) {
		s->err = FORM_E_REPEATED;
		return;
	}
	v.size = n + 1;
	v.s = xmalloc(v.size);
	if (form_decode(raw, n, v.s, &v.len) == -1) {
		form_value_wipe(&v);
		s->present = 1;
		form_slot_error(s, FORM_E_ENCODING);
		return;
	}
	if (s->seen == 1 && fd->kind != FORM_PASSWORD) {
		s->echo.size = v.len + 1;
		s->echo.s = xmalloc(s->echo.size);
		memcpy(s->echo.s, v.s, v.len + 1);
		s->echo.len = v.len;
	}
	e = v.len == 0 ? FORM_E_OK : form_check(f, i, v.s, &v.len, &ival);
	if (e != FORM_E_OK) {
		s->present = 1;
		form_slot_error(s, e);
	}
	if (e != FORM_E_OK || v.len == 0) {
		form_value_wipe(&v);
		return;
	}
	s->present = 1;
	if (s->nvals == 0)
		s->ival = ival;
	form_slot_add(s, v.s, v.len, v.size);
}

/* Remembers the first undeclared name (n <= FORM_NAME_MAX bytes). */
static void
form_note_unknown(struct form *f, const char *name, size_t n)
{
	size_t i;

	if (f->unknown != NULL)
		return;
	if (n == 0) {
		f->unknown = "(empty name)";
		return;
	}
	for (i = 0; i < n; i++) {
		if (name[i] < 0x21 || name[i] > 0x7e) {
			f->unknown = "(malformed name)";
			return;
		}
	}
	memcpy(f->unknown_buf, name, n);
	f->unknown_buf[n] = '\0';
	f->unknown = f->unknown_buf;
}

/* One "name=value" (n bytes, no '&'); -1 when the name is not declared. */
static int
form_pair(struct form *f, const char *p, size_t n)
{
	char name[FORM_NAME_MAX * 3 + 1];
	const char *eq = memchr(p, '=', n);
	size_t rawlen = eq ? (size_t)(eq - p) : n, namelen, i;

	/* Every decoded byte takes at most three encoded ones, so a longer
	 * raw name cannot decode to FORM_NAME_MAX bytes. */
	if (rawlen > FORM_NAME_MAX * 3) {
		if (f->unknown == NULL)
			f->unknown = "(name too long)";
		return -1;
	}
	if (form_decode(p, rawlen, name, &namelen) == -1) {
		if (f->unknown == NULL)
			f->unknown = "(malformed name)";
		return -1;
	}
	if (namelen > FORM_NAME_MAX) {
		if (f->unknown == NULL)
			f->unknown = "(name too long)";
		return -1;
	}
	for (i = 0; i < f->n; i++) {
		if (strlen(f->fields[i].name) == namelen &&
		    memcmp(f->fields[i].name, name, namelen) == 0) {
			if (eq != NULL)
				form_take(f, i, eq + 1, n - rawlen - 1);
			else
				form_take(f, i, "", 0);
			return 0;
		}
	}
	form_note_unknown(f, name, namelen);
	return -1;
}

int
form_parse(struct form *f, const char *text, size_t len)
{
	const char *amp;
	size_t pos = 0, end, pairs = 0, i;
	int rc = 0;

	if (f->parsed) {
		log_error("a form may be parsed only once");
		return -1;
	}
	f->parsed = 1;
	if (text == NULL)
		len = 0;
	while (pos < len) {
		amp = memchr(text + pos, '&', len - pos);
		end = amp ? (size_t)(amp - text) : len;
		if (end > pos) {
			if (++pairs > FORM_PAIRS_MAX) {
				/* The whole count is the problem, not the
				 * first name that was not declared. */
				f->unknown = "(too many fields)";
				rc = -1;
				break;
			}
			if (form_pair(f, text + pos, end - pos) == -1)
				rc = -1;
		}
		pos = end + 1;
	}
	for (i = 0; i < f->n; i++) {
		if (f->slots[i].err == FORM_E_OK &&
		    (f->fields[i].flags & FORM_REQUIRED) &&
		    !f->slots[i].present)
			f->slots[i].err = FORM_E_MISSING;
		if (f->slots[i].err != FORM_E_OK)
			rc = -1;
	}
	return rc;
}

static const struct form_slot *
form_slot(const struct form *f, size_t i)
{
	assert(f != NULL && i < f->n);
	return &f->slots[i];
}

int
form_has(const struct form *f, size_t i)
{
	return form_slot(f, i)->present;
}

const char *
form_str(const struct form *f, size_t i)
{
	return form_str_at(f, i, 0);
}

long long
form_int(const struct form *f, size_t i)
{
	const struct form_slot *s = form_slot(f, i);

	return s->err == FORM_E_OK ? s->ival : 0;
}

size_t
form_count(const struct form *f, size_t i)
{
	const struct form_slot *s = form_slot(f, i);

	return s->err == FORM_E_OK ? s->nvals : 0;
}

const char *
form_str_at(const struct form *f, size_t i, size_t k)
{
	const struct form_slot *s = form_slot(f, i);

	if (s->err != FORM_E_OK || k >= s->nvals)
		return "";
	return s->vals[k].s;
}

enum form_error
form_error(const struct form *f, size_t i)
{
	return form_slot(f, i)->err;
}

const char *
form_unknown(const struct form *f)
{
	return f->unknown;
}

const char *
form_echo(const struct form *f, size_t i)
{
	const struct form_slot *s = form_slot(f, i);

	if (f->fields[i].kind == FORM_PASSWORD || s->echo.s == NULL)
		return "";
	return s->echo.s;
}

const char *
form_error_name(enum form_error e)
{
	if ((unsigned)e >= FORM_E__MAX)
		return "invalid";
	return form_error_names[e];
}
