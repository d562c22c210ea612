/*
 * cli: helpers shared by the `licheng` command files. The checks here guard
 * the few values (from the configuration and secrets) that the migrations
 * runner must place into SQL text because MariaDB takes no parameters in
 * CREATE USER or GRANT; they never try to escape, only refuse.
 */
#include "cli.h"

#include <string.h>

static int
cli_chars_ok(const char *s, size_t max, const char *extra)
{
	size_t n;
	const char *p;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_')
			continue;
		if (extra != NULL && strchr(extra, *p) != NULL)
			continue;
		return 0;
	}
	return 1;
}

int
cli_sql_ident_ok(const char *s)
{
	return cli_chars_ok(s, 64, NULL);
}

int
cli_sql_host_ok(const char *s)
{
	return cli_chars_ok(s, 255, ".%:-");
}

int
cli_sql_secret_ok(const char *s)
{
	size_t n;
	const char *p;

	if (s == NULL || (n = strlen(s)) == 0 || n > 128)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '\'' || *p == '\\' ||
		    *p == '"' || *p == '`')
			return 0;
	return 1;
}
