/*
 * review: the school admins' periodic account review (seeds/001 item
 * 二十二) — /admin/accounts lists the school's accounts with role, status,
 * last sign-in and days inactive, filtered and 50 a page, with the CSV of
 * the same (audited as an export); an admin records that the list was
 * checked, and disables or enables an account with a reason, each audited
 * in the transaction of the change. It must never act on an account of
 * another school (answered 404, exactly like an unknown one), never let an
 * admin disable their own account, and never show a national ID or birth
 * date. Names are shown in full here: the review exists to match each
 * account to a person who should still have it.
 */
#include <string.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "form.h"
#include "i18n.h"
#include "ids.h"
#include "log.h"
#include "review.h"
#include "router.h"
#include "session.h"
#include "template.h"
#include "util.h"

#define REVIEW_CSRF AUTH_CSRF_PATTERN

/* The query of the page and of its CSV: the filters, the page, and the
 * notice after a redirect. */
enum { QF_ROLE, QF_STATUS, QF_INACTIVE, QF_PAGE, QF_DONE, QF__MAX };
static const struct form_field review_query_fields[QF__MAX] = {
    [QF_ROLE] = {"role", FORM_ENUM, 0, 0, 0, "student|teacher|school_admin"},
    [QF_STATUS] = {"status", FORM_ENUM, 0, 0, 0, "pending|active|disabled"},
    [QF_INACTIVE] = {"inactive", FORM_INT, 0, 1, 36500, NULL},
    [QF_PAGE] = {"page", FORM_INT, 0, 1, 100000, NULL},
    [QF_DONE] = {"done", FORM_ENUM, 0, 0, 0, "reviewed|disabled|enabled"},
};

/* The filters, in the order of the fields, for links and the export's
 * audit detail. */
static const char *const review_filters[] = {"role", "status", "inactive"};
static const char *const review_roles[] = {
    "school_admin", "teacher", "student"};
static const char *const review_statuses[] = {"pending", "active", "disabled"};

/* --------------------------------------------------------------- helpers */

static void
review_who(const struct request *r, struct review_actor *who)
{
	const struct user *u = &r->auth->u;

	who->user_id = u->id;
	who->actor = u->login;
	who->role = role_name(u->role);
	who->school = u->school_code;
	who->ip = r->auth->ip;
}

/* The filter of a parsed query; only valid values count. */
static void
review_filter_of(const struct form *f, struct review_filter *rf)
{
	memset(rf, 0, sizeof(*rf));
	rf->page = 1;
	if (f == NULL)
		return;
	if (form_has(f, QF_ROLE) && form_error(f, QF_ROLE) == FORM_E_OK)
		rf->role = form_str(f, QF_ROLE);
	if (form_has(f, QF_STATUS) && form_error(f, QF_STATUS) == FORM_E_OK)
		rf->status = form_str(f, QF_STATUS);
	if (form_has(f, QF_INACTIVE) && form_error(f, QF_INACTIVE) == FORM_E_OK)
		rf->inactive_days = (long)form_int(f, QF_INACTIVE);
	if (form_has(f, QF_PAGE) && form_error(f, QF_PAGE) == FORM_E_OK)
		rf->page = (long)form_int(f, QF_PAGE);
}

/* base and the filters of f as a query string, with page when > 0. The
 * values are enum words and numbers the form layer accepted, so they need
 * no escaping in a URL. */
static void
review_href(struct buf *b, const char *base, const struct form *f, long page)
{
	char sep = '?';
	size_t i;

	buf_reset(b);
	buf_puts(b, base);
	for (i = 0; f != NULL && i < ARRAY_SIZE(review_filters); i++) {
		if (!form_has(f, i) || form_error(f, i) != FORM_E_OK)
			continue;
		buf_printf(
		    b, "%c%s=%s", sep, review_filters[i], form_str(f, i));
		sep = '&';
	}
	if (page > 0)
		buf_printf(b, "%cpage=%ld", sep, page);
}

/* One <option> list: words with their labels (prefix + word), the one
 * typed selected. */
