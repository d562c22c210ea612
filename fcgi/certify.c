/*
 * certify: the teacher's (and stand-in's) certification pages — the list
 * of course learning outcomes waiting for them (/certify, filters, pages,
 * the batch form), one item with its files, history and decision form
 * (/certify/:id), the batch certification with its confirmation
 * (/certify/batch), and the home page's line of waiting items. lib/certify
 * decides who may certify what and writes the signed decisions.
 *
 * It must answer an item the user may not certify, another school's, a
 * deleted one, a diverse performance and an unknown id alike (404,
 * audited); never offer or accept a decision after the term's deadline or
 * while the platform cannot sign; and audit every view of an item.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "certify.h"
#include "conf.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "notices.h"
#include "records.h"
#include "router.h"
#include "template.h"
#include "util.h"
#include "validate.h"

#define CF_ORDER_WORDS "newest|oldest"
/* Skipped items a batch's redirect names (its count is always whole). */
#define CF_SKIP_LISTED 50

/* ------------------------------------------------------------ helpers */

/* text with every "{name}" replaced by value, appended to out. */
static void
cf_replace(
    const char *text, const char *name, const char *value, struct buf *out)
{
	const char *m = text, *p;
	size_t n = strlen(name);

	while ((p = strstr(m, name)) != NULL) {
		buf_append(out, m, (size_t)(p - m));
		buf_puts(out, value);
		m = p + n;
	}
	buf_puts(out, m);
}

/* The message key's text with "{name}" replaced by value, into out. */
static void
cf_fill(struct app *app, const struct request *r, const char *key,
    const char *name, const char *value, struct buf *out)
{
	cf_replace(auth_msg(app, r, key), name, value, out);
}

static void
cf_set_fill(struct app *app, const struct request *r, struct tval *ctx,
    const char *k, const char *key, const char *name, const char *value)
{
	struct buf t;

	buf_init(&t);
	cf_fill(app, r, key, name, value, &t);
	(void)tval_set_str(ctx, k, t.data != NULL ? t.data : "");
	buf_free(&t);
}

/* 1 when the platform can sign decisions now, 0 when not, -1 on a
 * database error. */
static int
cf_key_ready(struct app *app)
{
	if (app->sign_key == NULL)
		return 0;
	return certify_key_ready(app_db(app), app->sign_key_id);
}

/* The refusal page with status: heading (a message key) and text. */
static enum request_outcome
cf_refused(struct app *app, struct request *r, const char *title_key,
    const char *text, int status)
{
	struct tval *ctx = auth_page_ctx(app, r, title_key);

	(void)tval_set_str(ctx, "heading", auth_msg(app, r, title_key));
	(void)tval_set_str(ctx, "text", text);
	return auth_render(app, r, "certify_refused", ctx, status);
}

/* 503: the platform cannot sign (no key, or not a registered one); the
 * operator's log says what to do, once per request. */
static enum request_outcome
cf_no_key(struct app *app, struct request *r)
{
	log_warn("certification refused: %s; run `licheng pki init-school`",
	    app->sign_key == NULL
		? "no signing key is loaded (signing.school_key)"
		: "the signing key is not an unretired platform_keys row");
	return cf_refused(app, r, "certify.refused.no_key_title",
	    auth_msg(app, r, "certify.no_key"), 503);
}

/* 409: the item's deadline has passed, with its date. */
static enum request_outcome
cf_late(struct app *app, struct request *r, const char *date)
{
	enum request_outcome o;
	struct buf t;

	buf_init(&t);
	cf_fill(app, r, "certify.late", "{date}", date, &t);
	o = cf_refused(app, r, "certify.refused.title", t.data, 409);
	buf_free(&t);
	return o;
}

/* "C101 國語文". */
static void
cf_course_label(const char *code, const char *name, struct buf *out)
{
	buf_printf(out, "%s %s", code, name);
}

/* A student as lists show them: class, seat, number, masked name. */
static void
cf_student_ctx(const struct certify_student *s, struct tval *o)
{
	(void)tval_set_str(o, "class",
	    s->class_name[0] != '\0' ? s->class_name : s->class_code);
	(void)tval_set_str(o, "seat", s->seat);
	(void)tval_set_str(o, "number", s->number);
	(void)tval_set_str(o, "name", s->masked_name);
}

static const char *
cf_slot_label(struct app *app, const struct request *r, enum item_slot s)
{
	return auth_msg(
	    app, r, s == ITEM_DOC ? "items.slot.doc" : "items.slot.video");
}

/* ---------------------------------------------------------- the list */

