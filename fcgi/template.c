/*
 * template: compiles a directory of *.html templates into flat node arrays
 * once, and renders them with a value tree, escaping every value through
 * buf_html. It owns struct tval and struct tmpl_set; it must never emit a
 * value unescaped except a TV_HTML value under {{{raw name}}}, never read a
 * file at render time and never allocate at render beyond the output buffer.
 */
#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"
#include "log.h"
#include "util.h"

#define TMPL_NAME_MAX 128
/* Scopes and nested renders allowed at once: sections plus partials. */
#define TMPL_MAX_SCOPE (2 * TMPL_MAX_DEPTH)

struct tval_pair {
	char *key;
	size_t klen;
	struct tval *val;
};

struct tval {
	enum tval_type type;
	long long i; /* TV_INT, TV_BOOL */
	char *s; /* TV_STR, TV_HTML */
	size_t slen;
	struct tval **items; /* TV_LIST */
	struct tval_pair *pairs; /* TV_OBJ */
	size_t n, cap;
};

enum tnode_type {
	TN_TEXT,
	TN_VAR,
	TN_RAW,
	TN_SECTION,
	TN_INVERTED,
	TN_PARTIAL,
	TN_MESSAGE,
	TN_SLOT,
	TN__MAX
};

struct tnode {
	enum tnode_type type;
	const char *text; /* TN_TEXT: points into the template source */
	size_t len; /* text or name length */
	char *name; /* tags: the name, NUL-terminated, owned */
	size_t end; /* sections: index of the first node after */
	size_t partial; /* TN_PARTIAL: index of the template */
	unsigned line, col;
};

struct tmpl {
	char *name; /* file name without ".html" */
	char *path; /* for error messages */
	char *src;
	size_t srclen;
	struct tnode *nodes;
	size_t nnodes, cap;
	int mark; /* cycle check: 0 new, 1 on path, 2 done */
};

struct tmpl_set {
	struct tmpl *tmpls; /* sorted by name */
	size_t n;
};

struct tmpl_loc {
	size_t pos;
	unsigned line, col;
};

struct tmpl_render_state {
	const struct tmpl_set *set;
	const struct i18n *m;
	const char *lang;
	const struct tmpl *body;
	struct buf *out;
	const struct tval *scope[TMPL_MAX_SCOPE];
	size_t nscope;
	unsigned nest;
};

/* Values. */

static struct tval *
tval_new(enum tval_type type)
{
	struct tval *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

struct tval *
tval_obj(void)
{
	return tval_new(TV_OBJ);
}

struct tval *
tval_list(void)
{
	return tval_new(TV_LIST);
}

static struct tval *
tval_text(enum tval_type type, const char *s)
{
	struct tval *v = tval_new(type);

	if (s == NULL)
		s = "";
	v->slen = strlen(s);
	v->s = xstrndup(s, v->slen);
	return v;
}

struct tval *
tval_str(const char *s)
{
	return tval_text(TV_STR, s);
}

struct tval *
tval_html(const char *html)
{
	return tval_text(TV_HTML, html);
}

struct tval *
tval_int(long long i)
{
	struct tval *v = tval_new(TV_INT);

	v->i = i;
	return v;
}

struct tval *
tval_bool(int b)
{
	struct tval *v = tval_new(TV_BOOL);

	v->i = b != 0;
	return v;
}

void
tval_free(struct tval *v)
{
	size_t i;

	if (v == NULL)
		return;
	if (v->type == TV_LIST) {
		for (i = 0; i < v->n; i++)
			tval_free(v->items[i]);
	} else if (v->type == TV_OBJ) {
		for (i = 0; i < v->n; i++) {
			free(v->pairs[i].key);
			tval_free(v->pairs[i].val);
		}
	}
	free(v->items);
	free(v->pairs);
	free(v->s);
	free(v);
}

static struct tval_pair *
tval_find(const struct tval *obj, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < obj->n; i++)
		if (obj->pairs[i].klen == klen &&
		    memcmp(obj->pairs[i].key, key, klen) == 0)
			return &obj->pairs[i];
	return NULL;
}

