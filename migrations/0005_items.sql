-- 0005_items: step 2 of the portfolio flow (學生上傳課程學習成果、多元表現):
-- the objects of the durable store, the students' items and every version
-- of their files, and the upload windows per school and term.
--
-- An object is a file in the content-addressed store, named by its SHA-256
-- and held in both roots; it is immutable and shared by every item that
-- uploads the same bytes. This table is also the hash registry: the hash
-- job records here when both copies were read back and verified, and the
-- scan job the virus scan's result. Objects are never deleted by the web
-- application (it has no right to).
CREATE TABLE IF NOT EXISTS objects (
	sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		PRIMARY KEY,
	size BIGINT UNSIGNED NOT NULL,
	mime VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	verified_at DATETIME(6) NULL,
	verify_result ENUM('ok', 'repaired', 'mismatch', 'missing') NULL,
	scanned_at DATETIME(6) NULL,
	scan_result ENUM('clean', 'infected') NULL,
	scan_signature VARCHAR(255) NULL,
	quarantined_at DATETIME(6) NULL,
	lost_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The upload window of a school's term, set by its admin. Dates are Taiwan
-- dates, both inclusive. A term without a row has the default window: from
-- its first day until items.window_days days after its closing ceremony.
CREATE TABLE IF NOT EXISTS upload_windows (
	term_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
	school_id BIGINT UNSIGNED NOT NULL,
	opens_on DATE NOT NULL,
	closes_on DATE NOT NULL,
	set_by BIGINT UNSIGNED NOT NULL,
	set_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	KEY upload_windows_school (school_id),
	CONSTRAINT upload_windows_term FOREIGN KEY (term_id)
		REFERENCES terms (id),
	CONSTRAINT upload_windows_school FOREIGN KEY (school_id)
		REFERENCES schools (id),
	CONSTRAINT upload_windows_dates CHECK (opens_on <= closes_on)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A student's item: a course learning outcome (課程學習成果, kind course,
-- for one of their enrolled courses) or a diverse performance (多元表現,
-- kind diverse, in a category of conf/categories.yaml). The description is
-- at most 100 characters. cert_state is 'none' for diverse performances
-- (不須認證); a course outcome starts 'pending' (待認證 once checked).
-- version counts the item's changes; each file row records the version
-- that added it. A deleted item keeps its rows (deleted_at) and objects.
CREATE TABLE IF NOT EXISTS items (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	student_id BIGINT UNSIGNED NOT NULL,
	term_id BIGINT UNSIGNED NOT NULL,
	kind ENUM('course', 'diverse') NOT NULL,
	course_id BIGINT UNSIGNED NULL,
	category VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
	description VARCHAR(100) NOT NULL,
	cert_state ENUM('none', 'pending', 'certified', 'rejected') NOT NULL,
	cert_at DATETIME(6) NULL,
	cert_by BIGINT UNSIGNED NULL,
	cert_reason VARCHAR(200) NULL,
	submitted_at DATETIME(6) NULL,
	version INT UNSIGNED NOT NULL DEFAULT 1,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	deleted_at DATETIME(6) NULL,
	UNIQUE KEY items_public_id (public_id),
	KEY items_student_term (school_id, student_id, term_id),
	KEY items_course (course_id, cert_state),
	CONSTRAINT items_school FOREIGN KEY (school_id) REFERENCES schools (id),
	CONSTRAINT items_student FOREIGN KEY (student_id)
		REFERENCES students (id),
	CONSTRAINT items_term FOREIGN KEY (term_id) REFERENCES terms (id),
	CONSTRAINT items_course FOREIGN KEY (course_id) REFERENCES courses (id),
	CONSTRAINT items_kind CHECK (
		(kind = 'course' AND course_id IS NOT NULL AND category IS NULL
		    AND cert_state <> 'none') OR
		(kind = 'diverse' AND course_id IS NULL AND category IS NOT NULL
		    AND cert_state = 'none'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every file an item has had: slot doc (PDF, JPEG, PNG) or video (MP4,
-- MP3). The current file of a slot has replaced_at NULL. The original name
-- is data, never a path; the bytes are the object sha256.
CREATE TABLE IF NOT EXISTS item_files (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	public_id CHAR(22) NOT NULL,
	school_id BIGINT UNSIGNED NOT NULL,
	item_id BIGINT UNSIGNED NOT NULL,
	slot ENUM('doc', 'video') NOT NULL,
	version INT UNSIGNED NOT NULL,
	sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	size BIGINT UNSIGNED NOT NULL,
	mime VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	original_name VARCHAR(255) NOT NULL,
	uploaded_by BIGINT UNSIGNED NOT NULL,
	uploaded_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	replaced_at DATETIME(6) NULL,
	UNIQUE KEY item_files_public_id (public_id),
	KEY item_files_item (item_id, slot, replaced_at),
	KEY item_files_sha256 (sha256),
	CONSTRAINT item_files_school FOREIGN KEY (school_id)
		REFERENCES schools (id),
	CONSTRAINT item_files_item FOREIGN KEY (item_id) REFERENCES items (id),
	CONSTRAINT item_files_object FOREIGN KEY (sha256)
		REFERENCES objects (sha256),
	CONSTRAINT item_files_uploader FOREIGN KEY (uploaded_by)
		REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- licheng-fcgi: records uploads, changes items, reads objects' states. It
-- never deletes an object, an item or a file row.
GRANT SELECT, INSERT ON licheng.objects TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE, DELETE ON licheng.upload_windows
	TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.items TO licheng_app_r;
GRANT SELECT, INSERT, UPDATE ON licheng.item_files TO licheng_app_r;

-- licheng-worker: reads what it verifies and scans (the hash and scan jobs
-- record their results in objects).
GRANT SELECT, UPDATE ON licheng.objects TO licheng_worker_r;
GRANT SELECT ON licheng.items TO licheng_worker_r;
GRANT SELECT ON licheng.item_files TO licheng_worker_r;
