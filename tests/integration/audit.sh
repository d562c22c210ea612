# audit: the hash-chained audit log against the real database. The account
# commands write their rows in the change's own transaction; eight
# concurrent writers leave one gapless chain; `licheng audit verify` names
# the first bad row after an edit, a deletion or a forged insertion made
# with the migrations account; and only the audit account can read the log,
# which no program account can change.
. "$(dirname "$0")/lib.sh"

L() { "$LICHENG_BIN/licheng" -c "$LICHENG_CONF" "$@"; }
tmp=$(mktemp -d)
ZEROS=0000000000000000000000000000000000000000000000000000000000000000

# The copy every case restores, so that later scenarios see a whole chain.
# Root makes and restores it: the copy is the test's, not the schema's.
save_chain() {
	sql_as root "DROP TABLE IF EXISTS licheng.audit_sh_log, licheng.audit_sh_head;
	    CREATE TABLE licheng.audit_sh_log AS SELECT * FROM licheng.audit_log;
	    CREATE TABLE licheng.audit_sh_head AS SELECT * FROM licheng.audit_head"
}
restore_chain() {
	sql_as root "START TRANSACTION;
	    DELETE FROM licheng.audit_log;
	    INSERT INTO licheng.audit_log SELECT * FROM licheng.audit_sh_log;
	    UPDATE licheng.audit_head h JOIN licheng.audit_sh_head s ON s.id = h.id
	        SET h.last_id = s.last_id, h.last_hash = s.last_hash;
	    COMMIT"
}
drop_saved() {
	sql_as root "DROP TABLE IF EXISTS licheng.audit_sh_log, licheng.audit_sh_head"
}
finish() {
	local rc=$?
	if [ -n "$(sql_as root "SHOW TABLES FROM licheng LIKE 'audit_sh_log'" 2>/dev/null)" ]; then
		restore_chain >/dev/null 2>&1
		drop_saved >/dev/null 2>&1
	fi
	rm -rf "$tmp"
	(exit "$rc")
	lib_finish
}
trap finish EXIT

# Tampering is done as the migrations account, which owns the schema (ALL
# on the licheng database) and so can UPDATE and DELETE audit_log: the
# strongest insider short of root that the chain must still expose.
msql() { sql_as migrate "$1"; }
audit_sql() { sql_as audit "$1"; }

# verify_says MSG STATUS REGEX: `licheng audit verify` exits STATUS and
# prints something matching REGEX.
verify_says() {
	local out rc
	out=$(L audit verify 2>&1); rc=$?
	check_eq "$1: exit status" "$2" "$rc"
	check_match "$1: output" "$3" "$out"
}
verify_whole() {
	verify_says "$1" 0 '^audit log verified: [0-9]+ rows, chain intact$'
}

# row_canon ID: the canonical form of row ID as `audit tail` prints it,
# without the hash it adds.
row_canon() {
	local last
	last=$(audit_sql "SELECT MAX(id) FROM audit_log")
	L audit tail --limit $((last - $1 + 1)) | head -n 1 |
	    sed 's/,"hash":"[0-9a-f]\{64\}"}$/}/'
}
# chain_hash PREV CANON: what the chain stores for a row.
chain_hash() { printf '%s\n%s' "$1" "$2" | sha256sum | cut -c1-64; }
row_hash() { audit_sql "SELECT hash FROM audit_log WHERE id = $1"; }
# forge ID PREV: inserts a row with a correctly chained hash after PREV.
forge() {
	local at='2024-01-01 00:00:00.000000' canon
	canon="{\"id\":$1,\"at\":\"$at\",\"actor\":\"mallory\",\"role\":\"operator\",\"school\":null,\"ip\":\"\",\"event\":\"user.create\",\"target\":\"user:mallory\",\"outcome\":\"success\",\"detail\":null}"
	msql "INSERT INTO audit_log (id, at, actor, role, school, ip, event, target, outcome, detail, prev_hash, hash)
	    VALUES ($1, '$at', 'mallory', 'operator', NULL, '', 'user.create', 'user:mallory', 'success', NULL, '$2', '$(chain_hash "$2" "$canon")')"
}

# ---------------------------------------------------------------- writers

