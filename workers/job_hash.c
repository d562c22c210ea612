/*
 * job_hash: the hash and repair jobs (DESIGN.md "Durable uploads", 6). A
 * job reads both copies of one object back, hashes them independently of
 * the upload path and records the result in the hash registry (objects):
 * verified when both are good; a bad copy (missing, or bytes that hash to
 * another name) repaired from the good one, with an alert and an audit
 * row; no good copy left: the object lost, with an alert for each school
 * that uses it. It replaces files only through store_replace_bad_copy,
 * never records a copy as good that it did not read, and never begins,
 * commits or rolls back a transaction (workers/jobs.h: its writes commit
 * with the job).
 *
 * Exactly once across crashes. A repair writes a note "job <id> was
 * <missing|mismatch>" (store_repair_note_write: tmp/repair.<sha256> of the
 * bad root, durable) before it renames the new copy into place, and the
 * note is removed only after the job's transaction has committed
 * (jc->after_commit). A note therefore says: job <id> replaced this copy,
 * and that may not be on record. A run that finds one asks the jobs table
 * (a locking read, so it sees the latest commit, not its snapshot):
 *  - job <id> is done: its transaction — the repair's alert and audit row
 *    with it — committed, and only removing the note was lost (a crash
 *    between the commit and after_commit). The note is removed now.
 *  - anything else (this job redelivered after a kill -9 between the
 *    rename and the commit, or a job that failed or died since): the
 *    repair is not on record. If the copy is good now, this run records it
 *    and adopts the note (rewrites it to name itself), so that its own
 *    after_commit removes it and a crash before its commit leaves it for
 *    the next run. If the copy is bad again, it is repaired anew, once.
 * A job's effects and its "done" commit together, so exactly one committed
 * transaction records each repair. Two jobs never work on one object at
 * once: each first locks its objects row (SELECT ... FOR UPDATE), as the
 * scan job does. The copy being written is a temporary file named
 * <host>.<pid>.<random>, which the master sweeps when a child dies.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "audit.h"
#include "conf.h"
#include "db.h"
#include "job_hash_payload.h"
#include "jobs.h"
#include "log.h"
#include "pool.h"
#include "store.h"
#include "util.h"

static const char *const hash_root_names[2] = {"primary", "replica"};

/* What one run found and does for one root's copy. */
struct hash_copy {
	enum store_copy found; /* as read back */
	int record; /* a repair of this copy is to be recorded now */
	char was[16]; /* then: "missing" or "mismatch" */
	int noted; /* its root holds a note of this job (after_commit) */
};

struct hash_run {
	struct job_ctx *jc;
	char sha[65];
	enum store_area area;
	int lost; /* lost_at was set */
	struct hash_copy c[2];
	struct store_reader rd;
	int stop_logged;
};

/* ------------------------------------------------------------- notes */

/* Parses a note "job <id> was <missing|mismatch>". 0/-1. */
static int
hash_note_parse(const char *text, uint64_t *job, char was[16])
{
	unsigned long long id;
	char w[16];
	int n = 0;

	if (sscanf(text, "job %llu was %15s%n", &id, w, &n) != 2 ||
	    text[n] != '\0' ||
	    (strcmp(w, "missing") != 0 && strcmp(w, "mismatch") != 0) ||
	    id == 0)
		return -1;
	*job = (uint64_t)id;
	memcpy(was, w, sizeof(w));
	return 0;
}

static void
hash_note_text(char *out, size_t outlen, uint64_t job, const char *was)
{
	str_printf(out, outlen, "job %" PRIu64 " was %s", job, was);
}

/* Whether job id has committed as done: 1 yes, 0 no (or no such row), -1
 * on a database error. A locking read: it sees the latest commit. */
static int
hash_job_done(struct db *db, uint64_t id)
{
	struct db_param p[1] = {DB_INT((long long)id)};
	struct db_res *res;
	const char *state;
	int done;

	res = db_query(
	    db, "SELECT state FROM jobs WHERE id = ? LOCK IN SHARE MODE", p, 1);
	if (res == NULL)
		return -1;
	state = db_res_rows(res) == 1 ? db_res_get(res, 0, 0) : NULL;
	done = state != NULL && strcmp(state, "done") == 0;
	db_res_free(res);
	return done;
}

