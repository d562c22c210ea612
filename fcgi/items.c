/*
 * items: a student's page of items (/items) — their course learning
 * outcomes and diverse performances by term and kind, with the state they
 * see, the upload windows, and the upload form — and one item's page
 * (/items/:id) with every version of its files, the replace form and the
 * delete form. An upload streams each file part straight into a store put
 * while its first bytes decide its type and its size is held to the slot's
 * limit as the bytes arrive; only when every field, the course, the
 * category and the window have passed are the objects committed to both
 * roots, and only then are the rows, the jobs and the audit row written in
 * one transaction.
 *
 * It must never act on an upload before its first part, the CSRF token, has
 * matched; never leave a temporary file behind a refused upload; never
 * trust a file's name or Content-Type for its type; and answer another
 * student's item, another school's, a deleted one and an unknown one alike
 * (404, audited).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "auth.h"
#include "categories.h"
#include "conf.h"
#include "form.h"
#include "ids.h"
#include "items.h"
#include "log.h"
#include "multipart.h"
#include "router.h"
#include "store_app.h"
#include "template.h"
#include "util.h"
#include "validate.h"

/* The upload's multipart limits. The forms have at most six parts (csrf,
 * kind, course, category, description, confirm) besides the two files; a
 * few more are tolerated so that an unexpected field is refused by the
 * validation layer with a message. A header block holds a file name of
 * up to 255 characters twice (filename and filename*, percent-encoded). */
#define IT_MAX_PARTS 12
#define IT_MAX_HEADER (16 * 1024)
#define IT_MAX_FIELD 4096
#define IT_BODY_OVERHEAD                                                       \
	(IT_MAX_PARTS * (IT_MAX_HEADER + IT_MAX_FIELD + 2 * MP_BOUNDARY_MAX))
#define IT_PUBLIC_PATTERN "[A-Za-z0-9_-]+"
#define IT_CATEGORY_PATTERN "[a-z0-9_]+([.][a-z0-9_]+)?"
#define IT_DONE_WORDS "created|changed|deleted"

/* ------------------------------------------------------------ helpers */

/* Appends the message key's text to out with {a_name} and {b_name}
 * replaced by a and b (either name may be NULL). */
static void
it_fill(struct app *app, const struct request *r, struct buf *out,
    const char *key, const char *a_name, const char *a, const char *b_name,
    const char *b)
{
	const char *p = auth_msg(app, r, key), *q;

	while (*p != '\0') {
		q = strchr(p, '{');
		if (q == NULL) {
			buf_puts(out, p);
			return;
		}
		buf_append(out, p, (size_t)(q - p));
		if (a_name != NULL && strncmp(q, a_name, strlen(a_name)) == 0) {
			buf_puts(out, a);
			p = q + strlen(a_name);
		} else if (b_name != NULL &&
		    strncmp(q, b_name, strlen(b_name)) == 0) {
			buf_puts(out, b);
			p = q + strlen(b_name);
		} else {
			buf_putc(out, '{');
			p = q + 1;
		}
	}
}

/* Sets ctx[name] to the filled message. */
static void
it_set_fill(struct app *app, const struct request *r, struct tval *ctx,
    const char *name, const char *key, const char *a_name, const char *a,
    const char *b_name, const char *b)
{
	struct buf t;

	buf_init(&t);
	it_fill(app, r, &t, key, a_name, a, b_name, b);
	(void)tval_set_str(ctx, name, t.data != NULL ? t.data : "");
	buf_free(&t);
}

/* A size as people read it: "4 MiB", "1.5 MiB", "300 KiB", "12 B". */
static void
it_size_text(unsigned long long n, char *out, size_t outlen)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB"};
	unsigned long long whole = n, tenths = 0, div = 1;
	size_t u = 0;

	while (u + 1 < ARRAY_SIZE(units) && n >= div * 1024) {
		div *= 1024;
		u++;
	}
	whole = n / div;
	tenths = (n % div) * 10 / div;
	if (tenths == 0 || whole >= 100)
		str_printf(out, outlen, "%llu %s", whole, units[u]);
	else
		str_printf(
		    out, outlen, "%llu.%llu %s", whole, tenths, units[u]);
}

static unsigned long long
it_slot_max(const struct app *app, enum item_slot s)
{
	return (unsigned long long)(s == ITEM_DOC
		? app->conf->items_doc_max_bytes
		: app->conf->items_video_max_bytes);
}

static const char *
it_slot_types(const struct app *app, enum item_slot s)
{
	return s == ITEM_DOC ? app->conf->items_doc_types
			     : app->conf->items_video_types;
}

/* "PDF" for pdf. */
static void
it_type_label(enum sniff_type t, char *out, size_t outlen)
{
	const char *name = sniff_name(t);
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)(name[i] >= 'a' && name[i] <= 'z'
			? name[i] - 'a' + 'A'
			: name[i]);
	out[i] = '\0';
}

/* The types of a slot as "PDF, JPEG, PNG" (labels) or as the accept
 * attribute of its file input (".pdf,application/pdf,..."). */
static void
it_slot_types_text(
    const struct app *app, enum item_slot s, int accept, struct buf *out)
{
	const char *list = it_slot_types(app, s);
	char label[16];
	int t;

	for (t = SNIFF_UNKNOWN + 1; t < SNIFF__MAX; t++) {
		if (!sniff_in_list((enum sniff_type)t, list))
			continue;
		if (out->len > 0)
			buf_puts(out, accept ? "," : ", ");
		if (accept) {
			buf_printf(out, ".%s,%s", sniff_ext((enum sniff_type)t),
			    sniff_mime((enum sniff_type)t));
			if (t == SNIFF_JPEG)
				buf_puts(out, ",.jpeg");
		} else {
			it_type_label((enum sniff_type)t, label, sizeof(label));
			buf_puts(out, label);
		}
	}
}

/* The signed-in student's students row: RQ_OK with its id (0 when the
 * account has none), or RQ_UNAVAILABLE. */
static enum request_outcome
it_student(struct app *app, struct request *r, uint64_t *student)
{
	const struct user *u = &r->auth->u;

	return items_student(app_db(app), u->school_id, u->id, student) < 0
	    ? RQ_UNAVAILABLE
	    : RQ_OK;
}

/* The sentence of a term's window: open until, opens on, closed on. */
static void
it_window_text(struct app *app, const struct request *r, const struct window *w,
    struct buf *out)
{
	static const char *const keys[] = {
	    [WINDOW_NOT_YET] = "items.window.not_yet",
	    [WINDOW_OPEN] = "items.window.open",
	    [WINDOW_CLOSED] = "items.window.closed",
	};

	it_fill(app, r, out, keys[w->state], "{from}", w->opens_on, "{to}",
	    w->closes_on);
}

/* The category's label: "多元能力 · 志工服務", or its name alone. */
static void
it_category_label(
    struct app *app, const struct request *r, const char *code, struct buf *out)
{
	const struct category_choice *c =
	    categories_find(app->categories, code);
	int en = strcmp(r->auth->lang, "en") == 0;

	if (c == NULL) {
		buf_puts(out, code);
		return;
	}
	if (strchr(c->code, '.') != NULL) {
		buf_puts(out, en ? c->group_en : c->group_zh);
		buf_puts(out, auth_msg(app, r, "items.category_sep"));
	}
	buf_puts(out, en ? c->en : c->zh);
}

/* The heading of an item: the course ("C101 國文") or the category. */
static void
it_title(struct app *app, const struct request *r, const struct item *it,
    struct buf *out)
{
	if (it->kind == ITEM_COURSE)
		buf_printf(out, "%s %s", it->course_code, it->course_name);
	else
		it_category_label(app, r, it->category, out);
}

