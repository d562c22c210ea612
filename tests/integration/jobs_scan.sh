# jobs_scan: the scan job end to end, through the stack's licheng-worker.
# A PDF with the EICAR test string inside, uploaded by a student through
# POST /items, is quarantined after its jobs: moved to quarantine/ in both
# roots (nothing left under objects/), objects.quarantined_at and
# scan_signature set, an alert scan.infected for the school with its audit
# rows; the student's /items says 已隔離 and why, the course's teacher gets
# 404 for the file, the student's own download is refused with the message
# (and audited). A clean PDF is scanned clean and, once hashed too, is
# 待認證 and the course's teacher downloads it. With scan.mode command (the
# stack's configuration changed and reloaded, put back at the end): a scanner that
# fails twice then passes makes 3 attempts (error, error, ok); one that
# always fails makes the job dead after jobs.max_attempts (3 here) with its
# reason and an alert job.dead. A clamd that resets every connection (a
# socat listener) and the stack's real clamd given a stream longer than its
# StreamMaxLength each fail the scan, which is retried and never clean.
#
# The EICAR string is built here at run time (as deploy/dev's eicar()),
# never stored in the repository.
. "$(dirname "$0")/lib.sh"

RUNID="js$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

PRIMARY=$(conf_get primary "$LICHENG_CONF")
REPLICA=$(conf_get replica "$LICHENG_CONF")
LOG_FILE=$(sed -n '/^log:/,/^[a-z]/s/^  file: *//p' "$LICHENG_CONF" | tr -d '"')
CLAMD_SOCK=$(conf_get clamd_socket "$LICHENG_CONF")
root_sql() { sql_as root "USE licheng; $1"; }

# ---------------------------------------------------------- clean-up

