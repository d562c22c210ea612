/*
 * policy: decides whether a new password may be used — its text, its
 * length, the user's own public facts and the easily guessed ones — and
 * loads the blocklist it consults. It must never log, store or keep a
 * password: every working copy lives on the stack and is wiped before
 * returning, and the check allocates nothing.
 */
#include "policy.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util.h"
#include "validate.h"

/* The shipped list is about half a megabyte; the bound only keeps a wrong
 * path (a log file, a device) from being read whole. */
#define BLOCKLIST_MAX_FILE (16u * 1024u * 1024u)
#define BLOCKLIST_MAX_ENTRY 128

/* A password of POLICY_MAX_CHARS code points takes at most four bytes each,
 * so once TOO_LONG has passed every working copy fits these buffers. */
#define POLICY_MAX_BYTES (POLICY_MAX_CHARS * 4)

/* Logins, school codes and name parts shorter than this would refuse most
 * passwords while protecting nothing, so they are not compared. */
#define POLICY_MIN_FACT 3
#define POLICY_MIN_NAME_PART 3

struct blocklist {
	char *data; /* the file, its lines terminated in place */
	char **entries; /* sorted, unique, pointing into data */
	size_t count;
};

static char
policy_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char
policy_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int
policy_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
policy_is_alpha(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Code points in n bytes of well-formed UTF-8: every byte that does not
 * continue a sequence starts one. */
static size_t
policy_cp_count(const char *s, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

/* Decodes the code point at s (well-formed UTF-8, already validated) and
 * stores its byte length in *n. */
static unsigned int
policy_decode(const char *s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if (p[0] < 0xe0) {
		*n = 2;
		return ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
	}
	if (p[0] < 0xf0) {
		*n = 3;
		return ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) |
		    (p[2] & 0x3fu);
	}
	*n = 4;
	return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
	    ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
}

static int
blocklist_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
blocklist_add(struct blocklist *bl, size_t *cap, char *entry)
{
	if (bl->count == *cap) {
		*cap = *cap == 0 ? 4096 : *cap * 2;
		bl->entries = xrealloc(bl->entries, *cap * sizeof(char *));
	}
	bl->entries[bl->count++] = entry;
}

struct blocklist *
blocklist_load(const char *path, char *err, size_t errlen)
{
	struct blocklist *bl;
	char *data, *p, *end;
	size_t len, lineno = 0, cap = 0, i, out;

	if (file_read_all(path, BLOCKLIST_MAX_FILE, &data, &len, err, errlen) ==
	    -1)
		return NULL;
	bl = xcalloc(1, sizeof(*bl));
	bl->data = data;
	p = data;
	end = data + len;
	/* An editor's byte-order mark would otherwise turn a first comment
	 * line into an entry. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = p;
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		p = nl != NULL ? nl + 1 : end;
		lineno++;
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
			n--;
		/* Safe: line + n is the newline, a stripped byte, or the
		 * terminator file_read_all leaves after the data. */
		line[n] = '\0';
		if (validate_utf8_text(line, n, 0) < 0) {
			str_printf(err, errlen,
			    "%s:%zu: not UTF-8 text, or holds a control "
			    "character",
			    path, lineno);
			goto fail;
		}
		if (n == 0 || line[0] == '#')
			continue;
		if (n > BLOCKLIST_MAX_ENTRY) {
			str_printf(err, errlen,
			    "%s:%zu: an entry of %zu bytes; at most %d", path,
			    lineno, n, BLOCKLIST_MAX_ENTRY);
			goto fail;
		}
		for (i = 0; i < n; i++)
			line[i] = policy_lower(line[i]);
		blocklist_add(bl, &cap, line);
	}
	if (bl->count > 1) {
		qsort(bl->entries, bl->count, sizeof(char *), blocklist_cmp);
		for (i = 1, out = 1; i < bl->count; i++)
			if (strcmp(bl->entries[i], bl->entries[out - 1]) != 0)
				bl->entries[out++] = bl->entries[i];
		bl->count = out;
	}
	return bl;
fail:
	blocklist_free(bl);
	return NULL;
}

