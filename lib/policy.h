/*
 * policy: the content rules of a new password (seeds/001 item 十二 (九):
 * at least eight characters, no national ID, school code, easily guessed
 * password or other public fact) and the blocklist they consult. It never
 * touches the database, logs or stores a password: age and history rules
 * are the caller's, and the caller wipes the password afterwards.
 */
#ifndef LICHENG_POLICY_H
#define LICHENG_POLICY_H

#include <stddef.h>

struct blocklist;

/* Loads a blocklist: one password per line, UTF-8, '#' starts a comment
 * line, blank lines ignored, trailing \r and spaces stripped; stored
 * lower-cased (ASCII letters), sorted and de-duplicated for binary search.
 * On error returns NULL with "path:line: reason" in err (invalid UTF-8 or a
 * control character, an entry over 128 bytes) or "path: reason" (cannot
 * open, not a regular file, over 16 MiB). The caller owns it and frees it
 * with blocklist_free. */
struct blocklist *blocklist_load(const char *path, char *err, size_t errlen);
void blocklist_free(struct blocklist *bl); /* accepts NULL */
size_t blocklist_count(const struct blocklist *bl);
/* 1/0; ASCII case-insensitive, trailing spaces ignored as in the file.
 * A NULL list contains nothing. */
int blocklist_contains(const struct blocklist *bl, const char *pw);

enum policy_result {
	POLICY_OK,
	POLICY_TOO_SHORT, /* fewer than min_length characters (code points) */
	POLICY_TOO_LONG, /* more than POLICY_MAX_CHARS (128) */
	POLICY_BAD_TEXT, /* not UTF-8, or holds control characters */
	POLICY_BLOCKLISTED, /* a common or easily guessed password */
	POLICY_HAS_LOGIN,
	POLICY_HAS_NAME,
	POLICY_HAS_NATIONAL_ID,
	POLICY_HAS_SCHOOL_CODE,
	POLICY_HAS_BIRTH_DATE,
	POLICY__MAX
};

struct policy_user {
	const char *login; /* may be NULL or "" when unknown */
	const char
	    *name; /* the person's name, e.g. "王小明" or "Chen Mei-Ling" */
	const char *school_code; /* e.g. "193301" */
	const char *birth_date; /* "YYYY-MM-DD" or NULL/"" */
	/* National IDs are stored only as an HMAC, so the policy cannot
	 * compare text: for each 10-character window of the password that is
	 * a valid national ID / resident certificate number (validate_twid,
	 * upper-cased), it asks this callback, which returns 1 when it is this
	 * user's (any other value is "not this user's"). NULL when the user
	 * has none. */
	int (*national_id_match)(void *arg, const char *candidate);
	void *arg;
};

#define POLICY_MAX_CHARS 128

/* Checks pw against the rules in this order: BAD_TEXT, TOO_SHORT, TOO_LONG,
 * HAS_LOGIN, HAS_NAME, HAS_NATIONAL_ID, HAS_SCHOOL_CODE, HAS_BIRTH_DATE,
 * BLOCKLISTED; returns the first that refuses it, or POLICY_OK. bl may be
 * NULL (only the built-in patterns apply); u may be NULL (no personal
 * facts). Allocates nothing. */
enum policy_result policy_check_password(const struct blocklist *bl,
    int min_length, const char *pw, const struct policy_user *u);

/* "too_short", "blocklisted", "has_login", ... (stable names used as
 * message keys "password.rule.<name>" and in audit details). */
const char *policy_result_name(enum policy_result r);

#endif
