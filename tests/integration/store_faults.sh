# store_faults: uploads through the real stack (nginx -> licheng-fcgi -> both
# store roots) when the store is not well, as a signed-in student posts
# POST /items. (a) The replica's STORE_ID removed: the upload is refused
# with the store.error.root message and nothing is written, /healthz is 503,
# and exactly one open alert.store alert (with its audit row) is raised
# however many requests meet it; the marker back, uploads work again.
# (b) A full replica (a small tmpfs bind-mounted over it): a clean failure
# with the store.error.full message, no object in either root, no row, no
# temporary file. (c) kill -9 of the licheng-fcgi child in the middle of a
# 10 MiB upload (sent to its socket directly, since nginx buffers uploads): no object, no row, and once the master has replaced the
# child no temporary file in either root; the next upload works. (d) The
# temporary files of a child killed while idle are removed by the master
# too, and a dead writer's are gone after licheng-fcgi or licheng-worker
# starts; a live writer's and another host's are kept. Every mount and file made here is removed, also
# on failure.
. "$(dirname "$0")/lib.sh"

RUNID="sf$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

primary=$(conf_get primary "$LICHENG_CONF")
replica=$(conf_get replica "$LICHENG_CONF")
# This host's name as it appears in temporary file names (lib/store.c).
HOST=$(uname -n | tr -c 'A-Za-z0-9_\n-' '_')
MNT=$tmp/full
BOUND=0
MOUNTED=0
BG=""

cleanup() {
	if [ -n "$BG" ] && kill -0 "$BG" 2>/dev/null; then kill "$BG"; fi
	if [ -s "$tmp/sleeper" ]; then kill "$(cat "$tmp/sleeper")" 2>/dev/null; fi
	if [ "$BOUND" = 1 ]; then umount "$replica" && BOUND=0; fi
	if [ "$MOUNTED" = 1 ]; then umount "$MNT" && MOUNTED=0; fi
	if [ ! -e "$replica/STORE_ID" ] && [ -f "$tmp/STORE_ID.replica" ]; then
		cp -p "$tmp/STORE_ID.replica" "$replica/STORE_ID"
	fi
	# The alerts raised here are handled: later scenarios start clean.
	app_sql "UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6)
	    WHERE kind LIKE 'store.%' AND acknowledged_at IS NULL" >/dev/null 2>&1
}
trap 'cleanup; finish' EXIT

# ------------------------------------------------------------ helpers

# obj ROOT SHA: the path of an object in a root.
obj() { printf '%s/objects/%s/%s/%s' "$1" "${2:0:2}" "${2:2:2}" "$2"; }
sha_of() { sha256sum "$1" | cut -c1-64; }
# no_object SHA: in neither root.
no_object() { [ ! -e "$(obj "$primary" "$1")" ] && [ ! -e "$(obj "$replica" "$1")" ]; }
# in_both SHA FILE: both roots hold FILE's bytes as SHA.
in_both() { cmp -s "$(obj "$primary" "$1")" "$2" && cmp -s "$(obj "$replica" "$1")" "$2"; }
# tmp_files: the files under both roots' tmp/.
tmp_files() { find "$primary/tmp" "$replica/tmp" -type f 2>/dev/null | wc -l; }
# writer_tmp PID: the temporary files of PID in either root; no_tmp_of
# PID: there are none.
writer_tmp() { find "$primary/tmp" "$replica/tmp" -type f -name "$HOST.$1.*" 2>/dev/null | wc -l; }
no_tmp_of() { [ "$(writer_tmp "$1")" -eq 0 ]; }
items_of_s1() { app_sql "SELECT COUNT(*) FROM items WHERE student_id = (SELECT id FROM students WHERE public_id = '$P1')"; }
rows_of() { app_sql "SELECT (SELECT COUNT(*) FROM item_files WHERE sha256 = '$1') + (SELECT COUNT(*) FROM objects WHERE sha256 = '$1')"; }
open_alerts() {
	app_sql "SELECT COUNT(*) FROM alerts WHERE kind = '$1' AND acknowledged_at IS NULL
	    AND school_id IS NULL AND JSON_VALUE(detail, '\$.root') = '$2'"
}
audit_max() { audit_sql "SELECT COALESCE(MAX(id), 0) FROM audit_log"; }
healthz_is() { [ "$(http_status /healthz)" = "$1" ]; }
# health_all CODE: 12 requests (every child asked), each answering CODE.
health_all() {
	local i
	for i in $(seq 1 12); do healthz_is "$1" || return 1; done
}

