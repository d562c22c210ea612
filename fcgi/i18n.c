/*
 * i18n: loads the two message catalogues with libyaml into one sorted table
 * of dotted keys with a zh-TW and an en text each, and answers look-ups by
 * binary search. It owns struct i18n; it must never hold a key that is
 * missing from either language, never log while loading and never allocate
 * on the look-up path.
 */
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util.h"

enum i18n_lang { I18N_ZH_TW, I18N_EN, I18N__MAX };

static const char *const i18n_files[I18N__MAX] = {
    "zh-TW.yaml",
    "en.yaml",
};

struct i18n_entry {
	char *key;
	char *val;
	unsigned line, col;
};

/* One catalogue while it loads. */
struct i18n_cat {
	char path[PATH_MAX];
	struct i18n_entry *e;
	size_t n, cap;
};

struct i18n_msg {
	char *key;
	char *val[I18N__MAX];
};

struct i18n {
	struct i18n_msg *msgs; /* sorted by key */
	size_t n;
};

static void
i18n_cat_free(struct i18n_cat *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].val);
	}
	free(c->e);
	c->e = NULL;
	c->n = c->cap = 0;
}

static int
i18n_seg_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static void
i18n_cat_add(struct i18n_cat *c, const char *key, const char *val, size_t vlen,
    const yaml_mark_t *mark)
{
	struct i18n_entry *e;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->e = xrealloc(c->e, c->cap * sizeof(*c->e));
	}
	e = &c->e[c->n++];
	e->key = xstrdup(key);
	e->val = xstrndup(val, vlen);
	e->line = (unsigned)mark->line + 1;
	e->col = (unsigned)mark->column + 1;
}

/*
 * Walks the event stream of one file: a single document whose root is a
 * mapping; keys are scalars; values are non-empty scalars or mappings, which
 * extend the dotted prefix.
 */
static int
i18n_parse(
    struct i18n_cat *c, const char *data, size_t len, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	char key[I18N_KEY_MAX + 1];
	size_t plen[I18N_KEY_MAX / 2 + 1];
	size_t depth = 0, klen = 0;
	int have_key = 0, done = 0, rc = -1, docs = 0;
	yaml_mark_t keymark = {0, 0, 0};

	if (!yaml_parser_initialize(&parser)) {
		str_printf(
		    err, errlen, "%s: cannot start the YAML parser", c->path);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	key[0] = '\0';
	while (!done) {
		unsigned line, col;

		if (!yaml_parser_parse(&parser, &ev)) {
			str_printf(err, errlen, "%s:%lu:%lu: %s%s%s", c->path,
			    (unsigned long)parser.problem_mark.line + 1,
			    (unsigned long)parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "YAML error",
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
			goto out;
		}
		line = (unsigned)ev.start_mark.line + 1;
		col = (unsigned)ev.start_mark.column + 1;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT: break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				str_printf(err, errlen,
				    "%s:%u:%u: one document "
				    "per catalogue",
				    c->path, line, col);
				goto fail;
			}
			break;
		case YAML_STREAM_END_EVENT: done = 1; break;
		case YAML_MAPPING_START_EVENT:
			if (depth > 0 && !have_key) {
				str_printf(err, errlen,
				    "%s:%u:%u: a key must be "
				    "a string",
				    c->path, line, col);
				goto fail;
			}
			if (depth == ARRAY_SIZE(plen) - 1) {
				str_printf(err, errlen,
				    "%s:%u:%u: mappings "
				    "nested too deeply",
				    c->path, line, col);
				goto fail;
			}
			plen[depth++] = klen;
			if (have_key) {
				klen = strlen(key);
				have_key = 0;
			}
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			klen = plen[depth];
			key[klen] = '\0';
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;
			size_t n = ev.data.scalar.length;

			if (depth == 0) {
				str_printf(err, errlen,
				    "%s:%u:%u: expected a "
				    "mapping of message keys",
				    c->path, line, col);
				goto fail;
			}
			if (have_key) {
				if (n == 0) {
					str_printf(err, errlen,
					    "%s:%u:%u: empty "
					    "message for \"%s\"",
					    c->path, line, col, key);
					goto fail;
				}
				i18n_cat_add(c, key, s, n, &keymark);
				key[klen] = '\0';
				have_key = 0;
				break;
			}
			if (!i18n_seg_valid(s, n)) {
				str_printf(err, errlen,
				    "%s:%u:%u: a key uses "
				    "letters, digits, _ and -",
				    c->path, line, col);
				goto fail;
			}
			if (klen + (klen > 0) + n > I18N_KEY_MAX) {
				str_printf(err, errlen,
				    "%s:%u:%u: key longer "
				    "than %d bytes",
				    c->path, line, col, I18N_KEY_MAX);
				goto fail;
			}
			if (klen > 0)
				key[klen] = '.';
			memcpy(key + klen + (klen > 0), s, n);
			key[klen + (klen > 0) + n] = '\0';
			keymark = ev.start_mark;
			have_key = 1;
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
			str_printf(err, errlen,
			    "%s:%u:%u: lists are not "
			    "messages; use a string",
			    c->path, line, col);
			goto fail;
		case YAML_ALIAS_EVENT:
			str_printf(err, errlen,
			    "%s:%u:%u: aliases are not "
			    "allowed",
			    c->path, line, col);
			goto fail;
		default:
			str_printf(err, errlen, "%s:%u:%u: unexpected YAML",
			    c->path, line, col);
			goto fail;
		}
		yaml_event_delete(&ev);
	}
	if (docs == 0) {
		str_printf(err, errlen,
		    "%s:1:1: expected a mapping of message "
		    "keys",
		    c->path);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&parser);
	return rc;
}

