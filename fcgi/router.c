/*
 * router: licheng-fcgi's route table and the matching of a normalised path
 * against it. Adding a route is one line in router_table (and its handler's
 * prototype in router.h). Matching never allocates and never reads anything
 * but the method and the path; what a handler may do is the handler's
 * business.
 */
#include "router.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"

#define S ROUTE_SESSION
#define U ROUTE_USER
#define STEP ROUTE_STEP
#define ADMINS ROUTE_ADMINS
#define SCHOOL_ADMIN ROUTE_ROLE(ROLE_SCHOOL_ADMIN)
#define AUDITOR ROUTE_ROLE(ROLE_AUDITOR)
#define TEACHER ROUTE_ROLE(ROLE_TEACHER)
#define STUDENT ROUTE_ROLE(ROLE_STUDENT)
#define MULTIPART ROUTE_MULTIPART
#define SA (U | SCHOOL_ADMIN)
#define MFA_ROLES                                                              \
	(ROUTE_ROLE(ROLE_SCHOOL_ADMIN) | ROUTE_ROLE(ROLE_CENTRAL_STAFF) |      \
	    ROUTE_ROLE(ROLE_AUDITOR))

static const struct route router_table[] = {
    {HTTP_GET, "/", home_get, "home", S},
    {HTTP_GET, "/healthz", health_get, "healthz", ROUTE_JSON},
    {HTTP_GET, "/status", status_get, "status", 0},
    {HTTP_GET, "/metrics", metrics_get, "metrics", 0},
    {HTTP_GET, "/lang/:code", lang_get, "lang", 0},

    {HTTP_GET, "/login", login_get, "login", S},
    {HTTP_POST, "/login", login_post, "login", S},
    {HTTP_GET, "/login/totp", login_totp_get, "login_totp", U},
    {HTTP_POST, "/login/totp", login_totp_post, "login_totp", U},
    {HTTP_POST, "/logout", logout_post, "logout", U | STEP},
    {HTTP_POST, "/logout/all", logout_all_post, "logout_all", U | STEP},
    {HTTP_GET, "/activate", activate_get, "activate", S},
    {HTTP_POST, "/activate", activate_post, "activate", S},
    {HTTP_GET, "/password", password_get, "password", U},
    {HTTP_POST, "/password", password_post, "password", U},
    {HTTP_GET, "/privacy", privacy_get, "privacy", U | STEP},
    {HTTP_POST, "/privacy", privacy_post, "privacy", U | STEP},
    {HTTP_GET, "/account", account_get, "account", U},

    {HTTP_GET, "/mfa/setup", mfa_setup_get, "mfa_setup", U | MFA_ROLES},
    {HTTP_POST, "/mfa/setup", mfa_setup_post, "mfa_setup", U | MFA_ROLES},
    {HTTP_POST, "/mfa/recovery", mfa_recovery_post, "mfa_recovery",
	U | MFA_ROLES},

    {HTTP_GET, "/admin/security", security_get, "admin_security", U | ADMINS},
    {HTTP_POST, "/admin/mfa-reset", security_mfa_reset_post, "admin_mfa_reset",
	U | ADMINS},
    {HTTP_POST, "/admin/unlock", security_unlock_post, "admin_unlock",
	U | ADMINS},
    {HTTP_POST, "/alerts/:id/ack", alert_ack_post, "alert_ack", U | ADMINS},
    {HTTP_GET, "/admin/egress", egress_get, "admin_egress", U | SCHOOL_ADMIN},
    {HTTP_POST, "/admin/egress", egress_post, "admin_egress", U | SCHOOL_ADMIN},
    {HTTP_POST, "/admin/egress/:id/delete", egress_delete_post,
	"admin_egress_delete", U | SCHOOL_ADMIN},

    {HTTP_GET, "/audit", audit_get, "audit", U | AUDITOR},

    /* records.c: terms, classes, students, teachers, courses, enrolments */
    {HTTP_GET, "/admin/terms", terms_get, "admin_terms", SA},
    {HTTP_POST, "/admin/terms", terms_post, "admin_terms", SA},
    {HTTP_GET, "/admin/terms/:id", term_get, "admin_term", SA},
    {HTTP_POST, "/admin/terms/:id", term_post, "admin_term", SA},
    {HTTP_GET, "/admin/classes", classes_get, "admin_classes", SA},
    {HTTP_POST, "/admin/classes", classes_post, "admin_classes", SA},
    {HTTP_GET, "/admin/classes/:id", class_get, "admin_class", SA},
    {HTTP_POST, "/admin/classes/:id", class_post, "admin_class", SA},
    {HTTP_GET, "/admin/students", students_get, "admin_students", SA},
    {HTTP_POST, "/admin/students", students_post, "admin_students", SA},
    {HTTP_GET, "/admin/students/new", student_new_get, "admin_student_new", SA},
    {HTTP_GET, "/admin/students/:id", student_get, "admin_student", SA},
    {HTTP_POST, "/admin/students/:id", student_post, "admin_student", SA},
    {HTTP_POST, "/admin/students/:id/status", student_status_post,
	"admin_student_status", SA},
    {HTTP_POST, "/admin/students/:id/identity", student_identity_post,
	"admin_student_identity", SA},
    {HTTP_GET, "/admin/teachers", teachers_get, "admin_teachers", SA},
    {HTTP_POST, "/admin/teachers", teachers_post, "admin_teachers", SA},
    {HTTP_GET, "/admin/teachers/new", teacher_new_get, "admin_teacher_new", SA},
    {HTTP_GET, "/admin/teachers/:id", teacher_get, "admin_teacher", SA},
    {HTTP_POST, "/admin/teachers/:id", teacher_post, "admin_teacher", SA},
    {HTTP_GET, "/admin/courses", courses_get, "admin_courses", SA},
    {HTTP_POST, "/admin/courses", courses_post, "admin_courses", SA},
    {HTTP_GET, "/admin/courses/new", course_new_get, "admin_course_new", SA},
    {HTTP_GET, "/admin/courses/:id", course_get, "admin_course", SA},
    {HTTP_POST, "/admin/courses/:id", course_post, "admin_course", SA},
    {HTTP_POST, "/admin/courses/:id/enrol", course_enrol_post,
	"admin_course_enrol", SA},
    {HTTP_POST, "/admin/courses/:id/unenrol", course_unenrol_post,
	"admin_course_unenrol", SA},

    /* imports.c: CSV import from the page; letters.c: activation letters */
    {HTTP_GET, "/admin/import", import_get, "admin_import", SA},
    {HTTP_POST, "/admin/import", import_post, "admin_import", SA | MULTIPART},
    {HTTP_GET, "/admin/imports/:id", import_report_get, "admin_import_report",
	SA},
    {HTTP_GET, "/admin/imports/:id/report.csv", import_report_csv_get,
	"admin_import_report_csv", SA},
    {HTTP_POST, "/admin/imports/:id/apply", import_apply_post,
	"admin_import_apply", SA},
    {HTTP_GET, "/admin/letters", letters_list_get, "admin_letters", SA},
    {HTTP_GET, "/admin/letters/:id", letters_get, "admin_letter_batch", SA},
    {HTTP_GET, "/admin/letters/:id/letters.csv", letters_csv_get,
	"admin_letter_batch_csv", SA},
    {HTTP_POST, "/admin/letters/:id/destroy", letters_destroy_post,
	"admin_letter_batch_destroy", SA},
    {HTTP_POST, "/admin/accounts/:id/reissue", account_reissue_post,
	"admin_account_reissue", SA},

    /* review.c: the periodic account review */
    {HTTP_GET, "/admin/accounts", accounts_get, "admin_accounts", SA},
    {HTTP_GET, "/admin/accounts.csv", accounts_csv_get, "admin_accounts_csv",
	SA},
    {HTTP_POST, "/admin/accounts/review", accounts_review_post,
	"admin_accounts_review", SA},
    {HTTP_POST, "/admin/accounts/:id/disable", account_disable_post,
	"admin_account_disable", SA},
    {HTTP_POST, "/admin/accounts/:id/enable", account_enable_post,
	"admin_account_enable", SA},

    /* myrecords.c: what teachers and students may see of the records */
    {HTTP_GET, "/teacher/courses", teacher_courses_get, "teacher_courses",
	U | TEACHER},
    {HTTP_GET, "/teacher/courses/:id", teacher_course_get, "teacher_course",
	U | TEACHER},
    {HTTP_GET, "/me/records", my_records_get, "my_records", U | STUDENT},

    /* items.c: a student's items (course learning outcomes, diverse
     * performances) and their uploads */
    {HTTP_GET, "/items", items_get, "items", U | STUDENT},
    {HTTP_POST, "/items", items_post, "items", U | STUDENT | MULTIPART},
    /* selection.c: the ticks (勾選); before /items/:id, which it would
     * match */
    {HTTP_POST, "/items/select", items_select_post, "items_select",
	U | STUDENT},
    {HTTP_GET, "/items/:id", item_get, "item", U | STUDENT},
    {HTTP_POST, "/items/:id", item_post, "item", U | STUDENT | MULTIPART},
    {HTTP_POST, "/items/:id/delete", item_delete_post, "item_delete",
	U | STUDENT},

    /* files.c: downloads of stored files, for whoever may read them */
    {HTTP_GET, "/files/:id", file_get, "file", U},

    /* windows.c: the upload windows of a school's terms */
    {HTTP_GET, "/admin/windows", windows_list_get, "admin_windows", SA},
    {HTTP_POST, "/admin/windows/:id", window_post, "admin_window", SA},

    /* certify.c: the teacher's (and stand-in's) certification pages */
    {HTTP_GET, "/certify", certify_list_get, "certify", U | TEACHER},
    {HTTP_POST, "/certify/batch", certify_batch_post, "certify_batch",
	U | TEACHER},
    {HTTP_GET, "/certify/:id", certify_item_get, "certify_item", U | TEACHER},
    {HTTP_POST, "/certify/:id", certify_item_post, "certify_item", U | TEACHER},

    /* standins.c, deadlines.c: stand-in certifiers (代理人), deadlines */
    {HTTP_GET, "/admin/standins", standins_get, "admin_standins", SA},
    {HTTP_POST, "/admin/standins", standins_post, "admin_standins", SA},
    {HTTP_POST, "/admin/standins/:id/revoke", standin_revoke_post,
	"admin_standin_revoke", SA},
    {HTTP_GET, "/admin/deadlines", deadlines_get, "admin_deadlines", SA},
    {HTTP_POST, "/admin/deadlines/term/:id", deadline_term_post,
	"admin_deadline_term", SA},
    {HTTP_POST, "/admin/deadlines/year/:id", deadline_year_post,
	"admin_deadline_year", SA},

    /* selection.c: the homeroom teacher's class progress (and, above,
     * the student's ticks) */
    {HTTP_GET, "/homeroom", homeroom_get, "homeroom", U | TEACHER},
};

