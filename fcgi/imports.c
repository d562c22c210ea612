/*
 * imports: a school admin's CSV import from the page — the upload form with
 * the school's recent imports (/admin/import), the upload itself (a
 * multipart POST read into memory up to import.max_bytes, checked as a dry
 * run by lib/import and saved), its report (/admin/imports/:id and its CSV)
 * and the apply. The engine (lib/import.c) validates, writes and audits;
 * this file reads the request, asks it, and renders.
 *
 * It must never act on an upload before the body's first part, the CSRF
 * token, has matched; never show a national ID unmasked (a report holds
 * masked values only, so viewing it is not a personal-data view); and it
 * answers another school's import exactly as a missing one (404).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "csv.h"
#include "form.h"
#include "i18n.h"
#include "ids.h"
#include "import.h"
#include "log.h"
#include "multipart.h"
#include "router.h"
#include "template.h"
#include "util.h"

#define IMP_CSRF AUTH_CSRF_PATTERN
#define IMP_KINDS "students|teachers|courses|enrolments"
#define IMP_ENCODINGS "auto|utf-8|big5"
/* The school's recent imports shown under the form. */
#define IMP_RECENT 20

/* The upload's multipart limits: the form has four parts (csrf, kind,
 * encoding, file); a few more are tolerated so that a browser's extra
 * field is refused by the validation layer with a message, not here. */
#define IMP_MAX_PARTS 8
#define IMP_MAX_HEADER (8 * 1024)
#define IMP_MAX_FIELD 1024
/* Body bytes beyond the file: the parts' headers, the small fields and
 * the delimiters, bounded by the limits above. */
#define IMP_BODY_OVERHEAD                                                      \
	(IMP_MAX_PARTS * (IMP_MAX_HEADER + IMP_MAX_FIELD + 2 * MP_BOUNDARY_MAX))

/* ------------------------------------------------------------ helpers */

/* The columns of each kind, for the page's short description (the full
 * one, with the accepted values and an example file for each kind, is
 * docs/import.md). Header names come from the engine
 * (import_column_label), the one-line descriptions from the catalogue
 * ("imports.doc.<kind>.<column>"). */
struct imp_column {
	const char *name;
	int required;
};

static const struct imp_column imp_students_cols[] = {
    {"student_no", 1},
    {"name", 1},
    {"national_id", 1},
    {"birth_date", 1},
    {"class", 0},
    {"seat_no", 0},
    {"status", 0},
    {"school_year", 0},
    {NULL, 0},
};
static const struct imp_column imp_teachers_cols[] = {
    {"login", 1},
    {"name", 1},
    {"staff_no", 0},
    {"homeroom_class", 0},
    {"status", 0},
    {"school_year", 0},
    {NULL, 0},
};
static const struct imp_column imp_courses_cols[] = {
    {"term", 1},
    {"code", 1},
    {"name", 1},
    {"credits", 1},
    {"teachers", 0},
    {NULL, 0},
};
static const struct imp_column imp_enrolments_cols[] = {
    {"student_no", 1},
    {"term", 1},
    {"course_code", 1},
    {NULL, 0},
};
static const struct imp_column *const imp_columns[IMPORT_KIND__MAX] = {
    [IMPORT_STUDENTS] = imp_students_cols,
    [IMPORT_TEACHERS] = imp_teachers_cols,
    [IMPORT_COURSES] = imp_courses_cols,
    [IMPORT_ENROLMENTS] = imp_enrolments_cols,
};

/* The engine's context for the signed-in admin's school. */
static void
imp_ctx(struct app *app, const struct request *r, struct import_ctx *x)
{
	const struct user *u = &r->auth->u;

	memset(x, 0, sizeof(*x));
	x->db = app_db(app);
	x->conf = app->conf;
	x->data_key = app->data_key;
	x->lookup_key = app->lookup_key;
	x->school_id = u->school_id;
	x->school_code = u->school_code;
	x->who.user_id = u->id;
	x->who.actor = u->login;
	x->who.role = "school_admin";
	x->who.ip = r->auth->ip;
}

/* The label of a kind ("imports.kind.students") in the request's
 * language; the name itself when unknown. */
static const char *
imp_kind_label(struct app *app, const struct request *r, const char *kind)
{
	char key[48];

	str_printf(key, sizeof(key), "imports.kind.%s", kind);
	return i18n_has(app->msgs, key) ? auth_msg(app, r, key) : kind;
}

