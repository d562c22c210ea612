/*
 * review: a school's account review and the sweep of graduated and
 * departed students' accounts (see review.h). Each change and its audit row
 * commit together; the filters of the listing bind to fixed SQL fragments,
 * never to text built from a value. It never touches a national ID, and
 * never acts on an account outside the school it was given.
 */
#include "review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "csv.h"
#include "db.h"
#include "import.h"
#include "letters.h"
#include "log.h"
#include "session.h"

/* --------------------------------------------------------------- listing */

/* Days without a sign-in, counted from the account's creation when it
 * never signed in. */
#define REVIEW_IDLE_SQL                                                        \
	"TIMESTAMPDIFF(DAY, COALESCE(u.last_login_at, u.created_at), "         \
	"UTC_TIMESTAMP(6))"

static const char review_from_sql[] =
    " FROM users u LEFT JOIN students st ON st.user_id = u.id AND "
    "st.school_id = u.school_id LEFT JOIN teachers t ON t.user_id = u.id "
    "AND t.school_id = u.school_id LEFT JOIN users d ON d.id = "
    "u.disabled_by WHERE u.school_id = ?";

/* The two ? of the columns are the grace period in days. */
static const char review_cols_sql[] =
    "SELECT u.public_id, u.role, u.login, u.name, u.status, "
    "DATE_FORMAT(u.created_at, '%Y-%m-%d'), "
    "COALESCE(DATE_FORMAT(u.last_login_at, '%Y-%m-%d %H:%i'), "
    "''), " REVIEW_IDLE_SQL ", COALESCE(st.student_no, ''), "
    "COALESCE(CONCAT('student_', st.status), CONCAT('teacher_', t.status), "
    "''), "
    "IF(st.status IN ('graduated', 'left') AND u.status <> 'disabled', "
    "DATE_FORMAT(st.status_changed_at + INTERVAL ? DAY, '%Y-%m-%d'), ''), "
    "st.status IN ('graduated', 'left') AND u.status <> 'disabled' AND "
    "st.status_changed_at + INTERVAL ? DAY <= UTC_TIMESTAMP(6), "
    "COALESCE(DATE_FORMAT(u.disabled_at, '%Y-%m-%d %H:%i'), ''), "
    "COALESCE(d.login, ''), "
    "u.status = 'disabled' AND u.disabled_at IS NOT NULL AND "
    "u.disabled_by IS NULL, COALESCE(u.disabled_reason, '')";

/* The WHERE clause of a filter and its values, after school_id. */
struct review_where {
	struct buf sql;
	struct db_param p[8];
	size_t np;
};

static void
review_where_build(
    uint64_t school_id, const struct review_filter *f, struct review_where *w)
{
	buf_init(&w->sql);
	buf_puts(&w->sql, review_from_sql);
	w->np = 0;
	w->p[w->np++] = DB_INT((long long)school_id);
	if (f->role != NULL) {
		buf_puts(&w->sql, " AND u.role = ?");
		w->p[w->np++] = DB_STR(f->role);
	}
	if (f->status != NULL) {
		buf_puts(&w->sql, " AND u.status = ?");
		w->p[w->np++] = DB_STR(f->status);
	}
	if (f->inactive_days > 0) {
		buf_puts(&w->sql, " AND " REVIEW_IDLE_SQL " >= ?");
		w->p[w->np++] = DB_INT(f->inactive_days);
	}
}