int
tval_set(struct tval *obj, const char *key, struct tval *child)
{
	struct tval_pair *p;
	size_t klen;

	if (obj == NULL || obj->type != TV_OBJ || key == NULL ||
	    key[0] == '\0' || child == NULL) {
		tval_free(child);
		return -1;
	}
	klen = strlen(key);
	if ((p = tval_find(obj, key, klen)) != NULL) {
		tval_free(p->val);
		p->val = child;
		return 0;
	}
	if (obj->n == obj->cap) {
		obj->cap = obj->cap ? obj->cap * 2 : 8;
		obj->pairs =
		    xrealloc(obj->pairs, obj->cap * sizeof(*obj->pairs));
	}
	p = &obj->pairs[obj->n++];
	p->key = xstrndup(key, klen);
	p->klen = klen;
	p->val = child;
	return 0;
}

int
tval_set_str(struct tval *obj, const char *key, const char *s)
{
	return tval_set(obj, key, tval_str(s));
}

int
tval_set_html(struct tval *obj, const char *key, const char *html)
{
	return tval_set(obj, key, tval_html(html));
}

int
tval_set_int(struct tval *obj, const char *key, long long i)
{
	return tval_set(obj, key, tval_int(i));
}

int
tval_set_bool(struct tval *obj, const char *key, int b)
{
	return tval_set(obj, key, tval_bool(b));
}

int
tval_push(struct tval *list, struct tval *v)
{
	if (list == NULL || list->type != TV_LIST || v == NULL) {
		tval_free(v);
		return -1;
	}
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 8;
		list->items =
		    xrealloc(list->items, list->cap * sizeof(*list->items));
	}
	list->items[list->n++] = v;
	return 0;
}

const struct tval *
tval_get(const struct tval *obj, const char *key)
{
	const struct tval_pair *p;

	if (obj == NULL || obj->type != TV_OBJ || key == NULL)
		return NULL;
	p = tval_find(obj, key, strlen(key));
	return p != NULL ? p->val : NULL;
}

enum tval_type
tval_type(const struct tval *v)
{
	return v != NULL ? v->type : TV_NULL;
}

static int
tval_truthy(const struct tval *v)
{
	if (v == NULL)
		return 0;
	switch (v->type) {
	case TV_STR:
	case TV_HTML: return v->slen > 0;
	case TV_INT:
	case TV_BOOL: return v->i != 0;
	case TV_LIST: return v->n > 0;
	case TV_OBJ: return 1;
	default: return 0;
	}
}

/* Compiling. */

static void
tmpl_loc_advance(struct tmpl_loc *l, const char *src, size_t to)
{
	for (; l->pos < to; l->pos++) {
		unsigned char c = (unsigned char)src[l->pos];

		if (c == '\n') {
			l->line++;
			l->col = 1;
		} else if ((c & 0xc0) != 0x80)
			l->col++;
	}
}

static void
tmpl_errf(char *err, size_t errlen, const struct tmpl *t, unsigned line,
    unsigned col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
tmpl_errf(char *err, size_t errlen, const struct tmpl *t, unsigned line,
    unsigned col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errlen == 0)
		return;
	n = snprintf(err, errlen, "%s:%u:%u: ", t->path, line, col);
	if (n < 0) {
		err[0] = '\0';
		return;
	}
	/* A truncated message is still a terminated, useful prefix. */
	if ((size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err + n, errlen - (size_t)n, fmt, ap) < 0)
		err[n] = '\0';
	va_end(ap);
}

static struct tnode *
tmpl_node_add(struct tmpl *t, enum tnode_type type, unsigned line, unsigned col)
{
	struct tnode *n;

	if (t->nnodes == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->nodes = xrealloc(t->nodes, t->cap * sizeof(*t->nodes));
	}
	n = &t->nodes[t->nnodes++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = line;
	n->col = col;
	return n;
}

static int
tmpl_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
tmpl_name_char(char c, int dots)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	    (dots && c == '.');
}

/* A name is "." or segments of [A-Za-z0-9_-] joined by single dots. */
static int
tmpl_name_valid(const char *s, size_t n, int dots)
{
	size_t i;

	if (n == 0 || n > TMPL_NAME_MAX)
		return 0;
	if (dots && n == 1 && s[0] == '.')
		return 1;
	for (i = 0; i < n; i++) {
		if (!tmpl_name_char(s[i], dots))
			return 0;
		if (s[i] == '.' && (i == 0 || i == n - 1 || s[i - 1] == '.'))
			return 0;
	}
	return 1;
}

