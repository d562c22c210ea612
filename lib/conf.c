/*
 * conf: loads the YAML configuration file and the secrets file it names into
 * a struct conf, through one table per file that gives each dotted key its
 * type, bounds, field and default, then runs the checks that involve several
 * keys. It must never log, fork or connect anywhere, and never quote a
 * secret's value in an error: every failure is one "file:line:column: what
 * was expected" string for the caller to print.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "util.h"

#ifndef LICHENG_PREFIX
#define LICHENG_PREFIX "/usr/local"
#endif
#ifndef LICHENG_SYSCONFDIR
#define LICHENG_SYSCONFDIR "/etc/licheng"
#endif

#define CONF_FILE_MAX (1024 * 1024)
#define CONF_KEY_MAX 128 /* a dotted key, with its NUL */
#define CONF_KEYS_MAX 128
#define CONF_SECTIONS_MAX 16
#define CONF_PATH_MAX 4095
#define CONF_SOCKET_MAX 107 /* sun_path holds 108 bytes with the NUL */
#define CONF_SHOW_MAX 64 /* bytes of a bad value quoted in a message */

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"
#define SECRET_CHARS LOWER UPPER DIGIT "_.~+-"
#define HEX_CHARS DIGIT "abcdef"

enum conf_type {
	CT_STRING, /* length min..max, every byte from chars */
	CT_PATH, /* absolute, at most max bytes, no ".." component */
	CT_INT, /* decimal, min..max */
	CT_PORT, /* decimal, 1..65535 */
	CT_MODE, /* octal with a leading 0 (0660), min..max */
	CT_ENUM, /* one of the '|'-separated words in chars */
	CT_BOOL, /* true or false, into an int */
	CT__MAX
};

#define CK_REQUIRED 0x01 /* no default: the file must set it */
#define CK_SECRET 0x02 /* never quoted in messages; wiped in conf_free */
#define CK_DASH 0x04 /* CT_PATH: "-" (standard error) is accepted too */
#define CK_NODIGIT 0x08 /* CT_STRING: the first byte is not a digit */

struct conf_key {
	const char *name; /* dotted: "fcgi.children" */
	enum conf_type type;
	long long min, max; /* value bounds, or length bounds for strings */
	size_t off; /* offsetof(struct conf, field) */
	int flags;
	const char *def; /* default, as YAML text; NULL = "" or 0 */
	const char *chars; /* CT_STRING: allowed bytes; CT_ENUM: the words */
	const char *what; /* CT_STRING: what is expected, for messages */
};

#define F(f) offsetof(struct conf, f)
// clang-format off
#define K_STR(n, f, fl, d, lo, hi, ch, w) \
	{ n, CT_STRING, lo, hi, F(f), fl, d, ch, w }
#define K_PATH(n, f, fl, d) \
	{ n, CT_PATH, 1, CONF_PATH_MAX, F(f), fl, d, NULL, NULL }
#define K_SOCK(n, f, fl) \
	{ n, CT_PATH, 1, CONF_SOCKET_MAX, F(f), fl, NULL, NULL, NULL }
#define K_INT(n, f, lo, hi, d) { n, CT_INT, lo, hi, F(f), 0, d, NULL, NULL }
#define K_PORT(n, f, d) { n, CT_PORT, 1, 65535, F(f), 0, d, NULL, NULL }
#define K_MODE(n, f, lo, hi, d) { n, CT_MODE, lo, hi, F(f), 0, d, NULL, NULL }
#define K_ENUM(n, f, d, words) { n, CT_ENUM, 0, 0, F(f), 0, d, words, NULL }
#define K_BOOL(n, f, d) { n, CT_BOOL, 0, 1, F(f), 0, d, NULL, NULL }

#define HOST_CHARS LOWER UPPER DIGIT ".:-_"
#define HOST_WHAT \
	"a host name or address of [A-Za-z0-9.:_-], at most 255 characters"
#define DBNAME_CHARS LOWER UPPER DIGIT "_"
#define DBNAME_WHAT "a database name of 1 to 64 characters of [A-Za-z0-9_]"
#define USER_CHARS LOWER DIGIT "_"
#define USER_WHAT "a user name matching [a-z_][a-z0-9_]{0,31}"
#define K_USER(n, f, d) K_STR(n, f, CK_NODIGIT, d, 1, 32, USER_CHARS, USER_WHAT)
#define K_SECRET(n, f, fl, lo) K_STR(n, f, CK_SECRET | (fl), NULL, lo, 128, \
    SECRET_CHARS, #lo " to 128 characters of [A-Za-z0-9_.~+-]")

