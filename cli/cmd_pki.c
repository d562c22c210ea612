/*
 * cmd_pki: `licheng pki init-school`, `licheng pki show` and `licheng
 * verify-cert ITEM`. It owns writing the platform's signing key into the
 * secrets file (once, atomically, keeping its owner and mode 0600), its
 * row in platform_keys and its request and certificate files. It must
 * never print or log the private key, never replace a key the secrets file
 * already has, and never leave a secrets file that does not load.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "certsig.h"
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "sign.h"
#include "util.h"
#include "validate.h"

#define PKI_DEFAULT_ORG "Licheng school platform"
#define PKI_NAME_MAX 64 /* characters of the subject's CN and O */
#define PKI_CERT_DAYS 825 /* the self-signed certificate's validity */
#define PKI_SECRETS_MAX (1024 * 1024)
#define PKI_CSR_FILE "platform.csr.pem"
#define PKI_CRT_FILE "platform.crt.pem"

struct pki_opts {
	const char *cn;
	const char *org;
	const char *out;
};

static int
cmd_pki_usage(void)
{
	fprintf(stderr,
	    "usage: licheng pki init-school [--cn HOST] [--org NAME] "
	    "[--out DIR]\n"
	    "       licheng pki show\n"
	    "       licheng verify-cert [--text] ITEM\n");
	return 2;
}

