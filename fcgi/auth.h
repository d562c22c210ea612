/*
 * auth: who is asking, and may they. Before any handler runs, auth_gate
 * loads the session named by the cookie, the signed-in user, checks the
 * CSRF token of every POST, the route's roles, and the steps a user must
 * take before anything else (the second factor, the privacy notice, an
 * expired password, TOTP enrolment). Handlers then read r->auth. It also
 * owns the helpers every page shares: the audit entry of a request, the
 * page context (user, navigation, CSRF token), and session rotation.
 *
 * It must never let a handler run for a route the user may not reach, and
 * never change state on a POST whose CSRF token does not match.
 */
#ifndef LICHENG_AUTH_H
#define LICHENG_AUTH_H

#include <stdint.h>

#include "ids.h"
#include "request.h"
#include "session.h"

struct app;
struct route;
struct tval;

enum role {
	ROLE_STUDENT,
	ROLE_TEACHER,
	ROLE_SCHOOL_ADMIN,
	ROLE_CENTRAL_STAFF,
	ROLE_AUDITOR,
	ROLE__MAX
};

enum user_status { USER_PENDING, USER_ACTIVE, USER_DISABLED, USER_STATUS__MAX };

/* The cookie that carries the session token; __Host- means Secure, Path=/
 * and no Domain, enforced by the browser. */
#define AUTH_COOKIE "__Host-licheng"
/* The language choice (not a secret; readable by the pages' links). */
#define AUTH_LANG_COOKIE "__Host-licheng-lang"
/* Largest urlencoded form body accepted. */
#define AUTH_FORM_MAX (64 * 1024)

struct user {
	uint64_t id;
	char public_id[IDS_PUBLIC_LEN + 1];
	char login[33];
	char name[401]; /* 100 characters of utf8mb4 */
	enum role role;
	enum user_status status;
	uint64_t school_id; /* 0 for central staff and auditors */
	char school_public_id[IDS_PUBLIC_LEN + 1];
	char school_code[17];
	char school_name[401];
	int64_t password_age; /* seconds since the last change; -1 never */
	int totp_enabled;
	char privacy_version[33]; /* "" when never accepted */
	char birth_date[11]; /* YYYY-MM-DD or "" */
	char national_id_hmac[65]; /* "" when none */
	int cert_notice; /* a student's item has an unread certification
			  * result (items.cert_notice) */
};

/* What auth_gate found, for the handler. */
struct auth {
	const char *lang; /* "zh-TW" or "en" */
	char ip[46]; /* REMOTE_ADDR, "" when unknown */
	int has_session; /* s is loaded (anonymous or signed in) */
	int signed_in; /* s is a full session of u */
	struct session s;
	struct user u; /* valid when s.user_id != 0 */
	long pw_days_left; /* until the password expires; < 0 expired */
	const char *step; /* the page the user must visit first, or NULL */
};

/* Route flags beyond ROUTE_JSON (router.h): */
#define ROUTE_SESSION 0x2 /* loads the session; POSTs need its CSRF token */
#define ROUTE_USER 0x4 /* signed in, every step done (implies SESSION) */
#define ROUTE_STEP 0x8 /* also reachable while a step is pending */
/* A multipart/form-data POST (a file upload): the gate checks everything
 * but leaves the body unread, and the handler must check the CSRF token —
 * the form's first part, named "csrf" — with auth_csrf_token_ok before it
 * acts on anything, answering auth_csrf_refuse when it does not match. */
#define ROUTE_MULTIPART 0x10
/* Only these roles (none given: every signed-in role). */
#define ROUTE_ROLE(role) (0x100u << (role))
#define ROUTE_ADMINS                                                           \
	(ROUTE_ROLE(ROLE_SCHOOL_ADMIN) | ROUTE_ROLE(ROLE_CENTRAL_STAFF))

/*
 * Runs before the handler of rt. RQ_OK: the handler may run (r->auth is
 * filled; a POST's body is in r->input and its CSRF token matched). Any
 * other outcome is the answer; when it has already set a redirect itself
 * it returns RQ_OK with *answered set.
 */
enum request_outcome auth_gate(
    struct app *app, struct request *r, const struct route *rt, int *answered);
/* 1 when token is the CSRF token of the request's session (see
 * ROUTE_MULTIPART); 0 otherwise, also without a session. */
int auth_csrf_token_ok(const struct request *r, const char *token);
/* The answer to a POST whose CSRF token does not match: access.denied
 * audited with reason "csrf", the 403 page saying the form expired. */
enum request_outcome auth_csrf_refuse(struct app *app, struct request *r);

/*
 * The CSRF token of a ROUTE_MULTIPART form, read from its first part by the
 * handler's multipart callbacks: nothing else is read before it matched.
 * Zero it before the body; wipe it with auth_mp_csrf_clear after.
 */
struct auth_mp_csrf {
	char token[IDS_TOKEN_LEN + 1];
	size_t len;
	int too_long; /* the part was longer than any token */
	int ok; /* the first part was the session's token */
	int bad; /* the first part was not "csrf", or did not match */
};
/* At the start of part number n (1-based) named name (is_file: it has a
 * file name): 1 when it is the token's part (feed its bytes to
 * auth_mp_csrf_data, then call auth_mp_csrf_end), 0 for a later part once
 * the token matched, -1 to stop reading. */
int auth_mp_csrf_begin(
    struct auth_mp_csrf *c, size_t n, const char *name, int is_file);
