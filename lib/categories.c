/*
 * categories: loads the diverse-performance categories file with libyaml's
 * document API and checks it whole: a sequence of mappings with exactly the
 * keys code, zh-TW, en and (optionally) kinds, itself a non-empty sequence
 * of mappings with code, zh-TW and en. Every mistake is reported at the
 * node it concerns as "file:line:column: message". The result is a flat
 * list of the choices a student can make.
 */
#include "categories.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"

#define CAT_FILE_MAX (256 * 1024)
#define CAT_CODE_PART_MAX 32
#define CAT_NAME_MAX 100 /* bytes of a name */

struct categories {
	struct category_choice *v;
	size_t n, cap;
	char **strings; /* the names, owned */
	size_t nstrings, capstrings;
};

struct cat_ctx {
	const char *path;
	yaml_document_t *doc;
	struct categories *c;
	char *err;
	size_t errlen;
};

static int cat_fail(struct cat_ctx *x, const yaml_node_t *node, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
cat_fail(struct cat_ctx *x, const yaml_node_t *node, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node != NULL)
		str_printf(x->err, x->errlen, "%s:%lu:%lu: %s", x->path,
		    (unsigned long)node->start_mark.line + 1,
		    (unsigned long)node->start_mark.column + 1, msg);
	else
		str_printf(x->err, x->errlen, "%s: %s", x->path, msg);
	return -1;
}

static const char *
cat_scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE
	    ? (const char *)n->data.scalar.value
	    : NULL;
}

static char *
cat_keep(struct categories *c, const char *s)
{
	if (c->nstrings == c->capstrings) {
		c->capstrings = c->capstrings ? c->capstrings * 2 : 32;
		c->strings =
		    xrealloc(c->strings, c->capstrings * sizeof(*c->strings));
	}
	return c->strings[c->nstrings++] = xstrdup(s);
}

static int
cat_code_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CAT_CODE_PART_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* The fields of one mapping: code, zh-TW, en, and kinds when allowed. */
struct cat_fields {
	yaml_node_t *code, *zh, *en, *kinds;
};

static int
cat_mapping(
    struct cat_ctx *x, yaml_node_t *map, int allow_kinds, struct cat_fields *f)
{
	yaml_node_pair_t *pair;
	yaml_node_t *k, *v, **slot;
	const char *key, *s;

	memset(f, 0, sizeof(*f));
	if (map->type != YAML_MAPPING_NODE)
		return cat_fail(x, map,
		    "expected a mapping with code, zh-TW and en%s",
		    allow_kinds ? " (and kinds)" : "");
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(x->doc, pair->key);
		v = yaml_document_get_node(x->doc, pair->value);
		if ((key = cat_scalar(k)) == NULL)
			return cat_fail(x, k, "expected a key");
		if (strcmp(key, "code") == 0)
			slot = &f->code;
		else if (strcmp(key, "zh-TW") == 0)
			slot = &f->zh;
		else if (strcmp(key, "en") == 0)
			slot = &f->en;
		else if (allow_kinds && strcmp(key, "kinds") == 0)
			slot = &f->kinds;
		else
			return cat_fail(x, k,
			    "unknown key \"%.40s\"; expected code, zh-TW, en%s",
			    key, allow_kinds ? " or kinds" : "");
		if (*slot != NULL)
			return cat_fail(x, k, "\"%s\" is given twice", key);
		*slot = v;
		if (slot == &f->kinds)
			continue;
		if ((s = cat_scalar(v)) == NULL)
			return cat_fail(x, v, "%s: expected text", key);
		if (slot == &f->code && !cat_code_ok(s))
			return cat_fail(x, v,
			    "code: expected 1 to 32 characters of [a-z0-9_]");
		if (slot != &f->code &&
		    (s[0] == '\0' || strlen(s) > CAT_NAME_MAX))
			return cat_fail(x, v,
			    "%s: expected a name of 1 to %d bytes", key,
			    CAT_NAME_MAX);
	}
	if (f->code == NULL || f->zh == NULL || f->en == NULL)
		return cat_fail(x, map, "missing %s",
		    f->code == NULL     ? "code"
			: f->zh == NULL ? "zh-TW"
					: "en");
	return 0;
}

