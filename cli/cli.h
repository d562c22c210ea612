/*
 * cli: what the `licheng` command's files share: the shape of a command
 * (one row of the table in main.c) and the commands each cli/cmd_<area>.c
 * provides. A command returns the process exit status: 0 success, 1
 * failure, 2 usage. Commands print results to stdout and errors to stderr
 * (through log); they never exit() themselves.
 */
#ifndef LICHENG_CLI_H
#define LICHENG_CLI_H

struct conf;

struct cli_cmd {
	const char *name; /* one or two words: "migrate", "store init" */
	int (*run)(const struct conf *c, int argc, char **argv);
	const char *usage; /* arguments and a short description */
};

/* cli/cmd_migrate.c */
int cmd_migrate_run(const struct conf *c, int argc, char **argv);
int cmd_migrate_bootstrap_sql(const struct conf *c, int argc, char **argv);

/* cli/cmd_store.c */
int cmd_store_init(const struct conf *c, int argc, char **argv);
int cmd_store_check(const struct conf *c, int argc, char **argv);

/* cli/cmd_audit.c: as the read-only audit account. verify exits 0 when the
 * chain is whole, 1 when it is broken (naming the first bad row), 2 on a
 * usage, connection or database error. */
int cmd_audit_verify(const struct conf *c, int argc, char **argv);
int cmd_audit_tail(const struct conf *c, int argc, char **argv);

/* cli/cmd_import.c: `licheng import KIND --school CODE FILE [--dry-run]
 * [--encoding utf-8|big5] [--report FILE]`: 0 checked clean or applied, 1
 * bad rows (each printed with its row, column and reason; nothing
 * changed) or refused, 2 usage or a database error. */
int cmd_import(const struct conf *c, int argc, char **argv);

/* cli/cmd_review.c: the periodic account review of a school, and the
 * sweep that disables the accounts of graduated and departed students
 * after accounts.grace_days (what licheng-worker runs every
 * accounts.sweep_interval). */
int cmd_accounts_review(const struct conf *c, int argc, char **argv);
int cmd_accounts_sweep(const struct conf *c, int argc, char **argv);

/* cli/cmd_jobs.c: the job queue for operators (`licheng jobs`, `jobs
 * list`, `jobs show ID`, `jobs retry ID`, `jobs workers`, `jobs probe [N]
 * [--sleep MS]`): 0 done, 1 refused (a retry of a job that is not dead, an
 * unknown id) or failed, 2 usage. */
int cmd_jobs_list(const struct conf *c, int argc, char **argv);
int cmd_jobs_show(const struct conf *c, int argc, char **argv);
int cmd_jobs_retry(const struct conf *c, int argc, char **argv);
int cmd_jobs_workers(const struct conf *c, int argc, char **argv);
int cmd_jobs_probe(const struct conf *c, int argc, char **argv);

/* cli/cmd_pki.c: the school platform's signing key. `pki init-school
 * [--cn HOST] [--org NAME] [--out DIR]` creates it once (secrets file,
 * platform_keys, request and self-signed certificate; a second run only
 * completes what is missing); `pki show` exits 1 when it is not set up or
 * matches no platform_keys row; `verify-cert [--text] ITEM` exits 0 when
 * every decision verifies, 1 when one fails or the current one is stale,
 * 2 for no such item, a usage or a database error. */
int cmd_pki_init_school(const struct conf *c, int argc, char **argv);
int cmd_pki_show(const struct conf *c, int argc, char **argv);
int cmd_verify_cert(const struct conf *c, int argc, char **argv);

/* Identifiers and secrets that the runner must put into SQL text: account
 * names and database names ([A-Za-z0-9_], 1..64), grant hosts
 * ([A-Za-z0-9_.%:-], 1..255) and passwords (printable ASCII without quote,
 * backslash or space, 1..128). 1 when acceptable. */
int cli_sql_ident_ok(const char *s);
int cli_sql_host_ok(const char *s);
int cli_sql_secret_ok(const char *s);

#endif
