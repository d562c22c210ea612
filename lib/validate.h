/*
 * validate: small, pure checks of untrusted text — Taiwanese national ID and
 * resident certificate numbers, dates, login names. Nothing here allocates,
 * logs or touches a server; each function answers yes or no (or a reason).
 */
#ifndef LICHENG_VALIDATE_H
#define LICHENG_VALIDATE_H

#include <stddef.h>

/* 1 when s is a Taiwanese national ID (A123456789), a new-style resident
 * certificate number (A800000014) or an old-style one (AB12345678) with a
 * valid check digit; letters may be lower case. */
int validate_twid(const char *s);

/* 1 when s reads as a calendar date in a form people use for birth dates:
 * YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, ROC YYYMMDD / YYMMDD and
 * YYY-MM-DD (民國 years 1..150), MMDDYYYY, DDMMYYYY. */
int validate_date_like(const char *s);

/* 1 when s is a valid Gregorian date y-m-d. */
int validate_ymd(int y, int m, int d);

enum validate_login_result {
	VALIDATE_LOGIN_OK,
	VALIDATE_LOGIN_SHAPE, /* not 3..32 of [a-z0-9._-], starting a-z0-9 */
	VALIDATE_LOGIN_TWID, /* a national ID / resident certificate */
	VALIDATE_LOGIN_DATE, /* a date, e.g. a birth date */
	VALIDATE_LOGIN__MAX
};

/* The shape and public-fact checks of a login name; comparing with school
 * codes needs the database and is the caller's. */
enum validate_login_result validate_login(const char *s);
const char *validate_login_reason(enum validate_login_result r);

/* Counts the code points of s when it is well-formed UTF-8 (no overlongs,
 * surrogates or values past U+10FFFF) without control characters other
 * than those allowed by allow_newlines (\n, \r, \t). -1 when it is not. */
long validate_utf8_text(const char *s, size_t len, int allow_newlines);

/* 1 when s is 1..maxchars code points of single-line text. */
int validate_line(const char *s, size_t maxchars);
#endif
