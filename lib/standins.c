/*
 * standins: the stand-in certifiers of a school (see standins.h). The
 * checks of a new assignment run inside the caller's transaction after the
 * stand-in's teachers row is locked, so the duplicate check and the insert
 * cannot interleave with another request's. Look-ups bind the school, and
 * a row of another school is reported exactly like a missing one.
 */
#include "standins.h"

#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"

static const char *const standin_scope_names[STANDIN_SCOPE__MAX] = {
    [STANDIN_SCOPE_COURSE] = "course",
    [STANDIN_SCOPE_TEACHER] = "teacher",
};

static const char *const standin_state_names[STANDIN_STATE__MAX] = {
    [STANDIN_IN_FORCE] = "in_force",
    [STANDIN_NOT_YET] = "not_yet",
    [STANDIN_ENDED] = "ended",
    [STANDIN_REVOKED] = "revoked",
};

static const char *const standin_refusal_names[STANDIN_R__MAX] = {
    [STANDIN_R_OK] = "ok",
    [STANDIN_R_NO_TEACHER] = "no_teacher",
    [STANDIN_R_INACTIVE] = "inactive",
    [STANDIN_R_NO_COURSE] = "no_course",
    [STANDIN_R_OWN_COURSE] = "own_course",
    [STANDIN_R_SELF] = "self",
    [STANDIN_R_ORDER] = "order",
    [STANDIN_R_DUP_COURSE] = "dup_course",
    [STANDIN_R_DUP_TEACHER] = "dup_teacher",
};

const char *
standins_scope_name(enum standin_scope s)
{
	return (unsigned)s < STANDIN_SCOPE__MAX ? standin_scope_names[s] : "";
}

const char *
standins_state_name(enum standin_state s)
{
	return (unsigned)s < STANDIN_STATE__MAX ? standin_state_names[s] : "";
}

const char *
standins_refusal_name(enum standin_refusal r)
{
	return (unsigned)r < STANDIN_R__MAX ? standin_refusal_names[r] : "";
}

int
standins_scope_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < STANDIN_SCOPE__MAX; i++)
		if (strcmp(s, standin_scope_names[i]) == 0)
			return i;
	return -1;
}

enum standin_state
standins_state(
    int revoked, const char *starts_on, const char *ends_on, const char *today)
{
	if (revoked)
		return STANDIN_REVOKED;
	/* Dates are "YYYY-MM-DD": text order is date order. */
	if (starts_on != NULL && starts_on[0] != '\0' &&
	    strcmp(today, starts_on) < 0)
		return STANDIN_NOT_YET;
	if (ends_on != NULL && ends_on[0] != '\0' && strcmp(today, ends_on) > 0)
		return STANDIN_ENDED;
	return STANDIN_IN_FORCE;
}

/* The one row sql selects for public id pub in the school (sql binds
 * "public_id = ? AND school_id = ?"): 1 with it in *res (the caller frees
 * it), 0 when there is none (a malformed id included), -1. */
static int
standin_find(struct db *db, const char *sql, uint64_t school_id,
    const char *pub, struct db_res **res)
{
	struct db_param p[2];

	*res = NULL;
	if (pub == NULL || !ids_public_valid(pub))
		return 0;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)school_id);
	if ((*res = db_query(db, sql, p, 2)) == NULL)
		return -1;
	if (db_res_rows(*res) == 1)
		return 1;
	db_res_free(*res);
	*res = NULL;
	return 0;
}

/* A teacher of the school by public id, locked when lock is set:
 * 1 with their row id, login and whether they may stand in (teachers
 * status active, account not disabled); 0 when there is none; -1. */
