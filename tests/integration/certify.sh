# certify: the teacher's certification pages through the real stack. A
# student and a teacher of another course cannot certify (403; 404 for the
# item, its POST and its file, like another school's, a diverse performance
# and an unknown id, each audited); the waiting list shows only checked
# course outcomes of the teacher's courses with masked names and the
# term's deadline, filters by course and class, and pages by
# certify.page_size (50); viewing an item is audited; a rejection needs a
# reason of at most 200 characters (each refused with its field's
# message, nothing written); certifying and rejecting write the signed
# record, its files, the item's state and the audit row; a second decision
# supersedes the first (history keeps both); the batch asks for
# confirmation and certifies only the chosen items still waiting, skipping
# and listing the others; stand-ins certify within their assignment only
# (course scope; teacher scope inside its dates; not outside them, not
# once revoked) and the record names both teachers; after the term's
# deadline every action is refused with the date and nothing is written;
# items being checked, quarantined or lost are neither listed nor decided
# (409); a certified item whose file the student replaces is pending
# again, and a ticked one loses its tick (so does a deleted one, and a
# rejected one; each audited as unticked); with
# the platform key retired, decisions are refused (503) with the
# operator's command; the teacher's home page counts what waits.
. "$(dirname "$0")/lib.sh"

RUNID="ce$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/records_helpers.bash"

# status NAME PATH: the status of NAME's GET of PATH.
status() { req "$1" -o /dev/null -w '%{http_code}' "$BASE$2"; }
page() { req "$1" "$BASE$2"; }
# day N: the date N days from today in Taiwan (the pages' today).
day() { date -u -d "8 hours $1 days" +%F; }
pdf() { { printf '%%PDF-1.7\n%%\342\343\n'; head -c 3000 /dev/urandom; } >"$1"; }
sha() { sha256sum "$1" | cut -c1-64; }
# upload NAME COURSE DESCRIPTION FILE: a course outcome; prints the new
# item's public id (empty on failure).
upload() {
	local token out
	token=$(csrf "$1" /items)
	out=$(req "$1" -o /dev/null -w '%{http_code}' -F "csrf=$token" -F kind=course \
	    -F "course=$2" --form-string "description=$3" -F "doc=@$4;filename=$(basename "$4")" "$BASE/items")
	[ "$out" = 303 ] || return 1
	app_sql "SELECT i.public_id FROM items i JOIN item_files f ON f.item_id = i.id WHERE f.sha256 = '$(sha "$4")' ORDER BY i.id DESC LIMIT 1"
}
# clean ITEM: every current file of ITEM is verified and scanned clean.
clean() {
	[ "$(app_sql "SELECT COUNT(*) FROM item_files f JOIN items i ON i.id = f.item_id JOIN objects o ON o.sha256 = f.sha256
	    WHERE i.public_id = '$1' AND f.replaced_at IS NULL AND o.verify_result = 'ok' AND o.scan_result = 'clean'")" -ge 1 ]
}
# decide NAME ITEM FIELD=VALUE...: GET the item's page for its token, then
# POST the decision form; prints "STATUS LOCATION", body in form_body.
decide() {
	local name=$1 item=$2
	shift 2
	page_of "$name" "/certify/$item"
	[ -n "$TOKEN" ] || TOKEN=$(csrf "$name" /certify)
	form "$name" "/certify/$item" "$@"
}
# batch NAME FIELD=VALUE...: POST /certify/batch with the list's token.
batch() {
	local name=$1
	shift
	page_of "$name" /certify
	form "$name" /certify/batch "$@"
}
file_of() { app_sql "SELECT f.public_id FROM item_files f JOIN items i ON i.id = f.item_id WHERE i.public_id = '$1' AND f.replaced_at IS NULL LIMIT 1"; }
item_col() { app_sql "SELECT $2 FROM items WHERE public_id = '$1'"; }
n_certs() { app_sql "SELECT COUNT(*) FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$1'"; }
n_all_certs() { app_sql "SELECT COUNT(*) FROM certifications c JOIN schools s ON s.id = c.school_id WHERE s.code = '$sa'"; }
teacher_id() { app_sql "SELECT t.id FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$(login_of "$1")'"; }

# ------------------------------------------------------------ the school

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "認證甲高中"
check "school B is added" L school add --code "$sb" --name "認證乙高中"
for t in ta tb ts tx; do
	check "teacher $t of school A signs in" signin_as "$t" teacher "$sa"
done
check "teacher tc of school B signs in" signin_as tc teacher "$sb"
check "student s1 of school A signs in" signin_as s1 student "$sa"
check "student s2 of school A signs in" signin_as s2 student "$sa"
S1=$(login_of s1) S2=$(login_of s2) TA=$(login_of ta) TS=$(login_of ts)