/*
 * Looks at root r's note, before the copy is read: a note of a job that is
 * done is removed (its repair is on record); a note of any other job marks
 * the copy's repair as unrecorded (c->record, c->was), for hash_decide. 0,
 * or -1 with jc->err set.
 */
static int
hash_note_check(struct hash_run *h, int r)
{
	struct job_ctx *jc = h->jc;
	struct hash_copy *c = &h->c[r];
	char text[STORE_NOTE_MAX];
	uint64_t job;
	int rc;

	rc = store_repair_note_read(jc->store, r, h->sha, text, sizeof(text));
	if (rc == 0)
		return 0;
	if (rc < 0) {
		str_printf(jc->err, sizeof(jc->err),
		    "cannot read the %s root's repair note of %s",
		    hash_root_names[r], h->sha);
		return -1;
	}
	if (hash_note_parse(text, &job, c->was) != 0) {
		/* Not one of ours: it proves nothing. */
		log_warn("removing a malformed repair note of %s in the %s "
			 "root: \"%s\"",
		    h->sha, hash_root_names[r], text);
		(void)store_repair_note_remove(jc->store, r, h->sha);
		return 0;
	}
	if (job != jc->id) {
		if ((rc = hash_job_done(jc->db, job)) < 0) {
			str_printf(jc->err, sizeof(jc->err),
			    "cannot read job %" PRIu64 ": %s", job,
			    db_errstr(jc->db));
			return -1;
		}
		if (rc == 1) {
			log_info("job %" PRIu64 " recorded its repair of the "
				 "%s copy of %s; removing its note",
			    job, hash_root_names[r], h->sha);
			(void)store_repair_note_remove(jc->store, r, h->sha);
			return 0;
		}
	}
	log_warn("the %s copy of %s was replaced by job %" PRIu64
		 " (it was %s) and that is not on record yet",
	    hash_root_names[r], h->sha, job, c->was);
	c->record = 1;
	c->noted = job == jc->id;
	return 0;
}

/* After the commit: removes the notes this job's repairs left, now that
 * they are on record. The payload and the store are still the runner's. */
static void
hash_after_commit(struct job_ctx *jc)
{
	char sha[65], err[128], text[STORE_NOTE_MAX], was[16];
	uint64_t job;
	int r;

	if (jc->store == NULL ||
	    job_hash_payload(jc->payload, sha, err, sizeof(err)) != 0)
		return;
	for (r = 0; r < 2; r++)
		if (store_repair_note_read(
			jc->store, r, sha, text, sizeof(text)) == 1 &&
		    hash_note_parse(text, &job, was) == 0 && job == jc->id)
			(void)store_repair_note_remove(jc->store, r, sha);
}

/* ------------------------------------------------------------ reading */

/* Between blocks: a stop request is only logged; the job goes on. */
static void
hash_tick(void *arg)
{
	struct hash_run *h = arg;

	if (h->stop_logged || h->jc->pool == NULL ||
	    !pool_child_poll(h->jc->pool))
		return;
	h->stop_logged = 1;
	log_info("asked to stop: finishing the %s job %" PRIu64 " of %s first",
	    h->jc->type, h->jc->id, h->sha);
}

/* Locks the objects row; where its copies are and whether it is lost
 * already. 0, or -1 with jc->err. */