static int
standin_teacher(struct db *db, uint64_t school_id, const char *pub, int lock,
    uint64_t *id, char login[33], int *active)
{
	struct db_res *res;
	int rc;

	rc = standin_find(db,
	    lock ? "SELECT t.id, u.login, t.status = 'active' AND u.status <> "
		   "'disabled' FROM teachers t JOIN users u ON u.id = "
		   "t.user_id WHERE t.public_id = ? AND t.school_id = ? FOR "
		   "UPDATE"
		 : "SELECT t.id, u.login, t.status = 'active' AND u.status <> "
		   "'disabled' FROM teachers t JOIN users u ON u.id = "
		   "t.user_id WHERE t.public_id = ? AND t.school_id = ?",
	    school_id, pub, &res);
	if (rc != 1)
		return rc;
	*id = (uint64_t)db_res_int(res, 0, 0);
	(void)str_copy(login, 33, db_res_get(res, 0, 1));
	*active = db_res_int(res, 0, 2) != 0;
	db_res_free(res);
	return 1;
}

/* A course of the school by public id: 1 with its row id, code and term
 * label; 0 when none; -1. */
static int
standin_course(struct db *db, uint64_t school_id, const char *pub, uint64_t *id,
    struct standin_facts *facts)
{
	struct db_res *res;
	int rc;

	rc = standin_find(db,
	    "SELECT c.id, c.code, CONCAT(t.year, '-', t.semester) FROM "
	    "courses c JOIN terms t ON t.id = c.term_id WHERE c.public_id = ? "
	    "AND c.school_id = ?",
	    school_id, pub, &res);
	if (rc != 1)
		return rc;
	*id = (uint64_t)db_res_int(res, 0, 0);
	(void)str_copy(facts->course_code, sizeof(facts->course_code),
	    db_res_get(res, 0, 1));
	(void)str_copy(facts->course_term, sizeof(facts->course_term),
	    db_res_get(res, 0, 2));
	db_res_free(res);
	return 1;
}

/* Refuses field with r (*why) when the query finds a row: 1 then, 0 when
 * it finds none, -1. */
static int
standin_refuse_if(struct db *db, const char *sql, const struct db_param *p,
    size_t n, enum standin_refusal *why, enum standin_refusal r)
{
	struct db_res *res = db_query(db, sql, p, n);
	int found;

	if (res == NULL)
		return -1;
	found = db_res_rows(res) > 0;
	db_res_free(res);
	if (found)
		*why = r;
	return found;
}

/* The checks of a course's assignment once the stand-in is known (sid 0:
 * they are not): the course exists, the stand-in does not teach it and
 * does not already stand in for it. 0 checked (why filled), -1. */
static int
standin_check_course(struct db *db, const struct standin_new *n, uint64_t sid,
    uint64_t *cid, struct standin_facts *facts,
    enum standin_refusal why[STANDIN_F__MAX])
{
	struct db_param p[2];
	int rc;

	rc = standin_course(db, n->school_id, n->course, cid, facts);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		why[STANDIN_F_COURSE] = STANDIN_R_NO_COURSE;
		return 0;
	}
	if (sid == 0)
		return 0;
	p[0] = DB_INT((long long)*cid);
	p[1] = DB_INT((long long)sid);
	rc = standin_refuse_if(db,
	    "SELECT 1 FROM course_teachers WHERE course_id = ? AND "
	    "teacher_id = ?",
	    p, 2, &why[STANDIN_F_STANDIN], STANDIN_R_OWN_COURSE);
	if (rc == 0)
		rc = standin_refuse_if(db,
		    "SELECT 1 FROM cert_standins WHERE course_id = ? AND "
		    "standin_teacher_id = ? AND revoked_at IS NULL",
		    p, 2, &why[STANDIN_F_STANDIN], STANDIN_R_DUP_COURSE);
	return rc < 0 ? -1 : 0;
}

/* The checks of a teacher's assignment: the teacher exists and is not the
 * stand-in, the dates are in order, and no assignment of the same pair
 * that is not revoked shares a day with them. 0 checked, -1. */
static int
standin_check_teacher(struct db *db, const struct standin_new *n, uint64_t sid,
    uint64_t *fid, struct standin_facts *facts,
    enum standin_refusal why[STANDIN_F__MAX])
{
	struct db_param p[4];
	int rc, active;

