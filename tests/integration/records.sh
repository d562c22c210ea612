# records: a school admin's records through nginx, signed in for real —
# terms, classes with their homeroom teacher, teachers and students (each
# with an account and an activation letter), courses with teachers,
# enrolments; field errors (a wrong check digit, duplicates), edits and
# status changes, list search and pagination; every change and every view
# of personal data audited; national IDs never in full on list pages, in
# audit rows or in the stack's logs, and in full only on the identity page,
# with a reason, audited, not stored (no-store).
. "$(dirname "$0")/lib.sh"

RUNID="rc$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/records_helpers.bash"

sa=${RUNID}a
check "the school is added" L school add --code "$sa" --name "紀錄甲高中"
check "its admin a1 signs in with a second factor" signin_as a1 school_admin "$sa"
A1=$(login_of a1)
school_id=$(app_sql "SELECT id FROM schools WHERE code = '$sa'")
ALL_IDS=()

# ------------------------------------------------------------ terms

page_of a1 /admin/terms
check_match "the terms page is zh-TW" '<h1 id="terms-title">學期</h1>' "$PAGE"
check_match "the year field is labelled" '<label for="year">學年度（民國）</label>' "$PAGE"
check_match "it offers this school year" "name=\"year\" value=\"[0-9]+\"" "$PAGE"
check_eq "term 114-1 is created (303 back to the list)" "303 $BASE/admin/terms?done=created" \
    "$(form a1 /admin/terms year=114 semester=1 starts_on=2025-08-01 ends_on=2026-01-20)"
check_eq "it is stored for the school" "114	1	2025-08-01	2026-01-20" \
    "$(app_sql "SELECT year, semester, starts_on, ends_on FROM terms WHERE school_id = $school_id")"
check_eq "record.create is audited for term:114-1" \
    'term:114-1	success	{"kind":"term","starts_on":"2025-08-01","ends_on":"2026-01-20"}' \
    "$(last_audit record.create "$A1")"
check_match "the list shows it with the notice" '學期已新增.*|<a href="/admin/terms/[A-Za-z0-9_-]{22}">114-1</a>' \
    "$(req a1 "$BASE/admin/terms?done=created")"
check_eq "the same term again is 422" "422 " \
    "$(form a1 /admin/terms year=114 semester=1 starts_on=2025-08-01 ends_on=2026-01-20)"
check_match "with the message at the year field" 'id="year-error">本校已經有這個學期' "$(form_body)"
check_match "and the field marked invalid" 'id="year" name="year" value="114"[^>]*aria-invalid="true"' "$(form_body)"
check_eq "an end before the start is 422" "422 " \
    "$(form a1 /admin/terms year=114 semester=2 starts_on=2026-07-01 ends_on=2026-02-01)"
check_match "with its message" 'id="ends_on-error">結束日期必須晚於開始日期' "$(form_body)"
check_match "and what was typed" 'value="2026-07-01"' "$(form_body)"
check_eq "semester 3 is 422" "422 " \
    "$(form a1 /admin/terms year=114 semester=3 starts_on=2026-02-01 ends_on=2026-07-01)"
check_match "with the choice message" 'id="semester-error">請從選項中選擇' "$(form_body)"
check_eq "year 1000 is 422" "422 " \
    "$(form a1 /admin/terms year=1000 semester=2 starts_on=2026-02-01 ends_on=2026-07-01)"
check_eq "a field nobody declared is 422" "422 " \
    "$(form a1 /admin/terms year=114 semester=2 starts_on=2026-02-01 ends_on=2026-07-01 school_id=1)"
check_eq "term 114-2 is created" "303 $BASE/admin/terms?done=created" \
    "$(form a1 /admin/terms year=114 semester=2 starts_on=2026-02-01 ends_on=2026-07-10)"
check_eq "only the two good terms were stored" 2 \
    "$(app_sql "SELECT COUNT(*) FROM terms WHERE school_id = $school_id")"
T1=$(app_sql "SELECT public_id FROM terms WHERE school_id = $school_id AND semester = 1")
T2=$(app_sql "SELECT public_id FROM terms WHERE school_id = $school_id AND semester = 2")
page_of a1 "/admin/terms/$T2"
check_match "a term's page shows it" '學期 114-2' "$PAGE"
check_eq "its dates are changed" "303 $BASE/admin/terms/$T2?done=updated" \
    "$(form a1 "/admin/terms/$T2" starts_on=2026-02-11 ends_on=2026-07-15)"
