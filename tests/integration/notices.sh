# notices: the home-page lines of the student and the homeroom teacher
# (導師), and the homeroom page. A student's home shows the certification
# results they have not seen — how many course outcomes were certified,
# each rejection with its course and reason (escaped) — with a link to
# /items, and no longer once /items was opened; a later decision shows
# again. A homeroom teacher's home has one line per class of the current
# school year (items uploaded, certified, ticked) with a link to
# /homeroom, which lists each student (number, seat, masked name) with
# their counts of that school year — never a file name or a description —
# and is audited (homeroom.viewed); another school year is chosen with a
# selector. The decisions are the teacher's, on /certify/:id. A teacher
# who is homeroom teacher of no class, another school's teacher and a
# student get no such line and no page (404 for teachers, audited).
. "$(dirname "$0")/lib.sh"

RUNID="nt$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/selection_helpers.bash"

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "通知甲高中"
check "school B is added" L school add --code "$sb" --name "通知乙高中"
for s in s1 s2 s3; do check "student $s signs in" signin_as "$s" student "$sa"; done
for t in t1 t2; do check "teacher $t signs in" signin_as "$t" teacher "$sa"; done
check "teacher tb of school B signs in" signin_as tb teacher "$sb"
S1=$(login_of s1) T1L=$(login_of t1) T2L=$(login_of t2) TBL=$(login_of tb)

# Classes: 301 (this school year) and 201 (last year) with t1 as their
# homeroom teacher, 302 without one. s1 and s2 are in 301, s3 in 302. t1
# teaches C1.
TERM=$(new_public_id) C1=$(new_public_id)
K301=$(new_public_id) K201=$(new_public_id) K302=$(new_public_id)
class_row() { # PUBLIC_ID YEAR CODE NAME GRADE HOMEROOM_LOGIN|""
	local h="NULL"
	[ -n "$6" ] && h="(SELECT t.id FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$6')"
	printf "INSERT INTO classes (public_id, school_id, year, code, name, grade, homeroom_teacher_id) SELECT '%s', id, %s, '%s', '%s', %s, %s FROM schools WHERE code = '%s';\n" \
	    "$1" "$2" "$3" "$4" "$5" "$h" "$sa"
}
sql="$(teacher_row "$T1L")
$(teacher_row "$T2L")
$(teacher_row "$TBL")
$(class_row "$K301" "$CY" 301 三年一班 3 "$T1L")
$(class_row "$K201" $((CY - 1)) 201 二年一班 2 "$T1L")
$(class_row "$K302" "$CY" 302 三年二班 3 "")
$(term_row "$sa" "$TERM" "$CY" 1 "$(day -30)" "$(day 30)")
$(course_row "$sa" "$C1" "$TERM" C1 國語文)
$(teaches "$T1L" "$C1")
$(student_row "$S1" "${RUNID}1" 陳小華 "$K301" 5)
$(student_row "$(login_of s2)" "${RUNID}2" 林小美 "$K301" 12)
$(student_row "$(login_of s3)" "${RUNID}3" 王大同 "$K302" 1)
$(enrols "${RUNID}1" "$C1")
$(enrols "${RUNID}2" "$C1")
$(enrols "${RUNID}3" "$C1")"
check "teachers, classes, a term, a course, students and enrolments exist" root_sql "$sql"