/* One file for a page. */
static struct tval *
it_file_ctx(struct app *app, const struct request *r, const struct item_file *f)
{
	struct tval *o = tval_obj();
	char text[64];

	(void)tval_set_str(o, "id", f->public_id);
	(void)tval_set_str(o, "name", f->name);
	(void)tval_set_str(o, "slot",
	    auth_msg(app, r,
		f->slot == ITEM_DOC ? "items.slot.doc" : "items.slot.video"));
	it_type_label(f->type, text, sizeof(text));
	(void)tval_set_str(o, "type", text);
	it_size_text(f->size, text, sizeof(text));
	(void)tval_set_str(o, "size", text);
	(void)tval_set_int(o, "bytes", (long long)f->size);
	(void)tval_set_int(o, "version", (long long)f->version);
	(void)tval_set_str(o, "sha256", f->sha256);
	(void)tval_set_str(o, "uploaded_at", f->uploaded_at);
	(void)tval_set_str(o, "replaced_at", f->replaced_at);
	(void)tval_set_bool(o, "current", f->replaced_at[0] == '\0');
	return o;
}

/* What every view of an item shows: title, kind, state, description,
 * times, current files. */
static struct tval *
it_item_ctx(struct app *app, const struct request *r, const struct item *it,
    int all_files)
{
	struct tval *o = tval_obj(), *files = tval_list();
	char key[64];
	struct buf t;
	size_t i;

	buf_init(&t);
	it_title(app, r, it, &t);
	(void)tval_set_str(o, "title", t.data != NULL ? t.data : "");
	buf_free(&t);
	(void)tval_set_str(o, "id", it->public_id);
	(void)tval_set_str(o, "term", it->term);
	str_printf(
	    key, sizeof(key), "items.kind.%s", items_kind_name(it->kind));
	(void)tval_set_str(o, "kind", auth_msg(app, r, key));
	(void)tval_set_bool(o, "course", it->kind == ITEM_COURSE);
	str_printf(
	    key, sizeof(key), "items.state.%s", items_state_name(it->state));
	(void)tval_set_str(o, "state", items_state_name(it->state));
	(void)tval_set_str(o, "state_label", auth_msg(app, r, key));
	if (it->state == ITEM_ST_REJECTED)
		(void)tval_set_str(o, "reason", it->cert_reason);
	(void)tval_set_bool(o, "quarantined", it->state == ITEM_ST_QUARANTINED);
	/* A file with no good copy left: what the student can do. */
	(void)tval_set_bool(o, "lost", it->state == ITEM_ST_LOST);
	(void)tval_set_str(o, "description", it->description);
	(void)tval_set_str(o, "created_at", it->created_at);
	if (strcmp(it->updated_at, it->created_at) != 0)
		(void)tval_set_str(o, "updated_at", it->updated_at);
	(void)tval_set_str(o, "cert_at", it->cert_at);
	(void)tval_set_bool(o, "submitted", it->submitted);
	for (i = 0; i < it->nfiles; i++)
		if (all_files || it->files[i].replaced_at[0] == '\0')
			(void)tval_push(
			    files, it_file_ctx(app, r, &it->files[i]));
	(void)tval_set(o, "files", files);
	(void)tval_set_int(o, "file_count", (long long)it->nfiles);
	return o;
}

/* ---------------------------------------------------- the upload form */

/* What the student typed, shown again after a refusal. */
struct it_echo {
	const char *kind, *course, *category, *description;
};

/* The fields shared by the upload and the replace forms: description,
 * document, video, with their limits. */
static void
it_fields_ctx(struct app *app, const struct request *r, struct tval *ctx)
{
	struct buf types;
	char size[32];
	int s;

	(void)tval_set_int(
	    ctx, "description_max", app->conf->items_description_max);
	str_printf(size, sizeof(size), "%d", app->conf->items_description_max);
	it_set_fill(app, r, ctx, "description_hint", "items.description_hint",
	    "{n}", size, NULL, NULL);
	for (s = 0; s < ITEM_SLOT__MAX; s++) {
		const char *name = items_slot_name((enum item_slot)s);
		char key[48];

		buf_init(&types);
		it_slot_types_text(app, (enum item_slot)s, 0, &types);
		it_size_text(
		    it_slot_max(app, (enum item_slot)s), size, sizeof(size));
		str_printf(key, sizeof(key), "%s_hint", name);
		it_set_fill(app, r, ctx, key, "items.file_hint", "{types}",
		    types.data != NULL ? types.data : "", "{size}", size);
		buf_reset(&types);
		it_slot_types_text(app, (enum item_slot)s, 1, &types);
		str_printf(key, sizeof(key), "%s_accept", name);
		(void)tval_set_str(
		    ctx, key, types.data != NULL ? types.data : "");
		buf_free(&types);
	}
}

/* The category choices, the kinds of one category in an optgroup. */
static struct tval *
it_category_groups(struct app *app, const struct request *r, const char *chosen)
{
	struct tval *groups = tval_list(), *g = NULL, *opts = NULL, *o;
	const struct category_choice *c;
	int en = strcmp(r->auth->lang, "en") == 0;
	const char *group, *last = NULL;
	size_t i;

	for (i = 0; i < categories_count(app->categories); i++) {
		c = categories_at(app->categories, i);
		group = strchr(c->code, '.') != NULL
		    ? (en ? c->group_en : c->group_zh)
		    : NULL;
		if (g == NULL || group == NULL || last == NULL ||
		    strcmp(group, last) != 0) {
			g = tval_obj();
			opts = tval_list();
			(void)tval_set_bool(g, "grouped", group != NULL);
			(void)tval_set_str(g, "label", group);
			(void)tval_set(g, "options", opts);
			(void)tval_push(groups, g);
		}
		last = group;
		o = tval_obj();
		(void)tval_set_str(o, "value", c->code);
		(void)tval_set_str(o, "label", en ? c->en : c->zh);
		(void)tval_set_bool(
		    o, "selected", strcmp(c->code, chosen) == 0);
		(void)tval_push(opts, o);
	}
	return groups;
}

/* The student's courses whose term's window is open, by term. */
static struct tval *
it_course_groups(const struct items_course *courses, size_t ncourses,
    const struct items_term *terms, size_t nterms, const char *chosen,
    size_t *count)
{
	struct tval *groups = tval_list(), *g = NULL, *opts = NULL, *o;
	const char *last = "";
	size_t i, k;
	char label[160];

	*count = 0;
	for (i = 0; i < ncourses; i++) {
		for (k = 0; k < nterms && terms[k].id != courses[i].term_id;
		     k++)
			;
		if (k == nterms || terms[k].w.state != WINDOW_OPEN)
			continue;
		if (g == NULL || strcmp(last, courses[i].term) != 0) {
			g = tval_obj();
			opts = tval_list();
			(void)tval_set_str(g, "term", courses[i].term);
			(void)tval_set(g, "options", opts);
			(void)tval_push(groups, g);
			last = courses[i].term;
		}
		o = tval_obj();
		(void)tval_set_str(o, "value", courses[i].public_id);
		str_printf(label, sizeof(label), "%s %s", courses[i].code,
		    courses[i].name);
		(void)tval_set_str(o, "label", label);
		(void)tval_set_bool(
		    o, "selected", strcmp(courses[i].public_id, chosen) == 0);
		(void)tval_push(opts, o);
		(*count)++;
	}
	return groups;
}

