/*
 * conf: the one YAML configuration file and its secrets file, loaded through
 * one table of key -> type -> bounds -> field (conf.c). Loading never forks,
 * never connects anywhere and never logs: it fills a struct conf or an error
 * "file:line:column: what was expected" for the caller to print.
 */
#ifndef LICHENG_CONF_H
#define LICHENG_CONF_H

#include <stddef.h>

#define CONF_ERR_MAX 1024

struct conf {
	char *path; /* the file this was loaded from */
	char *secrets_file; /* must be mode 0600 or 0400 */

	/* log */
	char *log_file; /* "-" = standard error */
	char *log_level; /* debug | info | warn | error */

	/* database */
	char *db_socket; /* unix socket; empty = use host/port */
	char *db_host;
	int db_port;
	char *db_name; /* the school database, e.g. licheng */
	char *db_central_name; /* the central database, e.g. licheng_central */
	char *db_grant_host; /* host part of the database accounts */
	int db_connect_timeout; /* seconds */
	int db_rw_timeout; /* seconds */
	char *db_app_user;
	char *db_worker_user;
	char *db_audit_user;
	char *db_central_user;
	char *db_migrate_user;

	/* redis */
	char *redis_socket; /* empty = host/port */
	char *redis_host;
	int redis_port;
	int redis_timeout_ms;
	char *redis_prefix; /* key prefix, "licheng:" */

	/* store */
	char *store_primary;
	char *store_replica;

	/* paths */
	char *migrations_dir;
	char *templates_dir;
	char *static_dir;
	char *messages_dir;
	char *privacy_dir; /* the privacy notices, <version>.<lang>.txt */
	char *run_dir; /* per-host runtime state, e.g. the scrypt slots */

	/* fcgi pool */
	char *fcgi_socket;
	int fcgi_socket_mode; /* octal in YAML, e.g. 0660 */
	int fcgi_backlog;
	int fcgi_children;
	int fcgi_max_requests;
	int fcgi_request_timeout; /* seconds; a child past it is killed */
	int fcgi_slow_request; /* seconds; logged once per request */
	int fcgi_drain_timeout; /* seconds to finish requests on stop */
	char *fcgi_pid_file;

	/* worker pool */
	int worker_children;
	int worker_max_children;
	int worker_heartbeat; /* seconds */
	int worker_drain_timeout; /* seconds */
	char *worker_pid_file;

	/* password policy (seeds/001 item 十二 (九)): every bound may only be
	 * made stricter than the Ministry's rule */
	int pw_min_length; /* characters, >= 8 */
	int pw_max_age_days; /* <= 180: a change is forced after this */
	int pw_min_age_days; /* >= 1: no change again within this */
	int pw_history; /* >= 3: none of the last N reused */
	int pw_warn_days; /* warn this many days before expiry */
	char *pw_blocklist; /* common passwords, one per line */
	int pw_scrypt_log2_n; /* scrypt N = 2^this, >= 15 */
	int pw_scrypt_r;
	int pw_scrypt_p;
	int pw_hash_slots; /* scrypt computations at once on one host */
	int pw_hash_wait_ms; /* how long a sign-in waits for a slot */

	/* lock-outs and attack detection (seeds/002 cases 1 and 2) */
	int lock_failures; /* failures of one account within lock_window */
	int lock_window; /* seconds */
	int lock_duration; /* seconds the account stays locked */
	int detect_window; /* seconds */
	int detect_signin_accounts; /* distinct accounts failing, per address */
	int detect_password_changes; /* accounts changing passwords */
	int detect_block; /* seconds an address stays blocked */
	int detect_egress_signin_accounts; /* the same for a school's */
	int detect_egress_password_changes; /* registered egress address */

	/* sessions */
	int session_idle; /* seconds without a request */
	int session_absolute; /* seconds since sign-in */

	/* second factor and privacy notice */
	char *mfa_issuer; /* the issuer shown in authenticator apps */
	char *privacy_version; /* the notice in force; a change asks again */

	/* secrets (from secrets_file) */
	char *secret_db_app_password;
	char *secret_db_worker_password;
	char *secret_db_audit_password;
	char *secret_db_central_password;
	char *secret_db_migrate_password;
	char *secret_redis_password; /* may be empty */
	char *secret_data_key; /* 64 hex: AES-256-GCM of personal data, TOTP */
	char *secret_lookup_key; /* 64 hex: HMAC-SHA256 for look-ups */