/* The label of an encoding as stored ("utf-8", "big5"). */
static const char *
imp_encoding_label(struct app *app, const struct request *r, const char *enc)
{
	return auth_msg(app, r,
	    strcmp(enc, "big5") == 0 ? "imports.encoding_big5"
				     : "imports.encoding_utf8");
}

/* ------------------------------------------------------ /admin/import */

static const char imp_recent_sql[] =
    "SELECT public_id, kind, filename, DATE_FORMAT(created_at, '%Y-%m-%d "
    "%H:%i'), created_by_actor, state, rows_total, rows_bad, (state = "
    "'checked' AND (payload IS NULL OR expires_at <= UTC_TIMESTAMP(6))) "
    "FROM imports WHERE school_id = ? ORDER BY created_at DESC, id DESC "
    "LIMIT ?";

/* The school's recent imports into ctx. 0/-1. */
static int
imp_recent(struct app *app, struct request *r, struct tval *ctx)
{
	struct db_param p[2] = {
	    DB_INT((long long)r->auth->u.school_id), DB_INT(IMP_RECENT)};
	struct db_res *res;
	struct tval *list, *row;
	const char *state, *key;
	size_t i;

	res = db_query(app_db(app), imp_recent_sql, p, 2);
	if (res == NULL)
		return -1;
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		state = db_res_get(res, i, 5);
		if (strcmp(state, "applied") == 0)
			key = "imports.state.applied";
		else if (db_res_int(res, i, 7) > 0)
			key = "imports.state.bad";
		else if (strcmp(state, "expired") == 0 ||
		    db_res_int(res, i, 8) != 0)
			key = "imports.state.expired";
		else
			key = "imports.state.checked";
		row = tval_obj();
		(void)tval_set_str(row, "id", db_res_get(res, i, 0));
		(void)tval_set_str(
		    row, "kind", imp_kind_label(app, r, db_res_get(res, i, 1)));
		(void)tval_set_str(row, "filename", db_res_get(res, i, 2));
		(void)tval_set_str(row, "at", db_res_get(res, i, 3));
		(void)tval_set_str(row, "by", db_res_get(res, i, 4));
		(void)tval_set_str(row, "state", auth_msg(app, r, key));
		(void)tval_set_int(row, "rows", db_res_int(res, i, 6));
		(void)tval_set_int(row, "bad", db_res_int(res, i, 7));
		(void)tval_push(list, row);
	}
	(void)tval_set_int(ctx, "recent_count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set(ctx, "recent", list);
	return 0;
}

/* The columns of every kind, described briefly (headers in both
 * languages, since a file may use either). */
static void
imp_columns_doc(struct app *app, struct request *r, struct tval *ctx)
{
	struct tval *kinds = tval_list(), *k, *cols, *c;
	const struct imp_column *col;
	const char *name, *zh, *en;
	char key[96];
	int i;

	for (i = 0; i < IMPORT_KIND__MAX; i++) {
		name = import_kind_name((enum import_kind)i);
		k = tval_obj();
		(void)tval_set_str(k, "kind", name);
		(void)tval_set_str(k, "label", imp_kind_label(app, r, name));
		cols = tval_list();
		for (col = imp_columns[i]; col->name != NULL; col++) {
			zh = import_column_label(
			    (enum import_kind)i, col->name, "zh-TW");
			en = import_column_label(
			    (enum import_kind)i, col->name, "en");
			c = tval_obj();
			(void)tval_set_str(
			    c, "zh", zh != NULL ? zh : col->name);
			(void)tval_set_str(
			    c, "en", en != NULL ? en : col->name);
			str_printf(key, sizeof(key), "imports.doc.%s.%s", name,
			    col->name);
			(void)tval_set_str(c, "what", auth_msg(app, r, key));
			(void)tval_set_bool(c, "required", col->required);
			(void)tval_push(cols, c);
		}
		(void)tval_set(k, "columns", cols);
		(void)tval_push(kinds, k);
	}
	(void)tval_set(ctx, "kinds_doc", kinds);
}

/* The options of a select: values[i] labelled by the message keys[i],
 * the one equal to chosen selected. */
static struct tval *
imp_choices(struct app *app, struct request *r, const char *const *values,
    const char *const *keys, size_t n, const char *chosen)
{
	struct tval *list = tval_list(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		o = tval_obj();
		(void)tval_set_str(o, "value", values[i]);
		(void)tval_set_str(o, "label", auth_msg(app, r, keys[i]));
		(void)tval_set_bool(
		    o, "selected", strcmp(values[i], chosen) == 0);
		(void)tval_push(list, o);
	}
	return list;
}

