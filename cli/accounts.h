/*
 * accounts: the operator commands that make schools and personal accounts.
 * Each takes the loaded configuration and its own arguments (argv[0] is the
 * subcommand's name) and returns the process exit status: 0 done, 1 refused
 * or failed (the reason printed), 2 usage.
 */
#ifndef LICHENG_CLI_ACCOUNTS_H
#define LICHENG_CLI_ACCOUNTS_H

struct conf;

int cli_school_add(const struct conf *c, int argc, char **argv);
int cli_user_add(const struct conf *c, int argc, char **argv);
int cli_demo_seed(const struct conf *c, int argc, char **argv);

#endif