# s1: two course outcomes and a diverse performance; s2: one course
# outcome, and a diverse performance it deletes; s3 (another class): one.
A=$(new_item s1 course "$C1" "國語文報告甲")
B=$(new_item s1 course "$C1" "國語文報告乙")
D=$(new_item s1 diverse ability.volunteer "志工服務")
C=$(new_item s2 course "$C1" "國語文報告丙")
E=$(new_item s2 diverse ability.volunteer "要刪除的")
F=$(new_item s3 course "$C1" "別班的報告")
check "the workers verify and scan every file clean" wait_for 90 all_clean "$A" "$B" "$C" "$D" "$E" "$F"
TOKEN=$(csrf s2 /items)
out=$(req s2 -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$TOKEN" "$BASE/items/$E/delete")
check_eq "s2 deletes one" 303 "$out"

# ------------------------------------------------------------ the student

check_nomatch "before any decision s1's home has no results" 'id="student-notice"' "$(page s1 /)"
REASON='缺少反思段落 & <心得>'
check_eq "t1 certifies A on its page" "303 $BASE/certify?done=certified" "$(decide t1 "$A" certified)"
check_eq "and rejects B with a reason" "303 $BASE/certify?done=rejected" "$(decide t1 "$B" rejected "$REASON")"
p=$(page s1 /)
check_match "s1's home shows the new results" '<h2 id="student-notice-title">新的認證結果</h2>' "$p"
check_match "how many were certified" '<li class="notice-certified">1 件課程學習成果已認證通過</li>' "$p"
check_match "the rejection with its course and reason, escaped" \
    '<li class="notice-rejected">課程學習成果「C1 國語文」認證未通過，原因：缺少反思段落 &amp; &lt;心得&gt;</li>' "$p"
check_match "with a link to /items" '<a href="/items">到我的學習成果查看並勾選</a>' "$p"
check_nomatch "never raw markup from the reason" '<心得>' "$p"
check_match "reloading the home page keeps them" '1 件課程學習成果已認證通過' "$(page s1 /)"
check_nomatch "s2 has none" 'id="student-notice"' "$(page s2 /)"
check_nomatch "a teacher gets no student notice" 'id="student-notice"' "$(page t1 /)"
req s1 -o /dev/null "$BASE/lang/en"
p=$(page s1 /)
check_match "in English" '1 course learning outcome\(s\) certified' "$p"
check_match "the rejection in English" 'Course learning outcome &quot;C1 國語文&quot; not certified. Reason: 缺少反思段落 &amp; &lt;心得&gt;' "$p"
req s1 -o /dev/null "$BASE/lang/zh-TW"

p=$(page s1 /items)
check_match "/items marks both as new" "id=\"item-$A\">.*<span class=\"new-result\">" "$(printf '%s' "$p" | tr -d '\n' | sed 's/<li class="item card"/\n&/g' | grep -F "item-$A\"")"
check_eq "opening /items marks them seen" "$(printf '0\n0')" \
    "$(app_sql "SELECT cert_notice FROM items WHERE public_id IN ('$A', '$B')")"
check_nomatch "s1's home shows them no more" 'id="student-notice"' "$(page s1 /)"
check_eq "t1 certifies s2's C" "303 $BASE/certify?done=certified" "$(decide t1 "$C" certified)"
check_match "a later decision shows on s2's home" '1 件課程學習成果已認證通過' "$(page s2 /)"
check_nomatch "not on s1's" 'id="student-notice"' "$(page s1 /)"
out=$(tick s1 "$A")
check_eq "s1 ticks A" "303 $BASE/items?done=ticked" "$out"

# ------------------------------------------------------------ the homeroom teacher

p=$(page t1 /)
check_match "t1's home has the homeroom notice of this school year" \
    "<h2 id=\"homeroom-notice-title\">導師班級進度（$CY 學年度）</h2>" "$p"
check_match "one line for 301: 4 uploaded, 2 certified, 1 ticked" \
    '<li class="homeroom-line">301 班：已上傳 4 件，已認證 2 件，已勾選 1 件</li>' "$p"
check_nomatch "no line for 302 (not t1's)" '302 班' "$p"
check_nomatch "none for last year's 201" '201 班' "$p"
check_match "a link to /homeroom" '<a href="/homeroom">查看各學生的進度</a>' "$p"
check_nomatch "t2 (homeroom teacher of no class) has no such notice" 'id="homeroom-notice"' "$(page t2 /)"
check_nomatch "students neither" 'id="homeroom-notice"' "$(page s1 /)"

