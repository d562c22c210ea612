/*
 * items: the students' items — course learning outcomes (課程學習成果, for
 * one of their enrolled courses) and diverse performances (多元表現, in a
 * category) — and every version of their files. It reads a student's items
 * with the state the student sees, the terms and courses they may upload
 * to, and records uploads, changes and deletions inside the caller's
 * transaction together with the hash and scan jobs of every new file (the
 * outbox of DESIGN.md "Jobs"). Every query is scoped by the school and the
 * student. It never deletes an object, an item or a file row (deleting an
 * item sets deleted_at and keeps them, since another item may use the same
 * object), never changes a submitted item, and takes a file's original
 * name as data only.
 */
#ifndef LICHENG_ITEMS_H
#define LICHENG_ITEMS_H

#include <stddef.h>
#include <stdint.h>

#include "ids.h"
#include "sniff.h"
#include "windows.h"

struct db;
struct kv;

enum item_kind { ITEM_COURSE, ITEM_DIVERSE, ITEM_KIND__MAX };
/* A file's slot: the document (PDF, JPEG, PNG) or the video or audio file
 * (MP4, MP3). */
enum item_slot { ITEM_DOC, ITEM_VIDEO, ITEM_SLOT__MAX };
/* items.cert_state. */
enum item_cert {
	ITEM_CERT_NONE, /* a diverse performance: 不須認證 */
	ITEM_CERT_PENDING,
	ITEM_CERT_CERTIFIED,
	ITEM_CERT_REJECTED,
	ITEM_CERT__MAX
};
/* Where an object stands in the checks that follow an upload. */
enum item_check {
	ITEM_CHECK_WAITING, /* not yet read back and verified, or not scanned */
	ITEM_CHECK_CLEAN, /* verified (ok or repaired) and scanned clean */
	ITEM_CHECK_QUARANTINED, /* infected, or moved to quarantine */
	ITEM_CHECK_LOST, /* no good copy left (objects.lost_at) */
	ITEM_CHECK__MAX
};
/* The state a student sees. */
enum item_state {
	ITEM_ST_QUARANTINED, /* 已隔離 */
	ITEM_ST_CHECKING, /* 檢查中 */
	ITEM_ST_PENDING, /* 待認證 */
	ITEM_ST_CERTIFIED, /* 認證通過 */
	ITEM_ST_REJECTED, /* 認證未通過 (with the reason) */
	ITEM_ST_NO_CERT, /* 不須認證 */
	ITEM_ST_LOST, /* 檔案遺失: upload the same file again */
	ITEM_ST__MAX
};

/* "course", "diverse"; "doc", "video"; "none", "pending", "certified",
 * "rejected" (the columns' values); "quarantined", "checking", "pending",
 * "certified", "rejected", "no_cert", "lost" (message keys
 * items.state.<name>). */
const char *items_kind_name(enum item_kind k);
const char *items_slot_name(enum item_slot s);
const char *items_cert_name(enum item_cert c);
const char *items_state_name(enum item_state s);
/* The value of a name above, or -1. */
int items_kind_parse(const char *s);
int items_slot_parse(const char *s);
int items_cert_parse(const char *s);

/* An object's check from its objects row: verified_at and verify_result,
 * scan_result, quarantined_at and lost_at (NULL for SQL NULL). Lost when
 * lost_at is set or the read-back found no good copy (verify_result
 * mismatch or missing). */
enum item_check items_check(const char *verified_at, const char *verify_result,
    const char *scan_result, const char *quarantined_at, const char *lost_at);
/* The state of an item of kind with cert_state cert whose current files'
 * objects stand at checks[0..n-1]: quarantined when any is, lost when any
 * is, checking while any is waiting, then the certification (or 不須認證
 * for a diverse performance). */
enum item_state items_state(enum item_kind kind, enum item_cert cert,
    const enum item_check *checks, size_t n);

/* The type a file name's extension names (pdf; jpg, jpeg, jpe; png; mp4,
 * m4v, m4a; mp3; in any case), SNIFF_UNKNOWN when it has none or another.
 * Only to refuse a file whose name says another type than its content. */
