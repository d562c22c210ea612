-- 0003_security: what sign-in and the security baseline keep in the
-- database. Sessions, failure counters and address blocks live in Redis;
-- everything here must survive a Redis restart: password history (none of
-- the last 3 reused), the second factor, the privacy notice's acceptances,
-- the schools' registered egress addresses and the alerts shown on the
-- admins' home pages.

-- The personal facts a password must not contain. The national ID is kept
-- only as an HMAC (keys.lookup), never in clear.
ALTER TABLE users
	ADD COLUMN IF NOT EXISTS birth_date DATE NULL AFTER name,
	ADD COLUMN IF NOT EXISTS national_id_hmac CHAR(64) CHARACTER SET ascii
		COLLATE ascii_bin NULL AFTER birth_date,
	ADD COLUMN IF NOT EXISTS totp_secret VARBINARY(128) NULL,
	ADD COLUMN IF NOT EXISTS totp_enabled_at DATETIME(6) NULL,
	ADD COLUMN IF NOT EXISTS totp_last_step BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS privacy_version VARCHAR(32) NULL,
	ADD COLUMN IF NOT EXISTS privacy_accepted_at DATETIME(6) NULL,
	ADD COLUMN IF NOT EXISTS last_login_at DATETIME(6) NULL,
	ADD COLUMN IF NOT EXISTS disabled_reason VARCHAR(200) NULL;

-- The hashes of earlier passwords, newest first by changed_at; the current
-- one is in users.password_hash.
CREATE TABLE IF NOT EXISTS password_history (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT UNSIGNED NOT NULL,
	password_hash VARCHAR(255) NOT NULL,
	changed_at DATETIME(6) NOT NULL,
	KEY password_history_user (user_id, changed_at),
	CONSTRAINT password_history_user FOREIGN KEY (user_id)
		REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Ten one-time recovery codes per enrolment, stored as hashes bound to the
-- login; a used code keeps its row with used_at set.
CREATE TABLE IF NOT EXISTS mfa_recovery_codes (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT UNSIGNED NOT NULL,
	code_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	used_at DATETIME(6) NULL,
	UNIQUE KEY mfa_recovery_code (user_id, code_hash),
	CONSTRAINT mfa_recovery_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every acceptance of a privacy notice version (個資告知), kept as evidence.
CREATE TABLE IF NOT EXISTS privacy_acceptances (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	user_id BIGINT UNSIGNED NOT NULL,
	version VARCHAR(32) NOT NULL,
	accepted_at DATETIME(6) NOT NULL,
	ip VARCHAR(45) NOT NULL,
	KEY privacy_acceptances_user (user_id, accepted_at),
	CONSTRAINT privacy_acceptances_user FOREIGN KEY (user_id)
		REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A school's Internet egress addresses (the NAT most of its pupils share):
-- they get higher detection thresholds and an alert instead of a block.
CREATE TABLE IF NOT EXISTS school_egress (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	address VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	note VARCHAR(100) NOT NULL DEFAULT '',
	created_by BIGINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	UNIQUE KEY school_egress_public_id (public_id),
	UNIQUE KEY school_egress_address (school_id, address),
	KEY school_egress_lookup (address),
	CONSTRAINT school_egress_school FOREIGN KEY (school_id)
		REFERENCES schools (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Alerts raised by detection (and later by the store and the jobs): shown
-- as a banner on the central staff's home page and, when school_id is set,
-- on that school's admins' home pages, until someone acknowledges them.
CREATE TABLE IF NOT EXISTS alerts (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	at DATETIME(6) NOT NULL,
	school_id BIGINT UNSIGNED NULL,
	kind VARCHAR(64) NOT NULL,
	ip VARCHAR(45) NOT NULL DEFAULT '',
	detail TEXT NULL CHECK (detail IS NULL OR JSON_VALID(detail)),
	acknowledged_at DATETIME(6) NULL,
	acknowledged_by BIGINT UNSIGNED NULL,
	UNIQUE KEY alerts_public_id (public_id),
	KEY alerts_open (acknowledged_at, school_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

GRANT SELECT, INSERT, DELETE ON licheng.password_history TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE, DELETE ON licheng.mfa_recovery_codes
	TO licheng_app_r;
GRANT SELECT, INSERT ON licheng.privacy_acceptances TO licheng_app_r;
GRANT SELECT, INSERT, DELETE ON licheng.school_egress TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.alerts TO licheng_app_r;
GRANT SELECT, INSERT ON licheng.alerts TO licheng_worker_r;