/* The choices of the form, in the order of IMP_KINDS and IMP_ENCODINGS
 * ("utf-8" is not a message key segment, hence encoding_utf8). */
static const char *const imp_kind_values[] = {
    "students", "teachers", "courses", "enrolments"};
static const char *const imp_kind_keys[] = {"imports.kind.students",
    "imports.kind.teachers", "imports.kind.courses", "imports.kind.enrolments"};
static const char *const imp_enc_values[] = {"auto", "utf-8", "big5"};
static const char *const imp_enc_keys[] = {
    "imports.encoding_auto", "imports.encoding_utf8", "imports.encoding_big5"};

/* "The largest file is N MiB." */
static const char *
imp_limit_text(struct app *app, const struct request *r, char *out, size_t n)
{
	return auth_msg_n(app, r, "imports.limit",
	    (long)((app->conf->import_max_bytes + 1048575) / 1048576), out, n);
}

/* Renders /admin/import with the form (kind and encoding chosen as
 * given) and the recent imports; frees ctx. */
static enum request_outcome
imp_form_page(struct app *app, struct request *r, struct tval *ctx,
    const char *kind, const char *enc, int status)
{
	char text[256];

	if (imp_recent(app, r, ctx) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set(ctx, "kinds",
	    imp_choices(app, r, imp_kind_values, imp_kind_keys,
		ARRAY_SIZE(imp_kind_values), kind));
	(void)tval_set(ctx, "encodings",
	    imp_choices(app, r, imp_enc_values, imp_enc_keys,
		ARRAY_SIZE(imp_enc_values), enc));
	(void)tval_set_str(
	    ctx, "limit_text", imp_limit_text(app, r, text, sizeof(text)));
	(void)tval_set_str(ctx, "rows_text",
	    auth_msg_n(app, r, "imports.max_rows",
		(long)app->conf->import_max_rows, text, sizeof(text)));
	imp_columns_doc(app, r, ctx);
	return auth_render(app, r, "import", ctx, status);
}

enum request_outcome
import_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "imports.title");

	return imp_form_page(app, r, ctx, "students", "auto", 200);
}

/* ------------------------------------------------ POST /admin/import */

enum imp_part { IMP_P_NONE, IMP_P_CSRF, IMP_P_FIELD, IMP_P_FILE };

/* What the multipart callbacks collect. The small fields are gathered as
 * one urlencoded text so that they go through lib/form like any form. */
struct imp_upload {
	const struct request *r;
	size_t parts;
	enum imp_part cur;
	struct auth_mp_csrf csrf; /* the first part */
	struct buf fields; /* "kind=students&encoding=auto" */
	size_t files; /* parts named "file" with a file name */
	int stray_file; /* a file part under another name */
	char filename[MP_FILENAME_MAX + 1];
	/* The file, in one allocation of the body's length made at its
	 * first byte: growing it would leave copies of personal data in
	 * freed memory. Wiped when done. */
	char *file;
	size_t file_len, file_cap;
};

/* Appends n bytes %-encoded for application/x-www-form-urlencoded. */
static void
imp_urlencode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

static int
imp_on_begin(void *user, const struct mp_part *part)
{
	struct imp_upload *u = user;

	u->parts++;
	switch (
	    auth_mp_csrf_begin(&u->csrf, u->parts, part->name, part->is_file)) {
	case -1: return -1;
	case 1: u->cur = IMP_P_CSRF; return 0;
	}
	if (part->is_file) {
		if (strcmp(part->name, "file") != 0) {
			u->stray_file = 1;
			u->cur = IMP_P_NONE;
			return 0;
		}
		u->files++;
		u->cur = u->files == 1 ? IMP_P_FILE : IMP_P_NONE;
		if (u->files == 1)
			(void)str_copy(
			    u->filename, sizeof(u->filename), part->filename);
		return 0;
	}
	if (u->fields.len > 0)
		buf_putc(&u->fields, '&');
	imp_urlencode(&u->fields, part->name, strlen(part->name));
	buf_putc(&u->fields, '=');
	u->cur = IMP_P_FIELD;
	return 0;
}