static int
review_row_fill(const struct db_res *res, size_t i, struct review_row *row)
{
	memset(row, 0, sizeof(*row));
	row->days_inactive = (long)db_res_int(res, i, 7);
	row->overdue = db_res_int(res, i, 11) != 0;
	row->disabled_auto = db_res_int(res, i, 14) != 0;
	if (str_copy(row->public_id, sizeof(row->public_id),
		db_res_get(res, i, 0)) != 0 ||
	    str_copy(row->role, sizeof(row->role), db_res_get(res, i, 1)) !=
		0 ||
	    str_copy(row->login, sizeof(row->login), db_res_get(res, i, 2)) !=
		0 ||
	    str_copy(row->name, sizeof(row->name), db_res_get(res, i, 3)) !=
		0 ||
	    str_copy(row->status, sizeof(row->status), db_res_get(res, i, 4)) !=
		0 ||
	    str_copy(row->created, sizeof(row->created),
		db_res_get(res, i, 5)) != 0 ||
	    str_copy(row->last_login, sizeof(row->last_login),
		db_res_get(res, i, 6)) != 0 ||
	    str_copy(row->student_no, sizeof(row->student_no),
		db_res_get(res, i, 8)) != 0 ||
	    str_copy(row->record_status, sizeof(row->record_status),
		db_res_get(res, i, 9)) != 0 ||
	    str_copy(row->disable_on, sizeof(row->disable_on),
		db_res_get(res, i, 10)) != 0 ||
	    str_copy(row->disabled_at, sizeof(row->disabled_at),
		db_res_get(res, i, 12)) != 0 ||
	    str_copy(row->disabled_by, sizeof(row->disabled_by),
		db_res_get(res, i, 13)) != 0 ||
	    str_copy(row->disabled_reason, sizeof(row->disabled_reason),
		db_res_get(res, i, 15)) != 0) {
		log_error("account row %zu does not fit its fields", i);
		return -1;
	}
	return 0;
}

int
review_list(struct db *db, uint64_t school_id, const struct review_filter *f,
    int grace_days, struct review_list *out)
{
	struct review_where w;
	struct db_param p[16];
	struct buf sql;
	struct db_res *res;
	size_t i, np = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	review_where_build(school_id, f, &w);
	buf_init(&sql);
	buf_puts(&sql, "SELECT COUNT(*)");
	buf_puts(&sql, w.sql.data);
	if ((res = db_query(db, sql.data, w.p, w.np)) == NULL)
		goto out;
	out->total = db_res_int(res, 0, 0);
	db_res_free(res);

	buf_reset(&sql);
	buf_puts(&sql, review_cols_sql);
	buf_puts(&sql, w.sql.data);
	/* Admins first, then teachers, then students: the order of the
	 * roles' rights. */
	buf_puts(&sql,
	    " ORDER BY FIELD(u.role, 'school_admin', 'teacher', 'student'), "
	    "u.login");
	p[np++] = DB_INT(grace_days);
	p[np++] = DB_INT(grace_days);
	for (i = 0; i < w.np; i++)
		p[np++] = w.p[i];
	if (f->page > 0) {
		buf_puts(&sql, " LIMIT ? OFFSET ?");
		p[np++] = DB_INT(REVIEW_PAGE_SIZE);
		p[np++] = DB_INT((long long)(f->page - 1) * REVIEW_PAGE_SIZE);
	}
	if ((res = db_query(db, sql.data, p, np)) == NULL)
		goto out;
	out->rows = xcalloc(db_res_rows(res) + 1, sizeof(*out->rows));
	for (i = 0; i < db_res_rows(res); i++) {
		if (review_row_fill(res, i, &out->rows[i]) != 0) {
			db_res_free(res);
			review_list_free(out);
			goto out;
		}
		out->n++;
	}
	db_res_free(res);
	rc = 0;
out:
	buf_free(&sql);
	buf_free(&w.sql);
	return rc;
}

void
review_list_free(struct review_list *l)
{
	if (l == NULL)
		return;
	free(l->rows);
	memset(l, 0, sizeof(*l));
}

static const char *const review_cols[REVIEW_COL__MAX] = {
    [REVIEW_COL_ROLE] = "role",
    [REVIEW_COL_LOGIN] = "login",
    [REVIEW_COL_NAME] = "name",
    [REVIEW_COL_STUDENT_NO] = "student_no",
    [REVIEW_COL_STATUS] = "status",
    [REVIEW_COL_CREATED] = "created",
    [REVIEW_COL_LAST_LOGIN] = "last_login",
    [REVIEW_COL_DAYS_INACTIVE] = "days_inactive",
    [REVIEW_COL_RECORD_STATUS] = "record_status",
    [REVIEW_COL_DISABLE_ON] = "disable_on",
    [REVIEW_COL_DISABLED_AT] = "disabled_at",
    [REVIEW_COL_DISABLED_REASON] = "disabled_reason",
};

