/*
 * test_items: the parts of lib/items.c that need no database — the state a
 * student sees from the objects' checks and the certification, an object's
 * check from its row, the type a file name's extension names, the names of
 * kinds, slots, certifications and states, and the term labels. Needs no
 * servers.
 */
#include <string.h>

#include "../harness.h"
#include "items.h"
#include "util.h"

static void
test_check(void)
{
	const char *t = "2026-01-01 00:00:00.000000";

	/* Nothing known yet: a new upload. */
	CHECK(items_check(NULL, NULL, NULL, NULL, NULL) == ITEM_CHECK_WAITING);
	/* Verified but not scanned, scanned but not verified. */
	CHECK(items_check(t, "ok", NULL, NULL, NULL) == ITEM_CHECK_WAITING);
	CHECK(items_check(NULL, NULL, "clean", NULL, NULL) ==
	    ITEM_CHECK_WAITING);
	CHECK(items_check(t, "ok", "clean", NULL, NULL) == ITEM_CHECK_CLEAN);
	CHECK(items_check(t, "repaired", "clean", NULL, NULL) ==
	    ITEM_CHECK_CLEAN);
	/* No good copy left: lost, whether from lost_at or the result. */
	CHECK(items_check(NULL, "mismatch", "clean", NULL, NULL) ==
	    ITEM_CHECK_LOST);
	CHECK(items_check(NULL, "missing", NULL, NULL, NULL) ==
	    ITEM_CHECK_LOST);
	CHECK(items_check(NULL, "mismatch", NULL, NULL, t) == ITEM_CHECK_LOST);
	CHECK(items_check(t, "ok", "clean", NULL, t) == ITEM_CHECK_LOST);
	/* Not verified yet is not lost. */
	CHECK(items_check(t, NULL, "clean", NULL, NULL) == ITEM_CHECK_WAITING);
	/* Infected or quarantined wins over everything, lost too. */
	CHECK(items_check(NULL, "missing", "infected", NULL, t) ==
	    ITEM_CHECK_QUARANTINED);
	CHECK(items_check(NULL, "mismatch", NULL, t, t) ==
	    ITEM_CHECK_QUARANTINED);
	CHECK(items_check(t, "ok", "infected", NULL, NULL) ==
	    ITEM_CHECK_QUARANTINED);
	CHECK(items_check(NULL, NULL, NULL, t, NULL) == ITEM_CHECK_QUARANTINED);
	CHECK(items_check(t, "ok", "clean", t, NULL) == ITEM_CHECK_QUARANTINED);
}

static void
test_state(void)
{
	enum item_check clean2[2] = {ITEM_CHECK_CLEAN, ITEM_CHECK_CLEAN};
	enum item_check waiting[2] = {ITEM_CHECK_CLEAN, ITEM_CHECK_WAITING};
	enum item_check quar[2] = {ITEM_CHECK_WAITING, ITEM_CHECK_QUARANTINED};
	enum item_check lost[2] = {ITEM_CHECK_CLEAN, ITEM_CHECK_LOST};
	enum item_check lost_waiting[2] = {ITEM_CHECK_LOST, ITEM_CHECK_WAITING};
	enum item_check lost_quar[2] = {
	    ITEM_CHECK_LOST, ITEM_CHECK_QUARANTINED};

	/* Every new upload is being checked, whatever its certification. */
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_PENDING, waiting, 2) ==
	    ITEM_ST_CHECKING);
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_CERTIFIED, waiting, 2) ==
	    ITEM_ST_CHECKING);
	CHECK(items_state(ITEM_DIVERSE, ITEM_CERT_NONE, waiting + 1, 1) ==
	    ITEM_ST_CHECKING);
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_PENDING, NULL, 0) ==
	    ITEM_ST_CHECKING);
	/* Quarantine comes first. */
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_CERTIFIED, quar, 2) ==
	    ITEM_ST_QUARANTINED);
	CHECK(items_state(ITEM_DIVERSE, ITEM_CERT_NONE, quar + 1, 1) ==
	    ITEM_ST_QUARANTINED);
	/* Then a lost file, whatever the others and the certification. */
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_CERTIFIED, lost, 2) ==
	    ITEM_ST_LOST);
	CHECK(items_state(ITEM_DIVERSE, ITEM_CERT_NONE, lost + 1, 1) ==
	    ITEM_ST_LOST);
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_PENDING, lost_waiting, 2) ==
	    ITEM_ST_LOST);
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_PENDING, lost_quar, 2) ==
	    ITEM_ST_QUARANTINED);
	/* Then the certification. */
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_PENDING, clean2, 2) ==
	    ITEM_ST_PENDING);
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_CERTIFIED, clean2, 2) ==
	    ITEM_ST_CERTIFIED);
	CHECK(items_state(ITEM_COURSE, ITEM_CERT_REJECTED, clean2, 1) ==
	    ITEM_ST_REJECTED);
	CHECK(items_state(ITEM_DIVERSE, ITEM_CERT_NONE, clean2, 2) ==
	    ITEM_ST_NO_CERT);
}