static int
i18n_entry_cmp(const void *a, const void *b)
{
	const struct i18n_entry *x = a, *y = b;

	return strcmp(x->key, y->key);
}

static int
i18n_cat_load(struct i18n_cat *c, const char *dir, const char *file, char *err,
    size_t errlen)
{
	char *data;
	size_t len, i;
	int n, rc;

	n = snprintf(c->path, sizeof(c->path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		str_printf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (file_read_all(c->path, I18N_MAX_FILE, &data, &len, err, errlen) ==
	    -1)
		return -1;
	rc = i18n_parse(c, data, len, err, errlen);
	free(data);
	if (rc == -1)
		return -1;
	if (c->n > 0)
		qsort(c->e, c->n, sizeof(*c->e), i18n_entry_cmp);
	for (i = 1; i < c->n; i++) {
		const struct i18n_entry *a = &c->e[i - 1], *b = &c->e[i];

		if (strcmp(a->key, b->key) != 0)
			continue;
		if (a->line > b->line ||
		    (a->line == b->line && a->col > b->col)) {
			b = a;
			a = &c->e[i];
		}
		str_printf(err, errlen,
		    "%s:%u:%u: duplicate key \"%s\" (first "
		    "at line %u)",
		    c->path, b->line, b->col, b->key, a->line);
		return -1;
	}
	return 0;
}

/* Both catalogues sorted: every key must appear in both. */
static int
i18n_check_complete(const struct i18n_cat *a, const struct i18n_cat *b,
    char *err, size_t errlen)
{
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		int cmp;

		if (i == a->n)
			cmp = 1;
		else if (j == b->n)
			cmp = -1;
		else
			cmp = strcmp(a->e[i].key, b->e[j].key);
		if (cmp < 0) {
			str_printf(err, errlen,
			    "%s:%u:%u: key \"%s\" is "
			    "missing from %s",
			    a->path, a->e[i].line, a->e[i].col, a->e[i].key,
			    b->path);
			return -1;
		}
		if (cmp > 0) {
			str_printf(err, errlen,
			    "%s:%u:%u: key \"%s\" is "
			    "missing from %s",
			    b->path, b->e[j].line, b->e[j].col, b->e[j].key,
			    a->path);
			return -1;
		}
		i++;
		j++;
	}
	return 0;
}

struct i18n *
i18n_load(const char *dir, char *err, size_t errlen)
{
	struct i18n_cat cat[I18N__MAX];
	struct i18n *m = NULL;
	size_t i;
	int l;

	if (errlen > 0)
		err[0] = '\0';
	memset(cat, 0, sizeof(cat));
	for (l = 0; l < I18N__MAX; l++)
		if (i18n_cat_load(&cat[l], dir, i18n_files[l], err, errlen) ==
		    -1)
			goto out;
	if (i18n_check_complete(&cat[I18N_ZH_TW], &cat[I18N_EN], err, errlen) ==
	    -1)
		goto out;
	m = xcalloc(1, sizeof(*m));
	m->n = cat[I18N_ZH_TW].n;
	m->msgs = xcalloc(m->n, sizeof(*m->msgs));
	for (i = 0; i < m->n; i++) {
		/* Ownership moves from the catalogues to the table. */
		m->msgs[i].key = cat[I18N_ZH_TW].e[i].key;
		cat[I18N_ZH_TW].e[i].key = NULL;
		for (l = 0; l < I18N__MAX; l++) {
			m->msgs[i].val[l] = cat[l].e[i].val;
			cat[l].e[i].val = NULL;
		}
	}
out:
	for (l = 0; l < I18N__MAX; l++)
		i18n_cat_free(&cat[l]);
	return m;
}

void
i18n_free(struct i18n *m)
{
	size_t i;
	int l;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->msgs[i].key);
		for (l = 0; l < I18N__MAX; l++)
			free(m->msgs[i].val[l]);
	}
	free(m->msgs);
	free(m);
}

