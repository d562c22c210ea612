/*
 * records_common: the pieces every records page shares — audit rows of
 * changes and views, the form context (typed values and per-field
 * messages), the scoped look-up of a row by public id, select choices,
 * links and pagination. It must never look a row up without the admin's
 * school, and never tell another school's row from a missing one.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mysqld_error.h>
#include <openssl/crypto.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "form.h"
#include "i18n.h"
#include "ids.h"
#include "issue.h"
#include "letters.h"
#include "records.h"
#include "template.h"
#include "util.h"

void
rec_event(const struct request *r, struct audit_event *ev, const char *event,
    const char *target, const char *detail)
{
	const struct auth *a = r->auth;

	memset(ev, 0, sizeof(*ev));
	ev->actor = a->u.login;
	ev->role = role_name(a->u.role);
	ev->school = a->u.school_code[0] != '\0' ? a->u.school_code : NULL;
	ev->ip = a->ip;
	ev->event = event;
	ev->target = target;
	ev->outcome = "success";
	ev->detail = detail;
}

int
rec_audit_view(struct app *app, const struct request *r, const char *target,
    const char *detail)
{
	struct audit_event ev;

	rec_event(r, &ev, "personal_data.view", target, detail);
	return audit_append(app_db(app), &ev);
}

void
rec_form_ctx(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct form_field *fields, size_t n,
    int invalid)
{
	enum form_error e;
	char key[FORM_NAME_MAX + 8], mk[64];
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(fields[i].name, "csrf") == 0)
			continue;
		str_printf(key, sizeof(key), "f_%s", fields[i].name);
		(void)tval_set_str(ctx, key, form_echo(f, i));
		e = form_error(f, i);
		if (e == FORM_E_OK)
			continue;
		str_printf(key, sizeof(key), "e_%s", fields[i].name);
		str_printf(mk, sizeof(mk), "form.error.%s", form_error_name(e));
		(void)tval_set_str(ctx, key, auth_msg(app, r, mk));
	}
	if (!invalid)
		return;
	if (form_unknown(f) != NULL)
		(void)tval_set_str(
		    ctx, "e_form", auth_msg(app, r, "form.error.unknown"));
	(void)tval_set_str(ctx, "alert", auth_msg(app, r, "records.invalid"));
}

void
rec_error(struct app *app, struct request *r, struct tval *ctx,
    const char *field, const char *key)
{
	char k[FORM_NAME_MAX + 8], mk[96];

	str_printf(k, sizeof(k), "e_%s", field);
	str_printf(mk, sizeof(mk), "records.error.%s", key);
	(void)tval_set_str(ctx, k, auth_msg(app, r, mk));
	(void)tval_set_str(ctx, "alert", auth_msg(app, r, "records.invalid"));
}

void
rec_search_ctx(struct app *app, struct request *r, struct tval *ctx,
    const char *list_href, const char *hint_key)
{
	(void)tval_set_str(ctx, "list_href", list_href);
	(void)tval_set_str(ctx, "q_hint", auth_msg(app, r, hint_key));
}

void
rec_notice(struct app *app, struct request *r, struct tval *ctx,
    const char *section, const char *word, const char *words)
{
	const char *p = words;
	size_t n = strlen(word);
	char key[96];

	if (n == 0)
		return;
	/* word must be one of words, whole. */
	while ((p = strstr(p, word)) != NULL) {
		if ((p == words || p[-1] == '|') &&
		    (p[n] == '\0' || p[n] == '|'))
			break;
		p += n;
	}
	if (p == NULL)
		return;
	str_printf(key, sizeof(key), "records.%s.done.%s", section, word);
	(void)tval_set_str(ctx, "notice", auth_msg(app, r, key));
}

void
rec_done_query(struct app *app, struct request *r, struct tval *ctx,
    const char *section, const char *words)
{
	const struct form_field fields[1] = {
	    {"done", FORM_ENUM, 0, 0, 0, words},
	};
	struct form *f = form_new(fields, 1);

	if (f == NULL)
		return;
	if (form_parse(f, r->query, strlen(r->query)) == 0 && form_has(f, 0))
		rec_notice(app, r, ctx, section, form_str(f, 0), words);
	form_free(f);
}

struct db_res *
rec_find(struct app *app, struct request *r, const char *sql, const char *id,
    enum request_outcome *o)
{
	struct db_param p[2];
	struct db_res *res;

