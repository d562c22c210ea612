/*
 * issue: the one place that makes personal accounts and their one-time
 * activation codes (issue.h). A code leaves this file only in struct
 * issued, for the caller to print once; the database keeps its hash. It
 * never opens or commits a transaction and never writes an audit row: the
 * caller does both around the whole issuance.
 */
#include "issue.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "util.h"
#include "validate.h"

const char *
issue_login_refusal(struct db *db, const char *login, int *dberr)
{
	enum validate_login_result v = validate_login(login);
	struct db_param p[2];
	struct db_res *r;
	const char *why = NULL;

	*dberr = 0;
	if (v != VALIDATE_LOGIN_OK)
		return validate_login_reason(v);
	/* One round trip for both look-ups: the import calls this for each
	 * new teacher of a file. */
	p[0] = DB_STR(login);
	p[1] = DB_STR(login);
	r = db_query(db,
	    "SELECT EXISTS (SELECT 1 FROM schools WHERE code = ?), "
	    "EXISTS (SELECT 1 FROM users WHERE login = ?)",
	    p, 2);
	if (r == NULL || db_res_rows(r) != 1) {
		db_res_free(r);
		*dberr = -1;
		return NULL;
	}
	if (db_res_int(r, 0, 0) != 0)
		why = "a login name must not be a school code "
		      "(帳號不得使用學校代碼)";
	else if (db_res_int(r, 0, 1) != 0)
		why = "the login is taken by another account (此帳號已被使用)";
	db_res_free(r);
	return why;
}

/* A fresh code for login into out (code, expiry) and the stored form of
 * both: the code's hash and the expiry as DATETIME text. The expiry is
 * computed here, not by the server, so that what the letter says is what
 * the row holds. 0/-1. */
static int
issue_code(const char *login, struct issued *out, char hash[65],
    char when[sizeof("YYYY-MM-DD HH:MM:SS")])
{
	time_t t = time(NULL) + (time_t)ISSUE_CODE_DAYS * 24 * 3600;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof("YYYY-MM-DD HH:MM:SS"), "%Y-%m-%d %H:%M:%S",
		&tm) == 0 ||
	    strftime(out->expires, sizeof(out->expires), "%Y-%m-%d %H:%M UTC",
		&tm) == 0) {
		log_error("cannot format the expiry of a code");
		return -1;
	}
	if (ids_activation_code(out->code) != 0 ||
	    ids_code_hash(login, out->code, hash) != 0) {
		OPENSSL_cleanse(out->code, sizeof(out->code));
		return -1;
	}
	return 0;
}

int
issue_account_tx(struct db *db, uint64_t school_id, const char *role,
    const char *login, const char *name, const struct issue_facts *facts,
    struct issued *out)
{
	char hash[65], when[sizeof("YYYY-MM-DD HH:MM:SS")];
	struct db_param p[9];
	unsigned long long affected = 0, id = 0;
	const char *birth = facts != NULL ? facts->birth_date : NULL;
	const char *nid = facts != NULL ? facts->national_id_hmac : NULL;

	memset(out, 0, sizeof(*out));
	if (ids_public(out->public_id) != 0 ||
	    issue_code(login, out, hash, when) != 0)
		return -1;
	p[0] = DB_STR(out->public_id);
	p[1] = school_id != 0 ? DB_INT((long long)school_id) : DB_NULLP;
	p[2] = DB_STR(role);
	p[3] = DB_STR(login);
	p[4] = DB_STR(name);
	p[5] = birth != NULL ? DB_STR(birth) : DB_NULLP;
	p[6] = nid != NULL ? DB_STR(nid) : DB_NULLP;
	p[7] = DB_STR(hash);
	p[8] = DB_STR(when);
	if (db_exec(db,
		"INSERT INTO users (public_id, school_id, role, login, name, "
		"birth_date, national_id_hmac, status, activation_hash, "
		"activation_expires) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
		p, 9, &affected, &id) != 0 ||
	    affected != 1) {
		OPENSSL_cleanse(out->code, sizeof(out->code));
		return -1;
	}
	out->user_id = id;
	return 0;
}

int
issue_reissue_tx(
    struct db *db, uint64_t school_id, uint64_t user_id, struct issued *out)
{
	char hash[65], when[sizeof("YYYY-MM-DD HH:MM:SS")], login[33];
	struct db_param p[4];
	struct db_res *r;
	unsigned long long affected = 0;
	const char *status;

	memset(out, 0, sizeof(*out));
	p[0] = DB_INT((long long)user_id);
	p[1] = DB_INT((long long)school_id);
	p[2] = DB_INT((long long)school_id);
	r = db_query(db,
	    "SELECT login, status, public_id FROM users WHERE id = ? "
	    "AND (? = 0 OR school_id = ?) FOR UPDATE",
	    p, 3);
	if (r == NULL)
		return -1;
	status = db_res_rows(r) == 1 ? db_res_get(r, 0, 1) : NULL;
	if (status == NULL || strcmp(status, "disabled") == 0) {
		db_res_free(r);
		return 0;
	}
	if (str_copy(login, sizeof(login), db_res_get(r, 0, 0)) != 0 ||
	    str_copy(out->public_id, sizeof(out->public_id),
		db_res_get(r, 0, 2)) != 0) {
		log_error("user %llu: login or public id too long",
		    (unsigned long long)user_id);
		db_res_free(r);
		return -1;
	}
	db_res_free(r);
	if (issue_code(login, out, hash, when) != 0)
		return -1;
	/* The password goes with the old code: only the new code opens the
	 * account from now on. */
	p[0] = DB_STR(hash);
	p[1] = DB_STR(when);
	p[2] = DB_INT((long long)user_id);
	if (db_exec(db,
		"UPDATE users SET status = 'pending', activation_hash = ?, "
		"activation_expires = ?, password_hash = NULL WHERE id = ?",
		p, 3, &affected, NULL) != 0) {
		OPENSSL_cleanse(out->code, sizeof(out->code));
		return -1;
	}
	out->user_id = user_id;
	return 1;
}

int
issue_student_login(const char *student_no, char out[33])
{
	/* [a-z2-9] without the look-alikes i, l, o (0 and 1 are not there). */
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
	unsigned char rnd[4];
	size_t i, k, n = strlen(student_no);

	out[0] = '\0';
	if (n == 0 || n > 20 || student_no[0] == '-')
		return -1;
	for (i = 0; i < n; i++) {
		char c = student_no[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-'))
			return -1;
		out[i] = c;
	}
	out[n] = '-';
	/* Bytes of 248 and more are drawn again (248 = 8 * 31), so that every
	 * character is equally likely. */
	for (i = 0; i < 4;) {
		if (crypto_random(rnd, sizeof(rnd)) != 0)
			return -1;
		for (k = 0; k < sizeof(rnd) && i < 4; k++)
			if (rnd[k] < 248)
				out[n + 1 + i++] =
				    alphabet[rnd[k] % (sizeof(alphabet) - 1)];
	}
	out[n + 5] = '\0';
	if (validate_login(out) != VALIDATE_LOGIN_OK) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
