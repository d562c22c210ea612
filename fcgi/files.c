/*
 * files: downloads of stored files (GET /files/:id, the public id of an
 * item_files row). It counts every attempt against the reader's download
 * limit, decides who may read the file — the owner student; a teacher who
 * may certify the item (its course's teacher, or a stand-in: lib/certify)
 * once the item's objects are verified and scanned clean; the school's
 * admin; central staff once the item is submitted —
 * audits the download, and hands the bytes to nginx with X-Accel-Redirect
 * to an internal location of the store. A primary copy that is missing is
 * served from the replica, with an alert and a repair job.
 *
 * It never reads an object itself (a stat at most), never serves a
 * quarantined one, and answers a file the reader may not read exactly like
 * one that does not exist.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "certify.h"
#include "conf.h"
#include "db.h"
#include "files.h"
#include "ids.h"
#include "kv.h"
#include "log.h"
#include "queue.h"
#include "router.h"
#include "sniff.h"
#include "store_app.h"
#include "template.h"
#include "util.h"

/* ------------------------------------------------------ download names */

/* Decodes one UTF-8 character of s (n bytes left): its code point, or -1
 * for an invalid, overlong or surrogate sequence, whose first byte *len
 * then covers. */
static long
files_utf8(const unsigned char *s, size_t n, size_t *len)
{
	static const long min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t k, need;
	long cp;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else
		return -1;
	if (n < need)
		return -1;
	for (k = 1; k < need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = need;
	return cp;
}

static void
files_put_utf8(struct buf *b, long cp)
{
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | (cp >> 6)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | (cp >> 12)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | (cp >> 18)));
		buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Bidirectional formatting characters: they can make "gpj.exe" read as
 * "exe.jpg" (U+202E), so a name never carries one. */
static int
files_bidi(long cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* What a character of a name becomes: itself, '_', or -1 (dropped). */
static long
files_name_char(long cp)
{
	if (cp < 0)
		return '_';
	if (files_bidi(cp) || cp == 0xfeff)
		return -1;
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x2028 || cp == 0x2029)
		return '_';
	if (cp < 0x80 && strchr("/\\:*?\"<>|", (int)cp) != NULL)
		return '_';
	return cp;
}

static int
files_ascii_lower(long cp)
{
	return cp >= 'A' && cp <= 'Z' ? (int)(cp - 'A' + 'a') : (int)cp;
}

/* 1 when the code points cps[from..n) spell ext, in any case. */
static int
files_is_ext(const long *cps, size_t from, size_t n, const char *ext)
{
	size_t i, len = strlen(ext);

	if (n - from != len)
		return 0;
	for (i = 0; i < len; i++)
		if (files_ascii_lower(cps[from + i]) != ext[i])
			return 0;
	return 1;
}

void
files_download_name(
    struct buf *out, const char *name, size_t len, const char *ext)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0, n = 0, k, stem, cut, extlen = strlen(ext), dot;
	long *cps = xcalloc(len + 1, sizeof(long)), cp;
	int keep_ext = 0;

	while (i < len) {
		cp = files_name_char(files_utf8(s + i, len - i, &k));
		i += k;
		if (cp >= 0)
			cps[n++] = cp;
	}
	/* Trim dots and spaces at both ends ("../x" leaves "_x"). */
	for (k = 0; k < n && (cps[k] == '.' || cps[k] == ' '); k++)
		;
	memmove(cps, cps + k, (n - k) * sizeof(long));
	n -= k;
	while (n > 0 && (cps[n - 1] == '.' || cps[n - 1] == ' '))
		n--;
	/* The name's own extension, when it is the detected type's. */
	stem = n;
	for (dot = n; dot > 0 && cps[dot - 1] != '.'; dot--)
		;
	if (dot > 0 &&
	    (files_is_ext(cps, dot, n, ext) ||
		(strcmp(ext, "jpg") == 0 &&
		    files_is_ext(cps, dot, n, "jpeg")))) {
		keep_ext = 1;
		stem = dot - 1;
		extlen = n - dot;
	}
	/* The stem, cut so that the name with its extension fits. */
	cut = FILES_NAME_MAX - 1 - extlen;
	if (stem > cut)
		stem = cut;
	while (stem > 0 && (cps[stem - 1] == '.' || cps[stem - 1] == ' '))
		stem--;
	if (stem == 0)
		buf_puts(out, "file");
	for (k = 0; k < stem; k++)
		files_put_utf8(out, cps[k]);
	buf_putc(out, '.');
	if (keep_ext)
		for (k = dot; k < n; k++)
			files_put_utf8(out, cps[k]);
	else
		buf_puts(out, ext);
	free(cps);
}

