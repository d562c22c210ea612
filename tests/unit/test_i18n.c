/*
 * test_i18n: the shipped catalogues load and are complete, look-ups fall
 * back zh-TW -> en -> key, broken catalogues are refused with file:line:column,
 * and the language is picked from the cookie and Accept-Language. The
 * shipped files are read from $LICHENG_SRCDIR (default ".").
 */
#include "../harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/i18n.h"
#include "util.h"

static char test_dir[64];

static int
test_write(const char *name, const char *text)
{
	char path[256];
	FILE *f;
	size_t n = strlen(text);
	int len;

	len = snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	if (len < 0 || (size_t)len >= sizeof(path))
		return -1;
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	if (fwrite(text, 1, n, f) != n) {
		(void)fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void
test_unlink(const char *name)
{
	char path[256];
	int len;

	len = snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	if (len > 0 && (size_t)len < sizeof(path))
		(void)unlink(path);
}

/* 1 when the pair fails to load with an error containing want. */
static int
test_refused(const char *zh, const char *en, const char *want)
{
	char err[I18N_ERR_MAX];
	struct i18n *m;

	if (test_write("zh-TW.yaml", zh) == -1 ||
	    test_write("en.yaml", en) == -1)
		return 0;
	if ((m = i18n_load(test_dir, err, sizeof(err))) != NULL) {
		i18n_free(m);
		fprintf(stderr, "loaded, expected [%s]\n", want);
		return 0;
	}
	if (strstr(err, want) == NULL || strstr(err, test_dir) == NULL) {
		fprintf(stderr, "error [%s]\nwant [%s]\n", err, want);
		return 0;
	}
	return 1;
}

static void
test_shipped(void)
{
	static const char *const keys[] = {"meta.lang", "app.name",
	    "layout.skip", "layout.footer", "error.home", "error.status",
	    "action.sign_in", "login.password"};
	static const int statuses[] = {400, 401, 403, 404, 405, 408, 413, 415,
	    422, 429, 500, 502, 503, 504};
	char err[I18N_ERR_MAX], path[512], key[64];
	const char *src = getenv("LICHENG_SRCDIR");
	struct i18n *m;
	size_t i;
	int ok = 1;

	if (src == NULL)
		src = ".";
	CHECK(snprintf(path, sizeof(path), "%s/conf/messages", src) > 0);
	m = i18n_load(path, err, sizeof(err));
	CHECK_MSG(m != NULL, "%s", err);
	if (m == NULL)
		return;
	CHECK(i18n_count(m) > 50);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!i18n_has(m, keys[i]))
			ok = 0;
	for (i = 0; i < ARRAY_SIZE(statuses); i++) {
		if (snprintf(key, sizeof(key), "error.%d.title", statuses[i]) <=
			0 ||
		    !i18n_has(m, key))
			ok = 0;
		if (snprintf(key, sizeof(key), "error.%d.text", statuses[i]) <=
			0 ||
		    !i18n_has(m, key))
			ok = 0;
		if (strcmp(i18n_get(m, "zh-TW", key), i18n_get(m, "en", key)) ==
		    0)
			ok = 0;
	}
	CHECK(ok);
	CHECK(strcmp(i18n_get(m, "zh-TW", "meta.lang"), "zh-TW") == 0);
	CHECK(strcmp(i18n_get(m, "en", "meta.lang"), "en") == 0);
	CHECK(strcmp(i18n_get(m, "en", "action.save"), "Save") == 0);
	CHECK(strcmp(i18n_get(m, "zh-TW", "action.save"), "儲存") == 0);
	/* Fallbacks: other languages get zh-TW, unknown keys themselves. */
	CHECK(strcmp(i18n_get(m, "fr", "action.save"), "儲存") == 0);
	CHECK(strcmp(i18n_get(m, NULL, "action.save"), "儲存") == 0);
	CHECK(strcmp(i18n_get(m, "en", "no.such.key"), "no.such.key") == 0);
	CHECK(strcmp(i18n_get(NULL, "en", "action.save"), "action.save") == 0);
	CHECK(!i18n_has(m, "action"));
	i18n_free(m);
	i18n_free(NULL);
}

static void
test_broken(void)
{
	char err[I18N_ERR_MAX];
	struct i18n *m;

	CHECK(test_write("zh-TW.yaml", "a:\n  b: 甲\n  c: 乙\n\"404\": 丙\n") ==
	    0);
	CHECK(test_write("en.yaml", "a: {b: A, c: C}\n\"404\": D\n") == 0);
	m = i18n_load(test_dir, err, sizeof(err));
	CHECK_MSG(m != NULL, "%s", err);
	CHECK(i18n_count(m) == 3);
	CHECK(strcmp(i18n_get(m, "en", "a.c"), "C") == 0);
	CHECK(strcmp(i18n_get(m, "zh-TW", "404"), "丙") == 0);
	i18n_free(m);

	CHECK(test_refused("a:\n  b: 甲\n  c: 乙\n", "a:\n  b: A\n",
	    "zh-TW.yaml:3:3: key \"a.c\" is missing from"));
	CHECK(test_refused("a:\n  b: 甲\n", "a:\n  b: A\nz: Z\n",
	    "en.yaml:3:1: key \"z\" is missing from"));
	CHECK(test_refused("a: 甲\nb: 乙\na: 丙\n", "a: A\nb: B\n",
	    "zh-TW.yaml:3:1: duplicate key \"a\""));
	CHECK(test_refused(
	    "a: [1, 2]\n", "a: A\n", "zh-TW.yaml:1:4: lists are not messages"));
	CHECK(test_refused(
	    "a: 甲\n", "a:\n", "en.yaml:1:3: empty message for \"a\""));
	CHECK(test_refused("- a\n", "a: A\n", "zh-TW.yaml:1:1: "));
	CHECK(test_refused("a: 甲\n", "a: A\n  b: [\n", "en.yaml:2:"));
	CHECK(test_refused("a: 甲\n", "", "en.yaml:1:1: expected a mapping"));
	CHECK(test_refused(
	    "a b: 甲\n", "a: A\n", "zh-TW.yaml:1:1: a key uses letters"));
	CHECK(test_refused("a: &x 甲\nb: *x\n", "a: A\nb: B\n",
	    "zh-TW.yaml:2:4: aliases are not allowed"));
	test_unlink("en.yaml");
	CHECK(test_write("zh-TW.yaml", "a: 甲\n") == 0);
	m = i18n_load(test_dir, err, sizeof(err));
	CHECK(m == NULL && strstr(err, "en.yaml: ") != NULL);
	test_unlink("zh-TW.yaml");
}

static void
test_pick(void)
{
	CHECK(strcmp(i18n_pick_lang(NULL, NULL), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang("en", NULL), "en") == 0);
	CHECK(strcmp(i18n_pick_lang("en", "zh-TW"), "en") == 0);
	CHECK(strcmp(i18n_pick_lang("zh-TW", "en-US,en;q=0.9"), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang("fr", "en-US,en;q=0.9"), "en") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "en-US,en;q=0.9"), "en") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL,
			 "zh-TW,zh;q=0.9,en-US;q=0.8,"
			 "en;q=0.7"),
		  "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "en;q=0.5, zh-Hant;q=0.8"),
		  "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "zh;q=0.5 , EN-gb ; q=0.8"), "en") ==
	    0);
	CHECK(strcmp(i18n_pick_lang(NULL, "en, zh-TW"), "en") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "zh-TW, en"), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "fr-FR, de"), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "en;q=0"), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "en;q=abc"), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "english"), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, "ja, en;q=0.1"), "en") == 0);
	CHECK(strcmp(i18n_pick_lang(NULL, ",,;;q=,"), "zh-TW") == 0);
	CHECK(strcmp(i18n_pick_lang("", ""), "zh-TW") == 0);
}

int
main(void)
{
	if (str_copy(test_dir, sizeof(test_dir), "/tmp/licheng-i18n-XXXXXX") ==
		-1 ||
	    mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_shipped();
	test_broken();
	test_pick();
	test_unlink("zh-TW.yaml");
	test_unlink("en.yaml");
	if (rmdir(test_dir) == -1)
		perror(test_dir);
	return harness_done();
}
