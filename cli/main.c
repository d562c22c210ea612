/*
 * main: the `licheng` operators' command. It owns option parsing, loading
 * the configuration and the one table of commands; each command lives in
 * cli/cmd_<area>.c. It must never run a command on a configuration that did
 * not load cleanly.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "cli.h"
#include "conf.h"
#include "log.h"
#include "util.h"

static int main_help(const struct conf *c, int argc, char **argv);

/* Add a command here: its name (one or two words), its function and its
 * usage line. Commands are matched on the longest name first by the
 * number of words, so "store init" and "store" can coexist. */
static const struct cli_cmd main_cmds[] = {
    {"migrate", cmd_migrate_run,
	"[--dir DIR]      apply new migrations, ensure the accounts"},
    {"db bootstrap-sql", cmd_migrate_bootstrap_sql,
	"        print the SQL that creates the migrate account"},
    {"store init", cmd_store_init,
	"              initialise both store roots once"},
    {"store check", cmd_store_check,
	"             print each store root's state"},
    {"school add", cli_school_add, "--code CODE --name NAME  add a school"},
    {"user add", cli_user_add,
	"[--school CODE] --role ROLE ...  issue a personal account"},
    {"demo seed", cli_demo_seed,
	"               the demo stack's schools and accounts"},
    {"audit verify", cmd_audit_verify,
	"            check the audit log's hash chain"},
    {"audit tail", cmd_audit_tail,
	"[--limit N]   the last N audit rows as JSON lines"},
    {"import", cmd_import,
	"students|teachers|courses|enrolments --school CODE FILE [--dry-run] "
	"[--encoding utf-8|big5]  import a school's CSV file"},
    {"accounts review", cmd_accounts_review,
	"--school CODE [--csv]  list accounts for the periodic review"},
    {"accounts sweep", cmd_accounts_sweep,
	"          disable accounts past their grace period now"},
    {"jobs", cmd_jobs_list,
	"[list]              jobs by type and state, the oldest pending"},
    {"jobs list", cmd_jobs_list, "               the same as jobs"},
    {"jobs show", cmd_jobs_show, "ID             one job and its attempts"},
    {"jobs retry", cmd_jobs_retry,
	"ID            run a dead job again (audited)"},
    {"jobs workers", cmd_jobs_workers,
	"            worker processes on every host"},
    {"jobs probe", cmd_jobs_probe,
	"[N] [--sleep MS]  enqueue N probe jobs (a test of the queue)"},
    {"pki init-school", cmd_pki_init_school,
	"[--cn HOST] [--org NAME] [--out DIR]  create the platform's "
	"signing key (once)"},
    {"pki show", cmd_pki_show,
	"                the signing key and its platform_keys row"},
    {"verify-cert", cmd_verify_cert,
	"[--text] ITEM   verify an item's signed certification decisions"},
    {"help", main_help, "                    this text"},
};

static void
main_usage(void)
{
	size_t i;

	fprintf(stderr,
	    "usage: licheng [-n] [-c FILE] COMMAND [ARGS]\n"
	    "  -c FILE  configuration (else $LICHENG_CONF, else %s)\n"
	    "  -n       check the configuration and exit\n"
	    "commands:\n",
	    conf_default_path(NULL));
	for (i = 0; i < ARRAY_SIZE(main_cmds); i++)
		fprintf(
		    stderr, "  %s %s\n", main_cmds[i].name, main_cmds[i].usage);
}

static int
main_help(const struct conf *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	main_usage();
	return 2;
}

/* How many words of argv the command name matches (0 if it does not). */
static int
main_match(const char *name, int argc, char **argv)
{
	const char *p = name, *sp;
	size_t len;
	int words = 0;

	while (*p != '\0') {
		if (words >= argc)
			return 0;
		sp = strchr(p, ' ');
		len = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (strlen(argv[words]) != len ||
		    strncmp(argv[words], p, len) != 0)
			return 0;
		words++;
		p += len;
		if (*p == ' ')
			p++;
	}
	return words;
}

int
main(int argc, char **argv)
{
	const struct cli_cmd *cmd = NULL;
	const char *cli_path = NULL;
	struct conf *c;
	char err[CONF_ERR_MAX];
	enum log_level level;
	size_t i;
	int ch, check_only = 0, words = 0, w, rc;

	if (log_open("-", LL_INFO) != 0) {
		fprintf(stderr, "licheng: cannot log to standard error\n");
		return 1;
	}
	log_set_proc("licheng");
	/* A peer that went away must come back as EPIPE, not kill us. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_error("ignoring SIGPIPE failed");
		return 1;
	}
	while ((ch = getopt(argc, argv, "+c:nh")) != -1) {
		switch (ch) {
		case 'c': cli_path = optarg; break;
		case 'n': check_only = 1; break;
		default: main_usage(); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (!check_only) {
		if (argc == 0) {
			main_usage();
			return 2;
		}
		for (i = 0; i < ARRAY_SIZE(main_cmds); i++) {
			w = main_match(main_cmds[i].name, argc, argv);
			if (w > words) {
				words = w;
				cmd = &main_cmds[i];
			}
		}
		if (cmd == NULL) {
			fprintf(
			    stderr, "licheng: unknown command: %s\n", argv[0]);
			main_usage();
			return 2;
		}
		if (cmd->run == main_help)
			return main_help(NULL, 0, NULL);
	}
	if ((c = conf_load(conf_default_path(cli_path), err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check_only) {
		fprintf(stderr, "configuration OK\n");
		conf_free(c);
		return 0;
	}
	/* Always standard error, at the configured level. */
	if (c->log_level != NULL &&
	    log_level_parse(c->log_level, &level) == 0 &&
	    log_open("-", level) != 0) {
		fprintf(stderr, "licheng: cannot log to standard error\n");
		conf_free(c);
		return 1;
	}
	/* The command sees its own arguments, its name as argv[0]. */
	rc = cmd->run(c, argc - words + 1, argv + words - 1);
	conf_free(c);
	return rc;
}