enum sniff_type items_name_type(const char *name);

/* "114-1": the school-year label of a term. */
#define ITEMS_TERM_LEN 15
void items_term_label(long year, long semester, char out[ITEMS_TERM_LEN + 1]);

/* Times are Taiwan time, "YYYY-MM-DD HH:MM" ("" when none). */
#define ITEMS_TIME_LEN 16

struct item_file {
	char public_id[IDS_PUBLIC_LEN + 1];
	enum item_slot slot;
	unsigned version; /* the item's version that added it */
	char sha256[65];
	unsigned long long size;
	enum sniff_type type; /* from the recorded (detected) mime type */
	char *name; /* the original name: data, never a path */
	char uploaded_at[ITEMS_TIME_LEN + 1];
	char replaced_at[ITEMS_TIME_LEN + 1]; /* "" for a current file */
	enum item_check check;
};

struct item {
	uint64_t id;
	char public_id[IDS_PUBLIC_LEN + 1];
	uint64_t school_id, student_id;
	uint64_t term_id;
	char term[ITEMS_TERM_LEN + 1];
	enum item_kind kind;
	uint64_t course_id; /* 0 for a diverse performance */
	char course_public_id[IDS_PUBLIC_LEN + 1]; /* "" likewise */
	char *course_code, *course_name; /* "" likewise */
	char *category; /* "" for a course outcome */
	char *description;
	enum item_cert cert;
	char cert_at[ITEMS_TIME_LEN + 1];
	char *cert_reason; /* "" when none */
	int submitted;
	unsigned version;
	char created_at[ITEMS_TIME_LEN + 1];
	char updated_at[ITEMS_TIME_LEN + 1];
	/* items_list: the current files; items_find: every version, current
	 * ones first, by slot, newest version first. */
	struct item_file *files;
	size_t nfiles;
	enum item_state state; /* from the current files */
};

struct item_list {
	struct item *v;
	size_t n;
};

/* The students row of the signed-in user (students.user_id) in the
 * school: 1 with its id, 0 when the user has none, -1 on a database
 * error. */
int items_student(
    struct db *db, uint64_t school_id, uint64_t user_id, uint64_t *student_id);

/* The student's items that are not deleted, with their current files,
 * newest term first, then by kind, newest first. 0/-1. */
int items_list(struct db *db, uint64_t school_id, uint64_t student_id,
    struct item_list *out);
void items_list_free(struct item_list *l);

enum items_found {
	ITEMS_FOUND,
	ITEMS_UNKNOWN, /* no such public id */
	ITEMS_OTHER_SCHOOL,
	ITEMS_OTHER_STUDENT,
	ITEMS_DELETED,
	ITEMS_FIND_ERROR /* database error */
};
/* The item public_id with every version of its files, when it is the
 * student's and not deleted (ITEMS_FOUND; free it with items_free). Any
 * other answer says why not, for the refusal's audit row only: the user
 * must get the same answer for each. */
enum items_found items_find(struct db *db, uint64_t school_id,
    uint64_t student_id, const char *public_id, struct item *it);
/* The same for an item of any student of the school (a teacher's view:
 * the caller decides who may see it); never ITEMS_OTHER_STUDENT. */
enum items_found items_find_in_school(
    struct db *db, uint64_t school_id, const char *public_id, struct item *it);
void items_free(struct item *it);

/* A course the student is enrolled in. */
struct items_course {
	uint64_t id;
	uint64_t term_id;
	char public_id[IDS_PUBLIC_LEN + 1];
	char term[ITEMS_TERM_LEN + 1];
	char *code;
	char *name;
};
/* The student's enrolled courses, newest term first, by code. 0/-1. */
int items_courses(struct db *db, uint64_t school_id, uint64_t student_id,
    struct items_course **v, size_t *n);
void items_courses_free(struct items_course *v, size_t n);
/* The enrolled course of that public id: 1 with its id and term, 0 when
 * there is none the student is enrolled in (in their school), -1 on a
 * database error. */
int items_enrolled(struct db *db, uint64_t school_id, uint64_t student_id,
    const char *course_public_id, uint64_t *course_id, uint64_t *term_id);