static int
hash_lock(struct hash_run *h)
{
	struct job_ctx *jc = h->jc;
	struct db_param p[1] = {DB_STR(h->sha)};
	struct db_res *res;

	res = db_query(jc->db,
	    "SELECT quarantined_at IS NOT NULL, lost_at IS NOT NULL FROM "
	    "objects WHERE sha256 = ? FOR UPDATE",
	    p, 1);
	if (res == NULL) {
		str_printf(jc->err, sizeof(jc->err),
		    "cannot lock the objects row of %s: %s", h->sha,
		    db_errstr(jc->db));
		return -1;
	}
	if (db_res_rows(res) != 1) {
		db_res_free(res);
		str_printf(jc->err, sizeof(jc->err), "no object %s is recorded",
		    h->sha);
		return -1;
	}
	h->area =
	    db_res_int(res, 0, 0) ? STORE_AREA_QUARANTINE : STORE_AREA_OBJECTS;
	h->lost = db_res_int(res, 0, 1) != 0;
	db_res_free(res);
	return 0;
}

/* A copy that is missing where the row says it is, but present in the
 * other area (a scan job moving it, or one that died half-way): nothing
 * is decided. 0, or -1 with jc->err. */
static int
hash_misplaced(struct hash_run *h, int r)
{
	enum store_area other = h->area == STORE_AREA_OBJECTS
	    ? STORE_AREA_QUARANTINE
	    : STORE_AREA_OBJECTS;
	char path[PATH_MAX];

	if (h->c[r].found != STORE_COPY_MISSING)
		return 0;
	if (store_area_path(
		h->jc->store, r, other, h->sha, path, sizeof(path)) != 0 ||
	    access(path, F_OK) != 0)
		return 0;
	str_printf(h->jc->err, sizeof(h->jc->err),
	    "the %s copy of %s is in %s, not where its row says (being "
	    "moved by a scan job?); trying again later",
	    hash_root_names[r], h->sha,
	    other == STORE_AREA_QUARANTINE ? "quarantine/" : "objects/");
	return -1;
}

/* ---------------------------------------------------------- recording */

/* The audit row event (object.repaired, object.lost) of the object, by
 * the system, in the job's transaction. 0/-1. */
static int
hash_audit(struct hash_run *h, const char *event, const char *outcome,
    const char *detail)
{
	char target[80];
	struct audit_event ev = {
	    .actor = "system",
	    .role = "system",
	    .school = NULL,
	    .ip = "",
	    .event = event,
	    .target = target,
	    .outcome = outcome,
	    .detail = detail,
	};

	str_printf(target, sizeof(target), "object:%s", h->sha);
	return audit_append_tx(h->jc->db, &ev);
}

/* The alert store.object_repaired ({"sha256", "root", "was"}) and the
 * audit row object.repaired (the same, with the area and the job) of root
 * r's copy, in the job's transaction. 0/-1. */
static int
hash_record_repair(struct hash_run *h, int r)
{
	struct job_ctx *jc = h->jc;
	struct buf d;
	size_t common;
	int rc = -1;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "sha256", h->sha);
	buf_json_kv(&d, "root", hash_root_names[r]);
	buf_json_kv(&d, "was", h->c[r].was);
	common = d.len;
	buf_putc(&d, '}');
	if (alert_raise_tx(
		jc->db, 0, NULL, "store.object_repaired", "", d.data) == 0) {
		/* The audit row's detail: the same members, and more. */
		d.len = common;
		buf_json_kv(&d, "area",
		    h->area == STORE_AREA_QUARANTINE ? "quarantine"
						     : "objects");
		buf_json_ki(&d, "job", (long long)jc->id);
		buf_putc(&d, '}');
		rc = hash_audit(h, "object.repaired", "success", d.data);
	}
	if (rc != 0)
		str_printf(jc->err, sizeof(jc->err),
		    "cannot record the repair of %s: %s", h->sha,
		    db_errstr(jc->db));
	buf_free(&d);
	return rc;
}

/* Both copies good (some perhaps just repaired): verified now. 0/-1. */
static int
hash_record_verified(struct hash_run *h, int repaired)
{
	struct job_ctx *jc = h->jc;
	struct db_param p[2] = {DB_INT(repaired), DB_STR(h->sha)};

	if (db_exec(jc->db,
		"UPDATE objects SET verified_at = UTC_TIMESTAMP(6), "
		"verify_result = IF(? OR verify_result = 'repaired', "
		"'repaired', 'ok'), lost_at = NULL WHERE sha256 = ?",
		p, 2, NULL, NULL) != 0) {
		str_printf(jc->err, sizeof(jc->err),
		    "cannot record %s as verified: %s", h->sha,
		    db_errstr(jc->db));
		return -1;
	}
	if (h->lost)
		log_warn("object %s was recorded lost, but both copies are "
			 "good again (uploaded anew?)",
		    h->sha);
	return 0;
}