/* The student's items under each term they belong to, by kind. */
static struct tval *
it_terms_ctx(struct app *app, const struct request *r,
    const struct items_term *terms, size_t nterms, const struct item_list *l)
{
	struct tval *list = tval_list(), *t, *kinds, *kd, *items;
	struct buf text;
	size_t i, k, n, total;
	int kind;
	char key[48];

	for (i = 0; i < nterms; i++) {
		t = tval_obj();
		(void)tval_set_str(t, "label", terms[i].label);
		buf_init(&text);
		it_window_text(app, r, &terms[i].w, &text);
		(void)tval_set_str(t, "window", text.data);
		buf_free(&text);
		(void)tval_set_bool(t, "open", terms[i].w.state == WINDOW_OPEN);
		kinds = tval_list();
		total = 0;
		for (kind = 0; kind < ITEM_KIND__MAX; kind++) {
			kd = tval_obj();
			items = tval_list();
			for (k = 0, n = 0; k < l->n; k++) {
				if (l->v[k].term_id != terms[i].id ||
				    l->v[k].kind != (enum item_kind)kind)
					continue;
				(void)tval_push(
				    items, it_item_ctx(app, r, &l->v[k], 0));
				n++;
				total++;
			}
			str_printf(key, sizeof(key), "items.kind.%s",
			    items_kind_name((enum item_kind)kind));
			(void)tval_set_str(kd, "label", auth_msg(app, r, key));
			(void)tval_set_str(
			    kd, "kind", items_kind_name((enum item_kind)kind));
			(void)tval_set_int(kd, "count", (long long)n);
			(void)tval_set(kd, "items", items);
			(void)tval_push(kinds, kd);
		}
		(void)tval_set(t, "kinds", kinds);
		(void)tval_set_int(t, "item_total", (long long)total);
		(void)tval_push(list, t);
	}
	return list;
}

/*
 * Renders /items: the upload form (when a term is open for uploads) with
 * what was typed (echo; NULL for a fresh form) and the student's items by
 * term. Frees ctx.
 */
static enum request_outcome
it_list_page(struct app *app, struct request *r, struct tval *ctx,
    uint64_t student, const struct it_echo *echo, int status)
{
	const struct user *u = &r->auth->u;
	struct db *db = app_db(app);
	struct items_course *courses = NULL;
	struct items_term *terms = NULL, open;
	size_t ncourses = 0, nterms = 0, ncourse_opts;
	struct item_list l = {NULL, 0};
	int has_open;
	enum request_outcome o = RQ_UNAVAILABLE;

	if (student == 0) {
		(void)tval_set_bool(ctx, "no_student", 1);
		return auth_render(app, r, "items", ctx, status);
	}
	if (items_terms(db, u->school_id, student, app->conf->items_window_days,
		&terms, &nterms) != 0 ||
	    items_list(db, u->school_id, student, &l) != 0 ||
	    items_courses(db, u->school_id, student, &courses, &ncourses) !=
		0 ||
	    (has_open = items_open_term(
		 db, u->school_id, app->conf->items_window_days, &open)) < 0)
		goto out;
	(void)tval_set(ctx, "terms", it_terms_ctx(app, r, terms, nterms, &l));
	(void)tval_set_int(ctx, "item_count", (long long)l.n);
	(void)tval_set(ctx, "course_groups",
	    it_course_groups(courses, ncourses, terms, nterms,
		echo != NULL ? echo->course : "", &ncourse_opts));
	(void)tval_set_int(ctx, "course_count", (long long)ncourse_opts);
	(void)tval_set(ctx, "category_groups",
	    it_category_groups(app, r, echo != NULL ? echo->category : ""));
	(void)tval_set_bool(ctx, "can_upload", has_open);
	if (has_open)
		it_set_fill(app, r, ctx, "diverse_hint", "items.diverse_hint",
		    "{term}", open.label, "{to}", open.w.closes_on);
	(void)tval_set_bool(ctx, "kind_diverse",
	    echo != NULL && strcmp(echo->kind, "diverse") == 0);
	(void)tval_set_str(
	    ctx, "description", echo != NULL ? echo->description : "");
	it_fields_ctx(app, r, ctx);
	o = RQ_OK;
out:
	items_list_free(&l);
	items_courses_free(courses, ncourses);
	free(terms);
	if (o != RQ_OK) {
		tval_free(ctx);
		return o;
	}
	return auth_render(app, r, "items", ctx, status);
}

enum request_outcome
items_get(struct app *app, struct request *r)
{
	struct tval *ctx;
	uint64_t student = 0;

	if (it_student(app, r, &student) != RQ_OK)
		return RQ_UNAVAILABLE;
	ctx = auth_page_ctx(app, r, "items.title");
	(void)auth_page_query(app, r, ctx, IT_DONE_WORDS, "items");
	return it_list_page(app, r, ctx, student, NULL, 200);
}

/* ------------------------------------------------- reading an upload */

/* One file slot of an upload. */
struct it_file {
	struct store_put *put; /* open while its bytes arrive */
	unsigned char head[SNIFF_HEAD];
	size_t headlen;
	enum sniff_type type;
	int typed; /* type decided (and accepted) */
	int seen; /* a part of this slot came */
	unsigned long long size;
	char sha256[65];
	char name[MP_FILENAME_MAX + 1];
};

/* Why an upload was refused while it streamed. */
enum it_refusal {
	IT_OK,
	IT_TOO_BIG, /* a file past its slot's limit */
	IT_TYPE, /* a type the slot does not take */
	IT_MISMATCH, /* the name's extension says another type */
	IT_STORE, /* the store refused (store_err) */
	IT_REPEATED, /* a file field twice */
	IT_STRAY /* a file field nobody declared */
};

struct it_upload {
	struct app *app;
	struct request *r;
	int discard; /* read the body, keep nothing (the answer is known) */
	size_t parts;
	struct auth_mp_csrf csrf; /* the first part */
	enum { IT_P_NONE, IT_P_CSRF, IT_P_FIELD, IT_P_FILE } cur;
	char field[MP_NAME_MAX + 1]; /* the plain field being read */
	struct buf value; /* its bytes */
	struct buf fields; /* the plain fields, urlencoded for lib/form */
	enum item_slot slot; /* the file being read */
	struct it_file file[ITEM_SLOT__MAX];
	enum it_refusal refusal;
	enum item_slot refusal_slot;
	enum store_error store_err;
	int store_ready;
};

static int
it_refuse(struct it_upload *u, enum it_refusal why, enum item_slot slot)
{
	if (u->refusal == IT_OK) {
		u->refusal = why;
		u->refusal_slot = slot;
	}
	return -1;
}

/* Decides the type of f from its first bytes: 0 when the slot takes it
 * and the name does not say otherwise, else -1 (refused). */
static int
it_decide_type(struct it_upload *u, struct it_file *f, enum item_slot slot)
{
	enum sniff_type named;

	f->type = sniff_type(f->head, f->headlen);
	if (!sniff_in_list(f->type, it_slot_types(u->app, slot)))
		return it_refuse(u, IT_TYPE, slot);
	named = items_name_type(f->name);
	if (named != SNIFF_UNKNOWN && named != f->type)
		return it_refuse(u, IT_MISMATCH, slot);
	f->typed = 1;
	return 0;
}