me=$(id -un)
code="au$RANDOM$RANDOM"
check "a school is added" L school add --code "$code" --name "稽核高中 Audit High School"
row=$(audit_sql "SELECT event, actor, role, school, ip, outcome, detail FROM audit_log WHERE target = 'school:$code'")
check_eq "school add wrote school.create as the operator" \
    "school.create	cli:$me	operator	$code		success	{\"name\":\"稽核高中 Audit High School\"}" "$row"

base="au-$RANDOM$RANDOM"
check "a teacher is added" L user add --school "$code" --role teacher --login "$base-t" --name "林老師"
check "an auditor is added" L user add --role auditor --login "$base-a" --name "稽核員"
row=$(audit_sql "SELECT event, actor, role, school, outcome, detail FROM audit_log WHERE target = 'user:$base-t'")
check_eq "user add wrote user.create with role and school" \
    "user.create	cli:$me	operator	$code	success	{\"role\":\"teacher\",\"school\":\"$code\"}" "$row"
row=$(audit_sql "SELECT school IS NULL, detail FROM audit_log WHERE target = 'user:$base-a'")
check_eq "an account without a school is audited with school null" \
    "1	{\"role\":\"auditor\",\"school\":null}" "$row"
check_nomatch "the person's name stays out of the audit log" '林老師|稽核員' \
    "$(audit_sql "SELECT detail FROM audit_log WHERE target LIKE 'user:$base-%'")"

# A refused account leaves neither a user nor an audit row behind.
before=$(audit_sql "SELECT COUNT(*) FROM audit_log")
out=$(L user add --school "$code" --role teacher --login "$base-t" --name "x" 2>&1)
check_eq "a refused account writes no audit row" "$before" "$(audit_sql "SELECT COUNT(*) FROM audit_log")"

# Eight processes append at once; the head lock must keep one chain.
pids=()
for i in 1 2 3 4 5 6 7 8; do
	L user add --school "$code" --role student --login "$base-s$i" --name "學生 $i" >"$tmp/add$i.log" 2>&1 &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
check_eq "eight concurrent user adds all succeed" 0 "$failed"
check_eq "each wrote exactly one user.create" 8 \
    "$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'user.create' AND target LIKE 'user:$base-s%'")"
check_eq "the ids are gapless from 1" 1 \
    "$(audit_sql "SELECT COUNT(*) = MAX(id) AND MIN(id) = 1 FROM audit_log")"
check_eq "the head names the last row" 1 \
    "$(audit_sql "SELECT h.last_id = l.id AND h.last_hash = l.hash FROM audit_head h JOIN audit_log l ON l.id = (SELECT MAX(id) FROM audit_log)")"
check_eq "every row links to the one before it" 0 \
    "$(audit_sql "SELECT COUNT(*) FROM audit_log a LEFT JOIN audit_log b ON b.id = a.id - 1 WHERE a.prev_hash <> IF(a.id = 1, REPEAT('0', 64), b.hash)")"
n=$(audit_sql "SELECT COUNT(*) FROM audit_log")
verify_says "the chain verifies" 0 "^audit log verified: $n rows, chain intact\$"

# tail: the last rows, oldest first, as JSON lines whose hash is the row's.
out=$(L audit tail --limit 3)
check_eq "tail --limit 3 prints three lines" 3 "$(printf '%s\n' "$out" | grep -c '^{"id":')"
last=$(printf '%s\n' "$out" | tail -n 1)
check_match "the last line is the last row" "^\\{\"id\":$n,\"at\":\"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\.[0-9]{6}\"" "$last"
if command -v python3 >/dev/null; then
	check "each line is JSON" python3 -c 'import json,sys
for l in sys.stdin: json.loads(l)' <<<"$out"
fi
prev=$(audit_sql "SELECT prev_hash FROM audit_log WHERE id = $n")
check_eq "a line's canonical form and prev_hash give its hash" "$(row_hash "$n")" \
    "$(chain_hash "$prev" "$(row_canon "$n")")"
out=$(L audit tail --limit 0 2>&1); rc=$?
check_eq "tail --limit 0 is a usage error" 2 "$rc"
out=$(L audit verify extra 2>&1); rc=$?
check_eq "verify with an argument is a usage error" 2 "$rc"