/*
 * No good copy: never verified, the result, lost_at, and — the first time
 * — the alert store.object_lost for each school whose items use the object
 * (one alert with no school when none does) and the audit row object.lost.
 * 0/-1.
 */
static int
hash_record_lost(struct hash_run *h)
{
	struct job_ctx *jc = h->jc;
	const char *result = h->c[0].found == STORE_COPY_MISMATCH ||
		h->c[1].found == STORE_COPY_MISMATCH
	    ? "mismatch"
	    : "missing";
	struct db_param p[2] = {DB_STR(result), DB_STR(h->sha)};
	struct db_res *res = NULL;
	struct buf d;
	size_t i, n;
	int rc = -1;

	if (db_exec(jc->db,
		"UPDATE objects SET verified_at = NULL, verify_result = ?, "
		"lost_at = COALESCE(lost_at, UTC_TIMESTAMP(6)) WHERE "
		"sha256 = ?",
		p, 2, NULL, NULL) != 0)
		goto fail;
	if (h->lost) {
		/* Recorded, alerted and audited when it was found. */
		log_warn("object %s is still lost (%s)", h->sha, result);
		return 0;
	}
	res = db_query(jc->db,
	    "SELECT DISTINCT i.school_id FROM item_files f JOIN items i ON "
	    "i.id = f.item_id AND i.school_id = f.school_id WHERE "
	    "f.sha256 = ? ORDER BY i.school_id",
	    p + 1, 1);
	if (res == NULL)
		goto fail;
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "sha256", h->sha);
	buf_json_kv(&d, "primary", store_copy_name(h->c[0].found));
	buf_json_kv(&d, "replica", store_copy_name(h->c[1].found));
	buf_putc(&d, '}');
	n = db_res_rows(res);
	for (i = 0; i < (n > 0 ? n : 1); i++)
		if (alert_raise_tx(jc->db,
			n > 0 ? (uint64_t)db_res_int(res, i, 0) : 0, NULL,
			"store.object_lost", "", d.data) != 0)
			goto out;
	if (hash_audit(h, "object.lost", "failure", d.data) == 0)
		rc = 0;
	log_error("object %s is lost: the primary copy is %s, the replica "
		  "%s; %zu school%s alerted",
	    h->sha, store_copy_name(h->c[0].found),
	    store_copy_name(h->c[1].found), n > 0 ? n : 1,
	    (n > 0 ? n : 1) == 1 ? "" : "s");
out:
	buf_free(&d);
	db_res_free(res);
	if (rc == 0)
		return 0;
fail:
	str_printf(jc->err, sizeof(jc->err), "cannot record %s as lost: %s",
	    h->sha, db_errstr(jc->db));
	return -1;
}

/* ------------------------------------------------------------ the job */

/* Repairs root bad from the other root, with a note naming this job. 0,
 * or -1 with jc->err. */
static int
hash_repair(struct hash_run *h, int bad)
{
	struct job_ctx *jc = h->jc;
	struct hash_copy *c = &h->c[bad];
	char note[STORE_NOTE_MAX];
	enum store_error e;

	str_printf(c->was, sizeof(c->was), "%s",
	    c->found == STORE_COPY_MISSING ? "missing" : "mismatch");
	hash_note_text(note, sizeof(note), jc->id, c->was);
	e = store_replace_bad_copy(
	    jc->store, !bad, h->area, h->sha, note, &h->rd);
	if (e != STORE_OK) {
		str_printf(jc->err, sizeof(jc->err),
		    "cannot repair the %s copy of %s (%s) from the %s: %s",
		    hash_root_names[bad], h->sha, c->was, hash_root_names[!bad],
		    store_error_name(e));
		return -1;
	}
	c->record = 1;
	c->noted = 1;
	return 0;
}

