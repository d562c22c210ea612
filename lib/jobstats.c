/*
 * jobstats: see jobstats.h. The statement reads only rows that are not done
 * (the index jobs_type_state keeps them apart from the done ones) plus one
 * index entry per type, so its cost follows the queue's backlog, not its
 * history.
 */
#include "jobstats.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"

/* The second half is "SELECT type ... GROUP BY type" on jobs_type_state,
 * which MariaDB answers with a loose index scan (one probe per type). */
static const char jobstats_sql[] =
    "SELECT type, state, COUNT(*), "
    "COALESCE(SUM(not_before > UTC_TIMESTAMP(6)), 0), "
    "GREATEST(TIMESTAMPDIFF(SECOND, MIN(created_at), UTC_TIMESTAMP(6)), 0) "
    "FROM jobs WHERE state IN ('pending', 'running', 'dead') "
    "GROUP BY type, state "
    "UNION ALL "
    "SELECT type, 'any', 0, 0, NULL FROM jobs GROUP BY type "
    "ORDER BY 1";

/* The entry for type, appended when it is new (rows arrive sorted). */
static struct jobstats_type *
jobstats_entry(struct jobstats *st, const char *type)
{
	struct jobstats_type *t;

	if (st->n > 0 && strcmp(st->types[st->n - 1].type, type) == 0)
		return &st->types[st->n - 1];
	st->types = xrealloc(st->types, (st->n + 1) * sizeof(*st->types));
	t = &st->types[st->n++];
	memset(t, 0, sizeof(*t));
	(void)str_copy(t->type, sizeof(t->type), type);
	t->oldest_pending = -1;
	return t;
}

int
jobstats_load(struct db *db, struct jobstats *st)
{
	struct jobstats_type *t;
	struct db_res *res;
	const char *type, *state;
	long long count;
	size_t i;

	memset(st, 0, sizeof(*st));
	if ((res = db_query(db, jobstats_sql, NULL, 0)) == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res); i++) {
		type = db_res_get(res, i, 0);
		state = db_res_get(res, i, 1);
		/* The type column is NOT NULL and at most 32 characters; a
		 * longer one is not a type the queue ever made. */
		if (type == NULL || state == NULL ||
		    strlen(type) > QUEUE_TYPE_MAX) {
			log_warn("jobs: a row of an unexpected type \"%s\" is "
				 "not counted",
			    type != NULL ? type : "(null)");
			continue;
		}
		t = jobstats_entry(st, type);
		count = db_res_int(res, i, 2);
		if (strcmp(state, "pending") == 0) {
			t->pending_wait = db_res_int(res, i, 3);
			t->pending_due = count - t->pending_wait;
			t->oldest_pending = db_res_int(res, i, 4);
		} else if (strcmp(state, "running") == 0)
			t->running = count;
		else if (strcmp(state, "dead") == 0)
			t->dead = count;
	}
	db_res_free(res);
	return 0;
}

void
jobstats_free(struct jobstats *st)
{
	if (st == NULL)
		return;
	free(st->types);
	st->types = NULL;
	st->n = 0;
}

long long
jobstats_dead(const struct jobstats *st)
{
	long long n = 0;
	size_t i;

	for (i = 0; i < st->n; i++)
		n += st->types[i].dead;
	return n;
}

long long
jobstats_oldest(const struct jobstats *st)
{
	long long oldest = -1;
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->types[i].oldest_pending > oldest)
			oldest = st->types[i].oldest_pending;
	return oldest;
}
