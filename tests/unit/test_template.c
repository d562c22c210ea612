/*
 * test_template: the template engine (escaping, sections, partials, load
 * errors with line and column), the layout and the error pages. Templates
 * are written into a temporary folder; the shipped ones are read from
 * $LICHENG_SRCDIR (default ".", the repository root).
 */
#include "../harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/i18n.h"
#include "../../fcgi/page.h"
#include "../../fcgi/template.h"
#include "util.h"

static char test_dir[64];
static char test_files[32][64];
static size_t test_nfiles;

static int
test_write(const char *name, const char *text)
{
	char path[256];
	FILE *f;
	size_t i, n = strlen(text);
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
	if (fclose(f) != 0)
		return -1;
	for (i = 0; i < test_nfiles; i++)
		if (strcmp(test_files[i], name) == 0)
			return 0;
	if (test_nfiles == ARRAY_SIZE(test_files) ||
	    str_copy(test_files[test_nfiles], sizeof(test_files[0]), name) ==
		-1)
		return -1;
	test_nfiles++;
	return 0;
}

static void
test_clear(void)
{
	char path[256];
	size_t i;
	int len;

	for (i = 0; i < test_nfiles; i++) {
		len = snprintf(
		    path, sizeof(path), "%s/%s", test_dir, test_files[i]);
		if (len > 0 && (size_t)len < sizeof(path))
			(void)unlink(path);
	}
	test_nfiles = 0;
}

/* Loads a set holding one template "t" with text; NULL + err on failure. */
static struct tmpl_set *
test_one(const char *text, char *err, size_t errlen)
{
	test_clear();
	if (test_write("t.html", text) == -1)
		return NULL;
	return tmpl_load_dir(test_dir, err, errlen);
}

/* Renders text with ctx; returns 1 when the output equals want. */
static int
test_render(const char *text, const struct tval *ctx, const char *want)
{
	char err[TMPL_ERR_MAX];
	struct tmpl_set *t;
	struct buf b;
	int ok;

	if ((t = test_one(text, err, sizeof(err))) == NULL) {
		fprintf(stderr, "load: %s\n", err);
		return 0;
	}
	buf_init(&b);
	ok = tmpl_render(t, "t", ctx, NULL, "zh-TW", &b) == 0 &&
	    strcmp(b.data, want) == 0;
	if (!ok)
		fprintf(stderr, "got [%s]\nwant [%s]\n",
		    b.data ? b.data : "(null)", want);
	buf_free(&b);
	tmpl_set_free(t);
	return ok;
}

/* Returns 1 when text fails to load with an error containing want. */
static int
test_load_error(const char *text, const char *want)
{
	char err[TMPL_ERR_MAX];
	struct tmpl_set *t;

	if ((t = test_one(text, err, sizeof(err))) != NULL) {
		tmpl_set_free(t);
		fprintf(stderr, "loaded, expected error %s\n", want);
		return 0;
	}
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "error [%s]\nwant [%s]\n", err, want);
		return 0;
	}
	return 1;
}