const char *
review_col_name(enum review_col c)
{
	return c < REVIEW_COL__MAX ? review_cols[c] : "";
}

const char *
review_col_code(enum review_col c)
{
	switch (c) {
	case REVIEW_COL_ROLE: return "role.";
	case REVIEW_COL_STATUS: return "review.status.";
	case REVIEW_COL_RECORD_STATUS: return "review.record.";
	default: return NULL;
	}
}

const char *
review_cell(const struct review_row *row, enum review_col c, char tmp[24])
{
	switch (c) {
	case REVIEW_COL_ROLE: return row->role;
	case REVIEW_COL_LOGIN: return row->login;
	case REVIEW_COL_NAME: return row->name;
	case REVIEW_COL_STUDENT_NO: return row->student_no;
	case REVIEW_COL_STATUS: return row->status;
	case REVIEW_COL_CREATED: return row->created;
	case REVIEW_COL_LAST_LOGIN: return row->last_login;
	case REVIEW_COL_DAYS_INACTIVE:
		snprintf(tmp, 24, "%ld", row->days_inactive);
		return tmp;
	case REVIEW_COL_RECORD_STATUS: return row->record_status;
	case REVIEW_COL_DISABLE_ON: return row->disable_on;
	case REVIEW_COL_DISABLED_AT: return row->disabled_at;
	case REVIEW_COL_DISABLED_REASON: return row->disabled_reason;
	default: return "";
	}
}

void
review_csv(const struct review_list *l, review_label_fn label, void *arg,
    struct buf *out)
{
	char key[64], tmp[24];
	const char *v, *prefix;
	size_t i;
	int c;

	csv_put_bom(out);
	for (c = 0; c < REVIEW_COL__MAX; c++) {
		str_printf(key, sizeof(key), "review.col.%s", review_cols[c]);
		csv_put_cell(out, label(arg, key), c + 1 == REVIEW_COL__MAX);
	}
	for (i = 0; i < l->n; i++) {
		for (c = 0; c < REVIEW_COL__MAX; c++) {
			v = review_cell(&l->rows[i], (enum review_col)c, tmp);
			prefix = review_col_code((enum review_col)c);
			if (prefix != NULL && v[0] != '\0') {
				str_printf(key, sizeof(key), "%s%s", prefix, v);
				v = label(arg, key);
			}
			csv_put_cell(out, v, c + 1 == REVIEW_COL__MAX);
		}
	}
}

/* ------------------------------------------------------ one account */

int
review_account_load(struct db *db, uint64_t school_id, const char *public_id,
    int grace_days, struct review_account *a)
{
	struct db_param p[3] = {DB_INT(grace_days), DB_STR(public_id),
	    DB_INT((long long)school_id)};
	struct db_res *res;
	int rc;

	memset(a, 0, sizeof(*a));
	res = db_query(db,
	    "SELECT u.id, u.public_id, u.role, u.login, u.name, u.status, "
	    "COALESCE(st.status IN ('graduated', 'left') AND "
	    "st.status_changed_at < UTC_TIMESTAMP(6) - INTERVAL ? DAY, 0) "
	    "FROM users u LEFT JOIN students st ON st.user_id = u.id AND "
	    "st.school_id = u.school_id WHERE u.public_id = ? AND "
	    "u.school_id = ?",
	    p, 3);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return 0;
	}
	a->id = (uint64_t)db_res_int(res, 0, 0);
	a->past_grace = db_res_int(res, 0, 6) != 0;
	rc = str_copy(a->public_id, sizeof(a->public_id),
		 db_res_get(res, 0, 1)) == 0 &&
		str_copy(a->role, sizeof(a->role), db_res_get(res, 0, 2)) ==
		    0 &&
		str_copy(a->login, sizeof(a->login), db_res_get(res, 0, 3)) ==
		    0 &&
		str_copy(a->name, sizeof(a->name), db_res_get(res, 0, 4)) ==
		    0 &&
		str_copy(a->status, sizeof(a->status), db_res_get(res, 0, 5)) ==
		    0
	    ? 1
	    : -1;
	db_res_free(res);
	if (rc < 0)
		log_error("account %s does not fit its fields", public_id);
	return rc;
}

