/*
 * test_conf: lib/conf.c against the shipped examples and against one small
 * file per error class, checking the exact "file:line:column: message". It
 * runs from the repository root, writes its files into a mkdtemp folder and
 * removes them; it needs no servers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

#include "../harness.h"

static char tdir[] = "/tmp/licheng-test-conf-XXXXXX";
static char secrets_path[256];
static char conf_path[256];

static const char valid_secrets[] =
    "database:\n"
    "  app_password: app-secret-0123456789\n"
    "  worker_password: worker-secret-0123456789\n"
    "  audit_password: audit-secret-0123456789\n"
    "  central_password: central-secret-0123456789\n"
    "  migrate_password: migrate-secret-0123456789\n"
    "redis:\n"
    "  password: redis-secret-0123456789\n"
    "keys:\n"
    "  data: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
    "  lookup: ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";

/* Lines 1-6 of most test files; a test appends from line 7 on, which still
 * belongs to the fcgi mapping when indented. */
static const char base[] =
    "secrets_file: @S\n"
    "store:\n"
    "  primary: /srv/a\n"
    "  replica: /srv/b\n"
    "fcgi:\n"
    "  socket: /run/l/fcgi.sock\n";

static void
path_in(char *out, size_t outlen, const char *name)
{
	if (snprintf(out, outlen, "%s/%s", tdir, name) >= (int)outlen) {
		fprintf(stderr, "path too long\n");
		exit(2);
	}
}

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(text, 1, len, f) != len || fclose(f) != 0 ||
	    chmod(path, mode) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(2);
	}
}

static void
write_secrets(const char *text)
{
	write_file(secrets_path, text, strlen(text), 0600);
}

/* Writes text to conf_path with every "@S" replaced by the secrets path. */
static void
write_conf(const char *text)
{
	struct buf b;
	const char *p = text, *at;

	buf_init(&b);
	while ((at = strstr(p, "@S")) != NULL) {
		buf_append(&b, p, (size_t)(at - p));
		buf_puts(&b, secrets_path);
		p = at + 2;
	}
	buf_puts(&b, p);
	write_file(conf_path, b.data, b.len, 0644);
	buf_free(&b);
}

static struct conf *
load_text(const char *text, char *err, size_t errlen)
{
	write_conf(text);
	return conf_load(conf_path, err, errlen);
}

/* base + extra must fail with "conf_path:line:col: msg". */
static int
fails_at(const char *extra, int line, int col, const char *msg)
{
	char err[CONF_ERR_MAX], want[CONF_ERR_MAX];
	struct conf *c;
	struct buf b;
	int ok;

	buf_init(&b);
	buf_puts(&b, base);
	buf_puts(&b, extra);
	c = load_text(b.data, err, sizeof(err));
	buf_free(&b);
	snprintf(want, sizeof(want), "%s:%d:%d: %s", conf_path, line, col, msg);
	ok = c == NULL && strcmp(err, want) == 0;
	if (!ok)
		fprintf(stderr, "  want: %s\n  got:  %s\n", want,
		    c ? "(loaded)" : err);
	conf_free(c);
	return ok;
}

/* Whole text (with @S) must fail with "file:line:col: msg". */
static int
text_fails_at(const char *file, const char *text, int line, int col,
    const char *msg)
{
	char err[CONF_ERR_MAX], want[CONF_ERR_MAX];
	struct conf *c;
	int ok;

	c = load_text(text, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:%d:%d: %s", file, line, col, msg);
	ok = c == NULL && strcmp(err, want) == 0;
	if (!ok)
		fprintf(stderr, "  want: %s\n  got:  %s\n", want,
		    c ? "(loaded)" : err);
	conf_free(c);
	return ok;
}

static char *
read_all(const char *path)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s (run from the repository root)\n", path,
		    strerror(errno));
		exit(2);
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

/* The shipped examples load once secrets_file points at a copy of the
 * secrets example. */