# The stack's configuration is changed for the command and reset cases and
# put back (and reloaded) at the end, also on failure; the socat listener
# is stopped by its pid; the alerts this run raised are acknowledged.
CONF_ORIG=$tmp/licheng.yaml.orig
cp "$LICHENG_CONF" "$CONF_ORIG"
CONF_CHANGED=0
SOCAT_PID=
SHAS=()
JOBS=()
# reload_worker: SIGHUP to the worker master; succeeds once it logged the
# reload and every child of the old configuration has gone (a child
# finishes its job first), so that the next job runs with the new one.
reloads() { grep -c '"func":"worker_reload","msg":"reloaded ' "$LOG_FILE" 2>/dev/null; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
old_children_gone() {
	local p
	for p in $OLD_CHILDREN; do kill -0 "$p" 2>/dev/null && return 1; done
	return 0
}
reload_worker() {
	local before
	before=$(reloads)
	OLD_CHILDREN=$(pgrep -P "$(pid_of worker)")
	kill -HUP "$(pid_of worker)" || return 1
	wait_for 20 reloaded_since "$before" && wait_for 30 old_children_gone
}
cleanup() {
	local s j
	if [ "$CONF_CHANGED" = 1 ]; then
		cat "$CONF_ORIG" >"$LICHENG_CONF"
		reload_worker
	fi
	[ -n "$SOCAT_PID" ] && kill "$SOCAT_PID"
	for s in "${SHAS[@]}"; do
		root_sql "UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6)
		    WHERE kind = 'scan.infected' AND JSON_VALUE(detail, '$.sha256') = '$s'"
	done
	for j in "${JOBS[@]}"; do
		root_sql "UPDATE jobs SET state = 'dead', last_error = 'jobs_scan.sh: a test job'
		    WHERE id = $j AND state IN ('pending', 'running')"
		root_sql "UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6)
		    WHERE kind = 'job.dead' AND JSON_VALUE(detail, '$.job') = '$j'"
	done
}
trap 'rc=$?; cleanup >/dev/null 2>&1; (exit $rc); finish' EXIT

# use_scan LINES...: the stack's configuration with its scan section
# replaced by LINES (indented keys) and jobs.max_attempts 3, reloaded.
use_scan() {
	local l
	{
		awk '/^[^ #]/ { skip = 0 } /^scan:/ { skip = 1; next } skip { next }
		    { print } /^jobs:/ { print "  max_attempts: 3" }' "$CONF_ORIG"
		echo "scan:"
		for l in "$@"; do printf '  %s\n' "$l"; done
	} >"$tmp/licheng.yaml.new"
	CONF_CHANGED=1
	cat "$tmp/licheng.yaml.new" >"$LICHENG_CONF"
	reload_worker
}

# ---------------------------------------------------------- helpers

# The EICAR test file, assembled from pieces (see deploy/dev).
eicar() {
	# shellcheck disable=SC2016 # literal dollar signs
	local a='X5O!P%@AP[4\PZX54(P^)7CC)7}$' b='EICAR-STANDARD-' c='ANTIVIRUS-TEST-' d='FILE!$H+H*'
	printf '%s%s%s%s' "$a" "$b" "$c" "$d"
}
# pdf FILE: a new PDF (random bytes after the signature); virus_pdf FILE:
# the same with the EICAR string in the middle.
pdf() { { printf '%%PDF-1.7\n%%\342\343\n'; head -c 3000 /dev/urandom; } >"$1"; }
virus_pdf() { { printf '%%PDF-1.7\n%%\342\343\n'; head -c 1500 /dev/urandom; eicar; head -c 1500 /dev/urandom; } >"$1"; }
sha() { sha256sum "$1" | cut -c1-64; }
obj() { printf '%s/objects/%s/%s/%s' "$1" "${2:0:2}" "${2:2:2}" "$2"; }
# upload NAME FILE: a course outcome of C1 with FILE as its document;
# prints the status.
upload() {
	local token
	token=$(csrf "$1" /items)
	req "$1" -o "$tmp/page" -w '%{http_code}' -F "csrf=$token" -F kind=course \
	    -F "course=$C1" --form-string "description=掃描測試" \
	    -F "doc=@$2;filename=report.pdf" "$BASE/items"
}
# obj_col SHA COLUMN: one column of the object's row ("NULL" for NULL).
obj_col() { app_sql "SELECT COALESCE($2, 'NULL') FROM objects WHERE sha256 = '$1'"; }
# job_of TYPE SHA: the id of the object's job of TYPE.
job_of() { app_sql "SELECT id FROM jobs WHERE type = '$1' AND JSON_VALUE(payload, '$.sha256') = '$2' ORDER BY id DESC LIMIT 1"; }
job_col() { app_sql "SELECT COALESCE($2, 'NULL') FROM jobs WHERE id = $1"; }
job_state_is() { [ "$(job_col "$1" state)" = "$2" ]; }
# attempts JOB: the results of its attempts in order, space-separated.
attempts() { app_sql "SELECT GROUP_CONCAT(COALESCE(result, 'running') ORDER BY attempt SEPARATOR ' ') FROM job_attempts WHERE job_id = $1"; }
# errors_at_least JOB N: JOB has N failed attempts or more.
errors_at_least() { [ "$(app_sql "SELECT COUNT(*) FROM job_attempts WHERE job_id = $1 AND result = 'error'")" -ge "$2" ]; }
file_of() { app_sql "SELECT public_id FROM item_files WHERE sha256 = '$1' ORDER BY id DESC LIMIT 1"; }
item_of() { app_sql "SELECT i.public_id FROM items i JOIN item_files f ON f.item_id = i.id WHERE f.sha256 = '$1' ORDER BY f.id DESC LIMIT 1"; }
# dl NAME FILE: GET /files/FILE with NAME's session; prints the status,
# the body in $tmp/b.
dl() { req "$1" -o "$tmp/b" -w '%{http_code}' "$BASE/files/$2"; }
# A job row for an object placed in both roots by hand (larger than an
# upload may be); prints the job's id.
scan_job_for() {
	root_sql "INSERT INTO jobs (type, payload) VALUES ('scan', '{\"sha256\":\"$1\"}'); SELECT LAST_INSERT_ID()"
}
place() { # FILE: the object in both roots and its row; prints the hash
	local s r
	s=$(sha "$1")
	for r in "$PRIMARY" "$REPLICA"; do
		mkdir -p "$r/objects/${s:0:2}/${s:2:2}" && cp "$1" "$(obj "$r" "$s")" || return 1
	done
	root_sql "INSERT INTO objects (sha256, size, mime) VALUES ('$s', $(stat -c %s "$1"), 'application/pdf')" || return 1
	printf '%s\n' "$s"
}

# check_dead NAME WHY: a new PDF (NAME.pdf) uploaded by s1 whose scan fails
# on every delivery: the job is dead after jobs.max_attempts (3), its last
# error matches WHY, an alert job.dead is raised, and the object is never
# recorded clean.
check_dead() {
	local s job
	pdf "$tmp/$1.pdf"
	s=$(sha "$tmp/$1.pdf")
	check_eq "a PDF is uploaded" 303 "$(upload s1 "$tmp/$1.pdf")"
	job=$(job_of scan "$s")
	JOBS+=("$job")
	check "  its scan fails, is retried, and is dead in the end" wait_for 120 job_state_is "$job" dead
	check_eq "  after jobs.max_attempts (3) failed attempts" "error error error" "$(attempts "$job")"
	check_match "  with its reason" "$2" "$(job_col "$job" last_error)"
	check_eq "  and an alert job.dead" 1 \
	    "$(app_sql "SELECT COUNT(*) FROM alerts WHERE kind = 'job.dead' AND JSON_VALUE(detail, '$.job') = '$job'")"
	check_eq "  the object is never clean" NULL "$(obj_col "$s" scan_result)"
}

# ---------------------------------------------------------- the school

sa=${RUNID}a
check "school A is added" L school add --code "$sa" --name "掃描測試高中"
check "student s1 signs in" signin_as s1 student "$sa"
check "teacher t1 signs in" signin_as t1 teacher "$sa"
S1=$(login_of s1) T1L=$(login_of t1)
T1=$(new_public_id) C1=$(new_public_id)
check "an open term, a course taught by t1, s1 enrolled" root_sql "
    SET @a = (SELECT id FROM schools WHERE code = '$sa');
    INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
	VALUES ('$T1', @a, 114, 1, UTC_DATE() - INTERVAL 30 DAY, UTC_DATE() + INTERVAL 30 DAY);
    INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
	SELECT '$C1', @a, id, 'SC1', '資訊科技', 2 FROM terms WHERE public_id = '$T1';
    INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind,
	national_id_hmac, national_id_sealed, birth_date)
	SELECT '$(new_public_id)', @a, id, '${RUNID}1', '陳小華', 'national', SHA2(UUID(), 256),
	RANDOM_BYTES(40), '2009-01-01' FROM users WHERE login = '$S1';
    INSERT INTO enrolments (public_id, school_id, student_id, course_id)
	SELECT '$(new_public_id)', @a, s.id, c.id FROM students s JOIN courses c ON c.public_id = '$C1'
	WHERE s.student_no = '${RUNID}1';
    INSERT INTO teachers (public_id, school_id, user_id)
	SELECT '$(new_public_id)', @a, id FROM users WHERE login = '$T1L';
    INSERT INTO course_teachers (course_id, teacher_id)
	SELECT c.id, t.id FROM courses c JOIN teachers t ON t.user_id = (SELECT id FROM users WHERE login = '$T1L')
	WHERE c.public_id = '$C1'"
