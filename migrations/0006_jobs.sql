-- 0006_jobs: the job system of DESIGN.md "Jobs" (licheng-worker's queue).
--
-- A job row is the truth; Redis Streams only carry its id to a worker. The
-- row says whether the job still has to run (pending), is being run
-- (running: a consumer has claimed it), is done, or is dead (it failed on
-- max_attempts deliveries; last_error says why). not_before is when a
-- pending job may run next (the backoff after a failure). published_at is
-- the last XADD of it, so that the reconciler publishes again only what is
-- due and not in Redis for a while (never published, Redis lost it, a
-- retry whose wait is over).
ALTER TABLE jobs
	ADD COLUMN IF NOT EXISTS published_at DATETIME(6) NULL AFTER not_before,
	ADD COLUMN IF NOT EXISTS claimed_by VARCHAR(96) CHARACTER SET ascii
		COLLATE ascii_bin NULL AFTER published_at,
	ADD COLUMN IF NOT EXISTS claimed_at DATETIME(6) NULL AFTER claimed_by,
	ADD COLUMN IF NOT EXISTS finished_at DATETIME(6) NULL AFTER claimed_at,
	ADD INDEX IF NOT EXISTS jobs_due (state, not_before),
	ADD INDEX IF NOT EXISTS jobs_type_state (type, state, created_at);

-- Every delivery of a job that a consumer started: who (host:pid), when,
-- how it ended (ok, error with the reason, or lost when its consumer died
-- and another claimed the job), for `licheng jobs show`.
CREATE TABLE IF NOT EXISTS job_attempts (
	id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
	job_id BIGINT UNSIGNED NOT NULL,
	attempt INT NOT NULL,
	consumer VARCHAR(96) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	started_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	finished_at DATETIME(6) NULL,
	result ENUM('ok', 'error', 'lost') NULL,
	error TEXT NULL,
	UNIQUE KEY job_attempts_job (job_id, attempt),
	CONSTRAINT job_attempts_job FOREIGN KEY (job_id) REFERENCES jobs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- licheng-worker runs the jobs and records their attempts; licheng-fcgi
-- reads the queue's state for /metrics and the home pages.
GRANT SELECT, INSERT, UPDATE ON licheng.job_attempts TO licheng_worker_r;
GRANT SELECT ON licheng.job_attempts TO licheng_app_r;

-- The hash job repairs a bad copy and the scan job quarantines an infected
-- object: both record it in objects (0005 granted SELECT, UPDATE) and raise
-- alerts (0003 granted INSERT); the scan job reads the item's school and
-- student to address the alert.