enum {
	LQ_COURSE,
	LQ_CLASS,
	LQ_ORDER,
	LQ_PAGE,
	LQ_DONE,
	LQ_N,
	LQ_SKIPPED,
	LQ_SKIP,
	LQ__MAX
};
static const struct form_field cf_list_fields[LQ__MAX] = {
    [LQ_COURSE] = {"course", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
    [LQ_CLASS] = {"class", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
    [LQ_ORDER] = {"order", FORM_ENUM, 0, 0, 0, CF_ORDER_WORDS},
    [LQ_PAGE] = {"page", FORM_INT, 0, 1, 1000000, NULL},
    [LQ_DONE] = {"done", FORM_ENUM, 0, 0, 0, "certified|rejected|batch"},
    [LQ_N] = {"n", FORM_INT, 0, 0, 100000, NULL},
    [LQ_SKIPPED] = {"skipped", FORM_INT, 0, 0, 100000, NULL},
    [LQ_SKIP] = {"skip", FORM_PATTERN, FORM_REPEAT, 22, 22, REC_PUBLIC_ID},
};

/* The list's filter as the query asked for it (none when it was not
 * valid). */
struct cf_list {
	const char *course, *klass;
	enum certify_order order;
	long page;
};

/* The options of a filter's select. */
static struct tval *
cf_options(const struct certify_option *v, size_t n, const char *selected)
{
	struct tval *list = tval_list(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		o = tval_obj();
		(void)tval_set_str(o, "value", v[i].public_id);
		(void)tval_set_str(o, "label", v[i].label);
		(void)tval_set_bool(o, "selected",
		    selected != NULL && strcmp(selected, v[i].public_id) == 0);
		(void)tval_push(list, o);
	}
	return list;
}

/* The course and class selects. 0/-1. */
static int
cf_filter_ctx(struct app *app, struct request *r, struct tval *ctx,
    const struct cf_list *l)
{
	const struct user *u = &r->auth->u;
	struct certify_option *v = NULL;
	size_t n = 0;

	if (certify_course_options(app_db(app), u->school_id, u->id, &v, &n) !=
	    0)
		return -1;
	(void)tval_set(ctx, "courses", cf_options(v, n, l->course));
	certify_options_free(v, n);
	if (certify_class_options(app_db(app), u->school_id, u->id, &v, &n) !=
	    0)
		return -1;
	(void)tval_set(ctx, "classes", cf_options(v, n, l->klass));
	certify_options_free(v, n);
	(void)tval_set(ctx, "orders",
	    rec_word_options(app, r, "certify.order", CF_ORDER_WORDS,
		l->order == CERTIFY_OLDEST ? "oldest" : "newest"));
	return 0;
}

/* The certification deadlines of the terms on a page, each read once. */
struct cf_deadlines {
	uint64_t term[64];
	struct deadline d[64];
	size_t n;
};

static const struct deadline *
cf_deadline(struct app *app, struct request *r, struct cf_deadlines *c,
    uint64_t term_id, struct deadline *one)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->term[i] == term_id)
			return &c->d[i];
	if (deadlines_cert(app_db(app), r->auth->u.school_id, term_id,
		app->conf->certify_deadline_days, one) != 1)
		return NULL;
	if (c->n < ARRAY_SIZE(c->term)) {
		c->term[c->n] = term_id;
		c->d[c->n++] = *one;
	}
	return one;
}

/* The page's rows. 0/-1. */
static int
cf_rows_ctx(struct app *app, struct request *r, struct tval *ctx,
    const struct certify_page *pg)
{
	struct tval *rows = tval_list(), *row, *files, *file;
	struct cf_deadlines dl = {.n = 0};
	const struct deadline *d;
	struct deadline one;
	struct buf t;
	size_t i, k;

	for (i = 0; i < pg->n; i++) {
		const struct certify_row *w = &pg->v[i];

		if ((d = cf_deadline(app, r, &dl, w->term_id, &one)) == NULL) {
			tval_free(rows);
			return -1;
		}
		row = tval_obj();
		(void)tval_set_str(row, "id", w->item);
		cf_student_ctx(&w->student, row);
		buf_init(&t);
		cf_course_label(w->course_code, w->course_name, &t);
		(void)tval_set_str(row, "course", t.data);
		buf_free(&t);
		(void)tval_set_str(row, "term", w->term);
		(void)tval_set_str(row, "description", w->description);
		(void)tval_set_str(row, "uploaded_at", w->created_at);
		(void)tval_set_str(row, "deadline", d->date);
		(void)tval_set_bool(row, "late", d->passed);
		files = tval_list();
		for (k = 0; k < w->nfiles; k++) {
			file = tval_obj();
			(void)tval_set_str(file, "id", w->files[k].public_id);
			(void)tval_set_str(file, "name", w->files[k].name);
			(void)tval_set_str(file, "slot",
			    cf_slot_label(app, r, w->files[k].slot));
			(void)tval_push(files, file);
		}
		(void)tval_set(row, "files", files);
		(void)tval_push(rows, row);
	}
	(void)tval_set(ctx, "rows", rows);
	return 0;
}

