-- 0004_records: a school's records (step 1 of the portfolio flow,
-- 學校行政人員登錄基本資料、修課紀錄): terms in the ROC convention, classes,
-- students, teachers, courses with their teachers, enrolments (修課紀錄);
-- CSV imports with their reports, activation-letter batches, and the
-- periodic account reviews (seeds/001 item 二十二).
--
-- Every row carries school_id and every query is scoped by it; public_id
-- (22 random base64url characters) is the only identifier in URLs.
-- National IDs are kept as an HMAC under keys.lookup (for look-up and the
-- password rules) and AES-256-GCM ciphertext under keys.data (aad
-- "twid:<student public_id>"), never in clear.

-- 學年度-學期: year is the ROC school year (114 = 2025-08..2026-07),
-- semester 1 or 2. ends_on is the closing ceremony (休業式), from which the
-- upload window and certification deadlines are counted.
CREATE TABLE IF NOT EXISTS terms (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	year SMALLINT UNSIGNED NOT NULL,
	semester TINYINT UNSIGNED NOT NULL,
	starts_on DATE NOT NULL,
	ends_on DATE NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	UNIQUE KEY terms_public_id (public_id),
	UNIQUE KEY terms_school_term (school_id, year, semester),
	CONSTRAINT terms_school FOREIGN KEY (school_id) REFERENCES schools (id),
	CONSTRAINT terms_semester CHECK (semester IN (1, 2)),
	CONSTRAINT terms_year CHECK (year BETWEEN 1 AND 999),
	CONSTRAINT terms_dates CHECK (starts_on < ends_on)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A teacher is a users row of role teacher plus this row of school data;
-- the name lives in users.name.
CREATE TABLE IF NOT EXISTS teachers (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	user_id BIGINT UNSIGNED NOT NULL,
	staff_no VARCHAR(20) NULL,
	status ENUM('active','left') NOT NULL DEFAULT 'active',
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	UNIQUE KEY teachers_public_id (public_id),
	UNIQUE KEY teachers_user (user_id),
	UNIQUE KEY teachers_staff_no (school_id, staff_no),
	CONSTRAINT teachers_school FOREIGN KEY (school_id) REFERENCES schools (id),
	CONSTRAINT teachers_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A class of one school year (code "101", name 一年一班, grade 1..3) and its
-- homeroom teacher (導師).
CREATE TABLE IF NOT EXISTS classes (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	year SMALLINT UNSIGNED NOT NULL,
	code VARCHAR(16) NOT NULL,
	name VARCHAR(50) NOT NULL,
	grade TINYINT UNSIGNED NOT NULL,
	homeroom_teacher_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	UNIQUE KEY classes_public_id (public_id),
	UNIQUE KEY classes_school_code (school_id, year, code),
	KEY classes_homeroom (homeroom_teacher_id),
	CONSTRAINT classes_school FOREIGN KEY (school_id) REFERENCES schools (id),
	CONSTRAINT classes_homeroom FOREIGN KEY (homeroom_teacher_id)
		REFERENCES teachers (id),
	CONSTRAINT classes_grade CHECK (grade BETWEEN 1 AND 12)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A student of one school. id_kind: a national ID (國民身分證統一編號) or a
-- resident certificate number (居留證統一證號). status_changed_at starts the
-- grace period after which a graduated or departed student's account is
-- disabled.
CREATE TABLE IF NOT EXISTS students (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	user_id BIGINT UNSIGNED NULL,
	student_no VARCHAR(20) CHARACTER SET ascii COLLATE ascii_general_ci
		NOT NULL,
	name VARCHAR(100) NOT NULL,
	id_kind ENUM('national','resident') NOT NULL,
	national_id_hmac CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	national_id_sealed VARBINARY(64) NOT NULL,
	birth_date DATE NOT NULL,
	class_id BIGINT UNSIGNED NULL,
	seat_no SMALLINT UNSIGNED NULL,
	status ENUM('enrolled','suspended','graduated','left') NOT NULL
		DEFAULT 'enrolled',
	status_changed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	UNIQUE KEY students_public_id (public_id),
	UNIQUE KEY students_number (school_id, student_no),
	UNIQUE KEY students_national_id (school_id, national_id_hmac),
	UNIQUE KEY students_user (user_id),
	KEY students_class (class_id, seat_no),
	KEY students_status (school_id, status, status_changed_at),
	CONSTRAINT students_school FOREIGN KEY (school_id) REFERENCES schools (id),
	CONSTRAINT students_user FOREIGN KEY (user_id) REFERENCES users (id),
	CONSTRAINT students_class FOREIGN KEY (class_id) REFERENCES classes (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A course of one term (code unique within the school and term).
CREATE TABLE IF NOT EXISTS courses (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	term_id BIGINT UNSIGNED NOT NULL,
	code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
	name VARCHAR(100) NOT NULL,
	credits TINYINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	UNIQUE KEY courses_public_id (public_id),
	UNIQUE KEY courses_code (school_id, term_id, code),
	KEY courses_term (term_id),
	CONSTRAINT courses_school FOREIGN KEY (school_id) REFERENCES schools (id),
	CONSTRAINT courses_term FOREIGN KEY (term_id) REFERENCES terms (id),
	CONSTRAINT courses_credits CHECK (credits BETWEEN 0 AND 30)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS course_teachers (
	course_id BIGINT UNSIGNED NOT NULL,
	teacher_id BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (course_id, teacher_id),
	KEY course_teachers_teacher (teacher_id),
	CONSTRAINT course_teachers_course FOREIGN KEY (course_id)
		REFERENCES courses (id),
	CONSTRAINT course_teachers_teacher FOREIGN KEY (teacher_id)
		REFERENCES teachers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- 修課紀錄: a student took a course. school_id is repeated so that every
-- query can be scoped by it without a join.
CREATE TABLE IF NOT EXISTS enrolments (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	student_id BIGINT UNSIGNED NOT NULL,
	course_id BIGINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	UNIQUE KEY enrolments_public_id (public_id),
	UNIQUE KEY enrolments_pair (student_id, course_id),
	KEY enrolments_course (course_id),
	KEY enrolments_school (school_id),
	CONSTRAINT enrolments_school FOREIGN KEY (school_id)
		REFERENCES schools (id),
	CONSTRAINT enrolments_student FOREIGN KEY (student_id)
		REFERENCES students (id),
	CONSTRAINT enrolments_course FOREIGN KEY (course_id)
		REFERENCES courses (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One CSV import, from the page or from `licheng import`. The uploaded
-- file is kept sealed (keys.data, aad "import:<public_id>") until it is
-- applied or import.keep_hours pass, then payload is set to NULL. report
-- is the dry run's problems as JSON: [{"row":N,"column":"...","code":
-- "...","value":"..."}] (values of national IDs masked).
CREATE TABLE IF NOT EXISTS imports (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	kind ENUM('students','teachers','courses','enrolments') NOT NULL,
	filename VARCHAR(255) NOT NULL DEFAULT '',
	encoding ENUM('utf-8','big5') NOT NULL,
	state ENUM('checked','applied','expired') NOT NULL,
	rows_total INT UNSIGNED NOT NULL DEFAULT 0,
	rows_bad INT UNSIGNED NOT NULL DEFAULT 0,
	rows_created INT UNSIGNED NOT NULL DEFAULT 0,
	rows_updated INT UNSIGNED NOT NULL DEFAULT 0,
	rows_unchanged INT UNSIGNED NOT NULL DEFAULT 0,
	accounts_issued INT UNSIGNED NOT NULL DEFAULT 0,
	report MEDIUMTEXT NULL CHECK (report IS NULL OR JSON_VALID(report)),
	payload MEDIUMBLOB NULL,
	letter_batch_id BIGINT UNSIGNED NULL,
	created_by BIGINT UNSIGNED NULL,
	created_by_actor VARCHAR(64) NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	applied_at DATETIME(6) NULL,
	expires_at DATETIME(6) NOT NULL,
	UNIQUE KEY imports_public_id (public_id),
	KEY imports_school (school_id, created_at),
	CONSTRAINT imports_school FOREIGN KEY (school_id) REFERENCES schools (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Activation letters of one issuance (an import, or a re-issue). payload
-- is the sealed list (keys.data, aad "letters:<public_id>"); it is set to
-- NULL when the admin destroys it or letters.keep_hours pass, after which
-- only a re-issue makes new codes. The codes themselves are stored only as
-- hashes in users.
CREATE TABLE IF NOT EXISTS letter_batches (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	letters INT UNSIGNED NOT NULL,
	payload MEDIUMBLOB NULL,
	created_by BIGINT UNSIGNED NULL,
	created_by_actor VARCHAR(64) NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	expires_at DATETIME(6) NOT NULL,
	destroyed_at DATETIME(6) NULL,
	UNIQUE KEY letter_batches_public_id (public_id),
	KEY letter_batches_school (school_id, created_at),
	CONSTRAINT letter_batches_school FOREIGN KEY (school_id)
		REFERENCES schools (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The periodic account review (seeds/001 item 二十二): an admin records
-- that the school's account list was checked.
CREATE TABLE IF NOT EXISTS account_reviews (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	reviewed_by BIGINT UNSIGNED NULL,
	reviewed_by_actor VARCHAR(64) NOT NULL,
	reviewed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	accounts INT UNSIGNED NOT NULL,
	note VARCHAR(200) NOT NULL DEFAULT '',
	UNIQUE KEY account_reviews_public_id (public_id),
	KEY account_reviews_school (school_id, reviewed_at),
	CONSTRAINT account_reviews_school FOREIGN KEY (school_id)
		REFERENCES schools (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who disabled an account and when (the reason is users.disabled_reason);
-- disabled_by NULL with disabled_at set means the automatic sweep.
ALTER TABLE users
	ADD COLUMN IF NOT EXISTS disabled_at DATETIME(6) NULL
		AFTER disabled_reason,
	ADD COLUMN IF NOT EXISTS disabled_by BIGINT UNSIGNED NULL
		AFTER disabled_at;

GRANT SELECT, INSERT, UPDATE ON licheng.terms TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.teachers TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.classes TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.students TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.courses TO licheng_app_r;
GRANT SELECT, INSERT, DELETE ON licheng.course_teachers TO licheng_app_r;
GRANT SELECT, INSERT, DELETE ON licheng.enrolments TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.imports TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.letter_batches TO licheng_app_r;
GRANT SELECT, INSERT ON licheng.account_reviews TO licheng_app_r;

-- The worker's sweeps: disabling accounts after the grace period, wiping
-- expired import files and letters.
GRANT SELECT ON licheng.students TO licheng_worker_r;
GRANT SELECT ON licheng.teachers TO licheng_worker_r;
GRANT SELECT ON licheng.classes TO licheng_worker_r;
GRANT SELECT ON licheng.terms TO licheng_worker_r;
GRANT SELECT ON licheng.courses TO licheng_worker_r;
GRANT SELECT ON licheng.course_teachers TO licheng_worker_r;
GRANT SELECT ON licheng.enrolments TO licheng_worker_r;
GRANT UPDATE (status, disabled_reason, disabled_at, disabled_by)
	ON licheng.users TO licheng_worker_r;
GRANT SELECT, UPDATE ON licheng.imports TO licheng_worker_r;
GRANT SELECT, UPDATE ON licheng.letter_batches TO licheng_worker_r;