static struct tval *
review_options(struct app *app, struct request *r, const char *const *words,
    size_t n, const char *prefix, const char *typed)
{
	struct tval *list = tval_list(), *item;
	char key[64];
	size_t i;

	for (i = 0; i < n; i++) {
		item = tval_obj();
		str_printf(key, sizeof(key), "%s%s", prefix, words[i]);
		(void)tval_set_str(item, "value", words[i]);
		(void)tval_set_str(item, "label", auth_msg(app, r, key));
		(void)tval_set_bool(
		    item, "selected", strcmp(typed, words[i]) == 0);
		(void)tval_push(list, item);
	}
	return list;
}

/* The filter form as the user left it. */
static void
review_form_ctx(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	const char *role = f != NULL ? form_echo(f, QF_ROLE) : "";
	const char *status = f != NULL ? form_echo(f, QF_STATUS) : "";

	(void)tval_set(ctx, "roles",
	    review_options(
		app, r, review_roles, ARRAY_SIZE(review_roles), "role.", role));
	(void)tval_set(ctx, "statuses",
	    review_options(app, r, review_statuses, ARRAY_SIZE(review_statuses),
		"review.status.", status));
	(void)tval_set_str(
	    ctx, "f_inactive", f != NULL ? form_echo(f, QF_INACTIVE) : "");
}

/* Each filter's message when the query is invalid. */
static void
review_query_errors(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	static const char *const keys[QF__MAX] = {"role_error", "status_error",
	    "inactive_error", "page_error", "done_error"};
	size_t i;

	for (i = 0; i < QF__MAX; i++)
		auth_field_error(app, r, ctx, keys[i], f, i);
	if (form_unknown(f) != NULL)
		(void)tval_set_str(ctx, "unknown_error",
		    auth_msg(app, r, "form.error.unknown"));
	(void)tval_set_str(ctx, "alert", auth_msg(app, r, "review.invalid"));
}

/* One account of the listing for the template. */
static struct tval *
review_row_ctx(struct app *app, struct request *r, const struct review_row *w)
{
	struct tval *item = tval_obj();
	char key[80];
	int self = strcmp(w->public_id, r->auth->u.public_id) == 0;
	int disabled = strcmp(w->status, "disabled") == 0;

	(void)tval_set_str(item, "id", w->public_id);
	str_printf(key, sizeof(key), "role.%s", w->role);
	(void)tval_set_str(item, "role", auth_msg(app, r, key));
	(void)tval_set_str(item, "login", w->login);
	(void)tval_set_str(item, "name", w->name);
	(void)tval_set_str(item, "student_no", w->student_no);
	str_printf(key, sizeof(key), "review.status.%s", w->status);
	(void)tval_set_str(item, "status", auth_msg(app, r, key));
	(void)tval_set_str(item, "status_code", w->status);
	(void)tval_set_str(item, "created", w->created);
	(void)tval_set_str(item, "last_login", w->last_login);
	(void)tval_set_int(item, "days", w->days_inactive);
	if (w->record_status[0] != '\0') {
		str_printf(
		    key, sizeof(key), "review.record.%s", w->record_status);
		(void)tval_set_str(item, "record", auth_msg(app, r, key));
	}
	(void)tval_set_str(item, "disable_on", w->disable_on);
	(void)tval_set_bool(item, "overdue", w->overdue);
	(void)tval_set_str(item, "disabled_at", w->disabled_at);
	(void)tval_set_str(item, "disabled_by", w->disabled_by);
	if (w->disabled_auto) {
		str_printf(key, sizeof(key), "review.auto_reason.%s",
		    w->disabled_reason);
		(void)tval_set_str(item, "disabled_reason",
		    i18n_has(app->msgs, key) ? auth_msg(app, r, key)
					     : w->disabled_reason);
	} else
		(void)tval_set_str(item, "disabled_reason", w->disabled_reason);
	(void)tval_set_bool(item, "disabled_auto", w->disabled_auto);
	(void)tval_set_bool(item, "self", self);
	(void)tval_set_bool(item, "can_disable", !disabled && !self);
	(void)tval_set_bool(item, "can_enable", disabled);
	return item;
}

