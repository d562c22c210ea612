# grants: each database account can do what its program needs and nothing
# more: no DDL outside migrations, the audit log INSERT-only for the
# programs and readable only by the audit account, the central account
# confined to its own database, and no account management.
. "$(dirname "$0")/lib.sh"

trap 'sql_as migrate "REVOKE ALL PRIVILEGES ON grants_probe FROM licheng_app_r, licheng_worker_r" >/dev/null 2>&1;
    sql_as migrate "DROP TABLE IF EXISTS grants_probe" >/dev/null 2>&1;
    sql_as migrate "ALTER TABLE jobs DROP COLUMN IF EXISTS grants_probe" >/dev/null 2>&1;
    lib_finish' EXIT

# central_sql SQL: as the central account, in its own database.
central_sql() {
	MYSQL_PWD="$(conf_get central_password "$SECRETS_FILE")" \
	    mariadb --socket="$MYSQL_SOCK" -ulicheng_central -N -B \
	    licheng_central -e "$1"
}

# denied ROLE SQL: true when the server refuses SQL for lack of a privilege
# (not merely because the statement failed for another reason).
denied() {
	local out
	if out=$(sql_as "$1" "$2" 2>&1); then return 1; fi
	printf '%s' "$out" | grep -qiE 'denied'
}
central_denied() {
	local out
	if out=$(central_sql "$1" 2>&1); then return 1; fi
	printf '%s' "$out" | grep -qiE 'denied'
}

# A table the app and worker roles may change rows of, so that a refused
# DROP or ALTER shows DML rights do not carry DDL rights.
check "migrate can create a probe table" \
    sql_as migrate "CREATE TABLE IF NOT EXISTS grants_probe (id INT) ENGINE=InnoDB"
check "migrate can grant DML on it" sql_as migrate \
    "GRANT SELECT, INSERT, UPDATE, DELETE ON grants_probe TO licheng_app_r, licheng_worker_r"
check "the app can insert into the probe table" \
    sql_as app "INSERT INTO grants_probe VALUES (1)"

# Every statement that only checks a right runs in a transaction that is
# rolled back, so nothing it could have written stays.
tx() { printf 'START TRANSACTION; %s; ROLLBACK;' "$1"; }
audit_row="INSERT INTO audit_log (at, actor, role, ip, event, outcome, prev_hash, hash) VALUES (NOW(6), 'grants', 'test', '127.0.0.1', 'grants.probe', 'ok', REPEAT('0', 64), REPEAT('0', 64))"

# app
check "app cannot CREATE TABLE" denied app "CREATE TABLE grants_new (id INT)"
check "app cannot DROP TABLE" denied app "DROP TABLE grants_probe"
check "app cannot ALTER TABLE" denied app "ALTER TABLE grants_probe ADD COLUMN x INT"
check "app cannot ALTER TABLE jobs" denied app "ALTER TABLE jobs ADD COLUMN grants_probe INT"
check "app cannot TRUNCATE jobs" denied app "TRUNCATE TABLE jobs"
check "app cannot UPDATE audit_log" denied app "$(tx "UPDATE audit_log SET outcome = 'x'")"
check "app cannot DELETE from audit_log" denied app "$(tx "DELETE FROM audit_log")"
check "app cannot SELECT audit_log" denied app "SELECT COUNT(*) FROM audit_log"
check "app can INSERT into audit_log" sql_as app "$(tx "$audit_row")"
check "app can read and update audit_head" \
    sql_as app "$(tx "SELECT last_hash FROM audit_head WHERE id = 1 FOR UPDATE; UPDATE audit_head SET last_id = last_id WHERE id = 1")"
check "app can read store_roots" sql_as app "SELECT COUNT(*) FROM store_roots"
check "app cannot change store_roots" denied app "$(tx "DELETE FROM store_roots")"
check "app can insert and update jobs" sql_as app \
    "$(tx "INSERT INTO jobs (type, payload) VALUES ('grants', '{}'); UPDATE jobs SET attempts = attempts WHERE type = 'grants'")"
