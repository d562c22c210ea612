# records_scope: the records pages answer only the admin's own school. An
# admin of school B gets 404 — never 403 — for school A's term, class,
# teacher, student and course pages and for every POST on them, exactly as
# for ids that do not exist, and nothing of school A changes; B's forms
# cannot reach A's rows through a select either. Teachers, students and
# central staff get 403 on every /admin records page.
. "$(dirname "$0")/lib.sh"

RUNID="rs$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/records_helpers.bash"

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "範圍甲高中"
check "school B is added" L school add --code "$sb" --name "範圍乙高中"
check "admin a1 of school A signs in" signin_as a1 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
check "teacher t1 of school A signs in" signin_as t1 teacher "$sa"
check "student s1 of school A signs in" signin_as s1 student "$sa"
check "central staff c1 signs in" signin_as c1 central_staff
A1=$(login_of a1) B1=$(login_of b1)
ida=$(app_sql "SELECT id FROM schools WHERE code = '$sa'")

# ------------------------------------------------------------ school A's rows

page_of a1 /admin/terms
check_eq "A adds a term" 303 "$(form a1 /admin/terms year=114 semester=1 starts_on=2025-08-01 ends_on=2026-01-20 | cut -d' ' -f1)"
T=$(app_sql "SELECT public_id FROM terms WHERE school_id = $ida")
check_eq "A adds a class" 303 "$(form a1 /admin/classes new_year=114 code=301 "class_name=三年一班" grade=3 | cut -d' ' -f1)"
C=$(app_sql "SELECT public_id FROM classes WHERE school_id = $ida")
TL="${RUNID}-teach"
check_eq "A adds a teacher" 303 "$(form a1 /admin/teachers "login=$TL" "teacher_name=張老師" | cut -d' ' -f1)"
TP=$(app_sql "SELECT t.public_id FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$TL'")
NO="$((RANDOM % 900 + 100))555" IDA=$(twid H 2)
check_eq "A adds a student" 303 \
    "$(form a1 /admin/students "student_no=$NO" "student_name=張堃" "national_id=$IDA" birth_date=2007-07-07 "class=$C" status=enrolled | cut -d' ' -f1)"
S=$(app_sql "SELECT public_id FROM students WHERE school_id = $ida")
check_eq "A adds a course" 303 \
    "$(form a1 /admin/courses "term=$T" code=HIS3 "course_name=歷史" credits=2 "teachers=$TP" | cut -d' ' -f1)"
K=$(app_sql "SELECT public_id FROM courses WHERE school_id = $ida")
check_eq "A enrols the student" 303 "$(form a1 "/admin/courses/$K/enrol" "student_no=$NO" | cut -d' ' -f1)"
E=$(app_sql "SELECT public_id FROM enrolments WHERE school_id = $ida")

# Everything of school A that a POST could change, as one fingerprint.
fingerprint() {
	app_sql "SELECT MD5(CONCAT_WS('|',
	    (SELECT GROUP_CONCAT(CONCAT_WS(',', public_id, year, semester, starts_on, ends_on, updated_at) ORDER BY id) FROM terms WHERE school_id = $ida),
	    (SELECT GROUP_CONCAT(CONCAT_WS(',', public_id, code, name, grade, COALESCE(homeroom_teacher_id, 0), updated_at) ORDER BY id) FROM classes WHERE school_id = $ida),
	    (SELECT GROUP_CONCAT(CONCAT_WS(',', public_id, COALESCE(staff_no, ''), status, updated_at) ORDER BY id) FROM teachers WHERE school_id = $ida),
	    (SELECT GROUP_CONCAT(CONCAT_WS(',', public_id, student_no, name, national_id_hmac, HEX(national_id_sealed), birth_date, COALESCE(class_id, 0), COALESCE(seat_no, 0), status, status_changed_at, updated_at) ORDER BY id) FROM students WHERE school_id = $ida),
	    (SELECT GROUP_CONCAT(CONCAT_WS(',', public_id, code, name, credits, updated_at) ORDER BY id) FROM courses WHERE school_id = $ida),
	    (SELECT GROUP_CONCAT(CONCAT_WS(',', ct.course_id, ct.teacher_id) ORDER BY ct.course_id, ct.teacher_id) FROM course_teachers ct JOIN courses c ON c.id = ct.course_id WHERE c.school_id = $ida),
	    (SELECT GROUP_CONCAT(public_id ORDER BY id) FROM enrolments WHERE school_id = $ida),
	    (SELECT GROUP_CONCAT(CONCAT_WS(',', login, name, status, COALESCE(birth_date, ''), COALESCE(national_id_hmac, ''), updated_at) ORDER BY id) FROM users WHERE school_id = $ida)))"
}
before=$(fingerprint)

# ------------------------------------------------------------ B asks for A's pages

