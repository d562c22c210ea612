# jobs_hash: the hash job through the whole stack. A student uploads a PDF
# and its hash job reads both copies back: the object is verified (ok). An
# object corrupted in the primary root before its hash job runs (the
# worker children are held with SIGSTOP while the upload and the damage
# happen) is repaired from the replica — the bytes equal again, the result
# repaired, one object.repaired audit row and one alert; a copy missing
# from the replica is recreated; an object damaged in both roots is lost —
# alert store.object_lost for the school, lost_at set, never verified, and
# the student's pages say 檔案遺失 with what to do. Then, with
# hash.read_rate lowered (and the worker reloaded) so that reading a
# 10 MiB object back takes seconds, the worker child doing a repair is
# killed with SIGKILL twice: while it copies the good bytes (the bad copy
# is untouched and its temporary file swept), and after it has replaced
# the copy but before its transaction commits (held at the audit log's
# lock); after the job's redelivery the copy is repaired and recorded
# exactly once. The configuration is put back and reloaded at the end,
# also on failure.
. "$(dirname "$0")/lib.sh"

RUNID="jh$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

PRIMARY=$(conf_get primary "$LICHENG_CONF")
REPLICA=$(conf_get replica "$LICHENG_CONF")
MASTER=$(pid_of worker)

sha() { sha256sum "$1" | cut -d' ' -f1; }
obj() { printf '%s/objects/%s/%s/%s' "$1" "${2:0:2}" "${2:2:2}" "$2"; }
pdf() { { printf '%%PDF-1.7\n'; head -c $(($2 - 9)) /dev/urandom; } >"$1"; }
mp4() { { printf '\0\0\0\030ftypisom\0\0\0\0isommp41'; head -c $(($2 - 24)) /dev/urandom; } >"$1"; }
# flip PATH OFFSET: changes one byte of PATH in place.
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $(((b + 1) % 256)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
tmp_files() { find "$PRIMARY/tmp" "$REPLICA/tmp" -type f | wc -l; }
children() { pgrep -P "$MASTER" | sort; }
# hold / release: the worker children stop taking jobs, and go on.
hold() { for p in $(children); do kill -STOP "$p"; done; }
release() { for p in $(children); do kill -CONT "$p"; done; }
# job SHA TYPE COLUMN: a column of the object's job of that type.
job() { app_sql "SELECT $3 FROM jobs WHERE type = '$2' AND JSON_VALUE(payload, '\$.sha256') = '$1'"; }
job_done() { [ "$(job "$1" hash state)" = done ]; }
object() { app_sql "SELECT $2 FROM objects WHERE sha256 = '$1'"; }
alerts_of() { app_sql "SELECT COUNT(*) FROM alerts WHERE kind = '$1' AND JSON_VALUE(detail, '\$.sha256') = '$2'"; }
repairs_of() { audit_count "event = 'object.repaired' AND target = 'object:$1'"; }
# upload FILE FIELD DESCRIPTION: s1's course outcome of C1; prints the
# status and the redirect.
upload() {
	local token
	token=$(csrf s1 /items)
	req s1 -o /dev/null -w '%{http_code} %{redirect_url}' -F "csrf=$token" \
	    -F kind=course -F "course=$C1" --form-string "description=$3" \
	    -F "$2=@$1;filename=$(basename "$1")" "$BASE/items"
}
item_of_sha() { app_sql "SELECT i.public_id FROM items i JOIN item_files f ON f.item_id = i.id WHERE f.sha256 = '$1' ORDER BY i.id DESC LIMIT 1"; }

# The configuration is restored (and reloaded) however the scenario ends;
# held children go on.
CONF_SAVED="$tmp/licheng.yaml.saved"
cp "$LICHENG_CONF" "$CONF_SAVED"
LOCK_FIFO=
restore() {
	[ -n "$LOCK_FIFO" ] && { exec 9>&-; LOCK_FIFO=; }
	release 2>/dev/null
	if ! cmp -s "$CONF_SAVED" "$LICHENG_CONF"; then
		cp "$CONF_SAVED" "$LICHENG_CONF"
		kill -HUP "$MASTER" 2>/dev/null
	fi
}
on_exit() {
	local rc=$?
	restore
	(exit "$rc")
	finish
}
trap on_exit EXIT

# ------------------------------------------------------------ the school

SA=${RUNID}a
check "a school is added" L school add --code "$SA" --name "雜湊高中"
check "student s1 signs in" signin_as s1 student "$SA"
SCHOOL_ID=$(app_sql "SELECT id FROM schools WHERE code = '$SA'")
T1=$(new_public_id) C1=$(new_public_id)
sql="SET @a = (SELECT id FROM schools WHERE code = '$SA');
INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
    VALUES ('$T1', @a, 114, 1, CURDATE() - INTERVAL 30 DAY, CURDATE() + INTERVAL 30 DAY);
INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
    SELECT '$C1', @a, id, 'H1', '資訊科技', 2 FROM terms WHERE public_id = '$T1';
INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind,
    national_id_hmac, national_id_sealed, birth_date)
    SELECT '$(new_public_id)', school_id, id, '${RUNID}1', '陳雜湊', 'national',
    '$(openssl rand -hex 32)', UNHEX('$(openssl rand -hex 40)'), '2009-01-01'
    FROM users WHERE login = '$(login_of s1)';