check "app cannot DELETE jobs" denied app "$(tx "DELETE FROM jobs WHERE type = 'grants'")"
check "app cannot CREATE USER" denied app "CREATE USER 'grants_probe'@'localhost'"
check "app cannot GRANT" denied app "GRANT SELECT ON audit_log TO licheng_app"
check "app cannot read mysql.user" denied app "SELECT COUNT(*) FROM mysql.user"
check "app cannot use the central database" denied app "SHOW TABLES FROM licheng_central"

# audit
check "audit can SELECT audit_log" sql_as audit "SELECT COUNT(*) FROM audit_log"
check "audit can SELECT audit_head" sql_as audit "SELECT last_id FROM audit_head"
check "audit cannot INSERT into audit_log" denied audit "$(tx "$audit_row")"
check "audit cannot UPDATE audit_head" denied audit "$(tx "UPDATE audit_head SET last_id = last_id")"
check "audit cannot read jobs" denied audit "SELECT COUNT(*) FROM jobs"

# worker
check "worker cannot CREATE TABLE" denied worker "CREATE TABLE grants_new (id INT)"
check "worker cannot DROP TABLE" denied worker "DROP TABLE grants_probe"
check "worker cannot ALTER TABLE jobs" denied worker "ALTER TABLE jobs ADD COLUMN grants_probe INT"
check "worker cannot CREATE INDEX" denied worker "CREATE INDEX grants_i ON grants_probe (id)"
check "worker cannot SELECT audit_log" denied worker "SELECT COUNT(*) FROM audit_log"
check "worker can INSERT into audit_log" sql_as worker "$(tx "$audit_row")"
check "worker can delete jobs" sql_as worker "$(tx "DELETE FROM jobs WHERE type = 'grants'")"
check "worker cannot CREATE USER" denied worker "CREATE USER 'grants_probe'@'localhost'"
# School records: the worker's sweep may disable accounts, nothing more.
check "worker can UPDATE users.status" sql_as worker "$(tx "UPDATE users SET status = status WHERE id = 0")"
check "worker cannot UPDATE users.password_hash" denied worker "$(tx "UPDATE users SET password_hash = NULL WHERE id = 0")"
check "worker cannot UPDATE students" denied worker "$(tx "UPDATE students SET name = name WHERE id = 0")"
check "worker cannot DELETE students" denied worker "$(tx "DELETE FROM students WHERE id = 0")"
check "app cannot DELETE students" denied app "$(tx "DELETE FROM students WHERE id = 0")"
check "app cannot DELETE imports" denied app "$(tx "DELETE FROM imports WHERE id = 0")"
check "app cannot UPDATE account_reviews" denied app "$(tx "UPDATE account_reviews SET note = '' WHERE id = 0")"

# Uploads: objects are never deleted or rewritten by the app; items and
# their files are changed, never deleted; the worker records its checks in
# objects and only reads the rest.
check "app can INSERT objects" sql_as app "$(tx "INSERT IGNORE INTO objects (sha256, size, mime) VALUES (REPEAT('0', 64), 0, 'x')")"
check "app cannot DELETE objects" denied app "$(tx "DELETE FROM objects WHERE size = 0")"
check "app cannot UPDATE objects" denied app "$(tx "UPDATE objects SET verified_at = NOW() WHERE size = 0")"
check "app can UPDATE items" sql_as app "$(tx "UPDATE items SET description = description WHERE id = 0")"
check "app cannot DELETE items" denied app "$(tx "DELETE FROM items WHERE id = 0")"
check "app cannot DELETE item_files" denied app "$(tx "DELETE FROM item_files WHERE id = 0")"
check "worker can UPDATE objects" sql_as worker "$(tx "UPDATE objects SET verified_at = verified_at WHERE size = 0")"
check "worker cannot DELETE objects" denied worker "$(tx "DELETE FROM objects WHERE size = 0")"
check "worker cannot UPDATE items" denied worker "$(tx "UPDATE items SET description = description WHERE id = 0")"
check "worker cannot INSERT item_files" denied worker "$(tx "INSERT INTO item_files (public_id) VALUES ('x')")"
check "worker cannot change upload_windows" denied worker "$(tx "DELETE FROM upload_windows WHERE term_id = 0")"