/* Opens the store put of f on its first byte. 0/-1 (refused). */
static int
it_file_open(struct it_upload *u, struct it_file *f)
{
	enum store_error e = STORE_OK;
	struct store *s;

	if (!u->store_ready) {
		if ((e = app_store_ready(u->app)) == STORE_OK)
			u->store_ready = 1;
	}
	if (e == STORE_OK) {
		s = app_store(u->app);
		if (s == NULL)
			e = STORE_E_IO;
		else if ((f->put = store_put_begin(s, &e)) == NULL) {
			if (e == STORE_OK)
				e = STORE_E_IO;
			app_store_failed(u->app, e);
		}
	}
	if (e != STORE_OK) {
		u->store_err = e;
		return it_refuse(u, IT_STORE, u->slot);
	}
	return 0;
}

static int
it_file_data(
    struct it_upload *u, const struct mp_part *part, const char *data, size_t n)
{
	struct it_file *f = &u->file[u->slot];
	enum store_error e;
	size_t k;

	/* Exactly the limit is fine; one byte more is not. */
	if (part->size > it_slot_max(u->app, u->slot))
		return it_refuse(u, IT_TOO_BIG, u->slot);
	if (f->put == NULL && it_file_open(u, f) != 0)
		return -1;
	k = SNIFF_HEAD - f->headlen < n ? SNIFF_HEAD - f->headlen : n;
	memcpy(f->head + f->headlen, data, k);
	f->headlen += k;
	if (!f->typed && f->headlen == SNIFF_HEAD &&
	    it_decide_type(u, f, u->slot) != 0)
		return -1;
	if ((e = store_put_write(f->put, data, n)) != STORE_OK) {
		u->store_err = e;
		return it_refuse(u, IT_STORE, u->slot);
	}
	f->size = part->size;
	return 0;
}

static int
it_on_begin(void *user, const struct mp_part *part)
{
	struct it_upload *u = user;
	int s;

	/* Nothing is read before the token has matched. */
	switch (auth_mp_csrf_begin(
	    &u->csrf, ++u->parts, part->name, part->is_file)) {
	case -1: return -1;
	case 1: u->cur = IT_P_CSRF; return 0;
	}
	if (u->discard)
		return -1;
	if (!part->is_file) {
		(void)str_copy(u->field, sizeof(u->field), part->name);
		buf_reset(&u->value);
		u->cur = IT_P_FIELD;
		return 0;
	}
	if ((s = items_slot_parse(part->name)) < 0)
		return it_refuse(u, IT_STRAY, ITEM_DOC);
	if (u->file[s].seen)
		return it_refuse(u, IT_REPEATED, (enum item_slot)s);
	u->file[s].seen = 1;
	(void)str_copy(
	    u->file[s].name, sizeof(u->file[s].name), part->filename);
	u->slot = (enum item_slot)s;
	u->cur = IT_P_FILE;
	return 0;
}

static int
it_on_data(void *user, const struct mp_part *part, const char *data, size_t n)
{
	struct it_upload *u = user;

	switch (u->cur) {
	case IT_P_CSRF: auth_mp_csrf_data(&u->csrf, data, n); return 0;
	case IT_P_FIELD: buf_append(&u->value, data, n); return 0;
	case IT_P_FILE: return it_file_data(u, part, data, n);
	case IT_P_NONE: return 0;
	}
	return 0;
}

static int
it_on_end(void *user, const struct mp_part *part)
{
	struct it_upload *u = user;
	struct it_file *f;

	(void)part;
	switch (u->cur) {
	case IT_P_CSRF:
		if (auth_mp_csrf_end(&u->csrf, u->r) != 0)
			return -1;
		break;
	case IT_P_FIELD:
		/* lib/form reads urlencoded text; a NUL cannot pass through
		 * buf_query_param, so it is sent on as %00 for the field's
		 * validation to refuse (no field takes control
		 * characters). */
		if (memchr(u->value.data != NULL ? u->value.data : "", '\0',
			u->value.len) != NULL) {
			buf_query_param(&u->fields, u->field, "");
			buf_puts(&u->fields, "%00");
		} else {
			buf_query_param(&u->fields, u->field,
			    u->value.data != NULL ? u->value.data : "");
		}
		break;
	case IT_P_FILE:
		f = &u->file[u->slot];
		/* A file shorter than SNIFF_HEAD is typed at its end; an
		 * empty part is no file at all (none was chosen). */
		if (f->size > 0 && !f->typed &&
		    it_decide_type(u, f, u->slot) != 0)
			return -1;
		break;
	case IT_P_NONE: break;
	}
	u->cur = IT_P_NONE;
	return 0;
}

static void
it_upload_init(struct it_upload *u, struct app *app, struct request *r)
{
	memset(u, 0, sizeof(*u));
	u->app = app;
	u->r = r;
	buf_init(&u->value);
	buf_init(&u->fields);
}

/* Drops whatever is still open: no temporary file outlives the
 * request. */
static void
it_upload_free(struct it_upload *u)
{
	int s;

	for (s = 0; s < ITEM_SLOT__MAX; s++) {
		store_put_abort(u->file[s].put);
		u->file[s].put = NULL;
	}
	buf_free(&u->value);
	buf_free(&u->fields);
	auth_mp_csrf_clear(&u->csrf);
}

/* The files that came (a non-empty part). */
static size_t
it_file_count(const struct it_upload *u)
{
	size_t n = 0;
	int s;

	for (s = 0; s < ITEM_SLOT__MAX; s++)
		n += u->file[s].size > 0;
	return n;
}

/*
 * Reads the request's multipart body through the callbacks. 0 when the
 * handler goes on: then alert is empty when everything was read and taken,
 * or holds the refusal to show on the form with *status. -1 when *o is
 * the answer itself (the CSRF refusal, a body that ended early).
 */
static int
it_read(struct app *app, struct request *r, struct it_upload *u,
    struct buf *alert, int *status, enum request_outcome *o)
{
	unsigned long long maxfile = it_slot_max(app, ITEM_DOC);
	const struct mp_callbacks cb = {it_on_begin, it_on_data, it_on_end};
	const char *ctype = request_param(r, "CONTENT_TYPE");
	enum mp_error err = MP_OK;
	struct mp *m;
	struct mp_limits lim;
	char size[32], key[64], label[16];