static int
cat_add(struct cat_ctx *x, yaml_node_t *at, const char *code,
    const struct cat_fields *name, const struct cat_fields *group)
{
	struct categories *c = x->c;
	struct category_choice *ch;

	if (categories_find(c, code) != NULL)
		return cat_fail(x, at, "code \"%s\" is used twice", code);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	ch = &c->v[c->n];
	memset(ch, 0, sizeof(*ch));
	if (str_copy(ch->code, sizeof(ch->code), code) != 0)
		return cat_fail(x, at, "code too long");
	ch->zh = cat_keep(c, cat_scalar(name->zh));
	ch->en = cat_keep(c, cat_scalar(name->en));
	ch->group_zh = cat_keep(c, cat_scalar(group->zh));
	ch->group_en = cat_keep(c, cat_scalar(group->en));
	c->n++;
	return 0;
}

static int
cat_walk(struct cat_ctx *x, yaml_node_t *root)
{
	yaml_node_item_t *it, *kt;
	yaml_node_t *node, *kn;
	struct cat_fields cat, kind;
	char code[CATEGORY_CODE_MAX + 1];

	if (root == NULL)
		return cat_fail(x, NULL,
		    "the file is empty; expected a list "
		    "of categories");
	if (root->type != YAML_SEQUENCE_NODE)
		return cat_fail(x, root, "expected a list of categories");
	for (it = root->data.sequence.items.start;
	     it < root->data.sequence.items.top; it++) {
		node = yaml_document_get_node(x->doc, *it);
		if (cat_mapping(x, node, 1, &cat) != 0)
			return -1;
		if (cat.kinds == NULL) {
			if (cat_add(x, cat.code, cat_scalar(cat.code), &cat,
				&cat) != 0)
				return -1;
			continue;
		}
		if (cat.kinds->type != YAML_SEQUENCE_NODE ||
		    cat.kinds->data.sequence.items.start ==
			cat.kinds->data.sequence.items.top)
			return cat_fail(x, cat.kinds,
			    "kinds: expected a non-empty list of kinds");
		for (kt = cat.kinds->data.sequence.items.start;
		     kt < cat.kinds->data.sequence.items.top; kt++) {
			kn = yaml_document_get_node(x->doc, *kt);
			if (cat_mapping(x, kn, 0, &kind) != 0)
				return -1;
			str_printf(code, sizeof(code), "%s.%s",
			    cat_scalar(cat.code), cat_scalar(kind.code));
			if (cat_add(x, kind.code, code, &kind, &cat) != 0)
				return -1;
		}
	}
	if (x->c->n == 0)
		return cat_fail(x, root, "the list of categories is empty");
	return 0;
}

struct categories *
categories_load(const char *path, char *err, size_t errlen)
{
	struct categories *c = xcalloc(1, sizeof(*c));
	struct cat_ctx x = {path, NULL, c, err, errlen};
	yaml_parser_t parser;
	yaml_document_t doc;
	char *data = NULL;
	size_t len = 0;
	int rc = -1;

	err[0] = '\0';
	if (file_read_all(path, CAT_FILE_MAX, &data, &len, err, errlen) != 0) {
		if (err[0] == '\0')
			str_printf(err, errlen, "%s: cannot open: %s", path,
			    strerror(errno));
		categories_free(c);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		str_printf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		str_printf(err, errlen, "%s:%lu:%lu: %s", path,
		    (unsigned long)parser.problem_mark.line + 1,
		    (unsigned long)parser.problem_mark.column + 1,
		    parser.problem != NULL ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		goto out;
	}
	x.doc = &doc;
	rc = cat_walk(&x, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
out:
	free(data);
	if (rc != 0) {
		categories_free(c);
		return NULL;
	}
	return c;
}

void
categories_free(struct categories *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nstrings; i++)
		free(c->strings[i]);
	free(c->strings);
	free(c->v);
	free(c);
}

size_t
categories_count(const struct categories *c)
{
	return c->n;
}

const struct category_choice *
categories_at(const struct categories *c, size_t i)
{
	return i < c->n ? &c->v[i] : NULL;
}

const struct category_choice *
categories_find(const struct categories *c, const char *code)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].code, code) == 0)
			return &c->v[i];
	return NULL;
}