SCHOOL_ID=$(app_sql "SELECT id FROM schools WHERE code = '$sa'")

# ---------------------------------------------------------- EICAR

virus_pdf "$tmp/virus.pdf"
VSHA=$(sha "$tmp/virus.pdf")
SHAS+=("$VSHA")
check_eq "a PDF with the EICAR string inside is uploaded" 303 "$(upload s1 "$tmp/virus.pdf")"
VJOB=$(job_of scan "$VSHA")
check "  with a scan job" test -n "$VJOB"
check "  which the workers run (done)" wait_for 60 job_state_is "$VJOB" "done"
check_eq "  in one attempt" ok "$(attempts "$VJOB")"
for r in "$PRIMARY" "$REPLICA"; do
	check "  the copy is under quarantine/ in $r" test -f "$r/quarantine/$VSHA"
	check_not "  and no longer under objects/" test -e "$(obj "$r" "$VSHA")"
	check_eq "  the same bytes" "$VSHA" "$(sha "$r/quarantine/$VSHA")"
done
check_eq "objects.scan_result is infected" infected "$(obj_col "$VSHA" scan_result)"
check_match "objects.scan_signature names the EICAR signature" '^Licheng\.Test\.EICAR' "$(obj_col "$VSHA" scan_signature)"
check_nomatch "objects.quarantined_at is set" '^NULL$' "$(obj_col "$VSHA" quarantined_at)"
check_nomatch "objects.scanned_at is set" '^NULL$' "$(obj_col "$VSHA" scanned_at)"
VITEM=$(item_of "$VSHA")
VFILE=$(file_of "$VSHA")
check_eq "an alert scan.infected for the school" 1 \
    "$(app_sql "SELECT COUNT(*) FROM alerts WHERE kind = 'scan.infected' AND school_id = $SCHOOL_ID AND JSON_VALUE(detail, '$.sha256') = '$VSHA'")"