	if (it_slot_max(app, ITEM_VIDEO) > maxfile)
		maxfile = it_slot_max(app, ITEM_VIDEO);
	/* One byte over the larger limit still reaches the callback, which
	 * holds each slot to its own. */
	lim.max_parts = IT_MAX_PARTS;
	lim.max_header_bytes = IT_MAX_HEADER;
	lim.max_field_bytes = IT_MAX_FIELD;
	lim.max_file_bytes = (size_t)maxfile + 1;
	*status = 422;
	m = mp_new(ctype != NULL ? ctype : "", &lim, &cb, u, &err);
	if (m == NULL) {
		buf_puts(
		    alert, auth_msg(app, r, "multipart.error.content_type"));
		*status = 400;
		return 0;
	}
	*o = mp_read_request(r, m,
	    (size_t)(it_slot_max(app, ITEM_DOC) +
		it_slot_max(app, ITEM_VIDEO)) +
		IT_BODY_OVERHEAD,
	    &err);
	if (*o == RQ_OK && err == MP_OK)
		err = mp_finish(m);
	mp_free(m);
	if (*o == RQ_TOO_LARGE) {
		it_size_text(
		    it_slot_max(app, ITEM_DOC) + it_slot_max(app, ITEM_VIDEO),
		    size, sizeof(size));
		it_fill(app, r, alert, "items.error.body_too_big", "{size}",
		    size, NULL, NULL);
		*status = 413;
		return 0;
	}
	if (*o != RQ_OK)
		return -1;
	if (auth_mp_csrf_refused(&u->csrf, err == MP_OK)) {
		*o = auth_csrf_refuse(app, r);
		return -1;
	}
	if (u->discard)
		return 0;
	/* The part that passed the parser's own bound was a file. */
	if (err == MP_E_FILE)
		(void)it_refuse(u, IT_TOO_BIG, u->slot);
	switch (u->refusal) {
	case IT_OK: break;
	case IT_TOO_BIG:
		it_size_text(
		    it_slot_max(app, u->refusal_slot), size, sizeof(size));
		str_printf(key, sizeof(key), "items.error.too_big.%s",
		    items_slot_name(u->refusal_slot));
		it_fill(app, r, alert, key, "{size}", size, NULL, NULL);
		*status = 413;
		return 0;
	case IT_TYPE: {
		struct buf types;

		buf_init(&types);
		it_slot_types_text(app, u->refusal_slot, 0, &types);
		str_printf(key, sizeof(key), "items.error.type.%s",
		    items_slot_name(u->refusal_slot));
		it_fill(app, r, alert, key, "{types}",
		    types.data != NULL ? types.data : "", NULL, NULL);
		buf_free(&types);
		return 0;
	}
	case IT_MISMATCH: {
		const struct it_file *f = &u->file[u->refusal_slot];
		char named[16];

		it_type_label(f->type, label, sizeof(label));
		it_type_label(items_name_type(f->name), named, sizeof(named));
		it_fill(app, r, alert, "items.error.mismatch", "{named}", named,
		    "{type}", label);
		return 0;
	}
	case IT_STORE:
		str_printf(key, sizeof(key), "store.error.%s",
		    store_error_name(u->store_err));
		buf_puts(alert, auth_msg(app, r, key));
		*status = 503;
		return 0;
	case IT_REPEATED:
		buf_puts(alert, auth_msg(app, r, "items.error.repeated"));
		return 0;
	case IT_STRAY:
		buf_puts(alert, auth_msg(app, r, "form.error.unknown"));
		return 0;
	}
	if (err != MP_OK) {
		str_printf(
		    key, sizeof(key), "multipart.error.%s", mp_error_name(err));
		buf_puts(alert, auth_msg(app, r, key));
		*status = 400;
	}
	return 0;
}

/*
 * The validated plain fields of an upload: table (n fields) copied into
 * fields (which must outlive the form) with the description's maximum from
 * items.description_max, parsed from what the upload sent. When they are
 * not valid and the upload had no refusal of its own, alert gets the
 * general one (or "a field nobody declared"). NULL only on a programming
 * error.
 */
static struct form *
it_upload_form(struct app *app, struct request *r, const struct it_upload *u,
    const struct form_field *table, struct form_field *fields, size_t n,
    size_t description, struct buf *alert)
{
	struct form *f;

	memcpy(fields, table, n * sizeof(*fields));
	fields[description].max = app->conf->items_description_max;
	if ((f = form_new(fields, n)) == NULL)
		return NULL;
	if (form_parse(f, u->fields.data, u->fields.len) != 0 &&
	    alert->len == 0)
		buf_puts(alert,
		    auth_msg(app, r,
			form_unknown(f) != NULL ? "form.error.unknown"
						: "items.error.invalid"));
	return f;
}

/*
 * Commits the objects of the files that came, into files[] (n of them).
 * RQ_OK, or the store's message in alert (then every put is dropped; an
 * object already committed stays, complete but unrecorded, for the scrub
 * to find, and is reused by the next upload of the same bytes).
 */
static void
it_commit(struct it_upload *u, struct item_upload *files, size_t *n,
    struct buf *alert)
{
	enum store_error e;
	char key[64];
	int s, existed;

	*n = 0;
	for (s = 0; s < ITEM_SLOT__MAX; s++) {
		struct it_file *f = &u->file[s];

		if (f->put == NULL)
			continue;
		e = store_put_commit(f->put, f->sha256, &existed);
		f->put = NULL; /* freed either way */
		if (e != STORE_OK) {
			app_store_failed(u->app, e);
			str_printf(key, sizeof(key), "store.error.%s",
			    store_error_name(e));
			buf_puts(alert, auth_msg(u->app, u->r, key));
			return;
		}
		files[*n].slot = (enum item_slot)s;
		(void)str_copy(
		    files[*n].sha256, sizeof(files[*n].sha256), f->sha256);
		files[*n].size = f->size;
		files[*n].type = f->type;
		files[*n].name = f->name;
		(*n)++;
	}
}

/* The audit detail of an upload: {"kind":..,"term":..,"files":[{..}]}. */
static void
it_audit_detail(struct buf *d, const char *kind, const char *term,
    const struct item_upload *files, size_t n, int description)
{
	size_t i;

	buf_putc(d, '{');
	if (kind != NULL)
		buf_json_kv(d, "kind", kind);
	if (term != NULL)
		buf_json_kv(d, "term", term);
	if (description)
		buf_puts(d,
		    d->len > 1 ? ",\"description\":true"
			       : "\"description\":true");
	buf_puts(d, d->len > 1 ? ",\"files\":[" : "\"files\":[");
	for (i = 0; i < n; i++) {
		buf_puts(d, i > 0 ? ",{" : "{");
		buf_json_kv(d, "slot", items_slot_name(files[i].slot));
		buf_json_kv(d, "sha256", files[i].sha256);
		buf_json_ki(d, "size", (long long)files[i].size);
		buf_json_kv(d, "mime", sniff_mime(files[i].type));
		buf_putc(d, '}');
	}
	buf_puts(d, "]}");
}

/* ------------------------------------------------------- POST /items */

enum { CF_KIND, CF_COURSE, CF_CATEGORY, CF_DESCRIPTION, CF__MAX };

static const struct form_field it_create_fields[CF__MAX] = {
    [CF_KIND] = {"kind", FORM_ENUM, FORM_REQUIRED, 0, 0, "course|diverse"},
    [CF_COURSE] = {"course", FORM_PATTERN, 0, IDS_PUBLIC_LEN, IDS_PUBLIC_LEN,
	IT_PUBLIC_PATTERN},
    [CF_CATEGORY] = {"category", FORM_PATTERN, 0, 1, CATEGORY_CODE_MAX,
	IT_CATEGORY_PATTERN},
    /* max: items.description_max, set per request */
    [CF_DESCRIPTION] = {"description", FORM_TEXT, FORM_REQUIRED, 1, 100, NULL},
};

/* The description's own message into ctx: when it is too long, how long
 * it may be and how long it is — which then replaces alert, when that is
 * the general "correct the fields", so that the page says at once what is
 * wrong. Sets the alert (alert may be NULL or ""). */
static void
it_description_error(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, size_t i, const char *alert)
{
	const char *echo = form_echo(f, i);
	long chars = validate_utf8_text(echo, strlen(echo), 1);
	char max[16], got[16];
	struct buf t;

	if (alert != NULL && alert[0] != '\0')
		(void)tval_set_str(ctx, "alert", alert);
	if (form_error(f, i) != FORM_E_LONG || chars < 0) {
		auth_field_error(app, r, ctx, "description_error", f, i);
		return;
	}
	str_printf(max, sizeof(max), "%d", app->conf->items_description_max);
	str_printf(got, sizeof(got), "%ld", chars);
	buf_init(&t);
	it_fill(app, r, &t, "items.error.description_long", "{max}", max, "{n}",
	    got);
	(void)tval_set_str(ctx, "description_error", t.data);
	if (alert != NULL &&
	    strcmp(alert, auth_msg(app, r, "items.error.invalid")) == 0)
		(void)tval_set_str(ctx, "alert", t.data);
	buf_free(&t);
}