INSERT INTO enrolments (public_id, school_id, student_id, course_id)
    SELECT '$(new_public_id)', s.school_id, s.id, c.id FROM students s JOIN courses c
    ON c.school_id = s.school_id WHERE s.student_no = '${RUNID}1' AND c.public_id = '$C1';"
check "a term, a course and the student's enrolment exist" sql_as root "USE licheng; $sql"
check "the worker pool runs" test -n "$(children)"

# ------------------------------------------------------------ verified

pdf "$tmp/good.pdf" 300000
A=$(sha "$tmp/good.pdf")
check_eq "a PDF is uploaded" "303 $BASE/items?done=created" "$(upload "$tmp/good.pdf" doc 報告)"
check "its hash job is done" wait_for 30 job_done "$A"
check_eq "the object is verified ok" "$(printf '1\tok\t1')" \
    "$(object "$A" "verified_at IS NOT NULL, verify_result, lost_at IS NULL")"
check_eq "the job ran once" 1 "$(job "$A" hash attempts)"
check_eq "both copies are as uploaded" "$A $A" "$(sha "$(obj "$PRIMARY" "$A")") $(sha "$(obj "$REPLICA" "$A")")"
check_eq "nothing was repaired" 0 "$(repairs_of "$A")"
check_eq "no temporary file is left" 0 "$(tmp_files)"