/* With both copies read: repairs, records. 0 done, -1 with jc->err. */
static int
hash_decide(struct hash_run *h)
{
	struct job_ctx *jc = h->jc;
	char note[STORE_NOTE_MAX];
	int r, good = 0, repaired = 0;

	for (r = 0; r < 2; r++)
		good += h->c[r].found == STORE_COPY_GOOD;
	if (good == 0) {
		/* A copy an earlier job replaced is bad again: its repair no
		 * longer matters, the loss does. */
		for (r = 0; r < 2; r++) {
			if (!h->c[r].record)
				continue;
			log_warn("the %s copy of %s, replaced by an earlier "
				 "job, is bad again; dropping its repair note",
			    hash_root_names[r], h->sha);
			(void)store_repair_note_remove(jc->store, r, h->sha);
		}
		return hash_record_lost(h);
	}
	for (r = 0; r < 2; r++) {
		struct hash_copy *c = &h->c[r];

		if (c->found != STORE_COPY_GOOD) {
			/* Bad (again): whatever a note said, this repair
			 * is the one recorded. */
			if (hash_repair(h, r) != 0)
				return -1;
		} else if (c->record && !c->noted) {
			/* Another job's unrecorded repair: adopted. */
			hash_note_text(note, sizeof(note), jc->id, c->was);
			if (store_repair_note_write(
				jc->store, r, h->sha, note) != 0) {
				str_printf(jc->err, sizeof(jc->err),
				    "cannot adopt the repair note of %s",
				    h->sha);
				return -1;
			}
			c->noted = 1;
		}
	}
	for (r = 0; r < 2; r++) {
		if (!h->c[r].record)
			continue;
		if (hash_record_repair(h, r) != 0)
			return -1;
		repaired = 1;
	}
	if (hash_record_verified(h, repaired) != 0)
		return -1;
	if (h->c[0].noted || h->c[1].noted)
		jc->after_commit = hash_after_commit;
	return 0;
}

static int
hash_run(struct job_ctx *jc)
{
	enum store_copy found[2];
	struct hash_run h;
	int64_t t0 = now_ms();
	int r;

	memset(&h, 0, sizeof(h));
	h.jc = jc;
	if (job_hash_payload(jc->payload, h.sha, jc->err, sizeof(jc->err)) != 0)
		return -1;
	if (jc->store == NULL) {
		str_printf(jc->err, sizeof(jc->err),
		    "the store roots' recorded ids could not be read");
		return -1;
	}
	h.rd.rate = jc->conf->hash_read_rate;
	h.rd.tick = hash_tick;
	h.rd.arg = &h;
	if (hash_lock(&h) != 0)
		return -1;
	for (r = 0; r < 2; r++)
		if (hash_note_check(&h, r) != 0)
			return -1;
	store_copies_verify(jc->store, h.area, h.sha, &h.rd, found);
	for (r = 0; r < 2; r++) {
		h.c[r].found = found[r];
		if (h.c[r].found == STORE_COPY_ERROR) {
			str_printf(jc->err, sizeof(jc->err),
			    "cannot read the %s copy of %s back (see the "
			    "log); nothing was decided",
			    hash_root_names[r], h.sha);
			return -1;
		}
		if (hash_misplaced(&h, r) != 0)
			return -1;
	}
	if (hash_decide(&h) != 0)
		return -1;
	log_info("%s job %" PRIu64 ": %s: primary %s, replica %s; %llu bytes "
		 "read in %lld ms",
	    jc->type, jc->id, h.sha, store_copy_name(h.c[0].found),
	    store_copy_name(h.c[1].found), h.rd.bytes,
	    (long long)(now_ms() - t0));
	return 0;
}

int
job_hash_run(struct job_ctx *jc)
{
	return hash_run(jc);
}

/* A download found the primary copy missing and asked for this: the same
 * work, which repairs whichever copy is bad. */
int
job_repair_run(struct job_ctx *jc)
{
	return hash_run(jc);
}
