/*
 * records.h: what the records_*.c files share (and the upload windows page,
 * whose rows are the school's terms) — the audit row of a change, the form
 * context of a page (values typed, each field's message), the scoped
 * look-up of a row by its public id, the choices of the select fields and
 * the pagination of lists. Every look-up
 * here is scoped by the signed-in admin's school; a row of another school
 * is answered exactly like a missing one.
 */
#ifndef LICHENG_FCGI_RECORDS_H
#define LICHENG_FCGI_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct app;
struct buf;
struct db;
struct db_param;
struct db_res;
struct form;
struct form_field;
struct tval;

#define REC_CSRF "[A-Za-z0-9_-]{43}"
#define REC_PUBLIC_ID "[A-Za-z0-9_-]{22}"
/* A school-facing code: student numbers, staff numbers, class codes. */
#define REC_CODE "[A-Za-z0-9][A-Za-z0-9-]*"
/* Rows per page of every list. */
#define REC_PAGE_SIZE 50

/* One statement of a change: its SQL and parameters, and the unique keys
 * ('|'-separated, or NULL) whose duplicate is the user's error. */
struct rec_stmt {
	const char *sql;
	const struct db_param *p;
	size_t n;
	const char *dup_keys;
};

/* Runs the statements in order and then the audit row of the change
 * (event, target, detail) inside the caller's transaction. 0; k when a
 * statement failed on the k-th key of its dup_keys (1-based); -1 on any
 * other error. The caller rolls back unless it got 0. */
int
rec_change_tx(struct db *db, const struct request *r, const struct rec_stmt *st,
    size_t n, const char *event, const char *target, const char *detail);
/* Ends the caller's transaction by rc: commits when it is 0 (-1 when that
 * fails), rolls back otherwise. Returns the outcome. */
int rec_end_tx(struct db *db, int rc);
/* The same in its own transaction: committed, or rolled back whole. */
int
rec_change(struct app *app, const struct request *r, const struct rec_stmt *st,
    size_t n, const char *event, const char *target, const char *detail);
/* The audit event of the signed-in user's request: actor, role, school,
 * address, and event, target and detail (any may be NULL, to be filled in
 * later), outcome "success". */
struct audit_event;
void rec_event(const struct request *r, struct audit_event *ev,
    const char *event, const char *target, const char *detail);
/* The same in its own transaction, for views (personal_data.view). The
 * page must not be shown when it fails. 0/-1. */
int rec_audit_view(struct app *app, const struct request *r, const char *target,
    const char *detail);

/*
 * The form as the user left it: for each field but csrf, "f_<name>" is the
 * typed value (form_echo) and, when invalid, "e_<name>" its message
 * (form.error.<error>). When invalid is set the page also gets the alert
 * records.invalid, and "e_form" names an undeclared parameter.
 */
void rec_form_ctx(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct form_field *fields, size_t n,
    int invalid);
/* A check beyond the field's declaration failed: "e_<field>" is the
 * message records.error.<key>, and the alert records.invalid is set. */
void rec_error(struct app *app, struct request *r, struct tval *ctx,
    const char *field, const char *key);
/* The search form of a list: its path (list_href, also the "clear"
 * link) and the hint of its search field (message hint_key). */
void rec_search_ctx(struct app *app, struct request *r, struct tval *ctx,
    const char *list_href, const char *hint_key);
/* Sets the notice records.<section>.done.<word> when the query's "done" is
 * one of words ('|'-separated). */
void rec_notice(struct app *app, struct request *r, struct tval *ctx,
    const char *section, const char *word, const char *words);

/* rec_notice for an item page whose query string holds only "done" (a
 * mangled query just shows no notice). */
void rec_done_query(struct app *app, struct request *r, struct tval *ctx,
    const char *section, const char *words);

/*
 * Loads the one row that sql selects for a public id and the admin's
 * school (sql binds exactly "public_id = ? AND school_id = ?", in that
 * order). NULL with *o set when there is none — a malformed id, an unknown
 * one and another school's are all auth_deny(not_found) — or on a database
 * error (RQ_UNAVAILABLE). The caller frees the result.
 */
struct db_res *rec_find(struct app *app, struct request *r, const char *sql,
    const char *id, enum request_outcome *o);

/*
 * A POST on one row of the school (/admin/<kind>/:id[/...]): the row is
 * looked up first (another school's or a missing one is 404 before the
 * form is even read), then the form is parsed into a page context, then
 * act checks and changes. act returns 0 when done (done may name another
 * notice), 1 when refused (its messages in ctx), 2 when something the form
 * names is not the school's (404), -1 on an error; it runs when the form
 * did not parse too (invalid set), to add the messages of its own checks.
 * A refusal renders the row's page again with page (422); success
 * redirects to <base><public id>?done=<done><anchor>.
 */