static void
test_examples(void)
{
	char err[CONF_ERR_MAX], *text, *line, *eol;
	struct conf *c;
	struct buf b;

	text = read_all("conf/secrets.example.yaml");
	write_file(secrets_path, text, strlen(text), 0600);
	free(text);

	text = read_all("conf/licheng.example.yaml");
	line = strstr(text, "\nsecrets_file:");
	CHECK(line != NULL);
	if (line == NULL) {
		free(text);
		return;
	}
	eol = strchr(line + 1, '\n');
	buf_init(&b);
	buf_append(&b, text, (size_t)(line - text));
	buf_puts(&b, "\nsecrets_file: @S");
	buf_puts(&b, eol ? eol : "\n");
	free(text);
	c = load_text(b.data, err, sizeof(err));
	buf_free(&b);
	CHECK_MSG(c != NULL, "example: %s", err);
	if (c == NULL)
		return;
	CHECK(strcmp(c->db_socket, "/run/mysqld/mysqld.sock") == 0);
	CHECK(c->redis_socket != NULL && c->redis_socket[0] == '\0');
	CHECK(c->fcgi_socket_mode == 0660);
	CHECK(c->fcgi_children == 8 && c->worker_max_children == 32);
	CHECK(strcmp(c->store_replica, "/srv/licheng/store-b") == 0);
	CHECK(strcmp(c->redis_prefix, "licheng:") == 0);
	CHECK(strcmp(c->secret_db_app_password,
	    "CHANGE-ME-app-0000000000") == 0);
	CHECK(c->secret_redis_password != NULL &&
	    c->secret_redis_password[0] == '\0');
	conf_free(c);
}

static void
test_defaults(void)
{
	char err[CONF_ERR_MAX];
	struct conf *c;

	write_file(secrets_path, valid_secrets, strlen(valid_secrets), 0600);
	c = load_text(base, err, sizeof(err));
	CHECK_MSG(c != NULL, "minimal: %s", err);
	if (c == NULL)
		return;
	CHECK(strcmp(c->path, conf_path) == 0);
	CHECK(strcmp(c->secrets_file, secrets_path) == 0);
	CHECK(strcmp(c->log_file, "-") == 0 &&
	    strcmp(c->log_level, "info") == 0);
	CHECK(c->db_socket[0] == '\0' && strcmp(c->db_host, "127.0.0.1") == 0);
	CHECK(c->db_port == 3306 && c->db_connect_timeout == 5 &&
	    c->db_rw_timeout == 30);
	CHECK(strcmp(c->db_name, "licheng") == 0 &&
	    strcmp(c->db_central_name, "licheng_central") == 0 &&
	    strcmp(c->db_grant_host, "localhost") == 0);
	CHECK(strcmp(c->db_app_user, "licheng_app") == 0 &&
	    strcmp(c->db_worker_user, "licheng_worker") == 0 &&
	    strcmp(c->db_audit_user, "licheng_audit") == 0 &&
	    strcmp(c->db_central_user, "licheng_central") == 0 &&
	    strcmp(c->db_migrate_user, "licheng_migrate") == 0);
	CHECK(c->redis_socket[0] == '\0' && c->redis_port == 6379 &&
	    c->redis_timeout_ms == 2000 &&
	    strcmp(c->redis_prefix, "licheng:") == 0);
	CHECK(strcmp(c->migrations_dir,
	    LICHENG_PREFIX "/share/licheng/migrations") == 0);
	CHECK(strcmp(c->templates_dir,
	    LICHENG_PREFIX "/share/licheng/templates") == 0);
	CHECK(strcmp(c->static_dir,
	    LICHENG_PREFIX "/share/licheng/static") == 0);
	CHECK(strcmp(c->messages_dir,
	    LICHENG_PREFIX "/share/licheng/messages") == 0);
	CHECK(c->fcgi_socket_mode == 0660 && c->fcgi_backlog == 1024 &&
	    c->fcgi_children == 8 && c->fcgi_max_requests == 10000 &&
	    c->fcgi_request_timeout == 60 && c->fcgi_slow_request == 5 &&
	    c->fcgi_drain_timeout == 30 && c->fcgi_pid_file[0] == '\0');
	CHECK(c->worker_children == 2 && c->worker_max_children == 32 &&
	    c->worker_heartbeat == 5 && c->worker_drain_timeout == 300 &&
	    c->worker_pid_file[0] == '\0');
	CHECK(c->demo == 0);
	CHECK(strcmp(c->secret_db_migrate_password,
	    "migrate-secret-0123456789") == 0 &&
	    strcmp(c->secret_redis_password, "redis-secret-0123456789") == 0);
	conf_free(c);

	/* Values that are set win; an octal mode keeps its octal meaning. */
	c = load_text("secrets_file: @S\n"
	    "store: {primary: /srv/a, replica: /srv/b}\n"
	    "fcgi:\n  socket: /run/l/fcgi.sock\n  socket_mode: 0640\n"
	    "  children: 1024\n  max_requests: 0\n  slow_request: 0\n"
	    "database:\n  socket: /run/db.sock\n  host: \"\"\n"
	    "log:\n  level: debug\n  file: /var/log/licheng.log\n"
	    "paths:\n" "demo: true\n", err, sizeof(err));
	CHECK_MSG(c != NULL, "explicit: %s", err);
	if (c != NULL) {
		CHECK(c->fcgi_socket_mode == 0640 && c->fcgi_children == 1024 &&
		    c->fcgi_max_requests == 0 && c->fcgi_slow_request == 0);
		CHECK(strcmp(c->db_socket, "/run/db.sock") == 0 &&
		    c->db_host[0] == '\0');
		CHECK(strcmp(c->log_level, "debug") == 0);
		CHECK(c->demo == 1);
	}
	conf_free(c);
}

