/*
 * auditlog: GET /audit, the auditors' reading of the audit log, newest
 * first, filtered by date, actor, event and outcome, 50 rows a page, read
 * through the audit reader's account only and each view recorded first.
 * It must never write the log except through auth_audit, never build SQL
 * from a value (filters bind to fixed fragments), and never serve anyone
 * but an auditor (the route admits no one else).
 */
#include <string.h>

#include "app.h"
#include "auth.h"
#include "form.h"
#include "router.h"
#include "template.h"
#include "util.h"

#define AUDITLOG_PAGE_SIZE 50

enum { QF_FROM, QF_TO, QF_ACTOR, QF_EVENT, QF_OUTCOME, QF_PAGE, QF__MAX };
static const struct form_field auditlog_fields[QF__MAX] = {
    [QF_FROM] = {"from", FORM_DATE, 0, 0, 0, NULL},
    [QF_TO] = {"to", FORM_DATE, 0, 0, 0, NULL},
    [QF_ACTOR] = {"actor", FORM_PATTERN, 0, 1, 64, "[a-z0-9._:@-]{1,64}"},
    /* A whole event name or its first segments: "login" matches
     * "login.success" and "login.failure", not "logins.x". */
    [QF_EVENT] = {"event", FORM_PATTERN, 0, 1, 64, "[a-z0-9_.]{1,64}"},
    [QF_OUTCOME] = {"outcome", FORM_ENUM, 0, 0, 0,
	"success|failure|denied|alert"},
    [QF_PAGE] = {"page", FORM_INT, 0, 1, 100000, NULL},
};

/* The filters' names, in the order of the fields, for links and the
 * view's audit detail. */
static const char *const auditlog_filters[] = {
    "from", "to", "actor", "event", "outcome"};

static const char *const auditlog_outcomes[] = {
    "success", "failure", "denied", "alert"};

/* The WHERE clause of the filters, from fixed fragments, and its bound
 * values. */
struct auditlog_where {
	struct buf sql;
	struct db_param p[8];
	size_t np;
	char like[2 * 64 + 3]; /* the event prefix as a LIKE pattern */
};

static void
auditlog_and(struct auditlog_where *w, const char *fragment)
{
	buf_puts(&w->sql, w->sql.len == 0 ? " WHERE " : " AND ");
	buf_puts(&w->sql, fragment);
}

static void
auditlog_where_build(const struct form *f, struct auditlog_where *w)
{
	const char *ev;
	size_t i, j = 0;

	buf_init(&w->sql);
	w->np = 0;
	if (form_has(f, QF_FROM)) {
		auditlog_and(w, "at >= ?");
		w->p[w->np++] = DB_STR(form_str(f, QF_FROM));
	}
	if (form_has(f, QF_TO)) {
		auditlog_and(w, "at < DATE_ADD(?, INTERVAL 1 DAY)");
		w->p[w->np++] = DB_STR(form_str(f, QF_TO));
	}
	if (form_has(f, QF_ACTOR)) {
		auditlog_and(w, "actor = ?");
		w->p[w->np++] = DB_STR(form_str(f, QF_ACTOR));
	}
	if (form_has(f, QF_EVENT)) {
		/* '_' is the one LIKE wildcard the pattern admits; '!'
		 * escapes it, whatever the server's sql_mode. */
		ev = form_str(f, QF_EVENT);
		for (i = 0; ev[i] != '\0' && j + 4 < sizeof(w->like); i++) {
			if (ev[i] == '_')
				w->like[j++] = '!';
			w->like[j++] = ev[i];
		}
		w->like[j++] = '.';
		w->like[j++] = '%';
		w->like[j] = '\0';
		auditlog_and(w, "(event = ? OR event LIKE ? ESCAPE '!')");
		w->p[w->np++] = DB_STR(ev);
		w->p[w->np++] = DB_STR(w->like);
	}
	if (form_has(f, QF_OUTCOME)) {
		auditlog_and(w, "outcome = ?");
		w->p[w->np++] = DB_STR(form_str(f, QF_OUTCOME));
	}
}

/* The link to page of the same filters. */
static void
auditlog_href(const struct form *f, long page, struct buf *b)
{
	size_t i;

	buf_reset(b);
	buf_puts(b, "/audit?");
	for (i = 0; i < ARRAY_SIZE(auditlog_filters); i++)
		if (form_has(f, i))
			buf_query_param(b, auditlog_filters[i], form_str(f, i));
	buf_printf(
	    b, "%spage=%ld", b->data[b->len - 1] == '?' ? "" : "&", page);
}

/* The filter form as the user left it: values typed (escaped by the
 * template) and the outcome choices with the current one selected. */
static void
auditlog_form_ctx(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	struct tval *list = tval_list(), *item;
	char key[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(auditlog_filters); i++) {
		str_printf(key, sizeof(key), "f_%s", auditlog_filters[i]);
		(void)tval_set_str(ctx, key, form_echo(f, i));
	}
	for (i = 0; i < ARRAY_SIZE(auditlog_outcomes); i++) {
		item = tval_obj();
		(void)tval_set_str(item, "value", auditlog_outcomes[i]);
		str_printf(key, sizeof(key), "auditlog.outcome_%s",
		    auditlog_outcomes[i]);
		(void)tval_set_str(item, "label", auth_msg(app, r, key));
		(void)tval_set_bool(item, "selected",
		    strcmp(form_echo(f, QF_OUTCOME), auditlog_outcomes[i]) ==
			0);
		(void)tval_push(list, item);
	}
	(void)tval_set(ctx, "outcomes", list);
}

/* Each filter's message, when it is invalid; a parameter that is no
 * filter at all gets the form's general message. */
