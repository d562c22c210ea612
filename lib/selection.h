/*
 * selection: step 4 of the portfolio flow (勾選): for each school year (the
 * ROC year of an item's term) a student ticks the items that will be
 * submitted to the central database. An item may be ticked only when it is
 * eligible — not deleted, every current file verified (ok or repaired),
 * scanned clean, not quarantined and not lost, and a course learning outcome
 * certified (a diverse performance needs no certification) — before the
 * school year's selection deadline (lib/deadlines.h), while it is not
 * submitted, and while the student has ticked fewer than selection.
 * course_max course learning outcomes (selection.diverse_max diverse
 * performances) of that school year. The tick is items.selected_at.
 *
 * Every query is scoped by the school and the student. The server enforces
 * every rule in the tick's own transaction, whatever the page offered: the
 * student's row is locked first, so that two ticks of the same student
 * (two tabs, a crafted request) are counted one after the other and never
 * both pass the cap. It never changes anything of an item but selected_at.
 */
#ifndef LICHENG_SELECTION_H
#define LICHENG_SELECTION_H

#include <stddef.h>
#include <stdint.h>

#include "deadlines.h"
#include "ids.h"
#include "items.h"

struct db;

/* Why an item cannot be ticked (SEL_ELIGIBLE when it can), from the state
 * the student sees. */
enum selection_why {
	SEL_ELIGIBLE,
	SEL_WHY_CHECKING, /* a file not yet verified and scanned */
	SEL_WHY_PENDING, /* a course outcome waiting for certification */
	SEL_WHY_REJECTED, /* a course outcome not certified */
	SEL_WHY_QUARANTINED,
	SEL_WHY_LOST,
	SEL_WHY__MAX
};

/* "eligible", "checking", "pending", "rejected", "quarantined", "lost"
 * (message keys selection.why.<name>). */
const char *selection_why_name(enum selection_why w);
/* Whether an item in state st may be ticked. */
enum selection_why selection_eligible(enum item_state st);

/* The school year (ROC) of a Taiwan date "YYYY-MM-DD": 114 from 2025-08-01
 * to 2026-07-31. -1 when date is not such a date. */
int selection_school_year(const char *date);

/* The school year to show first among years (n > 0, newest first, no
 * repeats): current when it is there, else the newest before it, else the
 * oldest (the nearest of the years to come). */
int selection_pick_year(const int *years, size_t n, int current);

/* The rules of configuration: selection.course_max, selection.diverse_max
 * (by enum item_kind) and selection.deadline ("MM-DD"). */
struct selection_rules {
	int max[ITEM_KIND__MAX];
	const char *deadline_md;
};

/* One school year of the student's items. */
struct selection_year {
	int year;
	unsigned ticked[ITEM_KIND__MAX];
	int max[ITEM_KIND__MAX];
	struct deadline deadline;
};

/* One item of the student, as selection sees it. */
struct selection_mark {
	uint64_t item_id;
	int year;
	enum item_kind kind;
	enum selection_why why;
	int ticked;
	int notice; /* an unread certification result (items.cert_notice) */
	char cert_at[32]; /* the result's time as stored ("" for none) */
};

struct selection {
	struct selection_year *years; /* newest first */
	size_t nyears;
	struct selection_mark *marks; /* in the order of the item list */
	size_t nmarks;
};

/* The marks of the items of l (items_list of the same student) and the
 * school years they fall in, with counts and deadlines. 0/-1. */
int selection_load(struct db *db, uint64_t school_id, uint64_t student_id,
    const struct item_list *l, const struct selection_rules *rules,
    struct selection *out);
void selection_free(struct selection *s);
/* The mark of an item id, or NULL. */
const struct selection_mark *
selection_mark_of(const struct selection *s, uint64_t item_id);
/* The school year year, or NULL. */
const struct selection_year *
selection_year_of(const struct selection *s, int year);

/* Clears the unread results the student has just been shown: each marked
 * item whose result is still the one shown (same cert_at), so that a
 * decision taken meanwhile stays unread. Its own transaction. 0/-1. */
int selection_notices_seen(struct db *db, uint64_t school_id,
    uint64_t student_id, const struct selection *s);

enum selection_result {
	SEL_DONE, /* ticked, or unticked */
	SEL_UNCHANGED, /* it was so already: nothing written */
	SEL_NOT_FOUND, /* unknown, another school's or student's, deleted */
	SEL_SUBMITTED, /* submitted: never changes */
	SEL_DEADLINE, /* the school year's selection deadline has passed */
	SEL_INELIGIBLE, /* (tick) not eligible: out->why */
	SEL_CAP, /* (tick) out->max of its kind ticked already */
	SEL_ERROR /* database error */
};

/* What a tick or untick did, or why not. */
struct selection_outcome {
	enum selection_result result;
	enum items_found found; /* SEL_NOT_FOUND: why (for the audit only) */
	enum selection_why why;
	enum item_kind kind;
	int year;
	unsigned ticked; /* of its kind and year, after the change */
	int max;
	char deadline[WINDOW_DATE_LEN + 1];
	char public_id[IDS_PUBLIC_LEN + 1];
	char term[ITEMS_TERM_LEN + 1];
	char *title; /* course "C101 國文" or the category code; free
		      * with selection_outcome_free */
};
void selection_outcome_free(struct selection_outcome *o);

/*
 * Ticks (tick 1) or unticks (0) the student's item public_id inside the
 * caller's open transaction (db_begin; the caller appends the audit row
 * item.ticked / item.unticked and commits when SEL_DONE, and rolls back
 * otherwise). It locks the student's row, then the item's, and checks in
 * this order: the item is the student's and not deleted, not submitted,
 * the deadline, then (tick) eligibility and the cap. An untick needs no
 * eligibility: an item that became ineligible stays untickable.
 */
enum selection_result selection_set_tx(struct db *db, uint64_t school_id,
    uint64_t student_id, const char *public_id, int tick,
    const struct selection_rules *rules, struct selection_outcome *out);

#endif
