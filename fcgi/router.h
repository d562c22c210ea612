/*
 * router: the table of every route licheng-fcgi serves — method, pattern,
 * handler, name — and the matching of a request path against it. A route is
 * one table line in router.c; the router never looks at anything but the
 * method and the normalised path, and never allocates.
 */
#ifndef LICHENG_ROUTER_H
#define LICHENG_ROUTER_H

#include <stddef.h>

#include "request.h"

struct app;

/* Route flags. */
#define ROUTE_JSON 0x1 /* errors are answered in JSON, not as a page */

struct route {
	enum http_method method;
	const char *pattern; /* "/items/:id": literal and ":name" segments */
	enum request_outcome (*handler)(struct app *, struct request *);
	const char *name; /* the label in logs and metrics */
	unsigned flags;
};

/*
 * Matches r->method and r->path against table and fills r->route_index,
 * route_name, json and captures. HEAD also matches GET routes. Returns the
 * route, or NULL with the outcome in *outcome: RQ_NOT_FOUND, or
 * RQ_BAD_METHOD with r->allow listing the methods the path has.
 */
const struct route *router_match_table(const struct route *table, size_t n,
    struct request *r, enum request_outcome *outcome);
/* The same against licheng-fcgi's own table. */
const struct route *
router_match(struct request *r, enum request_outcome *outcome);
/* Routes in the table; index router_count() is "unmatched" in metrics. */
size_t router_count(void);
/* Route name by index; "unmatched" for router_count(). */
const char *router_name(size_t i);

/* The handlers named in the table, one line per area. */
enum request_outcome home_get(struct app *app, struct request *r);
enum request_outcome health_get(struct app *app, struct request *r);
enum request_outcome status_get(struct app *app, struct request *r);
enum request_outcome metrics_get(struct app *app, struct request *r);
/* login.c */
enum request_outcome login_get(struct app *app, struct request *r);
enum request_outcome login_post(struct app *app, struct request *r);
enum request_outcome login_totp_get(struct app *app, struct request *r);
enum request_outcome login_totp_post(struct app *app, struct request *r);
enum request_outcome logout_post(struct app *app, struct request *r);
enum request_outcome logout_all_post(struct app *app, struct request *r);
/* account.c */
enum request_outcome activate_get(struct app *app, struct request *r);
enum request_outcome activate_post(struct app *app, struct request *r);
enum request_outcome password_get(struct app *app, struct request *r);
enum request_outcome password_post(struct app *app, struct request *r);
enum request_outcome privacy_get(struct app *app, struct request *r);
enum request_outcome privacy_post(struct app *app, struct request *r);
enum request_outcome account_get(struct app *app, struct request *r);
enum request_outcome lang_get(struct app *app, struct request *r);
/* mfa.c */
enum request_outcome mfa_setup_get(struct app *app, struct request *r);
enum request_outcome mfa_setup_post(struct app *app, struct request *r);
enum request_outcome mfa_recovery_post(struct app *app, struct request *r);
/* security.c: the admins' security page, egress addresses, alerts */
enum request_outcome security_get(struct app *app, struct request *r);
enum request_outcome
security_mfa_reset_post(struct app *app, struct request *r);
enum request_outcome security_unlock_post(struct app *app, struct request *r);
enum request_outcome alert_ack_post(struct app *app, struct request *r);
enum request_outcome egress_get(struct app *app, struct request *r);
enum request_outcome egress_post(struct app *app, struct request *r);
enum request_outcome egress_delete_post(struct app *app, struct request *r);
/* auditlog.c */
enum request_outcome audit_get(struct app *app, struct request *r);

// clang-format off
/* records.c: a school admin's terms, classes, students, teachers, courses
 * and enrolments */
#define RECORDS_HANDLERS(X)                                                    \
	X(terms_get) X(terms_post) X(term_get) X(term_post) X(classes_get)     \
	X(classes_post) X(class_get) X(class_post) X(students_get)            \
	X(students_post) X(student_new_get) X(student_get) X(student_post)    \
	X(student_status_post) X(student_identity_post) X(teachers_get)       \
	X(teachers_post) X(teacher_new_get) X(teacher_get) X(teacher_post)    \
	X(courses_get) X(courses_post) X(course_new_get) X(course_get)        \
	X(course_post) X(course_enrol_post) X(course_unenrol_post)
/* imports.c and letters.c: CSV import from the page, activation letters */
#define IMPORTS_HANDLERS(X)                                                    \
	X(import_get) X(import_post) X(import_report_get)                      \
	X(import_report_csv_get) X(import_apply_post) X(letters_list_get)      \
	X(letters_get) X(letters_csv_get) X(letters_destroy_post)             \
	X(account_reissue_post)
/* review.c: the account review; myrecords.c: teachers' and students' views */
#define REVIEW_HANDLERS(X)                                                     \
	X(accounts_get) X(accounts_csv_get) X(accounts_review_post)            \
	X(account_disable_post) X(account_enable_post)                         \
	X(teacher_courses_get) X(teacher_course_get) X(my_records_get)
#define ROUTER_DECLARE(h)                                                      \
	enum request_outcome h(struct app *app, struct request *r);
RECORDS_HANDLERS(ROUTER_DECLARE)
IMPORTS_HANDLERS(ROUTER_DECLARE)
REVIEW_HANDLERS(ROUTER_DECLARE)
// clang-format on

#endif