	if (id == NULL || !ids_public_valid(id)) {
		*o = auth_deny(app, r, "not_found", 1);
		return NULL;
	}
	p[0] = DB_STR(id);
	p[1] = DB_INT((long long)r->auth->u.school_id);
	res = db_query(app_db(app), sql, p, 2);
	if (res == NULL) {
		*o = RQ_UNAVAILABLE;
		return NULL;
	}
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		*o = auth_deny(app, r, "not_found", 1);
		return NULL;
	}
	return res;
}

static int
rec_in(const char *v, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] != NULL && strcmp(set[i], v) == 0)
			return 1;
	return 0;
}

static struct tval *
rec_option(const char *value, const char *label, int selected)
{
	struct tval *item = tval_obj();

	(void)tval_set_str(item, "value", value);
	(void)tval_set_str(item, "label", label);
	(void)tval_set_bool(item, "selected", selected);
	return item;
}

struct tval *
rec_options(const struct db_res *res, const char *const *selected, size_t nsel)
{
	struct tval *list = tval_list();
	const char *v;
	size_t i;

	for (i = 0; i < db_res_rows(res); i++) {
		v = db_res_get(res, i, 0);
		(void)tval_push(list,
		    rec_option(
			v, db_res_get(res, i, 1), rec_in(v, selected, nsel)));
	}
	return list;
}

const char *
rec_word(
    struct app *app, struct request *r, const char *prefix, const char *word)
{
	char key[96];

	str_printf(key, sizeof(key), "%s.%s", prefix, word);
	return i18n_has(app->msgs, key) ? auth_msg(app, r, key) : word;
}

struct tval *
rec_word_options(struct app *app, struct request *r, const char *prefix,
    const char *words, const char *selected)
{
	struct tval *list = tval_list();
	char word[32];
	const char *p = words, *e;
	size_t n;

	while (*p != '\0') {
		e = strchr(p, '|');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			(void)tval_push(list,
			    rec_option(word, rec_word(app, r, prefix, word),
				selected != NULL &&
				    strcmp(selected, word) == 0));
		}
		p += n;
		if (*p == '|')
			p++;
	}
	return list;
}

void
rec_pages(struct app *app, struct request *r, struct tval *ctx,
    const char *key_total, long long total, long page, const char *base)
{
	rec_pages_sized(
	    app, r, ctx, key_total, total, page, base, REC_PAGE_SIZE);
}

void
rec_pages_sized(struct app *app, struct request *r, struct tval *ctx,
    const char *key_total, long long total, long page, const char *base,
    long page_size)
{
	char text[256];
	long pages = (long)((total + page_size - 1) / page_size);
	struct buf b;
	size_t blen;

	if (pages < 1)
		pages = 1;
	(void)tval_set_int(ctx, "total", total);
	(void)tval_set_str(ctx, "total_text",
	    auth_msg_n(app, r, key_total, (long)total, text, sizeof(text)));
	(void)tval_set_int(ctx, "page", page);
	(void)tval_set_int(ctx, "pages", pages);
	(void)tval_set_bool(ctx, "paged", pages > 1 || page > 1);
	buf_init(&b);
	buf_puts(&b, base);
	if (strchr(base, '?') == NULL)
		buf_putc(&b, '?');
	blen = b.len;
	if (page > 1) {
		snprintf(text, sizeof(text), "%ld",
		    page - 1 < pages ? page - 1 : pages);
		buf_query_param(&b, "page", text);
		(void)tval_set_str(ctx, "prev_href", b.data);
	}
	if (page < pages) {
		b.len = blen;
		b.data[blen] = '\0';
		snprintf(text, sizeof(text), "%ld", page + 1);
		buf_query_param(&b, "page", text);
		(void)tval_set_str(ctx, "next_href", b.data);
	}
	buf_free(&b);
}

void
rec_today(char out[11])
{
	time_t t = time(NULL) + 8 * 3600;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		(void)str_copy(out, 11, "1970-01-01");
}

int
rec_dup_key(struct db *db, const char *key)
{
	char quoted[80];

	if (db_errno(db) != ER_DUP_ENTRY)
		return 0;
	str_printf(quoted, sizeof(quoted), "'%s'", key);
	return strstr(db_errstr(db), quoted) != NULL;
}

