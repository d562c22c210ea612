-- 0007_certification: steps 3 and 4 of the portfolio flow (教師認證課程學習
-- 成果; 勾選及提交): the school platform's signing key, the signed
-- certification decisions with their history, stand-in certifiers (代理人),
-- the certification and selection deadlines, and the students' ticks.

-- The school platform's Ed25519 signing keys (`licheng pki init-school`).
-- The private key lives in the secrets file (signing.school_key), never
-- here. key_id is the SHA-256 (hex) of the raw 32-byte public key. The
-- certificate is self-signed until the central CA issues one (cert_issuer
-- central). A retired key stays, so that what it signed still verifies.
-- Only the migrations account writes this table: the web application and
-- the workers read it.
CREATE TABLE IF NOT EXISTS platform_keys (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	key_id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	algorithm ENUM('ed25519') NOT NULL DEFAULT 'ed25519',
	public_key CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	subject VARCHAR(255) NOT NULL,
	csr_pem TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	cert_pem TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	cert_issuer ENUM('self', 'central') NOT NULL DEFAULT 'self',
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	retired_at DATETIME(6) NULL,
	UNIQUE KEY platform_keys_key_id (key_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A stand-in certifier (代理人) named by the school admin: the teacher
-- standin_teacher_id certifies either every course learning outcome of one
-- course (course_id; for_teacher_id NULL, no dates), or those of every
-- course of the teacher for_teacher_id while today (Taiwan) is within
-- starts_on..ends_on (both inclusive). Revoking keeps the row.
CREATE TABLE IF NOT EXISTS cert_standins (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	standin_teacher_id BIGINT UNSIGNED NOT NULL,
	course_id BIGINT UNSIGNED NULL,
	for_teacher_id BIGINT UNSIGNED NULL,
	starts_on DATE NULL,
	ends_on DATE NULL,
	set_by BIGINT UNSIGNED NOT NULL,
	set_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	revoked_at DATETIME(6) NULL,
	revoked_by BIGINT UNSIGNED NULL,
	UNIQUE KEY cert_standins_public_id (public_id),
	KEY cert_standins_standin (standin_teacher_id, revoked_at),
	KEY cert_standins_school (school_id, revoked_at),
	CONSTRAINT cert_standins_school FOREIGN KEY (school_id)
		REFERENCES schools (id),
	CONSTRAINT cert_standins_standin FOREIGN KEY (standin_teacher_id)
		REFERENCES teachers (id),
	CONSTRAINT cert_standins_course FOREIGN KEY (course_id)
		REFERENCES courses (id),
	CONSTRAINT cert_standins_for FOREIGN KEY (for_teacher_id)
		REFERENCES teachers (id),
	CONSTRAINT cert_standins_shape CHECK (
		(course_id IS NOT NULL AND for_teacher_id IS NULL AND
		    starts_on IS NULL AND ends_on IS NULL) OR
		(course_id IS NULL AND for_teacher_id IS NOT NULL AND
		    starts_on IS NOT NULL AND ends_on IS NOT NULL AND
		    starts_on <= ends_on)),
	CONSTRAINT cert_standins_not_self CHECK (
		for_teacher_id IS NULL OR for_teacher_id <> standin_teacher_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The certification deadline of a school's term, set (or extended) by its
-- admin. A term without a row has the default: certify.deadline_days days
-- after its closing ceremony (terms.ends_on). Teachers may act until the
-- end of that Taiwan date.
CREATE TABLE IF NOT EXISTS cert_deadlines (
	term_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
	school_id BIGINT UNSIGNED NOT NULL,
	deadline DATE NOT NULL,
	set_by BIGINT UNSIGNED NOT NULL,
	set_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	KEY cert_deadlines_school (school_id),
	CONSTRAINT cert_deadlines_term FOREIGN KEY (term_id)
		REFERENCES terms (id),
	CONSTRAINT cert_deadlines_school FOREIGN KEY (school_id)
		REFERENCES schools (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The selection (勾選) deadline of a school's school year (學年度, ROC
-- year), set by its admin. Without a row: selection.deadline ("MM-DD") in
-- the Western year after the school year ends (114 -> 2026-MM-DD).
CREATE TABLE IF NOT EXISTS selection_deadlines (
	school_id BIGINT UNSIGNED NOT NULL,
	year SMALLINT UNSIGNED NOT NULL,
	deadline DATE NOT NULL,
	set_by BIGINT UNSIGNED NOT NULL,
	set_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (school_id, year),
	CONSTRAINT selection_deadlines_school FOREIGN KEY (school_id)
		REFERENCES schools (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every certification decision on a course learning outcome, kept as
-- history: a later decision or a change of the item's files sets
-- superseded_at of the earlier one and never changes anything else.
-- teacher_id is the teacher who acted (their account user_id);
-- for_teacher_id the teacher they acted for and standin_id the assignment
-- that allowed it (both NULL when the course's own teacher acted). The
-- record, with the SHA-256 of each current file (certification_files), is
-- signed with the platform key key_id over the canonical text of
-- lib/certsig.h; signature is the 64-byte Ed25519 signature in hex.
CREATE TABLE IF NOT EXISTS certifications (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	item_id BIGINT UNSIGNED NOT NULL,
	item_version INT UNSIGNED NOT NULL,
	decision ENUM('certified', 'rejected') NOT NULL,
	reason VARCHAR(200) NULL,
	teacher_id BIGINT UNSIGNED NOT NULL,
	user_id BIGINT UNSIGNED NOT NULL,
	for_teacher_id BIGINT UNSIGNED NULL,
	standin_id BIGINT UNSIGNED NULL,
	decided_at DATETIME(6) NOT NULL,
	key_id CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	signature CHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	superseded_at DATETIME(6) NULL,
	UNIQUE KEY certifications_public_id (public_id),
	KEY certifications_item (item_id, decided_at),
	KEY certifications_teacher (teacher_id, decided_at),
	CONSTRAINT certifications_school FOREIGN KEY (school_id)
		REFERENCES schools (id),
	CONSTRAINT certifications_item FOREIGN KEY (item_id)
		REFERENCES items (id),
	CONSTRAINT certifications_teacher FOREIGN KEY (teacher_id)
		REFERENCES teachers (id),
	CONSTRAINT certifications_user FOREIGN KEY (user_id)
		REFERENCES users (id),
	CONSTRAINT certifications_for FOREIGN KEY (for_teacher_id)
		REFERENCES teachers (id),
	CONSTRAINT certifications_standin FOREIGN KEY (standin_id)
		REFERENCES cert_standins (id),
	CONSTRAINT certifications_key FOREIGN KEY (key_id)
		REFERENCES platform_keys (key_id),
	CONSTRAINT certifications_reason CHECK (
		decision = 'certified' OR
		(reason IS NOT NULL AND CHAR_LENGTH(reason) > 0))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The files a decision was over: the item's current file of each slot.
CREATE TABLE IF NOT EXISTS certification_files (
	certification_id BIGINT UNSIGNED NOT NULL,
	slot ENUM('doc', 'video') NOT NULL,
	sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	PRIMARY KEY (certification_id, slot),
	CONSTRAINT certification_files_cert FOREIGN KEY (certification_id)
		REFERENCES certifications (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The item's current decision (NULL while none stands), the student's
-- unread result (cert_notice: set by a decision, cleared when the student
-- opens /items) and the tick (勾選) for submission.
ALTER TABLE items
	ADD COLUMN IF NOT EXISTS cert_id BIGINT UNSIGNED NULL AFTER cert_reason,
	ADD COLUMN IF NOT EXISTS cert_notice TINYINT(1) NOT NULL DEFAULT 0
		AFTER cert_id,
	ADD COLUMN IF NOT EXISTS selected_at DATETIME(6) NULL
		AFTER cert_notice;
CREATE INDEX IF NOT EXISTS items_pending
	ON items (school_id, kind, cert_state, deleted_at, course_id);
CREATE INDEX IF NOT EXISTS items_selected
	ON items (student_id, selected_at);

-- licheng-fcgi: reads the keys; writes decisions (never deletes or
-- rewrites one: superseded_at only), stand-ins, deadlines and ticks.
GRANT SELECT ON licheng.platform_keys TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.cert_standins TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE, DELETE ON licheng.cert_deadlines
	TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE, DELETE ON licheng.selection_deadlines
	TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE (superseded_at) ON licheng.certifications
	TO licheng_app_r;
GRANT SELECT, INSERT ON licheng.certification_files TO licheng_app_r;

-- licheng-worker: reads what central submission will carry.
GRANT SELECT ON licheng.platform_keys TO licheng_worker_r;
GRANT SELECT ON licheng.cert_standins TO licheng_worker_r;
GRANT SELECT ON licheng.cert_deadlines TO licheng_worker_r;
GRANT SELECT ON licheng.selection_deadlines TO licheng_worker_r;
GRANT SELECT ON licheng.certifications TO licheng_worker_r;
GRANT SELECT ON licheng.certification_files TO licheng_worker_r;
