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

/* records_*.c: a school admin's terms, classes, students, teachers,
 * courses and enrolments */
enum request_outcome terms_get(struct app *app, struct request *r);
enum request_outcome terms_post(struct app *app, struct request *r);
enum request_outcome term_get(struct app *app, struct request *r);
enum request_outcome term_post(struct app *app, struct request *r);
enum request_outcome classes_get(struct app *app, struct request *r);
enum request_outcome classes_post(struct app *app, struct request *r);
enum request_outcome class_get(struct app *app, struct request *r);
enum request_outcome class_post(struct app *app, struct request *r);
enum request_outcome students_get(struct app *app, struct request *r);
enum request_outcome students_post(struct app *app, struct request *r);
enum request_outcome student_new_get(struct app *app, struct request *r);
enum request_outcome student_get(struct app *app, struct request *r);
enum request_outcome student_post(struct app *app, struct request *r);
enum request_outcome student_status_post(struct app *app, struct request *r);
enum request_outcome student_identity_post(struct app *app, struct request *r);
enum request_outcome teachers_get(struct app *app, struct request *r);
enum request_outcome teachers_post(struct app *app, struct request *r);
enum request_outcome teacher_new_get(struct app *app, struct request *r);
enum request_outcome teacher_get(struct app *app, struct request *r);
enum request_outcome teacher_post(struct app *app, struct request *r);
enum request_outcome courses_get(struct app *app, struct request *r);
enum request_outcome courses_post(struct app *app, struct request *r);
enum request_outcome course_new_get(struct app *app, struct request *r);
enum request_outcome course_get(struct app *app, struct request *r);
enum request_outcome course_post(struct app *app, struct request *r);
enum request_outcome course_enrol_post(struct app *app, struct request *r);
enum request_outcome course_unenrol_post(struct app *app, struct request *r);

/* imports.c and letters.c: CSV import from the page, activation letters */
enum request_outcome import_get(struct app *app, struct request *r);
enum request_outcome import_post(struct app *app, struct request *r);
enum request_outcome import_report_get(struct app *app, struct request *r);
enum request_outcome import_report_csv_get(struct app *app, struct request *r);
enum request_outcome import_apply_post(struct app *app, struct request *r);
enum request_outcome letters_list_get(struct app *app, struct request *r);
enum request_outcome letters_get(struct app *app, struct request *r);
enum request_outcome letters_csv_get(struct app *app, struct request *r);
enum request_outcome letters_destroy_post(struct app *app, struct request *r);
enum request_outcome account_reissue_post(struct app *app, struct request *r);

/* review.c: the account review; myrecords.c: teachers' and students'
 * views of the records */
enum request_outcome accounts_get(struct app *app, struct request *r);
enum request_outcome accounts_csv_get(struct app *app, struct request *r);
enum request_outcome accounts_review_post(struct app *app, struct request *r);
enum request_outcome account_disable_post(struct app *app, struct request *r);
enum request_outcome account_enable_post(struct app *app, struct request *r);
enum request_outcome teacher_courses_get(struct app *app, struct request *r);
enum request_outcome teacher_course_get(struct app *app, struct request *r);
enum request_outcome my_records_get(struct app *app, struct request *r);

/* items.c, files.c, windows.c: uploads, downloads, upload windows. Each
 * area is also an X-macro list, so that a tree where one area is missing
 * can define it as stubs. */
#define ITEMS_HANDLERS(X)                                                      \
	X(items_get)                                                           \
	X(items_post)                                                          \
	X(item_get)                                                            \
	X(item_post)                                                           \
	X(item_delete_post)
#define FILES_HANDLERS(X) X(file_get)
#define WINDOWS_HANDLERS(X)                                                    \
	X(windows_list_get)                                                    \
	X(window_post)
/* Issue 7. certify.c: the teacher's certification pages; standins.c and
 * deadlines.c: the admin's stand-in certifiers and deadlines; selection.c:
 * the student's ticks and the homeroom teacher's class progress. */
#define CERTIFY_HANDLERS(X)                                                    \
	X(certify_list_get)                                                    \
	X(certify_item_get)                                                    \
	X(certify_item_post)                                                   \
	X(certify_batch_post)
#define STANDINS_HANDLERS(X)                                                   \
	X(standins_get)                                                        \
	X(standins_post)                                                       \
	X(standin_revoke_post)
#define DEADLINES_HANDLERS(X)                                                  \
	X(deadlines_get)                                                       \
	X(deadline_term_post)                                                  \
	X(deadline_year_post)
#define SELECTION_HANDLERS(X)                                                  \
	X(items_select_post)                                                   \
	X(homeroom_get)
#define ROUTER_DECLARE(h)                                                      \
	enum request_outcome h(struct app *, struct request *);
ITEMS_HANDLERS(ROUTER_DECLARE)
FILES_HANDLERS(ROUTER_DECLARE)
WINDOWS_HANDLERS(ROUTER_DECLARE)
CERTIFY_HANDLERS(ROUTER_DECLARE)
STANDINS_HANDLERS(ROUTER_DECLARE)
DEADLINES_HANDLERS(ROUTER_DECLARE)
SELECTION_HANDLERS(ROUTER_DECLARE)

#endif