# A malformed payload, and an object nobody recorded: the job fails, says
# why, and changes nothing. (The rows are removed again afterwards, so that
# they do not go on to die in later scenarios.)
bad_job() {
	local id
	id=$(sql_as root "USE licheng; INSERT INTO jobs (type, payload, not_before)
	    VALUES ('hash', '$1', UTC_TIMESTAMP(6)); SELECT LAST_INSERT_ID();")
	rcli XADD "${REDIS_PREFIX}jobs:hash" '*' job "$id" >/dev/null
	printf '%s\n' "$id"
}
failed() { [ "$(app_sql "SELECT last_error IS NOT NULL FROM jobs WHERE id = $1")" = 1 ]; }
NOSHA=$(openssl rand -hex 32)
BAD1=$(bad_job '{"sha256":"ABC"}')
BAD2=$(bad_job "{\"sha256\":\"$NOSHA\",\"from\":\"replica\"}")
check "a hash job with a malformed payload fails" wait_for 30 failed "$BAD1"
check_match "  saying why" '^malformed payload: sha256 is not 64 lower-case hex digits$' \
    "$(app_sql "SELECT last_error FROM jobs WHERE id = $BAD1")"
check "a hash job of an object that is not recorded fails" wait_for 30 failed "$BAD2"
check_eq "  saying why" "no object $NOSHA is recorded" "$(app_sql "SELECT last_error FROM jobs WHERE id = $BAD2")"
settled() { [ "$(app_sql "SELECT COUNT(*) FROM jobs WHERE id IN ($BAD1, $BAD2) AND state = 'running'")" = 0 ]; }
wait_for 30 settled
sql_as root "USE licheng; DELETE FROM job_attempts WHERE job_id IN ($BAD1, $BAD2);
    DELETE FROM jobs WHERE id IN ($BAD1, $BAD2);" || echo "could not remove jobs $BAD1 and $BAD2" >&2

# ------------------------------------------------------------ repaired

# damaged FILE FIELD DO...: holds the children, uploads FILE, runs DO
# (the damage) and lets the children go on; sets SHA.
damaged() {
	local file=$1 field=$2 out
	shift 2
	SHA=$(sha "$file")
	hold
	out=$(upload "$file" "$field" "$(basename "$file")")
	check_eq "  $(basename "$file") is uploaded" "303 $BASE/items?done=created" "$out"
	check_eq "  its hash job has not run yet" 1 "$(object "$SHA" "verified_at IS NULL")"
	"$@"
	release
}
corrupt() { flip "$(obj "$1" "$SHA")" "$2"; }
corrupt_both() { corrupt "$PRIMARY" "$1" && corrupt "$REPLICA" "$1"; }
lose() { rm -f "$(obj "$1" "$SHA")"; }

# (Checked while the children are still held.)
corrupt_primary() {
	corrupt "$PRIMARY" 250000
	check_eq "  one byte of its primary copy differs now" 1 \
	    "$(cmp -l "$tmp/primary.pdf" "$(obj "$PRIMARY" "$SHA")" | wc -l)"
}
lose_replica() {
	lose "$REPLICA"
	check_not "  its replica copy is gone now" test -e "$(obj "$REPLICA" "$SHA")"
}

pdf "$tmp/primary.pdf" 500000
damaged "$tmp/primary.pdf" doc corrupt_primary
check "the hash job is done" wait_for 30 job_done "$SHA"
check_eq "the primary copy is repaired: its bytes are the upload's" "$SHA" "$(sha "$(obj "$PRIMARY" "$SHA")")"
check "  byte for byte" cmp "$tmp/primary.pdf" "$(obj "$PRIMARY" "$SHA")"
check_eq "the replica is untouched" "$SHA" "$(sha "$(obj "$REPLICA" "$SHA")")"
check_eq "the object is verified, repaired" "$(printf '1\trepaired\t1')" \
    "$(object "$SHA" "verified_at IS NOT NULL, verify_result, lost_at IS NULL")"
check_eq "one object.repaired audit row" 1 "$(repairs_of "$SHA")"
check_match "  by the system, saying which copy and what was wrong" \
    "^system	system	success	\{\"sha256\":\"$SHA\",\"root\":\"primary\",\"was\":\"mismatch\"" \
    "$(audit_sql "SELECT actor, role, outcome, detail FROM audit_log WHERE event = 'object.repaired' AND target = 'object:$SHA'")"
check_eq "one alert store.object_repaired" 1 "$(alerts_of store.object_repaired "$SHA")"
check_eq "  with the sha256, the root and what was wrong" \
    "{\"sha256\":\"$SHA\",\"root\":\"primary\",\"was\":\"mismatch\"}" \
    "$(app_sql "SELECT detail FROM alerts WHERE kind = 'store.object_repaired' AND JSON_VALUE(detail, '\$.sha256') = '$SHA'")"
check_eq "  audited as an alert too" 1 "$(audit_count "event = 'alert.store.object_repaired' AND detail LIKE '%$SHA%'")"
check_eq "no temporary file or repair note is left" 0 "$(tmp_files)"
check "the audit chain is whole" audit_verified

pdf "$tmp/replica.pdf" 400000
damaged "$tmp/replica.pdf" doc lose_replica
check "the hash job is done" wait_for 30 job_done "$SHA"
check_eq "the replica copy is recreated with the upload's bytes" "$SHA" "$(sha "$(obj "$REPLICA" "$SHA")")"
check_eq "the object is verified, repaired" "$(printf '1\trepaired')" "$(object "$SHA" "verified_at IS NOT NULL, verify_result")"
check_eq "one object.repaired audit row" 1 "$(repairs_of "$SHA")"
check_eq "one alert, saying the replica was missing" \
    "{\"sha256\":\"$SHA\",\"root\":\"replica\",\"was\":\"missing\"}" \
    "$(app_sql "SELECT GROUP_CONCAT(detail) FROM alerts WHERE kind = 'store.object_repaired' AND JSON_VALUE(detail, '\$.sha256') = '$SHA'")"
check_eq "no temporary file or repair note is left" 0 "$(tmp_files)"

# ------------------------------------------------------------ lost

pdf "$tmp/both.pdf" 300000
damaged "$tmp/both.pdf" doc corrupt_both 1000
check "the hash job is done (a loss is recorded, not retried)" wait_for 30 job_done "$SHA"
check_eq "the object is never verified, mismatch, lost" "$(printf '1\tmismatch\t1')" \
    "$(object "$SHA" "verified_at IS NULL, verify_result, lost_at IS NOT NULL")"
check_eq "the job ran once" 1 "$(job "$SHA" hash attempts)"
check_eq "an alert store.object_lost for the school" "$SCHOOL_ID" \
    "$(app_sql "SELECT GROUP_CONCAT(school_id) FROM alerts WHERE kind = 'store.object_lost' AND JSON_VALUE(detail, '\$.sha256') = '$SHA'")"
check_eq "  saying what each copy is" "{\"sha256\":\"$SHA\",\"primary\":\"mismatch\",\"replica\":\"mismatch\"}" \
    "$(app_sql "SELECT detail FROM alerts WHERE kind = 'store.object_lost' AND JSON_VALUE(detail, '\$.sha256') = '$SHA'")"
check_eq "an object.lost audit row" 1 "$(audit_count "event = 'object.lost' AND target = 'object:$SHA'")"
check_eq "nothing was repaired from a bad copy" 0 "$(repairs_of "$SHA")"
check_eq "the damaged copies are kept as they are" 1 "$(cmp -l "$tmp/both.pdf" "$(obj "$REPLICA" "$SHA")" | wc -l)"
LOST=$(item_of_sha "$SHA")
p=$(req s1 "$BASE/items")
check_match "the student's /items shows the item as lost" \
    "href=\"/items/$LOST\">H1 資訊科技</a> <span class=\"state state-lost\">檔案遺失</span>" "$p"
check_match "  with what to do" '<p class="item-lost">.*請重新上傳同一個檔案，或與學校聯絡。</p>' "$p"
check_nomatch "  the verified items are not lost" "href=\"/items/$(item_of_sha "$A")\">H1 資訊科技</a> <span class=\"state state-lost\"" "$p"
p=$(req s1 "$BASE/items/$LOST")
check_match "its own page too" '<span class="state state-lost" id="item-state">檔案遺失</span> <span class="item-lost">' "$p"
req s1 -o /dev/null "$BASE/lang/en"
check_match "in English: File lost" '<span class="state state-lost" id="item-state">File lost</span> <span class="item-lost">Both stored copies' \
    "$(req s1 "$BASE/items/$LOST")"
req s1 -o /dev/null "$BASE/lang/zh-TW"

# ------------------------------------------------------------ kill -9

# hash.read_rate of 3 MiB/s: a job reads a 10 MiB object's two copies and
# copies the good one in about 10 s.
RATE=3145728
if grep -q '^hash:' "$LICHENG_CONF"; then
	sed -i "/^hash:/,/^[^ ]/ s/^\([[:space:]]*read_rate:\).*/\1 $RATE/" "$LICHENG_CONF"
else
	printf 'hash:\n  read_rate: %s\n' "$RATE" >>"$LICHENG_CONF"
fi
old=$(children | tr '\n' ' ')
kill -HUP "$MASTER"
replaced() {
	local p
	[ -n "$(children)" ] || return 1
	for p in $(children); do case " $old " in *" $p "*) return 1 ;; esac; done
}
check "the worker reloads hash.read_rate $RATE (new children)" wait_for 30 replaced