# pdf N: a file of N bytes that sniffs as PDF, with random content (so
# each has its own hash); mp4 N: the same as MP4.
pdf() { { printf '%%PDF-1.4\n'; head -c $(($1 - 9)) /dev/urandom; } >"$2"; }
mp4() { { printf '\0\0\0\030ftypisom\0\0\0\0isommp41'; head -c $(($1 - 24)) /dev/urandom; } >"$2"; }

# upload FILE SLOT DESCRIPTION [curl args...]: the items form as a browser
# posts it (the csrf part first), a course learning outcome of C1 with FILE
# as SLOT (doc or video); prints "STATUS LOCATION", the page in
# $tmp/up.page.
upload() {
	local file=$1 slot=$2 desc=$3 token
	shift 3
	token=$(csrf s1 /items)
	req s1 -o "$tmp/up.page" -w '%{http_code} %{redirect_url}' "$@" \
	    -F "csrf=$token" -F kind=course -F "course=$C1" -F "category=" \
	    -F "description=$desc" -F "$slot=@$file;type=application/octet-stream" \
	    "$BASE/items"
}
# has_msg KEY: the last upload's page shows message KEY (zh-TW, escaped).
has_msg() { grep -qF -- "$(msg zh-TW "$1" | html_esc)" "$tmp/up.page"; }

# ------------------------------------------------------------ data

sa=${RUNID}a
check "school A is added" L school add --code "$sa" --name "儲存故障高中"
check "student s1 signs in" signin_as s1 student "$sa"
check "central staff c1 signs in with a second factor" signin_as c1 central_staff
S1=$(login_of s1)
P1=$(new_public_id) C1=$(new_public_id)
# A term whose upload window (its first day to two weeks after its end) is
# open today.
check "the school's term, course and student are set up" app_sql "
SET @a = (SELECT id FROM schools WHERE code = '$sa');
INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on) VALUES
    ('$(new_public_id)', @a, 114, 1, CURRENT_DATE - INTERVAL 30 DAY, CURRENT_DATE + INTERVAL 60 DAY);
SET @t = LAST_INSERT_ID();
INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind, national_id_hmac,
    national_id_sealed, birth_date) SELECT '$P1', @a, id, '${RUNID}01', '林小安', 'national',
    '$(openssl rand -hex 32)', UNHEX('$(openssl rand -hex 38)'), '2008-05-01'
    FROM users WHERE login = '$S1';
INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
    VALUES ('$C1', @a, @t, 'ART101', '美術', 2);
INSERT INTO enrolments (public_id, school_id, student_id, course_id)
    SELECT '$(new_public_id)', @a, s.id, c.id FROM students s, courses c
    WHERE s.public_id = '$P1' AND c.public_id = '$C1';"

check "healthz is 200 to begin with" health_all 200
check_eq "no temporary files to begin with" 0 "$(tmp_files)"
# Earlier scenarios' store alerts are taken as handled.
app_sql "UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6)
    WHERE kind LIKE 'store.%' AND acknowledged_at IS NULL"

pdf 20000 "$tmp/ok.pdf"
out=$(upload "$tmp/ok.pdf" doc "健康時上傳")
check_match "an upload works while the store is well (303)" '^303 ' "$out"
check "its object is in both roots" in_both "$(sha_of "$tmp/ok.pdf")" "$tmp/ok.pdf"

# ------------------------------------------------------------ (a) no marker

cp -p "$replica/STORE_ID" "$tmp/STORE_ID.replica"
n_replica=$(find "$replica" -type f | wc -l)
items0=$(items_of_s1)
a0=$(audit_max)
rm "$replica/STORE_ID"