# 114-1 is open for uploads now (its deadline is 21 days after its closing
# ceremony); classes 101 and 102; courses C1 and C3 of ta, C2 of tb, CB
# of school B; s1 (101, seat 5) and s2 (102, seat 7) take C1, C2 and C3.
T1=$(new_public_id) TB=$(new_public_id) K1=$(new_public_id) K2=$(new_public_id)
C1=$(new_public_id) C2=$(new_public_id) C3=$(new_public_id) CB=$(new_public_id)
P1=$(new_public_id) P2=$(new_public_id)
DEADLINE=$(day 51)
teacher_row() {
	printf "INSERT INTO teachers (public_id, school_id, user_id) SELECT '%s', school_id, id FROM users WHERE login = '%s';\n" \
	    "$(new_public_id)" "$(login_of "$1")"
}
course() { # PUBLIC_ID SCHOOL TERM CODE NAME
	printf "INSERT INTO courses (public_id, school_id, term_id, code, name, credits) SELECT '%s', %s, id, '%s', '%s', 2 FROM terms WHERE public_id = '%s';\n" "$1" "$2" "$4" "$5" "$3"
}
teaches() { # COURSE TEACHER
	printf "INSERT INTO course_teachers (course_id, teacher_id) SELECT c.id, t.id FROM courses c, teachers t JOIN users u ON u.id = t.user_id WHERE c.public_id = '%s' AND u.login = '%s';\n" "$1" "$(login_of "$2")"
}
student_row() { # PUBLIC_ID LOGIN NUMBER NAME CLASS SEAT
	printf "INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind, national_id_hmac, national_id_sealed, birth_date, class_id, seat_no) SELECT '%s', u.school_id, u.id, '%s', '%s', 'national', '%s', UNHEX('%s'), '2009-01-01', c.id, %s FROM users u, classes c WHERE u.login = '%s' AND c.public_id = '%s';\n" \
	    "$1" "$3" "$4" "$(openssl rand -hex 32)" "$(openssl rand -hex 40)" "$6" "$2" "$5"
}
enrols() { # STUDENT COURSE
	printf "INSERT INTO enrolments (public_id, school_id, student_id, course_id) SELECT '%s', s.school_id, s.id, c.id FROM students s, courses c WHERE s.public_id = '%s' AND c.public_id = '%s';\n" \
	    "$(new_public_id)" "$1" "$2"
}
sql="SET @a = (SELECT id FROM schools WHERE code = '$sa');
SET @b = (SELECT id FROM schools WHERE code = '$sb');
INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on) VALUES
    ('$T1', @a, 114, 1, '$(day -30)', '$(day 30)'), ('$TB', @b, 114, 1, '$(day -30)', '$(day 30)');
INSERT INTO classes (public_id, school_id, year, code, name, grade) VALUES
    ('$K1', @a, 114, '101', '一年一班', 1), ('$K2', @a, 114, '102', '一年二班', 1);
$(for t in ta tb ts tx tc; do teacher_row $t; done)
$(course "$C1" @a "$T1" C1 國語文)
$(course "$C2" @a "$T1" C2 數學)
$(course "$C3" @a "$T1" C3 歷史)
$(course "$CB" @b "$TB" CB 英語文)
$(teaches "$C1" ta)
$(teaches "$C3" ta)
$(teaches "$C2" tb)
$(teaches "$CB" tc)
$(student_row "$P1" "$S1" "${RUNID}1" 陳小華 "$K1" 5)
$(student_row "$P2" "$S2" "${RUNID}2" 林美玲 "$K2" 7)
$(for c in "$C1" "$C2" "$C3"; do enrols "$P1" "$c"; enrols "$P2" "$c"; done)"
check "terms, classes, teachers, courses, students and enrolments exist" sql_as root "USE licheng; $sql"

# ------------------------------------------------------------ uploads

for n in 1 2 3 4 5 6; do pdf "$tmp/f$n.pdf"; done
I1=$(upload s1 "$C1" "國語文報告一" "$tmp/f1.pdf")
I2=$(upload s1 "$C1" "國語文報告二" "$tmp/f2.pdf")
I3=$(upload s2 "$C1" "林同學的國語文報告" "$tmp/f3.pdf")
I4=$(upload s1 "$C2" "數學報告" "$tmp/f4.pdf")
I5=$(upload s2 "$C1" "還在檢查的報告" "$tmp/f5.pdf")
for i in "$I1" "$I2" "$I3" "$I4" "$I5"; do
	check_match "an upload makes item $i" '^[A-Za-z0-9_-]{22}$' "$i"
done
tok=$(csrf s1 /items)
out=$(req s1 -o /dev/null -w '%{http_code}' -F "csrf=$tok" -F kind=diverse -F category=ability.volunteer \
    --form-string "description=志工服務" -F "doc=@$tmp/f6.pdf;filename=v.pdf" "$BASE/items")
check_eq "a diverse performance is uploaded too" 303 "$out"
DV=$(app_sql "SELECT i.public_id FROM items i JOIN item_files f ON f.item_id = i.id WHERE f.sha256 = '$(sha "$tmp/f6.pdf")'")
for i in "$I1" "$I2" "$I3" "$I4"; do
	check "item $i is hashed and scanned clean" wait_for 60 clean "$i"
done
# I5 is held at 檢查中: its object's verification is taken back.
check "item $I5's object is made unverified again" wait_for 60 clean "$I5"
sql_as root "UPDATE licheng.objects SET verified_at = NULL, verify_result = NULL WHERE sha256 = '$(sha "$tmp/f5.pdf")'"

# ------------------------------------------------------------ who may not

check_eq "a student gets 403 on /certify" 403 "$(status s1 /certify)"
check_eq "and on an item's page" 403 "$(status s1 "/certify/$I1")"
TOKEN=$(csrf s1 /items)
check_eq "a student's POST of a decision is refused (403)" "403 " "$(form s1 "/certify/$I1" decision=certified)"
check_eq "and a batch" "403 " "$(form s1 /certify/batch "item=$I1" confirm=yes)"
check_eq "nothing was written" 0 "$(n_certs "$I1")"
check_eq "the item is still pending" pending "$(item_col "$I1" cert_state)"

