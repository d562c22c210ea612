/*
 * alert: see alert.h. The audit row names the school by its code, read in
 * the same transaction.
 */
#include "alert.h"

#include <stddef.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "ids.h"
#include "log.h"
#include "util.h"

int
alert_raise_tx(struct db *db, uint64_t school_id, const char *code,
    const char *kind, const char *ip, const char *detail)
{
	static const char sql[] =
	    "INSERT INTO alerts (public_id, at, school_id, kind, ip, detail) "
	    "VALUES (?, UTC_TIMESTAMP(6), ?, ?, ?, ?)";
	char pub[IDS_PUBLIC_LEN + 1], event[80], school[17] = "";
	struct db_param p[5], q[1];
	struct db_res *res;
	struct audit_event ev = {
	    .actor = "system",
	    .role = "system",
	    .school = NULL,
	    .ip = ip != NULL ? ip : "",
	    .event = event,
	    .target = NULL,
	    .outcome = "alert",
	    .detail = detail,
	};

	str_printf(event, sizeof(event), "alert.%s", kind);
	if (ids_public(pub) != 0)
		return -1;
	if (code != NULL && code[0] != '\0')
		ev.school = code;
	if (school_id != 0) {
		q[0] = DB_INT((long long)school_id);
		res =
		    db_query(db, "SELECT code FROM schools WHERE id = ?", q, 1);
		if (res == NULL)
			return -1;
		if (db_res_rows(res) == 1 &&
		    str_copy(school, sizeof(school), db_res_get(res, 0, 0)) ==
			0)
			ev.school = school;
		db_res_free(res);
	}
	p[0] = DB_STR(pub);
	p[1] = school_id != 0 ? DB_INT((long long)school_id) : DB_NULLP;
	p[2] = DB_STR(kind);
	p[3] = DB_STR(ev.ip);
	p[4] = detail != NULL ? DB_STR(detail) : DB_NULLP;
	if (db_exec(db, sql, p, 5, NULL, NULL) != 0 ||
	    audit_append_tx(db, &ev) != 0)
		return -1;
	if (ev.ip[0] != '\0')
		log_warn("alert %s from %s", event, ev.ip);
	else
		log_warn("alert %s", event);
	return 0;
}