void
files_disposition(struct buf *out, const char *name)
{
	static const char attr[] = "!#$&+-.^_`|~";
	const unsigned char *s = (const unsigned char *)name;
	size_t i, k, n = strlen(name);
	int wide = 0;
	long cp;

	buf_puts(out, "attachment; filename=\"");
	for (i = 0; i < n; i += k) {
		cp = files_utf8(s + i, n - i, &k);
		if (cp >= 0x20 && cp < 0x7f && cp != '"' && cp != '\\' &&
		    cp != '%')
			buf_putc(out, (char)cp);
		else if (!(wide && cp >= 0x80)) /* a run of them is one '_' */
			buf_putc(out, '_');
		wide = cp >= 0x80;
	}
	buf_puts(out, "\"; filename*=UTF-8''");
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(attr, s[i]) != NULL)
			buf_putc(out, (char)s[i]);
		else
			buf_printf(out, "%%%02X", s[i]);
	}
}

/* ---------------------------------------------------------- the limit */

/* Counts this attempt of user_id (Redis key <prefix>dl:<user id>) against
 * downloads.limit per downloads.window seconds: 0 while within the limit, the
 * seconds left in the window once past it, -1 when Redis did not answer. */
static long
files_rate(struct app *app, uint64_t user_id)
{
	/* The count and its window's expiry in one step, so that a counter
	 * never lives without an expiry. */
	static const char script[] =
	    "local n = redis.call('INCR', KEYS[1]) "
	    "local t = redis.call('TTL', KEYS[1]) "
	    "if t < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) "
	    "t = tonumber(ARGV[1]) end "
	    "return {n, t}";
	const struct conf *c = app->conf;
	struct kv *kv = app_kv(app);
	char key[96], win[16];
	redisReply *rep;
	long rc = -1;

	str_printf(key, sizeof(key), "%sdl:%" PRIu64, kv_prefix(kv), user_id);
	str_printf(win, sizeof(win), "%d", c->downloads_window);
	rep = kv_cmd(kv, "EVAL %s 1 %s %s", script, key, win);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	    rep->elements == 2 &&
	    rep->element[0]->type == REDIS_REPLY_INTEGER &&
	    rep->element[1]->type == REDIS_REPLY_INTEGER) {
		rc = 0;
		if (rep->element[0]->integer > c->downloads_limit)
			rc = rep->element[1]->integer > 0
			    ? (long)rep->element[1]->integer
			    : 1;
	} else {
		log_error("%s: download counter: %s", __func__,
		    rep != NULL && rep->type == REDIS_REPLY_ERROR
			? rep->str
			: kv_errstr(kv));
	}
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

/* Renders files_refused.html with status: the messages title_key and
 * text_key, and whatever else ctx holds (a finding, when to retry). Frees
 * ctx. */
static enum request_outcome
files_page(struct app *app, struct request *r, int status,
    const char *title_key, const char *text_key, struct tval *ctx)
{
	(void)tval_set_str(ctx, "heading", auth_msg(app, r, title_key));
	(void)tval_set_str(ctx, "text", auth_msg(app, r, text_key));
	return auth_render(app, r, "files_refused", ctx, status);
}