static int
tmpl_compile(struct tmpl *t, char *err, size_t errlen)
{
	size_t open[TMPL_MAX_DEPTH];
	size_t nopen = 0, p = 0, q;
	struct tmpl_loc loc = {0, 1, 1};
	const char *src = t->src, *hit;

	while (p < t->srclen) {
		const char *c;
		size_t clen, tagend;
		int triple;
		char sigil;
		struct tnode *n;
		enum tnode_type type;
		unsigned line, col;

		hit = memmem(src + p, t->srclen - p, "{{", 2);
		q = hit != NULL ? (size_t)(hit - src) : t->srclen;
		if (q > p) {
			n = tmpl_node_add(t, TN_TEXT, 0, 0);
			n->text = src + p;
			n->len = q - p;
		}
		if (hit == NULL)
			break;
		tmpl_loc_advance(&loc, src, q);
		line = loc.line;
		col = loc.col;
		triple = q + 2 < t->srclen && src[q + 2] == '{';
		c = src + q + (triple ? 3 : 2);
		hit = memmem(c, t->srclen - (size_t)(c - src),
		    triple ? "}}}" : "}}", triple ? 3 : 2);
		if (hit == NULL) {
			tmpl_errf(err, errlen, t, line, col, "unclosed tag");
			return -1;
		}
		clen = (size_t)(hit - c);
		tagend = (size_t)(hit - src) + (triple ? 3 : 2);
		while (clen > 0 && tmpl_is_space(*c)) {
			c++;
			clen--;
		}
		while (clen > 0 && tmpl_is_space(c[clen - 1]))
			clen--;
		if (clen == 0) {
			tmpl_errf(err, errlen, t, line, col, "empty tag");
			return -1;
		}
		if (triple) {
			if (clen < 4 || memcmp(c, "raw", 3) != 0 ||
			    !tmpl_is_space(c[3])) {
				tmpl_errf(err, errlen, t, line, col,
				    "triple braces need the raw marker: "
				    "{{{raw name}}}");
				return -1;
			}
			sigil = '{';
			c += 4;
			clen -= 4;
		} else {
			sigil = *c;
			if (sigil != '\0' && strchr("#^/>@$!", sigil) != NULL) {
				c++;
				clen--;
			} else
				sigil = '\0';
		}
		p = tagend;
		if (sigil == '!')
			continue;
		while (clen > 0 && tmpl_is_space(*c)) {
			c++;
			clen--;
		}
		if (!tmpl_name_valid(c, clen, sigil != '>' && sigil != '$')) {
			tmpl_errf(err, errlen, t, line, col,
			    "invalid name \"%.*s\" (letters, digits, _ - "
			    "and single dots)",
			    (int)(clen > 40 ? 40 : clen), c);
			return -1;
		}
		if (sigil == '/') {
			struct tnode *o;

			if (nopen == 0) {
				tmpl_errf(err, errlen, t, line, col,
				    "closing \"%.*s\" but no section is open",
				    (int)clen, c);
				return -1;
			}
			o = &t->nodes[open[nopen - 1]];
			if (o->len != clen || memcmp(o->name, c, clen) != 0) {
				tmpl_errf(err, errlen, t, line, col,
				    "section \"%s\" (opened at %u:%u) closed "
				    "by \"%.*s\"",
				    o->name, o->line, o->col, (int)clen, c);
				return -1;
			}
			o->end = t->nnodes;
			nopen--;
			continue;
		}
		switch (sigil) {
		case '#': type = TN_SECTION; break;
		case '^': type = TN_INVERTED; break;
		case '>': type = TN_PARTIAL; break;
		case '@': type = TN_MESSAGE; break;
		case '$': type = TN_SLOT; break;
		case '{': type = TN_RAW; break;
		default: type = TN_VAR; break;
		}
		if (type == TN_SLOT &&
		    (clen != 4 || memcmp(c, "body", 4) != 0)) {
			tmpl_errf(err, errlen, t, line, col,
			    "the only slot is {{$body}}");
			return -1;
		}
		if (type == TN_MESSAGE && clen == 1 && c[0] == '.') {
			tmpl_errf(err, errlen, t, line, col,
			    "a message tag needs a key");
			return -1;
		}
		if ((type == TN_SECTION || type == TN_INVERTED) &&
		    nopen == TMPL_MAX_DEPTH) {
			tmpl_errf(err, errlen, t, line, col,
			    "sections nested deeper than %d", TMPL_MAX_DEPTH);
			return -1;
		}
		n = tmpl_node_add(t, type, line, col);
		n->name = xstrndup(c, clen);
		n->len = clen;
		if (type == TN_SECTION || type == TN_INVERTED)
			open[nopen++] = t->nnodes - 1;
	}
	if (nopen > 0) {
		const struct tnode *o = &t->nodes[open[nopen - 1]];

		tmpl_errf(err, errlen, t, o->line, o->col,
		    "unclosed section \"%s\"", o->name);
		return -1;
	}
	return 0;
}