	if (strcmp(n->starts_on, n->ends_on) > 0)
		why[STANDIN_F_ENDS_ON] = STANDIN_R_ORDER;
	rc = standin_teacher(db, n->school_id, n->for_teacher, 0, fid,
	    facts->for_login, &active);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		why[STANDIN_F_FOR_TEACHER] = STANDIN_R_NO_TEACHER;
		return 0;
	}
	if (sid == 0)
		return 0;
	if (*fid == sid) {
		why[STANDIN_F_FOR_TEACHER] = STANDIN_R_SELF;
		return 0;
	}
	if (why[STANDIN_F_ENDS_ON] != STANDIN_R_OK)
		return 0;
	p[0] = DB_INT((long long)*fid);
	p[1] = DB_INT((long long)sid);
	p[2] = DB_STR(n->ends_on);
	p[3] = DB_STR(n->starts_on);
	rc = standin_refuse_if(db,
	    "SELECT 1 FROM cert_standins WHERE for_teacher_id = ? AND "
	    "standin_teacher_id = ? AND revoked_at IS NULL AND starts_on <= ? "
	    "AND ends_on >= ?",
	    p, 4, &why[STANDIN_F_STANDIN], STANDIN_R_DUP_TEACHER);
	return rc < 0 ? -1 : 0;
}