static const struct conf_key conf_keys[] = {
	K_PATH("secrets_file", secrets_file, CK_REQUIRED, NULL),

	K_PATH("log.file", log_file, CK_DASH, "-"),
	K_ENUM("log.level", log_level, "info", "debug|info|warn|error"),

	K_SOCK("database.socket", db_socket, 0),
	K_STR("database.host", db_host, 0, "127.0.0.1", 0, 255, HOST_CHARS,
	    HOST_WHAT),
	K_PORT("database.port", db_port, "3306"),
	K_STR("database.name", db_name, 0, "licheng", 1, 64, DBNAME_CHARS,
	    DBNAME_WHAT),
	K_STR("database.central_name", db_central_name, 0, "licheng_central",
	    1, 64, DBNAME_CHARS, DBNAME_WHAT),
	K_STR("database.grant_host", db_grant_host, 0, "localhost", 1, 255,
	    LOWER UPPER DIGIT ".:-_%",
	    "a host name, address or pattern of [A-Za-z0-9.:_%-]"),
	K_INT("database.connect_timeout", db_connect_timeout, 1, 60, "5"),
	K_INT("database.rw_timeout", db_rw_timeout, 1, 3600, "30"),
	K_USER("database.users.app", db_app_user, "licheng_app"),
	K_USER("database.users.worker", db_worker_user, "licheng_worker"),
	K_USER("database.users.audit", db_audit_user, "licheng_audit"),
	K_USER("database.users.central", db_central_user, "licheng_central"),
	K_USER("database.users.migrate", db_migrate_user, "licheng_migrate"),

	K_SOCK("redis.socket", redis_socket, 0),
	K_STR("redis.host", redis_host, 0, "127.0.0.1", 0, 255, HOST_CHARS,
	    HOST_WHAT),
	K_PORT("redis.port", redis_port, "6379"),
	K_INT("redis.timeout_ms", redis_timeout_ms, 10, 60000, "2000"),
	K_STR("redis.prefix", redis_prefix, 0, "licheng:", 1, 32,
	    LOWER DIGIT "_:.-", "1 to 32 characters of [a-z0-9_:.-]"),

	K_PATH("store.primary", store_primary, CK_REQUIRED, NULL),
	K_PATH("store.replica", store_replica, CK_REQUIRED, NULL),

	K_PATH("paths.migrations", migrations_dir, 0,
	    LICHENG_PREFIX "/share/licheng/migrations"),
	K_PATH("paths.templates", templates_dir, 0,
	    LICHENG_PREFIX "/share/licheng/templates"),
	K_PATH("paths.static", static_dir, 0,
	    LICHENG_PREFIX "/share/licheng/static"),
	K_PATH("paths.messages", messages_dir, 0,
	    LICHENG_PREFIX "/share/licheng/messages"),
	K_PATH("paths.privacy", privacy_dir, 0,
	    LICHENG_PREFIX "/share/licheng/privacy"),
	K_PATH("paths.run", run_dir, 0, "/run/licheng"),

	K_INT("password.min_length", pw_min_length, 8, 64, "8"),
	K_INT("password.max_age_days", pw_max_age_days, 1, 180, "180"),
	K_INT("password.min_age_days", pw_min_age_days, 1, 30, "1"),
	K_INT("password.history", pw_history, 3, 24, "3"),
	K_INT("password.warn_days", pw_warn_days, 0, 60, "14"),
	K_PATH("password.blocklist", pw_blocklist, 0,
	    LICHENG_PREFIX "/share/licheng/password-blocklist.txt"),
	K_INT("password.scrypt_log2_n", pw_scrypt_log2_n, 15, 20, "15"),
	K_INT("password.scrypt_r", pw_scrypt_r, 8, 32, "8"),
	K_INT("password.scrypt_p", pw_scrypt_p, 1, 4, "1"),
	K_INT("password.hash_slots", pw_hash_slots, 1, 64, "4"),
	K_INT("password.hash_wait_ms", pw_hash_wait_ms, 100, 30000, "5000"),

	K_INT("lockout.failures", lock_failures, 1, 100, "5"),
	K_INT("lockout.window", lock_window, 60, 86400, "900"),
	K_INT("lockout.duration", lock_duration, 60, 86400, "900"),
	K_INT("detect.window", detect_window, 60, 86400, "600"),
	K_INT("detect.signin_accounts", detect_signin_accounts, 2, 10000,
	    "10"),
	K_INT("detect.password_changes", detect_password_changes, 2, 10000,
	    "5"),
	K_INT("detect.block", detect_block, 60, 604800, "3600"),
	K_INT("detect.egress_signin_accounts", detect_egress_signin_accounts,
	    2, 100000, "200"),
	K_INT("detect.egress_password_changes",
	    detect_egress_password_changes, 2, 100000, "100"),

	K_INT("session.idle_timeout", session_idle, 60, 86400, "1800"),
	K_INT("session.absolute_timeout", session_absolute, 300, 604800,
	    "43200"),

	K_STR("mfa.issuer", mfa_issuer, 0, "Licheng", 1, 32,
	    LOWER UPPER DIGIT " ._-", "1 to 32 characters of [A-Za-z0-9 ._-]"),
	K_STR("privacy.version", privacy_version, 0, "2026-1", 1, 32,
	    LOWER UPPER DIGIT "._-", "1 to 32 characters of [A-Za-z0-9._-]"),

	K_SOCK("fcgi.socket", fcgi_socket, CK_REQUIRED),
	K_MODE("fcgi.socket_mode", fcgi_socket_mode, 0600, 0666, "0660"),
	K_INT("fcgi.backlog", fcgi_backlog, 16, 65535, "1024"),
	K_INT("fcgi.children", fcgi_children, 1, 1024, "8"),
	K_INT("fcgi.max_requests", fcgi_max_requests, 0, 10000000, "10000"),
	K_INT("fcgi.request_timeout", fcgi_request_timeout, 0, 3600, "60"),
	K_INT("fcgi.slow_request", fcgi_slow_request, 0, 3600, "5"),
	K_INT("fcgi.drain_timeout", fcgi_drain_timeout, 1, 3600, "30"),
	K_PATH("fcgi.pid_file", fcgi_pid_file, 0, NULL),

	K_INT("worker.children", worker_children, 1, 256, "2"),
	K_INT("worker.max_children", worker_max_children, 1, 1024, "32"),
	K_INT("worker.heartbeat", worker_heartbeat, 1, 300, "5"),
	K_INT("worker.drain_timeout", worker_drain_timeout, 1, 86400, "300"),
	K_PATH("worker.pid_file", worker_pid_file, 0, NULL),

	K_STR("site.url", site_url, 0, "", 0, 200, LOWER UPPER DIGIT ":/.-_",
	    "an https:// address of at most 200 characters of "
	    "[A-Za-z0-9:/._-]"),

	K_INT("import.max_bytes", import_max_bytes, 1024, 67108864,
	    "8388608"),
	K_INT("import.max_rows", import_max_rows, 10, 200000, "100000"),
	K_INT("import.keep_hours", import_keep_hours, 1, 168, "24"),
	K_INT("letters.keep_hours", letters_keep_hours, 1, 168, "24"),
	K_INT("accounts.grace_days", accounts_grace_days, 0, 3650, "30"),
	K_INT("accounts.sweep_interval", accounts_sweep_interval, 5, 86400,
	    "3600"),

	K_INT("items.doc_max_bytes", items_doc_max_bytes, 1024, 67108864,
	    "4194304"),
	K_INT("items.video_max_bytes", items_video_max_bytes, 1024, 67108864,
	    "10485760"),
	K_STR("items.doc_types", items_doc_types, 0, "pdf,jpeg,png", 1, 64,
	    LOWER DIGIT ",", "a comma-separated list of pdf, jpeg, png, mp4, "
	    "mp3"),
	K_STR("items.video_types", items_video_types, 0, "mp4,mp3", 1, 64,
	    LOWER DIGIT ",", "a comma-separated list of pdf, jpeg, png, mp4, "
	    "mp3"),
	K_INT("items.description_max", items_description_max, 1, 100, "100"),
	K_PATH("items.categories", items_categories, 0,
	    LICHENG_PREFIX "/share/licheng/categories.yaml"),
	K_INT("items.window_days", items_window_days, 0, 365, "14"),
	K_INT("downloads.limit", downloads_limit, 1, 1000000, "200"),
	K_INT("downloads.window", downloads_window, 10, 86400, "3600"),

	K_INT("jobs.visibility_timeout", jobs_visibility_timeout, 5, 86400,
	    "300"),
	K_INT("jobs.max_attempts", jobs_max_attempts, 1, 100, "5"),
	K_INT("jobs.backoff_base", jobs_backoff_base, 1, 3600, "10"),
	K_INT("jobs.backoff_max", jobs_backoff_max, 1, 86400, "3600"),
	K_INT("jobs.reconcile_interval", jobs_reconcile_interval, 1, 3600,
	    "30"),
	K_INT("jobs.republish_after", jobs_republish_after, 1, 86400, "120"),
	K_INT("jobs.block_ms", jobs_block_ms, 50, 5000, "500"),
	K_INT("jobs.batch", jobs_batch, 1, 256, "64"),
	K_INT("jobs.warn_age", jobs_warn_age, 60, 604800, "3600"),
	K_INT("hash.read_rate", hash_read_rate, 0, 2147483647, "0"),
	K_ENUM("scan.mode", scan_mode, "clamd", "clamd|command|none"),
	K_PATH("scan.clamd_socket", scan_clamd_socket, 0,
	    "/run/clamav/clamd.ctl"),
	K_PATH("scan.command", scan_command, 0, ""),
	K_INT("scan.timeout", scan_timeout, 1, 3600, "120"),
	K_INT("scan.stream_max", scan_stream_max, 65536, 1073741824,
	    "12582912"),

	K_INT("certify.deadline_days", certify_deadline_days, 0, 365, "21"),
	K_INT("certify.page_size", certify_page_size, 10, 500, "50"),
	K_INT("selection.course_max", selection_course_max, 1, 100, "6"),
	K_INT("selection.diverse_max", selection_diverse_max, 1, 100, "10"),
	K_STR("selection.deadline", selection_deadline, 0, "11-30", 5, 5,
	    DIGIT "-", "a month and day \"MM-DD\", e.g. \"11-30\""),

	K_BOOL("demo", demo, "false"),
};