static void
test_name_type(void)
{
	static const struct {
		const char *name;
		enum sniff_type t;
	} cases[] = {
	    {"report.pdf", SNIFF_PDF},
	    {"REPORT.PDF", SNIFF_PDF},
	    {"photo.jpg", SNIFF_JPEG},
	    {"photo.JPEG", SNIFF_JPEG},
	    {"photo.jpe", SNIFF_JPEG},
	    {"scan.png", SNIFF_PNG},
	    {"clip.mp4", SNIFF_MP4},
	    {"clip.m4v", SNIFF_MP4},
	    {"voice.m4a", SNIFF_MP4},
	    {"song.mp3", SNIFF_MP3},
	    {"archive.tar.pdf", SNIFF_PDF},
	    /* No extension, an unknown one, or none that is one. */
	    {"scan", SNIFF_UNKNOWN},
	    {"notes.txt", SNIFF_UNKNOWN},
	    {"photo.gif", SNIFF_UNKNOWN},
	    {".pdf", SNIFF_UNKNOWN},
	    {"a.pdf/readme", SNIFF_UNKNOWN},
	    {"dir.png\\file", SNIFF_UNKNOWN},
	    {"trailing.", SNIFF_UNKNOWN},
	    {"", SNIFF_UNKNOWN},
	    {"名單.pdf", SNIFF_PDF},
	    {"x.pdf.exe", SNIFF_UNKNOWN},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_MSG(items_name_type(cases[i].name) == cases[i].t, "%s",
		    cases[i].name);
}

static void
test_names(void)
{
	char label[ITEMS_TERM_LEN + 1];
	int i;

	for (i = 0; i < ITEM_KIND__MAX; i++)
		CHECK(items_kind_parse(items_kind_name((enum item_kind)i)) == i);
	for (i = 0; i < ITEM_SLOT__MAX; i++)
		CHECK(items_slot_parse(items_slot_name((enum item_slot)i)) == i);
	for (i = 0; i < ITEM_CERT__MAX; i++)
		CHECK(items_cert_parse(items_cert_name((enum item_cert)i)) == i);
	/* The column values of the schema. */
	CHECK(strcmp(items_kind_name(ITEM_COURSE), "course") == 0);
	CHECK(strcmp(items_kind_name(ITEM_DIVERSE), "diverse") == 0);
	CHECK(strcmp(items_slot_name(ITEM_VIDEO), "video") == 0);
	CHECK(strcmp(items_cert_name(ITEM_CERT_CERTIFIED), "certified") == 0);
	CHECK(strcmp(items_state_name(ITEM_ST_CHECKING), "checking") == 0);
	CHECK(strcmp(items_state_name(ITEM_ST_NO_CERT), "no_cert") == 0);
	CHECK(strcmp(items_state_name(ITEM_ST_LOST), "lost") == 0);
	CHECK(items_kind_parse("Course") == -1);
	CHECK(items_slot_parse("file") == -1);
	CHECK(items_cert_parse(NULL) == -1);
	CHECK(strcmp(items_kind_name(ITEM_KIND__MAX), "") == 0);
	items_term_label(114, 1, label);
	CHECK(strcmp(label, "114-1") == 0);
	items_term_label(99, 2, label);
	CHECK(strcmp(label, "99-2") == 0);
}

int
main(void)
{
	test_check();
	test_state();
	test_name_type();
	test_names();
	return harness_done();
}
