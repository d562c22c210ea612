/*
 * accounts: the operator commands that make schools and personal accounts.
 * Each takes the loaded configuration and its own arguments (argv[0] is the
 * subcommand's name) and returns the process exit status: 0 done, 1 refused
 * or failed (the reason printed), 2 usage.
 */
#ifndef LICHENG_CLI_ACCOUNTS_H
#define LICHENG_CLI_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct db;

int cli_school_add(const struct conf *c, int argc, char **argv);
int cli_user_add(const struct conf *c, int argc, char **argv);
int cli_demo_seed(const struct conf *c, int argc, char **argv);

/* The audit actor of an operator's command: "cli:" and the effective unix
 * user's name, or "cli" when that is unknown or longer than the audit log's
 * actor column. */
void cli_actor(char *out, size_t outlen);

/* The id of the school with code into *id (0 when there is none). 0, or
 * -1 on a database error. */
int cli_school_id(struct db *db, const char *code, uint64_t *id);

#endif