/* The list's address with its filters, for the page links. */
static void
cf_list_href(const struct cf_list *l, struct buf *b)
{
	buf_puts(b, "/certify?");
	if (l->course != NULL)
		buf_query_param(b, "course", l->course);
	if (l->klass != NULL)
		buf_query_param(b, "class", l->klass);
	if (l->order == CERTIFY_OLDEST)
		buf_query_param(b, "order", "oldest");
}

/* Renders /certify with the filter l and whatever ctx holds (a notice, an
 * alert, skipped items). Frees ctx. */
static enum request_outcome
cf_list_page(struct app *app, struct request *r, struct tval *ctx,
    const struct cf_list *l, int status)
{
	const struct user *u = &r->auth->u;
	struct certify_filter flt = {l->course, l->klass, l->order, l->page,
	    app->conf->certify_page_size};
	struct certify_page pg;
	struct buf href;
	int ready;

	if (certify_pending(app_db(app), u->school_id, u->id, &flt, &pg) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	if (cf_filter_ctx(app, r, ctx, l) != 0 ||
	    cf_rows_ctx(app, r, ctx, &pg) != 0 ||
	    (ready = cf_key_ready(app)) < 0) {
		certify_page_free(&pg);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set_bool(ctx, "no_key", !ready);
	(void)tval_set_bool(
	    ctx, "filtered", l->course != NULL || l->klass != NULL);
	buf_init(&href);
	cf_list_href(l, &href);
	rec_pages_sized(app, r, ctx, "certify.total", pg.total, l->page,
	    href.data, app->conf->certify_page_size);
	buf_free(&href);
	certify_page_free(&pg);
	return auth_render(app, r, "certify", ctx, status);
}

/* Why a found item cannot be certified now, as a message key under
 * prefix ("certify.refused" or "certify.batch.reason"), or NULL. */
static const char *
cf_unready(const struct certify_item *ci, int batch)
{
	if (ci->it.submitted)
		return batch ? "certify.batch.reason.submitted"
			     : "certify.refused.submitted";
	switch (ci->it.state) {
	case ITEM_ST_QUARANTINED:
		return batch ? "certify.batch.reason.quarantined"
			     : "certify.refused.quarantined";
	case ITEM_ST_LOST:
		return batch ? "certify.batch.reason.lost"
			     : "certify.refused.lost";
	case ITEM_ST_CHECKING:
		return batch ? "certify.batch.reason.checking"
			     : "certify.refused.checking";
	case ITEM_ST_PENDING:
	case ITEM_ST_CERTIFIED:
	case ITEM_ST_REJECTED:
	case ITEM_ST_NO_CERT:
	case ITEM_ST__MAX:
	default: break;
	}
	if (!batch)
		return NULL;
	if (ci->it.cert != ITEM_CERT_PENDING)
		return "certify.batch.reason.decided";
	if (ci->deadline.passed)
		return "certify.batch.reason.late";
	return NULL;
}

/* One skipped item of a batch, as the list names it. */
static struct tval *
cf_skipped_row(
    struct app *app, struct request *r, const struct certify_item *ci)
{
	struct tval *o = tval_obj();
	const char *why = cf_unready(ci, 1);
	struct buf t;

	(void)tval_set_bool(o, "found", 1);
	buf_init(&t);
	cf_course_label(ci->it.course_code, ci->it.course_name, &t);
	(void)tval_set_str(o, "course", t.data);
	buf_reset(&t);
	buf_printf(&t, "%s %s", ci->student.number, ci->student.masked_name);
	(void)tval_set_str(o, "student", t.data);
	buf_free(&t);
	(void)tval_set_str(o, "description", ci->it.description);
	(void)tval_set_str(o, "reason",
	    auth_msg(app, r, why != NULL ? why : "certify.batch.will_skip"));
	return o;
}

/* The batch's skipped items the query names, into ctx. 0/-1. */
static int
cf_skipped_ctx(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	const struct user *u = &r->auth->u;
	struct tval *rows = tval_list(), *o;
	struct certify_item ci;
	enum certify_found found;
	size_t i, n = form_count(f, LQ_SKIP);

	/* A batch's redirect names at most CF_SKIP_LISTED. */
	if (n > CF_SKIP_LISTED)
		n = CF_SKIP_LISTED;
	for (i = 0; i < n; i++) {
		found = certify_item_find(app_db(app), u->school_id, u->id,
		    app->conf->certify_deadline_days,
		    form_str_at(f, LQ_SKIP, i), &ci);
		if (found == CERTIFY_FIND_ERROR) {
			tval_free(rows);
			return -1;
		}
		if (found == CERTIFY_FOUND) {
			(void)tval_push(rows, cf_skipped_row(app, r, &ci));
			certify_item_free(&ci);
			continue;
		}
		o = tval_obj();
		(void)tval_set_str(
		    o, "reason", auth_msg(app, r, "certify.batch.unknown"));
		(void)tval_push(rows, o);
	}
	(void)tval_set_bool(ctx, "has_skipped", n > 0);
	(void)tval_set(ctx, "skipped_rows", rows);
	return 0;
}

/* The notice after a redirect: done=certified|rejected|batch (n, skipped). */
static void
cf_done_ctx(
    struct app *app, struct request *r, struct tval *ctx, const struct form *f)
{
	const char *done = form_str(f, LQ_DONE);
	char text[256], more[256], key[64];
	struct buf t;

	if (done[0] == '\0')
		return;
	if (strcmp(done, "batch") != 0) {
		str_printf(key, sizeof(key), "certify.done.%s", done);
		(void)tval_set_str(ctx, "notice", auth_msg(app, r, key));
		return;
	}
	buf_init(&t);
	buf_puts(&t,
	    auth_msg_n(app, r, "certify.done.batch", (long)form_int(f, LQ_N),
		text, sizeof(text)));
	if (form_int(f, LQ_SKIPPED) > 0) {
		buf_putc(&t, ' ');
		buf_puts(&t,
		    auth_msg_n(app, r, "certify.done.skipped",
			(long)form_int(f, LQ_SKIPPED), more, sizeof(more)));
	}
	(void)tval_set_str(ctx, "notice", t.data);
	buf_free(&t);
}

enum request_outcome
certify_list_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "certify.title");
	struct cf_list l = {NULL, NULL, CERTIFY_NEWEST, 1};
	enum request_outcome o;
	struct form *f;
	int status = 200;

	if ((f = form_new(cf_list_fields, LQ__MAX)) == NULL) {
		tval_free(ctx);
		return RQ_ERROR;
	}
	if (form_parse(f, r->query, strlen(r->query)) != 0) {
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "certify.filter_invalid"));
		status = 422;
	} else {
		l.course =
		    form_has(f, LQ_COURSE) ? form_str(f, LQ_COURSE) : NULL;
		l.klass = form_has(f, LQ_CLASS) ? form_str(f, LQ_CLASS) : NULL;
		if (strcmp(form_str(f, LQ_ORDER), "oldest") == 0)
			l.order = CERTIFY_OLDEST;
		if (form_has(f, LQ_PAGE))
			l.page = (long)form_int(f, LQ_PAGE);
		cf_done_ctx(app, r, ctx, f);
		if (cf_skipped_ctx(app, r, ctx, f) != 0) {
			form_free(f);
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
	}
	o = cf_list_page(app, r, ctx, &l, status);
	form_free(f);
	return o;
}