check_eq "and stored" "2026-02-11	2026-07-15" \
    "$(app_sql "SELECT starts_on, ends_on FROM terms WHERE public_id = '$T2'")"
check_eq "record.update is audited" \
    'term:114-2	success	{"kind":"term","starts_on":"2026-02-11","ends_on":"2026-07-15"}' \
    "$(last_audit record.update "$A1")"
check_eq "an edit with the end first is 422" "422 " \
    "$(form a1 "/admin/terms/$T2" starts_on=2026-07-15 ends_on=2026-02-11)"

# ------------------------------------------------------------ teachers

page_of a1 /admin/teachers/new
check_match "the new-teacher form has its labelled fields" '<label for="teacher_name">姓名</label>' "$PAGE"
TL1="${RUNID}-wang"
out=$(form a1 /admin/teachers "login=$TL1" "teacher_name=王大明" staff_no=T001)
check_match "a teacher is created and the letters page follows" "^303 $BASE/admin/letters/[A-Za-z0-9_-]{22}\$" "$out"
batch=${out##*/}
check_eq "their account is a pending teacher of the school" "teacher	pending	王大明" \
    "$(app_sql "SELECT role, status, name FROM users WHERE login = '$TL1' AND school_id = $school_id")"
check_eq "their teacher row holds the staff number" "T001	active" \
    "$(app_sql "SELECT t.staff_no, t.status FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$TL1'")"
check_eq "one letter was stored for the school" "1" \
    "$(app_sql "SELECT letters FROM letter_batches WHERE public_id = '$batch' AND school_id = $school_id")"
check_match "record.create is audited for teacher:$TL1" \
    "^teacher:$TL1	success	\\{\"kind\":\"teacher\",\"name\":\"王大明\",\"staff_no\":\"T001\",\"letter_batch\":\"$batch\"\\}\$" \
    "$(last_audit record.create "$A1")"
TL2="${RUNID}-lin"
check_match "a second teacher" "^303 $BASE/admin/letters/" \
    "$(form a1 /admin/teachers "login=$(printf '%s' "$TL2" | tr a-z A-Z)" "teacher_name=林美華")"
check_eq "the login was folded to lower case" 1 \
    "$(app_sql "SELECT COUNT(*) FROM users WHERE login = '$TL2'")"
check_eq "a login that is taken is 422" "422 " \
    "$(form a1 /admin/teachers "login=$TL1" "teacher_name=別人")"
check_match "with its reason at the field" 'id="login-error">無法使用這個帳號' "$(form_body)"
check_eq "a national ID as a login is 422" "422 " \
    "$(form a1 /admin/teachers "login=$(twid A 1 | tr A-Z a-z)" "teacher_name=別人")"
check_eq "a staff number of another teacher is 422" "422 " \
    "$(form a1 /admin/teachers "login=${RUNID}-x" "teacher_name=別人" staff_no=T001)"
check_match "with its message" 'id="staff_no-error">本校已經有教師使用這個員工編號' "$(form_body)"
check_eq "an empty name is 422" "422 " "$(form a1 /admin/teachers "login=${RUNID}-y" "teacher_name=")"
check_match "with the required message" 'id="teacher_name-error">此欄位必填' "$(form_body)"
check_eq "no account was made by the refused forms" 0 \
    "$(app_sql "SELECT COUNT(*) FROM users WHERE login IN ('${RUNID}-x', '${RUNID}-y')")"
TP1=$(app_sql "SELECT t.public_id FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$TL1'")
TP2=$(app_sql "SELECT t.public_id FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$TL2'")

# ------------------------------------------------------------ classes

page_of a1 /admin/classes
check_match "the classes page is zh-TW" '<h1 id="classes-title">班級</h1>' "$PAGE"
check_eq "class 101 of 114 is created" "303 $BASE/admin/classes?year=114&done=created" \
    "$(form a1 /admin/classes new_year=114 code=101 "class_name=一年一班" grade=1)"
check_eq "record.create is audited for class:114:101" \
    'class:114:101	success	{"kind":"class","name":"一年一班","grade":1}' "$(last_audit record.create "$A1")"
check_eq "class 102 too" "303 $BASE/admin/classes?year=114&done=created" \
    "$(form a1 /admin/classes new_year=114 code=102 "class_name=一年二班" grade=1)"
check_eq "the same code in the same year is 422" "422 " \
    "$(form a1 /admin/classes new_year=114 code=101 "class_name=重複" grade=1)"
check_match "with its message" 'id="code-error">這個學年度已經有相同代碼的班級' "$(form_body)"
check_eq "grade 13 is 422" "422 " "$(form a1 /admin/classes new_year=114 code=199 "class_name=x" grade=13)"
C1=$(app_sql "SELECT public_id FROM classes WHERE school_id = $school_id AND code = '101'")
C2=$(app_sql "SELECT public_id FROM classes WHERE school_id = $school_id AND code = '102'")
page_of a1 "/admin/classes/$C1"
check_match "the homeroom select lists the active teachers" "<option value=\"$TP1\">王大明 \\($TL1\\)</option>" "$PAGE"
check_eq "the homeroom teacher is set" "303 $BASE/admin/classes/$C1?done=updated" \
    "$(form a1 "/admin/classes/$C1" code=101 "class_name=一年一班" grade=1 "homeroom=$TP1")"
check_eq "and stored" "$TP1" \
    "$(app_sql "SELECT t.public_id FROM classes c JOIN teachers t ON t.id = c.homeroom_teacher_id WHERE c.public_id = '$C1'")"
check_eq "record.update is audited with the homeroom teacher" \
    "class:114:101	success	{\"kind\":\"class\",\"name\":\"一年一班\",\"grade\":1,\"homeroom\":\"$TL1\"}" \
    "$(last_audit record.update "$A1")"
check_eq "an unknown teacher is 422" "422 " \
    "$(form a1 "/admin/classes/$C1" code=101 "class_name=一年一班" grade=1 "homeroom=$(new_public_id)")"
check_match "with its message" 'id="homeroom-error">請從清單中選擇本校在職的教師' "$(form_body)"
check_match "the year's list shows the homeroom teacher" "王大明 \\($TL1\\)" "$(req a1 "$BASE/admin/classes?year=114")"

# ------------------------------------------------------------ students

ID1=$(twid A 1) ID2=$(twid B 8) ID3=$(twid F 2) ID_NEW=$(twid K 1)
ALL_IDS+=("$ID1" "$ID2" "$ID3" "$ID_NEW")
B=$((RANDOM % 900 + 100))
NO1="${B}001" NO2="${B}002"
page_of a1 /admin/students/new
check_match "the new-student form labels the ID field" '<label for="national_id">身分證統一編號或居留證統一證號</label>' "$PAGE"
out=$(form a1 /admin/students "student_no=$NO1" "student_name=林堃" "national_id=$ID1" \
    birth_date=2009-03-04 "class=$C1" seat=1 status=enrolled)
check_match "a student is created and the letters page follows" "^303 $BASE/admin/letters/[A-Za-z0-9_-]{22}\$" "$out"
batch=${out##*/}
check_eq "the name is stored exactly (堃)" "林堃" \
    "$(app_sql "SELECT name FROM students WHERE school_id = $school_id AND student_no = '$NO1'")"
check_eq "as the ID's kind" "national" \
    "$(app_sql "SELECT id_kind FROM students WHERE school_id = $school_id AND student_no = '$NO1'")"
check_eq "the ID is kept as an HMAC and sealed, never in clear" "1	0	0" \
    "$(app_sql "SELECT national_id_hmac REGEXP '^[0-9a-f]{64}\$', LOCATE('$ID1', national_id_sealed), LOCATE('$ID1', national_id_hmac) FROM students WHERE student_no = '$NO1' AND school_id = $school_id")"
check_match "their account: a pending student with a login from the number" "^student	pending	$NO1-[a-z0-9]{4}	2009-03-04	1\$" \
    "$(app_sql "SELECT u.role, u.status, u.login, u.birth_date, u.national_id_hmac = s.national_id_hmac FROM students s JOIN users u ON u.id = s.user_id WHERE s.student_no = '$NO1' AND s.school_id = $school_id")"
check_eq "one letter for them" 1 "$(app_sql "SELECT letters FROM letter_batches WHERE public_id = '$batch' AND school_id = $school_id")"
check_match "record.create is audited for student:$NO1 without the ID" \
    "^student:$NO1	success	\\{\"kind\":\"student\",\"id_kind\":\"national\",\"class\":\"114 101 一年一班\",\"status\":\"enrolled\",\"account\":\"$NO1-[a-z0-9]{4}\",\"letter_batch\":\"$batch\"\\}\$" \
    "$(last_audit record.create "$A1")"
check_match "a resident certificate number is accepted (峯)" "^303 $BASE/admin/letters/" \
    "$(form a1 /admin/students "student_no=$NO2" "student_name=陳峯" "national_id=$(printf '%s' "$ID2" | tr A-Z a-z)" \
        birth_date=2008-12-31 "class=$C2" seat=7 status=enrolled)"
check_eq "stored exactly, as a resident number" "陳峯	resident" \
    "$(app_sql "SELECT name, id_kind FROM students WHERE school_id = $school_id AND student_no = '$NO2'")"
BAD=$(twid_bad "$(twid C 1)")
ALL_IDS+=("$BAD")
check_eq "a wrong check digit is 422" "422 " \
    "$(form a1 /admin/students "student_no=${RANDOM}9" "student_name=錯號" "national_id=$BAD" birth_date=2009-01-01 status=enrolled)"
check_match "with its message at the field" 'id="national_id-error">身分證統一編號或居留證統一證號的檢查碼不正確' "$(form_body)"
check_match "the field marked invalid" 'id="national_id"[^>]*aria-invalid="true"' "$(form_body)"
check_nomatch "the number typed is not written back" "$BAD" "$(form_body)"
check_match "the other fields are" 'value="錯號"' "$(form_body)"
check_eq "a number that is taken is 422" "422 " \
    "$(form a1 /admin/students "student_no=$NO1" "student_name=重號" "national_id=$ID3" birth_date=2009-01-01 status=enrolled)"
check_match "with its message" 'id="student_no-error">本校已經有學生使用這個學號' "$(form_body)"
check_eq "an ID that is taken is 422" "422 " \
    "$(form a1 /admin/students "student_no=${RANDOM}8" "student_name=重證" "national_id=$ID1" birth_date=2009-01-01 status=enrolled)"
check_match "with its message" 'id="national_id-error">本校已經有學生使用這個身分證統一編號或居留證號' "$(form_body)"
check_eq "a birth date in the future is 422" "422 " \
    "$(form a1 /admin/students "student_no=${RANDOM}7" "student_name=未來" "national_id=$ID3" birth_date=2099-01-01 status=enrolled)"
check_match "with its message" 'id="birth_date-error">出生日期必須在' "$(form_body)"
check_eq "a class of nobody's is 422" "422 " \
    "$(form a1 /admin/students "student_no=${RANDOM}6" "student_name=無班" "national_id=$ID3" birth_date=2009-01-01 "class=$(new_public_id)" status=enrolled)"
check_eq "no student was stored by the refused forms" 2 \
    "$(app_sql "SELECT COUNT(*) FROM students WHERE school_id = $school_id")"
S1=$(app_sql "SELECT public_id FROM students WHERE school_id = $school_id AND student_no = '$NO1'")
S2=$(app_sql "SELECT public_id FROM students WHERE school_id = $school_id AND student_no = '$NO2'")

# ------------------------------------------------------------ the list

# 51 more students, so the list has two pages.
page_of a1 /admin/students/new
made=0
for i in $(seq 10 60); do
	id=$(twid P 2)
	ALL_IDS+=("$id")
	out=$(form a1 /admin/students "student_no=${B}1$i" "student_name=測試生$i" "national_id=$id" \
	    birth_date=2009-05-0$((i % 9 + 1)) "class=$C2" status=enrolled)
	[[ $out == "303 "* ]] && made=$((made + 1))
done
check_eq "51 more students are added" 51 "$made"
list=$(req a1 "$BASE/admin/students")
check_match "the list is zh-TW with its total" '<p id="list-total">共 53 位學生符合。</p>' "$list"
check_eq "page 1 has 50 rows" 50 "$(printf '%s' "$list" | grep -c '<th scope="row"><a href="/admin/students/')"
check_match "and a link to the next page" 'href="/admin/students\?page&#61;2" rel="next"' "$list"
list2=$(req a1 "$BASE/admin/students?page=2")
check_eq "page 2 has the other 3" 3 "$(printf '%s' "$list2" | grep -c '<th scope="row"><a href="/admin/students/')"
check_match "names are masked in the list (林○)" "<a href=\"/admin/students/$S1\">$NO1</a></th>
<td>林○</td>" "$list"
check_match "national IDs are masked (A12*****89 form)" "<td class=\"masked-id\">${ID1:0:3}\\*\\*\\*\\*\\*${ID1:8:2}</td>" "$list"
check_nomatch "the full name is not in the list" '林堃|陳峯' "$list$list2"
q1=$(req a1 "$BASE/admin/students?q=%E5%A0%83")
check_match "a search by name (堃) finds the student" "<a href=\"/admin/students/$S1\">" "$q1"
check_match "and only them" '共 1 位學生符合' "$q1"
q2=$(req a1 "$BASE/admin/students?q=$NO2")
check_match "a search by number finds the student" "<a href=\"/admin/students/$S2\">" "$q2"
q3=$(req a1 "$BASE/admin/students?class=$C1")
check_match "the class filter" '共 1 位學生符合' "$q3"
q4=$(req a1 "$BASE/admin/students?q=${B}1&page=2")
check_match "search and pagination keep each other" "href=\"/admin/students\\?q&#61;${B}1&amp;page&#61;1\" rel=\"prev\"" "$q4"
check_eq "a bad filter is 422" 422 "$(http_status "/admin/students?status=expelled" -b "$tmp/a1.jar")"
check_eq "an undeclared parameter is 422" 422 "$(http_status "/admin/students?sort=name" -b "$tmp/a1.jar")"
leaked=""
for id in "${ALL_IDS[@]}"; do
	if printf '%s' "$list$list2$q1$q2$q3$q4" | grep -qi "$id"; then leaked+=" $id"; fi
done
check_eq "no list page holds a full national ID" "" "$leaked"

# ------------------------------------------------------------ a student's page

views=$(n_audit personal_data.view "$A1")
page_of a1 "/admin/students/$S1"
check_match "the student's page shows the full name" '<td id="student-name">林堃</td>' "$PAGE"
check_match "the masked ID" "<td id=\"masked-id\">${ID1:0:3}\\*\\*\\*\\*\\*${ID1:8:2} \\(國民身分證統一編號\\)</td>" "$PAGE"
check_match "the login" "<td id=\"student-login\">$NO1-[a-z0-9]{4}</td>" "$PAGE"
check_nomatch "never the full ID" "$ID1" "$PAGE"
check_eq "the view is audited" $((views + 1)) "$(n_audit personal_data.view "$A1")"
check_match "as personal_data.view of student:$NO1, with what was shown" \
    "^student:$NO1	success	\\{\"page\":\"student\",\"fields\":\\[\"name\",\"national_id_masked\"" \
    "$(last_audit personal_data.view "$A1")"

# edit: name, seat and a new ID
check_eq "the student is edited with a new ID" "303 $BASE/admin/students/$S1?done=updated" \
    "$(form a1 "/admin/students/$S1" "student_no=$NO1" "student_name=林堃明" "national_id=$ID_NEW" \
        birth_date=2009-03-04 "class=$C1" seat=2)"
check_eq "the name and seat are stored" "林堃明	2" \
    "$(app_sql "SELECT name, seat_no FROM students WHERE public_id = '$S1'")"
check_eq "the account's name and ID HMAC follow" "林堃明	1" \
    "$(app_sql "SELECT u.name, u.national_id_hmac = s.national_id_hmac FROM students s JOIN users u ON u.id = s.user_id WHERE s.public_id = '$S1'")"
check_match "record.update is audited with the fields changed, never values" \
    "^student:$NO1	success	\\{\"kind\":\"student\",\"fields\":\\[\"name\",\"national_id\",\"seat_no\"\\]\\}\$" \
    "$(last_audit record.update "$A1")"
page_of a1 "/admin/students/$S1"
check_match "the page masks the new ID" "${ID_NEW:0:3}\\*\\*\\*\\*\\*${ID_NEW:8:2}" "$PAGE"
check_eq "an edit to another student's number is 422" "422 " \
    "$(form a1 "/admin/students/$S1" "student_no=$NO2" "student_name=林堃明" birth_date=2009-03-04)"
check_match "with its message" 'id="student_no-error">本校已經有學生使用這個學號' "$(form_body)"
check_eq "an edit to another student's ID is 422" "422 " \
    "$(form a1 "/admin/students/$S1" "student_no=$NO1" "student_name=林堃明" "national_id=$ID2" birth_date=2009-03-04)"
check_nomatch "and that ID is not written back" "$ID2" "$(form_body)"
check_eq "an edit with a wrong check digit is 422" "422 " \
    "$(form a1 "/admin/students/$S1" "student_no=$NO1" "student_name=林堃明" "national_id=$(twid_bad "$ID_NEW")" birth_date=2009-03-04)"
check_eq "the refused edits changed nothing" "$NO1	林堃明" \
    "$(app_sql "SELECT student_no, name FROM students WHERE public_id = '$S1'")"

# status
before=$(app_sql "SELECT status_changed_at FROM students WHERE public_id = '$S2'")
page_of a1 "/admin/students/$S2"
check_eq "the status changes to graduated" "303 $BASE/admin/students/$S2?done=status" \
    "$(form a1 "/admin/students/$S2/status" status=graduated)"
check_eq "it is stored with the time of the change" "graduated	1" \
    "$(app_sql "SELECT status, status_changed_at > '$before' FROM students WHERE public_id = '$S2'")"
check_eq "student.status is audited" "student:$NO2	success	{\"from\":\"enrolled\",\"to\":\"graduated\"}" \
    "$(last_audit student.status "$A1")"
n=$(n_audit student.status "$A1")
check_eq "the same status again changes nothing" "303 $BASE/admin/students/$S2?done=status_same" \
    "$(form a1 "/admin/students/$S2/status" status=graduated)"
check_eq "and audits nothing" "$n" "$(n_audit student.status "$A1")"
check_eq "an unknown status is 422" "422 " "$(form a1 "/admin/students/$S2/status" status=expelled)"
check_match "graduated shows in the list filter" '共 1 位學生符合' "$(req a1 "$BASE/admin/students?status=graduated")"

# the identity page
page_of a1 "/admin/students/$S1"
views=$(n_audit personal_data.view "$A1")
check_eq "the identity page without a reason is 422" "422 " "$(form a1 "/admin/students/$S1/identity")"
check_match "with the field's message" 'id="reason-error">此欄位必填' "$(form_body)"
check_nomatch "and no ID" "$ID_NEW" "$(form_body)"
check_eq "a reason of 4 characters is 422" "422 " "$(form a1 "/admin/students/$S1/identity" "reason=核對資料")"
check_match "as too short" 'id="reason-error">內容太短' "$(form_body)"
hdr=$(req a1 -D - -o "$tmp/identity.body" --data-urlencode "reason=核對大學報名資料" \
    --data-urlencode "csrf=$TOKEN" "$BASE/admin/students/$S1/identity" | tr -d '\r')
check_match "with a reason the page answers 200" '^HTTP/[0-9.]+ 200' "$hdr"
check_match "and Cache-Control: no-store" '^[Cc]ache-[Cc]ontrol: no-store' "$hdr"
check_match "it shows the full ID" "<strong id=\"national-id\">$ID_NEW</strong>" "$(cat "$tmp/identity.body")"
check_match "it is audited with the reason" \
    "^student:$NO1	success	\\{\"field\":\"national_id\",\"reason\":\"核對大學報名資料\"\\}\$" \
    "$(last_audit personal_data.view "$A1")"

# ------------------------------------------------------------ courses

page_of a1 "/admin/courses/new?term=$T1"
check_match "the new-course form preselects the term" "<option value=\"$T1\" selected>114-1</option>" "$PAGE"
out=$(form a1 /admin/courses "term=$T1" code=MATH101 "course_name=數學（一）" credits=4 "teachers=$TP1" "teachers=$TP2")
check_match "a course with two teachers is created" "^303 $BASE/admin/courses/[A-Za-z0-9_-]{22}\\?done=created\$" "$out"
K1=$(app_sql "SELECT public_id FROM courses WHERE school_id = $school_id AND code = 'MATH101'")
check_eq "with its teachers" 2 \
    "$(app_sql "SELECT COUNT(*) FROM course_teachers ct JOIN courses c ON c.id = ct.course_id WHERE c.public_id = '$K1'")"
check_eq "record.create is audited for course:114-1:MATH101" \
    "course:114-1:MATH101	success	{\"kind\":\"course\",\"name\":\"數學（一）\",\"credits\":4,\"teachers\":[\"$TL1\",\"$TL2\"]}" \
    "$(last_audit record.create "$A1")"
check_eq "the same code in the term is 422" "422 " \
    "$(form a1 /admin/courses "term=$T1" code=math101 "course_name=重複" credits=1)"
check_match "with its message" 'id="code-error">這個學期已經有相同代碼的課程' "$(form_body)"
check_eq "31 credits is 422" "422 " "$(form a1 /admin/courses "term=$T1" code=PE1 "course_name=體育" credits=31)"
check_match "with the range message" 'id="credits-error">數值超出允許的範圍' "$(form_body)"
check_eq "an unknown teacher is 422" "422 " \
    "$(form a1 /admin/courses "term=$T1" code=PE1 "course_name=體育" credits=1 "teachers=$(new_public_id)")"
check_eq "an unknown term is 422" "422 " \
    "$(form a1 /admin/courses "term=$(new_public_id)" code=PE1 "course_name=體育" credits=1)"
check_eq "the same code in another term is fine" "303" \
    "$(form a1 /admin/courses "term=$T2" code=MATH101 "course_name=數學（二）" credits=4 | cut -d' ' -f1)"
check_eq "nothing else was stored" 2 "$(app_sql "SELECT COUNT(*) FROM courses WHERE school_id = $school_id")"
clist=$(req a1 "$BASE/admin/courses?term=$T1")
check_match "the term's list shows the course with its teachers" "<a href=\"/admin/courses/$K1\">MATH101</a></th>
<td>數學（一）</td>
<td>4</td>
<td>林美華、王大明</td>" "$clist"
check_match "a search by name finds it" "/admin/courses/$K1" "$(req a1 "$BASE/admin/courses?term=$T1&q=%E6%95%B8%E5%AD%B8")"
check_match "a search for something else does not" '共 0 門課程' "$(req a1 "$BASE/admin/courses?term=$T1&q=PHYS")"

# enrolments
page_of a1 "/admin/courses/$K1"
check_eq "a student is enrolled by number" "303 $BASE/admin/courses/$K1?done=enrolled#roster" \
    "$(form a1 "/admin/courses/$K1/enrol" "student_no=$NO1")"
check_eq "enrolment.add is audited" "enrolment:114-1:MATH101:$NO1	success	" "$(last_audit enrolment.add "$A1")"
check_eq "enrolling them again is 422" "422 " "$(form a1 "/admin/courses/$K1/enrol" "student_no=$NO1")"
check_match "with its message" 'id="student_no-error">這位學生已經在這門課的修課名單中' "$(form_body)"
check_eq "an unknown number is 422" "422 " "$(form a1 "/admin/courses/$K1/enrol" "student_no=${RANDOM}99")"
check_match "with its message" 'id="student_no-error">本校沒有這個學號的學生' "$(form_body)"
check_eq "a graduated student is 422" "422 " "$(form a1 "/admin/courses/$K1/enrol" "student_no=$NO2")"
check_eq "a second student is enrolled" "303" \
    "$(form a1 "/admin/courses/$K1/enrol" "student_no=${B}110" | cut -d' ' -f1)"
views=$(n_audit personal_data.view "$A1")
page_of a1 "/admin/courses/$K1"
check_match "the roster shows number, full name and class" "<a href=\"/admin/students/$S1\">$NO1</a></th>
<td>林堃明</td>
<td>101 一年一班</td>" "$PAGE"
check_eq "the roster view is audited" "course:114-1:MATH101	success	{\"page\":\"course_roster\",\"students\":2}" \
    "$(last_audit personal_data.view "$A1")"
check_match "the student's page lists the course under its term" "<caption>114-1</caption>" \
    "$(req a1 "$BASE/admin/students/$S1")"
E1=$(app_sql "SELECT e.public_id FROM enrolments e JOIN students s ON s.id = e.student_id WHERE s.public_id = '$S1'")
page_of a1 "/admin/courses/$K1"
check_eq "the student is unenrolled" "303 $BASE/admin/courses/$K1?done=unenrolled#roster" \
    "$(form a1 "/admin/courses/$K1/unenrol" "enrolment=$E1")"
check_eq "the enrolment is gone" 0 "$(app_sql "SELECT COUNT(*) FROM enrolments WHERE public_id = '$E1'")"
check_eq "enrolment.remove is audited" "enrolment:114-1:MATH101:$NO1	success	" "$(last_audit enrolment.remove "$A1")"
check_eq "unenrolling again is 404" "404 " "$(form a1 "/admin/courses/$K1/unenrol" "enrolment=$E1")"

# course edit
check_eq "the course is edited: credits and one teacher" "303 $BASE/admin/courses/$K1?done=updated" \
    "$(form a1 "/admin/courses/$K1" code=MATH101 "course_name=數學（一）" credits=3 "teachers=$TP1")"
check_eq "and stored" "3	$TL1" \
    "$(app_sql "SELECT c.credits, u.login FROM courses c JOIN course_teachers ct ON ct.course_id = c.id JOIN teachers t ON t.id = ct.teacher_id JOIN users u ON u.id = t.user_id WHERE c.public_id = '$K1'")"
check_eq "record.update is audited" \
    "course:114-1:MATH101	success	{\"kind\":\"course\",\"name\":\"數學（一）\",\"credits\":3,\"teachers\":[\"$TL1\"]}" \
    "$(last_audit record.update "$A1")"

# ------------------------------------------------------------ a teacher's page

page_of a1 "/admin/teachers/$TP1"
check_match "the teacher's page lists their course" "<a href=\"/admin/courses/$K1\">MATH101</a>" "$PAGE"
check_match "and their homeroom class" "<a href=\"/admin/classes/$C1\">114 學年度 101 一年一班</a>" "$PAGE"
check_eq "the teacher leaves" "303 $BASE/admin/teachers/$TP1?done=updated" \
    "$(form a1 "/admin/teachers/$TP1" "teacher_name=王大明" staff_no=T001 status=left)"
check_eq "record.update is audited" \
    "teacher:$TL1	success	{\"kind\":\"teacher\",\"name\":\"王大明\",\"staff_no\":\"T001\",\"status\":\"left\"}" \
    "$(last_audit record.update "$A1")"
check_eq "their course keeps them (history)" 1 \
    "$(app_sql "SELECT COUNT(*) FROM course_teachers ct JOIN courses c ON c.id = ct.course_id WHERE c.public_id = '$K1'")"
check_nomatch "a teacher who left is not offered as a homeroom teacher of another class" "$TP1" \
    "$(req a1 "$BASE/admin/classes/$C2")"
check_match "but stays chosen where they were" "<option value=\"$TP1\" selected>" "$(req a1 "$BASE/admin/classes/$C1")"
page_of a1 "/admin/courses/$K1"
check_eq "the course can still be saved with them" "303" \
    "$(form a1 "/admin/courses/$K1" code=MATH101 "course_name=數學（一）" credits=3 "teachers=$TP1" | cut -d' ' -f1)"
check_eq "a new course cannot get them" "422 " \
    "$(form a1 /admin/courses "term=$T1" code=ART1 "course_name=美術" credits=1 "teachers=$TP1")"
tlist=$(req a1 "$BASE/admin/teachers?status=left")
check_match "the teachers list filters by status" "<a href=\"/admin/teachers/$TP1\">$TL1</a>" "$tlist"
check_nomatch "and shows only those" "$TL2" "$tlist"
check_match "search by name" "$TL2" "$(req a1 "$BASE/admin/teachers?q=%E7%BE%8E%E8%8F%AF")"
check_eq "the staff number is changed, and another's is refused" "422 " \
    "$(form a1 "/admin/teachers/$TP2" "teacher_name=林美華" staff_no=T001 status=active)"

# ------------------------------------------------------------ English

req a1 -o /dev/null "$BASE/lang/en"
page=$(req a1 "$BASE/admin/students")
check_match "the students page in English" '<h1 id="students-title">Students</h1>' "$page"
check_match "with its total" '53 students match' "$page"
check_match "the terms page in English" '<h1 id="terms-title">Terms</h1>' "$(req a1 "$BASE/admin/terms")"
req a1 -o /dev/null "$BASE/lang/zh-TW"

# ------------------------------------------------------------ no ID anywhere else

leaked=""
rows=$(audit_sql "SELECT CONCAT(COALESCE(target, ''), ' ', COALESCE(detail, '')) FROM audit_log WHERE school = '$sa'")
for id in "${ALL_IDS[@]}"; do
	if printf '%s' "$rows" | grep -qi "$id"; then leaked+=" audit:$id"; fi
	if grep -rqi "$id" "$LICHENG_RUN/log" 2>/dev/null; then leaked+=" log:$id"; fi
done
check_eq "no national ID in the audit rows or the stack's logs" "" "$leaked"
check "the audit chain is whole" sh -c "'$LICHENG_BIN/licheng' -c '$LICHENG_CONF' audit verify 2>&1 | grep -q 'chain intact'"