check_eq "tb (teacher of C2 only) gets 404 for a C1 item" 404 "$(status tb "/certify/$I1")"
check_match "audited as access.denied" 'not_yours' "$(last_audit access.denied "$(login_of tb)")"
TOKEN=$(csrf tb /certify)
check_eq "and for its POST" "404 " "$(form tb "/certify/$I1" decision=certified)"
check_eq "and for its file" 404 "$(status tb "/files/$(file_of "$I1")")"
check_eq "tc of school B gets 404 for it" 404 "$(status tc "/certify/$I1")"
check_eq "ta gets 404 for a diverse performance" 404 "$(status ta "/certify/$DV")"
check_eq "and for an unknown id" 404 "$(status ta "/certify/$(new_public_id)")"
check_eq "and for a malformed one" 404 "$(status ta "/certify/x'%3Cb%3E")"
check_eq "nothing was written for any of them" 0 "$(n_all_certs)"

# ------------------------------------------------------------ the list

p=$(page ta /certify)
check_match "ta's list is zh-TW" '<h1 id="certify-title">課程學習成果認證</h1>' "$p"
check_match "it counts the three waiting items of C1" '<p id="certify-total">共 3 件等待認證</p>' "$p"
for i in "$I1" "$I2" "$I3"; do
	check_match "it lists $i as a row" "<tr class=\"certify-row\" id=\"item-$i\">" "$p"
	check_match "  with its checkbox in the batch form" "<input type=\"checkbox\" name=\"item\" value=\"$i\"" "$p"
done
check_nomatch "not tb's C2 item" "$I4" "$p"
check_nomatch "not the item still being checked" "$I5" "$p"
check_nomatch "not the diverse performance" "$DV" "$p"
check_match "names are masked" '陳○華' "$p"
check_nomatch "never whole" '陳小華|林美玲' "$p"
check_match "with class, seat and number" "一年一班</span> <span class=\"student-seat\">座號 5</span> <span class=\"student-number\">${RUNID}1</span>" "$p"
check_match "the course, the term and the description" "<td>C1 國語文</td>.<td>114-1</td>.<td><a href=\"/certify/$I1\" class=\"certify-open\">國語文報告一</a>" "$(printf '%s' "$p" | tr '\n' '.')"
check_match "the file's name, linked" "<a href=\"/files/$(file_of "$I1")\"><bdi>f1.pdf</bdi></a>" "$p"
check_match "and the term's deadline (closing ceremony + 21 days)" "認證期限 $DEADLINE" "$p"
check_match "one batch form with the CSRF token" '<form method="post" action="/certify/batch" id="batch-form">.<input type="hidden" name="csrf"' "$(printf '%s' "$p" | tr '\n' '.')"
check_match "and its button" '認證通過所選項目' "$p"
check_match "the course filter offers ta's courses" "<option value=\"$C1\">114-1 C1 國語文</option>" "$p"
check_nomatch "and not tb's" "value=\"$C2\"" "$p"
check_match "the class filter offers their classes" "<option value=\"$K2\">102 一年二班</option>" "$p"
check_nomatch "no inline script or style" '<script>|style=' "$p"
p=$(page ta "/certify?class=$K2")
check_match "filtered by class 102: only s2's item" "id=\"item-$I3\"" "$p"
check_nomatch "  not s1's" "id=\"item-$I1\"" "$p"
check_match "  and the class stays chosen" "<option value=\"$K2\" selected>" "$p"
p=$(page ta "/certify?course=$C3")
check_match "filtered by C3 (nothing yet): a friendly line" '沒有符合篩選條件' "$p"
check_eq "a malformed filter is refused (422)" 422 "$(status ta "/certify?course=nope")"
p=$(page ta "/certify?order=oldest")
check_match "oldest first: I1 before I3" "item-$I1\".*item-$I3\"" "$(printf '%s' "$p" | tr '\n' ' ')"
p=$(page ta "/certify")
check_match "newest first by default: I3 before I1" "item-$I3\".*item-$I1\"" "$(printf '%s' "$p" | tr '\n' ' ')"
p=$(page tx /certify)
check_match "a teacher with nothing waiting gets a friendly line" 'id="certify-none">目前沒有等待你認證' "$p"
check_match "ta's home page says how many wait and the nearest deadline" \
    "你有 3 件課程學習成果待認證。 最近的認證期限： <strong>$DEADLINE</strong>" "$(page ta /)"
check_nomatch "tx's home page says nothing" 'certify-notice' "$(page tx /)"

# ------------------------------------------------------------ pages

# 55 more waiting items of C3 (inserted: verified, clean objects), so the
# list has 58: a page of 50 and one of 8.
bulk="SET @a = (SELECT id FROM schools WHERE code = '$sa');
SET @s = (SELECT id FROM students WHERE public_id = '$P1');
SET @u = (SELECT id FROM users WHERE login = '$S1');
SET @c = (SELECT id FROM courses WHERE public_id = '$C3');
SET @t = (SELECT id FROM terms WHERE public_id = '$T1');"
for n in $(seq 1 55); do
	h=$(openssl rand -hex 32)
	bulk+="