/* ------------------------------------------------------------ one item */

/* The item of the path's id when the user may certify it: RQ_OK with ci
 * filled, or the answer (404 alike, audited, for every kind of "no"). */
static enum request_outcome
cf_find(struct app *app, struct request *r, struct certify_item *ci)
{
	const struct user *u = &r->auth->u;
	const char *pub = request_capture(r, "id");
	enum certify_found found;

	memset(ci, 0, sizeof(*ci));
	found = certify_item_find(app_db(app), u->school_id, u->id,
	    app->conf->certify_deadline_days, pub != NULL ? pub : "", ci);
	if (found == CERTIFY_FOUND)
		return RQ_OK;
	if (found == CERTIFY_FIND_ERROR)
		return RQ_UNAVAILABLE;
	return auth_deny(app, r, certify_found_name(found), 1);
}

/* The item's facts, current files and history into ctx. */
static void
cf_item_ctx(struct app *app, struct request *r, struct tval *ctx,
    const struct certify_item *ci)
{
	struct tval *files = tval_list(), *past = tval_list(), *o;
	char key[64];
	struct buf t;
	size_t i;

	(void)tval_set_str(ctx, "id", ci->it.public_id);
	buf_init(&t);
	cf_course_label(ci->it.course_code, ci->it.course_name, &t);
	(void)tval_set_str(ctx, "course", t.data);
	buf_free(&t);
	(void)tval_set_str(ctx, "term", ci->it.term);
	cf_student_ctx(&ci->student, ctx);
	(void)tval_set_str(ctx, "state", items_state_name(ci->it.state));
	str_printf(
	    key, sizeof(key), "items.state.%s", items_state_name(ci->it.state));
	(void)tval_set_str(ctx, "state_label", auth_msg(app, r, key));
	(void)tval_set_str(ctx, "description", ci->it.description);
	(void)tval_set_str(ctx, "created_at", ci->it.created_at);
	if (strcmp(ci->it.updated_at, ci->it.created_at) != 0)
		(void)tval_set_str(ctx, "updated_at", ci->it.updated_at);
	(void)tval_set_bool(ctx, "standin", ci->as.standin_id != 0);
	(void)tval_set_str(ctx, "for_teacher", ci->as.for_teacher_name);
	(void)tval_set_str(ctx, "deadline", ci->deadline.date);
	for (i = 0; i < ci->it.nfiles; i++) {
		const struct item_file *f = &ci->it.files[i];

		if (f->replaced_at[0] != '\0')
			continue;
		o = tval_obj();
		(void)tval_set_str(o, "id", f->public_id);
		(void)tval_set_str(o, "name", f->name);
		(void)tval_set_str(o, "slot", cf_slot_label(app, r, f->slot));
		(void)tval_set_str(o, "sha256", f->sha256);
		(void)tval_push(files, o);
	}
	(void)tval_set(ctx, "files", files);
	for (i = 0; i < ci->npast; i++) {
		const struct certify_past *d = &ci->past[i];

		o = tval_obj();
		(void)tval_set_str(o, "id", d->public_id);
		(void)tval_set_str(
		    o, "decision", certify_decision_name(d->decision));
		str_printf(key, sizeof(key), "certify.decision.%s",
		    certify_decision_name(d->decision));
		(void)tval_set_str(o, "decision_label", auth_msg(app, r, key));
		(void)tval_set_str(o, "reason", d->reason);
		(void)tval_set_str(o, "decided_at", d->decided_at);
		(void)tval_set_str(o, "teacher", d->teacher);
		(void)tval_set_str(o, "for_teacher", d->for_teacher);
		(void)tval_set_bool(o, "current", d->current);
		(void)tval_set_str(o, "superseded_at", d->superseded_at);
		(void)tval_push(past, o);
	}
	(void)tval_set(ctx, "past", past);
	(void)tval_set_bool(ctx, "has_past", ci->npast > 0);
}