	/* school records */
	char *site_url; /* the sign-in address printed on activation letters,
			 * "https://host[:port]"; "" = the request's own */
	int import_max_bytes; /* largest CSV import file */
	int import_max_rows; /* data rows in one import file */
	int import_keep_hours; /* an uploaded import file (sealed) is kept
				* this long for its apply, then wiped */
	int letters_keep_hours; /* activation letters (sealed codes) can be
				 * printed this long after issuance */
	int accounts_grace_days; /* a graduated or departed student's account
				  * is disabled this long after the change */
	int accounts_sweep_interval; /* seconds between the worker's sweeps */

	/* items (issue 5): uploads of course learning outcomes and diverse
	 * performances */
	int items_doc_max_bytes; /* a document (PDF, JPEG, PNG) */
	int items_video_max_bytes; /* a video or audio file (MP4, MP3) */
	char *items_doc_types; /* "pdf,jpeg,png": accepted as documents */
	char *items_video_types; /* "mp4,mp3": accepted as video/audio */
	int items_description_max; /* characters, at most 100 */
	char *items_categories; /* the diverse-performance categories file */
	int items_window_days; /* the default upload window closes this many
				* days after the term's closing ceremony */
	int downloads_limit; /* file downloads per user per window */
	int downloads_window; /* seconds */

	/* jobs (issue 6): the queue of DESIGN.md "Jobs" */
	int jobs_visibility_timeout; /* seconds a delivered job may stay
				      * unacknowledged before another
				      * consumer claims it (XAUTOCLAIM) */
	int jobs_max_attempts; /* deliveries before a job is dead */
	int jobs_backoff_base; /* seconds before the 2nd attempt; doubles */
	int jobs_backoff_max; /* seconds, the longest wait between attempts */
	int jobs_reconcile_interval; /* seconds between reconciler runs */
	int jobs_republish_after; /* seconds: a pending job published longer
				   * ago than this (or never) is published
				   * again by the reconciler */
	int jobs_block_ms; /* XREADGROUP BLOCK, ms (bounds stop latency) */
	int jobs_batch; /* entries of quick job types a child reads, claims
			 * and commits together */
	int jobs_warn_age; /* seconds: home pages warn when the oldest
			    * pending job is older */
	int hash_read_rate; /* bytes/s of read-back per hash or repair job
			     * (0 = as fast as the disk goes) */
	char *scan_mode; /* "clamd", "command" or "none" (demo only) */
	char *scan_clamd_socket; /* clamd's LocalSocket */
	char *scan_command; /* an executable given the file's path */
	int scan_timeout; /* seconds for one scan */
	int scan_stream_max; /* bytes; must not exceed clamd's
			      * StreamMaxLength, and must cover the largest
			      * upload */

	/* certification and selection (issue 7) */
	int certify_deadline_days; /* the default certification deadline is
				    * this many days after the term's closing
				    * ceremony */
	int certify_page_size; /* rows on a page of the teacher's list, and
				* the most certified in one batch */
	int selection_course_max; /* course learning outcomes ticked per
				   * student and school year */
	int selection_diverse_max; /* diverse performances likewise */
	char *selection_deadline; /* "MM-DD": the default selection deadline,
				   * in the Western year after the school
				   * year ends */
	char *secret_school_key; /* signing.school_key: 64 hex, the Ed25519
				  * private key (seed) of the school
				  * platform; "" until `licheng pki
				  * init-school` */

	/* demo: true only in the demo stack (deploy/dev): demo accounts and
	 * the scan mode "none" are allowed nowhere else. Default false. */
	int demo;
};

/* Loads path (and the secrets file it names) into a new struct conf. On
 * failure returns NULL and writes "file:line:column: message" into err. The
 * caller owns the result and frees it with conf_free.
 *
 * Every string field of a loaded conf is non-NULL: an optional key that is
 * absent (or written as "", ~ or null) is "", so callers test s[0]. Lines
 * and columns are 1-based; a value error points at the value, an unknown or
 * duplicate key at the key, a missing key at the key that opens its section
 * ("store:") or at 1:1 when that is absent too, and a cross-field error at
 * one of the keys involved. Failures about the file as a whole have no line:
 * "<path>: cannot open: <strerror>" and, for the secrets file,
 * "<path>: mode 0644 is too open; the secrets file must be 0600 (chmod 600
 * <path>)". No message ever quotes a secret's value. */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* Frees c; accepts NULL. Secrets are wiped before release. */
void conf_free(struct conf *c);
/* The path a program should load: -c FILE, else $LICHENG_CONF, else the
 * compiled-in default. */
const char *conf_default_path(const char *cli_path);

#endif
