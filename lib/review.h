/*
 * review: the periodic account review of a school (seeds/001 item 二十二,
 * seeds/003) — the listing of its accounts with role, status, last sign-in
 * and days inactive; the admins' disabling and enabling of an account with
 * a reason and their record that the list was checked, each audited in the
 * transaction that makes it; and the sweep that disables the accounts of
 * graduated and departed students once accounts.grace_days have passed.
 * Shared by the admins' page (fcgi/review.c), `licheng accounts review |
 * sweep` (cli/cmd_review.c) and licheng-worker (workers/sweep.c).
 *
 * Every function but the sweep is scoped by school_id: an account of
 * another school is the same as a missing one. Nothing here reads or shows
 * a national ID or a birth date.
 */
#ifndef LICHENG_REVIEW_H
#define LICHENG_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "ids.h"
#include "util.h"

struct db;
struct kv;

/* Bounds of the reason an admin gives to disable or enable an account, in
 * characters (users.disabled_reason is VARCHAR(200)), and of a review's
 * note (account_reviews.note). */
#define REVIEW_REASON_MIN 5
#define REVIEW_REASON_MAX 200
#define REVIEW_NOTE_MAX 200
/* Accounts a page of the review shows. */
#define REVIEW_PAGE_SIZE 50
/* Accounts the sweep disables in one transaction. */
#define REVIEW_SWEEP_BATCH 200

/* What the listing keeps: NULL / 0 members do not filter. */
struct review_filter {
	const char *role; /* "student", "teacher", "school_admin" */
	const char *status; /* "pending", "active", "disabled" */
	long inactive_days; /* at least this many days without sign-in */
	long page; /* 1-based; 0 lists every account (CSV, CLI) */
};

struct review_row {
	char public_id[IDS_PUBLIC_LEN + 1];
	char role[16]; /* users.role */
	char login[33];
	char name[401];
	char status[10]; /* users.status */
	char created[11]; /* YYYY-MM-DD (UTC) */
	char last_login[17]; /* "YYYY-MM-DD HH:MM" UTC, "" when never */
	long days_inactive; /* since the last sign-in, else since creation */
	char student_no[21]; /* students only, else "" */
	/* The status of the account's records row, prefixed with its kind:
	 * student_enrolled, student_suspended, student_graduated,
	 * student_left, teacher_active, teacher_left; "" for admins and for
	 * accounts without such a row. */
	char record_status[24];
	/* A graduated or departed student whose account is still enabled:
	 * the day the sweep disables it (YYYY-MM-DD, UTC); else "". */
	char disable_on[11];
	int overdue; /* disable_on has come and the sweep has not run yet */
	char disabled_at[17]; /* "YYYY-MM-DD HH:MM" UTC, "" */
	char disabled_by[33]; /* the admin's login; "" for the sweep */
	int disabled_auto; /* disabled by the sweep */
	char disabled_reason[801]; /* 200 characters of utf8mb4 */
};

struct review_list {
	struct review_row *rows;
	size_t n;
	long long total; /* accounts matching the filter, all pages */
};

/* Lists the accounts of school_id that match f, ordered by role (admins,
 * teachers, students) then login; grace_days dates the pending automatic
 * disabling. 0 with *out filled (free with review_list_free), -1 on a
 * database error. */
int review_list(struct db *db, uint64_t school_id,
    const struct review_filter *f, int grace_days, struct review_list *out);
void review_list_free(struct review_list *l);

/* The columns of the listing as text (the CSV download and the command):
 * their names, and row's value of one of them. Codes (role, status) are
 * given as stored; the caller translates with review_col_code. */
enum review_col {
	REVIEW_COL_ROLE,
	REVIEW_COL_LOGIN,
	REVIEW_COL_NAME,
	REVIEW_COL_STUDENT_NO,
	REVIEW_COL_STATUS,
	REVIEW_COL_CREATED,
	REVIEW_COL_LAST_LOGIN,
	REVIEW_COL_DAYS_INACTIVE,
	REVIEW_COL_RECORD_STATUS,
	REVIEW_COL_DISABLE_ON,
	REVIEW_COL_DISABLED_AT,
	REVIEW_COL_DISABLED_REASON,
	REVIEW_COL__MAX
};
/* "role", "login", ..., "disabled_reason". */
const char *review_col_name(enum review_col c);
/* The message-key prefix of a column whose values are codes ("role.",
 * "review.status.", "review.record."), or NULL for a column of data. */