void
blocklist_free(struct blocklist *bl)
{
	if (bl == NULL)
		return;
	free(bl->entries);
	free(bl->data);
	free(bl);
}

size_t
blocklist_count(const struct blocklist *bl)
{
	return bl == NULL ? 0 : bl->count;
}

int
blocklist_contains(const struct blocklist *bl, const char *pw)
{
	char key[BLOCKLIST_MAX_ENTRY + 1];
	size_t n, i, lo, hi;
	int found = 0;

	if (bl == NULL || pw == NULL)
		return 0;
	n = strlen(pw);
	/* The loader strips trailing spaces, so a password that only adds
	 * them is the same entry. */
	while (n > 0 && pw[n - 1] == ' ')
		n--;
	if (n == 0 || n > BLOCKLIST_MAX_ENTRY)
		return 0;
	for (i = 0; i < n; i++)
		key[i] = policy_lower(pw[i]);
	key[n] = '\0';
	lo = 0;
	hi = bl->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, bl->entries[mid]);

		if (c == 0) {
			found = 1;
			break;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return found;
}

/* Working copies of one password, wiped as a whole before returning. */
struct policy_work {
	char low[POLICY_MAX_BYTES + 1]; /* ASCII lower-cased */
	size_t len;
	char squeezed[POLICY_MAX_BYTES + 1]; /* also without separators */
	size_t squeezed_len;
	char fact[POLICY_MAX_BYTES + 1]; /* a name or part of one */
	char window[11]; /* a national ID candidate */
	char dates[32][16]; /* the birth date in its written forms */
};

/* 1 when needle (n bytes, compared ASCII case-insensitively) occurs in the
 * lower-cased hay. */
static int
policy_contains(const char *hay, size_t hlen, const char *needle, size_t n)
{
	size_t i, j;

	if (n == 0 || n > hlen)
		return 0;
	for (i = 0; i + n <= hlen; i++) {
		for (j = 0; j < n; j++)
			if (hay[i + j] != policy_lower(needle[j]))
				break;
		if (j == n)
			return 1;
	}
	return 0;
}

/* The byte length of a separator inside a name at s, or 0. Besides the
 * space, '-' and '.', the middle dots that join the parts of indigenous
 * and transliterated names ("Walis‧Nokan", "瓦歷斯‧諾幹") and the
 * ideographic space count, so that a name typed either way matches. */
static size_t
policy_separator(const char *s, size_t left)
{
	static const char *const wide[] = {
	    "\xc2\xb7", "\xe2\x80\xa7", "\xe3\x83\xbb", "\xe3\x80\x80"};
	size_t i, n;

	if (*s == ' ' || *s == '-' || *s == '.')
		return 1;
	for (i = 0; i < ARRAY_SIZE(wide); i++) {
		n = strlen(wide[i]);
		if (n <= left && memcmp(s, wide[i], n) == 0)
			return n;
	}
	return 0;
}

/* Copies n bytes of in to out (cap bytes) lower-cased and without
 * separators; -1 when the result does not fit, which for a name means it
 * is longer than any password it could be compared with. */