static int
imp_on_data(void *user, const struct mp_part *part, const char *data, size_t n)
{
	struct imp_upload *u = user;

	(void)part;
	switch (u->cur) {
	case IMP_P_CSRF: auth_mp_csrf_data(&u->csrf, data, n); return 0;
	case IMP_P_FIELD: imp_urlencode(&u->fields, data, n); return 0;
	case IMP_P_FILE:
		if (u->file == NULL) {
			/* The body bounds the file; mp bounds the body. */
			u->file_cap = (size_t)u->r->content_length;
			u->file = xmalloc(u->file_cap + 1);
		}
		if (n > u->file_cap - u->file_len)
			return -1; /* unreachable: the body holds the file */
		memcpy(u->file + u->file_len, data, n);
		u->file_len += n;
		return 0;
	case IMP_P_NONE: return 0;
	}
	return 0;
}

static int
imp_on_end(void *user, const struct mp_part *part)
{
	struct imp_upload *u = user;

	(void)part;
	if (u->cur == IMP_P_CSRF && auth_mp_csrf_end(&u->csrf, u->r) != 0)
		return -1;
	u->cur = IMP_P_NONE;
	return 0;
}

static void
imp_upload_free(struct imp_upload *u)
{
	if (u->file != NULL) {
		OPENSSL_cleanse(u->file, u->file_len);
		free(u->file);
	}
	buf_free(&u->fields);
	auth_mp_csrf_clear(&u->csrf);
}

/* The form again with an alert (key) about the upload. */
static enum request_outcome
imp_upload_refused(struct app *app, struct request *r, const char *key,
    const char *kind, const char *enc, int status)
{
	struct tval *ctx = auth_page_ctx(app, r, "imports.title");
	char limit[256], text[512];

	if (strcmp(key, "multipart.error.file") == 0) {
		/* Say what the limit is. */
		str_printf(text, sizeof(text), "%s %s", auth_msg(app, r, key),
		    imp_limit_text(app, r, limit, sizeof(limit)));
		(void)tval_set_str(ctx, "alert", text);
	} else {
		(void)tval_set_str(ctx, "alert", auth_msg(app, r, key));
	}
	return imp_form_page(app, r, ctx, kind, enc, status);
}

enum { UF_KIND, UF_ENCODING, UF__MAX };
static const struct form_field imp_upload_fields[UF__MAX] = {
    [UF_KIND] = {"kind", FORM_ENUM, FORM_REQUIRED, 0, 0, IMP_KINDS},
    [UF_ENCODING] = {"encoding", FORM_ENUM, FORM_REQUIRED, 0, 0, IMP_ENCODINGS},
};

/* The kind and encoding as validated: 0, or the answer (the form again
 * with each field's message, 422) in *o. */
static int
imp_upload_form(struct app *app, struct request *r, struct imp_upload *u,
    struct form *f, enum request_outcome *o)
{
	struct tval *ctx;

	if (form_parse(f, u->fields.data, u->fields.len) == 0)
		return 0;
	ctx = auth_page_ctx(app, r, "imports.title");
	auth_field_error(app, r, ctx, "kind_error", f, UF_KIND);
	auth_field_error(app, r, ctx, "encoding_error", f, UF_ENCODING);
	(void)tval_set_str(ctx, "alert",
	    auth_msg(app, r,
		form_unknown(f) != NULL ? "form.error.unknown"
					: "imports.invalid"));
	*o = imp_form_page(app, r, ctx,
	    form_error(f, UF_KIND) == FORM_E_OK ? form_str(f, UF_KIND)
						: "students",
	    form_error(f, UF_ENCODING) == FORM_E_OK ? form_str(f, UF_ENCODING)
						    : "auto",
	    422);
	return -1;
}

/* Checks the file (dry run) and saves it with its report; its public id
 * into id. RQ_OK, or the answer. */
static enum request_outcome
imp_check_and_save(struct app *app, struct request *r,
    const struct imp_upload *u, const char *kind_name, const char *enc_name,
    char id[IDS_PUBLIC_LEN + 1])
{
	struct import_ctx x;
	struct import_report rep;
	int kind = import_kind_parse(kind_name);
	int enc = csv_encoding_parse(enc_name);
	int rc;

	if (kind < 0 || enc < 0) {
		log_error("the validated kind %s or encoding %s is not known "
			  "to the engine",
		    kind_name, enc_name);
		return RQ_ERROR;
	}
	imp_ctx(app, r, &x);
	memset(&rep, 0, sizeof(rep));
	if (import_check(&x, (enum import_kind)kind, u->file, u->file_len,
		(enum csv_encoding)enc, &rep) != 0) {
		import_report_free(&rep);
		return RQ_UNAVAILABLE;
	}
	rc = import_save_check(&x, (enum import_kind)kind, u->filename, u->file,
	    u->file_len, &rep, id);
	import_report_free(&rep);
	return rc == 0 ? RQ_OK : RQ_UNAVAILABLE;
}

