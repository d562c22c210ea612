/*
 * page: the page layout (layout.html) around every HTML response, and the
 * bilingual error pages. It renders only through the template engine, so
 * everything is escaped and every word comes from the catalogues; an error
 * page never reveals a version, path or internal detail.
 */
#ifndef LICHENG_PAGE_H
#define LICHENG_PAGE_H

struct buf;
struct i18n;
struct tmpl_set;
struct tval;

/*
 * Appends body_template rendered inside layout.html to out; the html lang
 * attribute follows lang. The layout reads these keys of ctx, all optional:
 *   title    string, before the product name in <title>
 *   user     object with "name": shows the navigation and sign-out form
 *   nav      list of objects {href, label, current (bool)}; hrefs are
 *            built by code from known paths, never from user input
 *   csrf     the session's CSRF token, for the sign-out form
 *   notice   string shown as a status message; alert: as an error message
 * 0, or -1 (logged; out then holds partial output to discard).
 */
int
page_render(const struct tmpl_set *t, const struct i18n *m, const char *lang,
    const char *body_template, const struct tval *ctx, struct buf *out);

/*
 * Appends the error page for an HTTP status to out: title and one sentence
 * of what to do, zh-TW first then English. Statuses without their own text
 * use the 500 text but keep their number. 0 or -1 (logged); when even the
 * templates fail, a minimal static page is appended and -1 returned.
 */
int page_error(const struct tmpl_set *t, const struct i18n *m, int status,
    struct buf *out);

/* 1 when status has its own text in the catalogues, else 0. */
int page_error_known(int status);

#endif