size_t
router_count(void)
{
	return ARRAY_SIZE(router_table);
}

const char *
router_name(size_t i)
{
	return i < ARRAY_SIZE(router_table) ? router_table[i].name
					    : "unmatched";
}

/* 1 when path fits pattern segment by segment; ":name" takes any non-empty
 * segment. */
static int
router_pattern_match(const char *pat, const char *path)
{
	const char *pe, *qe;
	size_t pn, qn;

	while (*pat != '\0' && *path != '\0') {
		if (*pat != '/' || *path != '/')
			return 0;
		pat++;
		path++;
		pe = pat + strcspn(pat, "/");
		qe = path + strcspn(path, "/");
		pn = (size_t)(pe - pat);
		qn = (size_t)(qe - path);
		if (*pat == ':') {
			if (qn == 0)
				return 0;
		} else if (pn != qn || memcmp(pat, path, pn) != 0)
			return 0;
		pat = pe;
		path = qe;
	}
	return *pat == '\0' && *path == '\0';
}

/* Splits a copy of the path at '/' and points each ":name" capture at its
 * segment. The pattern is known to match. */
static void
router_capture(const struct route *rt, struct request *r)
{
	const char *pat = rt->pattern;
	char *seg;
	size_t pn;

	r->ncaptures = 0;
	if (strchr(pat, ':') == NULL)
		return;
	/* Both buffers have the same size, so this cannot truncate. */
	(void)str_copy(r->segs, sizeof(r->segs), r->path);
	seg = r->segs;
	while (*pat != '\0' && *seg != '\0') {
		pat++;
		*seg++ = '\0';
		pn = strcspn(pat, "/");
		if (*pat == ':' && r->ncaptures < REQUEST_PARAMS_MAX) {
			r->captures[r->ncaptures].name = pat + 1;
			r->captures[r->ncaptures].namelen = pn - 1;
			r->captures[r->ncaptures].value = seg;
			r->ncaptures++;
		}
		pat += pn;
		seg += strcspn(seg, "/");
	}
	*seg = '\0';
}