# Certification (0007): the platform's keys are written only by the
# migrations account (`licheng pki init-school`); a signed decision is
# inserted, later marked superseded, and never rewritten or deleted; the
# worker reads what central submission will carry and changes none of it.
# An INSERT ... SELECT of no rows needs the right but writes nothing.
none() { printf 'INSERT INTO %s SELECT * FROM %s WHERE 0' "$1" "$1"; }
check "migrate can INSERT platform_keys" sql_as migrate "$(tx "$(none platform_keys)")"
check "app can SELECT platform_keys" sql_as app "SELECT COUNT(*) FROM platform_keys"
check "app cannot INSERT platform_keys" denied app "$(tx "$(none platform_keys)")"
check "app cannot UPDATE platform_keys" denied app "$(tx "UPDATE platform_keys SET retired_at = NOW() WHERE id = 0")"
check "app cannot DELETE platform_keys" denied app "$(tx "DELETE FROM platform_keys WHERE id = 0")"
check "app can INSERT certifications" sql_as app "$(tx "$(none certifications)")"
check "app can UPDATE certifications.superseded_at" sql_as app \
    "$(tx "UPDATE certifications SET superseded_at = NOW(6) WHERE id = 0")"
for col in decision decided_at signature reason key_id teacher_id item_id; do
	check "app cannot UPDATE certifications.$col" denied app \
	    "$(tx "UPDATE certifications SET $col = $col WHERE id = 0")"
done
check "app cannot DELETE certifications" denied app "$(tx "DELETE FROM certifications WHERE id = 0")"
check "app can INSERT certification_files" sql_as app "$(tx "$(none certification_files)")"
check "app cannot UPDATE certification_files" denied app \
    "$(tx "UPDATE certification_files SET sha256 = sha256 WHERE certification_id = 0")"
check "app cannot DELETE certification_files" denied app \
    "$(tx "DELETE FROM certification_files WHERE certification_id = 0")"
check "app can UPDATE cert_standins" sql_as app "$(tx "UPDATE cert_standins SET revoked_at = NOW(6) WHERE id = 0")"
check "app cannot DELETE cert_standins" denied app "$(tx "DELETE FROM cert_standins WHERE id = 0")"
check "app can change cert_deadlines" sql_as app "$(tx "DELETE FROM cert_deadlines WHERE term_id = 0")"
check "app can change selection_deadlines" sql_as app "$(tx "DELETE FROM selection_deadlines WHERE school_id = 0")"
check "app can UPDATE items.cert_id and selected_at" sql_as app \
    "$(tx "UPDATE items SET cert_id = cert_id, cert_notice = 0, selected_at = selected_at WHERE id = 0")"
for t in platform_keys certifications certification_files cert_standins cert_deadlines selection_deadlines; do
	check "worker can SELECT $t" sql_as worker "SELECT COUNT(*) FROM $t"
	check "worker cannot INSERT $t" denied worker "$(tx "$(none "$t")")"
	check "worker cannot DELETE $t" denied worker "$(tx "DELETE FROM $t WHERE 0")"
done
check "worker cannot UPDATE certifications.superseded_at" denied worker \
    "$(tx "UPDATE certifications SET superseded_at = NOW(6) WHERE id = 0")"
check "worker cannot UPDATE platform_keys" denied worker "$(tx "UPDATE platform_keys SET retired_at = NOW() WHERE id = 0")"
check "audit cannot read certifications" denied audit "SELECT COUNT(*) FROM certifications"
check "audit cannot read platform_keys" denied audit "SELECT COUNT(*) FROM platform_keys"

# central
check "central can use its own database" central_sql "SELECT 1"
check "central cannot connect to the licheng database" denied central "SELECT 1"
check "central cannot read licheng.jobs" central_denied "SELECT COUNT(*) FROM licheng.jobs"
check "central cannot read licheng.audit_log" central_denied "SELECT COUNT(*) FROM licheng.audit_log"
check "central cannot CREATE TABLE" central_denied "CREATE TABLE grants_new (id INT)"
check "central cannot CREATE USER" central_denied "CREATE USER 'grants_probe'@'localhost'"