/* 429, saying when the window ends (Retry-After too). */
static enum request_outcome
files_limited(struct app *app, struct request *r, long wait)
{
	struct tval *ctx = auth_page_ctx(app, r, "files.rate.title");
	time_t at = time(NULL) + wait + 8 * 3600; /* Taiwan, UTC+8 */
	char text[256], when[32], secs[24];
	struct tm tm;

	str_printf(secs, sizeof(secs), "%ld", wait);
	if (gmtime_r(&at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		(void)str_copy(when, sizeof(when), "");
	(void)tval_set_str(ctx, "retry",
	    auth_msg_n(app, r, "files.rate.retry", wait, text, sizeof(text)));
	(void)tval_set_str(ctx, "retry_at", when);
	if (request_header(r, "Retry-After", secs) != 0) {
		tval_free(ctx);
		return RQ_ERROR;
	}
	return files_page(
	    app, r, 429, "files.rate.title", "files.rate.text", ctx);
}

/* ------------------------------------------------------- who may read */

/* The columns of a file's look-up. */
enum {
	FC_SHA,
	FC_MIME,
	FC_NAME,
	FC_REPLACED,
	FC_ITEM,
	FC_SCHOOL,
	FC_KIND,
	FC_SUBMITTED,
	FC_DELETED,
	FC_OWNER,
	FC_BAD_OBJECT,
	FC_SIGNATURE,
	FC_UNCHECKED,
	FC_TEACHES,
	FC__MAX
};

/* A file with its item, owner and object: FC_UNCHECKED counts the item's
 * current files whose object is not yet verified and scanned clean (a
 * teacher sees the item only when it is 0); FC_TEACHES says whether the
 * reader may certify the item's course today (CERTIFY_COURSES_SQL, whose
 * parameters come first): its active teacher, or a stand-in. */
#define FILES_SELECT                                                           \
	"SELECT f.sha256, f.mime, f.original_name, f.replaced_at IS NOT "      \
	"NULL, i.public_id, i.school_id, i.kind, i.submitted_at IS NOT NULL, " \
	"i.deleted_at IS NOT NULL, s.user_id, COALESCE(o.quarantined_at IS "   \
	"NOT NULL OR o.scan_result = 'infected', 0), "                         \
	"COALESCE(o.scan_signature, ''), (SELECT COUNT(*) FROM item_files f2 " \
	"JOIN objects o2 ON o2.sha256 = f2.sha256 WHERE f2.item_id = i.id "    \
	"AND f2.replaced_at IS NULL AND NOT COALESCE(o2.verified_at IS NOT "   \
	"NULL AND o2.verify_result IN ('ok', 'repaired') AND o2.scan_result "  \
	"= 'clean' AND o2.quarantined_at IS NULL, 0)), COALESCE(i.course_id "  \
	"IN (SELECT m.course_id FROM (" CERTIFY_COURSES_SQL ") m), 0) FROM "   \
	"item_files f JOIN items "                                             \
	"i ON i.id = f.item_id AND i.school_id = f.school_id JOIN students s " \
	"ON s.id = i.student_id AND s.school_id = i.school_id JOIN objects o " \
	"ON o.sha256 = f.sha256 WHERE f.public_id = ? "
/* School roles read their own school's files only; central staff read
 * submitted items of any school. */
static const char files_school_sql[] = FILES_SELECT "AND f.school_id = ?";
static const char files_central_sql[] =
    FILES_SELECT "AND i.submitted_at IS NOT NULL";

/* Why the reader may read the file, or FILES_NOBODY. */
enum files_reader {
	FILES_NOBODY,
	FILES_OWNER,
	FILES_TEACHER,
	FILES_ADMIN,
	FILES_CENTRAL
};

static enum files_reader
files_reader(const struct request *r, const struct db_res *res)
{
	const struct user *u = &r->auth->u;
	int current = db_res_int(res, 0, FC_REPLACED) == 0;

	if (db_res_int(res, 0, FC_DELETED) != 0)
		return FILES_NOBODY;
	switch (u->role) {
	case ROLE_STUDENT:
		return db_res_get(res, 0, FC_OWNER) != NULL &&
			(uint64_t)db_res_int(res, 0, FC_OWNER) == u->id
		    ? FILES_OWNER
		    : FILES_NOBODY;
	case ROLE_TEACHER:
		return strcmp(db_res_get(res, 0, FC_KIND), "course") == 0 &&
			db_res_int(res, 0, FC_TEACHES) != 0 &&
			db_res_int(res, 0, FC_UNCHECKED) == 0 && current
		    ? FILES_TEACHER
		    : FILES_NOBODY;
	case ROLE_SCHOOL_ADMIN:
		return FILES_ADMIN; /* the look-up was scoped by the school */
	case ROLE_CENTRAL_STAFF:
		return db_res_int(res, 0, FC_SUBMITTED) != 0 && current
		    ? FILES_CENTRAL
		    : FILES_NOBODY;
	default: return FILES_NOBODY;
	}
}

/* The file pub with everything files_reader needs; NULL on a database
 * error. */
static struct db_res *
files_find(struct app *app, struct request *r, const char *pub)
{
	const struct user *u = &r->auth->u;
	struct db_param p[CERTIFY_COURSES_NPARAMS + 2];
	char today[WINDOW_DATE_LEN + 1];

	windows_today(today);
	certify_courses_params(p, u->school_id, u->id, today);
	p[CERTIFY_COURSES_NPARAMS] = DB_STR(pub);
	p[CERTIFY_COURSES_NPARAMS + 1] = DB_INT((long long)u->school_id);
	if (u->role == ROLE_CENTRAL_STAFF)
		return db_query(app_db(app), files_central_sql, p,
		    CERTIFY_COURSES_NPARAMS + 1);
	return db_query(
	    app_db(app), files_school_sql, p, CERTIFY_COURSES_NPARAMS + 2);
}

/* Audits an attempt on the file pub (res: its look-up) as event with
 * outcome, the detail {"item", "sha256", "role", key: value}. 0/-1. */
static int
files_audit(struct app *app, struct request *r, const struct db_res *res,
    const char *pub, const char *event, const char *outcome, const char *key,
    const char *value)
{
	char target[32];
	struct buf d;
	int rc;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "item", db_res_get(res, 0, FC_ITEM));
	buf_json_kv(&d, "sha256", db_res_get(res, 0, FC_SHA));
	buf_json_kv(&d, "role", role_name(r->auth->u.role));
	buf_json_kv(&d, key, value);
	buf_putc(&d, '}');
	str_printf(target, sizeof(target), "file:%s", pub);
	rc = auth_audit(app, r, event, target, outcome, d.data);
	buf_free(&d);
	return rc;
}

/* 403: the object was found infected or quarantined, so nobody gets it;
 * its owner is told why (with the scan's finding), anyone else that it is
 * quarantined. The refusal is audited (file.download_refused) before it is
 * answered, as a download is. */
static enum request_outcome
files_quarantined(struct app *app, struct request *r, const struct db_res *res,
    enum files_reader who, const char *pub)
{
	struct tval *ctx;

	if (files_audit(app, r, res, pub, "file.download_refused", "denied",
		"reason", "quarantined") != 0)
		return RQ_UNAVAILABLE;
	ctx = auth_page_ctx(app, r, "files.quarantined.title");
	if (who == FILES_OWNER) {
		(void)tval_set_str(
		    ctx, "signature", db_res_get(res, 0, FC_SIGNATURE));
		return files_page(app, r, 403, "files.quarantined.title",
		    "files.quarantined.owner", ctx);
	}
	return files_page(app, r, 403, "files.quarantined.title",
	    "files.quarantined.other", ctx);
}

/* ------------------------------------------------------ missing copies */

/* The alert of an object missing from a store root. */
#define FILES_ALERT_KIND "store.object_missing"

/* A named lock per object (GET_LOCK), so that two children meeting the
 * same missing copy raise one alert and enqueue one repair. 1 held, 0 not
 * (timed out or failed). */
static int
files_lock(struct db *db, const char *sha256, int take)
{
	char name[64];
	struct db_param p[1];
	struct db_res *res;
	int held;

	str_printf(name, sizeof(name), "licheng:object:%.40s", sha256);
	p[0] = DB_STR(name);
	res = db_query(db,
	    take ? "SELECT GET_LOCK(?, 5)" : "SELECT RELEASE_LOCK(?)", p, 1);
	if (res == NULL)
		return 0;
	held = db_res_get(res, 0, 0) != NULL && db_res_int(res, 0, 0) == 1;
	db_res_free(res);
	return held;
}

/* Raises alert.store.object_missing for sha256 missing from root
 * ("primary", or "both" when no copy is left) of school_id, unless the same
 * alert is still open. 0/-1. */
static int
files_alert(struct app *app, struct request *r, uint64_t school_id,
    const char *sha256, const char *root)
{
	struct db_param p[3];
	struct db_res *res;
	struct buf d;
	int rc = -1;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "sha256", sha256);
	buf_json_kv(&d, "root", root);
	buf_putc(&d, '}');
	p[0] = DB_STR(FILES_ALERT_KIND);
	p[1] = DB_INT((long long)school_id);
	p[2] = DB_STR(d.data);
	res = db_query(app_db(app),
	    "SELECT COUNT(*) FROM alerts WHERE kind = ? AND school_id = ? AND "
	    "acknowledged_at IS NULL AND detail = ?",
	    p, 3);
	if (res != NULL) {
		rc = db_res_int(res, 0, 0) > 0
		    ? 0
		    : auth_alert(app, r, FILES_ALERT_KIND, school_id, d.data);
		db_res_free(res);
	}
	buf_free(&d);
	return rc;
}

