/*
 * standins: the school admin's stand-in certifiers (代理人) at
 * /admin/standins — the assignments in force or due (not revoked) with
 * where today stands in each, the revoked ones below them, a form that
 * names a new stand-in for a course or for a teacher over dates, and a
 * button that revokes one. lib/standins checks and writes; each change is
 * audited in its transaction. It never shows, names or changes another
 * school's teacher, course or assignment: those are answered like missing
 * ones.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "form.h"
#include "records.h"
#include "router.h"
#include "standins.h"
#include "template.h"
#include "util.h"

enum {
	SF_STANDIN,
	SF_SCOPE,
	SF_COURSE,
	SF_FOR_TEACHER,
	SF_STARTS,
	SF_ENDS,
	SF_CSRF,
	SF__MAX
};
static const struct form_field standin_fields[SF__MAX] = {
    [SF_STANDIN] = {"standin", FORM_PATTERN, FORM_REQUIRED, 22, 22,
	REC_PUBLIC_ID},
    [SF_SCOPE] = {"scope", FORM_ENUM, FORM_REQUIRED, 0, 0, "course|teacher"},
    /* Required by scope: course for a course, the others for a teacher
     * (checked by standins_post; the other scope's fields are ignored). */
    [SF_COURSE] = {"course", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
    [SF_FOR_TEACHER] = {"for_teacher", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
    [SF_STARTS] = {"starts_on", FORM_DATE, 0, 0, 0, NULL},
    [SF_ENDS] = {"ends_on", FORM_DATE, 0, 0, 0, NULL},
    [SF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* The form field of each of lib/standins' refusable fields. */
static const size_t standin_refused_field[STANDIN_F__MAX] = {
    [STANDIN_F_STANDIN] = SF_STANDIN,
    [STANDIN_F_COURSE] = SF_COURSE,
    [STANDIN_F_FOR_TEACHER] = SF_FOR_TEACHER,
    [STANDIN_F_ENDS_ON] = SF_ENDS,
};

/* One assignment of the lists: who, for what, set and revoked by whom and
 * when. The columns are named by the SC_ enum below. */
#define STANDINS_COLS                                                          \
	"s.public_id, CONCAT(su.name, ' (', su.login, ')'), "                  \
	"s.course_id IS NOT NULL, COALESCE(c.code, ''), "                      \
	"COALESCE(c.name, ''), COALESCE(CONCAT(t.year, '-', t.semester), "     \
	"''), "                                                                \
	"COALESCE(CONCAT(fu.name, ' (', fu.login, ')'), ''), "                 \
	"COALESCE(s.starts_on, ''), COALESCE(s.ends_on, ''), "                 \
	"CONCAT(bu.name, ' (', bu.login, ')'), "                               \
	"DATE_FORMAT(s.set_at + INTERVAL 8 HOUR, '%Y-%m-%d %H:%i'), "          \
	"COALESCE(CONCAT(ru.name, ' (', ru.login, ')'), ''), "                 \
	"COALESCE(DATE_FORMAT(s.revoked_at + INTERVAL 8 HOUR, "                \
	"'%Y-%m-%d %H:%i'), '')"
#define STANDINS_FROM                                                          \
	"FROM cert_standins s "                                                \
	"JOIN teachers st ON st.id = s.standin_teacher_id "                    \
	"JOIN users su ON su.id = st.user_id "                                 \
	"LEFT JOIN courses c ON c.id = s.course_id "                           \
	"LEFT JOIN terms t ON t.id = c.term_id "                               \
	"LEFT JOIN teachers ft ON ft.id = s.for_teacher_id "                   \
	"LEFT JOIN users fu ON fu.id = ft.user_id "                            \
	"JOIN users bu ON bu.id = s.set_by "                                   \
	"LEFT JOIN users ru ON ru.id = s.revoked_by "                          \
	"WHERE s.school_id = ? "
enum {
	SC_ID,
	SC_STANDIN,
	SC_IS_COURSE,
	SC_CODE,
	SC_NAME,
	SC_TERM,
	SC_FOR,
	SC_STARTS,
	SC_ENDS,
	SC_SET_BY,
	SC_SET_AT,
	SC_REVOKED_BY,
	SC_REVOKED_AT
};

static const char standins_active_sql[] =
    "SELECT " STANDINS_COLS " " STANDINS_FROM "AND s.revoked_at IS NULL "
    "ORDER BY s.set_at DESC, s.id DESC";

/* The school's courses for the form, newest term first. */
static const char standins_courses_sql[] =
    "SELECT c.public_id, CONCAT(t.year, '-', t.semester, ' ', c.code, ' ', "
    "c.name) FROM courses c JOIN terms t ON t.id = c.term_id WHERE "
    "c.school_id = ? ORDER BY t.year DESC, t.semester DESC, c.code";

/* One assignment as the lists show it, its state on day today. */
static struct tval *
standin_row(struct app *app, struct request *r, const struct db_res *res,
    size_t i, const char *today)
{
	struct tval *row = tval_obj();
	int revoked = db_res_get(res, i, SC_REVOKED_AT)[0] != '\0';
	enum standin_state st = standins_state(revoked,
	    db_res_get(res, i, SC_STARTS), db_res_get(res, i, SC_ENDS), today);
	char key[48];
	static const char *const keys[] = {
	    [SC_ID] = "id",
	    [SC_STANDIN] = "standin",
	    [SC_CODE] = "code",
	    [SC_NAME] = "name",
	    [SC_TERM] = "term",
	    [SC_FOR] = "for_teacher",
	    [SC_STARTS] = "starts_on",
	    [SC_ENDS] = "ends_on",
	    [SC_SET_BY] = "set_by",
	    [SC_SET_AT] = "set_at",
	    [SC_REVOKED_BY] = "revoked_by",
	    [SC_REVOKED_AT] = "revoked_at",
	};
	size_t k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (keys[k] != NULL)
			(void)tval_set_str(row, keys[k], db_res_get(res, i, k));
	(void)tval_set_bool(
	    row, "is_course", db_res_int(res, i, SC_IS_COURSE) != 0);
	(void)tval_set_str(row, "state", standins_state_name(st));
	str_printf(
	    key, sizeof(key), "standins.state.%s", standins_state_name(st));
	(void)tval_set_str(row, "state_text", auth_msg(app, r, key));
	return row;
}

static struct tval *
standin_rows(struct app *app, struct request *r, const struct db_res *res,
    const char *today)
{
	struct tval *list = tval_list();
	size_t i;

	for (i = 0; i < db_res_rows(res); i++)
		(void)tval_push(list, standin_row(app, r, res, i, today));
	return list;
}

/* The select choices of the form: the school's active teachers (for the
 * stand-in and for the teacher stood in for) and its courses, with the
 * posted choices (f; NULL on a GET) selected. 0/-1. */
static int
standins_choices(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	const char *sel[1];
	struct tval *list;
	struct db_res *res;
	int teacher;

	sel[0] = f != NULL ? form_echo(f, SF_STANDIN) : "";
	if ((list = rec_teacher_options(app, r, sel, 1)) == NULL)
		return -1;
	(void)tval_set(ctx, "standins", list);
	sel[0] = f != NULL ? form_echo(f, SF_FOR_TEACHER) : "";
	if ((list = rec_teacher_options(app, r, sel, 1)) == NULL)
		return -1;
	(void)tval_set(ctx, "for_teachers", list);
	if ((res = db_query(app_db(app), standins_courses_sql, p, 1)) == NULL)
		return -1;
	sel[0] = f != NULL ? form_echo(f, SF_COURSE) : "";
	(void)tval_set(ctx, "courses", rec_options(res, sel, 1));
	db_res_free(res);
	teacher = f != NULL && strcmp(form_echo(f, SF_SCOPE), "teacher") == 0;
	(void)tval_set_bool(ctx, "scope_course", !teacher);
	(void)tval_set_bool(ctx, "scope_teacher", teacher);
	return 0;
}

/* Renders /admin/standins: the assignments not revoked, one page of the
 * revoked ones, and the form (f: the one just posted, NULL on a GET).
 * Frees ctx. */
static enum request_outcome
standins_page(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, long page, int status)
{
	struct db_param p[3] = {DB_INT((long long)r->auth->u.school_id)};
	char today[WINDOW_DATE_LEN + 1];
	struct db_res *res;
	long long total = 0;

	windows_today(today);
	(void)tval_set_str(ctx, "today", today);
	if (standins_choices(app, r, ctx, f) != 0)
		goto fail;
	if ((res = db_query(app_db(app), standins_active_sql, p, 1)) == NULL)
		goto fail;
	(void)tval_set(ctx, "active", standin_rows(app, r, res, today));
	(void)tval_set_int(ctx, "active_count", (long long)db_res_rows(res));
	db_res_free(res);
	res = rec_page_query(app, STANDINS_COLS,
	    STANDINS_FROM "AND s.revoked_at IS NOT NULL",
	    "s.revoked_at DESC, s.id DESC", p, 1, page, &total);
	if (res == NULL)
		goto fail;
	(void)tval_set(ctx, "revoked", standin_rows(app, r, res, today));
	db_res_free(res);
	rec_pages(app, r, ctx, "standins.revoked_total", total, page,
	    "/admin/standins");
	return auth_render(app, r, "standins", ctx, status);
fail:
	tval_free(ctx);
	return RQ_UNAVAILABLE;
}

enum request_outcome
standins_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "standins.title");
	long page = auth_page_query(app, r, ctx, "created|revoked", "standins");

	return standins_page(app, r, ctx, NULL, page, 200);
}

/* A field the chosen scope needs but the form left empty: its message. */
static int
standin_need(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, size_t i)
{
	char k[FORM_NAME_MAX + 8];

	if (form_has(f, i) || form_error(f, i) != FORM_E_OK)
		return 0;
	str_printf(k, sizeof(k), "e_%s", standin_fields[i].name);
	(void)tval_set_str(ctx, k, auth_msg(app, r, "form.error.missing"));
	return 1;
}

/* Creates the assignment the valid form f asks for, audited, in one
 * transaction: 0 created, 1 refused (the messages in ctx), -1. */
static int
standin_create(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, enum standin_scope scope)
{
	struct db *db = app_db(app);
	struct standin_new n = {
	    .school_id = r->auth->u.school_id,
	    .set_by = r->auth->u.id,
	    .scope = scope,
	    .standin = form_str(f, SF_STANDIN),
	    .course = form_str(f, SF_COURSE),
	    .for_teacher = form_str(f, SF_FOR_TEACHER),
	    .starts_on = form_str(f, SF_STARTS),
	    .ends_on = form_str(f, SF_ENDS),
	};
	enum standin_refusal why[STANDIN_F__MAX];
	struct standin_facts facts;
	char target[48], k[FORM_NAME_MAX + 8], mk[64];
	struct buf d;
	size_t i;
	int rc;

	if (db_begin(db) != 0)
		return -1;
	buf_init(&d);
	rc = standins_create_tx(db, &n, &facts, why);
	if (rc == 0) {
		standins_detail(&facts, &d);
		str_printf(
		    target, sizeof(target), "standin:%s", facts.public_id);
		rc =
		    auth_audit_tx(db, r, "certify.standin_set", target, d.data);
	}
	buf_free(&d);
	if (rc == 0 && db_commit(db) == 0)
		return 0;
	(void)db_rollback(db);
	if (rc != 1)
		return -1;
	for (i = 0; i < STANDIN_F__MAX; i++) {
		if (why[i] == STANDIN_R_OK)
			continue;
		str_printf(k, sizeof(k), "e_%s",
		    standin_fields[standin_refused_field[i]].name);
		str_printf(mk, sizeof(mk), "standins.error.%s",
		    standins_refusal_name(why[i]));
		(void)tval_set_str(ctx, k, auth_msg(app, r, mk));
	}
	return 1;
}

enum request_outcome
standins_post(struct app *app, struct request *r)
{
	struct form *f = form_new(standin_fields, SF__MAX);
	enum request_outcome o;
	struct tval *ctx;
	int invalid, scope, rc;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "standins.title");
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	rec_form_ctx(app, r, ctx, f, standin_fields, SF__MAX, invalid);
	scope = standins_scope_parse(form_str(f, SF_SCOPE));
	if (scope == STANDIN_SCOPE_COURSE)
		invalid |= standin_need(app, r, ctx, f, SF_COURSE);
	if (scope == STANDIN_SCOPE_TEACHER) {
		invalid |= standin_need(app, r, ctx, f, SF_FOR_TEACHER);
		invalid |= standin_need(app, r, ctx, f, SF_STARTS);
		invalid |= standin_need(app, r, ctx, f, SF_ENDS);
	}
	if (!invalid && scope >= 0) {
		rc = standin_create(app, r, ctx, f, (enum standin_scope)scope);
		if (rc < 0) {
			form_free(f);
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
		if (rc == 0) {
			form_free(f);
			tval_free(ctx);
			request_redirect(r, "/admin/standins?done=created");
			return RQ_OK;
		}
	}
	(void)tval_set_str(ctx, "alert",
	    auth_msg(app, r,
		form_unknown(f) != NULL ? "form.error.unknown"
					: "standins.invalid"));
	o = standins_page(app, r, ctx, f, 1, 422);
	form_free(f);
	return o;
}

enum request_outcome
standin_revoke_post(struct app *app, struct request *r)
{
	const char *pub = request_capture(r, "id");
	struct db *db = app_db(app);
	struct standin_facts facts;
	char target[48];
	struct buf d;
	int rc;

	if (!auth_csrf_form_ok(r))
		return RQ_BAD_REQUEST;
	if (db_begin(db) != 0)
		return RQ_UNAVAILABLE;
	rc = standins_revoke_tx(
	    db, r->auth->u.school_id, pub, r->auth->u.id, &facts);
	if (rc == 1) {
		buf_init(&d);
		standins_detail(&facts, &d);
		str_printf(
		    target, sizeof(target), "standin:%s", facts.public_id);
		if (auth_audit_tx(
			db, r, "certify.standin_revoked", target, d.data) != 0)
			rc = -1;
		buf_free(&d);
	}
	if (rc == 1 && db_commit(db) != 0)
		rc = -1;
	if (rc != 1)
		(void)db_rollback(db);
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0)
		return auth_deny(app, r, "not_found", 1);
	/* Revoking one already revoked changes nothing and says the same. */
	request_redirect(r, "/admin/standins?done=revoked");
	return RQ_OK;
}