/* The database passwords are restricted to characters that can never end a
 * quoted SQL literal, since `licheng migrate` must put them into GRANTs. */
static const struct conf_key conf_secret_keys[] = {
	K_SECRET("database.app_password", secret_db_app_password,
	    CK_REQUIRED, 16),
	K_SECRET("database.worker_password", secret_db_worker_password,
	    CK_REQUIRED, 16),
	K_SECRET("database.audit_password", secret_db_audit_password,
	    CK_REQUIRED, 16),
	K_SECRET("database.central_password", secret_db_central_password,
	    CK_REQUIRED, 16),
	K_SECRET("database.migrate_password", secret_db_migrate_password,
	    CK_REQUIRED, 16),
	K_SECRET("redis.password", secret_redis_password, 0, 0),
	K_STR("keys.data", secret_data_key, CK_SECRET | CK_REQUIRED, NULL, 64,
	    64, HEX_CHARS, "64 hexadecimal digits (256 bits; gen-secrets)"),
	K_STR("keys.lookup", secret_lookup_key, CK_SECRET | CK_REQUIRED, NULL,
	    64, 64, HEX_CHARS, "64 hexadecimal digits (256 bits; gen-secrets)"),
	K_STR("signing.school_key", secret_school_key, CK_SECRET, NULL, 64,
	    64, HEX_CHARS,
	    "64 hexadecimal digits (written by licheng pki init-school)"),
};
// clang-format on

/* A place in a file, 1-based; line 0 means "not seen". */
struct conf_loc {
	int line;
	int col;
};

struct conf_section {
	char name[CONF_KEY_MAX];
	struct conf_loc loc; /* the key that opens the section */
};

/* One file being loaded into c through one table. */
struct conf_ctx {
	const char *file;
	char *err;
	size_t errlen;
	const struct conf_key *keys;
	size_t nkeys;
	struct conf_loc locs[CONF_KEYS_MAX]; /* where keys[i] was set */
	struct conf_section sections[CONF_SECTIONS_MAX];
	size_t nsections;
	struct conf *c;
	yaml_document_t *doc;
};

static void conf_vfail(struct conf_ctx *, struct conf_loc, const char *,
    va_list) __attribute__((format(printf, 3, 0)));
static int conf_fail(struct conf_ctx *, struct conf_loc, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int conf_fail_file(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes msg into err; a message that does not fit ends in "...". */
static void
conf_put_err(char *err, size_t errlen, const char *msg)
{
	if (err == NULL || errlen == 0)
		return;
	if (str_copy(err, errlen, msg) != 0 && errlen > 4)
		memcpy(err + errlen - 4, "...", 4);
}

static void
conf_vfail(struct conf_ctx *x, struct conf_loc loc, const char *fmt, va_list ap)
{
	char msg[CONF_ERR_MAX], line[CONF_ERR_MAX];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		str_copy(msg, sizeof(msg), "invalid configuration");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (loc.line <= 0) {
		loc.line = 1;
		loc.col = 1;
	}
	n = snprintf(line, sizeof(line), "%s:%d:%d: %s", x->file, loc.line,
	    loc.col, msg);
	if (n < 0)
		str_copy(line, sizeof(line), msg);
	else if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	conf_put_err(x->err, x->errlen, line);
}

static int
conf_fail(struct conf_ctx *x, struct conf_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vfail(x, loc, fmt, ap);
	va_end(ap);
	return -1;
}

/* For failures about the file as a whole, which have no line. */
static int
conf_fail_file(char *err, size_t errlen, const char *fmt, ...)
{
	char line[CONF_ERR_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		str_copy(line, sizeof(line), "invalid configuration");
	else if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	conf_put_err(err, errlen, line);
	return -1;
}

static struct conf_loc
conf_mark(yaml_mark_t m)
{
	struct conf_loc loc;

	loc.line = m.line >= (size_t)1 << 30 ? 1 << 30 : (int)m.line + 1;
	loc.col = m.column >= (size_t)1 << 30 ? 1 << 30 : (int)m.column + 1;
	return loc;
}

static struct conf_loc
conf_loc_none(void)
{
	struct conf_loc loc = {0, 0};

	return loc;
}

/*
 * Quotes a value for a message: control bytes, quotes and backslashes are
 * escaped and anything past CONF_SHOW_MAX bytes becomes "...". The YAML
 * reader has checked the UTF-8, so other bytes pass through, but the cut
 * never falls inside a character.
 */
static void
conf_show(const char *s, size_t len, char *out, size_t outlen)
{
	struct buf b;
	size_t i, n = len;

	if (n > CONF_SHOW_MAX) {
		n = CONF_SHOW_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	buf_init(&b);
	buf_putc(&b, '"');
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			buf_putc(&b, '\\');
			buf_putc(&b, (char)ch);
		} else if (ch < 0x20 || ch == 0x7f)
			buf_printf(&b, "\\x%02x", ch);
		else
			buf_putc(&b, (char)ch);
	}
	if (n < len)
		buf_puts(&b, "...");
	buf_putc(&b, '"');
	if (str_copy(out, outlen, b.data) != 0 && outlen > 5)
		memcpy(out + outlen - 5, "...\"", 5);
	buf_free(&b);
}

static const char *
conf_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a sequence";
	case YAML_SCALAR_NODE: return "a scalar";
	default: return "nothing";
	}
}