/* Appends who's audit row of event about target with detail inside the
 * open transaction. 0/-1. */
static int
review_audit_tx(struct db *db, const struct review_actor *who,
    const char *event, const char *target, const char *detail)
{
	struct audit_event ev = {
	    .actor = who->actor,
	    .role = who->role,
	    .school = who->school,
	    .ip = who->ip,
	    .event = event,
	    .target = target,
	    .outcome = "success",
	    .detail = detail,
	};

	return audit_append_tx(db, &ev);
}

/* Appends the audit row and commits the transaction it belongs to;
 * rolls everything back when either fails. 0/-1. */
static int
review_commit(struct db *db, const struct review_actor *who, const char *event,
    const char *target, const char *detail)
{
	if (review_audit_tx(db, who, event, target, detail) == 0 &&
	    db_commit(db) == 0)
		return 0;
	(void)db_rollback(db);
	return -1;
}

/* Runs the UPDATE sql (parameters p) on a's row and, when it changed the
 * row, the audit row of event with the reason, in one transaction. 1 done,
 * 0 nothing to change, -1 error. */
static int
review_change(struct db *db, const struct review_actor *who,
    const struct review_account *a, const char *sql, const struct db_param *p,
    size_t np, const char *event, const char *reason)
{
	unsigned long long affected = 0;
	char target[64];
	struct buf d;
	int rc = -1;

	str_printf(target, sizeof(target), "user:%s", a->login);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "reason", reason);
	buf_putc(&d, '}');
	if (db_begin(db) != 0)
		goto out;
	rc = db_exec(db, sql, p, np, &affected, NULL);
	if (rc != 0 || affected == 0) {
		/* Nothing to change (rc 0), or a failure (rc -1). */
		(void)db_rollback(db);
		goto out;
	}
	rc = review_commit(db, who, event, target, d.data) == 0 ? 1 : -1;
out:
	buf_free(&d);
	return rc;
}

int
review_disable(struct db *db, const struct review_actor *who,
    const struct review_account *a, const char *reason)
{
	struct db_param p[3] = {DB_STR(reason),
	    who->user_id != 0 ? DB_INT((long long)who->user_id) : DB_NULLP,
	    DB_INT((long long)a->id)};

	return review_change(db, who, a,
	    "UPDATE users SET status = 'disabled', disabled_reason = ?, "
	    "disabled_at = UTC_TIMESTAMP(6), disabled_by = ? WHERE id = ? AND "
	    "status <> 'disabled'",
	    p, 3, "account.disable", reason);
}

int
review_enable(struct db *db, const struct review_actor *who,
    const struct review_account *a, const char *reason)
{
	struct db_param p[1] = {DB_INT((long long)a->id)};

	/* An account that never set a password goes back to waiting for
	 * its activation code (re-issued when it has expired). */
	return review_change(db, who, a,
	    "UPDATE users SET status = IF(password_hash IS NULL, 'pending', "
	    "'active'), disabled_reason = NULL, disabled_at = NULL, "
	    "disabled_by = NULL WHERE id = ? AND status = 'disabled'",
	    p, 1, "account.enable", reason);
}

/* ------------------------------------------------------ review records */

