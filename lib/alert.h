/*
 * alert: raising an alert — a row in alerts (shown on the central staff's
 * home page, and on the school admin's when it concerns their school) and
 * the audit event "alert.<kind>" — inside the caller's transaction, by any
 * program (licheng-fcgi through auth_alert, licheng-worker, the CLI).
 */
#ifndef LICHENG_ALERT_H
#define LICHENG_ALERT_H

#include <stdint.h>

struct db;

/* Inserts the alert of kind ([a-z._]{1,64}) about school_id (0 = none),
 * from ip ("" = none), with detail (a JSON object, or NULL), and its audit
 * row (actor and role "system"; school: school_id's code, else code, which
 * may be NULL), in the transaction open on db. 0/-1 (the caller rolls
 * back). */
int alert_raise_tx(struct db *db, uint64_t school_id, const char *code,
    const char *kind, const char *ip, const char *detail);

#endif
