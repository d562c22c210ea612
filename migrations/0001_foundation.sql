-- 0001_foundation: the least-privilege roles, the store markers, the audit
-- log and its chain head, and the job outbox. Runs as licheng_migrate with
-- `licheng` as the default database; the runner creates the databases and
-- the accounts (users get these roles, never direct grants).

CREATE ROLE IF NOT EXISTS licheng_app_r;
CREATE ROLE IF NOT EXISTS licheng_worker_r;
CREATE ROLE IF NOT EXISTS licheng_audit_r;
CREATE ROLE IF NOT EXISTS licheng_central_r;

-- The id written into each store root's STORE_ID marker. A root whose
-- marker differs from this is never written to.
CREATE TABLE IF NOT EXISTS store_roots (
	name ENUM('primary', 'replica') NOT NULL PRIMARY KEY,
	store_id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- INSERT-only for the programs; each row's hash covers the previous one so
-- `licheng audit verify` detects any edit or deletion.
CREATE TABLE IF NOT EXISTS audit_log (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	at DATETIME(6) NOT NULL,
	actor VARCHAR(64) NOT NULL,
	role VARCHAR(32) NOT NULL,
	school VARCHAR(32) NULL,
	ip VARCHAR(45) NOT NULL,
	event VARCHAR(64) NOT NULL,
	target VARCHAR(191) NULL,
	outcome VARCHAR(16) NOT NULL,
	detail TEXT NULL CHECK (detail IS NULL OR JSON_VALID(detail)),
	prev_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	INDEX audit_log_at (at),
	INDEX audit_log_actor (actor, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row: the last appended entry. Appenders lock it with SELECT ... FOR
-- UPDATE, which serialises the chain across processes and hosts.
CREATE TABLE IF NOT EXISTS audit_head (
	id TINYINT UNSIGNED NOT NULL PRIMARY KEY CHECK (id = 1),
	last_id BIGINT UNSIGNED NOT NULL DEFAULT 0,
	last_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO audit_head (id, last_id, last_hash)
    VALUES (1, 0, REPEAT('0', 64));

-- The outbox: a job row commits with the change that needs it and is then
-- published to the stream licheng:jobs:<type>.
CREATE TABLE IF NOT EXISTS jobs (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	type VARCHAR(32) NOT NULL,
	payload JSON NOT NULL,
	state ENUM('pending', 'running', 'done', 'dead') NOT NULL
	    DEFAULT 'pending',
	attempts INT NOT NULL DEFAULT 0,
	max_attempts INT NOT NULL DEFAULT 5,
	not_before DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	last_error TEXT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
	    ON UPDATE CURRENT_TIMESTAMP(6),
	INDEX jobs_state_type (state, type)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- licheng-fcgi
GRANT SELECT ON store_roots TO licheng_app_r;
GRANT INSERT ON audit_log TO licheng_app_r;
GRANT SELECT, UPDATE ON audit_head TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON jobs TO licheng_app_r;

-- licheng-worker
GRANT SELECT ON store_roots TO licheng_worker_r;
GRANT INSERT ON audit_log TO licheng_worker_r;
GRANT SELECT, UPDATE ON audit_head TO licheng_worker_r;
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO licheng_worker_r;

-- auditors' reader
GRANT SELECT ON audit_log TO licheng_audit_r;
GRANT SELECT ON audit_head TO licheng_audit_r;

-- the central side: its own database only
GRANT SELECT, INSERT, UPDATE, DELETE ON licheng_central.* TO licheng_central_r;
