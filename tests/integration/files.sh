# files: downloads of stored files (GET /files/:id) through nginx and real
# TLS. The owner gets the bytes whose SHA-256 was recorded, through
# X-Accel-Redirect, as an attachment with an RFC 5987 name made safe (no
# path, NUL, bidi control or quote; the detected type's extension), nosniff,
# private no-store and nginx's security headers; another student, another
# school's admin, a teacher of another course and central staff before
# submission get 404, like a random id; the course's teacher only once the
# object is verified and clean; a quarantined file is refused with the
# reason for its owner; a missing primary copy is served from the replica
# with one alert and one repair job however many downloads; a file with no
# copy left is 410; the 41st attempt in the window is 429 with when to try
# again. Every download is audited. End to end: the admin opens a window on
# /admin/windows, the student uploads through POST /items and downloads
# the same bytes; with the window reset the upload is refused.
#
# The other items are made with SQL and their objects placed in both store
# roots as lib/store lays them out (objects/ab/cd/<sha256>).
. "$(dirname "$0")/lib.sh"

RUNID="fd$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

PRIMARY=$(conf_get primary "$LICHENG_CONF")
REPLICA=$(conf_get replica "$LICHENG_CONF")
LIMIT=$(sed -n '/^downloads:/,/^[a-z]/s/^ *limit: *//p' "$LICHENG_CONF")
: "${LIMIT:=200}"
root_sql() { sql_as root "USE licheng; $1"; }

# The copies this run removed are put back at the end, the Redis counters
# it used (KEYS) removed, and the repair jobs and alerts it caused (for the
# objects of SHAS) closed, so that the stack is left consistent.
SHAS=()
KEYS=()
RESTORE=()
cleanup() {
	local r s k
	for r in "${RESTORE[@]}"; do
		s=${r%%:*}
		for k in "$PRIMARY" "$REPLICA"; do
			mkdir -p "$k/objects/${s:0:2}/${s:2:2}"
			cp "${r#*:}" "$k/objects/${s:0:2}/${s:2:2}/$s"
		done
	done
	for k in "${KEYS[@]}"; do redis-cli -s "$REDIS_SOCK" DEL "$k" >/dev/null; done
	for s in "${SHAS[@]}"; do
		root_sql "UPDATE jobs SET state = 'dead', last_error = 'files.sh: test object'
		    WHERE type = 'repair' AND JSON_VALUE(payload, '$.sha256') = '$s'"
		root_sql "UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6)
		    WHERE kind = 'store.object_missing' AND JSON_VALUE(detail, '$.sha256') = '$s'"
	done
}
trap 'rc=$?; cleanup >/dev/null 2>&1; (exit $rc); finish' EXIT