struct rec_item {
	const char *find_sql; /* as rec_find's */
	size_t pub_col; /* the public id's column in that row */
	const char *title_key;
	const struct form_field *fields;
	size_t nfields;
	int (*act)(struct app *app, struct request *r, struct tval *ctx,
	    const struct form *f, const struct db_res *row, int invalid,
	    const char **done);
	/* Renders the row's page with ctx and status; f is the form just
	 * posted, NULL on a GET. Frees ctx and row. */
	enum request_outcome (*page)(struct app *app, struct request *r,
	    struct tval *ctx, struct db_res *row, const struct form *f,
	    int status);
	const char *base; /* "/admin/terms/" */
	const char *done; /* "updated" */
	const char *anchor; /* "" or "#roster" */
};
enum request_outcome
rec_item_post(struct app *app, struct request *r, const struct rec_item *it);

/* One page of a list: "SELECT COUNT(*) <from>" into *total, then
 * "SELECT <cols> <from> ORDER BY <order> LIMIT ? OFFSET ?" for page. p
 * holds np parameters of from and room for two more. NULL on error. */
struct db_res *rec_page_query(struct app *app, const char *cols,
    const char *from, const char *order, struct db_param *p, size_t np,
    long page, long long *total);
/* The rows of res as a list of objects, column i under keys[i] (NULL:
 * left out); n keys. */
struct tval *
rec_rows(const struct db_res *res, const char *const *keys, size_t n);

/* Options of a select: {value, label, selected} from columns 0 and 1 of
 * res, selected where the value is one of selected[0..nsel). */
struct tval *
rec_options(const struct db_res *res, const char *const *selected, size_t nsel);
/* The choices of an ENUM-like field whose labels are messages
 * <prefix>.<word>: {value, label, selected}. */
struct tval *rec_word_options(struct app *app, struct request *r,
    const char *prefix, const char *words, const char *selected);
/* The message <prefix>.<word>, or word itself when there is none. */
const char *rec_word(
    struct app *app, struct request *r, const char *prefix, const char *word);

/* The pagination of a list of total rows at page: "total_text" (message
 * key_total with {n}), "page", "pages", "paged", "prev_href", "next_href"
 * from base (a path with its query so far, ending in '?' or not). */
void rec_pages(struct app *app, struct request *r, struct tval *ctx,
    const char *key_total, long long total, long page, const char *base);
/* The same for a list of page_size rows a page (certify.page_size). */
void rec_pages_sized(struct app *app, struct request *r, struct tval *ctx,
    const char *key_total, long long total, long page, const char *base,
    long page_size);

/* Today's date in Taiwan (UTC+8) as YYYY-MM-DD. */
void rec_today(char out[11]);
/* 1 when the last statement failed on a duplicate of the unique key. */
int rec_dup_key(struct db *db, const char *key);
/* An SQL LIKE pattern "%s%" of s with '!' escaping ! % and _ (use
 * "LIKE ? ESCAPE '!'"); into out of outlen bytes (truncated safely). */
void rec_like(const char *s, char *out, size_t outlen);

/*
 * Issues the account of a new student or teacher inside the caller's
 * transaction (issue_account_tx) and stores its one activation letter
 * (letters_create_tx) for the admin to print: the new user's id in
 * *user_id, the letter batch's public id in batch. student_no, class_name
 * may be NULL and seat 0 for a teacher. The code is wiped before
 * returning. 0, 1 when the login is taken, -1 on an error.
 */
struct issue_facts;
int rec_issue_tx(struct app *app, struct request *r, const char *role,
    const char *login, const char *name, const struct issue_facts *facts,
    const char *student_no, const char *class_name, int seat, uint64_t *user_id,
    char batch[23]);

/* The options of a select of the school's teachers (value public id,
 * label "name (login)"): the active ones, and those who left only when
 * selected (a course's or class's teacher keeps their place). NULL on a
 * database error. */
struct tval *rec_teacher_options(struct app *app, struct request *r,
    const char *const *selected, size_t nsel);
/* A term of the admin's school by public id: 1 with its row id and label
 * ("114-1"), 0 when there is none (a malformed id included), -1 on a
 * database error. */
int rec_term_find(struct app *app, struct request *r, const char *pub,
    long long *id, char label[16]);
/* Finds a teacher of the school by public id: 1 with the row id, status
 * ("active"/"left") and login, 0 when none, -1 on error. */
int rec_teacher_find(struct app *app, uint64_t school_id, const char *pub,
    uint64_t *id, char status[8], char login[33]);

#endif