INSERT INTO objects (sha256, size, mime, verified_at, verify_result, scanned_at, scan_result) VALUES ('$h', 100, 'application/pdf', UTC_TIMESTAMP(6), 'ok', UTC_TIMESTAMP(6), 'clean');
INSERT INTO items (public_id, school_id, student_id, term_id, kind, course_id, description, cert_state, created_at) VALUES ('$(new_public_id)', @a, @s, @t, 'course', @c, '歷史作業 $n', 'pending', UTC_TIMESTAMP(6) - INTERVAL $n DAY);
INSERT INTO item_files (public_id, school_id, item_id, slot, version, sha256, size, mime, original_name, uploaded_by) VALUES ('$(new_public_id)', @a, LAST_INSERT_ID(), 'doc', 1, '$h', 100, 'application/pdf', 'h$n.pdf', @u);"
done
check "55 waiting C3 items are inserted" sql_as root "USE licheng; $bulk"
p=$(page ta /certify)
check_match "the count is 58" '共 58 件等待認證' "$p"
check_eq "page 1 has 50 rows (certify.page_size)" 50 "$(printf '%s' "$p" | grep -c 'class="certify-row"')"
check_match "and a link to page 2" 'href="/certify\?page&#61;2" rel="next"' "$p"
check_match "page 1 of 2" '頁 1 / 2|1 / 2' "$p"
p=$(page ta "/certify?page=2")
check_eq "page 2 has the other 8" 8 "$(printf '%s' "$p" | grep -c 'class="certify-row"')"
check_match "  the oldest last" '歷史作業 55' "$p"
p=$(page ta "/certify?course=$C3&page=2")
check_eq "filtered by C3, page 2 has 5" 5 "$(printf '%s' "$p" | grep -c 'class="certify-row"')"
check_match "  its links keep the filter" "href=\"/certify\?course&#61;$C3&amp;page&#61;1\" rel=\"prev\"" "$p"
check_match "the home page counts 58" '你有 58 件課程學習成果待認證' "$(page ta /)"

# ------------------------------------------------------------ one item

before=$(audit_count "event = 'item.viewed' AND actor = '$TA'")
p=$(page ta "/certify/$I1")
check_match "ta opens I1" '<h1 id="item-title">C1 國語文</h1>' "$p"
check_match "  its description" '<dd id="item-description">國語文報告一</dd>' "$p"
check_match "  the student, masked" '陳○華' "$p"
check_nomatch "  never whole" '陳小華' "$p"
check_match "  its file, linked" "<a href=\"/files/$(file_of "$I1")\"><bdi>f1.pdf</bdi></a>" "$p"
check_match "  no decision yet" 'id="history-none"' "$p"
check_match "  the decision form" "<form method=\"post\" action=\"/certify/$I1\" id=\"decide-form\"" "$p"
check_match "  with both decisions" 'name="decision" value="certified".*name="decision" value="rejected"' "$(printf '%s' "$p" | tr '\n' ' ')"
check_match "  and the reason field, its limit said" '<textarea id="reason" name="reason".*最多 200 字' "$(printf '%s' "$p" | tr '\n' ' ')"
check_match "  the deadline" "<dd id=\"item-deadline\">$DEADLINE</dd>" "$p"
check_eq "the view is audited" $((before + 1)) "$(audit_count "event = 'item.viewed' AND actor = '$TA'")"
check_match "  as item.viewed with the role" "^item:$I1	success	.*\"role\":\"teacher\"" "$(last_audit item.viewed "$TA")"
check_eq "ta may download its file (200)" 200 "$(status ta "/files/$(file_of "$I1")")"
check_match "  audited" "\"item\":\"$I1\"" "$(last_audit file.download "$TA")"
check_eq "an item still being checked is refused (409)" 409 "$(status ta "/certify/$I5")"
check_match "  saying why" '還在檢查中' "$(page ta "/certify/$I5")"
H5=$(sha "$tmp/f5.pdf")
sql_as root "UPDATE licheng.objects SET verified_at = UTC_TIMESTAMP(6), verify_result = 'ok', quarantined_at = UTC_TIMESTAMP(6) WHERE sha256 = '$H5'"
check_eq "a quarantined one is refused (409)" 409 "$(status ta "/certify/$I5")"
check_match "  saying why" '已被隔離，不能認證' "$(page ta "/certify/$I5")"
sql_as root "UPDATE licheng.objects SET quarantined_at = NULL, lost_at = UTC_TIMESTAMP(6) WHERE sha256 = '$H5'"
check_eq "a lost one is refused (409)" 409 "$(status ta "/certify/$I5")"
check_match "  saying why" '都已遺失，不能認證' "$(page ta "/certify/$I5")"
TOKEN=$(csrf ta /certify)
check_eq "  and so is a decision on it" "409 " "$(form ta "/certify/$I5" decision=certified)"
check_nomatch "none of them is listed" "id=\"item-$I5\"" "$(page ta /certify)"

# ------------------------------------------------------------ refusals

n0=$(n_all_certs)
out=$(decide ta "$I2" decision=rejected reason=)
check_eq "a rejection without a reason is refused (422)" "422 " "$out"
check_match "  with the field's message" '<p class="field-error" id="reason-error">選擇「認證未通過」時，請填寫原因' "$(form_body)"
check_match "  the choice kept" 'value="rejected" id="decision-rejected" checked' "$(form_body)"
out=$(decide ta "$I2" decision=rejected "reason=   ")
check_eq "a reason of spaces is no reason" "422 " "$out"
long=$(printf '太%.0s' $(seq 1 201))
out=$(decide ta "$I2" decision=rejected "reason=$long")
check_eq "a reason of 201 characters is refused (422)" "422 " "$out"
check_match "  with its message and both numbers" '原因最多 200 個字，你輸入了 201 個字。' "$(form_body)"
check_match "  the text kept" "$long</textarea>" "$(form_body)"
out=$(decide ta "$I2" decision=maybe)
check_eq "an unknown decision is refused (422)" "422 " "$out"
check_match "  with its message" '請選擇「認證通過」或「認證未通過」' "$(form_body)"
out=$(decide ta "$I2" decision=certified extra=1)
check_eq "an undeclared field is refused (422)" "422 " "$out"
check_eq "nothing was written by any of them" "$n0" "$(n_all_certs)"
check_eq "I2 is still pending" pending "$(item_col "$I2" cert_state)"

