/*
 * audit: the one writer and the one verifier of the hash-chained audit log.
 * Every row is appended with INSERT under the lock of the audit_head row,
 * carrying SHA-256 over the previous row's hash and its own canonical JSON,
 * so that an edited, deleted or inserted row breaks the chain. It must never
 * UPDATE or DELETE a row of audit_log, nor write one outside that lock.
 */
#ifndef LICHENG_AUDIT_H
#define LICHENG_AUDIT_H

#include "util.h"

struct db;

/* The column widths of audit_log, in characters. */
#define AUDIT_ACTOR_MAX 64
#define AUDIT_ROLE_MAX 32
#define AUDIT_SCHOOL_MAX 32
#define AUDIT_IP_MAX 45
#define AUDIT_EVENT_MAX 64
#define AUDIT_TARGET_MAX 191
#define AUDIT_OUTCOME_MAX 16
/* "YYYY-MM-DD HH:MM:SS.ffffff" and its NUL. */
#define AUDIT_AT_LEN 27

struct audit_event {
	/* The user's login, or "cli:<unix user>", or "system". */
	const char *actor;
	/* student, teacher, school_admin, central_staff, auditor, operator,
	 * system or anonymous. */
	const char *role;
	/* The school's code, or NULL. */
	const char *school;
	/* The client's address; "" when not from the web (NULL reads as ""). */
	const char *ip;
	/* "login.success", "alert.ip_blocked", ...: see audit_event_name_ok. */
	const char *event;
	/* What it concerns ("user:<login>"), or NULL. */
	const char *target;
	/* "success", "failure", "denied" or "alert". */
	const char *outcome;
	/* NULL, or the text of a JSON object built with buf_json_*. */
	const char *detail;
};

/* Appends ev inside the caller's open transaction (db_begin already
 * called): locks the head row (SELECT last_id, last_hash FROM audit_head
 * WHERE id = 1 FOR UPDATE), inserts the row with the explicit id last_id + 1
 * and the time now (UTC, microseconds, "YYYY-MM-DD HH:MM:SS.ffffff" — the
 * text MariaDB returns for DATETIME(6)), computes its hash, and updates the
 * head. The change that is audited and its audit row then commit together.
 * A target longer than its column is cut at a UTF-8 boundary; any other
 * field that does not fit, or is not UTF-8, fails, and so does a call with
 * no transaction open. 0/-1 (logged once). */
int audit_append_tx(struct db *db, const struct audit_event *ev);
/* The same in its own transaction (begin, append, commit; rollback on
 * failure). */
int audit_append(struct db *db, const struct audit_event *ev);

/* The canonical JSON of a row, appended to out:
 * {"id":N,"at":"...","actor":"...","role":"...","school":"..."|null,
 * "ip":"...","event":"...","target":"..."|null,"outcome":"...",
 * "detail":<detail text verbatim>|null} — keys in this order, strings
 * escaped with buf_json_str. */
void audit_canonical(struct buf *out, unsigned long long id, const char *at,
    const struct audit_event *ev);
/* hash = hex SHA-256 of prev_hash (64 hex) followed by '\n' and the
 * canonical JSON. 0/-1. */
int audit_row_hash(const char *prev_hash, unsigned long long id, const char *at,
    const struct audit_event *ev, char out[65]);

struct audit_verify_result {
	/* Rows checked, the bad one included. */
	unsigned long long rows;
	/* The first bad row's id; 0 when the chain is whole. */
	unsigned long long bad_id;
	/* "row 42: content does not match its hash (edited)", "row 42: id
	 * follows 40 (row 41 was deleted)", "head says last id 90 but the
	 * last row is 88 (rows deleted at the end)", ... */
	char reason[160];
};

/* Walks the chain in id order, in batches, from the genesis hash (64 '0')
 * inside one consistent snapshot, checking each row's content hash, its
 * prev_hash link, id continuity, and finally the head row. 0 when whole, 1
 * when broken (res says where), -1 on a database error. Needs SELECT on
 * audit_log and audit_head (the DB_AUDIT account). */
int audit_verify(struct db *db, struct audit_verify_result *res);

/* 1 when s is a valid event name ([a-z][a-z0-9_]*(\.[a-z0-9_]+)*, at most
 * 64 bytes). */
int audit_event_name_ok(const char *s);

#endif