/* The upload form again with alert (may be empty), every field's message
 * and what was typed. Frees ctx. */
static enum request_outcome
it_create_refused(struct app *app, struct request *r, struct tval *ctx,
    uint64_t student, const struct form *f, const char *alert, int status)
{
	struct it_echo echo = {"course", "", "", ""};

	if (f != NULL) {
		echo.kind =
		    form_error(f, CF_KIND) == FORM_E_OK && form_has(f, CF_KIND)
		    ? form_str(f, CF_KIND)
		    : "course";
		echo.course = form_echo(f, CF_COURSE);
		echo.category = form_echo(f, CF_CATEGORY);
		echo.description = form_echo(f, CF_DESCRIPTION);
		auth_field_error(app, r, ctx, "kind_error", f, CF_KIND);
		auth_field_error(app, r, ctx, "course_error", f, CF_COURSE);
		auth_field_error(app, r, ctx, "category_error", f, CF_CATEGORY);
		it_description_error(app, r, ctx, f, CF_DESCRIPTION, alert);
	} else if (alert != NULL && alert[0] != '\0') {
		(void)tval_set_str(ctx, "alert", alert);
	}
	return it_list_page(app, r, ctx, student, &echo, status);
}

/* The same with one field's message (key), which is also the alert: -1
 * with the answer in *o. */
static int
it_create_field_refused(struct app *app, struct request *r, uint64_t student,
    const struct form *f, const char *field, const char *key,
    enum request_outcome *o)
{
	struct tval *ctx = auth_page_ctx(app, r, "items.title");
	const char *text = auth_msg(app, r, key);

	(void)tval_set_str(ctx, field, text);
	*o = it_create_refused(app, r, ctx, student, f, text, 422);
	return -1;
}

/* "Term 113-2 does not take uploads or changes now." and when its window
 * opens or when it closed. */
static void
it_window_refusal(struct app *app, const struct request *r,
    const struct items_term *t, struct buf *out)
{
	it_fill(
	    app, r, out, "items.error.window", "{term}", t->label, NULL, NULL);
	buf_putc(out, ' ');
	it_window_text(app, r, &t->w, out);
}

/* Sets the answer *o to v: -1, for "answered". */
static int
it_answer(enum request_outcome *o, enum request_outcome v)
{
	*o = v;
	return -1;
}

/* The upload form again saying that the term's window is not open, and
 * when it opens or when it closed. */
static enum request_outcome
it_window_refused(struct app *app, struct request *r, uint64_t student,
    const struct form *f, const struct items_term *t)
{
	struct tval *ctx = auth_page_ctx(app, r, "items.title");
	enum request_outcome o;
	struct buf text;

	buf_init(&text);
	it_window_refusal(app, r, t, &text);
	(void)tval_set_str(ctx, "course_error", text.data);
	o = it_create_refused(app, r, ctx, student, f, text.data, 422);
	buf_free(&text);
	return o;
}

/* Where the new item goes: its term (from the course, or the term open
 * now for a diverse performance) with its window open. 0 with n->term_id
 * and n->course_id set, or -1 with the answer in *o. */
static int
it_create_target(struct app *app, struct request *r, uint64_t student,
    const struct form *f, struct item_new *n, enum request_outcome *o)
{
	const struct user *u = &r->auth->u;
	struct items_term t;
	int rc;

	if (n->kind == ITEM_COURSE) {
		if (!form_has(f, CF_COURSE))
			return it_create_field_refused(app, r, student, f,
			    "course_error", "items.error.course_missing", o);
		rc = items_enrolled(app_db(app), u->school_id, student,
		    form_str(f, CF_COURSE), &n->course_id, &n->term_id);
		if (rc == 0)
			return it_create_field_refused(app, r, student, f,
			    "course_error", "items.error.not_your_course", o);
		if (rc > 0)
			rc = items_term_window(app_db(app), u->school_id,
			    n->term_id, app->conf->items_window_days, &t);
	} else {
		if (!form_has(f, CF_CATEGORY))
			return it_create_field_refused(app, r, student, f,
			    "category_error", "items.error.category_missing",
			    o);
		if (categories_find(app->categories, n->category) == NULL)
			return it_create_field_refused(app, r, student, f,
			    "category_error", "items.error.category_unknown",
			    o);
		rc = items_open_term(app_db(app), u->school_id,
		    app->conf->items_window_days, &t);
		if (rc == 0)
			return it_create_field_refused(app, r, student, f,
			    "kind_error", "items.error.no_open_term", o);
		n->term_id = t.id;
	}
	if (rc == 1 && t.w.state == WINDOW_OPEN)
		return 0;
	/* rc 0: the course's term is gone (it cannot be: the course names
	 * it). */
	*o = rc < 0   ? RQ_UNAVAILABLE
	    : rc == 0 ? RQ_NOT_FOUND
		      : it_window_refused(app, r, student, f, &t);
	return -1;
}

/* Records the new item in one transaction with its audit row; publishes
 * its jobs after the commit. RQ_OK with its public id, or the answer. */
static enum request_outcome
it_create_record(struct app *app, struct request *r, uint64_t student,
    const struct item_new *n, const struct item_upload *files, size_t nfiles,
    const char *term)
{
	const struct user *u = &r->auth->u;
	struct db *db = app_db(app);
	struct item_jobs jobs;
	char id[IDS_PUBLIC_LEN + 1], target[64];
	struct buf d;
	int ok;

	buf_init(&d);
	if (db_begin(db) != 0) {
		buf_free(&d);
		return RQ_UNAVAILABLE;
	}
	ok = items_create_tx(db, u->school_id, student, u->id, n, files, nfiles,
		 id, &jobs) == 0;
	if (ok) {
		str_printf(target, sizeof(target), "item:%s", id);
		it_audit_detail(
		    &d, items_kind_name(n->kind), term, files, nfiles, 0);
		ok = auth_audit_tx(db, r, "item.create", target, d.data) == 0 &&
		    db_commit(db) == 0;
	}
	buf_free(&d);
	if (!ok) {
		(void)db_rollback(db);
		log_error("items: the upload of %s was not recorded; its "
			  "objects stay in the store unrecorded",
		    u->login);
		return RQ_UNAVAILABLE;
	}
	items_publish(app_kv(app), db, &jobs);
	request_redirect(r, "/items?done=created");
	return RQ_OK;
}

/* The term label of a term id, for the audit row. */
static void
it_term_of(struct app *app, const struct request *r, uint64_t term_id,
    char label[ITEMS_TERM_LEN + 1])
{
	struct items_term t;

	label[0] = '\0';
	if (items_term_window(app_db(app), r->auth->u.school_id, term_id,
		app->conf->items_window_days, &t) == 1)
		(void)str_copy(label, ITEMS_TERM_LEN + 1, t.label);
}