enum { DF_DECISION, DF_REASON, DF_CSRF, DF__MAX };
static const struct form_field cf_decide_fields[DF__MAX] = {
    [DF_DECISION] = {"decision", FORM_ENUM, FORM_REQUIRED, 0, 0,
	"certified|rejected"},
    [DF_REASON] = {"reason", FORM_MULTILINE, 0, 0, CERTIFY_REASON_MAX, NULL},
    [DF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	AUTH_CSRF_PATTERN},
};

/* Renders the item's page: its facts and, when it may be decided now, the
 * form (as f left it, when a refused one is shown again). Frees ctx. */
static enum request_outcome
cf_item_page(struct app *app, struct request *r, struct tval *ctx,
    const struct certify_item *ci, const struct form *f, int status)
{
	const char *decision = f != NULL ? form_echo(f, DF_DECISION) : "";
	int ready = cf_key_ready(app);

	if (ready < 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	cf_item_ctx(app, r, ctx, ci);
	if (ci->deadline.passed)
		cf_set_fill(app, r, ctx, "late", "certify.late", "{date}",
		    ci->deadline.date);
	(void)tval_set_bool(ctx, "no_key", !ready);
	(void)tval_set_bool(ctx, "can_decide", ready && !ci->deadline.passed);
	(void)tval_set_bool(ctx, "decided", ci->it.cert != ITEM_CERT_PENDING);
	(void)tval_set_bool(
	    ctx, "f_certified", strcmp(decision, "certified") == 0);
	(void)tval_set_bool(
	    ctx, "f_rejected", strcmp(decision, "rejected") == 0);
	(void)tval_set_str(
	    ctx, "f_reason", f != NULL ? form_echo(f, DF_REASON) : "");
	return auth_render(app, r, "certify_item", ctx, status);
}

/* Records the view of an item (its files are audited as they download).
 * 0/-1. */
static int
cf_audit_view(struct app *app, struct request *r, const struct certify_item *ci)
{
	char target[40];
	struct buf d;
	int rc;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "role", role_name(r->auth->u.role));
	buf_json_kv(&d, "course", ci->it.course_public_id);
	buf_json_kv(&d, "as", ci->as.standin_id != 0 ? "standin" : "teacher");
	buf_putc(&d, '}');
	str_printf(target, sizeof(target), "item:%s", ci->it.public_id);
	rc = auth_audit(app, r, "item.viewed", target, "success", d.data);
	buf_free(&d);
	return rc;
}

enum request_outcome
certify_item_get(struct app *app, struct request *r)
{
	struct certify_item ci;
	enum request_outcome o;
	const char *why;

	if ((o = cf_find(app, r, &ci)) != RQ_OK)
		return o;
	if ((why = cf_unready(&ci, 0)) != NULL)
		o = cf_refused(app, r, "certify.refused.title",
		    auth_msg(app, r, why), 409);
	else if (cf_audit_view(app, r, &ci) != 0)
		o = RQ_UNAVAILABLE;
	else
		o = cf_item_page(app, r,
		    auth_page_ctx(app, r, "certify.item_title"), &ci, NULL,
		    200);
	certify_item_free(&ci);
	return o;
}