static void
test_key_errors(void)
{
	CHECK(fails_at("  chidren: 4\n", 7, 3,
	    "unknown key \"fcgi.chidren\"; did you mean \"fcgi.children\"?"));
	CHECK(fails_at("colour: red\n", 7, 1, "unknown key \"colour\""));
	CHECK(fails_at("wroker:\n  children: 2\n", 7, 1,
	    "unknown key \"wroker\"; did you mean \"worker\"?"));
	CHECK(fails_at("fcgi.children: 4\n", 7, 1, "unknown key "
	    "\"fcgi.children\" (write nested mappings, not dotted keys)"));
	CHECK(fails_at("  children: 2\n  children: 3\n", 8, 3,
	    "duplicate key \"fcgi.children\" (first set on line 7)"));
	CHECK(fails_at("worker: 4\n", 7, 9,
	    "expected a mapping of keys under \"worker\", got a scalar"));
	CHECK(fails_at("log:\n  level:\n    x: 1\n", 9, 5,
	    "expected a single value for \"log.level\", got a mapping"));
	CHECK(fails_at("log:\n  level: [info]\n", 8, 10,
	    "expected a single value for \"log.level\", got a sequence"));
	CHECK(fails_at("? [a, b]\n: c\n", 7, 3,
	    "expected a key name, got a sequence"));
	/* An alias back to its own mapping ends at the first unknown key. */
	CHECK(fails_at("database: &d\n  users: *d\n", 8, 3,
	    "unknown key \"database.users.users\""));
}

