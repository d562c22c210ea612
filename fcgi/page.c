/*
 * page: wraps body templates in layout.html and renders the bilingual error
 * pages. It owns no state; every word it shows comes from the catalogues and
 * every value goes through the escaping engine. An error page must never
 * reveal a version, a path or an internal detail, not even when the
 * templates themselves fail.
 */
#include "page.h"

#include <stdio.h>

#include "i18n.h"
#include "log.h"
#include "template.h"
#include "util.h"

/* The statuses with their own text in error.<status>.* of the catalogues. */
static const int page_error_statuses[] = {
    400,
    401,
    403,
    404,
    405,
    408,
    413,
    415,
    422,
    429,
    500,
    502,
    503,
    504,
};

int
page_error_known(int status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(page_error_statuses); i++)
		if (page_error_statuses[i] == status)
			return 1;
	return 0;
}

int
page_render(const struct tmpl_set *t, const struct i18n *m, const char *lang,
    const char *body_template, const struct tval *ctx, struct buf *out)
{
	if (body_template == NULL) {
		log_error("no body template");
		return -1;
	}
	return tmpl_render_layout(
	    t, "layout", body_template, ctx, m, lang, out);
}

/* Used only when the templates or catalogues are unusable: the number and
 * a link home, no words that would need a catalogue, no detail. */
static void
page_error_minimal(int status, struct buf *out)
{
	buf_printf(out,
	    "<!doctype html>\n<html lang=\"zh-TW\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<title>%d</title>\n</head>\n<body>\n<main>\n<h1>%d</h1>\n"
	    "<p><a href=\"/\">/</a></p>\n</main>\n</body>\n</html>\n",
	    status, status);
}

static int
page_error_key(char *dst, size_t dstlen, int status, const char *field)
{
	int n = snprintf(dst, dstlen, "error.%d.%s", status, field);

	return n < 0 || (size_t)n >= dstlen ? -1 : 0;
}

int
page_error(
    const struct tmpl_set *t, const struct i18n *m, int status, struct buf *out)
{
	char tkey[32], xkey[32], title[512];
	const char *zh_title, *en_title;
	struct tval *ctx;
	size_t start = out->len;
	int text, n, rc = -1;

	if (status < 100 || status > 599)
		status = 500;
	text = page_error_known(status) ? status : 500;
	if (t == NULL || m == NULL || !tmpl_has(t, "layout") ||
	    !tmpl_has(t, "error")) {
		log_error(
		    "error page %d without templates or messages", status);
		page_error_minimal(status, out);
		return -1;
	}
	if (page_error_key(tkey, sizeof(tkey), text, "title") == -1 ||
	    page_error_key(xkey, sizeof(xkey), text, "text") == -1) {
		page_error_minimal(status, out);
		return -1;
	}
	zh_title = i18n_get(m, "zh-TW", tkey);
	en_title = i18n_get(m, "en", tkey);
	n = snprintf(
	    title, sizeof(title), "%d %s / %s", status, zh_title, en_title);
	if (n < 0 || (size_t)n >= sizeof(title)) {
		log_error("error page title for %d too long", status);
		page_error_minimal(status, out);
		return -1;
	}
	ctx = tval_obj();
	if (tval_set_str(ctx, "title", title) == -1 ||
	    tval_set_int(ctx, "status", status) == -1 ||
	    tval_set_str(ctx, "zh_title", zh_title) == -1 ||
	    tval_set_str(ctx, "zh_text", i18n_get(m, "zh-TW", xkey)) == -1 ||
	    tval_set_str(ctx, "en_title", en_title) == -1 ||
	    tval_set_str(ctx, "en_text", i18n_get(m, "en", xkey)) == -1 ||
	    tval_set_str(ctx, "zh_home", i18n_get(m, "zh-TW", "error.home")) ==
		-1 ||
	    tval_set_str(ctx, "en_home", i18n_get(m, "en", "error.home")) == -1)
		goto out;
	rc = page_render(t, m, "zh-TW", "error", ctx, out);
out:
	tval_free(ctx);
	if (rc == -1) {
		/* Drop a half-rendered page rather than send it. */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		page_error_minimal(status, out);
	}
	return rc;
}
