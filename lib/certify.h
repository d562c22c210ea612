/*
 * certify: step 3 of the portfolio flow (教師認證課程學習成果) — who may
 * certify a course learning outcome, the list of those waiting for a
 * teacher, one item's decisions, and the signed decision itself.
 *
 * Who may certify the items of a course, as of today (Taiwan):
 *   - an active teacher of the course (course_teachers, teachers.status
 *     'active'), whose users row is the signed-in user;
 *   - a stand-in (代理人, cert_standins, not revoked) who is an active
 *     teacher: for the course (course_id), or for one of the course's
 *     teachers (for_teacher_id) while today is within starts_on..ends_on.
 * The answer says as whom: the acting teacher, the teacher acted for and
 * the assignment (both none for the course's own teacher; for a course
 * stand-in, the course's active teacher with the lowest id, or none).
 * CERTIFY_COURSES_SQL is that rule, written once for every query that
 * needs it (the list, an item, files.c's downloads).
 *
 * Every query is scoped by the school. A decision is written only inside
 * the caller's transaction (certify_decide_tx), signed with the school
 * platform's key over lib/certsig.h's canonical text, with its audit row;
 * an earlier decision is never changed but superseded (superseded_at).
 * Students' names leave this file masked (lib/pii.h).
 */
#ifndef LICHENG_CERTIFY_H
#define LICHENG_CERTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "deadlines.h"
#include "ids.h"
#include "items.h"
#include "windows.h"

struct audit_event;
struct db;
struct db_param;
struct sign_key;

/*
 * The courses the signed-in user may certify today: one row per way they
 * may (course_id, teacher_id acting, for_teacher_id or NULL, standin_id or
 * NULL, prio: 0 own course, 1 course stand-in, 2 teacher stand-in). Its
 * CERTIFY_COURSES_NPARAMS parameters come from certify_courses_params.
 * Use it as a derived table: "(" CERTIFY_COURSES_SQL ") m".
 */
// clang-format off
#define CERTIFY_COURSES_SQL                                                    \
	"SELECT ct.course_id, me.id AS teacher_id, NULL AS for_teacher_id, "   \
	"NULL AS standin_id, 0 AS prio FROM teachers me JOIN course_teachers " \
	"ct ON ct.teacher_id = me.id WHERE me.user_id = ? AND me.school_id = " \
	"? AND me.status = 'active' "                                          \
	"UNION ALL SELECT cs.course_id, me.id, (SELECT MIN(ct1.teacher_id) "   \
	"FROM course_teachers ct1 JOIN teachers t1 ON t1.id = "                \
	"ct1.teacher_id WHERE ct1.course_id = cs.course_id AND t1.status = "   \
	"'active'), cs.id, 1 FROM teachers me JOIN cert_standins cs ON "       \
	"cs.standin_teacher_id = me.id AND cs.school_id = me.school_id WHERE " \
	"me.user_id = ? AND me.school_id = ? AND me.status = 'active' AND "    \
	"cs.revoked_at IS NULL AND cs.course_id IS NOT NULL "                  \
	"UNION ALL SELECT ct2.course_id, me.id, cs.for_teacher_id, cs.id, 2 "  \
	"FROM teachers me JOIN cert_standins cs ON cs.standin_teacher_id = "   \
	"me.id AND cs.school_id = me.school_id JOIN course_teachers ct2 ON "   \
	"ct2.teacher_id = cs.for_teacher_id WHERE me.user_id = ? AND "         \
	"me.school_id = ? AND me.status = 'active' AND cs.revoked_at IS NULL " \
	"AND cs.for_teacher_id IS NOT NULL AND ? BETWEEN cs.starts_on AND "    \
	"cs.ends_on"
// clang-format on
#define CERTIFY_COURSES_NPARAMS 7

/* Fills p[0..CERTIFY_COURSES_NPARAMS) for CERTIFY_COURSES_SQL; today
 * (windows_today) must outlive the query. */
void certify_courses_params(struct db_param *p, uint64_t school_id,
    uint64_t user_id, const char *today);

/* As whom a user certifies a course's items; public ids "" for none. */
struct certify_as {
	uint64_t teacher_id; /* the acting teacher (teachers.id) */
	uint64_t for_teacher_id; /* 0: none */
	uint64_t standin_id; /* 0: the course's own teacher */
	char teacher[IDS_PUBLIC_LEN + 1];
	char for_teacher[IDS_PUBLIC_LEN + 1];
	char standin[IDS_PUBLIC_LEN + 1];
	char for_teacher_name[401]; /* users.name, 100 characters */
};