static void
test_value_errors(void)
{
	CHECK(fails_at("  children: lots\n", 7, 13,
	    "expected an integer from 1 to 1024, got \"lots\""));
	CHECK(fails_at("  children: 2000\n", 7, 13,
	    "out of range: expected an integer from 1 to 1024, got \"2000\""));
	CHECK(fails_at("  backlog: 015\n", 7, 12,
	    "expected an integer from 16 to 65535, got \"015\""));
	CHECK(fails_at("  max_requests: 99999999999999999999\n", 7, 17,
	    "out of range: expected an integer from 0 to 10000000, got "
	    "\"99999999999999999999\""));
	CHECK(fails_at("database:\n  port: 0\n", 8, 9,
	    "out of range: expected a port from 1 to 65535, got \"0\""));
	CHECK(fails_at("  socket_mode: 0777\n", 7, 16,
	    "out of range: expected an octal mode from 0600 to 0666 (such as "
	    "0660), got \"0777\""));
	CHECK(fails_at("  socket_mode: 660\n", 7, 16,
	    "expected an octal mode from 0600 to 0666 (such as 0660), got "
	    "\"660\""));
	CHECK(fails_at("demo: yes\n", 7, 7,
	    "expected true or false, got \"yes\""));
	CHECK(fails_at("log:\n  level: verbose\n", 8, 10,
	    "expected one of debug, info, warn, error, got \"verbose\""));
	CHECK(fails_at("paths:\n  static: relative/dir\n", 8, 11,
	    "expected an absolute path (starting with /), got "
	    "\"relative/dir\""));
	CHECK(fails_at("paths:\n  static: /usr/../etc\n", 8, 11,
	    "expected an absolute path without \"..\" components, got "
	    "\"/usr/../etc\""));
	CHECK(fails_at("  pid_file: \"/run/a\\nb\"\n", 7, 13,
	    "expected an absolute path without control characters, got "
	    "\"/run/a\\x0ab\""));
	CHECK(fails_at("redis:\n  socket: /tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaa.sock\n", 8, 11,
	    "expected an absolute path of at most 107 "
	    "bytes (a unix socket path), got \"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""));
	CHECK(fails_at("database:\n  users:\n    app: 9bad\n", 9, 10,
	    "expected a user name matching [a-z_][a-z0-9_]{0,31}, got "
	    "\"9bad\""));
	CHECK(fails_at("redis:\n  prefix: \"Bad Prefix\"\n", 8, 11,
	    "expected 1 to 32 characters of [a-z0-9_:.-], got \"Bad Prefix\""));
	CHECK(fails_at("database:\n  name: \"x'; DROP\"\n", 8, 9,
	    "expected a database name of 1 to 64 characters of [A-Za-z0-9_], "
	    "got \"x'; DROP\""));
}

static void
test_structure_errors(void)
{
	char err[CONF_ERR_MAX], want[CONF_ERR_MAX], missing[300];

	CHECK(text_fails_at(conf_path, "secrets_file: @S\nstore:\n"
	    "  primary: /srv/a\nfcgi:\n  socket: /run/f.sock\n", 2, 1,
	    "missing required key \"store.replica\""));
	CHECK(text_fails_at(conf_path, "# no store at all\nsecrets_file: @S\n"
	    "fcgi:\n  socket: /run/f.sock\n", 1, 1,
	    "missing required key \"store.primary\""));
	CHECK(text_fails_at(conf_path, "", 1, 1,
	    "the file is empty; expected a mapping of keys"));
	CHECK(text_fails_at(conf_path, "# only a comment\n\n", 1, 1,
	    "the file is empty; expected a mapping of keys"));
	CHECK(text_fails_at(conf_path, "- a\n- b\n", 1, 1,
	    "expected a mapping of keys at the top of the file, got a "
	    "sequence"));
	CHECK(text_fails_at(conf_path, "secrets_file: @S\nfcgi:\n"
	    "  children: 4\n children: 5\n", 4, 2,
	    "did not find expected key (while parsing a block mapping)"));
	CHECK(text_fails_at(conf_path, "store: {primary: /a\n", 2, 1,
	    "did not find expected ',' or '}' (while parsing a flow mapping)"));
	CHECK(text_fails_at(conf_path, "a: 1\n---\nb: 2\n", 2, 1,
	    "a second YAML document; the file must hold exactly one"));
	CHECK(text_fails_at(conf_path, "a: \"\xff\"\n", 1, 5,
	    "invalid leading UTF-8 octet"));

	path_in(missing, sizeof(missing), "absent.yaml");
	CHECK(conf_load(missing, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", missing);
	CHECK_MSG(strcmp(err, want) == 0, "got %s", err);
	CHECK(conf_load(NULL, err, sizeof(err)) == NULL && err[0] != '\0');
}

static void
test_secrets(void)
{
	char err[CONF_ERR_MAX], want[CONF_ERR_MAX], sdir[300];
	struct conf *c;

	write_file(secrets_path, valid_secrets, strlen(valid_secrets), 0644);
	CHECK(load_text(base, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: mode 0644 is too open; the secrets "
	    "file must be 0600 (chmod 600 %s)", secrets_path, secrets_path);
	CHECK_MSG(strcmp(err, want) == 0, "got %s", err);

	write_file(secrets_path, valid_secrets, strlen(valid_secrets), 0640);
	CHECK(load_text(base, err, sizeof(err)) == NULL &&
	    strstr(err, "mode 0640 is too open") != NULL);

	write_file(secrets_path, valid_secrets, strlen(valid_secrets), 0400);
	c = load_text(base, err, sizeof(err));
	CHECK_MSG(c != NULL, "0400: %s", err);
	conf_free(c);

	write_file(secrets_path, valid_secrets, strlen(valid_secrets), 0600);
	c = load_text(base, err, sizeof(err));
	CHECK_MSG(c != NULL, "0600: %s", err);
	conf_free(c);

	path_in(sdir, sizeof(sdir), "secrets.d");
	CHECK(mkdir(sdir, 0700) == 0);
	c = load_text("secrets_file: /nonexistent/x\n" "store: {primary: /a, "
	    "replica: /b}\nfcgi: {socket: /run/f.sock}\n", err, sizeof(err));
	CHECK(c == NULL && strcmp(err, "/nonexistent/x: cannot open: No such "
	    "file or directory") == 0);
	{
		char text[600];

		snprintf(text, sizeof(text), "secrets_file: %s\nstore: "
		    "{primary: /a, replica: /b}\nfcgi: {socket: /run/f.sock}\n",
		    sdir);
		c = load_text(text, err, sizeof(err));
		snprintf(want, sizeof(want), "%s: not a regular file; the "
		    "secrets file must be a regular file of mode 0600", sdir);
		CHECK_MSG(c == NULL && strcmp(err, want) == 0, "got %s", err);
	}
	CHECK(rmdir(sdir) == 0);

	/* A short password is refused without its value in the message. */
	write_secrets("database:\n  app_password: hunter2\n");
	CHECK(text_fails_at(secrets_path, base, 2, 17, "expected 16 to 128 "
	    "characters of [A-Za-z0-9_.~+-] for \"database.app_password\" (the "
	    "value is not shown)"));
	CHECK(strstr(err, "hunter2") == NULL);
	write_secrets("database:\n  app_password: "
	    "\"abcdefghijklmnop'\"\n");
	CHECK(load_text(base, err, sizeof(err)) == NULL &&
	    strstr(err, "abcdefghijklmnop") == NULL);
	write_secrets("database:\n  app_password: "
	    "app-secret-0123456789\n");
	CHECK(text_fails_at(secrets_path, base, 1, 1,
	    "missing required key \"database.worker_password\""));
	write_secrets("database:\n  app_pasword: x\n");
	CHECK(text_fails_at(secrets_path, base, 2, 3,
	    "unknown key \"database.app_pasword\"; did you mean "
	    "\"database.app_password\"?"));

	/* signing.school_key (written by `licheng pki init-school`): ""
	 * until then, 64 lower-case hex digits after, anything else refused
	 * without its value in the message. */
	write_file(secrets_path, valid_secrets, strlen(valid_secrets), 0600);
	c = load_text(base, err, sizeof(err));
	CHECK(c != NULL && strcmp(c->secret_school_key, "") == 0);
	conf_free(c);
	{
		char text[sizeof(valid_secrets) + 200];

		snprintf(text, sizeof(text), "%ssigning:\n  school_key: "
		    "\"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac03"
		    "1cae7f60\"\n", valid_secrets);
		write_secrets(text);
		c = load_text(base, err, sizeof(err));
		CHECK_MSG(c != NULL && strcmp(c->secret_school_key,
		    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031"
		    "cae7f60") == 0, "%s", err);
		conf_free(c);
		snprintf(text, sizeof(text), "%ssigning:\n  school_key: "
		    "9d61b19deffd5a60\n", valid_secrets);
		write_secrets(text);
		CHECK(load_text(base, err, sizeof(err)) == NULL &&
		    strstr(err, "signing.school_key") != NULL &&
		    strstr(err, "9d61b19deffd5a60") == NULL);
		snprintf(text, sizeof(text), "%ssigning:\n  school_key: "
		    "9D61B19DEFFD5A60BA844AF492EC2CC44449C5697B326919703BAC031"
		    "CAE7F60\n", valid_secrets);
		write_secrets(text);
		CHECK(load_text(base, err, sizeof(err)) == NULL &&
		    strstr(err, "signing.school_key") != NULL);
	}
	write_file(secrets_path, valid_secrets, strlen(valid_secrets), 0600);
}

static void
test_cross_checks(void)
{
	CHECK(fails_at("database:\n  host: \"\"\n", 8, 3,
	    "set either database.socket or database.host"));
	CHECK(fails_at("redis:\n  host: ~\n", 8, 3,
	    "set either redis.socket or redis.host"));
	CHECK(text_fails_at(conf_path, "secrets_file: @S\nstore:\n"
	    "  primary: /srv/a/\n  replica: /srv//a\nfcgi:\n"
	    "  socket: /run/f.sock\n", 4, 3, "store.primary and store.replica "
	    "are the same directory; the replica must be another disk or "
	    "site"));
	CHECK(text_fails_at(conf_path, "secrets_file: @S\nstore:\n"
	    "  primary: /srv/a\n  replica: /srv/a/b\nfcgi:\n"
	    "  socket: /run/f.sock\n", 4, 3,
	    "store.replica (/srv/a/b) must not be inside store.primary "
	    "(/srv/a)"));
	CHECK(text_fails_at(conf_path, "secrets_file: @S\nstore:\n"
	    "  primary: /srv/ab\n  replica: /srv/a\nfcgi:\n"
	    "  socket: /srv/a/./f.sock\n", 6, 3,
	    "fcgi.socket (/srv/a/./f.sock) must not be inside store.replica "
	    "(/srv/a)"));
	CHECK(fails_at("  slow_request: 60\n", 7, 3, "fcgi.slow_request (60) "
	    "must be less than fcgi.request_timeout (60)"));
	CHECK(fails_at("  request_timeout: 3\n", 7, 3, "fcgi.slow_request (5) "
	    "must be less than fcgi.request_timeout (3)"));
	CHECK(fails_at("worker:\n  children: 40\n", 8, 3,
	    "worker.children (40) must not be more than worker.max_children "
	    "(32)"));
	CHECK(fails_at("worker:\n  max_children: 1\n", 8, 3,
	    "worker.children (2) must not be more than worker.max_children "
	    "(1)"));
}

static void
test_default_path(void)
{
	CHECK(strcmp(conf_default_path("/x.yaml"), "/x.yaml") == 0);
	CHECK(setenv("LICHENG_CONF", "/from/env.yaml", 1) == 0);
	CHECK(strcmp(conf_default_path(NULL), "/from/env.yaml") == 0);
	CHECK(setenv("LICHENG_CONF", "", 1) == 0);
	CHECK(strcmp(conf_default_path(NULL),
	    LICHENG_SYSCONFDIR "/licheng.yaml") == 0);
	CHECK(unsetenv("LICHENG_CONF") == 0);
	CHECK(strcmp(conf_default_path(NULL),
	    LICHENG_SYSCONFDIR "/licheng.yaml") == 0);
	conf_free(NULL);
}

int
main(void)
{
	if (mkdtemp(tdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	path_in(secrets_path, sizeof(secrets_path), "secrets.yaml");
	path_in(conf_path, sizeof(conf_path), "licheng.yaml");

	test_examples();
	test_defaults();
	test_key_errors();
	test_value_errors();
	test_structure_errors();
	test_secrets();
	test_cross_checks();
	test_default_path();

	if (unlink(conf_path) != 0 || unlink(secrets_path) != 0 ||
	    rmdir(tdir) != 0)
		fprintf(stderr, "cleaning %s: %s\n", tdir, strerror(errno));
	return harness_done();
}