check_match "  naming the signature and the item" "\"signature\":\"Licheng\\.Test\\.EICAR[^\"]*\",\"items\":\\[\"$VITEM\"\\]" \
    "$(app_sql "SELECT detail FROM alerts WHERE kind = 'scan.infected' AND school_id = $SCHOOL_ID")"
check_eq "  audited as alert.scan.infected for the school" 1 \
    "$(audit_count "event = 'alert.scan.infected' AND school = '$sa' AND JSON_VALUE(detail, '$.sha256') = '$VSHA'")"
check_match "the quarantine is audited (object.quarantined, by the system, for the school)" \
    "^system	system	$sa	success	\\{\"sha256\":\"$VSHA\",\"signature\":\"Licheng" \
    "$(audit_sql "SELECT actor, role, school, outcome, detail FROM audit_log WHERE event = 'object.quarantined' AND target = 'object:$VSHA'")"

p=$(req s1 "$BASE/items")
check_match "the student's /items shows 已隔離" "state-quarantined\">已隔離<" "$p"
check "  with a line saying what it means" says zh-TW items.state_note.quarantined "$p"
p=$(req s1 "$BASE/items/$VITEM")
check "  the item's page too" says zh-TW items.state_note.quarantined "$p"
check_eq "the course's teacher gets 404 for the file" 404 "$(dl t1 "$VFILE")"
check_eq "the student's own download is refused" 403 "$(dl s1 "$VFILE")"
check "  saying why" says zh-TW files.quarantined.owner "$(cat "$tmp/b")"
check_match "  with the scan's finding" '<code>Licheng\.Test\.EICAR' "$(cat "$tmp/b")"
check_match "  and the refusal is audited" "^file:$VFILE	denied	.*\"reason\":\"quarantined\"" \
    "$(last_audit file.download_refused "$S1")"
check_eq "  in English too" 403 "$(req s1 -o "$tmp/b" -w '%{http_code}' -H 'Accept-Language: en' "$BASE/files/$VFILE")"

# ---------------------------------------------------------- clean

pdf "$tmp/clean.pdf"
CSHA=$(sha "$tmp/clean.pdf")
check_eq "a clean PDF is uploaded" 303 "$(upload s1 "$tmp/clean.pdf")"
CJOB=$(job_of scan "$CSHA")
check "  its scan job is done" wait_for 60 job_state_is "$CJOB" "done"
check_eq "  scanned clean" clean "$(obj_col "$CSHA" scan_result)"
check_eq "  with no signature" NULL "$(obj_col "$CSHA" scan_signature)"
check_eq "  not quarantined" NULL "$(obj_col "$CSHA" quarantined_at)"
check "  still under objects/ in both roots" test -f "$(obj "$PRIMARY" "$CSHA")" -a -f "$(obj "$REPLICA" "$CSHA")"
CHJOB=$(job_of hash "$CSHA")
check "  once its hash job is done too" wait_for 60 job_state_is "$CHJOB" "done"
CFILE=$(file_of "$CSHA")
check_match "  the student's /items shows 待認證" "state-pending\">待認證<" "$(req s1 "$BASE/items")"
check_eq "  the course's teacher downloads it" 200 "$(dl t1 "$CFILE")"
check_eq "  the recorded bytes" "$CSHA" "$(sha "$tmp/b")"
check_match "  audited with the teacher's role" "^file:$CFILE	success	.*\"role\":\"teacher\"" \
    "$(last_audit file.download "$T1L")"

