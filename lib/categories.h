/*
 * categories: the categories of diverse performances (多元表現) from the
 * YAML file items.categories names (conf/categories.yaml ships the
 * Ministry's list). A category either is chosen itself ("cadre") or through
 * one of its kinds ("ability.volunteer"); the chosen code is what an item
 * stores. Loading checks everything and reports the first mistake as
 * "file:line:column: what was expected".
 */
#ifndef LICHENG_CATEGORIES_H
#define LICHENG_CATEGORIES_H

#include <stddef.h>

/* A code is 1..32 of [a-z0-9_]; a kind's full code is "<cat>.<kind>". */
#define CATEGORY_CODE_MAX 65

/* One choice a student can make: a category without kinds, or a kind. */
struct category_choice {
	char code[CATEGORY_CODE_MAX + 1]; /* "cadre", "ability.volunteer" */
	const char *zh; /* "志工服務" (the kind's name) */
	const char *en;
	const char *group_zh; /* the category's name ("多元能力"), or the
			       * category itself for one without kinds */
	const char *group_en;
};

struct categories;

/* Loads the file. NULL with err "path:line:column: message" (or "path:
 * cannot open: ...") on any mistake: not a list, an unknown or missing key,
 * a bad or duplicate code, an empty name, a kinds list that is empty. */
struct categories *categories_load(const char *path, char *err, size_t errlen);
void categories_free(struct categories *c);
/* The choices in file order. */
size_t categories_count(const struct categories *c);
const struct category_choice *
categories_at(const struct categories *c, size_t i);
/* The choice with this code, or NULL. */
const struct category_choice *
categories_find(const struct categories *c, const char *code);

#endif
