/*
 * store_app: licheng-fcgi's use of the durable store. Each child has one
 * struct store, made on first use with the roots' ids recorded in the
 * database (read through health.c's cache, re-read at once after a root
 * does not match). Before every write both roots' markers are checked; a
 * root that is missing, unreadable, unmarked or foreign refuses the write
 * and raises `alert.store` — once per root and state, however many
 * children and requests meet it — with a line in the log.
 */
#ifndef LICHENG_STORE_APP_H
#define LICHENG_STORE_APP_H

#include "store.h"

struct app;

/* The recorded ids of the roots in app->store_ids: read from the database
 * when never read, after a minute (HEALTH_IDS_MS) or when reload is set;
 * health.c owns this cache. 0, or -1 when they cannot be read. */
int app_store_ids(struct app *app, int reload);
/* The child's store; NULL only when the ids cannot be read (database
 * down). */
struct store *app_store(struct app *app);
/* Ready to write: STORE_OK, or STORE_E_ROOT (after re-reading the ids once
 * and raising the alert) or STORE_E_IO (no store). */
enum store_error app_store_ready(struct app *app);
/* Raises alert.store for each root of st that is not STORE_ROOT_OK, unless
 * the same alert (root and state) is already open; audited and logged. */
void app_store_alert(struct app *app, const enum store_root_state st[2]);
/* After a write failed with e: when a root's marker went wrong during the
 * write (STORE_E_ROOT), checks both roots and raises the alert as
 * app_store_alert does. Other errors raise nothing (the store logged them). */
void app_store_failed(struct app *app, enum store_error e);

#endif