enum request_outcome
import_post(struct app *app, struct request *r)
{
	const struct mp_limits lim = {
	    .max_parts = IMP_MAX_PARTS,
	    .max_header_bytes = IMP_MAX_HEADER,
	    .max_field_bytes = IMP_MAX_FIELD,
	    .max_file_bytes = (size_t)app->conf->import_max_bytes,
	};
	const struct mp_callbacks cb = {imp_on_begin, imp_on_data, imp_on_end};
	const char *ctype = request_param(r, "CONTENT_TYPE");
	struct imp_upload u;
	enum mp_error err = MP_OK;
	enum request_outcome o;
	struct form *f;
	struct mp *m;
	char id[IDS_PUBLIC_LEN + 1], key[64], to[64];

	memset(&u, 0, sizeof(u));
	u.r = r;
	buf_init(&u.fields);
	m = mp_new(ctype != NULL ? ctype : "", &lim, &cb, &u, &err);
	if (m == NULL)
		return imp_upload_refused(app, r,
		    "multipart.error.content_type", "students", "auto", 400);
	o = mp_read_request(r, m,
	    (size_t)app->conf->import_max_bytes + IMP_BODY_OVERHEAD, &err);
	if (o == RQ_OK && err == MP_OK)
		err = mp_finish(m);
	mp_free(m);
	if (o == RQ_TOO_LARGE) {
		imp_upload_free(&u);
		return imp_upload_refused(
		    app, r, "multipart.error.file", "students", "auto", 413);
	}
	if (o != RQ_OK) {
		imp_upload_free(&u);
		return o;
	}
	if (auth_mp_csrf_refused(&u.csrf, err == MP_OK)) {
		imp_upload_free(&u);
		return auth_csrf_refuse(app, r);
	}
	if (err != MP_OK) {
		imp_upload_free(&u);
		str_printf(
		    key, sizeof(key), "multipart.error.%s", mp_error_name(err));
		return imp_upload_refused(app, r, key, "students", "auto",
		    err == MP_E_FILE ? 413 : 400);
	}
	if ((f = form_new(imp_upload_fields, UF__MAX)) == NULL) {
		imp_upload_free(&u);
		return RQ_ERROR;
	}
	if (imp_upload_form(app, r, &u, f, &o) != 0)
		goto out;
	if (u.stray_file || u.files > 1) {
		o = imp_upload_refused(app, r,
		    u.stray_file ? "form.error.unknown" : "imports.one_file",
		    form_str(f, UF_KIND), form_str(f, UF_ENCODING), 422);
		goto out;
	}
	if (u.files == 0 || (u.filename[0] == '\0' && u.file_len == 0)) {
		o = imp_upload_refused(app, r, "imports.no_file",
		    form_str(f, UF_KIND), form_str(f, UF_ENCODING), 422);
		goto out;
	}
	if (u.file_len == 0) {
		o = imp_upload_refused(app, r, "imports.empty_file",
		    form_str(f, UF_KIND), form_str(f, UF_ENCODING), 422);
		goto out;
	}
	o = imp_check_and_save(
	    app, r, &u, form_str(f, UF_KIND), form_str(f, UF_ENCODING), id);
	if (o == RQ_OK) {
		str_printf(to, sizeof(to), "/admin/imports/%s", id);
		request_redirect(r, to);
	}
out:
	form_free(f);
	imp_upload_free(&u);
	return o;
}

/* ---------------------------------------------- /admin/imports/:id */