void
rec_like(const char *s, char *out, size_t outlen)
{
	size_t i, j = 0;

	if (outlen < 3) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	out[j++] = '%';
	for (i = 0; s[i] != '\0' && j + 3 < outlen; i++) {
		if (s[i] == '!' || s[i] == '%' || s[i] == '_')
			out[j++] = '!';
		out[j++] = s[i];
	}
	out[j++] = '%';
	out[j] = '\0';
}

static const char rec_teachers_sql[] =
    "SELECT t.public_id, CONCAT(u.name, ' (', u.login, ')'), t.status "
    "FROM teachers t JOIN users u ON u.id = t.user_id "
    "WHERE t.school_id = ? ORDER BY u.name, u.login";

struct tval *
rec_teacher_options(struct app *app, struct request *r,
    const char *const *selected, size_t nsel)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), rec_teachers_sql, p, 1);
	struct tval *list;
	const char *v;
	int sel;
	size_t i;

	if (res == NULL)
		return NULL;
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		v = db_res_get(res, i, 0);
		sel = rec_in(v, selected, nsel);
		if (!sel && strcmp(db_res_get(res, i, 2), "active") != 0)
			continue;
		(void)tval_push(
		    list, rec_option(v, db_res_get(res, i, 1), sel));
	}
	db_res_free(res);
	return list;
}

int
rec_teacher_find(struct app *app, uint64_t school_id, const char *pub,
    uint64_t *id, char status[8], char login[33])
{
	struct db_param p[2] = {DB_STR(pub), DB_INT((long long)school_id)};
	struct db_res *res;
	int found;

	if (!ids_public_valid(pub))
		return 0;
	res = db_query(app_db(app),
	    "SELECT t.id, t.status, u.login FROM teachers t JOIN users u ON "
	    "u.id = t.user_id WHERE t.public_id = ? AND t.school_id = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	found = db_res_rows(res) == 1;
	if (found) {
		*id = (uint64_t)db_res_int(res, 0, 0);
		(void)str_copy(status, 8, db_res_get(res, 0, 1));
		(void)str_copy(login, 33, db_res_get(res, 0, 2));
	}
	db_res_free(res);
	return found;
}

int
rec_term_find(struct app *app, struct request *r, const char *pub,
    long long *id, char label[16])
{
	struct db_param p[2] = {
	    DB_STR(pub), DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res;
	int found;

	if (!ids_public_valid(pub))
		return 0;
	res = db_query(app_db(app),
	    "SELECT id, CONCAT(year, '-', semester) FROM terms WHERE "
	    "public_id = ? AND school_id = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	found = db_res_rows(res) == 1;
	if (found) {
		*id = db_res_int(res, 0, 0);
		(void)str_copy(label, 16, db_res_get(res, 0, 1));
	}
	db_res_free(res);
	return found;
}

int
rec_issue_tx(struct app *app, struct request *r, const char *role,
    const char *login, const char *name, const struct issue_facts *facts,
    const char *student_no, const char *class_name, int seat, uint64_t *user_id,
    char batch[IDS_PUBLIC_LEN + 1])
{
	struct db *db = app_db(app);
	const struct user *me = &r->auth->u;
	struct issued iss;
	struct letter l;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	memset(&iss, 0, sizeof(iss));
	if (issue_account_tx(
		db, me->school_id, role, login, name, facts, &iss) != 0) {
		rc = rec_dup_key(db, "users_login") ? 1 : -1;
		goto out;
	}
	*user_id = iss.user_id;
	if (str_copy(l.role, sizeof(l.role), role) != 0 ||
	    str_copy(l.login, sizeof(l.login), login) != 0 ||
	    str_copy(l.name, sizeof(l.name), name) != 0 ||
	    str_copy(l.student_no, sizeof(l.student_no),
		student_no != NULL ? student_no : "") != 0 ||
	    str_copy(l.class_name, sizeof(l.class_name),
		class_name != NULL ? class_name : "") != 0 ||
	    str_copy(l.code, sizeof(l.code), iss.code) != 0 ||
	    str_copy(l.expires, sizeof(l.expires), iss.expires) != 0)
		goto out;
	l.seat_no = seat;
	if (letters_create_tx(db, app->data_key, me->school_id, me->id,
		me->login, app->conf->letters_keep_hours, &l, 1, batch) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(&iss, sizeof(iss));
	OPENSSL_cleanse(&l, sizeof(l));
	return rc;
}

/* The 1-based position of the key db's last error was a duplicate of in
 * keys ('|'-separated), 0 when none. */
static int
rec_dup_which(struct db *db, const char *keys)
{
	char key[64];
	const char *p = keys, *e;
	size_t n;
	int k = 1;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '|');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n < sizeof(key)) {
			memcpy(key, p, n);
			key[n] = '\0';
			if (rec_dup_key(db, key))
				return k;
		}
		k++;
		p = e != NULL ? e + 1 : NULL;
	}
	return 0;
}

int
rec_change_tx(struct db *db, const struct request *r, const struct rec_stmt *st,
    size_t n, const char *event, const char *target, const char *detail)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		if (db_exec(db, st[i].sql, st[i].p, st[i].n, NULL, NULL) == 0)
			continue;
		k = rec_dup_which(db, st[i].dup_keys);
		return k > 0 ? k : -1;
	}
	return auth_audit_tx(db, r, event, target, detail);
}