mp4 "$tmp/video.mp4" 10485760
damaged "$tmp/video.mp4" video corrupt "$PRIMARY" 9000000
consumer() { job "$SHA" hash claimed_by | sed 's/.*://'; }
# copying: a temporary file of the job's child is being written in the
# primary root's tmp/ (the copy from the replica).
copying() { [ -n "$(find "$PRIMARY/tmp" -type f -name "*.$(consumer).*" -size +1k)" ]; }
check "the repair starts copying the replica's bytes (throttled)" wait_for 40 copying
victim=$(consumer)
check "its child is killed with SIGKILL in the middle of the copy" kill -KILL "$victim"
check "  and is gone" wait_for 10 eval "! kill -0 $victim 2>/dev/null"
check_eq "the primary copy is still the damaged one" 1 "$(cmp -l "$tmp/video.mp4" "$(obj "$PRIMARY" "$SHA")" | wc -l)"
check "the dead child's temporary file is swept" wait_for 10 eval "[ \$(tmp_files) -eq 0 ]"
check_eq "nothing is recorded" "0 0" "$(repairs_of "$SHA") $(alerts_of store.object_repaired "$SHA")"

# The scan job of the video is out of the way first: it holds the same
# row lock and the audit log's when it records its result.
scan_over() { case $(job "$SHA" scan state) in done | dead) return 0 ;; esac; return 1; }
wait_for 60 scan_over >/dev/null