page_of b1 /admin/students
denied=$(n_audit access.denied "$B1")
for p in "/admin/terms/$T" "/admin/classes/$C" "/admin/students/$S" "/admin/teachers/$TP" "/admin/courses/$K"; do
	check_eq "B gets 404 for GET $p" 404 "$(http_status "$p" -b "$tmp/b1.jar")"
done
check_eq "each is audited as access.denied" $((denied + 5)) "$(n_audit access.denied "$B1")"
check_match "with the reason not_found" '^admin_course	denied	\{"reason":"not_found"' "$(last_audit access.denied "$B1")"

post_status() { req b1 -o /dev/null -w '%{http_code}' "${@:2}" --data-urlencode "csrf=$TOKEN" "$BASE$1"; }
views=$(n_audit personal_data.view "$B1")
check_eq "B gets 404 for POST on A's term" 404 \
    "$(post_status "/admin/terms/$T" -d starts_on=2025-08-02 -d ends_on=2026-01-21)"
check_eq "B gets 404 for POST on A's class" 404 \
    "$(post_status "/admin/classes/$C" -d code=999 -d class_name=x -d grade=1)"
check_eq "B gets 404 for POST on A's student" 404 \
    "$(post_status "/admin/students/$S" -d student_no=1 -d student_name=x -d birth_date=2007-01-01)"
check_eq "B gets 404 for POST on A's student's status" 404 \
    "$(post_status "/admin/students/$S/status" -d status=left)"
check_eq "B gets 404 for POST on A's student's identity" 404 \
    "$(post_status "/admin/students/$S/identity" --data-urlencode "reason=只是想看看而已")"
check_eq "B gets 404 for POST on A's teacher" 404 \
    "$(post_status "/admin/teachers/$TP" -d teacher_name=x -d status=left)"
check_eq "B gets 404 for POST on A's course" 404 \
    "$(post_status "/admin/courses/$K" -d code=X -d course_name=x -d credits=1)"
check_eq "B gets 404 for enrolling into A's course" 404 \
    "$(post_status "/admin/courses/$K/enrol" -d "student_no=$NO")"
check_eq "B gets 404 for unenrolling from A's course" 404 \
    "$(post_status "/admin/courses/$K/unenrol" -d "enrolment=$E")"
check_eq "an invalid form on A's row is 404 too (the row is looked up first)" 404 \
    "$(post_status "/admin/students/$S/status" -d status=nonsense)"
check_eq "nothing of school A changed" "$before" "$(fingerprint)"
check_eq "B saw no personal data (no personal_data.view)" "$views" "$(n_audit personal_data.view "$B1")"

# ------------------------------------------------------------ guessed ids

same=1
body_a=$(req b1 "$BASE/admin/students/$S")
for p in terms classes students teachers courses; do
	g=$(new_public_id)
	check_eq "a random $p id gets 404 on GET" 404 "$(http_status "/admin/$p/$g" -b "$tmp/b1.jar")"
	check_eq "and on POST" 404 "$(post_status "/admin/$p/$g" -d x=1)"
	[ "$p" = students ] && [ "$(req b1 "$BASE/admin/students/$g")" != "$body_a" ] && same=0
done
check_eq "another school's student and a missing one get the same page" 1 "$same"
g=$(new_public_id)
for p in "students/$g/status" "students/$g/identity" "courses/$g/enrol" "courses/$g/unenrol"; do
	check_eq "a random id gets 404 on POST /admin/$p" 404 "$(post_status "/admin/$p" -d x=1)"
done
check_eq "a malformed id gets 404" 404 "$(http_status "/admin/students/not-an-id" -b "$tmp/b1.jar")"
page_of a1 "/admin/courses/$K"
check_eq "A's own unenrol of a random enrolment id is 404" 404 \
    "$(req a1 -o /dev/null -w '%{http_code}' --data-urlencode "enrolment=$(new_public_id)" --data-urlencode "csrf=$TOKEN" "$BASE/admin/courses/$K/unenrol")"

# ------------------------------------------------------------ B's forms and lists