/* The rows of the page, its count and the links around it. 0/-1. */
static int
review_rows_ctx(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	struct review_filter rf;
	struct review_list l;
	struct tval *rows;
	struct buf href;
	char text[256];
	long pages;
	size_t i;

	review_filter_of(f, &rf);
	if (review_list(app_db(app), r->auth->u.school_id, &rf,
		app->conf->accounts_grace_days, &l) != 0)
		return -1;
	rows = tval_list();
	for (i = 0; i < l.n; i++)
		(void)tval_push(rows, review_row_ctx(app, r, &l.rows[i]));
	(void)tval_set(ctx, "rows", rows);
	(void)tval_set_int(ctx, "total", l.total);
	(void)tval_set_str(ctx, "total_text",
	    auth_msg_n(
		app, r, "review.total", (long)l.total, text, sizeof(text)));
	pages = (long)((l.total + REVIEW_PAGE_SIZE - 1) / REVIEW_PAGE_SIZE);
	if (pages < 1)
		pages = 1;
	(void)tval_set_int(ctx, "page", rf.page);
	(void)tval_set_int(ctx, "pages", pages);
	(void)tval_set_bool(ctx, "paged", pages > 1 || rf.page > 1);
	buf_init(&href);
	if (rf.page > 1) {
		review_href(&href, "/admin/accounts", f,
		    rf.page - 1 < pages ? rf.page - 1 : pages);
		(void)tval_set_str(ctx, "prev_href", href.data);
	}
	if (rf.page < pages) {
		review_href(&href, "/admin/accounts", f, rf.page + 1);
		(void)tval_set_str(ctx, "next_href", href.data);
	}
	review_href(&href, "/admin/accounts.csv", f, 0);
	(void)tval_set_str(ctx, "csv_href", href.data);
	buf_free(&href);
	review_list_free(&l);
	return 0;
}

/* The school's last recorded review, or its absence. 0/-1. */
static int
review_last_ctx(struct app *app, struct request *r, struct tval *ctx)
{
	struct review_last last;
	struct tval *o;
	int rc = review_last(app_db(app), r->auth->u.school_id, &last);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	o = tval_obj();
	(void)tval_set_str(o, "at", last.at);
	(void)tval_set_str(o, "by", last.by);
	(void)tval_set_int(o, "accounts", last.accounts);
	(void)tval_set_str(o, "note", last.note);
	(void)tval_set(ctx, "last", o);
	return 0;
}

/* Renders /admin/accounts for the query f (NULL: no filter, page 1) and
 * frees ctx. */
static enum request_outcome
review_page(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, int status)
{
	if (review_rows_ctx(app, r, ctx, f) != 0 ||
	    review_last_ctx(app, r, ctx) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	review_form_ctx(app, r, ctx, f);
	(void)tval_set_int(ctx, "grace_days", app->conf->accounts_grace_days);
	(void)tval_set_int(ctx, "note_max", REVIEW_NOTE_MAX);
	return auth_render(app, r, "review", ctx, status);
}

/* Parses the query into a new form (the caller frees it). 1 valid, 0 not
 * (the errors then in ctx), -1 out of resources. */
static int
review_query(
    struct app *app, struct request *r, struct tval *ctx, struct form **out)
{
	struct form *f = form_new(review_query_fields, QF__MAX);

	*out = f;
	if (f == NULL)
		return -1;
	if (form_parse(f, r->query, strlen(r->query)) != 0) {
		review_query_errors(app, r, ctx, f);
		return 0;
	}
	return 1;
}

/* -------------------------------------------------------- the listing */

enum request_outcome
accounts_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "review.title");
	enum request_outcome o;
	struct form *f;
	char key[64];
	int valid = review_query(app, r, ctx, &f);

	if (valid < 0) {
		tval_free(ctx);
		return RQ_ERROR;
	}
	if (valid && form_has(f, QF_DONE)) {
		str_printf(
		    key, sizeof(key), "review.done.%s", form_str(f, QF_DONE));
		(void)tval_set_str(ctx, "notice", auth_msg(app, r, key));
	}
	o = review_page(app, r, ctx, f, valid ? 200 : 422);
	form_free(f);
	return o;
}