enum request_outcome
items_post(struct app *app, struct request *r)
{
	struct form_field fields[CF__MAX];
	struct item_upload files[ITEM_SLOT__MAX];
	struct it_upload u;
	struct item_new n;
	struct buf alert;
	struct form *f = NULL;
	struct tval *ctx;
	uint64_t student = 0;
	size_t nfiles = 0;
	char term[ITEMS_TERM_LEN + 1];
	enum request_outcome o;
	int status = 422;

	if (it_student(app, r, &student) != RQ_OK)
		return RQ_UNAVAILABLE;
	it_upload_init(&u, app, r);
	u.discard = student == 0;
	buf_init(&alert);
	if (it_read(app, r, &u, &alert, &status, &o) != 0)
		goto out;
	if (student == 0) {
		ctx = auth_page_ctx(app, r, "items.title");
		o = it_list_page(app, r, ctx, 0, NULL, 403);
		goto out;
	}
	f = it_upload_form(app, r, &u, it_create_fields, fields, CF__MAX,
	    CF_DESCRIPTION, &alert);
	if (f == NULL) {
		o = RQ_ERROR;
		goto out;
	}
	if (alert.len > 0) {
		ctx = auth_page_ctx(app, r, "items.title");
		o = it_create_refused(
		    app, r, ctx, student, f, alert.data, status);
		goto out;
	}
	memset(&n, 0, sizeof(n));
	n.kind = strcmp(form_str(f, CF_KIND), "diverse") == 0 ? ITEM_DIVERSE
							      : ITEM_COURSE;
	n.category = form_str(f, CF_CATEGORY);
	n.description = form_str(f, CF_DESCRIPTION);
	if (it_create_target(app, r, student, f, &n, &o) != 0)
		goto out;
	if (it_file_count(&u) == 0) {
		(void)it_create_field_refused(
		    app, r, student, f, "doc_error", "items.error.no_file", &o);
		goto out;
	}
	it_commit(&u, files, &nfiles, &alert);
	if (alert.len > 0) {
		ctx = auth_page_ctx(app, r, "items.title");
		o = it_create_refused(app, r, ctx, student, f, alert.data, 503);
		goto out;
	}
	it_term_of(app, r, n.term_id, term);
	o = it_create_record(app, r, student, &n, files, nfiles, term);
out:
	form_free(f);
	buf_free(&alert);
	it_upload_free(&u);
	return o;
}

/* ---------------------------------------------------- /items/:id */

/* The item :id of the signed-in student into it: RQ_OK, or the answer
 * (404 for anything that is not theirs or not there, audited). */
static enum request_outcome
it_find(struct app *app, struct request *r, uint64_t *student, struct item *it)
{
	static const char *const reasons[] = {
	    [ITEMS_UNKNOWN] = "unknown",
	    [ITEMS_OTHER_SCHOOL] = "other_school",
	    [ITEMS_OTHER_STUDENT] = "not_owner",
	    [ITEMS_DELETED] = "deleted",
	};
	const char *id = request_capture(r, "id");
	enum items_found found;

	memset(it, 0, sizeof(*it));
	if (it_student(app, r, student) != RQ_OK)
		return RQ_UNAVAILABLE;
	if (*student == 0)
		return auth_deny(app, r, "no_student_record", 1);
	found = items_find(app_db(app), r->auth->u.school_id, *student,
	    id != NULL ? id : "", it);
	if (found == ITEMS_FOUND)
		return RQ_OK;
	if (found == ITEMS_FIND_ERROR)
		return RQ_UNAVAILABLE;
	return auth_deny(app, r, reasons[found], 1);
}

/* Renders /items/:id with ctx (alert, field messages), what was typed as
 * the description (NULL: the item's), and the forms when it may change.
 * Frees ctx. */
static enum request_outcome
it_item_page(struct app *app, struct request *r, struct tval *ctx,
    const struct item *it, const char *description, int status)
{
	struct items_term t;
	struct buf text;
	char href[64];
	int rc, open;

	rc = items_term_window(app_db(app), r->auth->u.school_id, it->term_id,
	    app->conf->items_window_days, &t);
	if (rc < 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	open = rc == 1 && t.w.state == WINDOW_OPEN;
	(void)tval_set(ctx, "item", it_item_ctx(app, r, it, 1));
	if (it->kind == ITEM_DIVERSE)
		(void)tval_set_str(ctx, "category_code", it->category);
	buf_init(&text);
	if (rc == 1)
		it_window_text(app, r, &t.w, &text);
	(void)tval_set_str(ctx, "window", text.data != NULL ? text.data : "");
	buf_free(&text);
	(void)tval_set_bool(ctx, "window_open", open);
	(void)tval_set_bool(ctx, "can_change", open && !it->submitted);
	(void)tval_set_bool(ctx, "certified", it->cert == ITEM_CERT_CERTIFIED);
	(void)tval_set_bool(ctx, "rejected", it->cert == ITEM_CERT_REJECTED);
	(void)tval_set_str(ctx, "description",
	    description != NULL ? description : it->description);
	str_printf(href, sizeof(href), "/items/%s", it->public_id);
	(void)tval_set_str(ctx, "action", href);
	str_printf(href, sizeof(href), "/items/%s/delete", it->public_id);
	(void)tval_set_str(ctx, "delete_action", href);
	it_fields_ctx(app, r, ctx);
	return auth_render(app, r, "item", ctx, status);
}

enum request_outcome
item_get(struct app *app, struct request *r)
{
	struct item it;
	struct tval *ctx;
	uint64_t student = 0;
	char target[64];
	enum request_outcome o = it_find(app, r, &student, &it);

	if (o != RQ_OK)
		return o;
	/* The student's own files, but a view of them all the same. */
	str_printf(target, sizeof(target), "item:%s", it.public_id);
	if (auth_audit(app, r, "item.view", target, "success",
		"{\"own\":true}") != 0) {
		items_free(&it);
		return RQ_UNAVAILABLE;
	}
	ctx = auth_page_ctx(app, r, "items.item_title");
	(void)auth_page_query(app, r, ctx, IT_DONE_WORDS, "items");
	o = it_item_page(app, r, ctx, &it, NULL, 200);
	items_free(&it);
	return o;
}

/* The item page again with an alert (key, or text when key is NULL) and
 * status. */
static enum request_outcome
it_item_refused(struct app *app, struct request *r, const struct item *it,
    const struct form *f, size_t description_field, const char *key,
    const char *text, int status)
{
	struct tval *ctx = auth_page_ctx(app, r, "items.item_title");
	const char *alert = key != NULL ? auth_msg(app, r, key) : text;

	if (f != NULL && description_field != (size_t)-1)
		it_description_error(app, r, ctx, f, description_field, alert);
	else
		(void)tval_set_str(ctx, "alert", alert);
	return it_item_page(app, r, ctx, it,
	    f != NULL && description_field != (size_t)-1
		? form_echo(f, description_field)
		: NULL,
	    status);
}

/* Whether the item may change now: 0, or -1 with the answer in *o (the
 * page saying why not: submitted; the window is not open; certified and
 * not confirmed). */
static int
it_may_change(struct app *app, struct request *r, const struct item *it,
    int confirmed, const struct form *f, size_t description_field,
    enum request_outcome *o)
{
	struct items_term t;
	struct buf text;
	int rc;

	if (it->submitted)
		return it_answer(o,
		    it_item_refused(app, r, it, f, description_field,
			"items.error.submitted", NULL, 409));
	rc = items_term_window(app_db(app), r->auth->u.school_id, it->term_id,
	    app->conf->items_window_days, &t);
	if (rc < 0)
		return it_answer(o, RQ_UNAVAILABLE);
	if (rc == 1 && t.w.state != WINDOW_OPEN) {
		buf_init(&text);
		it_window_refusal(app, r, &t, &text);
		*o = it_item_refused(
		    app, r, it, f, description_field, NULL, text.data, 422);
		buf_free(&text);
		return -1;
	}
	if (it->cert == ITEM_CERT_CERTIFIED && !confirmed)
		return it_answer(o,
		    it_item_refused(app, r, it, f, description_field,
			"items.error.confirm", NULL, 422));
	return 0;
}

/* The answer to a change the model refused after locking the row. */
static enum request_outcome
it_change_refused(struct app *app, struct request *r, const struct item *it,
    enum items_change rc)
{
	switch (rc) {
	case ITEMS_GONE: return auth_deny(app, r, "deleted", 1);
	case ITEMS_SUBMITTED:
		return it_item_refused(app, r, it, NULL, (size_t)-1,
		    "items.error.submitted", NULL, 409);
	case ITEMS_NEEDS_CONFIRM:
		return it_item_refused(app, r, it, NULL, (size_t)-1,
		    "items.error.confirm", NULL, 422);
	case ITEMS_CHANGED:
	case ITEMS_CHANGE_ERROR:
	default: return RQ_UNAVAILABLE;
	}
}

/* The audit row of a dropped certification, in the change's
 * transaction; unticked: the item's tick went with it. */
static int
it_audit_cert_removed(struct db *db, const struct request *r,
    const char *target, const char *by, int unticked)
{
	struct buf d;
	int rc;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "was", "certified");
	buf_json_kv(&d, "by", by);
	if (unticked)
		buf_puts(&d, ",\"unticked\":true");
	buf_putc(&d, '}');
	rc = auth_audit_tx(db, r, "item.certification_removed", target, d.data);
	buf_free(&d);
	return rc;
}