a0=$(n_audit homeroom.viewed "$T1L")
check_eq "t1 opens /homeroom" 200 "$(req t1 -o "$tmp/page" -w '%{http_code}' "$BASE/homeroom")"
p=$(body)
check_match "the page shows the current school year" "<h2 id=\"year-title\">$CY 學年度</h2>" "$p"
check_match "and class 301" "<h3 id=\"class-$K301-title\">301 班（三年一班）</h3>" "$p"
check_nomatch "not 302" '302 班' "$p"
flat=$(printf '%s' "$p" | tr -d '\n')
check_match "s1's row: number, seat, masked name, 2 course outcomes, 1 diverse, 1 certified, 1 rejected, 0 waiting, 1 ticked" \
    "<td>${RUNID}1</td><td>5</td><td>陳○華</td><td class=\"n n-course\">2</td><td class=\"n n-diverse\">1</td><td class=\"n n-certified\">1</td><td class=\"n n-rejected\">1</td><td class=\"n n-waiting\">0</td><td class=\"n n-ticked\">1</td>" "$flat"
check_match "s2's row: 1 course outcome certified, the deleted item not counted" \
    "<td>${RUNID}2</td><td>12</td><td>林○美</td><td class=\"n n-course\">1</td><td class=\"n n-diverse\">0</td><td class=\"n n-certified\">1</td><td class=\"n n-rejected\">0</td><td class=\"n n-waiting\">0</td><td class=\"n n-ticked\">0</td>" "$flat"
check_match "in seat order" "${RUNID}1</td>.*${RUNID}2</td>" "$flat"
check_nomatch "s3 (another class) is not listed" "${RUNID}3" "$p"
check_nomatch "no full name" '陳小華|林小美' "$p"
check_nomatch "no description" '國語文報告|志工服務|要刪除的' "$p"
check_nomatch "no file, no file name, no link to one" '/files/|\.pdf|/items/' "$p"
check_eq "the view is audited once" $((a0 + 1)) "$(n_audit homeroom.viewed "$T1L")"
check_eq "with the year, the classes and how many students" \
    "$(printf 'homeroom:%s\tsuccess\t{"year":%s,"classes":["301"],"students":2}' "$CY" "$CY")" \
    "$(last_audit homeroom.viewed "$T1L")"
check_match "the selector offers both school years" \
    "<option value=\"$CY\" selected>$CY</option>.?<option value=\"$((CY - 1))\">$((CY - 1))</option>" "$flat"

p=$(page t1 "/homeroom?year=$((CY - 1))")
check_match "last year: class 201" "<h3 id=\"class-$K201-title\">201 班（二年一班）</h3>" "$p"
check_match "which has no students now" '這個班級目前沒有學生。' "$p"
check_nomatch "and not 301" '301 班' "$p"
check_match "audited for that year" "^homeroom:$((CY - 1))	success	" "$(last_audit homeroom.viewed "$T1L")"
p=$(page t1 "/homeroom?year=999")
check_match "a year that is not t1's shows the default" "<h2 id=\"year-title\">$CY 學年度</h2>" "$p"
check_eq "a mangled query too" 200 "$(status t1 "/homeroom?year=%3Cx%3E&other=1")"

check_eq "t2 (homeroom teacher of no class) gets 404" 404 "$(status t2 /homeroom)"
check_match "audited as denied" 'denied.*"reason":"not_homeroom"' "$(last_audit access.denied "$T2L")"
check_eq "another school's teacher gets 404" 404 "$(status tb /homeroom)"
check_match "a student is refused" '^40[34]$' "$(status s1 /homeroom)"
check_eq "and no homeroom view was recorded for them" 0 \
    "$(audit_count "event = 'homeroom.viewed' AND actor IN ('$T2L', '$TBL', '$S1')")"

check "the audit chain verifies" audit_verified