void auth_mp_csrf_data(struct auth_mp_csrf *c, const char *data, size_t n);
/* At the end of the token's part: 0 when it is the session's token, -1
 * (bad set) when not. */
int auth_mp_csrf_end(struct auth_mp_csrf *c, const struct request *r);
/* After the body: 1 when the form must be refused as auth_csrf_refuse
 * answers — the token did not match, or the body ended well without it.
 * mp_ok: the body was read without a multipart error. */
int auth_mp_csrf_refused(const struct auth_mp_csrf *c, int mp_ok);
void auth_mp_csrf_clear(struct auth_mp_csrf *c);

/* Forgets the request's auth state (wiping the CSRF token). */
void auth_end(struct request *r);

/* Replaces the request's session by a new one for user_id (0: anonymous)
 * and sets its cookie: at sign-in, after the second factor, on any
 * privilege change. The old session is deleted. 0/-1. */
int auth_session_new(struct app *app, struct request *r, uint64_t user_id,
    enum session_state state);
/* Ends the request's session and clears the cookie. */
void auth_session_end(struct app *app, struct request *r);
/* An anonymous session for a public form (sign-in, activation) when the
 * request has none, so the form can carry a CSRF token. 0/-1. */
int auth_session_ensure(struct app *app, struct request *r);

/* A login name as stored and counted: ASCII lower case, into out. Login
 * names are case-insensitive. */
void auth_login_lower(const char *in, char *out, size_t outlen);

/* Loads a user by id, or by login (either may be 0/NULL). 1 found, 0 not,
 * -1 on a database error. */
int
auth_user_load(struct app *app, uint64_t id, const char *login, struct user *u);

/*
 * Appends one audit entry for this request: actor, role and school from
 * the signed-in user (or "anonymous"), the client address, and event,
 * target, outcome and detail (a JSON object text or NULL). Its own
 * transaction. 0/-1 (logged).
 */
int auth_audit(struct app *app, const struct request *r, const char *event,
    const char *target, const char *outcome, const char *detail);
/* The same for a named actor (e.g. a failed sign-in of login). */
int auth_audit_as(struct app *app, const struct request *r, const char *actor,
    const char *role, const char *school, const char *event, const char *target,
    const char *outcome, const char *detail);
/* The same inside the caller's open transaction, for a change the
 * signed-in user made (outcome "success"), so the change and its audit row
 * commit together. 0/-1. */
struct db;
int auth_audit_tx(struct db *db, const struct request *r, const char *event,
    const char *target, const char *detail);
/* The CSRF token's shape, for the forms that carry it as a field. */
#define AUTH_CSRF_PATTERN "[A-Za-z0-9_-]{43}"
/* 1 when a POST body holds the csrf field and nothing else (a button's
 * form; the gate has already checked the token's value). */
int auth_csrf_form_ok(const struct request *r);
/* Puts the message of form field i's error, if any, under key in ctx
 * ("form.error.<name>" in the request's language). */
struct form;
void auth_field_error(struct app *app, struct request *r, struct tval *ctx,
    const char *key, const struct form *f, size_t i);
/* A page's query string: "done" names the notice shown after a redirect
 * (one of the '|'-separated words; the message <section>.done.<word> goes
 * into ctx as "notice"), and "page" is returned (1 when absent or
 * invalid). A mangled query is not worth an error page: defaults apply. */
long auth_page_query(struct app *app, struct request *r, struct tval *ctx,
    const char *words, const char *section);
/* Refuses the request as not permitted: audits access.denied with the
 * reason and returns RQ_FORBIDDEN (or RQ_NOT_FOUND when not_found, for
 * resources of another school: no existence oracle). */
enum request_outcome auth_deny(
    struct app *app, struct request *r, const char *reason, int not_found);

/*
 * Raises an alert: a row in alerts (a banner on the central staff's home
 * page, and on the admins' of school_id when it is not 0) and the audit
 * event "alert.<kind>", in one transaction. 0/-1.
 */
int auth_alert(struct app *app, const struct request *r, const char *kind,
    uint64_t school_id, const char *detail);
/* The same without a request (the store's checks, background work): from
 * address ip ("" for none), audited under school_code (NULL for none) when
 * school_id is 0. */
int auth_alert_as(struct app *app, const char *ip, const char *school_code,
    const char *kind, uint64_t school_id, const char *detail);
/* 1 when the request's address is a registered egress address of a
 * school (its id in *school_id), 0 when not, -1 on error. */
int auth_egress(struct app *app, const struct request *r, uint64_t *school_id);

/*
 * A page context with title (a message key), lang, the CSRF token, and for
 * a signed-in user "user" {name, role, school} and the role's navigation.
 * The caller adds its keys and renders with auth_render. NULL never
 * (out of memory aborts).
 */
struct tval *
auth_page_ctx(struct app *app, struct request *r, const char *title_key);
/* Renders body_template inside the layout as a 200 (or status) page and
 * frees ctx. RQ_OK or RQ_ERROR. */
enum request_outcome auth_render(struct app *app, struct request *r,
    const char *body_template, struct tval *ctx, int status);
/* The message key's text in the request's language. */
const char *auth_msg(struct app *app, const struct request *r, const char *key);
/* The same with each "{n}" in it replaced by n, written into out. */
const char *auth_msg_n(struct app *app, const struct request *r,
    const char *key, long n, char *out, size_t outlen);

const char *role_name(enum role role); /* "student", ... */
int role_parse(const char *s); /* enum role, or -1 */
int role_needs_mfa(enum role role);

#endif