/* Enqueues a repair of sha256's primary copy from the replica (through the
 * outbox, audited), unless a repair of it is pending or running. 0/-1. */
static int
files_repair(struct app *app, struct request *r, const char *sha256,
    const char *file_pub)
{
	struct db *db = app_db(app);
	struct db_param p[1] = {DB_STR(sha256)};
	struct db_res *res;
	char target[80];
	struct buf payload, d;
	uint64_t id = 0;
	long long pending;
	int rc = -1;

	res = db_query(db,
	    "SELECT COUNT(*) FROM jobs WHERE type = 'repair' AND state IN "
	    "('pending', 'running') AND JSON_VALUE(payload, '$.sha256') = ?",
	    p, 1);
	if (res == NULL)
		return -1;
	pending = db_res_int(res, 0, 0);
	db_res_free(res);
	if (pending > 0)
		return 0;
	buf_init(&payload);
	buf_putc(&payload, '{');
	buf_json_kv(&payload, "sha256", sha256);
	buf_json_kv(&payload, "from", "replica");
	buf_json_kv(&payload, "to", "primary");
	buf_putc(&payload, '}');
	buf_init(&d);
	str_printf(target, sizeof(target), "object:%s", sha256);
	if (db_begin(db) != 0)
		goto out;
	if (queue_enqueue_tx(db, "repair", payload.data, &id) == 0) {
		buf_putc(&d, '{');
		buf_json_ki(&d, "job", (long long)id);
		buf_json_kv(&d, "file", file_pub);
		buf_json_kv(&d, "root", "primary");
		buf_putc(&d, '}');
		if (auth_audit_tx(
			db, r, "store.repair_queued", target, d.data) == 0 &&
		    db_commit(db) == 0)
			rc = 0;
	}
	if (rc != 0) {
		(void)db_rollback(db);
		goto out;
	}
	/* Published after the commit; when Redis does not take it the row
	 * stays pending for the reconciler. */
	(void)queue_publish(app_kv(app), db, "repair", id);
out:
	buf_free(&payload);
	buf_free(&d);
	return rc;
}