# object FILE MIME [COLUMNS VALUES]: the file's bytes in both roots and its
# objects row (extra columns and values, comma-led, as given); prints the
# hash.
object() {
	local sha rel r
	sha=$(sha256sum "$1" | cut -c1-64)
	rel="${sha:0:2}/${sha:2:2}/$sha"
	for r in "$PRIMARY" "$REPLICA"; do
		mkdir -p "$r/objects/${sha:0:2}/${sha:2:2}" && cp "$1" "$r/objects/$rel" || return 1
	done
	app_sql "INSERT INTO objects (sha256, size, mime${3:-}) VALUES ('$sha', $(stat -c %s "$1"), '$2'${4:-})" || return 1
	printf '%s\n' "$sha"
}
# pdf NAME / png NAME: a new file of that type with random content.
pdf() { { printf '%%PDF-1.4\n%%\342\343\n'; openssl rand 3000; } >"$tmp/$1"; printf '%s\n' "$tmp/$1"; }
png() { { printf '\211PNG\r\n\032\n'; openssl rand 2000; } >"$tmp/$1"; printf '%s\n' "$tmp/$1"; }
# item STUDENT KIND: a new item of the student (kind course: the course
# COURSE; diverse: a category); prints its public id.
item() {
	local pub
	pub=$(new_public_id)
	if [ "$2" = course ]; then
		app_sql "INSERT INTO items (public_id, school_id, student_id, term_id, kind, course_id, description, cert_state)
		    SELECT '$pub', st.school_id, st.id, c.term_id, 'course', c.id, '課程學習成果', 'pending'
		    FROM students st JOIN users u ON u.id = st.user_id JOIN courses c ON c.public_id = '$COURSE'
		    WHERE u.login = '$(login_of "$1")'" || return 1
	else
		app_sql "INSERT INTO items (public_id, school_id, student_id, term_id, kind, category, description, cert_state)
		    SELECT '$pub', st.school_id, st.id, c.term_id, 'diverse', 'cadre', '多元表現', 'none'
		    FROM students st JOIN users u ON u.id = st.user_id JOIN courses c ON c.public_id = '$COURSE'
		    WHERE u.login = '$(login_of "$1")'" || return 1
	fi
	printf '%s\n' "$pub"
}
# item_file ITEM SHA NAME_SQL: the item's doc file of that object, its original
# name the SQL expression given; prints the file's public id.
item_file() {
	local pub
	pub=$(new_public_id)
	app_sql "INSERT INTO item_files (public_id, school_id, item_id, slot, version, sha256, size, mime, original_name, uploaded_by)
	    SELECT '$pub', i.school_id, i.id, 'doc', 1, o.sha256, o.size, o.mime, $3, st.user_id
	    FROM items i JOIN students st ON st.id = i.student_id JOIN objects o ON o.sha256 = '$2'
	    WHERE i.public_id = '$1'" || return 1
	printf '%s\n' "$pub"
}
# dl NAME FILE: GET /files/FILE with NAME's session: prints the status;
# the headers (lower-case names, CR dropped) in $tmp/h, the body in $tmp/b.
dl() {
	req "$1" -D "$tmp/h.raw" -o "$tmp/b" -w '%{http_code}' "$BASE/files/$2"
	tr -d '\r' <"$tmp/h.raw" | sed 's/^\([^:]*\):/\L\1:/' >"$tmp/h"
}
hdr() { sed -n "s/^$1: //p" "$tmp/h"; }
hdr_n() { grep -c "^$1:" "$tmp/h"; }
body_sha() { sha256sum "$tmp/b" | cut -c1-64; }
body() { cat "$tmp/b"; }
user_id() { app_sql "SELECT id FROM users WHERE login = '$(login_of "$1")'"; }
jobs_of() { app_sql "SELECT COUNT(*) FROM jobs WHERE type = 'repair' AND JSON_VALUE(payload, '$.sha256') = '$1'"; }
alerts_of() { app_sql "SELECT COUNT(*) FROM alerts WHERE kind = 'store.object_missing' AND detail = '{\"sha256\":\"$1\",\"root\":\"$2\"}'"; }
downloads_of() { n_audit file.download "$(login_of "$1")"; }
# rfc5987 TEXT: the filename* value of a Content-Disposition, decoded.
rfc5987() { printf '%b' "$(printf '%s' "${1#*filename\*=UTF-8\'\'}" | sed 's/%\([0-9A-F][0-9A-F]\)/\\x\1/g')"; }

# ------------------------------------------------------------ the school

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "下載甲高中"
check "school B is added" L school add --code "$sb" --name "下載乙高中"
check "admin a1 of school A signs in" signin_as a1 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
check "central staff c1 signs in" signin_as c1 central_staff
for n in s1 s2; do check "student $n of school A signs in" signin_as "$n" student "$sa"; done
for n in t1 t2; do check "teacher $n of school A signs in" signin_as "$n" teacher "$sa"; done
declare -A STUDENT=()
for n in s1 s2; do
	STUDENT[$n]=$(new_public_id)
	check "$n has a student record" app_sql "INSERT INTO students (public_id, school_id, user_id, student_no,
	    name, id_kind, national_id_hmac, national_id_sealed, birth_date)
	    SELECT '${STUDENT[$n]}', s.id, u.id, '$n$RANDOM', '測試$n', 'national', SHA2(UUID(), 256),
	    RANDOM_BYTES(40), '2009-01-01' FROM schools s JOIN users u ON u.login = '$(login_of "$n")'
	    WHERE s.code = '$sa'"
done
for n in t1 t2; do
	check "$n has a teacher record" app_sql "INSERT INTO teachers (public_id, school_id, user_id)
	    SELECT '$(new_public_id)', s.id, u.id FROM schools s JOIN users u ON u.login = '$(login_of "$n")'
	    WHERE s.code = '$sa'"
done
TERM=$(new_public_id) COURSE=$(new_public_id)
check "a term and a course taught by t1" app_sql "
    INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
	SELECT '$TERM', id, 113, 1, '2024-08-01', '2025-01-20' FROM schools WHERE code = '$sa';
    INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
	SELECT '$COURSE', t.school_id, t.id, 'PHY$RANDOM', '物理', 2 FROM terms t WHERE t.public_id = '$TERM';
    INSERT INTO course_teachers (course_id, teacher_id)
	SELECT c.id, t.id FROM courses c JOIN teachers t ON t.user_id = $(user_id t1) WHERE c.public_id = '$COURSE'"
S1=$(login_of s1) S2=$(login_of s2) A1=$(login_of a1) B1=$(login_of b1) C1=$(login_of c1)

# ------------------------------------------------------------ the owner

SHA=$(object "$(pdf report)" application/pdf)
SHAS+=("$SHA")
ITEM=$(item s1 course)
F=$(item_file "$ITEM" "$SHA" "'report.pdf'")
check "an item with a PDF file exists" test -n "$F"

check_eq "the owner downloads the file" 200 "$(dl s1 "$F")"
check_eq "  its bytes are the recorded ones (SHA-256)" "$SHA" "$(body_sha)"
check_eq "  Content-Type is the detected type" "application/pdf" "$(hdr content-type)"
check_eq "  Content-Disposition: attachment with both names" \
    "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf" "$(hdr content-disposition)"
check_eq "  X-Content-Type-Options: nosniff, once" "nosniff 1" "$(hdr x-content-type-options) $(hdr_n x-content-type-options)"
check_eq "  Cache-Control: private, no-store, once" "private, no-store 1" "$(hdr cache-control) $(hdr_n cache-control)"
check_eq "  Content-Length is the file's" "$(stat -c %s "$tmp/report")" "$(hdr content-length)"
check_match "  Strict-Transport-Security" '^max-age=' "$(hdr strict-transport-security)"
check_match "  Content-Security-Policy" "default-src 'self'" "$(hdr content-security-policy)"
check_eq "  X-Frame-Options" DENY "$(hdr x-frame-options)"
check_eq "  Referrer-Policy" same-origin "$(hdr referrer-policy)"
check_match "  Permissions-Policy" 'camera=\(\)' "$(hdr permissions-policy)"
check_eq "  the internal redirect is not shown" 0 "$(hdr_n x-accel-redirect)"
check_nomatch "  nor any server version" 'nginx/|licheng' "$(hdr server)"
check_match "the download is audited with the item, hash and role" \
    "^file:$F	success	\{\"item\":\"$ITEM\",\"sha256\":\"$SHA\",\"role\":\"student\",\"root\":\"primary\"\}\$" \
    "$(last_audit file.download "$S1")"
check_eq "a HEAD request answers the headers" 200 \
    "$(req s1 -I -o /dev/null -w '%{http_code}' "$BASE/files/$F")"
rel="${SHA:0:2}/${SHA:2:2}/$SHA"
check_eq "the primary store's internal location is not reachable" 404 "$(http_status "/_store/primary/$rel")"
check_eq "  nor the replica's" 404 "$(http_status "/_store/replica/$rel")"

# A PNG whose name says .pdf: served as a PNG named .png.
PSHA=$(object "$(png photo)" image/png)
SHAS+=("$PSHA")
PF=$(item_file "$(item s1 diverse)" "$PSHA" "'photo.pdf'")
check_eq "a PNG named photo.pdf is served" 200 "$(dl s1 "$PF")"
check_eq "  as image/png" image/png "$(hdr content-type)"
check_eq "  named photo.pdf.png" "attachment; filename=\"photo.pdf.png\"; filename*=UTF-8''photo.pdf.png" \
    "$(hdr content-disposition)"

# A hostile name (255 characters, the column's most): a path, a NUL, CR LF,
# a right-to-left override, a quote, CJK characters.
NSHA=$(object "$(pdf nasty)" application/pdf)
SHAS+=("$NSHA")
NF=$(item_file "$ITEM" "$NSHA" "CONCAT('../a', CHAR(0 USING utf8mb4), 'b', CHAR(13, 10 USING utf8mb4),
    CONVERT(UNHEX('E280AE') USING utf8mb4), 'fdp.exe\"', REPEAT('長', 238))")
check "a file with a hostile name exists" test -n "$NF"
check_eq "it is served" 200 "$(dl s1 "$NF")"
cd_value=$(hdr content-disposition)
check_match "  as an attachment with both names" \
    "^attachment; filename=\"[^\"]*\"; filename\\*=UTF-8''[A-Za-z0-9%._~!#\$&+^\`|-]*\$" "$cd_value"
check_eq "  with no quote but the two delimiting the fallback" 2 "$(printf '%s' "$cd_value" | tr -cd '"' | wc -c)"
check_nomatch "  no NUL, CR or LF left encoded" '%00|%0D|%0A' "$cd_value"
check_nomatch "  no bidi control, raw or encoded" $'\xe2\x80\xae|%E2%80%AE' "$cd_value"
utf=$(rfc5987 "$cd_value")
check_nomatch "  the name holds no slash" '/' "$utf"
check_match "  and ends in the detected type's extension" '\.pdf$' "$utf"
check_eq "  255 characters at most" 255 "$(printf '%s' "$utf" | LC_ALL=C.UTF-8 wc -m)"
check_match "  and starts where the path was" '^_a_b__fdp\.exe_長' "$utf"
check_nomatch "  with nothing but one line per header" $'\r' "$(cat "$tmp/h.raw" | grep -a -i '^content-disposition' | head -c -2)"
check_eq "  its bytes are the recorded ones" "$NSHA" "$(body_sha)"
# The longest header a name can make: 255 characters of four bytes each.
EF=$(item_file "$ITEM" "$NSHA" "CONCAT(REPEAT(CONVERT(UNHEX('F09F9880') USING utf8mb4), 251), '.pdf')")
check_eq "a name of 255 four-byte characters is served" 200 "$(dl s1 "$EF")"
check_eq "  whole" "$(printf '%0.s\xf0\x9f\x98\x80' $(seq 1 251)).pdf" "$(rfc5987 "$(hdr content-disposition)")"
check_match "  with a short fallback" '^attachment; filename="_\.pdf"; ' "$(hdr content-disposition)"

# ------------------------------------------------------------ who may read

check_eq "another student of the school gets 404" 404 "$(dl s2 "$F")"
check_match "  audited as a denied access" '"reason":"file_right"' \
    "$(last_audit access.denied "$S2")"
check_eq "another school's admin gets 404" 404 "$(dl b1 "$F")"
check_match "  audited as not found" '"reason":"not_found"' "$(last_audit access.denied "$B1")"
check_eq "a random id is 404" 404 "$(dl s1 "$(new_public_id)")"
check_eq "a malformed id is 404" 404 "$(dl s1 "x'y")"
check_eq "the course's teacher gets 404 while the item is being checked" 404 "$(dl t1 "$F")"
check "the object is verified and scanned clean" root_sql "UPDATE objects SET verified_at = UTC_TIMESTAMP(6),
    verify_result = 'ok', scanned_at = UTC_TIMESTAMP(6), scan_result = 'clean' WHERE sha256 IN ('$SHA', '$NSHA')"
check_eq "  the course's teacher gets 200 once its objects are clean" 200 "$(dl t1 "$F")"
check_eq "  the bytes" "$SHA" "$(body_sha)"
check_match "  audited with the teacher's role" '"role":"teacher"' "$(last_audit file.download "$(login_of t1)")"
check_eq "another teacher of the school gets 404" 404 "$(dl t2 "$F")"
check "the PNG's object is clean too" root_sql "UPDATE objects SET verified_at = UTC_TIMESTAMP(6),
    verify_result = 'ok', scanned_at = UTC_TIMESTAMP(6), scan_result = 'clean' WHERE sha256 = '$PSHA'"
check_eq "a teacher gets 404 for a diverse performance (not a course outcome)" 404 "$(dl t1 "$PF")"
check_eq "the school's admin gets 200" 200 "$(dl a1 "$F")"
check_match "  audited with the admin's role" '"role":"school_admin"' "$(last_audit file.download "$A1")"
check_eq "central staff get 404 before the item is submitted" 404 "$(dl c1 "$F")"
check "the item is submitted" app_sql "UPDATE items SET submitted_at = UTC_TIMESTAMP(6) WHERE public_id = '$ITEM'"
check_eq "  central staff get 200 once it is" 200 "$(dl c1 "$F")"
check_eq "  the bytes" "$SHA" "$(body_sha)"
check_match "  audited with the central role" '"role":"central_staff"' "$(last_audit file.download "$C1")"

# ------------------------------------------------------------ quarantine

QSHA=$(object "$(pdf infected)" application/pdf ", scanned_at, scan_result, scan_signature, quarantined_at" \
    ", UTC_TIMESTAMP(6), 'infected', 'Eicar-Test-Signature', UTC_TIMESTAMP(6)")
SHAS+=("$QSHA")
QF=$(item_file "$(item s1 course)" "$QSHA" "'homework.pdf'")
check_eq "a quarantined file is refused to its owner" 403 "$(dl s1 "$QF")"
check "  saying why" says zh-TW files.quarantined.owner "$(body)"
check_match "  with the scan's finding" '<code>Eicar-Test-Signature</code>' "$(body)"
check_eq "  and no file" 0 "$(hdr_n content-disposition)"
check_eq "the admin is refused too" 403 "$(dl a1 "$QF")"
check "  told it is quarantined" says zh-TW files.quarantined.other "$(body)"
check_nomatch "  without the finding" 'Eicar' "$(body)"

# ------------------------------------------------------------ lost copies

MSHA=$(object "$(pdf missing)" application/pdf)
SHAS+=("$MSHA")
MF=$(item_file "$(item s1 course)" "$MSHA" "'essay.pdf'")
RESTORE+=("$MSHA:$tmp/missing")
rm "$PRIMARY/objects/${MSHA:0:2}/${MSHA:2:2}/$MSHA"
check_eq "with its primary copy gone a file is still served" 200 "$(dl s1 "$MF")"
check_eq "  from the replica: its bytes" "$MSHA" "$(body_sha)"
check_match "  the download says so in the audit" '"root":"replica"' "$(last_audit file.download "$S1")"
check_eq "  one repair job is enqueued" 1 "$(jobs_of "$MSHA")"
check_match "  from the replica to the primary" "^\{\"sha256\": ?\"$MSHA\", ?\"from\": ?\"replica\", ?\"to\": ?\"primary\"\}\$" \
    "$(app_sql "SELECT payload FROM jobs WHERE type = 'repair' AND JSON_VALUE(payload, '$.sha256') = '$MSHA'")"
job=$(app_sql "SELECT id FROM jobs WHERE type = 'repair' AND JSON_VALUE(payload, '$.sha256') = '$MSHA'")
# A worker may have taken (and deleted) the entry already.
check_eq "  and published to its stream" 1 \
    "$(app_sql "SELECT published_at IS NOT NULL OR attempts > 0 FROM jobs WHERE id = $job")"
check_eq "  one alert is raised" 1 "$(alerts_of "$MSHA" primary)"
check_eq "  for school A" "$sa" "$(app_sql "SELECT s.code FROM alerts a JOIN schools s ON s.id = a.school_id WHERE a.kind = 'store.object_missing' AND a.detail = '{\"sha256\":\"$MSHA\",\"root\":\"primary\"}'")"
check_eq "  and the repair is audited" 1 "$(audit_count "event = 'store.repair_queued' AND target = 'object:$MSHA'")"
check_eq "a second download is served from the replica too" 200 "$(dl a1 "$MF")"
check_eq "  the bytes" "$MSHA" "$(body_sha)"
check_eq "  still one repair job" 1 "$(jobs_of "$MSHA")"
check_eq "  still one alert" 1 "$(alerts_of "$MSHA" primary)"
repaired() { [ "$(app_sql "SELECT state FROM jobs WHERE id = $job")" = done ]; }
check "  the repair job runs" wait_for 30 repaired
check_eq "  and puts the primary copy back" "$MSHA" \
    "$(sha256sum "$PRIMARY/objects/${MSHA:0:2}/${MSHA:2:2}/$MSHA" | cut -c1-64)"
check_eq "  audited" 1 "$(audit_count "event = 'object.repaired' AND target = 'object:$MSHA'")"
rm "$PRIMARY/objects/${MSHA:0:2}/${MSHA:2:2}/$MSHA" "$REPLICA/objects/${MSHA:0:2}/${MSHA:2:2}/$MSHA"
check_eq "with no copy left the file is 410" 410 "$(dl s1 "$MF")"
check "  saying it is lost and to upload it again" says zh-TW files.lost.text "$(body)"
check_eq "  an alert says no copy is left" 1 "$(alerts_of "$MSHA" both)"
check_eq "  no other repair job" 1 "$(jobs_of "$MSHA")"
check_eq "  asked again, still one alert" "410 1" "$(dl s1 "$MF") $(alerts_of "$MSHA" both)"

# ------------------------------------------------------------ the admin's list

page=$(req a1 "$BASE/admin/students/${STUDENT[s1]}")
check_match "the admin's page of s1 lists the files of s1's items" '<h2 id="items">學習歷程檔案</h2>' "$page"
for f in "$F" "$PF" "$QF" "$MF"; do
	check_match "  linking to /files/$f" "href=\"/files/$f\"" "$page"
done
check_match "  by name, with the item's kind and description" \
    "<td>113-1</td><td>課程學習成果</td><td>課程學習成果</td><td><a href=\"/files/$F\">report.pdf</a>" "$page"
check_match "  a diverse performance named as one" "<td>多元表現</td><td>多元表現</td><td><a href=\"/files/$PF\">" "$page"
check_nomatch "  a hostile name shows no bidi control" $'\xe2\x80\xae' "$page"
page=$(req a1 "$BASE/admin/students/${STUDENT[s2]}")
check "s2's page says s2 has no files" says zh-TW files.list.none "$page"

check "the item is deleted" app_sql "UPDATE items SET deleted_at = UTC_TIMESTAMP(6) WHERE public_id = '$ITEM'"
check_eq "a deleted item's file is 404 for its owner" 404 "$(dl s1 "$F")"
check_eq "  and for the admin" 404 "$(dl a1 "$F")"
page=$(req a1 "$BASE/admin/students/${STUDENT[s1]}")
check_nomatch "  whose list no longer shows it" "/files/$F\"" "$page"
check_match "  but still the other items' files" "/files/$PF\"" "$page"

# ------------------------------------------------------------ end to end

# The admin opens the (past) term's window on the windows page, s1 uploads
# through POST /items into both roots, and downloads the file back; once
# the window is reset to its closed default the upload is refused.
check "s1 takes the course" app_sql "INSERT INTO enrolments (public_id, school_id, student_id, course_id)
    SELECT '$(new_public_id)', c.school_id, st.id, c.id FROM courses c JOIN students st
    ON st.public_id = '${STUDENT[s1]}' WHERE c.public_id = '$COURSE'"
today=$(TZ=Asia/Taipei date +%F)
token=$(csrf a1 /admin/windows)
out=$(st a1 --data-urlencode op=set --data-urlencode "opens_on=$today" --data-urlencode "closes_on=$today" \
    --data-urlencode "csrf=$token" "$BASE/admin/windows/$TERM")
check_eq "the admin opens the term's window for today" "303 $BASE/admin/windows?done=set" "$out"
# upload_as NAME DESCRIPTION FILE NAME_SENT: the items form as a browser
# posts it (the CSRF token first); prints "STATUS LOCATION".
upload_as() {
	local token
	token=$(csrf "$1" /items)
	req "$1" -o "$tmp/upload.page" -w '%{http_code} %{redirect_url}' -F "csrf=$token" -F kind=course \
	    -F "course=$COURSE" --form-string "description=$2" -F "doc=@$3;filename=$4" "$BASE/items"
}
ESHA=$(sha256sum "$(pdf e2e)" | cut -c1-64)
SHAS+=("$ESHA")
check_eq "s1 uploads a PDF through POST /items" "303 $BASE/items?done=created" \
    "$(upload_as s1 端到端 "$tmp/e2e" 期末報告.pdf)"
check_eq "  the store holds it in the primary root" "$ESHA" \
    "$(sha256sum "$PRIMARY/objects/${ESHA:0:2}/${ESHA:2:2}/$ESHA" | cut -c1-64)"
check_eq "  and in the replica root" "$ESHA" \
    "$(sha256sum "$REPLICA/objects/${ESHA:0:2}/${ESHA:2:2}/$ESHA" | cut -c1-64)"
UF=$(app_sql "SELECT public_id FROM item_files WHERE sha256 = '$ESHA'")
check_match "  with its file row" '^[A-Za-z0-9_-]{22}$' "$UF"
check_match "the items page links its download" "href=\"/files/$UF\"" "$(req s1 "$BASE/items")"
check_eq "s1 downloads it" 200 "$(dl s1 "$UF")"
check_eq "  the same bytes" "$ESHA" "$(body_sha)"
check_eq "  under its name" "attachment; filename=\"_.pdf\"; filename*=UTF-8''%E6%9C%9F%E6%9C%AB%E5%A0%B1%E5%91%8A.pdf" \
    "$(hdr content-disposition)"
check_eq "  as a PDF" application/pdf "$(hdr content-type)"
# The workers run its hash and scan jobs now (the 404 while an item is
# being checked is shown above with an object that has no jobs).
e2e_checked() {
	[ "$(app_sql "SELECT COUNT(*) FROM jobs WHERE JSON_VALUE(payload, '\$.sha256') = '$ESHA'
	    AND type IN ('hash', 'scan') AND state = 'done'")" = 2 ]
}
check "  its hash and scan jobs are done" wait_for 60 e2e_checked
check_eq "  then the course's teacher downloads it" 200 "$(dl t1 "$UF")"
check_eq "  the same bytes" "$ESHA" "$(body_sha)"
check_eq "the admin downloads it" 200 "$(dl a1 "$UF")"
check_eq "  the same bytes" "$ESHA" "$(body_sha)"
token=$(csrf a1 /admin/windows)
out=$(st a1 --data-urlencode op=reset --data-urlencode "csrf=$token" "$BASE/admin/windows/$TERM")
check_eq "the admin resets the window (closed by default)" "303 $BASE/admin/windows?done=reset" "$out"
n=$(app_sql "SELECT COUNT(*) FROM items i JOIN students st ON st.id = i.student_id WHERE st.public_id = '${STUDENT[s1]}'")
check_eq "  an upload is refused again" "422 " "$(upload_as s1 太遲了 "$(pdf late)" late.pdf)"
check_eq "  and stores no item" "$n" \
    "$(app_sql "SELECT COUNT(*) FROM items i JOIN students st ON st.id = i.student_id WHERE st.public_id = '${STUDENT[s1]}'")"

# ------------------------------------------------------------ the limit

key="${KV_PREFIX}dl:$(user_id s2)"
KEYS+=("$key")
redis-cli -s "$REDIS_SOCK" DEL "$key" >/dev/null
codes=""
for i in $(seq 1 "$LIMIT"); do codes+="$(dl s2 "$(new_public_id)") "; done
check_eq "$LIMIT attempts within the window are answered (404 for ids s2 cannot read)" \
    "$(printf '404 %.0s' $(seq 1 "$LIMIT"))" "$codes"
check_eq "attempt $((LIMIT + 1)) is refused with 429" 429 "$(dl s2 "$F")"
check "  saying downloads are paused" says zh-TW files.rate.text "$(body)"
check "  and in how many seconds to try again" says zh-TW files.rate.retry "$(body)"
check_match "  and from when" "$(msg zh-TW files.rate.retry_at) <strong>20[0-9-]{8} [0-9:]{8}</strong>" "$(body)"
ra=$(hdr retry-after)
check_match "  with Retry-After in seconds" '^[0-9]+$' "$ra"
check "  within the window" test "${ra:-0}" -ge 1 -a "${ra:-99}" -le 60
check_eq "the limit is per user: s1 still downloads" 200 "$(dl s1 "$PF")"

check_eq "every successful download of s1 is audited" 8 "$(downloads_of s1)"
check "the audit chain is whole" audit_verified
