/*
 * letters: batches of activation letters kept sealed for the admin to print
 * (letters.h). The plain list exists only in memory, in buffers sized once
 * and wiped before they are freed, so that no copy of a code is left behind
 * in freed memory; the database holds it sealed under keys.data, bound to
 * its batch by the aad "letters:<public_id>", until it is wiped. Every look-up
 * is scoped by school_id.
 *
 * The sealed list is one line per letter, fields separated by TAB: role,
 * login, name, student number, class name, seat number, code, expiry. A
 * field never holds a TAB or a line break (control characters are written
 * as spaces), so the format needs no quoting.
 */
#include "letters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db.h"
#include "log.h"
#include "util.h"

/* The payload column is a MEDIUMBLOB. */
#define LETTERS_SEALED_MAX (16u * 1024 * 1024 - 1)
#define LETTERS_FIELDS 8

/* "letters:<public_id>" into aad (at least 64 bytes). */
static void
letters_aad(const char *public_id, char aad[64])
{
	(void)snprintf(aad, 64, "letters:%s", public_id);
}

/* The fields of l as text, in the order of the format; seat into seat. */
static void
letters_fields(
    const struct letter *l, char seat[12], const char *f[LETTERS_FIELDS])
{
	(void)snprintf(seat, 12, "%d", l->seat_no);
	f[0] = l->role;
	f[1] = l->login;
	f[2] = l->name;
	f[3] = l->student_no;
	f[4] = l->class_name;
	f[5] = seat;
	f[6] = l->code;
	f[7] = l->expires;
}

/* The plain list into a new buffer of exactly *len bytes (the caller wipes
 * and frees it). */
static char *
letters_encode(const struct letter *l, size_t n, size_t *len)
{
	const char *f[LETTERS_FIELDS];
	char seat[12], *out, *o;
	size_t i, j, total = 0;

	for (i = 0; i < n; i++) {
		letters_fields(&l[i], seat, f);
		for (j = 0; j < LETTERS_FIELDS; j++)
			total += strlen(f[j]) + 1;
	}
	out = xmalloc(total + 1);
	o = out;
	for (i = 0; i < n; i++) {
		letters_fields(&l[i], seat, f);
		for (j = 0; j < LETTERS_FIELDS; j++) {
			const char *s;

			for (s = f[j]; *s != '\0'; s++)
				*o++ = (unsigned char)*s < 0x20 ? ' ' : *s;
			*o++ = j + 1 < LETTERS_FIELDS ? '\t' : '\n';
		}
	}
	*len = total;
	return out;
}

int
letters_create_tx(struct db *db, const unsigned char key[CRYPTO_KEY_LEN],
    uint64_t school_id, uint64_t created_by, const char *actor, int keep_hours,
    const struct letter *l, size_t n, char public_id[IDS_PUBLIC_LEN + 1])
{
	char aad[64], *plain;
	unsigned char *sealed;
	size_t plen, slen = 0;
	struct db_param p[7];
	int rc = -1;

	if (ids_public(public_id) != 0)
		return -1;
	plain = letters_encode(l, n, &plen);
	if (plen + CRYPTO_SEAL_OVERHEAD > LETTERS_SEALED_MAX) {
		log_error("%zu letters make %zu bytes, more than a batch holds "
			  "(%u): import fewer rows at a time",
		    n, plen, LETTERS_SEALED_MAX);
		OPENSSL_cleanse(plain, plen);
		free(plain);
		return -1;
	}
	sealed = xmalloc(plen + CRYPTO_SEAL_OVERHEAD);
	letters_aad(public_id, aad);
	if (crypto_seal(key, aad, plain, plen, sealed,
		plen + CRYPTO_SEAL_OVERHEAD, &slen) != 0)
		goto out;
	p[0] = DB_STR(public_id);
	p[1] = DB_INT((long long)school_id);
	p[2] = DB_INT((long long)n);
	p[3] = DB_BLOB(sealed, slen);
	p[4] = created_by != 0 ? DB_INT((long long)created_by) : DB_NULLP;
	p[5] = DB_STR(actor);
	p[6] = DB_INT(keep_hours);
	rc = db_exec(db,
	    "INSERT INTO letter_batches (public_id, school_id, letters, "
	    "payload, created_by, created_by_actor, expires_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? HOUR)",
	    p, 7, NULL, NULL);
out:
	OPENSSL_cleanse(plain, plen);
	free(plain);
	free(sealed);
	return rc;
}

/* Copies the field [s, e) into dst of size n; -1 when it does not fit. */
static int
letters_field(char *dst, size_t n, const char *s, const char *e)
{
	if ((size_t)(e - s) >= n)
		return -1;
	memcpy(dst, s, (size_t)(e - s));
	dst[e - s] = '\0';
	return 0;
}