/* A term with its upload window as of today. */
struct items_term {
	uint64_t id;
	char label[ITEMS_TERM_LEN + 1];
	struct window w;
};
/* The school's terms the student has courses or items in, and those whose
 * window is open today, newest first, each with its window. 0/-1. */
int items_terms(struct db *db, uint64_t school_id, uint64_t student_id,
    int window_days, struct items_term **v, size_t *n);
/* Where a diverse performance goes: the newest term of the school whose
 * window is open today. 1 found, 0 none, -1 on a database error. */
int items_open_term(
    struct db *db, uint64_t school_id, int window_days, struct items_term *t);
/* The window of one term of the school: 1, 0 no such term, -1. */
int items_term_window(struct db *db, uint64_t school_id, uint64_t term_id,
    int window_days, struct items_term *t);

/*
 * Writing. Each _tx function runs inside the caller's open transaction
 * (db_begin), so that the change, its audit row and its jobs commit
 * together; the caller publishes the jobs after the commit
 * (items_publish).
 */

/* A file whose object is already in both store roots. */
struct item_upload {
	enum item_slot slot;
	char sha256[65];
	unsigned long long size;
	enum sniff_type type; /* detected from its bytes */
	const char *name; /* the original name, as data */
};

/* The jobs enqueued: a hash and a scan job per file. */
struct item_jobs {
	uint64_t id[2 * ITEM_SLOT__MAX];
	const char *type[2 * ITEM_SLOT__MAX];
	size_t n;
};

struct item_new {
	enum item_kind kind;
	uint64_t term_id;
	uint64_t course_id; /* ITEM_COURSE */
	const char *category; /* ITEM_DIVERSE: a categories code */
	const char *description;
};

/* Records a new item of the student (uploaded by user_id) with its files:
 * the objects rows (INSERT IGNORE: an object may exist already), the
 * items row (a course outcome starts pending, a diverse performance
 * needs no certification), its item_files rows (version 1) and the jobs.
 * Its public id into public_id. 0/-1. */
int items_create_tx(struct db *db, uint64_t school_id, uint64_t student_id,
    uint64_t user_id, const struct item_new *n, const struct item_upload *files,
    size_t nfiles, char public_id[IDS_PUBLIC_LEN + 1], struct item_jobs *jobs);

enum items_change {
	ITEMS_CHANGED,
	ITEMS_GONE, /* deleted meanwhile */
	ITEMS_SUBMITTED, /* submitted: nothing changes */
	ITEMS_NEEDS_CONFIRM, /* certified, and the change was not confirmed */
	ITEMS_CHANGE_ERROR /* database error */
};

/* Changes the item it (as read by items_find): each file of files replaces
 * the current one of its slot (which gets replaced_at) or fills an empty
 * slot, with a new row of the item's next version; description, when not
 * NULL, replaces the description. The item row is locked and checked
 * again first: a submitted item is never changed, a certified one only
 * when confirmed, and either way a certification or a rejection is
 * dropped back to pending (*cert_was tells what it was, for the audit
 * row item.certification_removed): the decision stays as history with
 * superseded_at set, items.cert_id goes, the student's unread result
 * (cert_notice) goes, and so does the tick (selected_at: the item is no
 * longer eligible; *unticked says whether there was one). */
enum items_change items_change_tx(struct db *db, const struct item *it,
    uint64_t user_id, const char *description, const struct item_upload *files,
    size_t nfiles, int confirmed, enum item_cert *cert_was, int *unticked,
    struct item_jobs *jobs);
/* Deletes the item it softly (deleted_at; its files and objects stay),
 * under the same rules; a certification is dropped too, as above (a
 * rejection stays on record), and the tick always goes (*unticked). */
enum items_change items_delete_tx(struct db *db, const struct item *it,
    int confirmed, enum item_cert *cert_was, int *unticked);

/* Publishes the jobs after the commit and records it in their rows, on db
 * outside any transaction (a job that Redis does not take is published
 * later by the reconciler). */
void items_publish(struct kv *kv, struct db *db, const struct item_jobs *jobs);

#endif