static const char imp_row_sql[] =
    "SELECT i.school_id, i.kind, i.filename, i.encoding, i.state, "
    "i.rows_total, i.rows_bad, i.rows_created, i.rows_updated, "
    "i.rows_unchanged, i.accounts_issued, COALESCE(i.report, '[]'), "
    "DATE_FORMAT(i.created_at, '%Y-%m-%d %H:%i'), i.created_by_actor, "
    "DATE_FORMAT(i.expires_at, '%Y-%m-%d %H:%i'), "
    "COALESCE(DATE_FORMAT(i.applied_at, '%Y-%m-%d %H:%i'), ''), "
    "(i.state = 'checked' AND i.payload IS NOT NULL AND i.expires_at > "
    "UTC_TIMESTAMP(6)), COALESCE(lb.public_id, '') "
    "FROM imports i LEFT JOIN letter_batches lb ON lb.id = "
    "i.letter_batch_id AND lb.school_id = i.school_id "
    "WHERE i.public_id = ?";

enum {
	IR_SCHOOL,
	IR_KIND,
	IR_FILENAME,
	IR_ENCODING,
	IR_STATE,
	IR_TOTAL,
	IR_BAD,
	IR_CREATED,
	IR_UPDATED,
	IR_UNCHANGED,
	IR_ISSUED,
	IR_REPORT,
	IR_AT,
	IR_BY,
	IR_EXPIRES,
	IR_APPLIED_AT,
	IR_CAN_APPLY,
	IR_LETTERS,
	IR__MAX
};

/* The import :id of the admin's school into *res. RQ_OK, or the answer:
 * 404 for a malformed, missing or another school's id (that one audited
 * as a refusal), 503 on a database error. */
static enum request_outcome
imp_find(
    struct app *app, struct request *r, const char **idp, struct db_res **res)
{
	const char *id = request_capture(r, "id");
	struct db_param p[1];

	*res = NULL;
	if (id == NULL || !ids_public_valid(id))
		return RQ_NOT_FOUND;
	*idp = id;
	p[0] = DB_STR(id);
	*res = db_query(app_db(app), imp_row_sql, p, 1);
	if (*res == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_rows(*res) == 0) {
		db_res_free(*res);
		*res = NULL;
		return RQ_NOT_FOUND;
	}
	if ((uint64_t)db_res_int(*res, 0, IR_SCHOOL) != r->auth->u.school_id) {
		db_res_free(*res);
		*res = NULL;
		return auth_deny(app, r, "other_school", 1);
	}
	return RQ_OK;
}

/* The problems of rep as the page's table rows. */
static struct tval *
imp_problem_rows(
    struct app *app, struct request *r, const struct import_report *rep)
{
	const char *lang = r->auth->lang, *label;
	struct tval *list = tval_list(), *row;
	const struct import_problem *p;
	size_t i;

	for (i = 0; i < rep->nproblems; i++) {
		p = &rep->problems[i];
		row = tval_obj();
		if (p->row > 0)
			(void)tval_set_int(row, "row", (long long)p->row);
		else
			(void)tval_set_str(
			    row, "row", auth_msg(app, r, "imports.whole_file"));
		label = p->column[0] != '\0'
		    ? import_column_label(rep->kind, p->column, lang)
		    : NULL;
		(void)tval_set_str(row, "column",
		    label != NULL ? label
				  : (p->column[0] != '\0' ? p->column : "—"));
		(void)tval_set_str(row, "reason",
		    import_problem_text(p->code != NULL ? p->code : "", lang));
		(void)tval_set_str(row, "value", p->value);
		(void)tval_push(list, row);
	}
	return list;
}

/* What applying will do and what it did, in words, into ctx. */
static void
imp_report_counts(struct app *app, struct request *r, struct tval *ctx,
    const struct db_res *res, int accounts_kind)
{
	char text[512];

	(void)tval_set_str(ctx, "bad_text",
	    auth_msg_n(app, r, "imports.bad_n",
		(long)db_res_int(res, 0, IR_BAD), text, sizeof(text)));
	(void)tval_set_str(ctx, "apply_text",
	    auth_msg_n(app, r, "imports.apply_what",
		(long)db_res_int(res, 0, IR_TOTAL), text, sizeof(text)));
	if (accounts_kind)
		(void)tval_set_str(ctx, "apply_accounts",
		    auth_msg(app, r, "imports.apply_accounts"));
	(void)tval_set_int(ctx, "created", db_res_int(res, 0, IR_CREATED));
	(void)tval_set_int(ctx, "updated", db_res_int(res, 0, IR_UPDATED));
	(void)tval_set_int(ctx, "unchanged", db_res_int(res, 0, IR_UNCHANGED));
	(void)tval_set_int(ctx, "issued", db_res_int(res, 0, IR_ISSUED));
}

