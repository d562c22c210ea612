/*
 * home: GET /. A visitor who is not signed in sees what Licheng is and how
 * accounts are issued, in their language; a signed-in user sees their
 * role's home page: who they are, the warnings that concern them (a
 * password about to expire; for admins and central staff, open security
 * alerts and a job queue in trouble), the notices of notices.h (items
 * waiting for a teacher, a student's certification results, a homeroom
 * teacher's class progress) and where to go next. A user with a
 * pending step (second factor, privacy notice, expired password, TOTP
 * enrolment) is sent there first.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "i18n.h"
#include "jobstats.h"
#include "notices.h"
#include "page.h"
#include "router.h"
#include "template.h"
#include "util.h"

/* Open alerts for this user: all of them for central staff, their
 * school's for a school admin; newest first, at most 20 shown. */
static int
home_alerts(struct app *app, struct request *r, struct tval *ctx)
{
	const struct user *u = &r->auth->u;
	struct db_param p[1];
	struct db_res *res;
	struct tval *list, *item;
	char key[96];
	size_t i;

	if (u->role == ROLE_CENTRAL_STAFF)
		res = db_query(app_db(app),
		    "SELECT a.public_id, DATE_FORMAT(a.at, '%Y-%m-%d %H:%i'), "
		    "a.kind, a.ip, COALESCE(s.code, ''), "
		    "(SELECT COUNT(*) FROM alerts WHERE acknowledged_at IS "
		    "NULL) FROM alerts a LEFT JOIN schools s ON s.id = "
		    "a.school_id WHERE a.acknowledged_at IS NULL ORDER BY a.at "
		    "DESC LIMIT 20",
		    NULL, 0);
	else if (u->role == ROLE_SCHOOL_ADMIN) {
		p[0] = DB_INT((long long)u->school_id);
		res = db_query(app_db(app),
		    "SELECT a.public_id, DATE_FORMAT(a.at, '%Y-%m-%d %H:%i'), "
		    "a.kind, a.ip, '', (SELECT COUNT(*) FROM alerts WHERE "
		    "acknowledged_at IS NULL AND school_id = a.school_id) "
		    "FROM alerts a WHERE a.acknowledged_at IS NULL AND "
		    "a.school_id = ? ORDER BY a.at DESC LIMIT 20",
		    p, 1);
	} else
		return 0;
	if (res == NULL)
		return -1;
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		item = tval_obj();
		(void)tval_set_str(item, "id", db_res_get(res, i, 0));
		(void)tval_set_str(item, "at", db_res_get(res, i, 1));
		str_printf(
		    key, sizeof(key), "alert.kind.%s", db_res_get(res, i, 2));
		(void)tval_set_str(item, "what",
		    i18n_has(app->msgs, key) ? auth_msg(app, r, key)
					     : db_res_get(res, i, 2));
		(void)tval_set_str(item, "ip", db_res_get(res, i, 3));
		(void)tval_set_str(item, "school", db_res_get(res, i, 4));
		(void)tval_push(list, item);
	}
	if (db_res_rows(res) > 0)
		(void)tval_set_int(ctx, "alert_count", db_res_int(res, 0, 5));
	db_res_free(res);
	(void)tval_set(ctx, "alerts", list);
	return 0;
}

/* "{n} min", "{n} h" or "{n} d" of the oldest pending job's wait, in the
 * largest unit that still reads as at least two of it. */
static void
home_jobs_age(
    struct app *app, struct request *r, long long secs, struct buf *out)
{
	char text[160];

	if (secs < 2 * 3600)
		auth_msg_n(app, r, "jobs.home.old_minutes", (long)(secs / 60),
		    text, sizeof(text));
	else if (secs < 2 * 86400)
		auth_msg_n(app, r, "jobs.home.old_hours", (long)(secs / 3600),
		    text, sizeof(text));
	else
		auth_msg_n(app, r, "jobs.home.old_days", (long)(secs / 86400),
		    text, sizeof(text));
	buf_puts(out, text);
}

/*
 * The job queue's warning line for a school admin and central staff: any
 * dead job, or a pending job older than jobs.warn_age. The queue serves
 * the whole platform, so the counts are not per school; they name no
 * school's data. 0, or -1 when the table could not be read.
 */
static int
home_jobs(struct app *app, struct request *r, struct tval *ctx)
{
	const struct user *u = &r->auth->u;
	struct jobstats st;
	long long dead, oldest;
	char text[160];
	struct buf line;
	int old;

	if (u->role != ROLE_SCHOOL_ADMIN && u->role != ROLE_CENTRAL_STAFF)
		return 0;
	if (jobstats_load(app_db(app), &st) != 0)
		return -1;
	dead = jobstats_dead(&st);
	oldest = jobstats_oldest(&st);
	jobstats_free(&st);
	old = oldest > (long long)app->conf->jobs_warn_age;
	if (dead == 0 && !old)
		return 0;
	buf_init(&line);
	buf_puts(&line, auth_msg(app, r, "jobs.home.lead"));
	if (dead > 0)
		buf_puts(&line,
		    auth_msg_n(app, r, "jobs.home.dead", (long)dead, text,
			sizeof(text)));
	if (dead > 0 && old)
		buf_puts(&line, auth_msg(app, r, "jobs.home.sep"));
	if (old)
		home_jobs_age(app, r, oldest, &line);
	buf_puts(&line, auth_msg(app, r, "jobs.home.end"));
	(void)tval_set_str(ctx, "jobs_warning", line.data);
	buf_free(&line);
	return 0;
}

static enum request_outcome
home_user(struct app *app, struct request *r)
{
	const struct auth *a = r->auth;
	struct tval *ctx = auth_page_ctx(app, r, "home.user_title");
	char text[256], key[64];

	if (a->pw_days_left <= app->conf->pw_warn_days)
		(void)tval_set_str(ctx, "pw_warning",
		    auth_msg_n(app, r, "password.expires_soon", a->pw_days_left,
			text, sizeof(text)));
	if (home_alerts(app, r, ctx) != 0 || home_jobs(app, r, ctx) != 0 ||
	    notices_teacher(app, r, ctx) != 0 ||
	    notices_student(app, r, ctx) != 0 ||
	    notices_homeroom(app, r, ctx) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	str_printf(key, sizeof(key), "home.role.%s", role_name(a->u.role));
	(void)tval_set_str(ctx, "role_lead", auth_msg(app, r, key));
	(void)tval_set_bool(ctx, "is_admin", a->u.role == ROLE_SCHOOL_ADMIN);
	(void)tval_set_bool(ctx, "is_central", a->u.role == ROLE_CENTRAL_STAFF);
	(void)tval_set_bool(ctx, "is_auditor", a->u.role == ROLE_AUDITOR);
	return auth_render(app, r, "home_user", ctx, 200);
}

enum request_outcome
home_get(struct app *app, struct request *r)
{
	const char *lang = r->auth->lang;
	struct tval *ctx;
	int rc;

	if (r->auth->s.user_id != 0) {
		if (r->auth->step != NULL) {
			request_redirect(r, r->auth->step);
			return RQ_OK;
		}
		return home_user(app, r);
	}
	ctx = tval_obj();
	rc =
	    tval_set_str(ctx, "title", i18n_get(app->msgs, lang, "home.title"));
	if (rc == 0)
		rc = page_render(
		    app->tmpl, app->msgs, lang, "home", ctx, &r->body);
	tval_free(ctx);
	if (rc != 0) {
		buf_reset(&r->body);
		return RQ_ERROR;
	}
	request_ok(r, 200, "text/html; charset=utf-8");
	return RQ_OK;
}