/* Loading. */

static int
tmpl_cmp(const void *a, const void *b)
{
	const struct tmpl *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int
tmpl_cmp_name(const void *key, const void *elem)
{
	const struct tmpl *t = elem;

	return strcmp(key, t->name);
}

static const struct tmpl *
tmpl_find(const struct tmpl_set *set, const char *name)
{
	if (set == NULL || set->n == 0 || name == NULL)
		return NULL;
	return bsearch(
	    name, set->tmpls, set->n, sizeof(*set->tmpls), tmpl_cmp_name);
}

int
tmpl_has(const struct tmpl_set *t, const char *name)
{
	return tmpl_find(t, name) != NULL;
}

/* Links every partial to its template and refuses include cycles. */
static int
tmpl_link(struct tmpl_set *set, struct tmpl *t, char *err, size_t errlen)
{
	const struct tmpl *target;
	size_t i;

	if (t->mark == 2)
		return 0;
	t->mark = 1;
	for (i = 0; i < t->nnodes; i++) {
		struct tnode *n = &t->nodes[i];

		if (n->type != TN_PARTIAL)
			continue;
		if ((target = tmpl_find(set, n->name)) == NULL) {
			tmpl_errf(err, errlen, t, n->line, n->col,
			    "unknown partial \"%s\"", n->name);
			return -1;
		}
		n->partial = (size_t)(target - set->tmpls);
		if (target->mark == 1) {
			tmpl_errf(err, errlen, t, n->line, n->col,
			    "partial \"%s\" includes itself", n->name);
			return -1;
		}
		if (tmpl_link(set, &set->tmpls[n->partial], err, errlen) == -1)
			return -1;
	}
	t->mark = 2;
	return 0;
}

static int
tmpl_file_name(const char *f, size_t *baselen)
{
	size_t n = strlen(f);

	if (n <= 5 || strcmp(f + n - 5, ".html") != 0 || f[0] == '.')
		return 0;
	*baselen = n - 5;
	return 1;
}

struct tmpl_set *
tmpl_load_dir(const char *dir, char *err, size_t errlen)
{
	struct tmpl_set *set;
	struct dirent *de;
	DIR *d;
	size_t i, cap = 0, blen;
	char path[PATH_MAX];
	int n;

	if (errlen > 0)
		err[0] = '\0';
	if ((d = opendir(dir)) == NULL) {
		str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	set = xcalloc(1, sizeof(*set));
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct tmpl *t;

		if (!tmpl_file_name(de->d_name, &blen))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			str_printf(err, errlen, "%s: path too long", dir);
			goto fail;
		}
		if (!tmpl_name_valid(de->d_name, blen, 0)) {
			str_printf(err, errlen,
			    "%s: template file names use "
			    "letters, digits, _ and -",
			    path);
			goto fail;
		}
		if (set->n == cap) {
			cap = cap ? cap * 2 : 16;
			set->tmpls =
			    xrealloc(set->tmpls, cap * sizeof(*set->tmpls));
		}
		t = &set->tmpls[set->n];
		memset(t, 0, sizeof(*t));
		t->name = xstrndup(de->d_name, blen);
		t->path = xstrdup(path);
		set->n++;
		if (file_read_all(path, TMPL_MAX_FILE, &t->src, &t->srclen, err,
			errlen) == -1)
			goto fail;
	}
	if (errno != 0) {
		str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (closedir(d) == -1) {
		d = NULL;
		str_printf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	d = NULL;
	if (set->n > 0)
		qsort(set->tmpls, set->n, sizeof(*set->tmpls), tmpl_cmp);
	for (i = 0; i < set->n; i++)
		if (tmpl_compile(&set->tmpls[i], err, errlen) == -1)
			goto fail;
	for (i = 0; i < set->n; i++)
		if (tmpl_link(set, &set->tmpls[i], err, errlen) == -1)
			goto fail;
	return set;
fail:
	if (d != NULL)
		(void)closedir(d);
	tmpl_set_free(set);
	return NULL;
}

void
tmpl_set_free(struct tmpl_set *set)
{
	size_t i, j;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		struct tmpl *t = &set->tmpls[i];

		for (j = 0; j < t->nnodes; j++)
			free(t->nodes[j].name);
		free(t->nodes);
		free(t->name);
		free(t->path);
		free(t->src);
	}
	free(set->tmpls);
	free(set);
}

/* Rendering. */

static const struct tval *
tmpl_lookup(const struct tmpl_render_state *r, const struct tnode *n)
{
	const struct tval *v = NULL;
	const char *s = n->name, *dot;
	size_t i, seg;

	if (r->nscope == 0)
		return NULL;
	if (n->len == 1 && s[0] == '.')
		return r->scope[r->nscope - 1];
	dot = memchr(s, '.', n->len);
	seg = dot != NULL ? (size_t)(dot - s) : n->len;
	for (i = r->nscope; i > 0; i--) {
		const struct tval *sc = r->scope[i - 1];
		const struct tval_pair *p;

		if (sc == NULL || sc->type != TV_OBJ)
			continue;
		if ((p = tval_find(sc, s, seg)) != NULL) {
			v = p->val;
			break;
		}
	}
	while (v != NULL && dot != NULL) {
		const struct tval_pair *p;

		s = dot + 1;
		dot = memchr(s, '.', n->len - (size_t)(s - n->name));
		seg = dot != NULL ? (size_t)(dot - s)
				  : n->len - (size_t)(s - n->name);
		if (v->type != TV_OBJ)
			return NULL;
		p = tval_find(v, s, seg);
		v = p != NULL ? p->val : NULL;
	}
	return v;
}

/*
 * buf_html, with the Unicode bidirectional embedding, override and isolate
 * controls (U+202A..U+202E, U+2066..U+2069) replaced by U+FFFD: in a user's
 * value they only serve to make "cod.exe" display as "exe.doc".
 */
static void
tmpl_html(struct buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;

	while (i + 2 < n) {
		const unsigned char *e = memchr(u + i, 0xe2, n - 2 - i);

		if (e == NULL)
			break;
		i = (size_t)(e - u);
		if ((u[i + 1] == 0x80 && u[i + 2] >= 0xaa &&
			u[i + 2] <= 0xae) ||
		    (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 &&
			u[i + 2] <= 0xa9)) {
			buf_html(out, s + start, i - start);
			buf_append(out, "\xef\xbf\xbd", 3);
			i += 3;
			start = i;
		} else
			i++;
	}
	buf_html(out, s + start, n - start);
}

static void
tmpl_emit(struct buf *out, const struct tval *v)
{
	char num[32];
	int n;

	if (v == NULL)
		return;
	switch (v->type) {
	case TV_STR:
	case TV_HTML: tmpl_html(out, v->s, v->slen); break;
	case TV_INT:
		n = snprintf(num, sizeof(num), "%lld", v->i);
		if (n > 0 && (size_t)n < sizeof(num))
			buf_append(out, num, (size_t)n);
		break;
	case TV_BOOL: buf_puts(out, v->i ? "true" : "false"); break;
	default: break;
	}
}

static int tmpl_render_nodes(
    struct tmpl_render_state *r, const struct tmpl *t, size_t from, size_t to);

static int
tmpl_render_scoped(struct tmpl_render_state *r, const struct tmpl *t,
    size_t from, size_t to, const struct tval *scope)
{
	int rc;

	if (r->nscope == TMPL_MAX_SCOPE) {
		log_error("%s: scopes nested deeper than %d", t->name,
		    TMPL_MAX_SCOPE);
		return -1;
	}
	r->scope[r->nscope++] = scope;
	rc = tmpl_render_nodes(r, t, from, to);
	r->nscope--;
	return rc;
}

static int
tmpl_render_whole(struct tmpl_render_state *r, const struct tmpl *t)
{
	int rc;

	if (r->nest >= TMPL_MAX_SCOPE) {
		log_error("%s: partials nested deeper than %d", t->name,
		    TMPL_MAX_SCOPE);
		return -1;
	}
	r->nest++;
	rc = tmpl_render_nodes(r, t, 0, t->nnodes);
	r->nest--;
	return rc;
}

static int
tmpl_render_nodes(
    struct tmpl_render_state *r, const struct tmpl *t, size_t from, size_t to)
{
	const struct tmpl *body;
	const struct tval *v;
	const char *msg;
	size_t i = from, k;
	int rc;

	while (i < to) {
		const struct tnode *n = &t->nodes[i];

		switch (n->type) {
		case TN_TEXT: buf_append(r->out, n->text, n->len); break;
		case TN_VAR: tmpl_emit(r->out, tmpl_lookup(r, n)); break;
		case TN_RAW:
			v = tmpl_lookup(r, n);
			if (v != NULL && v->type == TV_HTML)
				buf_append(r->out, v->s, v->slen);
			else
				tmpl_emit(r->out, v);
			break;
		case TN_MESSAGE:
			msg = i18n_get(r->m, r->lang, n->name);
			tmpl_html(r->out, msg, strlen(msg));
			break;
		case TN_SECTION:
			v = tmpl_lookup(r, n);
			if (v != NULL && v->type == TV_LIST) {
				for (k = 0; k < v->n; k++)
					if (tmpl_render_scoped(r, t, i + 1,
						n->end, v->items[k]) == -1)
						return -1;
			} else if (tval_truthy(v)) {
				if (tmpl_render_scoped(
					r, t, i + 1, n->end, v) == -1)
					return -1;
			}
			i = n->end;
			continue;
		case TN_INVERTED:
			v = tmpl_lookup(r, n);
			if (!tval_truthy(v) &&
			    tmpl_render_nodes(r, t, i + 1, n->end) == -1)
				return -1;
			i = n->end;
			continue;
		case TN_PARTIAL:
			if (tmpl_render_whole(r, &r->set->tmpls[n->partial]) ==
			    -1)
				return -1;
			break;
		case TN_SLOT:
			if ((body = r->body) == NULL)
				break;
			/* The body's own {{$body}} renders nothing. */
			r->body = NULL;
			rc = tmpl_render_whole(r, body);
			r->body = body;
			if (rc == -1)
				return -1;
			break;
		default: break;
		}
		i++;
	}
	return 0;
}

int
tmpl_render_layout(const struct tmpl_set *set, const char *layout,
    const char *body, const struct tval *ctx, const struct i18n *m,
    const char *lang, struct buf *out)
{
	struct tmpl_render_state r;
	const struct tmpl *t, *b = NULL;

	if ((t = tmpl_find(set, layout)) == NULL) {
		log_error("unknown template \"%s\"", layout ? layout : "");
		return -1;
	}
	if (body != NULL && (b = tmpl_find(set, body)) == NULL) {
		log_error("unknown template \"%s\"", body);
		return -1;
	}
	r.set = set;
	r.m = m;
	r.lang = lang;
	r.body = b;
	r.out = out;
	r.nscope = 0;
	r.nest = 0;
	r.scope[r.nscope++] = ctx;
	/* out->data is a string even when nothing is rendered. */
	buf_append(out, "", 0);
	return tmpl_render_whole(&r, t);
}

int
tmpl_render(const struct tmpl_set *set, const char *name,
    const struct tval *ctx, const struct i18n *m, const char *lang,
    struct buf *out)
{
	return tmpl_render_layout(set, name, NULL, ctx, m, lang, out);
}
