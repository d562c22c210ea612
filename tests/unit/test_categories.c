/*
 * test_categories: lib/categories.c on the shipped Ministry list and on
 * broken files (each mistake reported at its line and column), and
 * lib/windows.c's date arithmetic (leap years, month ends, refusals).
 * Needs no servers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness.h"
#include "categories.h"
#include "windows.h"

static char tmpdir[] = "/tmp/test_categories.XXXXXX";

/* Loads text as a categories file; returns the error ("" when it loaded). */
static const char *
load_text(const char *text)
{
	static char err[512];
	char path[256];
	struct categories *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/c.yaml", tmpdir);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		snprintf(err, sizeof(err), "cannot write %s", path);
		return err;
	}
	c = categories_load(path, err, sizeof(err));
	if (c != NULL) {
		categories_free(c);
		err[0] = '\0';
	}
	/* The path prefix is the same for all: return what follows it. */
	return strncmp(err, path, strlen(path)) == 0 ? err + strlen(path) : err;
}

static void
test_shipped(void)
{
	const char *src = getenv("LICHENG_SRCDIR");
	const struct category_choice *ch;
	struct categories *c;
	char path[512], err[512];

	snprintf(path, sizeof(path), "%s/conf/categories.yaml",
	    src != NULL ? src : ".");
	c = categories_load(path, err, sizeof(err));
	CHECK_MSG(c != NULL, "%s", err);
	if (c == NULL)
		return;
	/* Five categories chosen themselves, six kinds of 多元能力. */
	CHECK(categories_count(c) == 11);
	ch = categories_find(c, "cadre");
	CHECK(ch != NULL && strcmp(ch->zh, "幹部經歷") == 0 &&
	    strcmp(ch->group_zh, "幹部經歷") == 0);
	ch = categories_find(c, "ability.volunteer");
	CHECK(ch != NULL && strcmp(ch->zh, "志工服務") == 0 &&
	    strcmp(ch->group_zh, "多元能力") == 0 &&
	    strcmp(ch->en, "Volunteer service") == 0);
	CHECK(categories_find(c, "ability.other") != NULL);
	CHECK(categories_find(c, "works") != NULL);
	CHECK(categories_find(c, "certificate") != NULL);
	CHECK(categories_find(c, "distinction") != NULL);
	CHECK(categories_find(c, "competition") != NULL);
	/* A category with kinds is chosen through them only. */
	CHECK(categories_find(c, "ability") == NULL);
	CHECK(categories_find(c, "volunteer") == NULL);
	CHECK(strcmp(categories_at(c, 0)->code, "cadre") == 0);
	CHECK(categories_at(c, 11) == NULL);
	categories_free(c);
}

static void
test_errors(void)
{
	const char *e;

	CHECK(strcmp(load_text("- code: a\n  zh-TW: 甲\n  en: A\n"), "") == 0);
	e = load_text("");
	CHECK_MSG(strstr(e, "empty") != NULL, "%s", e);
	e = load_text("code: a\n");
	CHECK_MSG(strncmp(e, ":1:1: expected a list", 21) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: 甲\n");
	CHECK_MSG(strncmp(e, ":1:3: missing en", 16) == 0, "%s", e);
	e = load_text("- code: A\n  zh-TW: 甲\n  en: A\n");
	CHECK_MSG(strncmp(e, ":1:9: code: expected", 20) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: \"\"\n  en: A\n");
	CHECK_MSG(
	    strncmp(e, ":2:10: zh-TW: expected a name", 29) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: 甲\n  en: A\n  kinds: []\n");
	CHECK_MSG(
	    strncmp(e, ":4:10: kinds: expected a non-empty", 34) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: 甲\n  en: A\n  kinds:\n"
		      "    - code: b\n      zh-TW: 乙\n      en: B\n"
		      "      kinds: []\n");
	CHECK_MSG(strncmp(e, ":8:7: unknown key \"kinds\"", 25) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: 甲\n  en: A\n  en: B\n");
	CHECK_MSG(strncmp(e, ":4:3: \"en\" is given twice", 25) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: [x]\n  en: A\n");
	CHECK_MSG(strncmp(e, ":2:10: zh-TW: expected text", 27) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: 甲\n  en: A\n- [\n");
	CHECK_MSG(strncmp(e, ":5:1: ", 6) == 0, "%s", e);
	e = load_text("- code: a\n  zh-TW: 甲\n  en: A\n  kinds:\n"
		      "    - code: b\n      zh-TW: 乙\n      en: B\n"
		      "- code: a_b\n  zh-TW: 丙\n  en: C\n");
	CHECK_MSG(strcmp(e, "") == 0, "%s", e);
}

static void
test_dates(void)
{
	char out[WINDOW_DATE_LEN + 1];

	CHECK(windows_add_days("2026-01-31", 14, out) == 0 &&
	    strcmp(out, "2026-02-14") == 0);
	CHECK(windows_add_days("2024-02-28", 1, out) == 0 &&
	    strcmp(out, "2024-02-29") == 0);
	CHECK(windows_add_days("2025-02-28", 1, out) == 0 &&
	    strcmp(out, "2025-03-01") == 0);
	CHECK(windows_add_days("2026-12-25", 14, out) == 0 &&
	    strcmp(out, "2027-01-08") == 0);
	CHECK(windows_add_days("2026-03-01", -1, out) == 0 &&
	    strcmp(out, "2026-02-28") == 0);
	CHECK(windows_add_days("2026-06-30", 0, out) == 0 &&
	    strcmp(out, "2026-06-30") == 0);
	CHECK(windows_add_days("2026-02-30", 1, out) == -1);
	CHECK(windows_add_days("2026-13-01", 1, out) == -1);
	CHECK(windows_add_days("2026-1-01", 1, out) == -1);
	CHECK(windows_add_days("2026-01-01x", 1, out) == -1);
	CHECK(windows_add_days("", 1, out) == -1);
	windows_today(out);
	CHECK(strlen(out) == WINDOW_DATE_LEN && out[4] == '-' && out[7] == '-');
}

int
main(void)
{
	char path[256];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_shipped();
	test_errors();
	test_dates();
	snprintf(path, sizeof(path), "%s/c.yaml", tmpdir);
	(void)unlink(path);
	(void)rmdir(tmpdir);
	return harness_done();
}