/* YAML's spellings of "no value", which leave a string empty. */
static int
conf_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n->data.scalar.length == 0 || strcmp(v, "~") == 0 ||
	    strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0;
}

/* Parses [+-]?digits without leading zeros; -1 when it is not a number,
 * -2 when it is one too large to hold (so, out of any range). */
static int
conf_parse_int(const char *s, size_t len, long long *out)
{
	long long v = 0;
	size_t i = 0;
	int neg = 0;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len || (s[i] == '0' && len - i > 1))
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > 100000000000LL)
			return -2;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* Parses 0[0-7]+ or 0o[0-7]+ as an octal mode. */
static int
conf_parse_mode(const char *s, size_t len, long long *out)
{
	long long v = 0;
	size_t i;

	if (len < 2 || s[0] != '0')
		return -1;
	i = s[1] == 'o' ? 2 : 1;
	if (i == len)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		if (v > 07777)
			return -2;
		v = v * 8 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* 1 when the path has a ".." component. */
static int
conf_path_dotdot(const char *s)
{
	const char *p = s;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == s || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return 1;
		p += 2;
	}
	return 0;
}

static int
conf_enum_has(const char *words, const char *s, size_t len)
{
	const char *w = words, *bar;
	size_t n;

	for (;;) {
		bar = strchr(w, '|');
		n = bar ? (size_t)(bar - w) : strlen(w);
		if (n == len && memcmp(w, s, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		w = bar + 1;
	}
}

static void
conf_enum_list(const char *words, char *out, size_t outlen)
{
	struct buf b;
	const char *w;

	buf_init(&b);
	for (w = words; *w != '\0'; w++) {
		if (*w == '|')
			buf_puts(&b, ", ");
		else
			buf_putc(&b, *w);
	}
	if (str_copy(out, outlen, b.data ? b.data : "") != 0 && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
	buf_free(&b);
}

static int
conf_set_string(struct conf_ctx *x, const struct conf_key *k, const char *s,
    size_t len, struct conf_loc loc)
{
	char **field = (char **)(void *)((char *)x->c + k->off);
	char shown[CONF_SHOW_MAX * 4 + 16];
	int bad = 0;
	size_t i;

	if ((long long)len < k->min || (long long)len > k->max)
		bad = 1;
	for (i = 0; i < len && !bad; i++)
		if (s[i] == '\0' || strchr(k->chars, s[i]) == NULL)
			bad = 1;
	if (!bad && len > 0 && (k->flags & CK_NODIGIT) && s[0] >= '0' &&
	    s[0] <= '9')
		bad = 1;
	if (bad && (k->flags & CK_SECRET))
		return conf_fail(x, loc,
		    "expected %s for \"%s\" (the value "
		    "is not shown)",
		    k->what, k->name);
	if (bad) {
		conf_show(s, len, shown, sizeof(shown));
		return conf_fail(x, loc, "expected %s, got %s", k->what, shown);
	}
	if (*field != NULL) {
		OPENSSL_cleanse(*field, strlen(*field));
		free(*field);
	}
	*field = xstrndup(s, len);
	return 0;
}

static int
conf_set_path(struct conf_ctx *x, const struct conf_key *k, const char *s,
    size_t len, struct conf_loc loc)
{
	char **field = (char **)(void *)((char *)x->c + k->off);
	char shown[CONF_SHOW_MAX * 4 + 16];
	const char *dash = (k->flags & CK_DASH) ? " or \"-\"" : "";
	size_t i;

	conf_show(s, len, shown, sizeof(shown));
	if (len == 0 && !(k->flags & CK_REQUIRED) && !(k->flags & CK_DASH))
		goto ok;
	if ((k->flags & CK_DASH) && len == 1 && s[0] == '-')
		goto ok;
	if (len == 0 || s[0] != '/')
		return conf_fail(x, loc,
		    "expected an absolute path (starting "
		    "with /)%s, got %s",
		    dash, shown);
	if ((long long)len > k->max)
		return conf_fail(x, loc,
		    "expected an absolute path of at most "
		    "%lld bytes%s, got %s",
		    k->max,
		    k->max == CONF_SOCKET_MAX ? " (a unix socket path)" : "",
		    shown);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return conf_fail(x, loc,
			    "expected an absolute path "
			    "without control characters, got %s",
			    shown);
	if (conf_path_dotdot(s))
		return conf_fail(x, loc,
		    "expected an absolute path without "
		    "\"..\" components, got %s",
		    shown);
ok:
	free(*field);
	*field = xstrndup(s, len);
	return 0;
}

static int
conf_set_number(struct conf_ctx *x, const struct conf_key *k, const char *s,
    size_t len, struct conf_loc loc)
{
	int *field = (int *)(void *)((char *)x->c + k->off);
	char shown[CONF_SHOW_MAX * 4 + 16], expect[128];
	long long v = 0;
	int rc;

	if (k->type == CT_MODE) {
		rc = conf_parse_mode(s, len, &v);
		snprintf(expect, sizeof(expect),
		    "an octal mode from %04llo to "
		    "%04llo (such as 0660)",
		    k->min, k->max);
	} else {
		rc = conf_parse_int(s, len, &v);
		snprintf(expect, sizeof(expect), "%s from %lld to %lld",
		    k->type == CT_PORT ? "a port" : "an integer", k->min,
		    k->max);
	}
	conf_show(s, len, shown, sizeof(shown));
	if (rc == -1)
		return conf_fail(x, loc, "expected %s, got %s", expect, shown);
	if (rc == -2 || v < k->min || v > k->max)
		return conf_fail(
		    x, loc, "out of range: expected %s, got %s", expect, shown);
	*field = (int)v;
	return 0;
}

/* Checks and stores one value, from the file or from a default. */
static int
conf_set(struct conf_ctx *x, const struct conf_key *k, const char *s,
    size_t len, struct conf_loc loc)
{
	char shown[CONF_SHOW_MAX * 4 + 16], words[128];
	char **field;

	switch (k->type) {
	case CT_STRING: return conf_set_string(x, k, s, len, loc);
	case CT_PATH: return conf_set_path(x, k, s, len, loc);
	case CT_INT:
	case CT_PORT:
	case CT_MODE: return conf_set_number(x, k, s, len, loc);
	case CT_BOOL:
		if (conf_enum_has("true|false", s, len)) {
			*(int *)(void *)((char *)x->c + k->off) = s[0] == 't';
			return 0;
		}
		conf_show(s, len, shown, sizeof(shown));
		return conf_fail(
		    x, loc, "expected true or false, got %s", shown);
	case CT_ENUM:
		if (!conf_enum_has(k->chars, s, len)) {
			conf_show(s, len, shown, sizeof(shown));
			conf_enum_list(k->chars, words, sizeof(words));
			return conf_fail(
			    x, loc, "expected one of %s, got %s", words, shown);
		}
		field = (char **)(void *)((char *)x->c + k->off);
		free(*field);
		*field = xstrndup(s, len);
		return 0;
	default: return conf_fail(x, loc, "key \"%s\" has no type", k->name);
	}
}

static const struct conf_key *
conf_find(const struct conf_ctx *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->nkeys; i++)
		if (strcmp(x->keys[i].name, name) == 0)
			return &x->keys[i];
	return NULL;
}

/* 1 when some key lives under name + ".". */
static int
conf_is_section(const struct conf_ctx *x, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < x->nkeys; i++)
		if (strncmp(x->keys[i].name, name, n) == 0 &&
		    x->keys[i].name[n] == '.')
			return 1;
	return 0;
}

/* Optimal string alignment distance: edits plus swaps of neighbours. */
static size_t
conf_distance(const char *a, const char *b)
{
	size_t row[3][CONF_KEY_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la >= CONF_KEY_MAX || lb >= CONF_KEY_MAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[0][j] = j;
	for (i = 1; i <= la; i++) {
		size_t *cur = row[i % 3], *prev = row[(i - 1) % 3];
		size_t *prev2 = row[(i + 1) % 3];

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev[j] + 1;

			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (prev[j - 1] + cost < best)
				best = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return row[la % 3][lb];
}

/* The known key or section closest to name, when it is close enough to be
 * a typo (at most two edits, and not most of the word). */
static const char *
conf_suggest(
    const struct conf_ctx *x, const char *name, char *out, size_t outlen)
{
	size_t i, n, d, best = (size_t)-1;
	const char *kn;

	out[0] = '\0';
	for (i = 0; i < x->nkeys; i++) {
		kn = x->keys[i].name;
		/* The key itself, then each section above it. */
		for (n = strlen(kn); n > 0;) {
			char cand[CONF_KEY_MAX];

			if (n >= sizeof(cand))
				break;
			memcpy(cand, kn, n);
			cand[n] = '\0';
			d = conf_distance(name, cand);
			if (d < best && d <= 2 && d * 3 <= n) {
				best = d;
				str_copy(out, outlen, cand);
			}
			while (n > 0 && kn[n - 1] != '.')
				n--;
			if (n > 0)
				n--;
		}
	}
	return out[0] != '\0' ? out : NULL;
}

static int
conf_unknown(
    struct conf_ctx *x, const char *name, size_t namelen, struct conf_loc loc)
{
	char shown[CONF_SHOW_MAX * 4 + 16], near[CONF_KEY_MAX];

	conf_show(name, namelen, shown, sizeof(shown));
	if (namelen < CONF_KEY_MAX && strlen(name) == namelen &&
	    conf_suggest(x, name, near, sizeof(near)) != NULL)
		return conf_fail(x, loc, "unknown key %s; did you mean \"%s\"?",
		    shown, near);
	return conf_fail(x, loc, "unknown key %s", shown);
}

static void
conf_section_seen(struct conf_ctx *x, const char *name, struct conf_loc loc)
{
	struct conf_section *s;

	if (x->nsections >= CONF_SECTIONS_MAX)
		return;
	s = &x->sections[x->nsections++];
	str_copy(s->name, sizeof(s->name), name);
	s->loc = loc;
}

/* Where the section holding key would open, for "missing" messages. */
static struct conf_loc
conf_section_loc(const struct conf_ctx *x, const char *key)
{
	size_t i, n;
	const char *dot = strrchr(key, '.');

	if (dot == NULL)
		return conf_loc_none();
	n = (size_t)(dot - key);
	for (i = 0; i < x->nsections; i++)
		if (strlen(x->sections[i].name) == n &&
		    strncmp(x->sections[i].name, key, n) == 0)
			return x->sections[i].loc;
	return conf_loc_none();
}

static int conf_walk(struct conf_ctx *, yaml_node_t *, const char *);

/* One key: value pair of the mapping at prefix. */
static int
conf_pair(struct conf_ctx *x, yaml_node_t *map, size_t idx, const char *prefix)
{
	yaml_node_pair_t *pair = &map->data.mapping.pairs.start[idx], *p;
	yaml_node_t *key, *val, *other;
	const struct conf_key *k;
	const char *kname;
	size_t klen;
	char full[CONF_KEY_MAX];
	int n;

	key = yaml_document_get_node(x->doc, pair->key);
	val = yaml_document_get_node(x->doc, pair->value);
	if (key == NULL || val == NULL)
		return conf_fail(x, conf_loc_none(), "malformed YAML document");
	if (key->type != YAML_SCALAR_NODE)
		return conf_fail(x, conf_mark(key->start_mark),
		    "expected a key name, got %s", conf_node_kind(key));
	kname = (const char *)key->data.scalar.value;
	klen = key->data.scalar.length;
	n = snprintf(
	    full, sizeof(full), "%s%s%s", prefix, prefix[0] ? "." : "", kname);
	if (n < 0 || (size_t)n >= sizeof(full) || strlen(kname) != klen)
		return conf_unknown(x, kname, klen, conf_mark(key->start_mark));
	if (memchr(kname, '.', klen) != NULL) {
		/* A key is quoted through conf_show: it may hold newlines
		 * (a folded plain scalar), and a message is one line. */
		char shown[CONF_SHOW_MAX * 4 + 16];

		conf_show(full, strlen(full), shown, sizeof(shown));
		return conf_fail(x, conf_mark(key->start_mark),
		    "unknown key %s (write nested mappings, not dotted keys)",
		    shown);
	}
	for (p = map->data.mapping.pairs.start; p < pair; p++) {
		other = yaml_document_get_node(x->doc, p->key);
		if (other != NULL && other->type == YAML_SCALAR_NODE &&
		    other->data.scalar.length == klen &&
		    memcmp(other->data.scalar.value, kname, klen) == 0)
			return conf_fail(x, conf_mark(key->start_mark),
			    "duplicate key \"%s\" (first set on line %d)", full,
			    conf_mark(other->start_mark).line);
	}
	if ((k = conf_find(x, full)) != NULL) {
		if (val->type != YAML_SCALAR_NODE)
			return conf_fail(x, conf_mark(val->start_mark),
			    "expected a single value for \"%s\", got %s", full,
			    conf_node_kind(val));
		x->locs[k - x->keys] = conf_mark(key->start_mark);
		if (conf_is_null(val))
			return conf_set(
			    x, k, "", 0, conf_mark(val->start_mark));
		return conf_set(x, k, (const char *)val->data.scalar.value,
		    val->data.scalar.length, conf_mark(val->start_mark));
	}
	if (conf_is_section(x, full)) {
		conf_section_seen(x, full, conf_mark(key->start_mark));
		/* "paths:" with every key under it commented out is empty. */
		if (conf_is_null(val))
			return 0;
		if (val->type != YAML_MAPPING_NODE)
			return conf_fail(x, conf_mark(val->start_mark),
			    "expected a mapping of keys under \"%s\", got %s",
			    full, conf_node_kind(val));
		return conf_walk(x, val, full);
	}
	return conf_unknown(x, full, strlen(full), conf_mark(key->start_mark));
}

/*
 * Walks a mapping. Recursion is bounded by the depth of the table's keys:
 * a key deeper than any known one is unknown, so even an alias that points
 * back at its own mapping stops there.
 */
static int
conf_walk(struct conf_ctx *x, yaml_node_t *map, const char *prefix)
{
	size_t i, n;

	n = (size_t)(map->data.mapping.pairs.top -
	    map->data.mapping.pairs.start);
	for (i = 0; i < n; i++)
		if (conf_pair(x, map, i, prefix) != 0)
			return -1;
	return 0;
}

/* Fills every key the file did not set, and refuses missing required ones. */
static int
conf_finish(struct conf_ctx *x)
{
	const struct conf_key *k;
	size_t i;

	for (i = 0; i < x->nkeys; i++) {
		k = &x->keys[i];
		if (x->locs[i].line > 0)
			continue;
		if (k->flags & CK_REQUIRED)
			return conf_fail(x, conf_section_loc(x, k->name),
			    "missing required key \"%s\"", k->name);
		if (k->def == NULL) {
			if (k->type == CT_STRING || k->type == CT_PATH ||
			    k->type == CT_ENUM) {
				char **field =
				    (char **)(void *)((char *)x->c + k->off);

				free(*field);
				*field = xstrdup("");
			}
			continue;
		}
		if (conf_set(x, k, k->def, strlen(k->def), conf_loc_none()) !=
		    0)
			return -1;
	}
	return 0;
}

/* Where key was set, else where its section opens, else 1:1. */
static struct conf_loc
conf_key_loc(const struct conf_ctx *x, const char *name)
{
	const struct conf_key *k = conf_find(x, name);

	if (k != NULL && x->locs[k - x->keys].line > 0)
		return x->locs[k - x->keys];
	return conf_section_loc(x, name);
}

/* Where a was set, else where b was, else where their section opens. */
static struct conf_loc
conf_key_loc2(const struct conf_ctx *x, const char *a, const char *b)
{
	const struct conf_key *k = conf_find(x, a);

	if (k != NULL && x->locs[k - x->keys].line > 0)
		return x->locs[k - x->keys];
	if ((k = conf_find(x, b)) != NULL && x->locs[k - x->keys].line > 0)
		return x->locs[k - x->keys];
	return conf_section_loc(x, a);
}

/* Copies a path with "//", "/./" and a trailing "/" removed. ".." never
 * reaches here; conf_set_path refuses it. */
static void
conf_path_norm(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = in;

	while (*p != '\0' && o + 2 < outlen) {
		while (*p == '/')
			p++;
		if (p[0] == '.' && (p[1] == '/' || p[1] == '\0')) {
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		out[o++] = '/';
		while (*p != '\0' && *p != '/' && o + 1 < outlen)
			out[o++] = *p++;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
}

/* 1 when a is b or lies inside it. */
static int
conf_path_within(const char *a, const char *b)
{
	char na[CONF_PATH_MAX + 2], nb[CONF_PATH_MAX + 2];
	size_t n;

	conf_path_norm(a, na, sizeof(na));
	conf_path_norm(b, nb, sizeof(nb));
	if (strcmp(nb, "/") == 0)
		return 1;
	n = strlen(nb);
	return strncmp(na, nb, n) == 0 && (na[n] == '\0' || na[n] == '/');
}

/* A month and day "MM-DD" that falls in every year (not 02-29). */
static int
conf_month_day_check(struct conf_ctx *x, const char *key, const char *v)
{
	static const int days[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int m, d;

	if (strlen(v) == 5 && v[2] == '-' && v[0] >= '0' && v[0] <= '9' &&
	    v[1] >= '0' && v[1] <= '9' && v[3] >= '0' && v[3] <= '9' &&
	    v[4] >= '0' && v[4] <= '9') {
		m = (v[0] - '0') * 10 + (v[1] - '0');
		d = (v[3] - '0') * 10 + (v[4] - '0');
		if (m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1])
			return 0;
	}
	return conf_fail(x, conf_key_loc(x, key),
	    "%s must be a month and day \"MM-DD\" that every year has, "
	    "e.g. \"11-30\" (not \"%s\")",
	    key, v);
}

/* A list of upload types: known names (those lib/sniff.c recognises),
 * comma-separated, each once. */
static int
conf_types_check(struct conf_ctx *x, const char *key, const char *v)
{
	static const char *const known[] = {"pdf", "jpeg", "png", "mp4", "mp3"};
	const char *p = v, *e;
	size_t i, n, seen = 0;

	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (strlen(known[i]) == n &&
			    strncmp(known[i], p, n) == 0)
				break;
		if (i == ARRAY_SIZE(known))
			return conf_fail(x, conf_key_loc(x, key),
			    "%s: \"%.*s\" is not an upload type; expected a "
			    "comma-separated list of pdf, jpeg, png, mp4, mp3",
			    key, (int)(n > 16 ? 16 : n), p);
		if (seen & (1u << i))
			return conf_fail(x, conf_key_loc(x, key),
			    "%s: \"%s\" is listed twice", key, known[i]);
		seen |= 1u << i;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static int
conf_cross_check(struct conf_ctx *x)
{
	const struct conf *c = x->c;
	const char *roots[2] = {"store.primary", "store.replica"};
	const char *rootv[2] = {c->store_primary, c->store_replica};
	int i;

	if (c->db_socket[0] == '\0' && c->db_host[0] == '\0')
		return conf_fail(x,
		    conf_key_loc2(x, "database.host", "database.socket"),
		    "set either database.socket or "
		    "database.host");
	if (c->redis_socket[0] == '\0' && c->redis_host[0] == '\0')
		return conf_fail(x,
		    conf_key_loc2(x, "redis.host", "redis.socket"),
		    "set either redis.socket or redis.host");
	if (conf_path_within(c->store_primary, c->store_replica) &&
	    conf_path_within(c->store_replica, c->store_primary))
		return conf_fail(x, conf_key_loc(x, "store.replica"),
		    "store.primary and store.replica are the same directory; "
		    "the replica must be another disk or site");
	for (i = 0; i < 2; i++)
		if (conf_path_within(rootv[i], rootv[1 - i]))
			return conf_fail(x, conf_key_loc(x, roots[i]),
			    "%s (%s) must not be inside %s (%s)", roots[i],
			    rootv[i], roots[1 - i], rootv[1 - i]);
	for (i = 0; i < 2; i++)
		if (conf_path_within(c->fcgi_socket, rootv[i]))
			return conf_fail(x, conf_key_loc(x, "fcgi.socket"),
			    "fcgi.socket (%s) must not be inside %s (%s)",
			    c->fcgi_socket, roots[i], rootv[i]);
	if (c->fcgi_slow_request > 0 && c->fcgi_request_timeout > 0 &&
	    c->fcgi_slow_request >= c->fcgi_request_timeout)
		return conf_fail(x,
		    conf_key_loc2(
			x, "fcgi.slow_request", "fcgi.request_timeout"),
		    "fcgi.slow_request (%d) must be "
		    "less than fcgi.request_timeout (%d)",
		    c->fcgi_slow_request, c->fcgi_request_timeout);
	if (c->session_idle > c->session_absolute)
		return conf_fail(x,
		    conf_key_loc2(
			x, "session.idle_timeout", "session.absolute_timeout"),
		    "session.idle_timeout (%d) must not be more than "
		    "session.absolute_timeout (%d)",
		    c->session_idle, c->session_absolute);
	if (c->detect_egress_signin_accounts < c->detect_signin_accounts ||
	    c->detect_egress_password_changes < c->detect_password_changes)
		return conf_fail(x,
		    conf_key_loc2(x, "detect.egress_signin_accounts",
			"detect.egress_password_changes"),
		    "a school's egress addresses get thresholds at least as "
		    "high as any other address (detect.egress_* >= "
		    "detect.signin_accounts / detect.password_changes)");
	if (c->pw_warn_days >= c->pw_max_age_days)
		return conf_fail(x,
		    conf_key_loc2(
			x, "password.warn_days", "password.max_age_days"),
		    "password.warn_days (%d) must be less than "
		    "password.max_age_days (%d)",
		    c->pw_warn_days, c->pw_max_age_days);
	if (c->worker_children > c->worker_max_children)
		return conf_fail(x,
		    conf_key_loc2(x, "worker.children", "worker.max_children"),
		    "worker.children (%d) must not be "
		    "more than worker.max_children (%d)",
		    c->worker_children, c->worker_max_children);
	if (c->jobs_backoff_base > c->jobs_backoff_max)
		return conf_fail(x,
		    conf_key_loc2(x, "jobs.backoff_base", "jobs.backoff_max"),
		    "jobs.backoff_base (%d) must not be more than "
		    "jobs.backoff_max (%d)",
		    c->jobs_backoff_base, c->jobs_backoff_max);
	if (strcmp(c->scan_mode, "none") == 0 && !c->demo)
		return conf_fail(x, conf_key_loc(x, "scan.mode"),
		    "scan.mode none (no virus scan) is accepted only in the "
		    "demo configuration (demo: true); use clamd or command");
	if (strcmp(c->scan_mode, "command") == 0 && c->scan_command[0] == '\0')
		return conf_fail(x,
		    conf_key_loc2(x, "scan.command", "scan.mode"),
		    "scan.mode command needs scan.command: the scanner to run "
		    "with the file's path (exit 0 clean, 1 infected)");
	if (strcmp(c->scan_mode, "clamd") == 0 &&
	    c->scan_clamd_socket[0] == '\0')
		return conf_fail(x,
		    conf_key_loc2(x, "scan.clamd_socket", "scan.mode"),
		    "scan.mode clamd needs scan.clamd_socket");
	if (c->scan_stream_max < c->items_doc_max_bytes ||
	    c->scan_stream_max < c->items_video_max_bytes)
		return conf_fail(x,
		    conf_key_loc2(
			x, "scan.stream_max", "items.video_max_bytes"),
		    "scan.stream_max (%d) must cover the largest upload "
		    "(items.doc_max_bytes %d, items.video_max_bytes %d), and "
		    "clamd's StreamMaxLength must be at least as large",
		    c->scan_stream_max, c->items_doc_max_bytes,
		    c->items_video_max_bytes);
	if (conf_month_day_check(
		x, "selection.deadline", c->selection_deadline) != 0)
		return -1;
	if (conf_types_check(x, "items.doc_types", c->items_doc_types) != 0 ||
	    conf_types_check(x, "items.video_types", c->items_video_types) != 0)
		return -1;
	if (c->site_url[0] != '\0' &&
	    (strncmp(c->site_url, "https://", 8) != 0 ||
		c->site_url[8] == '\0' || c->site_url[8] == '/'))
		return conf_fail(x, conf_key_loc(x, "site.url"),
		    "site.url must be an https:// address with a host, "
		    "e.g. https://licheng.example.edu.tw");
	return 0;
}

/*
 * Reads a whole file into a NUL-terminated buffer. The secrets file must be
 * a regular file that only its owner can read; it is checked on the open
 * descriptor, so a rename in between cannot swap it.
 */
static int
conf_read(const char *path, int secrets, char **data, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return conf_fail_file(
		    err, errlen, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		conf_fail_file(
		    err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (secrets && !S_ISREG(st.st_mode)) {
		close(fd);
		return conf_fail_file(err, errlen,
		    "%s: not a regular file; "
		    "the secrets file must be a regular file of mode 0600",
		    path);
	}
	if (secrets && (st.st_mode & 077) != 0) {
		close(fd);
		return conf_fail_file(err, errlen,
		    "%s: mode %04o is too open; "
		    "the secrets file must be 0600 (chmod 600 %s)",
		    path, (unsigned)(st.st_mode & 07777), path);
	}
	buf_init(&b);
	/* Room for the whole file up front, so that growing the buffer never
	 * leaves a stray copy of a secret in freed memory. */
	if (S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    st.st_size <= CONF_FILE_MAX) {
		b.cap = (size_t)st.st_size + sizeof(chunk) + 1;
		b.data = xmalloc(b.cap);
		b.data[0] = '\0';
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conf_fail_file(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > CONF_FILE_MAX) {
			conf_fail_file(err, errlen,
			    "%s: larger than %d bytes; "
			    "not a configuration file",
			    path, CONF_FILE_MAX);
			goto fail;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fd);
	*len = b.len;
	*data = buf_steal(&b);
	return 0;
fail:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);
	buf_free(&b);
	close(fd);
	return -1;
}

/* The reader reports a byte offset rather than a mark; find its line. */
static struct conf_loc
conf_offset_loc(const char *data, size_t len, size_t off)
{
	struct conf_loc loc = {1, 1};
	size_t i;

	for (i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			loc.line++;
			loc.col = 1;
		} else
			loc.col++;
	}
	return loc;
}

static int
conf_syntax(struct conf_ctx *x, yaml_parser_t *p, const char *data, size_t len)
{
	struct conf_loc loc;

	if (p->error == YAML_MEMORY_ERROR)
		abort();
	if (p->error == YAML_READER_ERROR)
		loc = conf_offset_loc(data, len, p->problem_offset);
	else
		loc = conf_mark(p->problem_mark);
	if (p->context != NULL)
		return conf_fail(x, loc, "%s (%s)",
		    p->problem ? p->problem : "invalid YAML", p->context);
	return conf_fail(
	    x, loc, "%s", p->problem ? p->problem : "invalid YAML");
}

/* Wipes every scalar of a document that held secrets. */
static void
conf_doc_cleanse(yaml_document_t *doc)
{
	yaml_node_t *n;

	for (n = doc->nodes.start; n != NULL && n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE && n->data.scalar.value != NULL)
			OPENSSL_cleanse(
			    n->data.scalar.value, n->data.scalar.length);
}

/* Wipes libyaml's copies of the input, which held secrets. */
static void
conf_parser_cleanse(yaml_parser_t *p)
{
	if (p->raw_buffer.start != NULL)
		OPENSSL_cleanse(p->raw_buffer.start,
		    (size_t)(p->raw_buffer.end - p->raw_buffer.start));
	if (p->buffer.start != NULL)
		OPENSSL_cleanse(
		    p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
}

/* Parses data as one YAML document holding a mapping, and walks it. */
static int
conf_parse(struct conf_ctx *x, const char *data, size_t len, int secrets)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root, *root2;
	int rc = -1;

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		conf_syntax(x, &parser, data, len);
		goto out_parser;
	}
	x->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || conf_is_null(root)) {
		conf_fail(x, conf_loc_none(),
		    "the file is empty; expected a "
		    "mapping of keys");
		goto out_doc;
	}
	if (root->type != YAML_MAPPING_NODE) {
		conf_fail(x, conf_mark(root->start_mark),
		    "expected a mapping "
		    "of keys at the top of the file, got %s",
		    conf_node_kind(root));
		goto out_doc;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		conf_syntax(x, &parser, data, len);
		goto out_doc;
	}
	root2 = yaml_document_get_root_node(&extra);
	if (root2 != NULL)
		conf_fail(x, conf_mark(extra.start_mark),
		    "a second YAML "
		    "document; the file must hold exactly one");
	if (secrets)
		conf_doc_cleanse(&extra);
	yaml_document_delete(&extra);
	if (root2 != NULL)
		goto out_doc;
	rc = conf_walk(x, root, "");
out_doc:
	if (secrets)
		conf_doc_cleanse(&doc);
	yaml_document_delete(&doc);
	x->doc = NULL;
out_parser:
	if (secrets)
		conf_parser_cleanse(&parser);
	yaml_parser_delete(&parser);
	return rc;
}

/* Loads one file into c through table keys; 0 or -1 with err written. */
static int
conf_load_file(struct conf *c, const char *path, const struct conf_key *keys,
    size_t nkeys, int secrets, char *err, size_t errlen)
{
	struct conf_ctx *x;
	char *data;
	size_t len;
	int rc = -1;

	if (conf_read(path, secrets, &data, &len, err, errlen) != 0)
		return -1;
	x = xcalloc(1, sizeof(*x));
	x->file = path;
	x->err = err;
	x->errlen = errlen;
	x->keys = keys;
	x->nkeys = nkeys;
	x->c = c;
	if (conf_parse(x, data, len, secrets) == 0 && conf_finish(x) == 0 &&
	    (secrets || conf_cross_check(x) == 0))
		rc = 0;
	if (secrets)
		OPENSSL_cleanse(data, len);
	free(data);
	free(x);
	return rc;
}

struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct conf *c;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		conf_fail_file(err, errlen, "no configuration file given");
		return NULL;
	}
	_Static_assert(ARRAY_SIZE(conf_keys) <= CONF_KEYS_MAX,
	    "conf_keys outgrew struct conf_ctx");
	_Static_assert(ARRAY_SIZE(conf_secret_keys) <= CONF_KEYS_MAX,
	    "conf_secret_keys outgrew struct conf_ctx");
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	if (conf_load_file(c, path, conf_keys, ARRAY_SIZE(conf_keys), 0, err,
		errlen) != 0 ||
	    conf_load_file(c, c->secrets_file, conf_secret_keys,
		ARRAY_SIZE(conf_secret_keys), 1, err, errlen) != 0) {
		conf_free(c);
		return NULL;
	}
	return c;
}

static void
conf_free_fields(struct conf *c, const struct conf_key *keys, size_t n)
{
	char **field;
	size_t i;

	for (i = 0; i < n; i++) {
		if (keys[i].type != CT_STRING && keys[i].type != CT_PATH &&
		    keys[i].type != CT_ENUM)
			continue;
		field = (char **)(void *)((char *)c + keys[i].off);
		if (*field == NULL)
			continue;
		if (keys[i].flags & CK_SECRET)
			OPENSSL_cleanse(*field, strlen(*field));
		free(*field);
		*field = NULL;
	}
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	conf_free_fields(c, conf_keys, ARRAY_SIZE(conf_keys));
	conf_free_fields(c, conf_secret_keys, ARRAY_SIZE(conf_secret_keys));
	free(c->path);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

const char *
conf_default_path(const char *cli_path)
{
	const char *env;

	if (cli_path != NULL)
		return cli_path;
	env = getenv("LICHENG_CONF");
	if (env != NULL && env[0] != '\0')
		return env;
	return LICHENG_SYSCONFDIR "/licheng.yaml";
}