/* The CSV's labels: messages in the request's language. */
struct review_label_arg {
	struct app *app;
	struct request *r;
};

static const char *
review_label(void *arg, const char *key)
{
	struct review_label_arg *a = arg;

	return auth_msg(a->app, a->r, key);
}

/* Records the export with its filters and size. 0/-1. */
static int
review_export_audit(
    struct app *app, struct request *r, const struct form *f, size_t rows)
{
	char target[64];
	struct buf d;
	size_t i;
	int rc;

	str_printf(target, sizeof(target), "school:%s", r->auth->u.school_code);
	buf_init(&d);
	buf_putc(&d, '{');
	for (i = 0; i < ARRAY_SIZE(review_filters); i++)
		if (form_has(f, i))
			buf_json_kv(&d, review_filters[i], form_str(f, i));
	buf_json_ki(&d, "rows", (long long)rows);
	buf_putc(&d, '}');
	rc = auth_audit(
	    app, r, "account.review_export", target, "success", d.data);
	buf_free(&d);
	return rc;
}

enum request_outcome
accounts_csv_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "review.title");
	struct review_label_arg arg = {app, r};
	struct review_filter rf;
	struct review_list l;
	char disposition[96];
	struct form *f;
	int valid = review_query(app, r, ctx, &f);

	if (valid < 0) {
		tval_free(ctx);
		return RQ_ERROR;
	}
	if (valid == 0) {
		enum request_outcome o = review_page(app, r, ctx, f, 422);

		form_free(f);
		return o;
	}
	tval_free(ctx);
	review_filter_of(f, &rf);
	rf.page = 0;
	if (review_list(app_db(app), r->auth->u.school_id, &rf,
		app->conf->accounts_grace_days, &l) != 0) {
		form_free(f);
		return RQ_UNAVAILABLE;
	}
	/* Recorded before it is sent: an export that cannot be recorded
	 * is not sent at all. */
	if (review_export_audit(app, r, f, l.n) != 0) {
		review_list_free(&l);
		form_free(f);
		return RQ_UNAVAILABLE;
	}
	form_free(f);
	review_csv(&l, review_label, &arg, &r->body);
	review_list_free(&l);
	/* School codes are 3..16 letters and digits: safe in the header. */
	str_printf(disposition, sizeof(disposition),
	    "attachment; filename=\"accounts-%s.csv\"", r->auth->u.school_code);
	if (request_header(r, "Content-Disposition", disposition) != 0) {
		buf_reset(&r->body);
		return RQ_ERROR;
	}
	/* request_send marks every response Cache-Control: no-store. */
	request_ok(r, 200, "text/csv; charset=utf-8");
	return RQ_OK;
}

/* ------------------------------------------------ recording a review */

enum { RF_NOTE, RF_CSRF, RF__MAX };
static const struct form_field review_record_fields[RF__MAX] = {
    [RF_NOTE] = {"note", FORM_TEXT, 0, 0, REVIEW_NOTE_MAX, NULL},
    [RF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REVIEW_CSRF},
};

enum request_outcome
accounts_review_post(struct app *app, struct request *r)
{
	struct form *f = form_new(review_record_fields, RF__MAX);
	struct review_actor who;
	struct tval *ctx;
	long long accounts = 0;
	int rc;

	if (f == NULL)
		return RQ_ERROR;
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		ctx = auth_page_ctx(app, r, "review.title");
		(void)tval_set_str(ctx, "note", form_echo(f, RF_NOTE));
		auth_field_error(app, r, ctx, "note_error", f, RF_NOTE);
		if (form_unknown(f) != NULL)
			(void)tval_set_str(ctx, "note_error",
			    auth_msg(app, r, "form.error.unknown"));
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "review.invalid"));
		form_free(f);
		return review_page(app, r, ctx, NULL, 422);
	}
	review_who(r, &who);
	rc = review_record(app_db(app), &who, r->auth->u.school_id,
	    form_str(f, RF_NOTE), &accounts);
	form_free(f);
	if (rc != 0)
		return RQ_UNAVAILABLE;
	request_redirect(r, "/admin/accounts?done=reviewed");
	return RQ_OK;
}