static void
auditlog_errors(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	static const char *const names[QF__MAX] = {"from_error", "to_error",
	    "actor_error", "event_error", "outcome_error", "page_error"};
	char key[64];
	size_t i;

	for (i = 0; i < QF__MAX; i++) {
		if (form_error(f, i) == FORM_E_OK)
			continue;
		str_printf(key, sizeof(key), "form.error.%s",
		    form_error_name(form_error(f, i)));
		(void)tval_set_str(ctx, names[i], auth_msg(app, r, key));
	}
	if (form_unknown(f) != NULL)
		(void)tval_set_str(ctx, "unknown_error",
		    auth_msg(app, r, "form.error.unknown"));
	(void)tval_set_str(ctx, "alert", auth_msg(app, r, "auditlog.invalid"));
}

/* Records this view: the filters and the page, as JSON. 0/-1. */
static int
auditlog_record(
    struct app *app, struct request *r, const struct form *f, long page)
{
	struct buf d;
	size_t i;
	int rc;

	buf_init(&d);
	buf_putc(&d, '{');
	for (i = 0; i < ARRAY_SIZE(auditlog_filters); i++)
		if (form_has(f, i))
			buf_json_kv(&d, auditlog_filters[i], form_str(f, i));
	buf_json_ki(&d, "page", page);
	buf_putc(&d, '}');
	rc = auth_audit(app, r, "audit.view", "audit_log", "success", d.data);
	buf_free(&d);
	return rc;
}

/* The rows of page and the links around it, into ctx. 0/-1. */
static int
auditlog_rows(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, long page)
{
	struct db *db = app_db_audit(app);
	struct auditlog_where w;
	struct buf sql, href;
	struct db_res *res;
	struct tval *rows, *row;
	long long total;
	long pages;
	char text[256];
	size_t i, c;
	static const char *const cols[] = {"at", "actor", "role", "school",
	    "ip", "event", "target", "outcome", "detail"};

	auditlog_where_build(f, &w);
	buf_init(&sql);
	buf_init(&href);
	buf_puts(&sql, "SELECT COUNT(*) FROM audit_log");
	buf_puts(&sql, w.sql.data != NULL ? w.sql.data : "");
	res = db_query(db, sql.data, w.p, w.np);
	if (res == NULL)
		goto fail;
	total = db_res_int(res, 0, 0);
	db_res_free(res);
	buf_reset(&sql);
	buf_puts(&sql,
	    "SELECT DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), actor, role, "
	    "COALESCE(school, ''), ip, event, COALESCE(target, ''), outcome, "
	    "COALESCE(detail, '') FROM audit_log");
	buf_puts(&sql, w.sql.data != NULL ? w.sql.data : "");
	buf_puts(&sql, " ORDER BY id DESC LIMIT ? OFFSET ?");
	w.p[w.np++] = DB_INT(AUDITLOG_PAGE_SIZE);
	w.p[w.np++] = DB_INT((long long)(page - 1) * AUDITLOG_PAGE_SIZE);
	res = db_query(db, sql.data, w.p, w.np);
	if (res == NULL)
		goto fail;
	rows = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		row = tval_obj();
		for (c = 0; c < ARRAY_SIZE(cols); c++)
			(void)tval_set_str(row, cols[c], db_res_get(res, i, c));
		(void)tval_push(rows, row);
	}
	db_res_free(res);
	(void)tval_set(ctx, "rows", rows);
	(void)tval_set_bool(ctx, "shown", 1);
	(void)tval_set_int(ctx, "total", total);
	(void)tval_set_str(ctx, "total_text",
	    auth_msg_n(
		app, r, "auditlog.total", (long)total, text, sizeof(text)));
	pages = (long)((total + AUDITLOG_PAGE_SIZE - 1) / AUDITLOG_PAGE_SIZE);
	if (pages < 1)
		pages = 1;
	(void)tval_set_int(ctx, "page", page);
	(void)tval_set_int(ctx, "pages", pages);
	(void)tval_set_bool(ctx, "paged", pages > 1 || page > 1);
	if (page > 1) {
		auditlog_href(f, page - 1 < pages ? page - 1 : pages, &href);
		(void)tval_set_str(ctx, "prev_href", href.data);
	}
	if (page < pages) {
		auditlog_href(f, page + 1, &href);
		(void)tval_set_str(ctx, "next_href", href.data);
	}
	buf_free(&href);
	buf_free(&sql);
	buf_free(&w.sql);
	return 0;
fail:
	buf_free(&href);
	buf_free(&sql);
	buf_free(&w.sql);
	return -1;
}

enum request_outcome
audit_get(struct app *app, struct request *r)
{
	struct form *f = form_new(auditlog_fields, QF__MAX);
	struct tval *ctx;
	long page;
	int valid;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "auditlog.title");
	valid = form_parse(f, r->query, strlen(r->query)) == 0;
	if (valid && form_has(f, QF_FROM) && form_has(f, QF_TO) &&
	    strcmp(form_str(f, QF_FROM), form_str(f, QF_TO)) > 0) {
		(void)tval_set_str(
		    ctx, "to_error", auth_msg(app, r, "auditlog.range"));
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "auditlog.invalid"));
		valid = 0;
	} else if (!valid)
		auditlog_errors(app, r, ctx, f);
	auditlog_form_ctx(app, r, ctx, f);
	if (!valid) {
		form_free(f);
		return auth_render(app, r, "audit", ctx, 422);
	}
	page = form_has(f, QF_PAGE) ? (long)form_int(f, QF_PAGE) : 1;
	/* Recorded before it is shown: a view that cannot be recorded is
	 * not shown at all. */
	if (auditlog_record(app, r, f, page) != 0 ||
	    auditlog_rows(app, r, ctx, f, page) != 0) {
		form_free(f);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	form_free(f);
	return auth_render(app, r, "audit", ctx, 200);
}