/* The decision form's messages into ctx: 0 when it may be acted on, 1
 * when refused (the messages are set). */
static int
cf_decide_errors(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, int invalid)
{
	const char *echo = form_echo(f, DF_REASON);
	enum certify_reason_check rc = CERTIFY_REASON_OK;
	char max[16], got[16];
	int d = certify_decision_parse(form_str(f, DF_DECISION));
	long chars = 0;
	struct buf t, u;

	if (form_error(f, DF_DECISION) != FORM_E_OK)
		(void)tval_set_str(ctx, "e_decision",
		    auth_msg(app, r, "certify.error.decision"));
	if (form_error(f, DF_REASON) == FORM_E_LONG)
		rc = CERTIFY_REASON_LONG;
	else if (form_error(f, DF_REASON) != FORM_E_OK)
		rc = CERTIFY_REASON_BAD;
	else if (d >= 0)
		rc = certify_reason_check(
		    (enum certify_decision)d, form_str(f, DF_REASON), &chars);
	if (rc == CERTIFY_REASON_LONG) {
		/* The limit and what was typed, both in the message. */
		str_printf(max, sizeof(max), "%d", CERTIFY_REASON_MAX);
		str_printf(got, sizeof(got), "%ld",
		    validate_utf8_text(echo, strlen(echo), 1));
		buf_init(&t);
		buf_init(&u);
		cf_fill(app, r, "certify.error.reason_long", "{max}", max, &t);
		cf_replace(t.data, "{n}", got, &u);
		(void)tval_set_str(ctx, "e_reason", u.data);
		buf_free(&t);
		buf_free(&u);
	}
	if (rc == CERTIFY_REASON_MISSING)
		(void)tval_set_str(ctx, "e_reason",
		    auth_msg(app, r, "certify.error.reason_missing"));
	else if (rc == CERTIFY_REASON_BAD)
		(void)tval_set_str(ctx, "e_reason",
		    auth_msg(app, r, "certify.error.reason_bad"));
	if (!invalid && rc == CERTIFY_REASON_OK)
		return 0;
	(void)tval_set_str(ctx, "alert",
	    auth_msg(app, r,
		form_unknown(f) != NULL ? "form.error.unknown"
					: "certify.error.invalid"));
	return 1;
}

/* reason without the spaces and line breaks around it, into a new
 * string. */
