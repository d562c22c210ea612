/*
 * audit: appends rows to the hash-chained audit log and verifies the chain.
 * It owns the canonical form that is hashed, the lock order (audit_head
 * first, then the INSERT with an explicit id) and the verifier's verdicts.
 * It must never UPDATE or DELETE an audit_log row, never hash anything but
 * the exact text the database will hand back, and never let a field the
 * column would silently cut reach the INSERT.
 */
#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "util.h"

/* Rows read per verifier query: enough to keep round trips few, small
 * enough that a log of millions of rows never sits in memory at once. */
#define AUDIT_VERIFY_BATCH 1000

static const char audit_genesis[CRYPTO_SHA256_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static const char *const audit_roles[] = {
    "student",
    "teacher",
    "school_admin",
    "central_staff",
    "auditor",
    "operator",
    "system",
    "anonymous",
};

static const char *const audit_outcomes[] = {
    "success",
    "failure",
    "denied",
    "alert",
};

/* The columns the verifier reads, in the order the canonical form needs.
 * `at` is formatted by the server so that the text never depends on how the
 * client library renders a DATETIME(6) (it drops zero microseconds). */
enum audit_col {
	AUDIT_C_ID,
	AUDIT_C_AT,
	AUDIT_C_ACTOR,
	AUDIT_C_ROLE,
	AUDIT_C_SCHOOL,
	AUDIT_C_IP,
	AUDIT_C_EVENT,
	AUDIT_C_TARGET,
	AUDIT_C_OUTCOME,
	AUDIT_C_DETAIL,
	AUDIT_C_PREV_HASH,
	AUDIT_C_HASH,
	AUDIT_C__MAX
};

static int
audit_in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/*
 * Walks s as UTF-8 the way MariaDB's utf8mb4 accepts it (no overlongs,
 * surrogates or values past U+10FFFF). Returns the number of code points,
 * or -1 when s is malformed; *cut is set to the byte length of the longest
 * prefix of at most maxchars code points, which is where a too-long value
 * can be cut without splitting a character.
 */
static long
audit_utf8(const char *s, size_t maxchars, size_t *cut)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	long chars = 0;
	unsigned long cp;

	*cut = 0;
	while (p[i] != '\0') {
		if (p[i] < 0x80) {
			n = 1;
			cp = p[i];
		} else if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 2;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 3;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 4;
			cp = p[i] & 0x07;
		} else {
			return -1;
		}
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return -1;
		i += n;
		chars++;
		if ((size_t)chars <= maxchars)
			*cut = i;
	}
	return chars;
}

/* 1 when s is well-formed UTF-8 of 1..maxchars code points (0..maxchars
 * when empty_ok). */
static int
audit_field_ok(const char *s, size_t maxchars, int empty_ok)
{
	size_t cut;
	long n = audit_utf8(s, maxchars, &cut);

	return n >= (empty_ok ? 0 : 1) && (size_t)n <= maxchars;
}

int
audit_event_name_ok(const char *s)
{
	size_t i, n = strlen(s);
	int seg_start = 1;

	if (n == 0 || n > AUDIT_EVENT_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			/* No empty segment: "a..b" and "a." are refused. */
			if (seg_start)
				return 0;
			seg_start = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '_'))
			return 0;
		seg_start = 0;
	}
	return !seg_start;
}

/*
 * Checks ev against the columns and copies it into out, with ip NULL taken
 * as "" and a too-long target cut at a character boundary into *target_copy
 * (which the caller frees). Returns NULL when ev fits, else what is wrong.
 */