const char *review_col_code(enum review_col c);
/* Row's value in column c; numbers are written into tmp. */
const char *
review_cell(const struct review_row *row, enum review_col c, char tmp[24]);

/* Translates a message key ("review.col.login", "review.status.active")
 * for review_csv; the command passes one that keeps the code itself. */
typedef const char *(*review_label_fn)(void *arg, const char *key);
/* The listing as CSV for Excel: BOM, CRLF, one header row of
 * label("review.col.<name>") and the rows, codes through label. */
void review_csv(const struct review_list *l, review_label_fn label, void *arg,
    struct buf *out);

/* One account of a school, for the admins' actions on it. */
struct review_account {
	uint64_t id;
	char public_id[IDS_PUBLIC_LEN + 1];
	char role[16];
	char login[33];
	char name[401];
	char status[10];
	/* A graduated or departed student past the grace period: enabling
	 * the account would only have the sweep disable it again. */
	int past_grace;
};

/* Loads the account public_id of school_id: 1 found, 0 no such account in
 * this school, -1 on a database error. */
int review_account_load(struct db *db, uint64_t school_id,
    const char *public_id, int grace_days, struct review_account *a);

/* Who acts, for the audit rows. */
struct review_actor {
	uint64_t user_id; /* 0: the command line or the sweep */
	const char *actor; /* login, "cli:<user>" or "system" */
	const char *role; /* "school_admin", "operator" or "system" */
	const char *school; /* the school's code */
	const char *ip; /* "" when not from the web */
};

/* Disables a, recording reason, by and when, with its audit row
 * account.disable {"reason":...}, in one transaction. 1 done, 0 when it
 * was already disabled (nothing written), -1 on a database error (nothing
 * written). The caller ends the account's sessions. */
int review_disable(struct db *db, const struct review_actor *who,
    const struct review_account *a, const char *reason);
/* Enables a again — active when it has a password, else pending — with
 * its audit row account.enable {"reason":...}. 1 done, 0 when it was not
 * disabled, -1 on a database error. */
int review_enable(struct db *db, const struct review_actor *who,
    const struct review_account *a, const char *reason);

/* Records that the school's account list was reviewed (account_reviews)
 * with the number of accounts it holds, audited account.review
 * {"accounts":N,"note":...}, in one transaction. 0/-1. */
int review_record(struct db *db, const struct review_actor *who,
    uint64_t school_id, const char *note, long long *accounts);

/* The school's last recorded review: 1 with its time ("YYYY-MM-DD HH:MM"
 * UTC), who, the number of accounts and the note; 0 when there was none;
 * -1 on a database error. */
struct review_last {
	char at[17];
	char by[65];
	long long accounts;
	char note[801];
};
int review_last(struct db *db, uint64_t school_id, struct review_last *out);

/* What one sweep did. */
struct review_sweep_stats {
	long accounts; /* accounts disabled */
	long schools; /* schools they belong to */
	long sessions_failed; /* disabled accounts whose sessions could not be
			       * ended now (the sign-in gate ends them) */
	long letters; /* letter batches wiped (letters_expire); -1 failed */
	long imports; /* import files wiped (import_expire); -1 failed */
};

/*
 * The sweep: disables the accounts, not yet disabled, of students whose
 * status has been graduated or left for more than grace_days (any school),
 * in transactions of at most REVIEW_SWEEP_BATCH accounts of one school,
 * each account with its audit row account.disable by "system" ({"reason":
 * "graduated"|"left","auto":true}); ends their sessions when kv is not
 * NULL; then wipes expired letters and import files. Safe to run in
 * several processes at once: an account is disabled and audited once.
 * 0 when every step succeeded, -1 when any failed (logged; st says what
 * was done).
 */
int review_sweep(struct db *db, struct kv *kv, int grace_days,
    struct review_sweep_stats *st);

/* One line saying what a sweep did, for the worker's log and the command:
 * "12 accounts disabled in 2 schools (grace period 30 days), 3
 * activation-letter batches wiped, 0 import files wiped", naming a step
 * that failed as failed, and the accounts whose sessions are left to the
 * sign-in gate. */
void review_sweep_summary(
    const struct review_sweep_stats *st, int grace_days, struct buf *out);

#endif