pdf 30000 "$tmp/a.pdf"
asha=$(sha_of "$tmp/a.pdf")
out=$(upload "$tmp/a.pdf" doc "標記不見時上傳")
check_nomatch "the replica without its marker: the upload is not accepted" '^(2|303)' "$out"
check "the page says the store is unavailable (store.error.root)" has_msg store.error.root
check "healthz answers 503" health_all 503
check_match "naming the replica's state" '"replica":"no_marker"' "$(curl_k "$BASE/healthz")"
for i in 1 2 3; do
	pdf 30000 "$tmp/a$i.pdf"
	upload "$tmp/a$i.pdf" doc "再試一次 $i" >/dev/null
done
check "every retry is refused the same way" has_msg store.error.root
check "healthz is still 503" health_all 503
check "no object of the refused file in either root" no_object "$asha"
check_eq "no item row for it" "$items0" "$(items_of_s1)"
check_eq "no file or object row for it" 0 "$(rows_of "$asha")"
check_eq "nothing was written into the replica" "$n_replica" "$(($(find "$replica" -type f | wc -l) + 1))"
check_eq "no temporary file is left" 0 "$(tmp_files)"
check_eq "exactly one open alert.store alert for the replica" 1 "$(open_alerts store.no_marker replica)"
check_eq "none for the primary" 0 "$(app_sql "SELECT COUNT(*) FROM alerts WHERE kind LIKE 'store.%' AND acknowledged_at IS NULL AND JSON_VALUE(detail, '\$.root') = 'primary'")"
check_match "its detail names the root and its path" "\"root\":\"replica\",\"path\":\"$replica\"" \
    "$(app_sql "SELECT detail FROM alerts WHERE kind = 'store.no_marker' AND acknowledged_at IS NULL")"
check_eq "and exactly one audit row alert.store.no_marker, by the system" "1	system	system	alert" \
    "$(audit_sql "SELECT COUNT(*), MIN(actor), MIN(role), MIN(outcome) FROM audit_log WHERE id > $a0 AND event = 'alert.store.no_marker'")"
page=$(req c1 "$BASE/")
check "central staff see the alert on their home page" grep -qF -- \
    "$(msg zh-TW alert.kind.store.no_marker | html_esc)" <<<"$page"

cp -p "$tmp/STORE_ID.replica" "$replica/STORE_ID"
check "healthz is 200 once the marker is back" health_all 200
out=$(upload "$tmp/a.pdf" doc "標記回來後上傳")
check_match "the same upload works again (303)" '^303 ' "$out"
check "its object is in both roots" in_both "$asha" "$tmp/a.pdf"
check_eq "with its rows" 1 "$(app_sql "SELECT COUNT(*) FROM item_files WHERE sha256 = '$asha'")"
check_eq "still the one alert, open until someone handles it" 1 "$(open_alerts store.no_marker replica)"
cleanup

# ------------------------------------------------------------ (b) disk full

mkdir -p "$MNT"
if mount -t tmpfs -o size=2m,mode=0750 licheng-test-full "$MNT"; then
	MOUNTED=1
	ok "a 2 MiB tmpfs is mounted"
else
	fail "cannot mount a tmpfs (this scenario runs as root)"
fi
if [ "$MOUNTED" = 1 ]; then
	mkdir -p "$MNT/root/tmp" "$MNT/root/objects" "$MNT/root/quarantine"
	cp -p "$replica/STORE_ID" "$MNT/root/STORE_ID"
	chmod 0750 "$MNT/root" "$MNT/root/tmp" "$MNT/root/objects" "$MNT/root/quarantine"
	if mount --bind "$MNT/root" "$replica"; then BOUND=1; fi
	check "the tmpfs root is bind-mounted over the replica" test "$BOUND" = 1
	# Fill it to within 256 KiB of full, outside the root.
	avail=$(df -B1 --output=avail "$MNT" | tail -n 1 | tr -d ' ')
	head -c $((avail - 262144)) /dev/zero >"$MNT/filler" 2>/dev/null
	check "the replica is almost full" test "$(df -B1 --output=avail "$MNT" | tail -n 1 | tr -d ' ')" -le 300000
	check "healthz is 200: a full disk is still the right disk" health_all 200

	pdf 1500000 "$tmp/b.pdf"
	bsha=$(sha_of "$tmp/b.pdf")
	items0=$(items_of_s1)
	out=$(upload "$tmp/b.pdf" doc "空間不足時上傳")
	check_nomatch "a file larger than the space left is not accepted" '^(2|303)' "$out"
	check "the page says the store is full (store.error.full)" has_msg store.error.full
	check "no object of it in either root" no_object "$bsha"
	check_eq "no item row for it" "$items0" "$(items_of_s1)"
	check_eq "no file or object row for it" 0 "$(rows_of "$bsha")"
	check_eq "no temporary file in either root" 0 "$(tmp_files)"
	check_match "the log names the full disk" "No space left on device" \
	    "$(tail -n 200 "$LICHENG_RUN/log/licheng.log")"