int
rec_end_tx(struct db *db, int rc)
{
	if (rc == 0 && db_commit(db) != 0)
		rc = -1;
	if (rc != 0)
		(void)db_rollback(db);
	return rc;
}

int
rec_change(struct app *app, const struct request *r, const struct rec_stmt *st,
    size_t n, const char *event, const char *target, const char *detail)
{
	struct db *db = app_db(app);
	int rc;

	if (db_begin(db) != 0)
		return -1;
	rc = rec_change_tx(db, r, st, n, event, target, detail);
	return rec_end_tx(db, rc);
}

enum request_outcome
rec_item_post(struct app *app, struct request *r, const struct rec_item *it)
{
	enum request_outcome o;
	struct db_res *row =
	    rec_find(app, r, it->find_sql, request_capture(r, "id"), &o);
	const char *done = it->done;
	struct form *f;
	struct tval *ctx;
	struct buf href;
	int invalid, rc;

	if (row == NULL)
		return o;
	f = form_new(it->fields, it->nfields);
	if (f == NULL) {
		db_res_free(row);
		return RQ_ERROR;
	}
	ctx = auth_page_ctx(app, r, it->title_key);
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	rec_form_ctx(app, r, ctx, f, it->fields, it->nfields, invalid);
	rc = it->act(app, r, ctx, f, row, invalid, &done);
	if (rc == 0 && invalid)
		rc = 1;
	if (rc == 1) {
		o = it->page(app, r, ctx, row, f, 422);
		form_free(f);
		return o;
	}
	form_free(f);
	tval_free(ctx);
	if (rc != 0) {
		db_res_free(row);
		return rc == 2 ? auth_deny(app, r, "not_found", 1)
			       : RQ_UNAVAILABLE;
	}
	buf_init(&href);
	buf_printf(&href, "%s%s?done=%s%s", it->base,
	    db_res_get(row, 0, it->pub_col), done, it->anchor);
	db_res_free(row);
	request_redirect(r, href.data);
	buf_free(&href);
	return RQ_OK;
}

struct db_res *
rec_page_query(struct app *app, const char *cols, const char *from,
    const char *order, struct db_param *p, size_t np, long page,
    long long *total)
{
	struct db_res *res;
	struct buf sql;

	buf_init(&sql);
	buf_printf(&sql, "SELECT COUNT(*) %s", from);
	res = db_query(app_db(app), sql.data, p, np);
	if (res == NULL)
		goto out;
	*total = db_res_int(res, 0, 0);
	db_res_free(res);
	buf_reset(&sql);
	buf_printf(&sql, "SELECT %s %s ORDER BY %s LIMIT ? OFFSET ?", cols,
	    from, order);
	p[np] = DB_INT(REC_PAGE_SIZE);
	p[np + 1] = DB_INT((long long)(page - 1) * REC_PAGE_SIZE);
	res = db_query(app_db(app), sql.data, p, np + 2);
out:
	buf_free(&sql);
	return res;
}

struct tval *
rec_rows(const struct db_res *res, const char *const *keys, size_t n)
{
	struct tval *list = tval_list(), *row;
	size_t i, k;

	for (i = 0; i < db_res_rows(res); i++) {
		row = tval_obj();
		for (k = 0; k < n && k < db_res_cols(res); k++)
			if (keys[k] != NULL)
				(void)tval_set_str(
				    row, keys[k], db_res_get(res, i, k));
		(void)tval_push(list, row);
	}
	return list;
}