static char *
cf_trimmed(const char *reason)
{
	const char *s = reason;
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 &&
	    (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

/* The answer to a decision certify_decide_tx refused (nothing was
 * written; the transaction is rolled back). */
static enum request_outcome
cf_decide_refused(struct app *app, struct request *r, enum certify_outcome o,
    const struct certify_done *done)
{
	static const char *const keys[] = {
	    [CERTIFY_CHECKING] = "certify.refused.checking",
	    [CERTIFY_QUARANTINED] = "certify.refused.quarantined",
	    [CERTIFY_LOST] = "certify.refused.lost",
	    [CERTIFY_SUBMITTED] = "certify.refused.submitted",
	};

	switch (o) {
	case CERTIFY_GONE: return auth_deny(app, r, "not_found", 1);
	case CERTIFY_CHECKING:
	case CERTIFY_QUARANTINED:
	case CERTIFY_LOST:
	case CERTIFY_SUBMITTED:
		return cf_refused(app, r, "certify.refused.title",
		    auth_msg(app, r, keys[o]), 409);
	case CERTIFY_LATE: return cf_late(app, r, done->deadline);
	case CERTIFY_NO_KEY: return cf_no_key(app, r);
	case CERTIFY_DONE:
	case CERTIFY_DECIDED:
	case CERTIFY_ERROR:
	default: return RQ_UNAVAILABLE;
	}
}

/* A decision of the signed-in teacher, signed with the platform's key and
 * audited as actor (the item, decision and reason are the caller's). */
static void
cf_request(struct app *app, const struct request *r, struct certify_request *q,
    struct audit_event *actor)
{
	rec_event(r, actor, NULL, NULL, NULL);
	memset(q, 0, sizeof(*q));
	q->school_id = r->auth->u.school_id;
	q->user_id = r->auth->u.id;
	q->deadline_days = app->conf->certify_deadline_days;
	q->key = app->sign_key;
	q->key_id = app->sign_key_id;
	q->actor = actor;
}

/* Writes the decision d on ci in its own transaction. RQ_OK with the
 * redirect, or the answer. */
static enum request_outcome
cf_decide(struct app *app, struct request *r, const struct certify_item *ci,
    enum certify_decision d, const char *reason)
{
	struct db *db = app_db(app);
	struct certify_request q;
	struct certify_done done;
	struct audit_event actor;
	enum certify_outcome o;
	char to[64];

	cf_request(app, r, &q, &actor);
	q.item = ci->it.public_id;
	q.decision = d;
	q.reason = reason;
	if (db_begin(db) != 0)
		return RQ_UNAVAILABLE;
	o = certify_decide_tx(db, &q, &done);
	if (o != CERTIFY_DONE || db_commit(db) != 0) {
		(void)db_rollback(db);
		return cf_decide_refused(app, r, o, &done);
	}
	str_printf(
	    to, sizeof(to), "/certify?done=%s", certify_decision_name(d));
	request_redirect(r, to);
	return RQ_OK;
}

enum request_outcome
certify_item_post(struct app *app, struct request *r)
{
	struct certify_item ci;
	enum request_outcome o;
	struct tval *ctx;
	struct form *f = NULL;
	const char *why;
	char *reason;
	int invalid, ready;

	if ((o = cf_find(app, r, &ci)) != RQ_OK)
		return o;
	/* What no form could change is told first: the item's files, the
	 * deadline, the platform's key. */
	if ((why = cf_unready(&ci, 0)) != NULL) {
		o = cf_refused(app, r, "certify.refused.title",
		    auth_msg(app, r, why), 409);
		goto out;
	}
	if (ci.deadline.passed) {
		o = cf_late(app, r, ci.deadline.date);
		goto out;
	}
	if ((ready = cf_key_ready(app)) <= 0) {
		o = ready < 0 ? RQ_UNAVAILABLE : cf_no_key(app, r);
		goto out;
	}
	if ((f = form_new(cf_decide_fields, DF__MAX)) == NULL) {
		o = RQ_ERROR;
		goto out;
	}
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	ctx = auth_page_ctx(app, r, "certify.item_title");
	if (cf_decide_errors(app, r, ctx, f, invalid) != 0) {
		o = cf_item_page(app, r, ctx, &ci, f, 422);
		goto out;
	}
	tval_free(ctx);
	reason = cf_trimmed(form_str(f, DF_REASON));
	o = cf_decide(app, r, &ci,
	    (enum certify_decision)certify_decision_parse(
		form_str(f, DF_DECISION)),
	    reason);
	free(reason);
out:
	form_free(f);
	certify_item_free(&ci);
	return o;
}

/* ------------------------------------------------------------ the batch */

enum { BF_ITEM, BF_CONFIRM, BF_CSRF, BF__MAX };
static const struct form_field cf_batch_fields[BF__MAX] = {
    [BF_ITEM] = {"item", FORM_PATTERN, FORM_REPEAT, 22, 22, REC_PUBLIC_ID},
    [BF_CONFIRM] = {"confirm", FORM_ENUM, 0, 0, 0, "yes"},
    [BF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	AUTH_CSRF_PATTERN},
};

/* The list again with an alert (422): the batch was not acted on. */
static enum request_outcome
cf_batch_refused(struct app *app, struct request *r, const char *alert)
{
	struct tval *ctx = auth_page_ctx(app, r, "certify.title");
	struct cf_list l = {NULL, NULL, CERTIFY_NEWEST, 1};

	(void)tval_set_str(ctx, "alert", alert);
	return cf_list_page(app, r, ctx, &l, 422);
}

/* The form's items, each once, in their order: n of them in ids. */
static size_t
cf_batch_ids(const struct form *f, const char **ids)
{
	size_t i, k, n = 0;

	for (i = 0; i < form_count(f, BF_ITEM); i++) {
		const char *id = form_str_at(f, BF_ITEM, i);

		for (k = 0; k < n && strcmp(ids[k], id) != 0; k++)
			;
		if (k == n)
			ids[n++] = id;
	}
	return n;
}

/* 200: the chosen items, which will be certified and which skipped, and
 * the confirming form. */
static enum request_outcome
cf_batch_confirm(
    struct app *app, struct request *r, const char *const *ids, size_t n)
{
	const struct user *u = &r->auth->u;
	struct tval *ctx = auth_page_ctx(app, r, "certify.batch_title");
	struct tval *rows = tval_list(), *eligible = tval_list(), *o;
	struct certify_item ci;
	enum certify_found found;
	const char *why;
	long long count = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		found = certify_item_find(app_db(app), u->school_id, u->id,
		    app->conf->certify_deadline_days, ids[i], &ci);
		if (found == CERTIFY_FIND_ERROR) {
			tval_free(rows);
			tval_free(eligible);
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
		if (found != CERTIFY_FOUND) {
			o = tval_obj();
			(void)tval_push(rows, o);
			continue;
		}
		o = cf_skipped_row(app, r, &ci);
		(void)tval_set_str(o, "id", ci.it.public_id);
		why = cf_unready(&ci, 1);
		if (why == NULL) {
			(void)tval_set_bool(o, "eligible", 1);
			(void)tval_push(eligible, tval_str(ci.it.public_id));
			count++;
		}
		certify_item_free(&ci);
		(void)tval_push(rows, o);
	}
	(void)tval_set(ctx, "rows", rows);
	(void)tval_set(ctx, "eligible_ids", eligible);
	(void)tval_set_int(ctx, "count", count);
	return auth_render(app, r, "certify_batch", ctx, 200);
}

/* Certifies every one of ids that is still waiting, in one transaction,
 * each with its own signed record; the others are skipped. RQ_OK with the
 * redirect naming both counts and the skipped items, or the answer. */
static enum request_outcome
cf_batch_apply(
    struct app *app, struct request *r, const char *const *ids, size_t n)
{
	struct db *db = app_db(app);
	struct certify_request q;
	struct certify_done done;
	struct audit_event actor;
	enum certify_outcome o;
	size_t i, certified = 0, skipped = 0;
	char num[24];
	struct buf to, skips;

	cf_request(app, r, &q, &actor);
	q.decision = CERTIFY_CERTIFIED;
	q.pending_only = 1;
	if (db_begin(db) != 0)
		return RQ_UNAVAILABLE;
	buf_init(&skips);
	for (i = 0; i < n; i++) {
		q.item = ids[i];
		o = certify_decide_tx(db, &q, &done);
		if (o == CERTIFY_DONE) {
			certified++;
			continue;
		}
		if (o == CERTIFY_ERROR || o == CERTIFY_NO_KEY) {
			(void)db_rollback(db);
			buf_free(&skips);
			return o == CERTIFY_NO_KEY ? cf_no_key(app, r)
						   : RQ_UNAVAILABLE;
		}
		if (skipped++ < CF_SKIP_LISTED)
			buf_query_param(&skips, "skip", ids[i]);
	}
	if (db_commit(db) != 0) {
		(void)db_rollback(db);
		buf_free(&skips);
		return RQ_UNAVAILABLE;
	}
	buf_init(&to);
	buf_puts(&to, "/certify?done=batch");
	str_printf(num, sizeof(num), "%zu", certified);
	buf_query_param(&to, "n", num);
	if (skipped > 0) {
		str_printf(num, sizeof(num), "%zu", skipped);
		buf_query_param(&to, "skipped", num);
		buf_putc(&to, '&');
		buf_puts(&to, skips.data);
	}
	request_redirect(r, to.data);
	buf_free(&to);
	buf_free(&skips);
	return RQ_OK;
}

enum request_outcome
certify_batch_post(struct app *app, struct request *r)
{
	const char **ids = NULL;
	enum request_outcome o;
	struct form *f;
	char text[256];
	size_t n;
	int ready;

	if ((f = form_new(cf_batch_fields, BF__MAX)) == NULL)
		return RQ_ERROR;
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		o = cf_batch_refused(app, r,
		    auth_msg(app, r,
			form_unknown(f) != NULL ? "form.error.unknown"
						: "certify.batch.invalid"));
		goto out;
	}
	ids = xcalloc(form_count(f, BF_ITEM) + 1, sizeof(*ids));
	n = cf_batch_ids(f, ids);
	if (n == 0 || n > (size_t)app->conf->certify_page_size) {
		o = cf_batch_refused(app, r,
		    n == 0 ? auth_msg(app, r, "certify.batch.none")
			   : auth_msg_n(app, r, "certify.batch.too_many",
				 app->conf->certify_page_size, text,
				 sizeof(text)));
		goto out;
	}
	if ((ready = cf_key_ready(app)) <= 0) {
		o = ready < 0 ? RQ_UNAVAILABLE : cf_no_key(app, r);
		goto out;
	}
	if (strcmp(form_str(f, BF_CONFIRM), "yes") == 0)
		o = cf_batch_apply(app, r, ids, n);
	else
		o = cf_batch_confirm(app, r, ids, n);
out:
	free(ids);
	form_free(f);
	return o;
}

/* ------------------------------------------------- the home page's line */

int
notices_teacher(struct app *app, struct request *r, struct tval *ctx)
{
	const struct user *u = &r->auth->u;
	struct deadline next;
	struct tval *o;
	long long count;
	char text[256];

	if (u->role != ROLE_TEACHER)
		return 0;
	if (certify_waiting(app_db(app), u->school_id, u->id,
		app->conf->certify_deadline_days, &count, &next) != 0)
		return -1;
	if (count == 0)
		return 0;
	o = tval_obj();
	(void)tval_set_str(o, "text",
	    auth_msg_n(app, r, "certify.notice.waiting", (long)count, text,
		sizeof(text)));
	(void)tval_set_str(o, "deadline", next.date);
	(void)tval_set(ctx, "cert_waiting", o);
	return 0;
}