# ---------------------------------------------------------- command mode

# A scanner that fails (exit 2) twice, then passes.
COUNTER=$tmp/count
cat >"$tmp/flaky" <<EOF
#!/bin/sh
n=\$(cat '$COUNTER' 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" >'$COUNTER'
[ "\$n" -ge 3 ] && exit 0
echo "simulated scanner failure \$n (\$1)" >&2
exit 2
EOF
cat >"$tmp/broken" <<'EOF'
#!/bin/sh
echo "the signature database is missing" >&2
exit 2
EOF
chmod 0755 "$tmp/flaky" "$tmp/broken"
check "scan.mode command with a scanner that fails twice is loaded (SIGHUP)" \
    use_scan "mode: command" "command: \"$tmp/flaky\"" "timeout: 10"
pdf "$tmp/flaky.pdf"
FSHA=$(sha "$tmp/flaky.pdf")
check_eq "a PDF is uploaded" 303 "$(upload s1 "$tmp/flaky.pdf")"
FJOB=$(job_of scan "$FSHA")
check "  its scan job is done in the end" wait_for 90 job_state_is "$FJOB" "done"
check_eq "  after 3 attempts: error, error, ok" "error error ok" "$(attempts "$FJOB")"
check_eq "  the row counts 3" 3 "$(job_col "$FJOB" attempts)"
check_match "  each error says why" "exited with status 2.*simulated scanner failure 1 \\(.*$FSHA\\)" \
    "$(app_sql "SELECT error FROM job_attempts WHERE job_id = $FJOB AND attempt = 1")"
check_eq "  and the object is clean" clean "$(obj_col "$FSHA" scan_result)"

check "a scanner that always fails is loaded" \
    use_scan "mode: command" "command: \"$tmp/broken\"" "timeout: 10"
check_dead broken "exited with status 2.*signature database is missing"

# ---------------------------------------------------------- resets

# A "clamd" that takes each connection and closes it at once.
RESET_SOCK=$tmp/reset.sock
socat "UNIX-LISTEN:$RESET_SOCK,fork,mode=666" EXEC:/bin/true >/dev/null 2>&1 &
SOCAT_PID=$!
check "a listener that resets every connection is up (socat)" wait_for 10 test -S "$RESET_SOCK"
check "scan.clamd_socket points at it" use_scan "mode: clamd" "clamd_socket: \"$RESET_SOCK\"" "timeout: 10"
check_dead reset "clamd closed the connection|Connection reset by peer"
kill "$SOCAT_PID" 2>/dev/null
SOCAT_PID=

# The stack's real clamd (StreamMaxLength 12M) and a 13 MB object, with
# scan.stream_max above clamd's limit: clamd cuts the stream off.
check "the real clamd with scan.stream_max 20 MiB is loaded" \
    use_scan "mode: clamd" "clamd_socket: \"$CLAMD_SOCK\"" "stream_max: 20971520" "timeout: 10"
{ printf '%%PDF-1.7\n'; head -c 13000000 /dev/urandom; } >"$tmp/big.pdf"
GSHA=$(place "$tmp/big.pdf")
check "a 13 MB object is in both roots" test -n "$GSHA"
GJOB=$(scan_job_for "$GSHA")
JOBS+=("$GJOB")
check "  its scan job fails and is retried" wait_for 90 errors_at_least "$GJOB" 2
check_match "  because clamd closed the connection past its limit" \
    "INSTREAM size limit exceeded|clamd closed the connection|Connection reset by peer" \
    "$(app_sql "SELECT error FROM job_attempts WHERE job_id = $GJOB AND result = 'error' ORDER BY attempt LIMIT 1")"
check_eq "  and the object is never clean" NULL "$(obj_col "$GSHA" scan_result)"