/* 1 with *as when the user may certify course_id's items today (the
 * course's own teacher before a course stand-in before a teacher
 * stand-in), 0 when not, -1 on a database error. */
int certify_may(struct db *db, uint64_t school_id, uint64_t user_id,
    uint64_t course_id, struct certify_as *as);

/* ------------------------------------------------------ pure checks */

enum certify_decision { CERTIFY_CERTIFIED, CERTIFY_REJECTED, CERTIFY__MAX };

/* "certified", "rejected"; the value of a name, or -1. */
const char *certify_decision_name(enum certify_decision d);
int certify_decision_parse(const char *s);

#define CERTIFY_REASON_MAX 200 /* characters (certifications.reason) */
enum certify_reason_check {
	CERTIFY_REASON_OK,
	CERTIFY_REASON_MISSING, /* a rejection needs one (spaces are none) */
	CERTIFY_REASON_LONG, /* more than CERTIFY_REASON_MAX characters */
	CERTIFY_REASON_BAD /* not UTF-8 text (control characters) */
};
/* Checks the reason of decision d: required for a rejection, at most
 * CERTIFY_REASON_MAX characters (*chars: how many it has, -1 when not
 * text); a certification keeps none, whatever was typed. */
enum certify_reason_check
certify_reason_check(enum certify_decision d, const char *reason, long *chars);

/* ---------------------------------------------------- the waiting list */

enum certify_order { CERTIFY_NEWEST, CERTIFY_OLDEST };

struct certify_filter {
	const char *course; /* a course public id, or NULL for any */
	const char *klass; /* a class public id, or NULL for any */
	enum certify_order order; /* by the item's upload (created_at) */
	long page; /* from 1 */
	long page_size; /* certify.page_size */
};

struct certify_file {
	char public_id[IDS_PUBLIC_LEN + 1];
	enum item_slot slot;
	char *name; /* the original name: data */
	unsigned long long size;
	char sha256[65];
};

/* A student as a teacher sees them in a list: class, seat, number and the
 * masked name. */
struct certify_student {
	char public_id[IDS_PUBLIC_LEN + 1];
	char *class_code, *class_name; /* "" when none */
	char seat[8]; /* "" when none */
	char *number;
	char *masked_name; /* 陳○華 */
};

struct certify_row {
	uint64_t item_id, term_id;
	char item[IDS_PUBLIC_LEN + 1];
	char term[ITEMS_TERM_LEN + 1]; /* 114-1 */
	char course[IDS_PUBLIC_LEN + 1];
	char *course_code, *course_name;
	char *description;
	char created_at[ITEMS_TIME_LEN + 1]; /* Taiwan time */
	char updated_at[ITEMS_TIME_LEN + 1];
	struct certify_student student;
	struct certify_file *files; /* current ones, doc first */
	size_t nfiles;
};

struct certify_page {
	struct certify_row *v;
	size_t n;
	long long total; /* every row the filter matches */
};

/* The course learning outcomes waiting for the user (待認證: kind course,
 * not deleted, not submitted, cert_state pending, every current file
 * verified ok or repaired, scan-clean, not quarantined, not lost) in the
 * courses they may certify today, filtered, one page of them. 0/-1. */
int certify_pending(struct db *db, uint64_t school_id, uint64_t user_id,
    const struct certify_filter *f, struct certify_page *out);
void certify_page_free(struct certify_page *p);

/* A choice of a filter: public id and label ("114-1 C101 國語文", "101
 * 一年一班"). */
struct certify_option {
	char public_id[IDS_PUBLIC_LEN + 1];
	char *label;
};
/* The courses the user may certify today, newest term first, by code;
 * the classes of the students enrolled in them, by code. 0/-1. */
int certify_course_options(struct db *db, uint64_t school_id, uint64_t user_id,
    struct certify_option **v, size_t *n);
int certify_class_options(struct db *db, uint64_t school_id, uint64_t user_id,
    struct certify_option **v, size_t *n);
void certify_options_free(struct certify_option *v, size_t n);

/* How many items wait for the user (as certify_pending counts them) and
 * the nearest certification deadline among their terms that has not
 * passed (*next.date "" when every one has). deadline_days is
 * certify.deadline_days. 0/-1. */