# Hold the audit log's head row, which recording the repair needs: the
# redelivered job replaces the copy and then waits there, uncommitted.
LOCK_FIFO="$tmp/lock.fifo"
mkfifo "$LOCK_FIFO"
mariadb --socket="$MYSQL_SOCK" -uroot -N -B licheng <"$LOCK_FIFO" >/dev/null 2>&1 &
exec 9>"$LOCK_FIFO"
printf 'BEGIN;\nSELECT last_id FROM audit_head WHERE id = 1 FOR UPDATE;\n' >&9
replaced_copy() { [ "$(sha "$(obj "$PRIMARY" "$SHA")")" = "$SHA" ]; }
check "the redelivered job replaces the primary copy" wait_for 90 replaced_copy
check "  with its repair note beside it" test -e "$PRIMARY/tmp/repair.$SHA"
victim=$(consumer)
check_eq "  its transaction has not committed" "running 0" "$(job "$SHA" hash state) $(repairs_of "$SHA")"
check "its child is killed with SIGKILL after the rename, before the commit" kill -KILL "$victim"
check "  and is gone" wait_for 10 eval "! kill -0 $victim 2>/dev/null"
printf 'ROLLBACK;\n' >&9
exec 9>&-
LOCK_FIFO=
check "after its redelivery the job is done" wait_for 90 job_done "$SHA"
check_eq "the primary copy is repaired" "$SHA" "$(sha "$(obj "$PRIMARY" "$SHA")")"
check_eq "exactly one object.repaired audit row" 1 "$(repairs_of "$SHA")"
check_eq "exactly one alert" 1 "$(alerts_of store.object_repaired "$SHA")"
check_eq "the object is verified, repaired" "$(printf '1\trepaired')" "$(object "$SHA" "verified_at IS NOT NULL, verify_result")"
check "after three deliveries or more" test "$(job "$SHA" hash attempts)" -ge 3
check_eq "no temporary file or repair note is left" 0 "$(tmp_files)"
check "the audit chain is whole" audit_verified

restore
check "the configuration is put back" cmp -s "$CONF_SAVED" "$LICHENG_CONF"