static int
policy_squeeze(char *out, size_t cap, const char *in, size_t n, size_t *outlen)
{
	size_t i = 0, o = 0, sep;

	while (i < n) {
		if ((sep = policy_separator(in + i, n - i)) > 0) {
			i += sep;
			continue;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = policy_lower(in[i++]);
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* 1 when every code point of the name (valid UTF-8) is a Latin letter, an
 * apostrophe or a separator, so that its parts are words worth comparing
 * on their own; Chinese names are compared only whole. */
static int
policy_latin_name(const char *s, size_t n)
{
	size_t i = 0, k;
	unsigned int cp;

	while (i < n) {
		if ((k = policy_separator(s + i, n - i)) > 0) {
			i += k;
			continue;
		}
		cp = policy_decode(s + i, &k);
		i += k;
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    cp == '\'' || cp == 0x2019)
			continue;
		/* Latin-1 letters (not × and ÷), Extended-A/B and the
		 * Vietnamese block of Extended Additional. */
		if ((cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7) ||
		    (cp >= 0x1e00 && cp <= 0x1eff))
			continue;
		return 0;
	}
	return 1;
}

/* The byte length of a separator that splits a Latin name into parts, or
 * 0: '-' and '.' only join, so "Mei-Ling" stays one part, "meiling". */
static size_t
policy_part_break(const char *s, size_t left)
{
	return *s == '-' || *s == '.' ? 0 : policy_separator(s, left);
}

/* Letters in n bytes of a squeezed name part: its code points less the
 * apostrophes of names like O'Brien. */
static size_t
policy_letters(const char *s, size_t n)
{
	size_t i = 0, k, count = 0;
	unsigned int cp;

	while (i < n) {
		cp = policy_decode(s + i, &k);
		i += k;
		if (cp != '\'' && cp != 0x2019)
			count++;
	}
	return count;
}

/* 1 when a part of a Latin name of at least POLICY_MIN_NAME_PART letters
 * is in the squeezed password. */
static int
policy_name_parts(struct policy_work *w, const char *name, size_t n)
{
	size_t i = 0, start, brk, plen;

	while (i < n) {
		if ((brk = policy_part_break(name + i, n - i)) > 0) {
			i += brk;
			continue;
		}
		/* A separator starts with a lead byte, so stepping bytewise
		 * never finds one inside a code point. */
		start = i;
		while (i < n && policy_part_break(name + i, n - i) == 0)
			i++;
		if (policy_squeeze(w->fact, sizeof(w->fact), name + start,
			i - start, &plen) == 0 &&
		    policy_letters(w->fact, plen) >= POLICY_MIN_NAME_PART &&
		    policy_contains(
			w->squeezed, w->squeezed_len, w->fact, plen))
			return 1;
	}
	return 0;
}

static int
policy_has_name(struct policy_work *w, const char *name)
{
	size_t n, flen;

	if (name == NULL || *name == '\0')
		return 0;
	n = strlen(name);
	/* A name that is not text cannot be compared with one that is. */
	if (validate_utf8_text(name, n, 0) < 0)
		return 0;
	if (policy_squeeze(w->fact, sizeof(w->fact), name, n, &flen) == 0 &&
	    policy_cp_count(w->fact, flen) >= 2 &&
	    policy_contains(w->squeezed, w->squeezed_len, w->fact, flen))
		return 1;
	return policy_latin_name(name, n) && policy_name_parts(w, name, n);
}

/* 1 when a fact of at least POLICY_MIN_FACT code points is in the
 * password. */
static int
policy_has_fact(const struct policy_work *w, const char *fact)
{
	size_t n;

	if (fact == NULL)
		return 0;
	n = strlen(fact);
	return policy_cp_count(fact, n) >= POLICY_MIN_FACT &&
	    policy_contains(w->low, w->len, fact, n);
}

static int
policy_has_national_id(struct policy_work *w, const struct policy_user *u)
{
	size_t i, j;

	if (u->national_id_match == NULL)
		return 0;
	for (i = 0; i + 10 <= w->len; i++) {
		for (j = 0; j < 10; j++)
			w->window[j] = policy_upper(w->low[i + j]);
		w->window[10] = '\0';
		if (validate_twid(w->window) &&
		    u->national_id_match(u->arg, w->window) == 1)
			return 1;
	}
	return 0;
}

/* Reads n digits at s; -1 when any is not a digit. */
static int
policy_digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!policy_is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static void policy_date_add(struct policy_work *w, size_t *k, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Appends one written form of the birth date to w->dates. */
static void
policy_date_add(struct policy_work *w, size_t *k, const char *fmt, ...)
{
	va_list ap;
	int r;

	assert(*k < ARRAY_SIZE(w->dates));
	va_start(ap, fmt);
	r = vsnprintf(w->dates[*k], sizeof(w->dates[*k]), fmt, ap);
	va_end(ap);
	/* The fields are bounded by the parse, so a form always fits; one
	 * that did not would be skipped rather than compared cut short. */
	if (r > 0 && (size_t)r < sizeof(w->dates[*k]))
		(*k)++;
}

/* Fills w->dates with the ways a birth date "YYYY-MM-DD" is written;
 * returns how many, 0 when the date is unusable. */
static size_t
policy_date_forms(struct policy_work *w, const char *date)
{
	static const char seps[] = "-/.";
	size_t k = 0, i;
	int y, m, d, roc;

	if (date == NULL || strlen(date) != 10 || date[4] != '-' ||
	    date[7] != '-' || (y = policy_digits(date, 4)) < 0 ||
	    (m = policy_digits(date + 5, 2)) < 0 ||
	    (d = policy_digits(date + 8, 2)) < 0 || !validate_ymd(y, m, d))
		return 0;
	/* The year before or after the month and day, four digits or two. */
	policy_date_add(w, &k, "%04d%02d%02d", y, m, d);
	policy_date_add(w, &k, "%02d%02d%02d", y % 100, m, d);
	policy_date_add(w, &k, "%02d%02d%04d", m, d, y);
	policy_date_add(w, &k, "%02d%02d%04d", d, m, y);
	policy_date_add(w, &k, "%02d%02d%02d", m, d, y % 100);
	policy_date_add(w, &k, "%02d%02d%02d", d, m, y % 100);
	for (i = 0; i < sizeof(seps) - 1; i++) {
		policy_date_add(
		    w, &k, "%04d%c%02d%c%02d", y, seps[i], m, seps[i], d);
		policy_date_add(
		    w, &k, "%02d%c%02d%c%04d", m, seps[i], d, seps[i], y);
		policy_date_add(
		    w, &k, "%02d%c%02d%c%04d", d, seps[i], m, seps[i], y);
	}
	/* 民國 years: Western minus 1911, zero-padded to three digits on
	 * forms and written without the padding by hand. */
	roc = y - 1911;
	if (roc >= 1) {
		policy_date_add(w, &k, "%03d%02d%02d", roc, m, d);
		policy_date_add(w, &k, "%d%02d%02d", roc, m, d);
		for (i = 0; i < sizeof(seps) - 1; i++) {
			policy_date_add(w, &k, "%03d%c%02d%c%02d", roc, seps[i],
			    m, seps[i], d);
			policy_date_add(w, &k, "%d%c%02d%c%02d", roc, seps[i],
			    m, seps[i], d);
		}
	}
	return k;
}

static int
policy_has_birth_date(struct policy_work *w, const char *date)
{
	size_t i, n = policy_date_forms(w, date);

	for (i = 0; i < n; i++)
		if (policy_contains(
			w->low, w->len, w->dates[i], strlen(w->dates[i])))
			return 1;
	return 0;
}

static enum policy_result
policy_check_user(struct policy_work *w, const struct policy_user *u)
{
	if (policy_has_fact(w, u->login))
		return POLICY_HAS_LOGIN;
	if (policy_has_name(w, u->name))
		return POLICY_HAS_NAME;
	if (policy_has_national_id(w, u))
		return POLICY_HAS_NATIONAL_ID;
	if (policy_has_fact(w, u->school_code))
		return POLICY_HAS_SCHOOL_CODE;
	if (policy_has_birth_date(w, u->birth_date))
		return POLICY_HAS_BIRTH_DATE;
	return POLICY_OK;
}

/* 1 when s is three groups of digits joined by one separator that read as
 * a date: year first (2, 3 or 4 digits; 3 only for 民國) or last (2 or 4),
 * month and day of 1 or 2 digits either way round. validate_date_like
 * knows the zero-padded forms; this adds "88/01/01", "2008/3/15" and
 * "03/15/2008", which people write by hand. */
static int
policy_separated_date(const char *s)
{
	int v[3], len[3], g = 0, year;
	char sep = 0;
	const char *p = s;

	for (;;) {
		len[g] = 0;
		v[g] = 0;
		while (policy_is_digit(*p) && len[g] < 5) {
			v[g] = v[g] * 10 + (*p - '0');
			len[g]++;
			p++;
		}
		if (len[g] == 0 || len[g] > 4)
			return 0;
		if (++g == 3)
			break;
		if (*p != '-' && *p != '/' && *p != '.' && *p != ' ')
			return 0;
		if (sep != 0 && *p != sep)
			return 0;
		sep = *p++;
	}
	if (*p != '\0')
		return 0;
	if (len[1] <= 2 && len[2] <= 2 && len[0] >= 2) {
		if (len[0] == 4)
			year = v[0];
		else
			year = v[0] + 1911; /* 民國; a two-digit year also */
		if ((len[0] != 4 || (year >= 1900 && year <= 2100)) &&
		    validate_ymd(year, v[1], v[2]))
			return 1;
	}
	if (len[0] <= 2 && len[1] <= 2 && (len[2] == 2 || len[2] == 4)) {
		/* A two-digit year is checked as 2000, a leap year, so
		 * that 29 February is recognised. */
		year = len[2] == 4 ? v[2] : 2000;
		if (year < 1900 || year > 2100)
			return 0;
		return validate_ymd(year, v[0], v[1]) ||
		    validate_ymd(year, v[1], v[0]);
	}
	return 0;
}

/* 1 when s is a Taiwanese mobile number: 09 and eight digits, or +886 9
 * and eight, with single '-' or ' ' between digits as people group them
 * (0912-345678, 0912 345 678). */
static int
policy_mobile(const char *s)
{
	char digits[16];
	size_t n = 0;
	int plus = 0;

	if (*s == '+') {
		plus = 1;
		s++;
	}
	for (; *s != '\0'; s++) {
		if (policy_is_digit(*s)) {
			if (n == sizeof(digits) - 1)
				return 0;
			digits[n++] = *s;
			continue;
		}
		if ((*s != '-' && *s != ' ') || n == 0 ||
		    !policy_is_digit(s[1]))
			return 0;
	}
	digits[n] = '\0';
	if (!plus && n == 10 && memcmp(digits, "09", 2) == 0)
		return 1;
	return n == 12 && memcmp(digits, "8869", 4) == 0;
}

/* 1 when s (n bytes) is one unit of one to four code points repeated:
 * "aaaaaaaa", "12121212", "abcabcabc", "密碼密碼密碼密碼". */
static int
policy_repeated(const char *s, size_t n)
{
	size_t unit, cps, ub, k;

	for (cps = 1, ub = 0; cps <= 4 && ub < n; cps++) {
		(void)policy_decode(s + ub, &k);
		ub += k;
		if (ub >= n || n % ub != 0)
			continue;
		for (unit = ub; unit < n; unit += ub)
			if (memcmp(s, s + unit, ub) != 0)
				break;
		if (unit >= n)
			return 1;
	}
	return 0;
}

/* 1 when s is a run of digits or letters going up or down by one:
 * "12345678", "87654321", "abcdefgh". The number row ends in 0, so 0 after
 * 9 continues a run ("1234567890"), and z wraps to a likewise. */
static int
policy_run(const char *s, size_t n)
{
	int digits, mod, step, d;
	size_t i;

	if (n < 3)
		return 0;
	digits = policy_is_digit(s[0]);
	if (!digits && !policy_is_alpha(s[0]))
		return 0;
	mod = digits ? 10 : 26;
	for (i = 1; i < n; i++)
		if (digits ? !policy_is_digit(s[i]) : !policy_is_alpha(s[i]))
			return 0;
	step = ((s[1] - s[0]) % mod + mod) % mod;
	if (step != 1 && step != mod - 1)
		return 0;
	for (i = 2; i < n; i++) {
		d = ((s[i] - s[i - 1]) % mod + mod) % mod;
		if (d != step)
			return 0;
	}
	return 1;
}

static int
policy_pattern(const struct policy_work *w)
{
	return validate_date_like(w->low) || policy_separated_date(w->low) ||
	    policy_mobile(w->low) || policy_repeated(w->low, w->len) ||
	    policy_run(w->low, w->len);
}

/* The list is looked up with base at out[0..n), in a wiped copy. */
static int
policy_listed(const struct blocklist *bl, const char *base, size_t n)
{
	char key[POLICY_MAX_BYTES + 1];
	int found;

	if (n < 4 || n > POLICY_MAX_BYTES)
		return 0;
	memcpy(key, base, n);
	key[n] = '\0';
	found = blocklist_contains(bl, key);
	OPENSSL_cleanse(key, sizeof(key));
	return found;
}

/*
 * On the list as typed, or a listed password with a little added: up to
 * four trailing digits or symbols ("5201314!!", "iloveyou2024"), or one
 * character of any kind at either end ("5201314x", "xpassword1"). Adding
 * a character to a common password does not make it uncommon; guessing
 * tools try exactly these variations first.
 */
static int
policy_blocklisted(const struct blocklist *bl, const struct policy_work *w)
{
	size_t n = w->len, k;

	if (blocklist_contains(bl, w->low))
		return 1;
	for (k = 1; k <= 4 && k < n; k++) {
		char c = w->low[n - k];

		if (policy_is_alpha(c) || (unsigned char)c >= 0x80)
			break;
		if (policy_listed(bl, w->low, n - k))
			return 1;
	}
	return n > 1 &&
	    (policy_listed(bl, w->low, n - 1) ||
		policy_listed(bl, w->low + 1, n - 1));
}

static enum policy_result
policy_check(struct policy_work *w, const struct blocklist *bl, int min_length,
    const char *pw, const struct policy_user *u)
{
	enum policy_result r;
	size_t i;
	long cps;

	if (pw == NULL)
		return POLICY_BAD_TEXT;
	w->len = strlen(pw);
	if ((cps = validate_utf8_text(pw, w->len, 0)) < 0)
		return POLICY_BAD_TEXT;
	if (cps < min_length)
		return POLICY_TOO_SHORT;
	if (cps > POLICY_MAX_CHARS)
		return POLICY_TOO_LONG;
	assert(w->len <= POLICY_MAX_BYTES);
	for (i = 0; i < w->len; i++)
		w->low[i] = policy_lower(pw[i]);
	w->low[w->len] = '\0';
	if (policy_squeeze(w->squeezed, sizeof(w->squeezed), pw, w->len,
		&w->squeezed_len) == -1)
		return POLICY_TOO_LONG; /* cannot happen: it only shrinks */
	if (u != NULL && (r = policy_check_user(w, u)) != POLICY_OK)
		return r;
	if (policy_pattern(w) || policy_blocklisted(bl, w))
		return POLICY_BLOCKLISTED;
	return POLICY_OK;
}

enum policy_result
policy_check_password(const struct blocklist *bl, int min_length,
    const char *pw, const struct policy_user *u)
{
	struct policy_work w;
	enum policy_result r;

	r = policy_check(&w, bl, min_length, pw, u);
	OPENSSL_cleanse(&w, sizeof(w));
	return r;
}

const char *
policy_result_name(enum policy_result r)
{
	static const char *const names[POLICY__MAX] = {
	    [POLICY_OK] = "ok",
	    [POLICY_TOO_SHORT] = "too_short",
	    [POLICY_TOO_LONG] = "too_long",
	    [POLICY_BAD_TEXT] = "bad_text",
	    [POLICY_BLOCKLISTED] = "blocklisted",
	    [POLICY_HAS_LOGIN] = "has_login",
	    [POLICY_HAS_NAME] = "has_name",
	    [POLICY_HAS_NATIONAL_ID] = "has_national_id",
	    [POLICY_HAS_SCHOOL_CODE] = "has_school_code",
	    [POLICY_HAS_BIRTH_DATE] = "has_birth_date",
	};

	if ((unsigned)r >= POLICY__MAX || names[r] == NULL)
		return "unknown";
	return names[r];
}