/* ------------------------------------------- disabling and enabling */

enum { AF_REASON, AF_CSRF, AF__MAX };
static const struct form_field review_action_fields[AF__MAX] = {
    [AF_REASON] = {"reason", FORM_TEXT, FORM_REQUIRED, REVIEW_REASON_MIN,
	REVIEW_REASON_MAX, NULL},
    [AF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REVIEW_CSRF},
};

/* The page again with the action's form for a at the top, its reason as
 * typed and alert_key's message; frees ctx. */
static enum request_outcome
review_action_page(struct app *app, struct request *r, struct tval *ctx,
    const struct review_account *a, int disable, const char *reason,
    const char *alert_key, int status)
{
	struct tval *act = tval_obj();

	(void)tval_set_bool(act, "disable", disable);
	(void)tval_set_str(act, "id", a->public_id);
	(void)tval_set_str(act, "login", a->login);
	(void)tval_set_str(act, "name", a->name);
	(void)tval_set_str(act, "reason", reason);
	(void)tval_set(ctx, "action", act);
	(void)tval_set_str(ctx, "alert", auth_msg(app, r, alert_key));
	return review_page(app, r, ctx, NULL, status);
}

/* Ends the sessions of an account just disabled. The sign-in gate ends
 * any it misses at their next request (it admits active accounts only),
 * so a failure here is logged, not shown. */
static void
review_end_sessions(struct app *app, const struct review_account *a)
{
	if (session_destroy_user(app_kv(app), a->id, NULL) != 0)
		log_warn("the sessions of account %s could not be ended now; "
			 "the sign-in gate ends them at their next request",
		    a->public_id);
}

static enum request_outcome
review_action(struct app *app, struct request *r, int disable)
{
	const char *id = request_capture(r, "id");
	struct review_account a;
	struct review_actor who;
	struct tval *ctx;
	struct form *f;
	char reason[4 * REVIEW_REASON_MAX + 1];
	int rc;

	if (id == NULL || !ids_public_valid(id))
		return auth_deny(app, r, "not_found", 1);
	rc = review_account_load(app_db(app), r->auth->u.school_id, id,
	    app->conf->accounts_grace_days, &a);
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0)
		return auth_deny(app, r, "not_found", 1);
	if ((f = form_new(review_action_fields, AF__MAX)) == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "review.title");
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		enum request_outcome o;

		auth_field_error(app, r, ctx, "reason_error", f, AF_REASON);
		if (form_unknown(f) != NULL)
			(void)tval_set_str(ctx, "reason_error",
			    auth_msg(app, r, "form.error.unknown"));
		o = review_action_page(app, r, ctx, &a, disable,
		    form_echo(f, AF_REASON), "review.invalid", 422);
		form_free(f);
		return o;
	}
	/* At most REVIEW_REASON_MAX characters of UTF-8: it fits. */
	(void)str_copy(reason, sizeof(reason), form_str(f, AF_REASON));
	form_free(f);
	if (disable && a.id == r->auth->u.id) {
		(void)auth_deny(app, r, "self", 0);
		return review_action_page(
		    app, r, ctx, &a, disable, reason, "review.self", 403);
	}
	if (!disable && a.past_grace)
		return review_action_page(app, r, ctx, &a, disable, reason,
		    "review.enable_past_grace", 409);
	review_who(r, &who);
	rc = disable ? review_disable(app_db(app), &who, &a, reason)
		     : review_enable(app_db(app), &who, &a, reason);
	if (rc < 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	if (rc == 0)
		return review_action_page(app, r, ctx, &a, disable, reason,
		    disable ? "review.already_disabled" : "review.not_disabled",
		    409);
	tval_free(ctx);
	if (disable)
		review_end_sessions(app, &a);
	request_redirect(r,
	    disable ? "/admin/accounts?done=disabled"
		    : "/admin/accounts?done=enabled");
	return RQ_OK;
}

enum request_outcome
account_disable_post(struct app *app, struct request *r)
{
	return review_action(app, r, 1);
}

enum request_outcome
account_enable_post(struct app *app, struct request *r)
{
	return review_action(app, r, 0);
}