enum { XF_DESCRIPTION, XF_CONFIRM, XF__MAX };

static const struct form_field it_change_fields[XF__MAX] = {
    [XF_DESCRIPTION] = {"description", FORM_TEXT, FORM_REQUIRED, 1, 100, NULL},
    [XF_CONFIRM] = {"confirm", FORM_CHECKBOX, 0, 0, 0, NULL},
};

/* Records the change in one transaction with its audit rows. RQ_OK (and
 * the redirect), or the answer. */
static enum request_outcome
it_change_record(struct app *app, struct request *r, const struct item *it,
    const char *description, const struct item_upload *files, size_t nfiles,
    int confirmed)
{
	struct db *db = app_db(app);
	struct item_jobs jobs;
	enum item_cert was = ITEM_CERT_NONE;
	enum items_change rc;
	char target[64], to[80];
	struct buf d;
	int ok, unticked = 0;

	if (db_begin(db) != 0)
		return RQ_UNAVAILABLE;
	rc = items_change_tx(db, it, r->auth->u.id, description, files, nfiles,
	    confirmed, &was, &unticked, &jobs);
	if (rc != ITEMS_CHANGED) {
		(void)db_rollback(db);
		return it_change_refused(app, r, it, rc);
	}
	str_printf(target, sizeof(target), "item:%s", it->public_id);
	buf_init(&d);
	it_audit_detail(&d, NULL, NULL, files, nfiles, description != NULL);
	ok = auth_audit_tx(db, r, "item.change", target, d.data) == 0 &&
	    (was != ITEM_CERT_CERTIFIED ||
		it_audit_cert_removed(db, r, target, "change", unticked) ==
		    0) &&
	    db_commit(db) == 0;
	buf_free(&d);
	if (!ok) {
		(void)db_rollback(db);
		return RQ_UNAVAILABLE;
	}
	items_publish(app_kv(app), db, &jobs);
	str_printf(to, sizeof(to), "/items/%s?done=changed", it->public_id);
	request_redirect(r, to);
	return RQ_OK;
}

enum request_outcome
item_post(struct app *app, struct request *r)
{
	struct form_field fields[XF__MAX];
	struct item_upload files[ITEM_SLOT__MAX];
	struct it_upload u;
	struct buf alert;
	struct form *f = NULL;
	struct item it;
	const char *description = NULL;
	uint64_t student = 0;
	size_t nfiles = 0;
	enum request_outcome o, found;
	int status = 422, confirmed;

	found = it_find(app, r, &student, &it);
	it_upload_init(&u, app, r);
	/* The body is read either way, so that the answer follows it. */
	u.discard = found != RQ_OK;
	buf_init(&alert);
	if (it_read(app, r, &u, &alert, &status, &o) != 0)
		goto out;
	if (found != RQ_OK) {
		o = found;
		goto out;
	}
	f = it_upload_form(app, r, &u, it_change_fields, fields, XF__MAX,
	    XF_DESCRIPTION, &alert);
	if (f == NULL) {
		o = RQ_ERROR;
		goto out;
	}
	if (alert.len > 0) {
		o = it_item_refused(
		    app, r, &it, f, XF_DESCRIPTION, NULL, alert.data, status);
		goto out;
	}
	confirmed = (int)form_int(f, XF_CONFIRM);
	if (it_may_change(app, r, &it, confirmed, f, XF_DESCRIPTION, &o) != 0)
		goto out;
	if (strcmp(form_str(f, XF_DESCRIPTION), it.description) != 0)
		description = form_str(f, XF_DESCRIPTION);
	if (description == NULL && it_file_count(&u) == 0) {
		o = it_item_refused(app, r, &it, f, XF_DESCRIPTION,
		    "items.error.nothing", NULL, 422);
		goto out;
	}
	it_commit(&u, files, &nfiles, &alert);
	if (alert.len > 0) {
		o = it_item_refused(
		    app, r, &it, f, XF_DESCRIPTION, NULL, alert.data, 503);
		goto out;
	}
	o = it_change_record(
	    app, r, &it, description, files, nfiles, confirmed);
out:
	form_free(f);
	buf_free(&alert);
	it_upload_free(&u);
	items_free(&it);
	return o;
}

/* ------------------------------------------- /items/:id/delete */

enum { DF_CSRF, DF_CONFIRM, DF__MAX };

static const struct form_field it_delete_fields[DF__MAX] = {
    [DF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	AUTH_CSRF_PATTERN},
    [DF_CONFIRM] = {"confirm", FORM_CHECKBOX, 0, 0, 0, NULL},
};

enum request_outcome
item_delete_post(struct app *app, struct request *r)
{
	struct db *db = app_db(app);
	enum item_cert was = ITEM_CERT_NONE;
	enum items_change rc;
	struct form *f;
	struct item it;
	uint64_t student = 0;
	char target[64];
	enum request_outcome o = it_find(app, r, &student, &it);
	int confirmed, ok, unticked = 0;

	if (o != RQ_OK)
		return o;
	if ((f = form_new(it_delete_fields, DF__MAX)) == NULL) {
		items_free(&it);
		return RQ_ERROR;
	}
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		o = it_item_refused(app, r, &it, NULL, (size_t)-1,
		    form_unknown(f) != NULL ? "form.error.unknown"
					    : "items.error.invalid",
		    NULL, 422);
		goto out;
	}
	confirmed = (int)form_int(f, DF_CONFIRM);
	if (it_may_change(app, r, &it, confirmed, NULL, (size_t)-1, &o) != 0)
		goto out;
	if (db_begin(db) != 0) {
		o = RQ_UNAVAILABLE;
		goto out;
	}
	rc = items_delete_tx(db, &it, confirmed, &was, &unticked);
	if (rc != ITEMS_CHANGED) {
		(void)db_rollback(db);
		o = it_change_refused(app, r, &it, rc);
		goto out;
	}
	str_printf(target, sizeof(target), "item:%s", it.public_id);
	ok = auth_audit_tx(db, r, "item.delete", target, NULL) == 0 &&
	    (was != ITEM_CERT_CERTIFIED ||
		it_audit_cert_removed(db, r, target, "delete", unticked) ==
		    0) &&
	    db_commit(db) == 0;
	if (!ok) {
		(void)db_rollback(db);
		o = RQ_UNAVAILABLE;
		goto out;
	}
	request_redirect(r, "/items?done=deleted");
	o = RQ_OK;
out:
	form_free(f);
	items_free(&it);
	return o;
}