static int
cmd_pki_opts(int argc, char **argv, struct pki_opts *o)
{
	static const struct option opts[] = {
	    {"cn", required_argument, NULL, 'c'},
	    {"org", required_argument, NULL, 'o'},
	    {"out", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->cn = optarg; break;
		case 'o': o->org = optarg; break;
		case 'd': o->out = optarg; break;
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The host of site.url ("https://host[:port][/...]") into out, else the
 * machine's host name. 0/-1. */
static int
cmd_pki_default_cn(const struct conf *c, char *out, size_t outlen)
{
	const char *h, *end;
	size_t n;

	if (c->site_url[0] != '\0' &&
	    strncmp(c->site_url, "https://", 8) == 0) {
		h = c->site_url + 8;
		end = h + strcspn(h, ":/");
		n = (size_t)(end - h);
		if (n > 0 && n < outlen) {
			memcpy(out, h, n);
			out[n] = '\0';
			return 0;
		}
	}
	if (gethostname(out, outlen) != 0 || out[0] == '\0' ||
	    memchr(out, '\0', outlen) == NULL) {
		fprintf(stderr,
		    "licheng: site.url is not set and the host name cannot "
		    "be read: give --cn HOST\n");
		return -1;
	}
	return 0;
}

/* The directory of path into out. 0/-1. */
static int
cmd_pki_dirname(const char *path, char *out, size_t outlen)
{
	char tmp[PATH_MAX];

	if (str_copy(tmp, sizeof(tmp), path) != 0 ||
	    str_copy(out, outlen, dirname(tmp)) != 0) {
		fprintf(stderr, "licheng: %s: path too long\n", path);
		return -1;
	}
	return 0;
}

static int
cmd_pki_fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(fd) != 0)
		rc = -1;
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

static int
cmd_pki_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Replaces the file at path with the n bytes at data, atomically: a
 * temporary file beside it (mode, owner and group as given), written and
 * fsynced, renamed over path, and the directory fsynced. Nothing but the
 * temporary file is touched before the rename. 0, or -1 with the reason on
 * standard error.
 */
static int
cmd_pki_replace(const char *path, const char *data, size_t n, mode_t mode,
    uid_t uid, gid_t gid)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *what = "write";
	int fd;

	if (cmd_pki_dirname(path, dir, sizeof(dir)) != 0)
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp)) {
		fprintf(stderr, "licheng: %s: path too long\n", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		fprintf(stderr, "licheng: cannot create a file in %s: %s\n",
		    dir, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0)
		what = "set the mode of";
	else if (fchown(fd, uid, gid) != 0)
		what = "set the owner of";
	else if (cmd_pki_write_all(fd, data, n) != 0)
		what = "write";
	else if (fsync(fd) != 0)
		what = "fsync";
	else
		what = NULL;
	if (what != NULL) {
		fprintf(stderr, "licheng: cannot %s %s: %s\n", what, tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "licheng: cannot replace %s: %s\n", path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (cmd_pki_fsync_dir(dir) != 0) {
		fprintf(stderr, "licheng: cannot fsync %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 when text has an uncommented top-level "signing:" key. */
static int
cmd_pki_has_signing(const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "signing:", 8) == 0 ||
		    strncmp(p, "\"signing\":", 10) == 0 ||
		    strncmp(p, "'signing':", 10) == 0)
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

/*
 * Refuses, before anything is created, a secrets file this command could
 * not rewrite in place: not a regular file (a symbolic link would be
 * replaced by a file), read-only, in a directory it cannot write, or with
 * a signing: mapping of its own already. 0/-1.
 */
static int
cmd_pki_secrets_preflight(const char *path, struct stat *st)
{
	char dir[PATH_MAX];

	if (lstat(path, st) != 0) {
		fprintf(stderr, "licheng: secrets file %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		fprintf(stderr,
		    "licheng: secrets file %s is not a regular file (a "
		    "symbolic link?); point secrets_file at the file itself\n",
		    path);
		return -1;
	}
	if (cmd_pki_dirname(path, dir, sizeof(dir)) != 0)
		return -1;
	if (access(path, W_OK) != 0) {
		fprintf(stderr,
		    "licheng: cannot rewrite the secrets file %s: %s; run "
		    "as its owner, or make it writable by its owner\n",
		    path, strerror(errno));
		return -1;
	}
	if (access(dir, W_OK) != 0) {
		fprintf(stderr,
		    "licheng: cannot rewrite the secrets file %s: its "
		    "directory %s is not writable (%s)\n",
		    path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Appends "signing:\n  school_key: \"HEX\"\n" to the secrets file, keeping
 * its owner and mode, then checks that the whole configuration still
 * loads with that key; if it does not, the old text is put back. Every
 * copy of the file's text is wiped. 0/-1.
 */
static int
cmd_pki_secrets_add(const struct conf *c, const struct stat *st,
    const char hex[SIGN_HEX_LEN + 1])
{
	char err[CONF_ERR_MAX];
	char *old = NULL;
	size_t oldlen = 0;
	struct buf text;
	struct conf *again;
	int rc = -1;

	if (file_read_all(c->secrets_file, PKI_SECRETS_MAX, &old, &oldlen, err,
		sizeof(err)) != 0) {
		fprintf(
		    stderr, "licheng: cannot read the secrets file: %s\n", err);
		return -1;
	}
	if (cmd_pki_has_signing(old)) {
		fprintf(stderr,
		    "licheng: %s already has a signing: mapping but no "
		    "school_key; remove that mapping, then run `licheng pki "
		    "init-school` again\n",
		    c->secrets_file);
		goto done;
	}
	buf_init(&text);
	/* Room for all of it at once: no stray copy in freed memory. */
	text.cap = oldlen + 128;
	text.data = xmalloc(text.cap);
	text.data[0] = '\0';
	buf_append(&text, old, oldlen);
	if (oldlen > 0 && old[oldlen - 1] != '\n')
		buf_putc(&text, '\n');
	buf_printf(&text, "signing:\n  school_key: \"%s\"\n", hex);
	if (cmd_pki_replace(c->secrets_file, text.data, text.len,
		st->st_mode & 07777, st->st_uid, st->st_gid) != 0) {
		fprintf(stderr, "licheng: the secrets file %s is unchanged\n",
		    c->secrets_file);
		goto wipe;
	}
	again = conf_load(c->path, err, sizeof(err));
	if (again != NULL && strcmp(again->secret_school_key, hex) == 0) {
		rc = 0;
	} else {
		fprintf(stderr,
		    "licheng: with the key added the configuration does not "
		    "load (%s); putting the old secrets file back\n",
		    again == NULL ? err : "the key reads differently");
		if (cmd_pki_replace(c->secrets_file, old, oldlen,
			st->st_mode & 07777, st->st_uid, st->st_gid) != 0)
			fprintf(stderr,
			    "licheng: CANNOT put the old secrets file back: "
			    "restore %s from a backup\n",
			    c->secrets_file);
	}
	conf_free(again);
wipe:
	OPENSSL_cleanse(text.data, text.cap);
	buf_free(&text);
done:
	OPENSSL_cleanse(old, oldlen);
	free(old);
	return rc;
}

/* A connection as role in the school database, checked; NULL (and why on
 * standard error) when the server cannot be reached. */
static struct db *
cmd_pki_connect(const struct conf *c, enum db_role role, const char *who)
{
	struct db *db = db_new(c, role);

	if ((role == DB_MIGRATE ? db_select(db, c->db_name) : 0) != 0 ||
	    db_ping(db) != 0) {
		fprintf(stderr,
		    "licheng: cannot reach the database as the %s account: "
		    "%s\n",
		    who, db_errstr(db));
		db_free(db);
		return NULL;
	}
	return db;
}

static const char Q_KEY[] =
    "SELECT csr_pem, cert_pem, subject, cert_issuer, "
    "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%S'), retired_at "
    "FROM platform_keys WHERE key_id = ?";

/* The key's request and self-signed certificate, made now, into csr and
 * crt; subject as printed. 0/-1. */
static int
cmd_pki_make_pems(const struct sign_key *k, const char *cn, const char *org,
    struct buf *csr, struct buf *crt, struct buf *subject)
{
	if (sign_csr_pem(k, cn, org, csr) != 0 ||
	    sign_selfcert_pem(k, cn, org, PKI_CERT_DAYS, crt) != 0) {
		fprintf(stderr,
		    "licheng: cannot make the certificate "
		    "request and certificate\n");
		return -1;
	}
	buf_printf(subject, "CN=%s, O=%s, C=TW", cn, org);
	return 0;
}

/*
 * The key's platform_keys row: made (with a new request and self-signed
 * certificate) when missing; csr and crt get the row's PEM texts either
 * way. *added tells which. 0/-1.
 */
static int
cmd_pki_register(struct db *db, const struct sign_key *k, const char *key_id,
    const char *pubhex, const struct pki_opts *o, struct buf *csr,
    struct buf *crt, int *added)
{
	struct db_param p[5];
	struct db_res *r;
	struct buf subject;
	int rc;

	*added = 0;
	p[0] = DB_STR(key_id);
	if ((r = db_query(db, Q_KEY, p, 1)) == NULL) {
		fprintf(stderr, "licheng: cannot read platform_keys: %s\n",
		    db_errstr(db));
		return -1;
	}
	if (db_res_rows(r) > 0) {
		buf_puts(csr, db_res_get(r, 0, 0));
		buf_puts(crt, db_res_get(r, 0, 1));
		db_res_free(r);
		return 0;
	}
	db_res_free(r);
	buf_init(&subject);
	if (cmd_pki_make_pems(k, o->cn, o->org, csr, crt, &subject) != 0) {
		buf_free(&subject);
		return -1;
	}
	p[1] = DB_STR(pubhex);
	p[2] = DB_STR(subject.data);
	p[3] = DB_STRN(csr->data, csr->len);
	p[4] = DB_STRN(crt->data, crt->len);
	rc = db_exec(db,
	    "INSERT INTO platform_keys (key_id, algorithm, public_key, "
	    "subject, csr_pem, cert_pem, cert_issuer) "
	    "VALUES (?, 'ed25519', ?, ?, ?, ?, 'self')",
	    p, 5, NULL, NULL);
	buf_free(&subject);
	if (rc != 0) {
		fprintf(stderr,
		    "licheng: cannot record the key in platform_keys: %s\n",
		    db_errstr(db));
		return -1;
	}
	*added = 1;
	return 0;
}

/* Writes dir/name with text (mode 0644) unless it exists. 1 written, 0
 * already there, -1 error. */
static int
cmd_pki_write_pem(const char *dir, const char *name, const struct buf *text,
    char *path, size_t pathlen)
{
	struct stat st;

	if ((size_t)snprintf(path, pathlen, "%s/%s", dir, name) >= pathlen) {
		fprintf(stderr, "licheng: %s: path too long\n", dir);
		return -1;
	}
	if (lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		fprintf(stderr, "licheng: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (cmd_pki_replace(
		path, text->data, text->len, 0644, geteuid(), getegid()) != 0)
		return -1;
	return 1;
}

/* Resolves the options' defaults; cn and dir hold what they point at. */
static int
cmd_pki_defaults(const struct conf *c, struct pki_opts *o, char *cn,
    size_t cnlen, char *dir, size_t dirlen)
{
	if (o->cn == NULL) {
		if (cmd_pki_default_cn(c, cn, cnlen) != 0)
			return -1;
		o->cn = cn;
	}
	if (o->org == NULL)
		o->org = PKI_DEFAULT_ORG;
	if (o->out == NULL) {
		if (cmd_pki_dirname(c->secrets_file, dir, dirlen) != 0)
			return -1;
		o->out = dir;
	}
	if (!validate_line(o->cn, PKI_NAME_MAX) ||
	    !validate_line(o->org, PKI_NAME_MAX)) {
		fprintf(stderr,
		    "licheng: --cn and --org must each be 1 to %d "
		    "characters of one line\n",
		    PKI_NAME_MAX);
		return -1;
	}
	return 0;
}

int
cmd_pki_init_school(const struct conf *c, int argc, char **argv)
{
	char cn[256], dir[PATH_MAX], path[PATH_MAX];
	char hex[SIGN_HEX_LEN + 1], key_id[SIGN_HEX_LEN + 1];
	char pubhex[SIGN_HEX_LEN + 1];
	unsigned char pub[SIGN_PUB_LEN];
	struct sign_key *k = NULL;
	struct pki_opts o;
	struct stat st;
	struct buf csr, crt;
	struct db *db = NULL;
	int existed = c->secret_school_key[0] != '\0', added, w, rc = 1;

	if (cmd_pki_opts(argc, argv, &o) != 0)
		return cmd_pki_usage();
	if (cmd_pki_defaults(c, &o, cn, sizeof(cn), dir, sizeof(dir)) != 0)
		return 1;
	buf_init(&csr);
	buf_init(&crt);
	if (!existed && cmd_pki_secrets_preflight(c->secrets_file, &st) != 0)
		goto done;
	/* The database first: an unreachable one changes nothing. */
	if ((db = cmd_pki_connect(c, DB_MIGRATE, "migrations")) == NULL)
		goto done;
	k = existed ? sign_key_from_hex(c->secret_school_key)
		    : sign_key_generate();
	if (k == NULL || sign_key_public(k, pub) != 0) {
		fprintf(stderr, "licheng: cannot %s the signing key\n",
		    existed ? "read" : "create");
		goto done;
	}
	sign_key_id(pub, key_id);
	hex_encode(pub, sizeof(pub), pubhex);
	if (existed) {
		printf("already initialised: key id %s\n", key_id);
	} else {
		if (sign_key_seed_hex(k, hex) != 0)
			goto done;
		w = cmd_pki_secrets_add(c, &st, hex);
		OPENSSL_cleanse(hex, sizeof(hex));
		if (w != 0)
			goto done;
		printf("created the school platform's signing key: key id "
		       "%s\n",
		    key_id);
		printf("wrote signing.school_key into %s\n", c->secrets_file);
	}
	if (cmd_pki_register(db, k, key_id, pubhex, &o, &csr, &crt, &added) !=
	    0)
		goto done;
	if (added)
		printf("registered in platform_keys: CN=%s, O=%s, C=TW "
		       "(self-signed until the central CA issues one)\n",
		    o.cn, o.org);
	if ((w = cmd_pki_write_pem(
		 o.out, PKI_CSR_FILE, &csr, path, sizeof(path))) < 0)
		goto done;
	if (w > 0)
		printf("wrote the certificate request for the central CA: "
		       "%s\n",
		    path);
	if ((w = cmd_pki_write_pem(
		 o.out, PKI_CRT_FILE, &crt, path, sizeof(path))) < 0)
		goto done;
	if (w > 0)
		printf("wrote the self-signed certificate: %s\n", path);
	if (!existed)
		printf("restart or reload licheng-fcgi (SIGHUP) to sign "
		       "certification decisions with it\n");
	rc = fflush(stdout) == EOF ? 1 : 0;
done:
	sign_key_free(k);
	db_free(db);
	buf_free(&csr);
	buf_free(&crt);
	return rc;
}

int
cmd_pki_show(const struct conf *c, int argc, char **argv)
{
	unsigned char pub[SIGN_PUB_LEN];
	char key_id[SIGN_HEX_LEN + 1], pubhex[SIGN_HEX_LEN + 1];
	struct sign_key *k;
	struct db_param p;
	struct db_res *r;
	struct db *db;
	int rc = 1;

	(void)argv;
	if (argc != 1)
		return cmd_pki_usage();
	if (c->secret_school_key[0] == '\0') {
		printf("no signing key in %s: run `licheng pki init-school`\n",
		    c->secrets_file);
		return 1;
	}
	if ((k = sign_key_from_hex(c->secret_school_key)) == NULL ||
	    sign_key_public(k, pub) != 0) {
		fprintf(stderr, "licheng: cannot read signing.school_key\n");
		sign_key_free(k);
		return 1;
	}
	sign_key_free(k);
	sign_key_id(pub, key_id);
	hex_encode(pub, sizeof(pub), pubhex);
	printf("key id: %s\n", key_id);
	printf("algorithm: ed25519\n");
	printf("public key: %s\n", pubhex);
	if ((db = cmd_pki_connect(c, DB_WORKER, "worker")) == NULL)
		return 1;
	p = DB_STR(key_id);
	if ((r = db_query(db, Q_KEY, &p, 1)) == NULL) {
		fprintf(stderr, "licheng: cannot read platform_keys: %s\n",
		    db_errstr(db));
	} else if (db_res_rows(r) == 0) {
		printf("platform_keys: NOT registered (the secrets file's key "
		       "matches no row): run `licheng pki init-school`\n");
	} else {
		printf("subject: %s\n", db_res_get(r, 0, 2));
		printf("issuer: %s\n", db_res_get(r, 0, 3));
		printf("created: %s UTC\n", db_res_get(r, 0, 4));
		if (db_res_get(r, 0, 5) != NULL)
			printf("retired: %s UTC\n", db_res_get(r, 0, 5));
		printf("platform_keys: registered, matches the secrets "
		       "file's key\n");
		rc = fflush(stdout) == EOF ? 1 : 0;
	}
	db_res_free(r);
	db_free(db);
	return rc;
}

/* One decision's line, and with text its canonical text and signature. */
static void
cmd_pki_print_entry(const struct certsig_entry *e, int text)
{
	printf("%s %.10sT%sZ %s teacher=%s for=%s key=%s %s%s\n", e->public_id,
	    e->decided_at, e->decided_at[0] != '\0' ? e->decided_at + 11 : "",
	    e->decision, e->teacher,
	    e->for_teacher[0] != '\0' ? e->for_teacher : "-", e->key_id,
	    certsig_result_name(e->result), e->current ? " current" : "");
	if (!text)
		return;
	printf("-----BEGIN LICHENG CERTIFICATION %s-----\n", e->public_id);
	if (e->text != NULL)
		fputs(e->text, stdout);
	else
		printf("(no canonical text: a column does not fit its form)\n");
	printf("-----END LICHENG CERTIFICATION %s-----\n", e->public_id);
	printf("signature: %s\n", e->signature);
}

int
cmd_verify_cert(const struct conf *c, int argc, char **argv)
{
	struct certsig_report rep;
	const char *item = NULL;
	struct db *db;
	size_t i, failed = 0;
	int text = 0, rc, a;

	/* Not getopt: a public id may begin with "-". */
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--text") == 0)
			text = 1;
		else if (item == NULL)
			item = argv[a];
		else
			return cmd_pki_usage();
	}
	if (item == NULL)
		return cmd_pki_usage();
	if ((db = cmd_pki_connect(c, DB_WORKER, "worker")) == NULL)
		return 2;
	rc = certsig_verify_item(db, item, &rep);
	db_free(db);
	if (rc < 0) {
		fprintf(stderr,
		    "licheng: %s: the decisions could not be read\n", item);
		return 2;
	}
	if (rc == 0) {
		fprintf(stderr, "licheng: %s: no such item\n", item);
		return 2;
	}
	for (i = 0; i < rep.n; i++) {
		cmd_pki_print_entry(&rep.v[i], text);
		failed += rep.v[i].result != CERTSIG_OK;
	}
	if (rep.n == 0)
		printf("%s: no certification decisions\n", item);
	else if (failed == 0)
		printf("%s: verified %zu decision(s)\n", item, rep.n);
	else
		printf(
		    "%s: %zu of %zu decision(s) FAILED\n", item, failed, rep.n);
	certsig_report_free(&rep);
	if (fflush(stdout) == EOF)
		return 2;
	return failed > 0 ? 1 : 0;
}
