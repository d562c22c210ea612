-- 0002_accounts: schools and personal accounts. A login name is never a
-- public fact (seeds/001 item 十二); first access is by a one-time activation
-- code stored only as a hash. public_id is the opaque identifier used in
-- URLs; id never leaves the database.

CREATE TABLE IF NOT EXISTS schools (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	code VARCHAR(16) NOT NULL,
	name VARCHAR(100) NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	UNIQUE KEY schools_public_id (public_id),
	UNIQUE KEY schools_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS users (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NULL,
	role ENUM('student','teacher','school_admin','central_staff','auditor') NOT NULL,
	login VARCHAR(32) NOT NULL,
	name VARCHAR(100) NOT NULL,
	status ENUM('pending','active','disabled') NOT NULL DEFAULT 'pending',
	activation_hash CHAR(64) NULL,
	activation_expires DATETIME(6) NULL,
	password_hash VARCHAR(255) NULL,
	password_changed_at DATETIME(6) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	UNIQUE KEY users_public_id (public_id),
	UNIQUE KEY users_login (login),
	KEY users_school_role (school_id, role),
	CONSTRAINT users_school FOREIGN KEY (school_id) REFERENCES schools (id),
	-- Central staff and auditors belong to no school; everyone else to one.
	CONSTRAINT users_school_scope CHECK
		((role IN ('central_staff', 'auditor')) = (school_id IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

GRANT SELECT, INSERT, UPDATE ON licheng.schools TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.users TO licheng_app_r;
GRANT SELECT ON licheng.schools TO licheng_worker_r;
GRANT SELECT ON licheng.users TO licheng_worker_r;