int
review_record(struct db *db, const struct review_actor *who, uint64_t school_id,
    const char *note, long long *accounts)
{
	struct db_param p[6];
	struct db_res *res;
	char pub[IDS_PUBLIC_LEN + 1], target[64];
	struct buf d;
	int rc = -1;

	if (ids_public(pub) != 0)
		return -1;
	buf_init(&d);
	if (db_begin(db) != 0)
		goto out;
	p[0] = DB_INT((long long)school_id);
	res = db_query(
	    db, "SELECT COUNT(*) FROM users WHERE school_id = ?", p, 1);
	if (res == NULL)
		goto fail;
	*accounts = db_res_int(res, 0, 0);
	db_res_free(res);
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)school_id);
	p[2] = who->user_id != 0 ? DB_INT((long long)who->user_id) : DB_NULLP;
	p[3] = DB_STR(who->actor);
	p[4] = DB_INT(*accounts);
	p[5] = DB_STR(note);
	if (db_exec(db,
		"INSERT INTO account_reviews (public_id, school_id, "
		"reviewed_by, reviewed_by_actor, reviewed_at, accounts, note) "
		"VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), ?, ?)",
		p, 6, NULL, NULL) != 0)
		goto fail;
	str_printf(target, sizeof(target), "school:%s", who->school);
	buf_putc(&d, '{');
	buf_json_ki(&d, "accounts", *accounts);
	buf_json_kv(&d, "note", note);
	buf_putc(&d, '}');
	rc = review_commit(db, who, "account.review", target, d.data);
	goto out;
fail:
	(void)db_rollback(db);
out:
	buf_free(&d);
	return rc;
}

int
review_last(struct db *db, uint64_t school_id, struct review_last *out)
{
	struct db_param p[1] = {DB_INT((long long)school_id)};
	struct db_res *res;
	int rc;

	memset(out, 0, sizeof(*out));
	res = db_query(db,
	    "SELECT DATE_FORMAT(reviewed_at, '%Y-%m-%d %H:%i'), "
	    "reviewed_by_actor, accounts, note FROM account_reviews WHERE "
	    "school_id = ? ORDER BY reviewed_at DESC, id DESC LIMIT 1",
	    p, 1);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return 0;
	}
	out->accounts = db_res_int(res, 0, 2);
	rc = str_copy(out->at, sizeof(out->at), db_res_get(res, 0, 0)) == 0 &&
		str_copy(out->by, sizeof(out->by), db_res_get(res, 0, 1)) ==
		    0 &&
		str_copy(out->note, sizeof(out->note), db_res_get(res, 0, 3)) ==
		    0
	    ? 1
	    : -1;
	db_res_free(res);
	return rc;
}

/* ---------------------------------------------------------------- sweep */

/* The accounts due, school by school; the ? are the grace period and
 * the batch size. */
static const char sweep_due_sql[] =
    "SELECT u.id, u.login, st.status, sc.code, st.school_id FROM students "
    "st JOIN users u ON u.id = st.user_id AND u.school_id = st.school_id "
    "JOIN schools sc ON sc.id = st.school_id WHERE st.status IN "
    "('graduated', 'left') AND st.status_changed_at < UTC_TIMESTAMP(6) - "
    "INTERVAL ? DAY AND u.status <> 'disabled' ORDER BY st.school_id, u.id "
    "LIMIT ?";

/* Disables one account found due, checking again under the row's lock that
 * it still is (an admin may have changed the student's status since). */
static const char sweep_disable_sql[] =
    "UPDATE users SET status = 'disabled', disabled_reason = ?, "
    "disabled_at = UTC_TIMESTAMP(6), disabled_by = NULL WHERE id = ? AND "
    "status <> 'disabled' AND EXISTS (SELECT 1 FROM students s WHERE "
    "s.user_id = users.id AND s.status = ? AND s.status_changed_at < "
    "UTC_TIMESTAMP(6) - INTERVAL ? DAY)";

/* Disables the accounts of res's first school (rows from 0 while the school
 * is the same) in one transaction; their ids into ids, their count into
 * *n. 0/-1. */