/* Parses one line [s, e) into l. 0/-1. */
static int
letters_decode_line(const char *s, const char *e, struct letter *l)
{
	const char *f[LETTERS_FIELDS + 1];
	char seat[12], *end;
	size_t k = 0;
	long v;
	const char *q;

	f[k++] = s;
	for (q = s; q < e; q++) {
		if (*q != '\t')
			continue;
		if (k == LETTERS_FIELDS)
			return -1;
		f[k++] = q + 1;
	}
	if (k != LETTERS_FIELDS)
		return -1;
	f[LETTERS_FIELDS] = e + 1;
#define FIELD(i, dst) letters_field(dst, sizeof(dst), f[i], f[(i) + 1] - 1)
	if (FIELD(0, l->role) || FIELD(1, l->login) || FIELD(2, l->name) ||
	    FIELD(3, l->student_no) || FIELD(4, l->class_name) ||
	    FIELD(5, seat) || FIELD(6, l->code) || FIELD(7, l->expires))
		return -1;
#undef FIELD
	v = strtol(seat, &end, 10);
	if (*end != '\0' || v < 0 || v > 99)
		return -1;
	l->seat_no = (int)v;
	return 0;
}

/* The opened list plain[0..len) into n letters. 0/-1. */
static int
letters_decode(const char *plain, size_t len, struct letter *l, size_t n)
{
	const char *s = plain, *end = plain + len, *e;
	size_t i;

	for (i = 0; i < n; i++) {
		e = memchr(s, '\n', (size_t)(end - s));
		if (e == NULL || letters_decode_line(s, e, &l[i]) != 0)
			return -1;
		s = e + 1;
	}
	return s == end ? 0 : -1;
}

int
letters_load(struct db *db, const unsigned char key[CRYPTO_KEY_LEN],
    uint64_t school_id, const char *public_id, struct letter **out, size_t *n,
    char created[20], char expires[20])
{
	struct db_param p[2];
	struct db_res *r;
	struct letter *l = NULL;
	unsigned char *plain = NULL;
	char aad[64];
	size_t count, slen, plen = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (!ids_public_valid(public_id))
		return LETTERS_MISSING;
	p[0] = DB_STR(public_id);
	p[1] = DB_INT((long long)school_id);
	r = db_query(db,
	    "SELECT letters, payload, DATE_FORMAT(created_at, "
	    "'%Y-%m-%d %H:%i'), DATE_FORMAT(expires_at, '%Y-%m-%d %H:%i'), "
	    "expires_at > UTC_TIMESTAMP(6) AND destroyed_at IS NULL "
	    "FROM letter_batches WHERE public_id = ? AND school_id = ?",
	    p, 2);
	if (r == NULL)
		return -1;
	if (db_res_rows(r) != 1) {
		rc = LETTERS_MISSING;
		goto out;
	}
	(void)str_copy(created, 20, db_res_get(r, 0, 2));
	(void)str_copy(expires, 20, db_res_get(r, 0, 3));
	if (db_res_get(r, 0, 1) == NULL || db_res_int(r, 0, 4) != 1) {
		rc = LETTERS_GONE;
		goto out;
	}
	count = (size_t)db_res_int(r, 0, 0);
	slen = db_res_len(r, 0, 1);
	if (slen < CRYPTO_SEAL_OVERHEAD) {
		log_error("letter batch %s: a sealed list of %zu bytes",
		    public_id, slen);
		goto out;
	}
	plain = xmalloc(slen);
	letters_aad(public_id, aad);
	if (crypto_open(key, aad, (const unsigned char *)db_res_get(r, 0, 1),
		slen, plain, slen, &plen) != 0) {
		log_error("letter batch %s: the sealed list does not open "
			  "(keys.data changed, or the row was altered)",
		    public_id);
		goto out;
	}
	l = xcalloc(count ? count : 1, sizeof(*l));
	if (letters_decode((const char *)plain, plen, l, count) != 0) {
		log_error("letter batch %s: the list does not read as %zu "
			  "letters",
		    public_id, count);
		letters_free(l, count);
		goto out;
	}
	*out = l;
	*n = count;
	rc = LETTERS_READY;
out:
	if (plain != NULL) {
		OPENSSL_cleanse(plain, slen);
		free(plain);
	}
	db_res_free(r);
	return rc;
}

void
letters_free(struct letter *l, size_t n)
{
	if (l == NULL)
		return;
	OPENSSL_cleanse(l, (n ? n : 1) * sizeof(*l));
	free(l);
}

int
letters_destroy_tx(struct db *db, uint64_t school_id, const char *public_id)
{
	struct db_param p[2];
	unsigned long long affected = 0;

	if (!ids_public_valid(public_id))
		return 0;
	p[0] = DB_STR(public_id);
	p[1] = DB_INT((long long)school_id);
	if (db_exec(db,
		"UPDATE letter_batches SET payload = NULL, destroyed_at = "
		"UTC_TIMESTAMP(6) WHERE public_id = ? AND school_id = ? AND "
		"payload IS NOT NULL",
		p, 2, &affected, NULL) != 0)
		return -1;
	return affected > 0 ? 1 : 0;
}

long
letters_expire(struct db *db)
{
	unsigned long long affected = 0;

	if (db_exec(db,
		"UPDATE letter_batches SET payload = NULL WHERE payload IS "
		"NOT NULL AND expires_at <= UTC_TIMESTAMP(6)",
		NULL, 0, &affected, NULL) != 0)
		return -1;
	return (long)affected;
}