# A wrong audit password is a connection error (2), never a verdict (1).
sed 's/^\([[:space:]]*audit_password:\).*/\1 "wrong_password_0123456789"/' "$SECRETS_FILE" >"$tmp/secrets.yaml"
chmod 600 "$tmp/secrets.yaml"
sed "s|^\\([[:space:]]*secrets_file:\\).*|\\1 \"$tmp/secrets.yaml\"|" "$LICHENG_CONF" >"$tmp/licheng.yaml"
out=$("$LICHENG_BIN/licheng" -c "$tmp/licheng.yaml" audit verify 2>&1); rc=$?
check_eq "verify that cannot connect exits 2" 2 "$rc"
check_match "and says it could not connect" 'cannot connect as the audit account' "$out"

# ---------------------------------------------------------------- tampering

check "the chain is saved before tampering" save_chain
m=$(( (n + 1) / 2 ))
[ "$m" -ge 3 ] || fail "the chain is too short for the middle-row cases ($n rows)"

# (a) Edits.
msql "UPDATE audit_log SET actor = 'mallory' WHERE id = $m"
verify_says "an edited actor" 1 "row $m: content does not match its hash \\(edited\\)"
restore_chain
verify_whole "restored after the edited actor"

d=$(audit_sql "SELECT MIN(id) FROM audit_log WHERE detail LIKE '%\"role\":\"student\"%'")
msql "UPDATE audit_log SET detail = '{\"role\":\"school_admin\",\"school\":\"$code\"}' WHERE id = $d"
verify_says "an edited detail" 1 "row $d: content does not match its hash \\(edited\\)"
restore_chain
verify_whole "restored after the edited detail"

msql "UPDATE audit_log SET at = at + INTERVAL 1 MICROSECOND WHERE id = $m"
verify_says "an edited time" 1 "row $m: content does not match its hash \\(edited\\)"
restore_chain

msql "UPDATE audit_log SET actor = CONCAT(actor, ' ') WHERE id = $m"
verify_says "a trailing space added" 1 "row $m: content does not match its hash \\(edited\\)"
restore_chain

# An editor who also recomputes the row's hash is caught at the next row.
msql "UPDATE audit_log SET actor = 'mallory' WHERE id = $m"
msql "UPDATE audit_log SET hash = '$(chain_hash "$(audit_sql "SELECT prev_hash FROM audit_log WHERE id = $m")" "$(row_canon "$m")")' WHERE id = $m"
verify_says "an edit with a recomputed hash" 1 \
    "row $((m + 1)): previous hash does not match row $m \\(a row was deleted or inserted before it\\)"
restore_chain
verify_whole "restored after the rehashed edit"

# (b) Deletions.
msql "DELETE FROM audit_log WHERE id = $m"
verify_says "a deleted middle row" 1 "row $((m + 1)): id follows $((m - 1)) \\(row $m was deleted\\)"
restore_chain
verify_whole "restored after the deleted row"

msql "DELETE FROM audit_log WHERE id IN ($((m - 1)), $m)"
verify_says "two deleted rows" 1 "row $((m + 1)): id follows $((m - 2)) \\(rows $((m - 1)) to $m were deleted\\)"
restore_chain

msql "DELETE FROM audit_log WHERE id = $n"
verify_says "a deleted last row" 1 "head says last id $n but the last row is $((n - 1)) \\(rows deleted at the end\\)"
restore_chain

msql "DELETE FROM audit_log WHERE id = 1"
verify_says "a deleted first row" 1 "row 2: id follows 0 \\(row 1 was deleted\\)"
restore_chain
verify_whole "restored after the deletions"

# (c) Forged insertions.
msql "INSERT INTO audit_log (id, at, actor, role, ip, event, outcome, prev_hash, hash)
    VALUES ($((n + 1)), UTC_TIMESTAMP(6), 'mallory', 'operator', '', 'user.create', 'success', '$(row_hash "$n")', REPEAT('a', 64))"
verify_says "a forged row past the end" 1 "row $((n + 1)): content does not match its hash \\(edited\\)"
restore_chain

forge $((n + 1)) "$(row_hash "$n")"
verify_says "a correctly chained row past the end" 1 \
    "head says last id $n but the last row is $((n + 1)) \\(rows inserted at the end\\)"
restore_chain

