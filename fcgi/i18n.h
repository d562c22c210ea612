/*
 * i18n: the message catalogues (conf/messages/zh-TW.yaml and en.yaml),
 * loaded once with libyaml as flat dotted keys and looked up by binary
 * search on the request path. Every user-visible string lives in them, never
 * in C. Loading refuses catalogues that do not define exactly the same keys;
 * it never logs, it reports "file:line:column: what is wrong".
 */
#ifndef LICHENG_I18N_H
#define LICHENG_I18N_H

#include <stddef.h>

struct i18n;

#define I18N_ERR_MAX 512
/* Longest dotted key and largest catalogue file accepted. */
#define I18N_KEY_MAX 128
#define I18N_MAX_FILE (1024 * 1024)

/* Loads dir/zh-TW.yaml and dir/en.yaml. NULL + err on failure; the result
 * owns all its strings and is released with i18n_free (which accepts NULL). */
struct i18n *i18n_load(const char *dir, char *err, size_t errlen);
void i18n_free(struct i18n *m);

/* The message for key in lang, falling back zh-TW -> en -> the key itself.
 * m NULL returns key. The result lives as long as m (or key). */
const char *i18n_get(const struct i18n *m, const char *lang, const char *key);
/* 1 when key is defined, else 0. */
int i18n_has(const struct i18n *m, const char *key);
/* Number of keys (each defined in both languages). */
size_t i18n_count(const struct i18n *m);

/* "en" when the cookie says en, or, without a language cookie, when
 * Accept-Language gives English a higher preference than any Chinese;
 * "zh-TW" otherwise. Either argument may be NULL. Returns a static string. */
const char *
i18n_pick_lang(const char *cookie_lang, const char *accept_language);

#endif