/* Where to serve sha256 from: 0 the primary root, 1 the replica; -1 when
 * there is no copy to serve (*o is the answer, a 410 page when both copies
 * are gone). A primary copy that is missing raises the alert and enqueues
 * its repair; a root that cannot be read raises alert.store. */
static int
files_root(struct app *app, struct request *r, const struct db_res *res,
    const char *pub, enum request_outcome *o)
{
	const char *sha = db_res_get(res, 0, FC_SHA);
	uint64_t school = (uint64_t)db_res_int(res, 0, FC_SCHOOL);
	struct store *s = app_store(app);
	enum store_root_state st[2];
	struct db *db = app_db(app);
	int primary, replica, locked;

	*o = RQ_UNAVAILABLE;
	if (s == NULL)
		return -1;
	if ((primary = store_object_exists(s, 0, sha)) == 1)
		return 0;
	replica = store_object_exists(s, 1, sha);
	if (primary < 0 || replica < 0) {
		(void)store_check(s, st);
		app_store_alert(app, st);
	}
	if (primary == 0) {
		log_warn("object %s is missing from the primary root%s", sha,
		    replica == 1 ? "; serving the replica" : "");
		locked = files_lock(db, sha, 1);
		(void)files_alert(
		    app, r, school, sha, replica == 0 ? "both" : "primary");
		if (replica == 1)
			(void)files_repair(app, r, sha, pub);
		if (locked)
			(void)files_lock(db, sha, 0);
	}
	if (replica == 1)
		return 1;
	if (primary == 0 && replica == 0)
		*o = files_page(app, r, 410, "files.lost.title",
		    "files.lost.text",
		    auth_page_ctx(app, r, "files.lost.title"));
	return -1;
}

