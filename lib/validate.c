/*
 * validate: pure checks of untrusted text. A login name must never be a
 * public fact (seeds/001 item 十二: no national ID, school code or birth date
 * as an account), so these checks are strict about what they recognise.
 */
#include "validate.h"

#include <ctype.h>
#include <string.h>

/* Letter codes of the national ID, A=10 ... in the Ministry's order. */
static int
twid_letter(char c)
{
	static const char order[] = "ABCDEFGHJKLMNPQRSTUVXYWZIO";
	const char *p;

	c = (char)toupper((unsigned char)c);
	if (c < 'A' || c > 'Z')
		return -1;
	p = strchr(order, c);
	return p == NULL ? -1 : 10 + (int)(p - order);
}

int
validate_twid(const char *s)
{
	int code, second, sum, i;

	if (strlen(s) != 10 || (code = twid_letter(s[0])) < 0)
		return 0;
	if (isdigit((unsigned char)s[1])) {
		if (s[1] != '1' && s[1] != '2' && s[1] != '8' && s[1] != '9')
			return 0;
		second = s[1] - '0';
	} else {
		int c2 = twid_letter(s[1]);
		char up = (char)toupper((unsigned char)s[1]);

		/* Old-style resident certificates: A-D as the second letter. */
		if (c2 < 0 || up < 'A' || up > 'D')
			return 0;
		second = c2 % 10;
	}
	for (i = 2; i < 10; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	sum = (code / 10) + (code % 10) * 9 + second * 8;
	for (i = 2; i < 9; i++)
		sum += (s[i] - '0') * (9 - i);
	sum += s[9] - '0';
	return sum % 10 == 0;
}

int
validate_ymd(int y, int m, int d)
{
	static const int days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap, max;

	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	max = days[m - 1] + (m == 2 && leap);
	return d <= max;
}

/* Reads n digits at s into *out; 0 when any is not a digit. */
static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int
plausible_birth_year(int y)
{
	return y >= 1900 && y <= 2100;
}

static int
roc_year(int y)
{
	return y >= 1 && y <= 150;
}

int
validate_date_like(const char *s)
{
	size_t n = strlen(s);
	int y, m, d;
	char sep;

	if (n == 8 && digits(s, 8, &y)) {
		/* YYYYMMDD, then MMDDYYYY and DDMMYYYY. */
		if (digits(s, 4, &y) && digits(s + 4, 2, &m) &&
		    digits(s + 6, 2, &d) && plausible_birth_year(y) &&
		    validate_ymd(y, m, d))
			return 1;
		if (digits(s, 2, &m) && digits(s + 2, 2, &d) &&
		    digits(s + 4, 4, &y) && plausible_birth_year(y) &&
		    validate_ymd(y, m, d))
			return 1;
		if (digits(s, 2, &d) && digits(s + 2, 2, &m) &&
		    digits(s + 4, 4, &y) && plausible_birth_year(y) &&
		    validate_ymd(y, m, d))
			return 1;
		return 0;
	}
	if (n == 7 && digits(s, 3, &y) && digits(s + 3, 2, &m) &&
	    digits(s + 5, 2, &d))
		return roc_year(y) && validate_ymd(y + 1911, m, d);
	if (n == 6 && digits(s, 2, &y) && digits(s + 2, 2, &m) &&
	    digits(s + 4, 2, &d))
		return roc_year(y) && validate_ymd(y + 1911, m, d);
	if (n == 10 && (s[4] == '-' || s[4] == '/' || s[4] == '.')) {
		sep = s[4];
		return s[7] == sep && digits(s, 4, &y) &&
		    digits(s + 5, 2, &m) && digits(s + 8, 2, &d) &&
		    plausible_birth_year(y) && validate_ymd(y, m, d);
	}
	if (n == 9 && (s[3] == '-' || s[3] == '/' || s[3] == '.')) {
		sep = s[3];
		return s[6] == sep && digits(s, 3, &y) &&
		    digits(s + 4, 2, &m) && digits(s + 7, 2, &d) &&
		    roc_year(y) && validate_ymd(y + 1911, m, d);
	}
	return 0;
}

enum validate_login_result
validate_login(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n > 32 ||
	    !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return VALIDATE_LOGIN_SHAPE;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || c == '.' || c == '_' ||
			c == '-'))
			return VALIDATE_LOGIN_SHAPE;
	}
	if (validate_twid(s))
		return VALIDATE_LOGIN_TWID;
	if (validate_date_like(s))
		return VALIDATE_LOGIN_DATE;
	return VALIDATE_LOGIN_OK;
}

const char *
validate_login_reason(enum validate_login_result r)
{
	switch (r) {
	case VALIDATE_LOGIN_OK: return "ok";
	case VALIDATE_LOGIN_SHAPE:
		return "a login name is 3 to 32 characters of a-z, 0-9, '.', "
		       "'_' and '-', starting with a letter or digit";
	case VALIDATE_LOGIN_TWID:
		return "a login name must not be a national ID or resident "
		       "certificate number (帳號不得使用身分證字號)";
	case VALIDATE_LOGIN_DATE:
		return "a login name must not be a date such as a birth date "
		       "(帳號不得使用生日)";
	default: return "invalid";
	}
}

long
validate_utf8_text(const char *s, size_t len, int allow_newlines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	long count = 0;

	while (i < len) {
		unsigned int c = p[i], cp;
		size_t n, k;

		if (c < 0x80) {
			if ((c < 0x20 || c == 0x7f) &&
			    !(allow_newlines &&
				(c == '\n' || c == '\r' || c == '\t')))
				return -1;
			i++;
			count++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return -1;
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		/* C1 controls and the bidirectional overrides that can make a
		 * name display as something else. */
		if ((cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return -1;
		i += n + 1;
		count++;
	}
	return count;
}

int
validate_line(const char *s, size_t maxchars)
{
	long n = validate_utf8_text(s, strlen(s), 0);

	return n >= 1 && (size_t)n <= maxchars;
}