static int
standin_insert(struct db *db, const struct standin_new *n, uint64_t sid,
    uint64_t cid, uint64_t fid, struct standin_facts *facts)
{
	int course = n->scope == STANDIN_SCOPE_COURSE;
	struct db_param p[8];

	if (ids_public(facts->public_id) != 0)
		return -1;
	p[0] = DB_STR(facts->public_id);
	p[1] = DB_INT((long long)n->school_id);
	p[2] = DB_INT((long long)sid);
	p[3] = course ? DB_INT((long long)cid) : DB_NULLP;
	p[4] = course ? DB_NULLP : DB_INT((long long)fid);
	p[5] = course ? DB_NULLP : DB_STR(n->starts_on);
	p[6] = course ? DB_NULLP : DB_STR(n->ends_on);
	p[7] = DB_INT((long long)n->set_by);
	if (!course) {
		(void)str_copy(
		    facts->starts_on, sizeof(facts->starts_on), n->starts_on);
		(void)str_copy(
		    facts->ends_on, sizeof(facts->ends_on), n->ends_on);
	}
	return db_exec(db,
	    "INSERT INTO cert_standins (public_id, school_id, "
	    "standin_teacher_id, course_id, for_teacher_id, starts_on, "
	    "ends_on, set_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	    p, 8, NULL, NULL);
}

int
standins_create_tx(struct db *db, const struct standin_new *n,
    struct standin_facts *facts, enum standin_refusal why[STANDIN_F__MAX])
{
	uint64_t sid = 0, cid = 0, fid = 0;
	int rc, active = 0, i;

	memset(facts, 0, sizeof(*facts));
	for (i = 0; i < STANDIN_F__MAX; i++)
		why[i] = STANDIN_R_OK;
	facts->scope = n->scope;
	if (n->scope == STANDIN_SCOPE_TEACHER &&
	    (n->starts_on == NULL || n->ends_on == NULL)) {
		log_error("standins: a teacher's assignment without its dates");
		return -1;
	}
	rc = standin_teacher(db, n->school_id, n->standin, 1, &sid,
	    facts->standin_login, &active);
	if (rc < 0)
		return -1;
	if (rc == 0)
		why[STANDIN_F_STANDIN] = STANDIN_R_NO_TEACHER;
	else if (!active)
		why[STANDIN_F_STANDIN] = STANDIN_R_INACTIVE;
	if (why[STANDIN_F_STANDIN] != STANDIN_R_OK)
		sid = 0; /* the checks against the stand-in are moot */
	rc = n->scope == STANDIN_SCOPE_COURSE
	    ? standin_check_course(db, n, sid, &cid, facts, why)
	    : standin_check_teacher(db, n, sid, &fid, facts, why);
	if (rc != 0)
		return -1;
	for (i = 0; i < STANDIN_F__MAX; i++)
		if (why[i] != STANDIN_R_OK)
			return 1;
	return standin_insert(db, n, sid, cid, fid, facts) == 0 ? 0 : -1;
}

static const char standin_facts_sql[] =
    "SELECT s.public_id, su.login, COALESCE(fu.login, ''), "
    "COALESCE(c.code, ''), COALESCE(CONCAT(t.year, '-', t.semester), ''), "
    "COALESCE(s.starts_on, ''), COALESCE(s.ends_on, ''), s.course_id IS "
    "NOT NULL FROM cert_standins s "
    "JOIN teachers st ON st.id = s.standin_teacher_id "
    "JOIN users su ON su.id = st.user_id "
    "LEFT JOIN teachers ft ON ft.id = s.for_teacher_id "
    "LEFT JOIN users fu ON fu.id = ft.user_id "
    "LEFT JOIN courses c ON c.id = s.course_id "
    "LEFT JOIN terms t ON t.id = c.term_id "
    "WHERE s.public_id = ? AND s.school_id = ?";

/* The facts of the school's assignment public_id: 1, 0 when there is
 * none, -1. */
static int
standin_facts_load(struct db *db, uint64_t school_id, const char *public_id,
    struct standin_facts *facts)
{
	struct db_res *res;
	int rc;

	rc = standin_find(db, standin_facts_sql, school_id, public_id, &res);
	if (rc != 1)
		return rc;
	rc = -1;
	if (str_copy(facts->public_id, sizeof(facts->public_id),
		db_res_get(res, 0, 0)) != 0 ||
	    str_copy(facts->standin_login, sizeof(facts->standin_login),
		db_res_get(res, 0, 1)) != 0 ||
	    str_copy(facts->for_login, sizeof(facts->for_login),
		db_res_get(res, 0, 2)) != 0 ||
	    str_copy(facts->course_code, sizeof(facts->course_code),
		db_res_get(res, 0, 3)) != 0 ||
	    str_copy(facts->course_term, sizeof(facts->course_term),
		db_res_get(res, 0, 4)) != 0 ||
	    str_copy(facts->starts_on, sizeof(facts->starts_on),
		db_res_get(res, 0, 5)) != 0 ||
	    str_copy(facts->ends_on, sizeof(facts->ends_on),
		db_res_get(res, 0, 6)) != 0) {
		log_error("standins: a value of %s does not fit", public_id);
		goto out;
	}
	facts->scope = db_res_int(res, 0, 7) ? STANDIN_SCOPE_COURSE
					     : STANDIN_SCOPE_TEACHER;
	rc = 1;
out:
	db_res_free(res);
	return rc;
}

int
standins_revoke_tx(struct db *db, uint64_t school_id, const char *public_id,
    uint64_t by, struct standin_facts *facts)
{
	struct db_param p[3];
	unsigned long long changed = 0;
	int rc;

	memset(facts, 0, sizeof(*facts));
	if (public_id == NULL || !ids_public_valid(public_id))
		return 0; /* before the UPDATE: nothing to look for */
	/* The UPDATE takes the row's lock: of two revocations, one changes
	 * it and the other finds it already revoked. */
	p[0] = DB_INT((long long)by);
	p[1] = DB_STR(public_id);
	p[2] = DB_INT((long long)school_id);
	if (db_exec(db,
		"UPDATE cert_standins SET revoked_at = CURRENT_TIMESTAMP(6), "
		"revoked_by = ? WHERE public_id = ? AND school_id = ? AND "
		"revoked_at IS NULL",
		p, 3, &changed, NULL) != 0)
		return -1;
	rc = standin_facts_load(db, school_id, public_id, facts);
	if (rc <= 0)
		return rc;
	return changed > 0 ? 1 : 2;
}

void
standins_detail(const struct standin_facts *f, struct buf *d)
{
	buf_putc(d, '{');
	buf_json_kv(d, "standin", f->standin_login);
	buf_json_kv(d, "scope", standins_scope_name(f->scope));
	if (f->scope == STANDIN_SCOPE_COURSE) {
		buf_json_kv(d, "course", f->course_code);
		buf_json_kv(d, "term", f->course_term);
	} else {
		buf_json_kv(d, "for_teacher", f->for_login);
		buf_json_kv(d, "starts_on", f->starts_on);
		buf_json_kv(d, "ends_on", f->ends_on);
	}
	buf_putc(d, '}');
}