static int
sweep_batch(struct db *db, const struct db_res *res, int grace_days,
    uint64_t *ids, size_t *n)
{
	struct review_actor sys = {0, "system", "system", NULL, ""};
	long long school = db_res_int(res, 0, 4);
	unsigned long long affected;
	struct db_param p[4];
	char target[64];
	size_t i;

	*n = 0;
	sys.school = db_res_get(res, 0, 3);
	if (db_begin(db) != 0)
		return -1;
	for (i = 0; i < db_res_rows(res) && db_res_int(res, i, 4) == school;
	     i++) {
		const char *why = db_res_get(res, i, 2);
		char detail[64];

		p[0] = DB_STR(why);
		p[1] = DB_INT(db_res_int(res, i, 0));
		p[2] = DB_STR(why);
		p[3] = DB_INT(grace_days);
		affected = 0;
		if (db_exec(db, sweep_disable_sql, p, 4, &affected, NULL) != 0)
			goto fail;
		if (affected == 0)
			continue;
		str_printf(
		    target, sizeof(target), "user:%s", db_res_get(res, i, 1));
		str_printf(detail, sizeof(detail),
		    "{\"reason\":\"%s\",\"auto\":true}", why);
		if (review_audit_tx(
			db, &sys, "account.disable", target, detail) != 0)
			goto fail;
		ids[(*n)++] = (uint64_t)db_res_int(res, i, 0);
	}
	if (db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	(void)db_rollback(db);
	*n = 0;
	return -1;
}

/* Ends the sessions of the accounts just disabled; the number that could
 * not be ended. */
static long
sweep_sessions(struct kv *kv, const uint64_t *ids, size_t n)
{
	long failed = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (kv == NULL || session_destroy_user(kv, ids[i], NULL) != 0)
			failed++;
	return failed;
}

static int
sweep_accounts(
    struct db *db, struct kv *kv, int grace_days, struct review_sweep_stats *st)
{
	struct db_param p[2] = {DB_INT(grace_days), DB_INT(REVIEW_SWEEP_BATCH)};
	uint64_t ids[REVIEW_SWEEP_BATCH];
	long long last_school = -1;
	struct db_res *res;
	size_t n;

	for (;;) {
		if ((res = db_query(db, sweep_due_sql, p, 2)) == NULL)
			return -1;
		if (db_res_rows(res) == 0) {
			db_res_free(res);
			return 0;
		}
		if (sweep_batch(db, res, grace_days, ids, &n) != 0) {
			db_res_free(res);
			return -1;
		}
		if (n > 0 && db_res_int(res, 0, 4) != last_school) {
			last_school = db_res_int(res, 0, 4);
			st->schools++;
		}
		db_res_free(res);
		st->accounts += (long)n;
		st->sessions_failed += sweep_sessions(kv, ids, n);
		/* Every account of the batch changed meanwhile (another
		 * sweep, an admin): the next query would find the same
		 * ones only if something is wrong, so stop here. */
		if (n == 0)
			return 0;
	}
}

int
review_sweep(
    struct db *db, struct kv *kv, int grace_days, struct review_sweep_stats *st)
{
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (sweep_accounts(db, kv, grace_days, st) != 0) {
		log_error("the account sweep stopped after disabling %ld "
			  "accounts: database error",
		    st->accounts);
		rc = -1;
	}
	/* The wipes do not depend on the accounts: each runs whatever
	 * happened before it. */
	if ((st->letters = letters_expire(db)) < 0) {
		log_error("wiping expired activation letters failed");
		rc = -1;
	}
	if ((st->imports = import_expire(db)) < 0) {
		log_error("wiping expired import files failed");
		rc = -1;
	}
	return rc;
}

/* Appends ", <n> <what> wiped", or that the step failed. */
static void
sweep_summary_wipe(struct buf *out, long n, const char *what)
{
	if (n < 0)
		buf_printf(out, ", wiping expired %s failed", what);
	else
		buf_printf(out, ", %ld %s wiped", n, what);
}

void
review_sweep_summary(
    const struct review_sweep_stats *st, int grace_days, struct buf *out)
{
	buf_printf(out,
	    "%ld accounts disabled in %ld schools (grace period %d days)",
	    st->accounts, st->schools, grace_days);
	if (st->sessions_failed > 0)
		buf_printf(out,
		    ", %ld of them still signed in somewhere until their next "
		    "request (Redis did not answer)",
		    st->sessions_failed);
	sweep_summary_wipe(out, st->letters, "activation-letter batches");
	sweep_summary_wipe(out, st->imports, "import files");
}
