/*
 * template: a small Mustache-like engine that compiles every *.html file of
 * one directory once, at load, into flat node arrays, and renders them many
 * times without re-parsing. Every value is HTML-escaped on output; the only
 * way to emit raw markup is the greppable tag {{{raw name}}} over a value the
 * caller built on purpose with tval_html/tval_set_html. It never reads files
 * at render time and never writes a value unescaped by accident.
 *
 * Tags (whitespace inside the braces is allowed):
 *   {{name}} {{a.b}} {{.}}   value, HTML-escaped (& < > " ' ` =), missing = "";
 *                            bidi override/isolate controls become U+FFFD
 *   {{{raw name}}}           a TV_HTML value raw; any other type is escaped
 *   {{#name}}..{{/name}}     a list: once per item (item pushed as scope);
 *                            an object: once, object pushed as scope; any
 *                            other truthy value: once
 *   {{^name}}..{{/name}}     once when name is missing, false, 0, "" or []
 *   {{> partial}}            another template of the set, by file name
 *                            without ".html"; include cycles fail the load
 *   {{@message.key}}         the message in the render's language, escaped
 *   {{$body}}                the slot tmpl_render_layout fills with a body
 *   {{! comment}}            dropped at load (ends at the first "}}")
 * A literal "{{" cannot be written: every "{{" opens a tag.
 *
 * Names are resolved up the scope stack (innermost first) by their first
 * segment, then down by the following ones. Whitespace around section tags is
 * kept as written (no Mustache "standalone line" trimming).
 *
 * Escaping makes values safe in HTML text and in quoted attribute values. It
 * does NOT make a URL safe: href/src/action values must be built by code from
 * known paths and opaque identifiers, never from user input unchecked (a
 * "javascript:" URL survives HTML escaping intact). Never place a value
 * inside <script>, <style>, an event attribute or an unquoted attribute.
 */
#ifndef LICHENG_TEMPLATE_H
#define LICHENG_TEMPLATE_H

#include <stddef.h>

struct buf;
struct i18n;
struct tmpl_set;
struct tval;

#define TMPL_ERR_MAX 512
/* Largest template file accepted, and deepest section/partial nesting. */
#define TMPL_MAX_FILE (1024 * 1024)
#define TMPL_MAX_DEPTH 32

enum tval_type {
	TV_NULL,
	TV_STR,
	TV_INT,
	TV_BOOL,
	TV_HTML, /* trusted markup built by code: only {{{raw x}}} emits it */
	TV_LIST,
	TV_OBJ,
	TV__MAX
};

/*
 * Values. A tree of struct tval owns everything below it: strings are copied
 * in, children passed to tval_set/tval_push belong to the parent from then
 * on (even when the call fails, in which case the child is freed), and
 * tval_free on the root releases the whole tree. Constructors abort on
 * exhaustion (xmalloc) and never return NULL.
 */
struct tval *tval_obj(void);
struct tval *tval_list(void);
struct tval *tval_str(const char *s);
struct tval *tval_int(long long v);
struct tval *tval_bool(int v);
struct tval *tval_html(const char *html);
/* Set (or replace) key in obj. 0, or -1 when obj is not an object or key is
 * empty. s/html NULL store an empty string. */
int tval_set_str(struct tval *obj, const char *key, const char *s);
int tval_set_int(struct tval *obj, const char *key, long long v);
int tval_set_bool(struct tval *obj, const char *key, int v);
int tval_set_html(struct tval *obj, const char *key, const char *html);
int tval_set(struct tval *obj, const char *key, struct tval *child);
/* Appends v to list; -1 when list is not a list (v is freed). */
int tval_push(struct tval *list, struct tval *v);
/* The direct child key of obj, or NULL. */
const struct tval *tval_get(const struct tval *obj, const char *key);
enum tval_type tval_type(const struct tval *v);
void tval_free(struct tval *v);

/*
 * Templates. tmpl_load_dir compiles every *.html in dir (not recursively);
 * on failure it returns NULL with err = "file:line:column: what is wrong".
 * The set owns everything; tmpl_set_free accepts NULL.
 */
struct tmpl_set *tmpl_load_dir(const char *dir, char *err, size_t errlen);
void tmpl_set_free(struct tmpl_set *t);
/* 1 when the set holds a template of that name, else 0. */
int tmpl_has(const struct tmpl_set *t, const char *name);

/*
 * Renders template name (file name without ".html") with ctx (may be NULL)
 * appended to out. m may be NULL (message tags then print their key); lang
 * is "zh-TW" or "en" (anything else falls back as i18n_get does). Returns 0,
 * or -1 on an unknown template or nesting past TMPL_MAX_DEPTH, logged; out
 * then holds partial output the caller must discard.
 */
int
tmpl_render(const struct tmpl_set *t, const char *name, const struct tval *ctx,
    const struct i18n *m, const char *lang, struct buf *out);
/* As tmpl_render for layout, with {{$body}} rendering template body with the
 * same context. */
int tmpl_render_layout(const struct tmpl_set *t, const char *layout,
    const char *body, const struct tval *ctx, const struct i18n *m,
    const char *lang, struct buf *out);

#endif