static const char *
audit_normalise(
    const struct audit_event *ev, struct audit_event *out, char **target_copy)
{
	size_t cut;
	long n;

	*out = *ev;
	*target_copy = NULL;
	if (out->ip == NULL)
		out->ip = "";
	if (ev->actor == NULL || !audit_field_ok(ev->actor, AUDIT_ACTOR_MAX, 0))
		return "actor: 1 to 64 characters of UTF-8";
	if (ev->role == NULL ||
	    !audit_in_list(ev->role, audit_roles, ARRAY_SIZE(audit_roles)))
		return "role: not one of the audit roles";
	if (ev->school != NULL &&
	    !audit_field_ok(ev->school, AUDIT_SCHOOL_MAX, 0))
		return "school: 1 to 32 characters of UTF-8, or NULL";
	if (!audit_field_ok(out->ip, AUDIT_IP_MAX, 1))
		return "ip: at most 45 characters";
	if (ev->event == NULL || !audit_event_name_ok(ev->event))
		return "event: not a valid event name";
	if (ev->outcome == NULL ||
	    !audit_in_list(
		ev->outcome, audit_outcomes, ARRAY_SIZE(audit_outcomes)))
		return "outcome: success, failure, denied or alert";
	if (ev->detail != NULL && ev->detail[0] != '{')
		return "detail: NULL or a JSON object";
	if (ev->target == NULL)
		return NULL;
	if ((n = audit_utf8(ev->target, AUDIT_TARGET_MAX, &cut)) < 0)
		return "target: not UTF-8";
	/* The audited action must not fail because what it concerns has a
	 * long name; the start of the name still says what. */
	if ((size_t)n > AUDIT_TARGET_MAX) {
		*target_copy = xstrndup(ev->target, cut);
		out->target = *target_copy;
	}
	return NULL;
}

/* The wall-clock time now in UTC as "YYYY-MM-DD HH:MM:SS.ffffff". */
static int
audit_now(char at[AUDIT_AT_LEN])
{
	struct timespec ts;
	struct tm tm;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL)
		return -1;
	n = snprintf(at, AUDIT_AT_LEN, "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000);
	return n == AUDIT_AT_LEN - 1 ? 0 : -1;
}

void
audit_canonical(struct buf *out, unsigned long long id, const char *at,
    const struct audit_event *ev)
{
	buf_printf(out, "{\"id\":%llu", id);
	buf_json_kv(out, "at", at);
	buf_json_kv(out, "actor", ev->actor);
	buf_json_kv(out, "role", ev->role);
	buf_json_kv(out, "school", ev->school);
	buf_json_kv(out, "ip", ev->ip);
	buf_json_kv(out, "event", ev->event);
	buf_json_kv(out, "target", ev->target);
	buf_json_kv(out, "outcome", ev->outcome);
	/* detail is already JSON; it is hashed as the exact text stored. */
	buf_puts(out, ",\"detail\":");
	buf_puts(out, ev->detail != NULL ? ev->detail : "null");
	buf_putc(out, '}');
}

static int
audit_is_hex64(const char *s)
{
	return s != NULL && hex_lower_is(s, CRYPTO_SHA256_HEX_LEN) &&
	    s[CRYPTO_SHA256_HEX_LEN] == '\0';
}

int
audit_row_hash(const char *prev_hash, unsigned long long id, const char *at,
    const struct audit_event *ev, char out[65])
{
	struct buf b;
	int rc;

	if (!audit_is_hex64(prev_hash)) {
		log_error("previous hash is not 64 hex digits");
		return -1;
	}
	buf_init(&b);
	buf_append(&b, prev_hash, CRYPTO_SHA256_HEX_LEN);
	buf_putc(&b, '\n');
	audit_canonical(&b, id, at, ev);
	rc = crypto_sha256_hex(b.data, b.len, out);
	buf_free(&b);
	return rc;
}