static int
router_method_fits(enum http_method route, enum http_method req)
{
	return route == req || (req == HTTP_HEAD && route == HTTP_GET);
}

/* Lists the methods in r->allow, GET implying HEAD, in table order. */
static void
router_allow(struct request *r, unsigned methods)
{
	size_t used = 0;
	int m, n;

	if (methods & (1u << HTTP_GET))
		methods |= 1u << HTTP_HEAD;
	r->allow[0] = '\0';
	for (m = 0; m < HTTP_OTHER; m++) {
		if (!(methods & (1u << m)))
			continue;
		n = snprintf(r->allow + used, sizeof(r->allow) - used, "%s%s",
		    used > 0 ? ", " : "",
		    request_method_name((enum http_method)m));
		if (n < 0 || (size_t)n >= sizeof(r->allow) - used)
			break; /* cannot happen with seven short names */
		used += (size_t)n;
	}
}

const struct route *
router_match_table(const struct route *table, size_t n, struct request *r,
    enum request_outcome *outcome)
{
	unsigned methods = 0;
	size_t i;
	int first = -1;

	r->route_index = (int)n;
	r->route_name = "unmatched";
	r->ncaptures = 0;
	r->allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!router_pattern_match(table[i].pattern, r->path))
			continue;
		if (first < 0)
			first = (int)i;
		if (!router_method_fits(table[i].method, r->method)) {
			methods |= 1u << table[i].method;
			continue;
		}
		r->route_index = (int)i;
		r->route_name = table[i].name;
		r->json = (table[i].flags & ROUTE_JSON) != 0;
		router_capture(&table[i], r);
		*outcome = RQ_OK;
		return &table[i];
	}
	if (first < 0) {
		*outcome = RQ_NOT_FOUND;
		return NULL;
	}
	/* The path exists with other methods: count it under that route. */
	r->route_index = first;
	r->route_name = table[first].name;
	r->json = (table[first].flags & ROUTE_JSON) != 0;
	router_allow(r, methods);
	*outcome = RQ_BAD_METHOD;
	return NULL;
}

const struct route *
router_match(struct request *r, enum request_outcome *outcome)
{
	return router_match_table(
	    router_table, ARRAY_SIZE(router_table), r, outcome);
}