static void
test_escaping(void)
{
	struct tval *c = tval_obj();

	CHECK(tval_set_str(c, "s", "<script>alert(1)</script>") == 0);
	CHECK(tval_set_str(c, "a", "\"><img src=x onerror=alert(1)>") == 0);
	CHECK(tval_set_str(c, "q", "' onmouseover='alert(1)") == 0);
	CHECK(tval_set_str(c, "u",
		  "陳小明 \xe2\x80\xae"
		  "fdp.exe") == 0);
	CHECK(tval_set_str(c, "b", "`x` & y") == 0);
	CHECK(tval_set_html(c, "h", "<b>bold</b>") == 0);
	CHECK(test_render(
	    "<p>{{s}}</p>", c, "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"));
	CHECK(test_render("<a title=\"{{a}}\">", c,
	    "<a title=\"&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)"
	    "&gt;\">"));
	CHECK(test_render("<a title='{{ q }}'>", c,
	    "<a title='&#39; onmouseover&#61;&#39;alert(1)'>"));
	/* CJK passes intact; the RTL override is neutralised. */
	CHECK(test_render("{{u}}", c,
	    "陳小明 \xef\xbf\xbd"
	    "fdp.exe"));
	CHECK(test_render("{{b}}", c, "&#96;x&#96; &amp; y"));
	/* Raw output: only a TV_HTML value under the raw marker. */
	CHECK(test_render("{{{raw h}}}", c, "<b>bold</b>"));
	CHECK(test_render(
	    "{{{raw s}}}", c, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	CHECK(test_render("{{h}}", c, "&lt;b&gt;bold&lt;/b&gt;"));
	CHECK(test_load_error("{{{h}}}",
	    "t.html:1:1: triple braces need "
	    "the raw marker"));
	tval_free(c);
}

static void
test_sections(void)
{
	struct tval *c = tval_obj(), *items = tval_list(), *it, *tags, *o;

	it = tval_obj();
	CHECK(tval_set_str(it, "name", "A<1>") == 0);
	tags = tval_list();
	CHECK(tval_push(tags, tval_str("x")) == 0);
	CHECK(tval_push(tags, tval_str("y&z")) == 0);
	CHECK(tval_set(it, "tags", tags) == 0);
	CHECK(tval_push(items, it) == 0);
	it = tval_obj();
	CHECK(tval_set_str(it, "name", "B") == 0);
	CHECK(tval_set(it, "tags", tval_list()) == 0);
	CHECK(tval_push(items, it) == 0);
	CHECK(tval_set(c, "items", items) == 0);
	CHECK(tval_set_str(c, "school", "S") == 0);
	CHECK(tval_set_int(c, "n", -42) == 0);
	CHECK(tval_set_bool(c, "yes", 1) == 0);
	CHECK(tval_set_bool(c, "no", 0) == 0);
	CHECK(tval_set(c, "empty", tval_list()) == 0);
	o = tval_obj();
	CHECK(tval_set_str(o, "b", "deep") == 0);
	CHECK(tval_set(c, "a", o) == 0);

	CHECK(test_render("{{#items}}[{{name}}@{{school}}:{{#tags}}({{.}})"
			  "{{/tags}}{{^tags}}none{{/tags}}]{{/items}}",
	    c, "[A&lt;1&gt;@S:(x)(y&amp;z)][B@S:none]"));
	CHECK(test_render("{{n}} {{#yes}}Y{{/yes}}{{#no}}N{{/no}}"
			  "{{^no}}!N{{/no}}",
	    c, "-42 Y!N"));
	CHECK(test_render("{{a.b}}|{{#a}}{{b}}{{school}}{{/a}}|{{a.b.c}}|"
			  "{{school.x}}",
	    c, "deep|deepS||"));
	CHECK(test_render("[{{missing}}][{{#missing}}x{{/missing}}]"
			  "[{{^missing}}m{{/missing}}][{{^empty}}e{{/empty}}]"
			  "[{{#empty}}z{{/empty}}]",
	    c, "[][][m][e][]"));
	CHECK(test_render("a{{! a comment with < and \" }}b", c, "ab"));
	CHECK(test_render("no tags at all", NULL, "no tags at all"));
	CHECK(test_render("{{x}}", NULL, ""));
	tval_free(c);
}

static void
test_load_errors(void)
{
	CHECK(test_load_error("<ul>\n  {{#items}}<li>{{name}}</li>\n</ul>",
	    "t.html:2:3: unclosed section \"items\""));
	CHECK(test_load_error("{{#a}}\n{{#b}}x{{/a}}{{/b}}",
	    "t.html:2:8: section \"b\" (opened at 2:1) closed by \"a\""));
	CHECK(test_load_error("x\n\n    {{/a}}",
	    "t.html:3:5: closing \"a\" but no section is open"));
	CHECK(test_load_error("歷程 {{name", "t.html:1:4: unclosed tag"));
	CHECK(test_load_error("{{}}", "t.html:1:1: empty tag"));
	CHECK(test_load_error("{{a b}}", "t.html:1:1: invalid name"));
	CHECK(test_load_error("{{a..b}}", "invalid name"));
	CHECK(test_load_error("{{$main}}", "the only slot is {{$body}}"));
	CHECK(test_load_error(
	    "{{> nothere}}", "t.html:1:1: unknown partial \"nothere\""));
	CHECK(test_load_error(
	    "a\n {{> t}}", "t.html:2:2: partial \"t\" includes itself"));
}

static void
test_nesting_limit(void)
{
	struct buf b;
	int i;

	buf_init(&b);
	for (i = 0; i <= TMPL_MAX_DEPTH; i++)
		buf_puts(&b, "{{#a}}");
	for (i = 0; i <= TMPL_MAX_DEPTH; i++)
		buf_puts(&b, "{{/a}}");
	CHECK(test_load_error(b.data, "sections nested deeper than"));
	buf_free(&b);
}

static void
test_partials(void)
{
	char err[TMPL_ERR_MAX];
	struct tmpl_set *t;
	struct tval *c = tval_obj(), *l = tval_list();
	struct buf b;
	int i;

	test_clear();
	CHECK(test_write("page.html", "<ul>{{#l}}{{> row}}{{/l}}</ul>") == 0);
	CHECK(test_write("row.html", "<li>{{.}}{{> cell}}</li>") == 0);
	CHECK(test_write("cell.html", "[{{who}}]") == 0);
	CHECK(test_write("shell.html", "<main>{{$body}}</main>") == 0);
	CHECK(test_write("notes.txt", "{{#ignored") == 0);
	t = tmpl_load_dir(test_dir, err, sizeof(err));
	CHECK_MSG(t != NULL, "%s", err);
	if (t == NULL) {
		tval_free(c);
		tval_free(l);
		return;
	}
	CHECK(
	    tmpl_has(t, "row") && tmpl_has(t, "cell") && !tmpl_has(t, "notes"));
	CHECK(tval_push(l, tval_str("1<")) == 0);
	CHECK(tval_push(l, tval_int(2)) == 0);
	CHECK(tval_set(c, "l", l) == 0);
	CHECK(tval_set_str(c, "who", "me") == 0);
	buf_init(&b);
	/* Compiled once, rendered many times with the same result. */
	for (i = 0; i < 3; i++) {
		buf_reset(&b);
		CHECK(tmpl_render(t, "page", c, NULL, "en", &b) == 0);
		CHECK(strcmp(b.data,
			  "<ul><li>1&lt;[me]</li><li>2[me]</li></ul>") == 0);
	}
	buf_reset(&b);
	CHECK(tmpl_render_layout(t, "shell", "cell", c, NULL, "en", &b) == 0);
	CHECK(strcmp(b.data, "<main>[me]</main>") == 0);
	buf_reset(&b);
	CHECK(tmpl_render(t, "shell", c, NULL, "en", &b) == 0);
	CHECK(strcmp(b.data, "<main></main>") == 0);
	buf_reset(&b);
	CHECK(tmpl_render(t, "nope", c, NULL, "en", &b) == -1);
	buf_free(&b);
	tmpl_set_free(t);
	tval_free(c);

	/* A cycle through two files fails the load. */
	test_clear();
	CHECK(test_write("a.html", "{{> b}}") == 0);
	CHECK(test_write("b.html", "x\n{{#s}}{{> a}}{{/s}}") == 0);
	t = tmpl_load_dir(test_dir, err, sizeof(err));
	CHECK(t == NULL && strstr(err, "includes itself") != NULL);
	tmpl_set_free(t);
}

static void
test_values(void)
{
	struct tval *c = tval_obj(), *l = tval_list();

	CHECK(tval_set_str(c, "k", "one") == 0);
	CHECK(tval_set_str(c, "k", "two") == 0);
	CHECK(
	    strcmp(tval_type(tval_get(c, "k")) == TV_STR ? "s" : "", "s") == 0);
	CHECK(test_render("{{k}}", c, "two"));
	CHECK(tval_set_str(l, "k", "v") == -1);
	CHECK(tval_push(c, tval_str("v")) == -1);
	CHECK(tval_set(c, "", tval_int(1)) == -1);
	CHECK(tval_set_str(c, "null", NULL) == 0);
	CHECK(tval_get(c, "nothing") == NULL);
	tval_free(l);
	tval_free(c);
	tval_free(NULL);
}

static int
test_catalogue(const char *zh, const char *en)
{
	test_clear();
	return test_write("zh-TW.yaml", zh) == 0 &&
		test_write("en.yaml", en) == 0
	    ? 0
	    : -1;
}

static void
test_messages(void)
{
	char err[I18N_ERR_MAX];
	struct i18n *m;
	struct tmpl_set *t;
	struct buf b;

	CHECK(test_catalogue("a:\n  b: 甲 < 乙 & \"丙\"\n",
		  "a:\n  b: A < B & \"C\"\n") == 0);
	m = i18n_load(test_dir, err, sizeof(err));
	CHECK_MSG(m != NULL, "%s", err);
	CHECK(test_write("t.html", "{{@a.b}}|{{@no.such}}") == 0);
	t = tmpl_load_dir(test_dir, err, sizeof(err));
	CHECK_MSG(t != NULL, "%s", err);
	buf_init(&b);
	CHECK(tmpl_render(t, "t", NULL, m, "zh-TW", &b) == 0);
	CHECK(b.data != NULL &&
	    strcmp(b.data, "甲 &lt; 乙 &amp; &quot;丙&quot;|no.such") == 0);
	buf_reset(&b);
	CHECK(tmpl_render(t, "t", NULL, m, "en", &b) == 0);
	CHECK(b.data != NULL &&
	    strcmp(b.data, "A &lt; B &amp; &quot;C&quot;|no.such") == 0);
	buf_free(&b);
	tmpl_set_free(t);
	i18n_free(m);
}

static void
test_pages(void)
{
	static const int statuses[] = {400, 401, 403, 404, 405, 408, 413, 415,
	    422, 429, 500, 502, 503, 504};
	char err[TMPL_ERR_MAX], path[512];
	const char *src = getenv("LICHENG_SRCDIR");
	struct tmpl_set *t;
	struct i18n *m;
	struct tval *c;
	struct buf b;
	size_t i;
	int ok;

	if (src == NULL)
		src = ".";
	CHECK(snprintf(path, sizeof(path), "%s/fcgi/templates", src) > 0);
	t = tmpl_load_dir(path, err, sizeof(err));
	CHECK_MSG(t != NULL, "%s", err);
	CHECK(snprintf(path, sizeof(path), "%s/conf/messages", src) > 0);
	m = i18n_load(path, err, sizeof(err));
	CHECK_MSG(m != NULL, "%s", err);
	if (t == NULL || m == NULL)
		goto out;
	buf_init(&b);
	CHECK(page_error(t, m, 404, &b) == 0);
	CHECK(
	    strncmp(b.data, "<!doctype html>\n<html lang=\"zh-TW\">", 35) == 0);
	CHECK(strstr(b.data, "找不到頁面") != NULL &&
	    strstr(b.data, "Page not found") != NULL);
	CHECK(strstr(b.data, "找不到頁面") < strstr(b.data, "Page not found"));
	CHECK(strstr(b.data, "<title>404 找不到頁面 / Page not found · ") !=
	    NULL);
	CHECK(strstr(b.data, "href=\"/static/licheng.css\"") != NULL);
	CHECK(strstr(b.data, "<script") == NULL &&
	    strstr(b.data, "style=") == NULL &&
	    strstr(b.data, "<style") == NULL);
	CHECK(strstr(b.data, "error.") == NULL);
	ok = 1;
	for (i = 0; i < ARRAY_SIZE(statuses); i++) {
		char code[16];

		buf_reset(&b);
		if (page_error(t, m, statuses[i], &b) != 0 ||
		    snprintf(code, sizeof(code), "</span> %d<", statuses[i]) <=
			0 ||
		    strstr(b.data, code) == NULL ||
		    strstr(b.data, "error.") != NULL ||
		    !page_error_known(statuses[i]))
			ok = 0;
	}
	CHECK(ok);
	buf_reset(&b);
	CHECK(page_error(t, m, 418, &b) == 0);
	CHECK(strstr(b.data, "</span> 418<") != NULL &&
	    strstr(b.data, "系統發生錯誤") != NULL &&
	    strstr(b.data, "Something went wrong") != NULL);
	buf_reset(&b);
	CHECK(page_error(NULL, m, 503, &b) == -1);
	CHECK(strstr(b.data, "<h1>503</h1>") != NULL);

	c = tval_obj();
	CHECK(tval_set_str(c, "title", "<Title>") == 0);
	CHECK(test_write("x.html", "") == 0);
	buf_reset(&b);
	CHECK(page_render(t, m, "en", "error", c, &b) == 0);
	CHECK(strstr(b.data, "<html lang=\"en\">") != NULL &&
	    strstr(b.data, "<title>&lt;Title&gt; · ") != NULL &&
	    strstr(b.data, "Skip to main content") != NULL);
	buf_reset(&b);
	CHECK(page_render(t, m, "en", "no-such-page", c, &b) == -1);
	tval_free(c);
	buf_free(&b);
out:
	tmpl_set_free(t);
	i18n_free(m);
}

int
main(void)
{
	if (str_copy(test_dir, sizeof(test_dir), "/tmp/licheng-tmpl-XXXXXX") ==
		-1 ||
	    mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_escaping();
	test_sections();
	test_load_errors();
	test_nesting_limit();
	test_partials();
	test_values();
	test_messages();
	test_pages();
	test_clear();
	if (rmdir(test_dir) == -1)
		perror(test_dir);
	return harness_done();
}