/*
 * Renders the report of the import in res (its row) with ctx; frees ctx
 * and res. live, when not NULL, holds problems found just now (an apply
 * refused because the database changed since the check) and is shown
 * instead of the stored ones.
 */
static enum request_outcome
imp_report_page(struct app *app, struct request *r, const char *id,
    struct db_res *res, struct tval *ctx, const struct import_report *live,
    int status)
{
	struct import_report rep;
	const char *kind = db_res_get(res, 0, IR_KIND);
	const char *state = db_res_get(res, 0, IR_STATE);
	const char *json = db_res_get(res, 0, IR_REPORT);
	int k = import_kind_parse(kind), applied, bad, accounts_kind;
	char href[96];

	if (k < 0) {
		log_error("import %s has the unknown kind %s", id, kind);
		db_res_free(res);
		tval_free(ctx);
		return RQ_ERROR;
	}
	memset(&rep, 0, sizeof(rep));
	rep.kind = (enum import_kind)k;
	if (live == NULL &&
	    import_report_from_json(&rep, json, strlen(json)) != 0) {
		log_error("the report of import %s cannot be read", id);
		import_report_free(&rep);
		db_res_free(res);
		tval_free(ctx);
		return RQ_ERROR;
	}
	applied = strcmp(state, "applied") == 0;
	bad =
	    live != NULL ? live->bad_rows > 0 : db_res_int(res, 0, IR_BAD) > 0;
	accounts_kind = k == IMPORT_STUDENTS || k == IMPORT_TEACHERS;
	(void)tval_set_str(ctx, "id", id);
	(void)tval_set_str(ctx, "kind", imp_kind_label(app, r, kind));
	(void)tval_set_str(ctx, "filename", db_res_get(res, 0, IR_FILENAME));
	(void)tval_set_str(ctx, "encoding",
	    imp_encoding_label(app, r, db_res_get(res, 0, IR_ENCODING)));
	(void)tval_set_str(ctx, "at", db_res_get(res, 0, IR_AT));
	(void)tval_set_str(ctx, "by", db_res_get(res, 0, IR_BY));
	(void)tval_set_str(ctx, "expires", db_res_get(res, 0, IR_EXPIRES));
	(void)tval_set_str(
	    ctx, "applied_at", db_res_get(res, 0, IR_APPLIED_AT));
	(void)tval_set_int(ctx, "rows", db_res_int(res, 0, IR_TOTAL));
	(void)tval_set_int(ctx, "bad", db_res_int(res, 0, IR_BAD));
	(void)tval_set_bool(ctx, "has_bad", bad);
	(void)tval_set_bool(ctx, "applied", applied);
	(void)tval_set_bool(
	    ctx, "expired", !applied && db_res_int(res, 0, IR_CAN_APPLY) == 0);
	(void)tval_set_bool(ctx, "can_apply",
	    !applied && !bad && db_res_int(res, 0, IR_CAN_APPLY) != 0);
	(void)tval_set_bool(ctx, "clean", !bad);
	imp_report_counts(app, r, ctx, res, accounts_kind);
	if (applied && db_res_get(res, 0, IR_LETTERS)[0] != '\0') {
		str_printf(href, sizeof(href), "/admin/letters/%s",
		    db_res_get(res, 0, IR_LETTERS));
		(void)tval_set_str(ctx, "letters_href", href);
	}
	str_printf(href, sizeof(href), "/admin/imports/%s/report.csv", id);
	(void)tval_set_str(ctx, "csv_href", href);
	str_printf(href, sizeof(href), "/admin/imports/%s/apply", id);
	(void)tval_set_str(ctx, "apply_href", href);
	(void)tval_set(ctx, "problems",
	    imp_problem_rows(app, r, live != NULL ? live : &rep));
	(void)tval_set_int(ctx, "nproblems",
	    (long long)(live != NULL ? live->nproblems : rep.nproblems));
	(void)tval_set_bool(ctx, "truncated",
	    live != NULL ? live->truncated
			 : rep.nproblems >= IMPORT_PROBLEMS_MAX);
	import_report_free(&rep);
	db_res_free(res);
	return auth_render(app, r, "import_report", ctx, status);
}

enum request_outcome
import_report_get(struct app *app, struct request *r)
{
	struct db_res *res;
	struct tval *ctx;
	const char *id = NULL;
	enum request_outcome o = imp_find(app, r, &id, &res);

	if (o != RQ_OK)
		return o;
	ctx = auth_page_ctx(app, r, "imports.report_title");
	(void)auth_page_query(app, r, ctx, "applied", "imports");
	return imp_report_page(app, r, id, res, ctx, NULL, 200);
}

