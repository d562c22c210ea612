/*
 * main: licheng-fcgi's start-up, its pool callbacks and each child's accept
 * loop. The master loads and checks everything (configuration, templates,
 * messages), binds the FastCGI socket and maps the metrics before the first
 * fork, then only supervises; it never serves a request. A child serves one
 * request at a time and frees what the request built before the next accept.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "app.h"
#include "auth.h"
#include "categories.h"
#include "conf.h"
#include "crypto.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "passhash.h"
#include "pidfile.h"
#include "policy.h"
#include "pool.h"
#include "request.h"
#include "router.h"
#include "sign.h"
#include "store.h"
#include "template.h"

/* The longest raw path written to the log when the path was rejected. */
#define MAIN_LOG_PATH_MAX 256

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: licheng-fcgi [-n] [-c file]\n"
	    "  -c file  configuration (default: $LICHENG_CONF or %s)\n"
	    "  -n       check the configuration, templates and messages, "
	    "then exit\n"
	    "  -h       this help\n",
	    conf_default_path(NULL));
}

/* A start-up failure: to standard error for whoever started us, and to the
 * log unless the log is standard error already. */
static void main_fail(const struct conf *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
main_fail(const struct conf *c, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	fprintf(stderr, "licheng-fcgi: %s\n", b.data ? b.data : "");
	if (c != NULL && c->log_file != NULL && c->log_file[0] != '\0' &&
	    strcmp(c->log_file, "-") != 0)
		log_msg(LL_ERROR, "main", "%s", b.data ? b.data : "");
	buf_free(&b);
}

/* What a start or a reload loads besides the configuration: templates,
 * messages, the password blocklist, the privacy notices and the keys. */
struct main_loaded {
	struct tmpl_set *tmpl;
	struct i18n *msgs;
	struct blocklist *blocklist;
	struct categories *categories;
	unsigned char data_key[CRYPTO_KEY_LEN];
	unsigned char lookup_key[CRYPTO_KEY_LEN];
	struct sign_key *sign_key; /* NULL while signing.school_key is "" */
	char sign_key_id[SIGN_HEX_LEN + 1];
};

static void
main_loaded_free(struct main_loaded *l)
{
	tmpl_set_free(l->tmpl);
	i18n_free(l->msgs);
	blocklist_free(l->blocklist);
	categories_free(l->categories);
	sign_key_free(l->sign_key);
	OPENSSL_cleanse(l, sizeof(*l));
}

/* The platform's signing key of signing.school_key into l, with its id;
 * none (and no error) while the secrets file has none. */
static int
main_load_sign_key(
    const struct conf *c, struct main_loaded *l, char *err, size_t errlen)
{
	unsigned char pub[SIGN_PUB_LEN];

	if (c->secret_school_key == NULL || c->secret_school_key[0] == '\0')
		return 0;
	if ((l->sign_key = sign_key_from_hex(c->secret_school_key)) == NULL ||
	    sign_key_public(l->sign_key, pub) != 0) {
		str_printf(err, errlen,
		    "%s: signing.school_key must be 64 hexadecimal digits",
		    c->secrets_file);
		return -1;
	}
	sign_key_id(pub, l->sign_key_id);
	if (l->sign_key_id[0] == '\0') {
		str_printf(err, errlen, "cannot compute the signing key's id");
		return -1;
	}
	return 0;
}

/* The privacy notice of the configured version must exist in both
 * languages, or nobody could accept it and sign in. */
static int
main_check_privacy(const struct conf *c, char *err, size_t errlen)
{
	static const char *const langs[] = {"zh-TW", "en"};
	char path[4096];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(langs); i++) {
		str_printf(path, sizeof(path), "%s/%s.%s.txt", c->privacy_dir,
		    c->privacy_version, langs[i]);
		if (access(path, R_OK) != 0) {
			str_printf(err, errlen,
			    "privacy.version %s: cannot read %s: %s",
			    c->privacy_version, path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int
main_load(const struct conf *c, struct main_loaded *l, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	if ((l->tmpl = tmpl_load_dir(c->templates_dir, err, errlen)) == NULL ||
	    (l->msgs = i18n_load(c->messages_dir, err, errlen)) == NULL ||
	    (l->blocklist = blocklist_load(c->pw_blocklist, err, errlen)) ==
		NULL ||
	    (l->categories = categories_load(
		 c->items_categories, err, errlen)) == NULL ||
	    main_check_privacy(c, err, errlen) != 0)
		goto fail;
	if (crypto_key_from_hex(c->secret_data_key, l->data_key) != 0 ||
	    crypto_key_from_hex(c->secret_lookup_key, l->lookup_key) != 0) {
		str_printf(err, errlen,
		    "%s: keys.data and keys.lookup must be "
		    "64 hexadecimal digits",
		    c->secrets_file);
		goto fail;
	}
	if (main_load_sign_key(c, l, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	main_loaded_free(l);
	return -1;
}

/* Moves what was loaded into app, freeing what app had. */
static void
main_loaded_install(struct app *app, struct main_loaded *l)
{
	tmpl_set_free(app->tmpl);
	i18n_free(app->msgs);
	blocklist_free(app->blocklist);
	categories_free(app->categories);
	app->tmpl = l->tmpl;
	app->msgs = l->msgs;
	app->blocklist = l->blocklist;
	app->categories = l->categories;
	memcpy(app->data_key, l->data_key, sizeof(app->data_key));
	memcpy(app->lookup_key, l->lookup_key, sizeof(app->lookup_key));
	sign_key_free(app->sign_key);
	app->sign_key = l->sign_key;
	memcpy(app->sign_key_id, l->sign_key_id, sizeof(app->sign_key_id));
	if (app->sign_key == NULL)
		log_warn("%s",
		    "signing.school_key is not set: certification "
		    "decisions are refused until `licheng pki "
		    "init-school`");
	else
		log_info("certification decisions are signed with key id %s",
		    app->sign_key_id);
	OPENSSL_cleanse(l, sizeof(*l));
}

/* -n: load and check everything a start would load, start nothing. */
static int
main_check(const char *path)
{
	char err[CONF_ERR_MAX];
	struct main_loaded l;
	struct conf *c;

	if ((c = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (main_load(c, &l, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		conf_free(c);
		return 1;
	}
	main_loaded_free(&l);
	conf_free(c);
	printf("configuration OK\n");
	return 0;
}

static int
main_is_unix(const char *path)
{
	return path[0] == '/' || strchr(path, ':') == NULL;
}

/* 1 when a process accepts connections on the unix socket path, 0 when
 * nothing does (no file, or a stale one), -1 when we cannot tell. */
static int
main_socket_in_use(const struct conf *c, const char *path)
{
	struct sockaddr_un sa;
	int fd, rc, saved;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), path) != 0) {
		main_fail(c, "fcgi.socket %s: longer than %zu bytes", path,
		    sizeof(sa.sun_path) - 1);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		main_fail(c, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	saved = errno;
	close(fd);
	if (rc == 0)
		return 1;
	if (saved == ENOENT || saved == ECONNREFUSED)
		return 0;
	main_fail(
	    c, "cannot tell whether %s is in use: %s", path, strerror(saved));
	return -1;
}

/*
 * libfcgi's FCGX_OpenSocket calls exit(3) with only perror(3) when bind(2)
 * fails on a unix socket, so the usual causes are checked first, where they
 * can be reported with the path: a missing or unwritable directory.
 */
static int
main_socket_dir_ok(const struct conf *c, const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	if (str_copy(dir, sizeof(dir), path) != 0) {
		main_fail(c, "fcgi.socket %s: too long", path);
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		(void)str_copy(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) != 0) {
		main_fail(c, "cannot create the socket %s: directory %s: %s",
		    path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Binds the FastCGI socket: refuses when another process answers on it,
 * removes a stale socket file, creates the socket with no access for anyone
 * but us and then grants fcgi.socket_mode.
 */
static int
main_bind(struct app *app, dev_t *dev, ino_t *ino)
{
	const struct conf *c = app->conf;
	const char *path = c->fcgi_socket;
	struct stat st;
	mode_t old;
	int fd;

	if (!main_is_unix(path)) {
		if ((fd = FCGX_OpenSocket(path, c->fcgi_backlog)) < 0) {
			main_fail(c, "cannot listen on %s: %s", path,
			    strerror(errno));
			return -1;
		}
		app->listen_fd = fd;
		return 0;
	}
	switch (main_socket_in_use(c, path)) {
	case 1:
		main_fail(c, "%s is in use by another licheng-fcgi", path);
		return -1;
	case 0: break;
	default: return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			main_fail(c,
			    "%s exists and is not a socket; not "
			    "touching it",
			    path);
			return -1;
		}
		if (unlink(path) != 0) {
			main_fail(c, "cannot remove the stale socket %s: %s",
			    path, strerror(errno));
			return -1;
		}
		log_info("removed the stale socket %s", path);
	}
	if (main_socket_dir_ok(c, path) != 0)
		return -1;
	old = umask(0177);
	fd = FCGX_OpenSocket(path, c->fcgi_backlog);
	umask(old);
	if (fd < 0) {
		main_fail(c, "cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	app->listen_fd = fd;
	if (chmod(path, (mode_t)c->fcgi_socket_mode) != 0 ||
	    stat(path, &st) != 0) {
		main_fail(c, "chmod %04o %s: %s", (unsigned)c->fcgi_socket_mode,
		    path, strerror(errno));
		unlink(path);
		return -1;
	}
	app->socket_path = xstrdup(path);
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* Removes the socket file at exit, unless another process has since put
 * its own socket at that path. */
static void
main_unbind(struct app *app, dev_t dev, ino_t ino)
{
	struct stat st;

	if (app->listen_fd >= 0)
		close(app->listen_fd);
	app->listen_fd = -1;
	if (app->socket_path == NULL)
		return;
	if (lstat(app->socket_path, &st) == 0 && st.st_dev == dev &&
	    st.st_ino == ino && unlink(app->socket_path) != 0)
		log_error("unlink %s: %s", app->socket_path, strerror(errno));
	free(app->socket_path);
	app->socket_path = NULL;
}

static void
main_limits(const struct conf *c, struct pool_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->children = c->fcgi_children;
	lim->max_children = c->fcgi_children;
	lim->request_timeout = c->fcgi_request_timeout;
	lim->slow_request = c->fcgi_slow_request;
	lim->drain_timeout = c->fcgi_drain_timeout;
}

static enum log_level
main_log_level(const struct conf *c)
{
	enum log_level l = LL_INFO;

	if (c->log_level != NULL && c->log_level[0] != '\0' &&
	    log_level_parse(c->log_level, &l) != 0)
		l = LL_INFO;
	return l;
}

/* The request's line in the log. Never the query string: it may carry
 * personal data. */
static void
main_log_request(struct request *r, struct buf *line, int64_t us)
{
	const char *path = r->path;
	size_t n;

	if (path[0] == '\0') {
		path = r->raw_path;
		n = r->raw_path_len < MAIN_LOG_PATH_MAX ? r->raw_path_len
							: MAIN_LOG_PATH_MAX;
	} else
		n = strlen(path);
	buf_reset(line);
	buf_putc(line, '{');
	buf_json_kv(line, "event", "request");
	buf_json_kv(line, "method", r->method_name);
	buf_puts(line, ",\"path\":\"");
	buf_json_str(line, path, n);
	buf_putc(line, '"');
	buf_json_kv(line, "route", r->route_name);
	buf_json_ki(line, "status", r->status);
	buf_printf(line, ",\"ms\":%.3f", (double)us / 1000.0);
	buf_json_ki(line, "bytes", (long long)r->bytes_sent);
	buf_json_kv(line, "remote_addr", r->remote_addr);
	buf_putc(line, '}');
	log_fields(LL_INFO, line);
}

/* One request, from parameters to the log line. */
static void
main_serve(
    struct app *app, struct request *r, FCGX_Request *fx, struct buf *line)
{
	const struct route *rt;
	enum request_outcome o;
	struct auth auth;
	int answered = 0;
	char what[POOL_WHAT_MAX];
	int64_t us;
	int n;

	o = request_begin(r, fx);
	/* The description is advisory (/status): truncation is fine. */
	n = snprintf(what, sizeof(what), "%s %s", r->method_name,
	    o == RQ_OK ? r->path : "(rejected path)");
	if (n < 0)
		what[0] = '\0';
	pool_child_busy(app->pool, app->slot, what);
	memset(&auth, 0, sizeof(auth));
	r->auth = &auth;
	if (o == RQ_OK) {
		rt = router_match(r, &o);
		if (rt != NULL)
			o = auth_gate(app, r, rt, &answered);
		if (rt != NULL && o == RQ_OK && !answered)
			o = rt->handler(app, r);
	}
	if (o != RQ_OK)
		request_fail(app, r, o);
	/* A client that went away is routine; the log line shows 0 bytes. */
	(void)request_send(r);
	us = now_us() - r->started_us;
	metrics_observe(app->metrics, (size_t)r->route_index, r->status, us);
	main_log_request(r, line, us);
	FCGX_Finish_r(fx);
	auth_end(r);
	request_end(r);
	pool_child_idle(app->pool, app->slot);
}

static int
main_child(struct pool *p, int slot, void *arg)
{
	struct app *app = arg;
	struct request r;
	struct buf line;
	FCGX_Request fx;
	int rc, status = 0, served = 0;

	log_set_proc("fcgi-child");
	app->pool = p;
	app->slot = slot;
	/* The master's store (for sweeping) is not this child's: it makes
	 * its own from ids it keeps fresh (app_store). */
	store_free(app->store);
	app->store = NULL;
	/* Its uploads' write buffers, kept for its life (lib/store.h). */
	if (store_reserve_buffers() != 0)
		log_warn("no memory for the store's write buffers; each "
			 "upload will allocate its own");
	if (FCGX_InitRequest(&fx, app->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) !=
	    0) {
		log_error("FCGX_InitRequest failed");
		return 1;
	}
	request_init(&r);
	buf_init(&line);
	for (;;) {
		if (pool_child_poll(p))
			break;
		rc = FCGX_Accept_r(&fx);
		if (rc < 0) {
			if (rc == -EINTR)
				continue;
			log_error("FCGX_Accept_r: %s", strerror(-rc));
			status = 1;
			break;
		}
		main_serve(app, &r, &fx, &line);
		served++;
		if (app->conf->fcgi_max_requests > 0 &&
		    served >= app->conf->fcgi_max_requests) {
			log_info("served %d requests (fcgi.max_requests); "
				 "exiting to be replaced",
			    served);
			break;
		}
	}
	FCGX_Free(&fx, 1);
	request_free(&r);
	buf_free(&line);
	app_drop_db(app);
	app_drop_kv(app);
	passhash_slots_close(app->slots);
	app->slots = NULL;
	store_release_buffers();
	return status;
}

/* SIGHUP in the master: a new configuration, templates and messages for
 * the children forked from now on; on any error the old ones stay. */
static int
main_reload(struct pool *p, void *arg)
{
	struct app *app = arg;
	char err[CONF_ERR_MAX];
	struct pool_limits lim;
	struct main_loaded l;
	struct conf *c, *old = app->conf;

	if ((c = conf_load(app->conf_path, err, sizeof(err))) == NULL) {
		log_error("not reloading: %s", err);
		return -1;
	}
	main_limits(c, &lim);
	if (pool_set_limits(p, &lim) != 0) {
		log_error("not reloading: the new fcgi limits are invalid");
		conf_free(c);
		return -1;
	}
	if (strcmp(c->fcgi_socket, old->fcgi_socket) != 0)
		log_warn("fcgi.socket changed from %s to %s: that needs a "
			 "restart; still listening on %s",
		    old->fcgi_socket, c->fcgi_socket, old->fcgi_socket);
	if (main_load(c, &l, err, sizeof(err)) != 0)
		log_error("keeping the old templates, messages, blocklist and "
			  "keys: %s",
		    err);
	else
		main_loaded_install(app, &l);
	if (strcmp(c->log_file, old->log_file) != 0 ||
	    strcmp(c->log_level, old->log_level) != 0) {
		if (log_open(c->log_file, main_log_level(c)) != 0)
			log_error("cannot open log %s: %s; logging stays "
				  "where it was",
			    c->log_file, strerror(errno));
	} else
		(void)log_reopen(); /* logs its own failure */
	if (strcmp(c->store_primary, old->store_primary) != 0 ||
	    strcmp(c->store_replica, old->store_replica) != 0) {
		/* Sweep the new roots (from the next tick on). */
		store_free(app->store);
		app->store = NULL;
		app->store_retry_at = 0;
	}
	app->conf = c;
	conf_free(old);
	log_info("configuration reloaded from %s", app->conf_path);
	return 0;
}

/*
 * The master sweeps the temporary files whose writers died (a crash, a
 * kill -9, a power cut) without removing them: all of them once the store
 * ids can be read (main_tick), then a dead child's own after each abnormal
 * exit (here).
 */
static void
main_child_died(struct pool *p, pid_t pid, void *arg)
{
	struct app *app = arg;

	(void)p;
	if (app->store != NULL)
		(void)store_tmp_sweep(app->store, (long)pid);
	/* Otherwise the first sweep, once the ids can be read, takes all
	 * the dead processes' files. */
}

/* About once a second in the master: the first sweep of temporary files
 * while it has not happened, and notice a socket file removed under us
 * (nginx then cannot reach any child). */
static void
main_tick(struct pool *p, void *arg)
{
	struct app *app = arg;
	struct stat st;

	(void)p;
	store_sweep_start(&app->store, &app->store_retry_at, app->conf, DB_APP);
	if (app->socket_path == NULL)
		return;
	if (lstat(app->socket_path, &st) == 0) {
		if (app->socket_lost)
			log_info("%s is back", app->socket_path);
		app->socket_lost = 0;
		return;
	}
	if (!app->socket_lost)
		log_error("%s has been removed: nginx cannot reach "
			  "licheng-fcgi until it is restarted",
		    app->socket_path);
	app->socket_lost = 1;
}

static int
main_run(const char *path)
{
	char err[CONF_ERR_MAX];
	struct pool_ops ops;
	struct pool_limits lim;
	struct pool *p = NULL;
	struct main_loaded l;
	struct app app;
	char *pid_file = NULL;
	dev_t dev = 0;
	ino_t ino = 0;
	int rc = 1;

	memset(&app, 0, sizeof(app));
	app.slot = -1;
	app.listen_fd = -1;
	app.conf_path = path;
	if ((app.conf = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (log_open(app.conf->log_file, main_log_level(app.conf)) != 0) {
		fprintf(stderr, "licheng-fcgi: cannot open log %s: %s\n",
		    app.conf->log_file, strerror(errno));
		conf_free(app.conf);
		return 1;
	}
	log_set_proc("fcgi-master");
	if (main_load(app.conf, &l, err, sizeof(err)) != 0) {
		main_fail(app.conf, "%s", err);
		goto done;
	}
	main_loaded_install(&app, &l);
	if ((app.metrics = metrics_new(router_count() + 1)) == NULL) {
		main_fail(app.conf, "cannot map the metrics");
		goto done;
	}
	main_limits(app.conf, &lim);
	memset(&ops, 0, sizeof(ops));
	ops.name = "fcgi";
	ops.unit = "request";
	ops.children_key = "fcgi.children";
	ops.child_main = main_child;
	ops.reload = main_reload;
	ops.tick = main_tick;
	ops.child_died = main_child_died;
	ops.arg = &app;
	if ((p = pool_new(&ops, &lim)) == NULL) {
		main_fail(app.conf, "invalid fcgi pool limits");
		goto done;
	}
	app.pool = p;
	if (main_bind(&app, &dev, &ino) != 0)
		goto done;
	if (app.conf->fcgi_pid_file != NULL &&
	    app.conf->fcgi_pid_file[0] != '\0') {
		if (pidfile_write(app.conf->fcgi_pid_file, err, sizeof(err)) !=
		    0) {
			main_fail(app.conf, "%s", err);
			goto done;
		}
		pid_file = xstrdup(app.conf->fcgi_pid_file);
	}
	/* libfcgi installs its SIGTERM/SIGUSR1 handlers here; each child's
	 * own handlers, set after fork, replace them. */
	if (FCGX_Init() != 0) {
		main_fail(app.conf, "FCGX_Init failed");
		goto done;
	}
	log_info("licheng-fcgi listening on %s with %d children",
	    app.conf->fcgi_socket, lim.children);
	store_sweep_start(&app.store, &app.store_retry_at, app.conf, DB_APP);
	rc = pool_run(p);
done:
	pidfile_remove(pid_file);
	free(pid_file);
	main_unbind(&app, dev, ino);
	pool_free(p);
	metrics_free(app.metrics);
	tmpl_set_free(app.tmpl);
	i18n_free(app.msgs);
	blocklist_free(app.blocklist);
	categories_free(app.categories);
	store_free(app.store);
	sign_key_free(app.sign_key);
	OPENSSL_cleanse(app.data_key, sizeof(app.data_key));
	OPENSSL_cleanse(app.lookup_key, sizeof(app.lookup_key));
	conf_free(app.conf);
	log_close();
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cli_path = NULL;
	int ch, check = 0;

	while ((ch = getopt(argc, argv, "c:nh")) != -1) {
		switch (ch) {
		case 'c': cli_path = optarg; break;
		case 'n': check = 1; break;
		case 'h': main_usage(stdout); return 0;
		default: main_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return 2;
	}
	if (check)
		return main_check(conf_default_path(cli_path));
	return main_run(conf_default_path(cli_path));
}