page_of b1 /admin/students
check_nomatch "B's list does not show A's student" "$S|$NO" "$PAGE"
check_match "B's list is empty" '共 0 位學生符合' "$PAGE"
check_match "filtering B's list by A's class shows nothing" '共 0 位學生符合' "$(req b1 "$BASE/admin/students?class=$C")"
check_nomatch "B's class choices do not offer A's class" "$C" "$PAGE"
check_nomatch "B's teachers list does not show A's teacher" "$TL" "$(req b1 "$BASE/admin/teachers")"
page_of b1 /admin/terms
check_eq "B adds its own term" 303 "$(form b1 /admin/terms year=114 semester=1 starts_on=2025-08-01 ends_on=2026-01-20 | cut -d' ' -f1)"
TB=$(app_sql "SELECT t.public_id FROM terms t JOIN schools s ON s.id = t.school_id WHERE s.code = '$sb'")
out=$(req b1 -w '\n%{http_code}' "$BASE/admin/courses?term=$T")
check_eq "B's course list for A's term is 422" 422 "$(printf '%s' "$out" | tail -n 1)"
check_match "with the term field's message" 'id="term-error">請從清單中選擇本校的學期' "$out"
check_nomatch "and nothing of A's course" "HIS3|$K" "$out"
page_of b1 /admin/courses
check_nomatch "B's term choices do not offer A's term" "$T" "$PAGE"
page_of b1 /admin/students/new
check_eq "B cannot put a student into A's class" "422 " \
    "$(form b1 /admin/students "student_no=$NO" "student_name=乙生" "national_id=$(twid J 1)" birth_date=2007-01-01 "class=$C" status=enrolled)"
check_match "it is an unknown class to B" 'id="class-error">請從清單中選擇本校的班級' "$(form_body)"
check_eq "B cannot add a course to A's term" "422 " \
    "$(form b1 /admin/courses "term=$T" code=HIS3 "course_name=x" credits=1)"
check_eq "B cannot give its course A's teacher" "422 " \
    "$(form b1 /admin/courses "term=$TB" code=HIS3 "course_name=x" credits=1 "teachers=$TP")"
check_eq "B adds the course without" 303 "$(form b1 /admin/courses "term=$TB" code=HIS3 "course_name=x" credits=1 | cut -d' ' -f1)"
KB=$(app_sql "SELECT c.public_id FROM courses c JOIN schools s ON s.id = c.school_id WHERE s.code = '$sb'")
page_of b1 "/admin/courses/$KB"
check_eq "B cannot enrol A's student by number" "422 " "$(form b1 "/admin/courses/$KB/enrol" "student_no=$NO")"
check_match "it is an unknown number to B" 'id="student_no-error">本校沒有這個學號的學生' "$(form_body)"
check_eq "B cannot unenrol A's enrolment through its own course" 404 \
    "$(req b1 -o /dev/null -w '%{http_code}' --data-urlencode "enrolment=$E" --data-urlencode "csrf=$TOKEN" "$BASE/admin/courses/$KB/unenrol")"
page_of b1 /admin/classes
check_eq "B adds a class" 303 "$(form b1 /admin/classes new_year=114 code=301 "class_name=三年一班" grade=3 | cut -d' ' -f1)"
CB=$(app_sql "SELECT c.public_id FROM classes c JOIN schools s ON s.id = c.school_id WHERE s.code = '$sb'")
page_of b1 "/admin/classes/$CB"
check_nomatch "B's homeroom choices do not offer A's teacher" "$TP" "$PAGE"
check_eq "B cannot make A's teacher its homeroom teacher" "422 " \
    "$(form b1 "/admin/classes/$CB" code=301 "class_name=三年一班" grade=3 "homeroom=$TP")"
check_eq "the same student number and ID are fine in another school" 303 \
    "$(page_of b1 /admin/students/new; form b1 /admin/students "student_no=$NO" "student_name=乙生" "national_id=$IDA" birth_date=2007-01-01 status=enrolled | cut -d' ' -f1)"
check_eq "and school A is still unchanged" "$before" "$(fingerprint)"

# ------------------------------------------------------------ other roles

routes="/admin/terms /admin/terms/$T /admin/classes /admin/classes/$C /admin/students /admin/students/new
/admin/students/$S /admin/teachers /admin/teachers/new /admin/teachers/$TP /admin/courses /admin/courses/new
/admin/courses/$K"
posts="/admin/terms /admin/terms/$T /admin/classes /admin/classes/$C /admin/students /admin/students/$S
/admin/students/$S/status /admin/students/$S/identity /admin/teachers /admin/teachers/$TP /admin/courses
/admin/courses/$K /admin/courses/$K/enrol /admin/courses/$K/unenrol"
for who in t1 s1 c1; do
	bad=""
	for p in $routes; do
		s=$(http_status "$p" -b "$tmp/$who.jar")
		[ "$s" = 403 ] || bad+=" GET $p:$s"
	done
	token=$(csrf "$who" /account)
	for p in $posts; do
		s=$(req "$who" -o /dev/null -w '%{http_code}' -d x=1 --data-urlencode "csrf=$token" "$BASE$p")
		[ "$s" = 403 ] || bad+=" POST $p:$s"
	done
	check_eq "$who gets 403 on every records page and POST" "" "$bad"
done
check_match "the refusal is audited with the role" '^admin_courses?_?[a-z]*	denied	\{"reason":"role"' \
    "$(last_audit access.denied "$(login_of c1)")"
check_eq "school A is unchanged by them too" "$before" "$(fingerprint)"