fi
cleanup
check "the replica is the stack's own again" test -s "$replica/STORE_ID"
check_nomatch "nothing is left mounted" " $replica | $MNT " "$(cat /proc/mounts)"
pdf 25000 "$tmp/b2.pdf"
out=$(upload "$tmp/b2.pdf" doc "空間恢復後上傳")
check_match "uploads work again afterwards (303)" '^303 ' "$out"
check "into both roots" in_both "$(sha_of "$tmp/b2.pdf")" "$tmp/b2.pdf"

# ------------------------------------------------------------ (c) kill -9

master=$(pid_of fcgi)
mp4 $((10 * 1024 * 1024)) "$tmp/big.mp4"
csha=$(sha_of "$tmp/big.mp4")
items0=$(items_of_s1)
# nginx takes a whole upload before it passes it on (nginx/licheng.conf), so
# the test speaks FastCGI to licheng-fcgi itself with cgi-fcgi, as s1 (their
# session cookie and form token), and holds back the rest of the body after
# 5 MiB: the child is then in the middle of the upload (with O_DIRECT it
# writes whole 1 MiB buffers, so over 2 MiB are on the disk by then).
FCGI_SOCK=$(awk '/^fcgi:/ { f = 1; next } /^[^ #]/ { f = 0 }
	f && $1 == "socket:" { print $2; exit }' "$LICHENG_CONF" | tr -d '"')
cookie=$(awk '$6 == "__Host-licheng" { print $6 "=" $7 }' "$tmp/s1.jar")
token=$(csrf s1 /items)
bnd="lcstorefaults$RANDOM$RANDOM"
part() { printf -- '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' "$bnd" "$1" "$2"; }
{
	part csrf "$token"
	part kind course
	part course "$C1"
	part category ""
	part description "上傳到一半被中斷"
	printf -- '--%s\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\n' "$bnd"
	printf 'Content-Type: application/octet-stream\r\n\r\n'
} >"$tmp/body.head"
printf -- '\r\n--%s--\r\n' "$bnd" >"$tmp/body.tail"
len=$(($(stat -c %s "$tmp/body.head") + $(stat -c %s "$tmp/big.mp4") + $(stat -c %s "$tmp/body.tail")))
{
	cat "$tmp/body.head"
	head -c $((5 * 1024 * 1024)) "$tmp/big.mp4"
	sleep 60 &
	echo $! >"$tmp/sleeper"
	wait
} | env -i REQUEST_METHOD=POST REQUEST_URI=/items DOCUMENT_URI=/items SCRIPT_NAME=/items \
	REMOTE_ADDR=127.0.0.1 HTTP_HOST="127.0.0.1:$HTTPS_PORT" SERVER_NAME=localhost \
	SERVER_PORT="$HTTPS_PORT" SERVER_PROTOCOL=HTTP/1.1 HTTP_COOKIE="$cookie" \
	CONTENT_TYPE="multipart/form-data; boundary=$bnd" CONTENT_LENGTH="$len" \
	cgi-fcgi -bind -connect "$FCGI_SOCK" >"$tmp/bg.out" 2>&1 &
BG=$!
# The child writing it: its temporary file is named <host>.<pid>.<random>.
writer() {
	find "$primary/tmp" -type f -name "$HOST.*" -size +2M -printf '%f\n' 2>/dev/null |
	    sed -n 's/^.*\.\([0-9]\{1,\}\)\.[0-9a-f]\{16\}$/\1/p' | head -n 1
}
writing() { [ -n "$(writer)" ]; }
check "the upload is being written to a temporary file (over 2 MiB)" wait_for 30 writing
victim=$(writer)
check_eq "by a child of the licheng-fcgi master" "$master" "$(ps -o ppid= -p "${victim:-1}" | tr -d ' ')"
check_eq "with a temporary file in each root" 2 "$(writer_tmp "${victim:-x}")"
# Only ever a child of the master (an empty pid would be our own group).
if [[ $victim =~ ^[1-9][0-9]*$ ]] && [ "$(ps -o ppid= -p "$victim" | tr -d ' ')" = "$master" ]; then
	kill -9 "$victim"
else
	victim=0
fi
check "the child was killed with SIGKILL mid-upload" test "$victim" != 0
# The rest of the body never comes: ending the sender's stdin now lets
# cgi-fcgi finish (it waited out the 60 s sleep before).
kill "$(cat "$tmp/sleeper")" 2>/dev/null
wait "$BG"
BG=""
check_nomatch "the interrupted upload was not acknowledged" '^Status: 303' "$(cat "$tmp/bg.out")"
children_ok() {
	! kill -0 "$victim" 2>/dev/null && [ "$(pgrep -P "$master" | grep -c .)" -eq 8 ]
}
check "the master replaced the child" wait_for 15 children_ok
check "and no temporary file of it is left in either root" wait_for 10 no_tmp_of "$victim"
check_eq "no temporary file at all" 0 "$(tmp_files)"
check "no object of the interrupted file in either root" no_object "$csha"
check_eq "no item row for it" "$items0" "$(items_of_s1)"
check_eq "no file or object row for it" 0 "$(rows_of "$csha")"
check_match "the master logged the sweep" "removed [12] temporary files? left by a dead process" \
    "$(tail -n 300 "$LICHENG_RUN/log/licheng.log")"
pdf 40000 "$tmp/c.pdf"
out=$(upload "$tmp/c.pdf" doc "中斷後再上傳")
check_match "the next upload works (303)" '^303 ' "$out"
check "into both roots" in_both "$(sha_of "$tmp/c.pdf")" "$tmp/c.pdf"

# ------------------------------------------------------------ (d) sweeps

# Whatever a child was doing: when it dies abnormally, the master removes
# its temporary files before replacing it.
master=$(pid_of fcgi)
child=$(pgrep -P "$master" | head -n 1)
touch "$primary/tmp/$HOST.$child.00112233445566aa" "$replica/tmp/$HOST.$child.00112233445566aa"
touch "$primary/tmp/$HOST.$master.00112233445566bb"
kill -9 "$child"
check "a killed child's temporary files are removed by the master" wait_for 10 no_tmp_of "$child"
check "the master's own (a live writer's) are not" test -e "$primary/tmp/$HOST.$master.00112233445566bb"
rm -f "$primary/tmp/$HOST.$master.00112233445566bb"

# A pid that is surely dead: a process that has exited.
sh -c 'exit 0' &
dead=$!
wait "$dead"
stale="$HOST.$dead.0123456789abcdef"
restart() {
	"$REPO/deploy/dev" restart-one "$1" --dir "$LICHENG_RUN" --bin "$LICHENG_BIN" \
	    --https-port "$HTTPS_PORT" --http-port "$HTTP_PORT" >/dev/null 2>&1
}
for prog in fcgi worker; do
	touch "$primary/tmp/$stale" "$replica/tmp/$stale"
	touch "$primary/tmp/elsewhere.$dead.0123456789abcdef"
	check "licheng-$prog restarts" restart "$prog"
	check "a dead writer's temporary files are gone after licheng-$prog starts" \
	    wait_for 15 no_tmp_of "$dead"
	check "another host's are left alone" test -e "$primary/tmp/elsewhere.$dead.0123456789abcdef"
	rm -f "$primary/tmp/elsewhere.$dead.0123456789abcdef"
done
check "healthz is 200 after the restarts" wait_for 20 health_all 200
check_eq "no temporary file at the end" 0 "$(tmp_files)"