# A gap made by moving the rows after m-1 up by one, filled with a row
# chained from m-1: the moved row m+1 no longer matches its hash.
msql "UPDATE audit_log SET id = id + 1 WHERE id >= $m ORDER BY id DESC"
forge "$m" "$(row_hash $((m - 1)))"
verify_says "a row inserted in a gap made for it" 1 "row $((m + 1)): content does not match its hash \\(edited\\)"
restore_chain

# A deleted row replaced by a chained forgery: the next row's link breaks.
msql "DELETE FROM audit_log WHERE id = $m"
forge "$m" "$(row_hash $((m - 1)))"
verify_says "a row replaced by a chained forgery" 1 \
    "row $((m + 1)): previous hash does not match row $m \\(a row was deleted or inserted before it\\)"
restore_chain

# Past the verifier's first batch of 1000 rows: 1100 chained rows made by
# the server itself (a recursive query hashing each row after the last).
check "1100 chained rows are appended" msql "SET SESSION max_recursive_iterations = 2000;
    INSERT INTO audit_log (id, at, actor, role, school, ip, event, target, outcome, detail, prev_hash, hash)
    WITH RECURSIVE c (id, prev, h) AS (
        SELECT last_id, last_hash, last_hash FROM audit_head WHERE id = 1
        UNION ALL
        SELECT id + 1, h, SHA2(CONCAT(h, '\n{\"id\":', id + 1, ',\"at\":\"2024-01-01 00:00:00.000000\",\"actor\":\"batch\",\"role\":\"system\",\"school\":null,\"ip\":\"\",\"event\":\"test.batch\",\"target\":null,\"outcome\":\"success\",\"detail\":null}'), 256)
        FROM c WHERE id < $((n + 1100)))
    SELECT id, '2024-01-01 00:00:00.000000', 'batch', 'system', NULL, '', 'test.batch', NULL, 'success', NULL, prev, h FROM c WHERE id > $n;
    UPDATE audit_head SET last_id = (SELECT MAX(id) FROM audit_log), last_hash = (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) WHERE id = 1"
verify_says "a chain longer than one batch" 0 "^audit log verified: $((n + 1100)) rows, chain intact\$"
msql "UPDATE audit_log SET target = 'x' WHERE id = $((n + 1050))"
verify_says "an edit in the second batch" 1 "row $((n + 1050)): content does not match its hash \\(edited\\)"
restore_chain

msql "UPDATE audit_head SET last_hash = REPEAT('b', 64) WHERE id = 1"
verify_says "a head with the wrong last hash" 1 "head's last hash does not match row $n"
restore_chain
verify_whole "restored after the forgeries"
check "the saved copy is dropped" drop_saved
check_eq "the restored chain has every row" "$n" "$(audit_sql "SELECT COUNT(*) FROM audit_log")"

# ---------------------------------------------------------------- grants

# denied ROLE SQL: the server refuses SQL for lack of a privilege.
denied() {
	local out
	if out=$(sql_as "$1" "$2" 2>&1); then return 1; fi
	printf '%s' "$out" | grep -qiE 'denied'
}
tx() { printf 'START TRANSACTION; %s; ROLLBACK;' "$1"; }
check "app cannot UPDATE audit_log" denied app "$(tx "UPDATE audit_log SET actor = 'x' WHERE id = 1")"
check "app cannot DELETE from audit_log" denied app "$(tx "DELETE FROM audit_log WHERE id = 1")"
check "app cannot SELECT audit_log" denied app "SELECT COUNT(*) FROM audit_log"
check "audit can SELECT audit_log" audit_sql "SELECT COUNT(*) FROM audit_log"
check "audit cannot INSERT into audit_log" denied audit \
    "$(tx "INSERT INTO audit_log (id, at, actor, role, ip, event, outcome, prev_hash, hash) VALUES ($((n + 1)), UTC_TIMESTAMP(6), 'x', 'system', '', 'x', 'success', REPEAT('0', 64), REPEAT('0', 64))")"
check "audit cannot UPDATE audit_log" denied audit "$(tx "UPDATE audit_log SET actor = 'x' WHERE id = 1")"
check "audit cannot DELETE from audit_log" denied audit "$(tx "DELETE FROM audit_log WHERE id = 1")"
check "audit cannot UPDATE audit_head" denied audit "$(tx "UPDATE audit_head SET last_id = 0")"
verify_whole "the chain is whole at the end"