static int
i18n_msg_cmp(const void *key, const void *elem)
{
	const struct i18n_msg *msg = elem;

	return strcmp(key, msg->key);
}

static const struct i18n_msg *
i18n_find(const struct i18n *m, const char *key)
{
	if (m == NULL || m->n == 0 || key == NULL)
		return NULL;
	return bsearch(key, m->msgs, m->n, sizeof(*m->msgs), i18n_msg_cmp);
}

const char *
i18n_get(const struct i18n *m, const char *lang, const char *key)
{
	const struct i18n_msg *msg;

	if (key == NULL)
		return "";
	if ((msg = i18n_find(m, key)) == NULL)
		return key;
	if (lang != NULL && strcmp(lang, "en") == 0 &&
	    msg->val[I18N_EN] != NULL)
		return msg->val[I18N_EN];
	if (msg->val[I18N_ZH_TW] != NULL)
		return msg->val[I18N_ZH_TW];
	if (msg->val[I18N_EN] != NULL)
		return msg->val[I18N_EN];
	return key;
}

int
i18n_has(const struct i18n *m, const char *key)
{
	return i18n_find(m, key) != NULL;
}

size_t
i18n_count(const struct i18n *m)
{
	return m != NULL ? m->n : 0;
}

/* Case-insensitive: is the language tag s (n bytes) prim or prim-...? */
static int
i18n_tag_is(const char *s, size_t n, const char *prim)
{
	size_t pl = strlen(prim);

	return n >= pl && strncasecmp(s, prim, pl) == 0 &&
	    (n == pl || s[pl] == '-' || s[pl] == '_');
}

/* Parses a qvalue ("1", "0.8", "0.125") into 0..1000; -1 when invalid. */
static int
i18n_qvalue(const char *s, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
		scale /= 10;
	}
	return q > 1000 ? -1 : q;
}

static const char *
i18n_trim(const char *s, const char *e, size_t *n)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*n = (size_t)(e - s);
	return s;
}

const char *
i18n_pick_lang(const char *cookie_lang, const char *accept_language)
{
	const char *p, *end, *item, *semi, *tag, *qs;
	int best_en = 0, best_zh = 0;
	size_t tn, qn;

	if (cookie_lang != NULL) {
		if (strcmp(cookie_lang, "en") == 0)
			return "en";
		if (strcmp(cookie_lang, "zh-TW") == 0)
			return "zh-TW";
	}
	if (accept_language == NULL)
		return "zh-TW";
	p = accept_language;
	while (*p != '\0') {
		int q = 1000;

		item = p;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		p = *end == ',' ? end + 1 : end;
		semi = memchr(item, ';', (size_t)(end - item));
		tag = i18n_trim(item, semi != NULL ? semi : end, &tn);
		if (semi != NULL) {
			qs = i18n_trim(semi + 1, end, &qn);
			if (qn < 2 || (qs[0] != 'q' && qs[0] != 'Q') ||
			    qs[1] != '=')
				continue;
			if ((q = i18n_qvalue(qs + 2, qn - 2)) == -1)
				continue;
		}
		/* Equal weights: the earlier tag wins, as browsers order by
		 * preference. */
		if (i18n_tag_is(tag, tn, "en") && q > best_en &&
		    !(q == best_zh && best_zh > 0))
			best_en = q;
		else if (i18n_tag_is(tag, tn, "zh") && q > best_zh &&
		    !(q == best_en && best_en > 0))
			best_zh = q;
	}
	return best_en > best_zh ? "en" : "zh-TW";
}
