/*
 * issue: making personal accounts and their one-time activation codes — the
 * one place that does, for `licheng user add`, the CSV import and the
 * admins' re-issue. A code is shown once, at issuance (on a letter), and
 * stored only as its hash (ids_code_hash) with an expiry of
 * ISSUE_CODE_DAYS; a lost code is replaced by a re-issue, never shown again.
 * Every function runs inside the caller's open transaction and writes no
 * audit row itself (the caller audits the whole issuance once).
 */
#ifndef LICHENG_ISSUE_H
#define LICHENG_ISSUE_H

#include <stdint.h>

#include "ids.h"

struct db;

#define ISSUE_CODE_DAYS 14

/* What a new account carries besides its login, role and name. NULL
 * members are unknown. */
struct issue_facts {
	const char *birth_date; /* YYYY-MM-DD */
	const char *national_id_hmac; /* 64 hex (pii_twid_hmac) */
};

struct issued {
	uint64_t user_id;
	char public_id[IDS_PUBLIC_LEN + 1];
	char code[IDS_CODE_LEN + 1]; /* wipe after use */
	char expires[32]; /* "YYYY-MM-DD HH:MM UTC" */
};

/*
 * Why a login cannot be used: NULL when it can. Checks validate_login (the
 * shape, not a national ID, not a date), that it is not a school code, and
 * that no account has it. The reason is an English sentence with the
 * Chinese in brackets. -1 in *dberr on a database error (reason NULL).
 */
const char *issue_login_refusal(struct db *db, const char *login, int *dberr);

/* A new pending account (school_id 0 for central staff and auditors) with
 * a fresh activation code in *out. 0/-1. */
int issue_account_tx(struct db *db, uint64_t school_id, const char *role,
    const char *login, const char *name, const struct issue_facts *facts,
    struct issued *out);

/*
 * A fresh code for an existing account of school_id (0: any) that is not
 * disabled: the old code stops working; an active account becomes pending
 * again (its password is cleared, so only the new code opens it) and the
 * caller ends its sessions (session_destroy_user). 1 done, 0 when no such
 * account, -1 on error.
 */
int issue_reissue_tx(
    struct db *db, uint64_t school_id, uint64_t user_id, struct issued *out);

/* A student's generated login: the student number in lower case, '-' and
 * four random characters of [a-z2-9] without look-alikes ("110001-k7mp"),
 * so logins stay unique across schools and are not guessable from a class
 * list. -1 when the number does not make a valid login. */
int issue_student_login(const char *student_no, char out[33]);

#endif