# ------------------------------------------------------------ decisions

TA_ID=$(teacher_id ta)
out=$(decide ta "$I1" decision=certified)
check_eq "ta certifies I1" "303 $BASE/certify?done=certified" "$out"
check_match "the list says so" '已認證通過，並已簽章記錄' "$(page ta /certify?done=certified)"
row=$(app_sql "SELECT c.decision, c.reason IS NULL, c.teacher_id, u.login, c.for_teacher_id IS NULL, c.standin_id IS NULL,
    c.item_version, c.superseded_at IS NULL, c.signature REGEXP '^[0-9a-f]{128}\$', c.key_id = (SELECT key_id FROM platform_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1)
    FROM certifications c JOIN items i ON i.id = c.item_id JOIN users u ON u.id = c.user_id WHERE i.public_id = '$I1'")
check_eq "the signed record: certified, by ta for nobody, version 1, key and signature" \
    "$(printf 'certified\t1\t%s\t%s\t1\t1\t1\t1\t1\t1' "$TA_ID" "$TA")" "$row"
check_eq "its file: the document's SHA-256" "$(printf 'doc\t%s' "$(sha "$tmp/f1.pdf")")" \
    "$(app_sql "SELECT f.slot, f.sha256 FROM certification_files f JOIN certifications c ON c.id = f.certification_id JOIN items i ON i.id = c.item_id WHERE i.public_id = '$I1'")"
check_eq "the item: certified, current decision, unread result, by ta" "$(printf 'certified\t1\t1\t1')" \
    "$(app_sql "SELECT i.cert_state, i.cert_id = c.id, i.cert_notice, i.cert_by = (SELECT id FROM users WHERE login = '$TA')
    FROM items i JOIN certifications c ON c.item_id = i.id WHERE i.public_id = '$I1'")"
CERT1=$(app_sql "SELECT c.public_id FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$I1'")
check_match "audited as item.certified with the files" \
    "^item:$I1	success	\\{\"item\":\"$I1\",\"course\":\"$C1\",\"decision\":\"certified\",\"certification\":\"$CERT1\",\"teacher\":\"[^\"]+\",\"for_teacher\":null,\"standin\":null,\"files\":\\[\"$(sha "$tmp/f1.pdf")\"\\]\\}" \
    "$(last_audit item.certified "$TA")"
p=$(page ta /certify)
check_nomatch "I1 has left the waiting list" "id=\"item-$I1\"" "$p"
p=$(page ta "/certify/$I1")
check_match "its page shows the decision in the history" "<tr class=\"decision decision-certified\" id=\"decision-$CERT1\">" "$p"
check_match "  as the current one" '目前有效' "$p"
check_match "  and offers a new decision until the deadline" 'id="redecide"' "$p"

out=$(decide ta "$I2" decision=rejected "reason=請補上報告的結論。")
check_eq "ta rejects I2 with a reason" "303 $BASE/certify?done=rejected" "$out"
check_eq "the record keeps the reason" "$(printf 'rejected\t請補上報告的結論。')" \
    "$(app_sql "SELECT c.decision, c.reason FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$I2'")"
check_eq "the item: rejected, with the reason for the student" "$(printf 'rejected\t請補上報告的結論。\t1')" \
    "$(app_sql "SELECT cert_state, cert_reason, cert_notice FROM items WHERE public_id = '$I2'")"
check_match "audited as item.rejected" "^item:$I2	success	.*\"decision\":\"rejected\"" "$(last_audit item.rejected "$TA")"
REJ=$(app_sql "SELECT c.public_id FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$I2'")

out=$(decide ta "$I2" decision=certified "reason=ignored")
check_eq "ta decides I2 again: certified" "303 $BASE/certify?done=certified" "$out"
check_eq "both decisions are kept" 2 "$(n_certs "$I2")"
check_eq "the rejection is superseded, the certification stands" "$(printf 'rejected\t1\ncertified\t0')" \
    "$(app_sql "SELECT c.decision, c.superseded_at IS NOT NULL FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$I2' ORDER BY c.id")"
check_eq "the certification keeps no reason" 1 \
    "$(app_sql "SELECT c.reason IS NULL FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$I2' ORDER BY c.id DESC LIMIT 1")"
check_eq "the item is certified, its reason gone, naming the new decision" "$(printf 'certified\t1\t1')" \
    "$(app_sql "SELECT i.cert_state, i.cert_reason IS NULL, i.cert_id = (SELECT MAX(id) FROM certifications WHERE item_id = i.id) FROM items i WHERE i.public_id = '$I2'")"
p=$(page ta "/certify/$I2")
check_match "the history shows the superseded rejection with its reason" \
    "id=\"decision-$REJ\">.*請補上報告的結論。.*已由後來的決定取代" "$(printf '%s' "$p" | tr '\n' ' ')"

# ------------------------------------------------------------ the batch

B1=$(app_sql "SELECT i.public_id FROM items i WHERE i.description = '歷史作業 1' AND i.course_id = (SELECT id FROM courses WHERE public_id = '$C3')")
B2=$(app_sql "SELECT i.public_id FROM items i WHERE i.description = '歷史作業 2' AND i.course_id = (SELECT id FROM courses WHERE public_id = '$C3')")
B3=$(app_sql "SELECT i.public_id FROM items i WHERE i.description = '歷史作業 3' AND i.course_id = (SELECT id FROM courses WHERE public_id = '$C3')")
n0=$(n_all_certs)
out=$(batch ta "item=$I3" "item=$B1" "item=$B2" "item=$I1" "item=$I4")
check_eq "a batch without confirm=yes asks for confirmation (200)" "200 " "$out"
b=$(form_body)
check_match "  listing the chosen items" "id=\"batch-$I3\".*林○玲.*林同學的國語文報告" "$(printf '%s' "$b" | tr '\n' ' ')"
check_match "  I1 as skipped: already decided" "id=\"batch-$I1\".*略過: 已有認證結果" "$(printf '%s' "$b" | tr '\n' ' ')"
check_match "  tb's item without details" '這一件已不存在，或你已無權認證' "$b"
check_nomatch "  never naming it" "$I4" "$b"
check_match "  a form repeating the eligible ones with confirm=yes" \
    "<input type=\"hidden\" name=\"item\" value=\"$I3\">.<input type=\"hidden\" name=\"item\" value=\"$B1\">.<input type=\"hidden\" name=\"item\" value=\"$B2\">.<input type=\"hidden\" name=\"confirm\" value=\"yes\">" \
    "$(printf '%s' "$b" | tr '\n' '.')"
check_eq "  nothing is written yet" "$n0" "$(n_all_certs)"
out=$(batch ta)
check_eq "an empty batch is refused (422)" "422 " "$out"
check_match "  saying what to do" '請先勾選要認證通過的項目' "$(form_body)"
out=$(batch ta "item=bad'id" confirm=yes)
check_eq "a malformed id refuses the batch (422)" "422 " "$out"
many=()
for i in $(app_sql "SELECT i.public_id FROM items i WHERE i.course_id = (SELECT id FROM courses WHERE public_id = '$C3') LIMIT 51"); do many+=("item=$i"); done
out=$(batch ta "${many[@]}" confirm=yes)
check_eq "a batch of 51 (more than certify.page_size) is refused (422)" "422 " "$out"
check_match "  saying the limit" '一次最多可以認證 50 件' "$(form_body)"
check_eq "nothing was written by those" "$n0" "$(n_all_certs)"
out=$(batch ta "item=$I3" "item=$B1" "item=$B2" "item=$I1" "item=$I4" "item=$I3" confirm=yes)
check_match "confirmed: three certified, two skipped" "^303 $BASE/certify\\?done=batch&n=3&skipped=2&skip=$I1&skip=$I4\$" "$out"
for i in "$I3" "$B1" "$B2"; do
	check_eq "  $i is certified with its own signed record" "$(printf 'certified\t1')" \
	    "$(app_sql "SELECT i.cert_state, COUNT(c.id) FROM items i JOIN certifications c ON c.item_id = i.id WHERE i.public_id = '$i' GROUP BY i.id")"
done
check_eq "  I1 keeps its one decision" 1 "$(n_certs "$I1")"
check_eq "  I4 (not ta's) has none" 0 "$(n_certs "$I4")"
check_eq "  B3, not chosen, is still pending" pending "$(item_col "$B3" cert_state)"
check_eq "  each audited" 3 "$(audit_count "event = 'item.certified' AND actor = '$TA' AND target IN ('item:$I3', 'item:$B1', 'item:$B2')")"
p=$(page ta "/certify?done=batch&n=3&skipped=2&skip=$I1&skip=$I4")
check_match "the list says how many and lists the skipped" '已認證通過 3 件.*另有 2 件' "$(printf '%s' "$p" | tr '\n' ' ')"
check_match "  I1 with its reason" '國語文報告一</span> — <span class="skipped-reason">已有認證結果' "$p"
check_match "  I4 without details" '<li><span class="skipped-reason">這一件已不存在，或你已無權認證' "$p"

# ------------------------------------------------------------ stand-ins

TB_ID=$(teacher_id tb) TS_ID=$(teacher_id ts)
standin() { # PUBLIC_ID COURSE FOR_TEACHER_ID STARTS ENDS
	local course=NULL forid=NULL starts=NULL ends=NULL
	[ -n "${2:-}" ] && course="(SELECT id FROM courses WHERE public_id = '$2')"
	[ -n "${3:-}" ] && forid=$3 && starts="'$4'" && ends="'$5'"
	app_sql "INSERT INTO cert_standins (public_id, school_id, standin_teacher_id, course_id, for_teacher_id, starts_on, ends_on, set_by)
	    SELECT '$1', school_id, $TS_ID, $course, $forid, $starts, $ends, 1 FROM teachers WHERE id = $TS_ID"
}
check_eq "ts, no stand-in yet, gets 404 for tb's I4" 404 "$(status ts "/certify/$I4")"
check_eq "and for its file" 404 "$(status ts "/files/$(file_of "$I4")")"
SC=$(new_public_id)
check "the admin names ts stand-in for course C2 (SQL)" standin "$SC" "$C2"
p=$(page ts /certify)
check_match "ts's list now shows I4" "id=\"item-$I4\"" "$p"
check_nomatch "  and nothing of ta's" "id=\"item-$I1\"|id=\"item-$B3\"" "$p"
check_match "the item says ts certifies as a stand-in for tb" "代理認證，代 測試tb" "$(page ts "/certify/$I4")"
check_eq "ts may download I4's file" 200 "$(status ts "/files/$(file_of "$I4")")"
check_eq "ts still gets 404 for ta's items" 404 "$(status ts "/certify/$B3")"
out=$(decide ts "$I4" decision=certified)
check_eq "ts certifies I4" "303 $BASE/certify?done=certified" "$out"
check_eq "the record names ts, tb and the assignment" "$(printf '%s\t%s\t%s\t%s' "$TS_ID" "$TB_ID" "$SC" "$TS")" \
    "$(app_sql "SELECT c.teacher_id, c.for_teacher_id, s.public_id, u.login FROM certifications c JOIN items i ON i.id = c.item_id
    JOIN cert_standins s ON s.id = c.standin_id JOIN users u ON u.id = c.user_id WHERE i.public_id = '$I4'")"
check_match "audited with both teachers and the assignment" \
    "\"teacher\":\"$(app_sql "SELECT public_id FROM teachers WHERE id = $TS_ID")\",\"for_teacher\":\"$(app_sql "SELECT public_id FROM teachers WHERE id = $TB_ID")\",\"standin\":\"$SC\"" \
    "$(last_audit item.certified "$TS")"
check "the assignment is revoked (SQL)" app_sql "UPDATE cert_standins SET revoked_at = UTC_TIMESTAMP(6), revoked_by = 1 WHERE public_id = '$SC'"
check_eq "ts gets 404 for I4 again" 404 "$(status ts "/certify/$I4")"
check_eq "and for its file" 404 "$(status ts "/files/$(file_of "$I4")")"
TOKEN=$(csrf ts /certify)
check_eq "and a POST is refused alike" "404 " "$(form ts "/certify/$I4" decision=rejected reason=x)"
check_eq "nothing more was written for I4" 1 "$(n_certs "$I4")"

SF=$(new_public_id)
check "ts stands in for ta from tomorrow (SQL)" standin "$SF" "" "$TA_ID" "$(day 1)" "$(day 10)"
check_eq "not yet: 404 for ta's B3" 404 "$(status ts "/certify/$B3")"
check "the range is moved to have ended yesterday" app_sql "UPDATE cert_standins SET starts_on = '$(day -10)', ends_on = '$(day -1)' WHERE public_id = '$SF'"
check_eq "no more: 404" 404 "$(status ts "/certify/$B3")"
check "the range is moved to include today" app_sql "UPDATE cert_standins SET ends_on = '$(day 0)' WHERE public_id = '$SF'"
check_eq "within it, ts may open B3" 200 "$(status ts "/certify/$B3")"
check_match "ts's list shows ta's waiting items" "id=\"item-$B3\"" "$(page ts /certify)"
out=$(decide ts "$B3" decision=rejected "reason=缺少出處。")
check_eq "ts rejects B3 for ta" "303 $BASE/certify?done=rejected" "$out"
check_eq "the record names ts acting for ta" "$(printf '%s\t%s\t%s\t缺少出處。' "$TS_ID" "$TA_ID" "$SF")" \
    "$(app_sql "SELECT c.teacher_id, c.for_teacher_id, s.public_id, c.reason FROM certifications c JOIN items i ON i.id = c.item_id
    JOIN cert_standins s ON s.id = c.standin_id WHERE i.public_id = '$B3'")"
p=$(page ta "/certify/$B3")
check_match "ta sees who decided for whom" '<td>測試ts</td>.<td>測試ta</td>' "$(printf '%s' "$p" | tr '\n' '.')"
check "it is revoked" app_sql "UPDATE cert_standins SET revoked_at = UTC_TIMESTAMP(6), revoked_by = 1 WHERE public_id = '$SF'"
check_eq "revoked: 404 for ta's items" 404 "$(status ts "/certify/$B3")"

# ------------------------------------------------------------ the deadline

B4=$(app_sql "SELECT i.public_id FROM items i WHERE i.description = '歷史作業 4' AND i.course_id = (SELECT id FROM courses WHERE public_id = '$C3')")
PASSED=$(day -1)
check "the admin's deadline of 114-1 is yesterday (SQL)" app_sql "INSERT INTO cert_deadlines (term_id, school_id, deadline, set_by)
    SELECT id, school_id, '$PASSED', 1 FROM terms WHERE public_id = '$T1'"
n0=$(n_all_certs)
p=$(page ta "/certify/$B4")
check_match "the item's page says the deadline passed, with the date" "<p class=\"alert\" id=\"item-late\">認證期限已於 $PASSED 截止，請洽學校管理者延長。</p>" "$p"
check_nomatch "  and offers no form" 'id="decide-form"' "$p"
TOKEN=$(csrf ta /certify)
out=$(form ta "/certify/$B4" decision=certified)
check_eq "a certification is refused (409)" "409 " "$out"
check_match "  with the date" "認證期限已於 $PASSED 截止，請洽學校管理者延長。" "$(form_body)"
out=$(form ta "/certify/$B4" decision=rejected reason=遲了)
check_eq "a rejection too" "409 " "$out"
out=$(form ta "/certify/$I2" decision=rejected reason=改變主意)
check_eq "and a new decision on a decided item" "409 " "$out"
p=$(page ta /certify)
check_match "the list says the deadline passed" "認證期限已過 $PASSED" "$p"
check_nomatch "  and offers no checkbox" "name=\"item\" value=\"$B4\"" "$p"
out=$(batch ta "item=$B4" confirm=yes)
check_eq "a batch skips it" "303 $BASE/certify?done=batch&n=0&skipped=1&skip=$B4" "$out"
check_eq "nothing was written" "$n0" "$(n_all_certs)"
check_eq "B4 is still pending" pending "$(item_col "$B4" cert_state)"
check "the deadline is removed again" app_sql "DELETE FROM cert_deadlines WHERE term_id = (SELECT id FROM terms WHERE public_id = '$T1')"
check_eq "B4 can be certified again" "303 $BASE/certify?done=certified" "$(decide ta "$B4" decision=certified)"

# ------------------------------------------------------------ a replaced file

check "s1 has ticked I1 for submission (SQL: the ticks are another page's)" \
    app_sql "UPDATE items SET selected_at = UTC_TIMESTAMP(6) WHERE public_id = '$I1'"
pdf "$tmp/new.pdf"
tok=$(csrf s1 "/items/$I1")
out=$(req s1 -o /dev/null -w '%{http_code}' -F "csrf=$tok" --form-string "description=國語文報告一" -F confirm=1 \
    -F "doc=@$tmp/new.pdf;filename=new.pdf" "$BASE/items/$I1")
check_eq "s1 replaces I1's file, confirming" 303 "$out"
check_eq "I1 is pending again, without a current decision or unread result" "$(printf 'pending\t1\t0')" \
    "$(app_sql "SELECT cert_state, cert_id IS NULL, cert_notice FROM items WHERE public_id = '$I1'")"
check_eq "its decision is kept, superseded" "$(printf '%s\t1' "$CERT1")" \
    "$(app_sql "SELECT c.public_id, c.superseded_at IS NOT NULL FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$I1'")"
check_eq "  and its tick is gone: it is no longer eligible" 1 "$(item_col "$I1" "selected_at IS NULL")"
check_match "audited as item.certification_removed, unticked" "^item:$I1	success	.*\"was\":\"certified\".*\"unticked\":true" \
    "$(last_audit item.certification_removed "$S1")"
check "once checked, it waits for ta again" wait_for 60 clean "$I1"
check_match "  in ta's list" "id=\"item-$I1\"" "$(page ta /certify)"

check "s1 has ticked B1 (certified in the batch) too" app_sql "UPDATE items SET selected_at = UTC_TIMESTAMP(6) WHERE public_id = '$B1'"
page_of s1 "/items/$B1"
check_eq "s1 deletes B1, confirming" "303 $BASE/items?done=deleted" "$(form s1 "/items/$B1/delete" confirm=1)"
check_eq "its certification is superseded, the item has no decision and no tick" "$(printf '1\t1\t1\t0')" \
    "$(app_sql "SELECT c.superseded_at IS NOT NULL, i.cert_id IS NULL, i.selected_at IS NULL, i.cert_notice FROM items i JOIN certifications c ON c.item_id = i.id WHERE i.public_id = '$B1'")"
check_match "audited, unticked" "^item:$B1	success	.*\"by\":\"delete\",\"unticked\":true" "$(last_audit item.certification_removed "$S1")"

check "s1 has ticked I2 (certified)" app_sql "UPDATE items SET selected_at = UTC_TIMESTAMP(6) WHERE public_id = '$I2'"
check_eq "ta rejects I2 after all" "303 $BASE/certify?done=rejected" "$(decide ta "$I2" decision=rejected reason=出處不清。)"
check_eq "a rejection takes the tick away" "$(printf 'rejected\t1')" "$(item_col "$I2" "cert_state, selected_at IS NULL")"
check_match "  audited as unticked" "^item:$I2	success	.*\"decision\":\"rejected\".*\"unticked\":true" "$(last_audit item.rejected "$TA")"

# ------------------------------------------------------------ no key

KEY=$(app_sql "SELECT key_id FROM platform_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1")
restore_key() { sql_as root "UPDATE licheng.platform_keys SET retired_at = NULL WHERE key_id = '$KEY'"; }
at_exit_key=1
trap 'rc=$?; [ -n "${at_exit_key:-}" ] && restore_key >/dev/null 2>&1; (exit $rc); finish' EXIT
check "the platform key is retired (SQL, as root)" sql_as root "UPDATE licheng.platform_keys SET retired_at = UTC_TIMESTAMP(6) WHERE key_id = '$KEY'"
n0=$(n_all_certs)
p=$(page ta "/certify/$B3")
check_match "the item's page says certification is not set up, naming the command" 'licheng pki init-school' "$p"
check_nomatch "  and offers no form" 'id="decide-form"' "$p"
TOKEN=$(csrf ta /certify)
out=$(form ta "/certify/$B3" decision=certified)
check_eq "a decision is refused (503)" "503 " "$out"
check_match "  saying why and what the operator runs" '簽章金鑰還沒有建立.*licheng pki init-school' "$(form_body)"
check_eq "  as a batch too" "503 " "$(form ta /certify/batch "item=$B3" confirm=yes)"
check_eq "nothing was written" "$n0" "$(n_all_certs)"
check "the key is restored" restore_key
at_exit_key=
check_eq "and B3 can be decided again" "303 $BASE/certify?done=certified" "$(decide ta "$B3" decision=certified)"