int certify_waiting(struct db *db, uint64_t school_id, uint64_t user_id,
    int deadline_days, long long *count, struct deadline *next);

/* ---------------------------------------------------------- one item */

enum certify_found {
	CERTIFY_FOUND,
	/* Each of these is answered alike (404); the name is for the audit
	 * row only. */
	CERTIFY_UNKNOWN, /* no such item in the school */
	CERTIFY_DELETED,
	CERTIFY_DIVERSE, /* a diverse performance: 不須認證 */
	CERTIFY_NOT_YOURS, /* a course the user may not certify */
	CERTIFY_FIND_ERROR
};
const char *certify_found_name(enum certify_found f);

/* A decision as its history shows it. */
struct certify_past {
	char public_id[IDS_PUBLIC_LEN + 1];
	enum certify_decision decision;
	char *reason; /* "" when none */
	char decided_at[ITEMS_TIME_LEN + 1]; /* Taiwan time */
	char *teacher; /* the acting teacher's name */
	char *for_teacher; /* "" when none */
	int standin; /* made by a stand-in */
	int current; /* items.cert_id names it */
	char superseded_at[ITEMS_TIME_LEN + 1]; /* "" while it stands */
};

struct certify_item {
	struct item it; /* every version of its files (items_find) */
	struct certify_as as;
	struct certify_student student;
	struct deadline deadline; /* of the item's term */
	struct certify_past *past; /* newest first */
	size_t npast;
};

/* The item public_id of the school when the user may certify it today
 * (CERTIFY_FOUND; free with certify_item_free), or why not. */
enum certify_found
certify_item_find(struct db *db, uint64_t school_id, uint64_t user_id,
    int deadline_days, const char *public_id, struct certify_item *ci);
void certify_item_free(struct certify_item *ci);

/* -------------------------------------------------------- the decision */

/* 1 when key_id names a platform key that is not retired, 0 when not, -1
 * on a database error. */
int certify_key_ready(struct db *db, const char *key_id);

enum certify_outcome {
	CERTIFY_DONE,
	CERTIFY_GONE, /* unknown, deleted, diverse, not the user's: 404 */
	CERTIFY_CHECKING, /* a file not yet verified and scanned */
	CERTIFY_QUARANTINED,
	CERTIFY_LOST,
	CERTIFY_SUBMITTED,
	CERTIFY_DECIDED, /* pending_only, and it is decided already */
	CERTIFY_LATE, /* the term's certification deadline has passed */
	CERTIFY_NO_KEY, /* no signing key, or not a registered one */
	CERTIFY_ERROR /* a database or signing error (logged) */
};
const char *certify_outcome_name(enum certify_outcome o);

struct certify_request {
	uint64_t school_id;
	uint64_t user_id; /* the signed-in teacher's users row */
	const char *item; /* the item's public id */
	enum certify_decision decision;
	const char *reason; /* checked with certify_reason_check first */
	int pending_only; /* a batch: only items still waiting */
	int deadline_days; /* certify.deadline_days */
	const struct sign_key *key; /* app->sign_key, may be NULL */
	const char *key_id; /* its key id */
	/* Who acts, for the audit row: actor, role, school and ip (the rest
	 * is filled in). */
	const struct audit_event *actor;
};

struct certify_done {
	char certification[IDS_PUBLIC_LEN + 1]; /* the new decision */
	char deadline[WINDOW_DATE_LEN + 1]; /* CERTIFY_LATE: the date */
	int unticked; /* a rejection took away the student's tick */
};

/*
 * Decides q->item inside the caller's open transaction: locks the item's
 * row, checks everything again (a course outcome of the school, not
 * deleted or submitted, its current files verified and clean, the user
 * may certify it today, the term's deadline, the key), and only then
 * writes: the certifications row signed over the record with the item's
 * current files (certsig_sign), its certification_files, superseded_at of
 * the decision it replaces, the item's state (cert_state, cert_at,
 * cert_by, cert_reason, cert_id, cert_notice; a rejection unticks), and
 * the audit row item.certified / item.rejected. Any answer but
 * CERTIFY_DONE and CERTIFY_ERROR has written nothing, so a batch goes on
 * with the next item; after CERTIFY_ERROR the caller rolls back.
 */
enum certify_outcome certify_decide_tx(
    struct db *db, const struct certify_request *q, struct certify_done *out);

#endif