/* --------------------------------------------------------- the answer */

/* The empty 200 that nginx turns into the file: X-Accel-Redirect to the
 * root's internal location, the recorded type, the safe name. */
static enum request_outcome
files_answer(struct request *r, const struct db_res *res, int root)
{
	enum sniff_type t = sniff_from_mime(db_res_get(res, 0, FC_MIME));
	char rel[80], accel[112];
	struct buf name, disp;
	int rc;

	if (store_object_rel(db_res_get(res, 0, FC_SHA), rel, sizeof(rel)) !=
	    0) {
		log_error("%s: bad recorded hash", __func__);
		return RQ_ERROR;
	}
	str_printf(accel, sizeof(accel), "/_store/%s/%s",
	    root == 0 ? "primary" : "replica", rel);
	buf_init(&name);
	buf_init(&disp);
	files_download_name(&name, db_res_get(res, 0, FC_NAME),
	    db_res_len(res, 0, FC_NAME), sniff_ext(t));
	files_disposition(&disp, name.data);
	request_ok(r, 200, sniff_mime(t));
	rc = request_header(r, "X-Accel-Redirect", accel) |
	    request_header(r, "Content-Disposition", disp.data) |
	    request_header(r, "X-Content-Type-Options", "nosniff") |
	    request_header(r, "Cache-Control", "private, no-store");
	buf_free(&name);
	buf_free(&disp);
	return rc == 0 ? RQ_OK : RQ_ERROR;
}

enum request_outcome
file_get(struct app *app, struct request *r)
{
	const char *pub = request_capture(r, "id");
	enum request_outcome o;
	enum files_reader who;
	struct db_res *res;
	long wait;
	int root;

	/* Every attempt counts, so that probing for ids is limited too. */
	if ((wait = files_rate(app, r->auth->u.id)) < 0)
		return RQ_UNAVAILABLE;
	if (wait > 0)
		return files_limited(app, r, wait);
	if (pub == NULL || !ids_public_valid(pub))
		return auth_deny(app, r, "not_found", 1);
	if ((res = files_find(app, r, pub)) == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		return auth_deny(app, r, "not_found", 1);
	}
	if ((who = files_reader(r, res)) == FILES_NOBODY) {
		db_res_free(res);
		return auth_deny(app, r, "file_right", 1);
	}
	if (db_res_int(res, 0, FC_BAD_OBJECT) != 0) {
		o = files_quarantined(app, r, res, who, pub);
		db_res_free(res);
		return o;
	}
	if ((root = files_root(app, r, res, pub, &o)) < 0) {
		db_res_free(res);
		return o;
	}
	/* The download is audited before it is answered. */
	o = files_audit(app, r, res, pub, "file.download", "success", "root",
		root == 0 ? "primary" : "replica") == 0
	    ? files_answer(r, res, root)
	    : RQ_UNAVAILABLE;
	db_res_free(res);
	return o;
}