enum request_outcome
import_report_csv_get(struct app *app, struct request *r)
{
	struct import_report rep;
	struct db_res *res;
	const char *id = NULL, *json;
	char disp[128];
	int k;
	enum request_outcome o = imp_find(app, r, &id, &res);

	if (o != RQ_OK)
		return o;
	k = import_kind_parse(db_res_get(res, 0, IR_KIND));
	json = db_res_get(res, 0, IR_REPORT);
	memset(&rep, 0, sizeof(rep));
	rep.kind = k >= 0 ? (enum import_kind)k : IMPORT_STUDENTS;
	rep.encoding = strcmp(db_res_get(res, 0, IR_ENCODING), "big5") == 0
	    ? CSV_ENC_BIG5
	    : CSV_ENC_UTF8;
	rep.rows = (size_t)db_res_int(res, 0, IR_TOTAL);
	rep.bad_rows = (size_t)db_res_int(res, 0, IR_BAD);
	if (k < 0 || import_report_from_json(&rep, json, strlen(json)) != 0) {
		log_error("the report of import %s cannot be read", id);
		import_report_free(&rep);
		db_res_free(res);
		return RQ_ERROR;
	}
	db_res_free(res);
	buf_reset(&r->body);
	import_report_csv(&rep, r->auth->lang, &r->body);
	import_report_free(&rep);
	str_printf(disp, sizeof(disp),
	    "attachment; filename=\"import-%s-report.csv\"", id);
	if (request_header(r, "Content-Disposition", disp) != 0) {
		buf_reset(&r->body);
		return RQ_ERROR;
	}
	/* request_send marks every response Cache-Control: no-store. */
	request_ok(r, 200, "text/csv; charset=utf-8");
	return RQ_OK;
}

/* ------------------------------------------ /admin/imports/:id/apply */

/* The report again with an alert (key); frees res. */
static enum request_outcome
imp_apply_refused(struct app *app, struct request *r, const char *id,
    struct db_res *res, const char *key, const struct import_report *live,
    int status)
{
	struct tval *ctx = auth_page_ctx(app, r, "imports.report_title");

	(void)tval_set_str(ctx, "alert", auth_msg(app, r, key));
	return imp_report_page(app, r, id, res, ctx, live, status);
}

enum request_outcome
import_apply_post(struct app *app, struct request *r)
{
	struct import_ctx x;
	struct import_report rep;
	enum import_kind kind;
	enum csv_encoding enc;
	struct db_res *res;
	const char *id = NULL;
	char *data = NULL, to[96];
	size_t len = 0;
	enum request_outcome o;
	int rc;

	if (!auth_csrf_form_ok(r))
		return RQ_BAD_REQUEST;
	if ((o = imp_find(app, r, &id, &res)) != RQ_OK)
		return o;
	/* The engine refuses too; this says why without trying. */
	if (db_res_int(res, 0, IR_BAD) > 0)
		return imp_apply_refused(
		    app, r, id, res, "imports.apply_bad", NULL, 409);
	imp_ctx(app, r, &x);
	rc = import_load(&x, id, &kind, &enc, &data, &len);
	if (rc < 0 || rc == 0) {
		db_res_free(res);
		return rc < 0 ? RQ_UNAVAILABLE : RQ_NOT_FOUND;
	}
	if (rc == 2)
		return imp_apply_refused(
		    app, r, id, res, "imports.apply_gone", NULL, 409);
	/* The apply marks the import applied in its own transaction,
	 * together with what it writes. */
	x.import_id = id;
	rc = import_apply(&x, kind, data, len, enc, &rep);
	import_payload_free(data, len);
	if (rc != 0) {
		import_report_free(&rep);
		db_res_free(res);
		return RQ_UNAVAILABLE;
	}
	if (!rep.applied) {
		/* The records changed since the check (a class removed, a
		 * number taken): nothing was written. */
		o = imp_apply_refused(
		    app, r, id, res, "imports.apply_now_bad", &rep, 422);
		import_report_free(&rep);
		return o;
	}
	db_res_free(res);
	import_report_free(&rep);
	str_printf(to, sizeof(to), "/admin/imports/%s?done=applied", id);
	request_redirect(r, to);
	return RQ_OK;
}