/* Parses a BIGINT UNSIGNED column's text; 0/-1. */
static int
audit_parse_id(const char *s, unsigned long long *out)
{
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

int
audit_append_tx(struct db *db, const struct audit_event *ev)
{
	struct audit_event e;
	struct db_param p[12];
	struct db_res *r = NULL;
	unsigned long long last_id, id, affected = 0;
	char at[AUDIT_AT_LEN], hash[CRYPTO_SHA256_HEX_LEN + 1];
	char prev[CRYPTO_SHA256_HEX_LEN + 1];
	char *target_copy = NULL;
	const char *why = NULL;
	int rc = -1;

	if ((why = audit_normalise(ev, &e, &target_copy)) != NULL)
		goto fail;
	/* The lock serialises every appender, in every process on every
	 * host, until the transaction ends: two writers can never both see
	 * the same last row and fork the chain. */
	r = db_query(db,
	    "SELECT last_id, last_hash, @@in_transaction FROM audit_head "
	    "WHERE id = 1 FOR UPDATE",
	    NULL, 0);
	if (r == NULL) {
		why = "locking the head failed";
		goto fail;
	}
	/* Under autocommit the lock would end with the SELECT: a writer
	 * could then commit a row and die before moving the head, and every
	 * later append would collide with that row's id. */
	if (db_res_rows(r) == 1 && db_res_int(r, 0, 2) != 1) {
		why = "called outside a transaction (db_begin first)";
		goto fail;
	}
	if (db_res_rows(r) != 1 ||
	    audit_parse_id(db_res_get(r, 0, 0), &last_id) != 0 ||
	    !audit_is_hex64(db_res_get(r, 0, 1))) {
		why = "audit_head has no valid row (run licheng migrate)";
		goto fail;
	}
	memcpy(prev, db_res_get(r, 0, 1), sizeof(prev));
	id = last_id + 1;
	/* The time is taken under the lock, so the ids and the times of a
	 * single host's rows rise together. */
	if (audit_now(at) != 0) {
		why = "reading the clock failed";
		goto fail;
	}
	if (audit_row_hash(prev, id, at, &e, hash) != 0) {
		why = "hashing the row failed";
		goto fail;
	}
	/* An explicit id bypasses AUTO_INCREMENT, whose values a rolled-back
	 * transaction would burn; under the head lock ids stay gapless. */
	p[0] = DB_INT((long long)id);
	p[1] = DB_STR(at);
	p[2] = DB_STR(e.actor);
	p[3] = DB_STR(e.role);
	p[4] = e.school != NULL ? DB_STR(e.school) : DB_NULLP;
	p[5] = DB_STR(e.ip);
	p[6] = DB_STR(e.event);
	p[7] = e.target != NULL ? DB_STR(e.target) : DB_NULLP;
	p[8] = DB_STR(e.outcome);
	p[9] = e.detail != NULL ? DB_STR(e.detail) : DB_NULLP;
	p[10] = DB_STR(prev);
	p[11] = DB_STR(hash);
	if (db_exec(db,
		"INSERT INTO audit_log (id, at, actor, role, school, ip, "
		"event, target, outcome, detail, prev_hash, hash) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p, 12, NULL, NULL) != 0) {
		why = "inserting the row failed";
		goto fail;
	}
	p[0] = DB_INT((long long)id);
	p[1] = DB_STR(hash);
	if (db_exec(db,
		"UPDATE audit_head SET last_id = ?, last_hash = ? "
		"WHERE id = 1",
		p, 2, &affected, NULL) != 0 ||
	    affected != 1) {
		why = "moving the head failed";
		goto fail;
	}
	rc = 0;
fail:
	if (rc != 0)
		log_error("%s (%s): %s", ev->event != NULL ? ev->event : "?",
		    ev->actor != NULL ? ev->actor : "?", why);
	db_res_free(r);
	free(target_copy);
	return rc;
}

int
audit_append(struct db *db, const struct audit_event *ev)
{
	if (db_begin(db) != 0)
		return -1;
	if (audit_append_tx(db, ev) != 0 || db_commit(db) != 0) {
		/* A failed rollback has been logged; the append has failed
		 * either way and the server drops the transaction. */
		(void)db_rollback(db);
		return -1;
	}
	return 0;
}

/* Where the verifier is between rows: the last good row's id and hash. */
struct audit_walk {
	unsigned long long prev_id;
	char prev_hash[CRYPTO_SHA256_HEX_LEN + 1];
};

/* Marks the chain broken at id with a reason. Returns 1, the verdict. */
static int audit_broken(struct audit_verify_result *res, unsigned long long id,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
audit_broken(struct audit_verify_result *res, unsigned long long id,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	res->bad_id = id;
	va_start(ap, fmt);
	n = vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	/* A cut reason still names the row first. */
	if (n < 0)
		res->reason[0] = '\0';
	return 1;
}

/*
 * Checks one row of a verifier batch against the walk so far, in the order
 * that names the most specific cause: its own content first (an edit), then
 * the id sequence (a deletion), then the link to the row before it (a row
 * inserted or replaced). 0 when the row is good, 1 when it breaks the chain.
 */
static int
audit_check_row(const struct db_res *r, size_t row, struct audit_walk *w,
    struct audit_verify_result *res)
{
	struct audit_event e;
	const char *v[AUDIT_C__MAX];
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	unsigned long long id;
	size_t i;

	for (i = 0; i < AUDIT_C__MAX; i++)
		v[i] = db_res_get(r, row, i);
	if (audit_parse_id(v[AUDIT_C_ID], &id) != 0)
		return audit_broken(res, w->prev_id + 1,
		    "row after %llu: unreadable id", w->prev_id);
	/* A NUL byte hidden in a column would end the C string early and
	 * hide whatever follows it from the hash. */
	for (i = 0; i < AUDIT_C__MAX; i++)
		if (v[i] != NULL && strlen(v[i]) != db_res_len(r, row, i))
			return audit_broken(res, id,
			    "row %llu: a field holds a NUL byte (edited)", id);
	if (v[AUDIT_C_AT] == NULL || v[AUDIT_C_ACTOR] == NULL ||
	    v[AUDIT_C_ROLE] == NULL || v[AUDIT_C_IP] == NULL ||
	    v[AUDIT_C_EVENT] == NULL || v[AUDIT_C_OUTCOME] == NULL ||
	    !audit_is_hex64(v[AUDIT_C_PREV_HASH]) ||
	    !audit_is_hex64(v[AUDIT_C_HASH]))
		return audit_broken(
		    res, id, "row %llu: malformed columns (edited)", id);
	e.actor = v[AUDIT_C_ACTOR];
	e.role = v[AUDIT_C_ROLE];
	e.school = v[AUDIT_C_SCHOOL];
	e.ip = v[AUDIT_C_IP];
	e.event = v[AUDIT_C_EVENT];
	e.target = v[AUDIT_C_TARGET];
	e.outcome = v[AUDIT_C_OUTCOME];
	e.detail = v[AUDIT_C_DETAIL];
	if (audit_row_hash(v[AUDIT_C_PREV_HASH], id, v[AUDIT_C_AT], &e, hash) !=
	    0)
		return -1;
	if (strcmp(hash, v[AUDIT_C_HASH]) != 0)
		return audit_broken(res, id,
		    "row %llu: content does not match its hash (edited)", id);
	if (id != w->prev_id + 1) {
		if (id == w->prev_id + 2)
			return audit_broken(res, id,
			    "row %llu: id follows %llu (row %llu was deleted)",
			    id, w->prev_id, w->prev_id + 1);
		return audit_broken(res, id,
		    "row %llu: id follows %llu (rows %llu to %llu were "
		    "deleted)",
		    id, w->prev_id, w->prev_id + 1, id - 1);
	}
	if (strcmp(v[AUDIT_C_PREV_HASH], w->prev_hash) != 0) {
		if (w->prev_id == 0)
			return audit_broken(res, id,
			    "row %llu: previous hash is not the genesis hash "
			    "(a row was deleted or inserted before it)",
			    id);
		return audit_broken(res, id,
		    "row %llu: previous hash does not match row %llu (a row "
		    "was deleted or inserted before it)",
		    id, w->prev_id);
	}
	w->prev_id = id;
	memcpy(w->prev_hash, v[AUDIT_C_HASH], sizeof(w->prev_hash));
	return 0;
}

/* Compares the head row with the end of the walk. 0 or 1. */
static int
audit_check_head(const struct db_res *head, const struct audit_walk *w,
    struct audit_verify_result *res)
{
	unsigned long long last_id;
	const char *last_hash;

	if (db_res_rows(head) != 1)
		return audit_broken(res, w->prev_id + 1,
		    "the head row is missing (audit_head was emptied)");
	last_hash = db_res_get(head, 0, 1);
	if (audit_parse_id(db_res_get(head, 0, 0), &last_id) != 0 ||
	    !audit_is_hex64(last_hash))
		return audit_broken(
		    res, w->prev_id + 1, "the head row is malformed (edited)");
	if (last_id > w->prev_id)
		return audit_broken(res, w->prev_id + 1,
		    "head says last id %llu but the last row is %llu (rows "
		    "deleted at the end)",
		    last_id, w->prev_id);
	if (last_id < w->prev_id)
		return audit_broken(res, last_id + 1,
		    "head says last id %llu but the last row is %llu (rows "
		    "inserted at the end)",
		    last_id, w->prev_id);
	if (strcmp(last_hash, w->prev_hash) != 0)
		return audit_broken(res, w->prev_id,
		    "head's last hash does not match row %llu (the last row "
		    "was replaced)",
		    w->prev_id);
	return 0;
}

/* The walk itself, inside the verifier's snapshot. 0, 1 or -1. */
static int
audit_walk_chain(struct db *db, struct audit_verify_result *res)
{
	struct audit_walk w;
	struct db_param p[2];
	struct db_res *head, *r;
	size_t i, n;
	int rc;

	/* The head is read first; the snapshot keeps the rows read after
	 * it from including anything committed since. */
	head = db_query(db,
	    "SELECT last_id, last_hash FROM audit_head WHERE id = 1", NULL, 0);
	if (head == NULL)
		return -1;
	w.prev_id = 0;
	memcpy(w.prev_hash, audit_genesis, sizeof(w.prev_hash));
	for (;;) {
		p[0] = DB_INT((long long)w.prev_id);
		p[1] = DB_INT(AUDIT_VERIFY_BATCH);
		r = db_query(db,
		    "SELECT id, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), "
		    "actor, role, school, ip, event, target, outcome, detail, "
		    "prev_hash, hash FROM audit_log WHERE id > ? "
		    "ORDER BY id LIMIT ?",
		    p, 2);
		if (r == NULL) {
			db_res_free(head);
			return -1;
		}
		n = db_res_rows(r);
		for (i = 0; i < n; i++) {
			res->rows++;
			if ((rc = audit_check_row(r, i, &w, res)) != 0) {
				db_res_free(r);
				db_res_free(head);
				return rc;
			}
		}
		db_res_free(r);
		if (n < AUDIT_VERIFY_BATCH)
			break;
	}
	rc = audit_check_head(head, &w, res);
	db_res_free(head);
	return rc;
}

int
audit_verify(struct db *db, struct audit_verify_result *res)
{
	int rc;

	memset(res, 0, sizeof(*res));
	/* One transaction is one consistent snapshot (REPEATABLE READ):
	 * appends committed while the walk runs are neither half seen nor
	 * mistaken for rows the head does not know. */
	if (db_begin(db) != 0)
		return -1;
	rc = audit_walk_chain(db, res);
	/* Nothing was written; ending the snapshot cannot lose anything. */
	if (db_rollback(db) != 0 && rc == 0)
		rc = -1;
	if (rc < 0)
		log_error("verifying the audit chain failed after %llu rows",
		    res->rows);
	return rc;
}
