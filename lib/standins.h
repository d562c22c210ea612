/*
 * standins: the stand-in certifiers (代理人) a school admin names in
 * cert_standins — a teacher who certifies every course learning outcome of
 * one course, or of every course of another teacher over a range of
 * Taiwan dates — their checks, creation and revocation, and where today
 * stands in an assignment. Every query is scoped by the school; another
 * school's teacher, course or assignment is treated exactly like a missing
 * one. It never deletes an assignment: revoking keeps the row.
 */
#ifndef LICHENG_STANDINS_H
#define LICHENG_STANDINS_H

#include <stdint.h>

#include "ids.h"
#include "windows.h"

struct buf;
struct db;

enum standin_scope {
	STANDIN_SCOPE_COURSE, /* every item of one course */
	STANDIN_SCOPE_TEACHER, /* every course of a teacher, over dates */
	STANDIN_SCOPE__MAX
};

/* Where an assignment stands on a day. */
enum standin_state {
	STANDIN_IN_FORCE,
	STANDIN_NOT_YET, /* a teacher's range that starts later */
	STANDIN_ENDED, /* a teacher's range that has ended */
	STANDIN_REVOKED,
	STANDIN_STATE__MAX
};

/* The fields of a new assignment that a check can refuse. */
enum standin_field {
	STANDIN_F_STANDIN,
	STANDIN_F_COURSE,
	STANDIN_F_FOR_TEACHER,
	STANDIN_F_ENDS_ON,
	STANDIN_F__MAX
};

/* Why a field was refused; names are message keys standins.error.<name>. */
enum standin_refusal {
	STANDIN_R_OK,
	STANDIN_R_NO_TEACHER, /* unknown, or another school's: same answer */
	STANDIN_R_INACTIVE, /* the stand-in left, or their account is off */
	STANDIN_R_NO_COURSE, /* likewise for a course */
	STANDIN_R_OWN_COURSE, /* the stand-in teaches the course */
	STANDIN_R_SELF, /* the stand-in is the teacher they would stand in for
			 */
	STANDIN_R_ORDER, /* ends_on is before starts_on */
	STANDIN_R_DUP_COURSE, /* already stands in for the course */
	STANDIN_R_DUP_TEACHER, /* already for the teacher over some of the days
				*/
	STANDIN_R__MAX
};

/* "course", "teacher"; "in_force", "not_yet", "ended", "revoked";
 * "no_teacher", ... (the enums above). */
const char *standins_scope_name(enum standin_scope s);
const char *standins_state_name(enum standin_state s);
const char *standins_refusal_name(enum standin_refusal r);
/* The scope of a name, or -1. */
int standins_scope_parse(const char *s);

/* The state on day today ("YYYY-MM-DD") of an assignment: revoked when
 * revoked; a course's (starts_on and ends_on NULL or "") is in force until
 * revoked; a teacher's by where today falls in starts_on..ends_on, both
 * inclusive. */
enum standin_state standins_state(
    int revoked, const char *starts_on, const char *ends_on, const char *today);

/* A new assignment as the admin asked for it: public ids of the school's
 * teachers and course; course for STANDIN_SCOPE_COURSE, for_teacher and
 * both dates (valid "YYYY-MM-DD") for STANDIN_SCOPE_TEACHER; the others
 * are ignored. */
struct standin_new {
	uint64_t school_id;
	uint64_t set_by; /* the admin's users.id */
	enum standin_scope scope;
	const char *standin;
	const char *course;
	const char *for_teacher;
	const char *starts_on, *ends_on;
};

/* What an assignment names, for its audit row and the pages. */
struct standin_facts {
	char public_id[IDS_PUBLIC_LEN + 1];
	enum standin_scope scope;
	char standin_login[33];
	char for_login[33]; /* "" for a course's */
	char course_code[33]; /* "" for a teacher's */
	char course_term[16]; /* "114-1"; "" for a teacher's */
	char starts_on[WINDOW_DATE_LEN + 1]; /* "" for a course's */
	char ends_on[WINDOW_DATE_LEN + 1];
};

/*
 * Checks a new assignment and, when every check passes, inserts it, inside
 * the caller's transaction (the caller audits it there, then commits). The
 * stand-in's teachers row is locked first, so two requests cannot both add
 * the same assignment. 0 created (facts filled); 1 refused, nothing
 * written, why[field] saying why for each refused field (STANDIN_R_OK for
 * the others); -1 on a database error. The caller rolls back unless 0.
 */
int standins_create_tx(struct db *db, const struct standin_new *n,
    struct standin_facts *facts, enum standin_refusal why[STANDIN_F__MAX]);

/*
 * Revokes the school's assignment public_id inside the caller's
 * transaction: revoked_at now, revoked_by by. 1 revoked (facts filled);
 * 2 it was already revoked (nothing written); 0 there is no such
 * assignment in the school (a malformed id included); -1 on a database
 * error.
 */
int standins_revoke_tx(struct db *db, uint64_t school_id, const char *public_id,
    uint64_t by, struct standin_facts *facts);

/* The audit detail of an assignment, a JSON object appended to d:
 * {"standin":login,"scope":"course","course":code,"term":"114-1"} or
 * {"standin":login,"scope":"teacher","for_teacher":login,
 * "starts_on":..,"ends_on":..}. */
void standins_detail(const struct standin_facts *f, struct buf *d);

#endif
