# myrecords: what teachers and students see of the records, through the
# real stack — a teacher lists their courses term by term and each roster
# (numbers, names, class, seat; no national ID, no birth date), every roster
# view audited; another teacher's course, another school's and an unknown
# one are all 404; a student sees their own basic data with the national ID
# masked and their course records per term, and nobody else's; students get
# 403 on the teachers' pages and teachers on the students'.
. "$(dirname "$0")/lib.sh"

RUNID="mr$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

# status NAME PATH: the HTTP status of NAME's GET of PATH.
status() { req "$1" -o /dev/null -w '%{http_code}' "$BASE$2"; }

# twid_sealed PUBLIC_ID ID: the ID sealed as lib/pii.c seals it —
# AES-256-GCM under keys.data, aad "twid:<student public_id>", stored as
# nonce || ciphertext || tag — in hex (node's crypto; deploy/install-deps
# installs node for the browser tests).
DATA_KEY=$(conf_get data "$SECRETS_FILE")
LOOKUP_KEY=$(conf_get lookup "$SECRETS_FILE")
twid_sealed() {
	node -e '
	    const c = require("crypto");
	    const iv = c.randomBytes(12);
	    const ci = c.createCipheriv("aes-256-gcm", Buffer.from(process.argv[1], "hex"), iv);
	    ci.setAAD(Buffer.from("twid:" + process.argv[2]));
	    const ct = Buffer.concat([ci.update(process.argv[3], "latin1"), ci.final()]);
	    process.stdout.write(Buffer.concat([iv, ct, ci.getAuthTag()]).toString("hex"));
	' "$DATA_KEY" "$1" "$2"
}
twid_hmac() { printf '%s' "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$LOOKUP_KEY" | sed 's/^.*= *//'; }

# ------------------------------------------------------------ data

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "紀錄甲高中"
check "school B is added" L school add --code "$sb" --name "紀錄乙高中"
check "teacher ta of school A signs in" signin_as ta teacher "$sa"
check "teacher tb of school A signs in" signin_as tb teacher "$sa"
check "teacher tc of school B signs in" signin_as tc teacher "$sb"
check "student s1 of school A signs in" signin_as s1 student "$sa"
check "student sn of school A (no student record) signs in" signin_as sn student "$sa"
TA=$(login_of ta) TB=$(login_of tb) TC=$(login_of tc) S1=$(login_of s1) SN=$(login_of sn)

TWID=A123456789
P1=$(new_public_id) P2=$(new_public_id)
C1=$(new_public_id) C2=$(new_public_id) C3=$(new_public_id) C4=$(new_public_id) D1=$(new_public_id)
teacher_row() {
	printf "INSERT INTO teachers (public_id, school_id, user_id) SELECT '%s', school_id, id FROM users WHERE login = '%s';\n" \
	    "$(new_public_id)" "$1"
}
course() { # PUBLIC_ID SCHOOL_VAR TERM_VAR CODE NAME CREDITS
	printf "INSERT INTO courses (public_id, school_id, term_id, code, name, credits) VALUES ('%s', %s, %s, '%s', '%s', %s);\n" "$@"
}
teaches() { # COURSE_PUBLIC_ID TEACHER_LOGIN
	printf "INSERT INTO course_teachers (course_id, teacher_id) SELECT c.id, t.id FROM courses c, teachers t JOIN users u ON u.id = t.user_id WHERE c.public_id = '%s' AND u.login = '%s';\n" "$1" "$2"
}
enrols() { # STUDENT_PUBLIC_ID COURSE_PUBLIC_ID
	printf "INSERT INTO enrolments (public_id, school_id, student_id, course_id) SELECT '%s', s.school_id, s.id, c.id FROM students s, courses c WHERE s.public_id = '%s' AND c.public_id = '%s';\n" \
	    "$(new_public_id)" "$1" "$2"
}
sql="SET @a = (SELECT id FROM schools WHERE code = '$sa');
SET @b = (SELECT id FROM schools WHERE code = '$sb');
INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on) VALUES
    ('$(new_public_id)', @a, 114, 1, '2025-08-01', '2026-01-20'),
    ('$(new_public_id)', @a, 113, 2, '2025-02-01', '2025-07-15'),
    ('$(new_public_id)', @b, 114, 1, '2025-08-01', '2026-01-20');
SET @a1141 = (SELECT id FROM terms WHERE school_id = @a AND year = 114);
SET @a1132 = (SELECT id FROM terms WHERE school_id = @a AND year = 113);
SET @b1141 = (SELECT id FROM terms WHERE school_id = @b);
INSERT INTO classes (public_id, school_id, year, code, name, grade) VALUES
    ('$(new_public_id)', @a, 114, '101', '一年一班', 1);
SET @c101 = LAST_INSERT_ID();
$(teacher_row "$TA")
$(teacher_row "$TB")
$(teacher_row "$TC")
INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind, national_id_hmac,
    national_id_sealed, birth_date, class_id, seat_no) SELECT '$P1', @a, id, '${RUNID}01', '陳小華',
    'national', '$(twid_hmac "$TWID")', UNHEX('$(twid_sealed "$P1" "$TWID")'), '2008-05-01', @c101, 7
    FROM users WHERE login = '$S1';
INSERT INTO students (public_id, school_id, student_no, name, id_kind, national_id_hmac,
    national_id_sealed, birth_date, class_id, seat_no) VALUES ('$P2', @a, '${RUNID}02', '王大明',
    'national', '$(openssl rand -hex 32)', UNHEX('$(openssl rand -hex 38)'), '2008-09-09', @c101, 8);
$(course "$C1" @a @a1141 MATH101 數學甲 4)
$(course "$C2" @a @a1141 PHYS101 物理 2)
$(course "$C3" @a @a1132 CHEM100 化學 3)
$(course "$C4" @a @a1141 ENG101 英文 4)
$(course "$D1" @b @b1141 MATH101 數學甲 4)
$(teaches "$C1" "$TA")
$(teaches "$C2" "$TA")
$(teaches "$C2" "$TB")
$(teaches "$C3" "$TA")
$(teaches "$C4" "$TB")
$(teaches "$D1" "$TC")
$(enrols "$P1" "$C1")
$(enrols "$P1" "$C3")
$(enrols "$P1" "$C4")
$(enrols "$P2" "$C1")"
check "the school's records are set up" app_sql "$sql"
check_eq "with 4 enrolments" 4 "$(app_sql "SELECT COUNT(*) FROM enrolments e JOIN schools s ON s.id = e.school_id WHERE s.code = '$sa'")"

# ------------------------------------------------------------ roles

check_eq "a student gets 403 on /teacher/courses" 403 "$(status s1 /teacher/courses)"
check_eq "and on a roster" 403 "$(status s1 "/teacher/courses/$C1")"
check_eq "a teacher gets 403 on /me/records" 403 "$(status ta /me/records)"
check_eq "signed out, /me/records leads to sign-in" "303 $BASE/login" \
    "$(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/me/records")"

# ------------------------------------------------------------ a teacher's courses

page=$(req ta "$BASE/teacher/courses")
check_match "ta's courses page is zh-TW" '<h1 id="courses-title">我的課程</h1>' "$page"
check_match "grouped by term, newest first" '<h2>學期 114-1</h2>.*<h2>學期 113-2</h2>' "$(printf '%s' "$page" | tr '\n' ' ')"
check_match "with ta's courses of 114-1" "href=\"/teacher/courses/$C1\">數學甲</a>" "$page"
check_match "the one ta shares with tb" "href=\"/teacher/courses/$C2\">物理</a>" "$page"
check_match "and of 113-2" "href=\"/teacher/courses/$C3\">化學</a>" "$page"
check_nomatch "not tb's own course" "$C4" "$page"
check_nomatch "nor school B's" "$D1" "$page"
check_match "with the number enrolled" "數學甲</a></td> <td>4</td> <td>2</td>" "$(printf '%s' "$page" | tr '\n' ' ')"
page=$(req tb "$BASE/teacher/courses")
check_match "tb sees the shared course" "$C2" "$page"
check_match "and their own" "href=\"/teacher/courses/$C4\">英文</a>" "$page"
check_nomatch "but not ta's" "$C1|$C3" "$page"

views=$(n_audit personal_data.view "$TA")
page=$(req ta "$BASE/teacher/courses/$C1")
check_match "ta opens the roster of MATH101" '<h1 id="course-title">數學甲 <small><code>MATH101</code></small></h1>' "$page"
check_match "it lists s1 with number, name, class and seat" \
    "<td>${RUNID}01</td> <td>陳小華</td> <td>一年一班</td> <td>7</td>" "$(printf '%s' "$page" | tr '\n' ' ')"
check_match "and the other student" "<td>${RUNID}02</td> <td>王大明</td>" "$(printf '%s' "$page" | tr '\n' ' ')"
check_match "with the count" '<dd id="roster-count">2</dd>' "$page"
check_match "and the course's teachers" "<span class=\"teacher\">測試ta</span>" "$page"
check_nomatch "no national ID, whole" "$TWID" "$page"
check_nomatch "nor masked" 'A12\*|\*\*\*\*\*' "$page"
check_nomatch "no birth date" '2008-05-01|2008-09-09' "$page"
check_nomatch "no inline script or style" '<script|style=' "$page"
check_eq "the view is audited once" $((views + 1)) "$(n_audit personal_data.view "$TA")"
check_eq "as personal_data.view of the course, with the number of students" \
    "course:114-1:MATH101	success	{\"students\":2}" "$(last_audit personal_data.view "$TA")"
check_match "the shared course's roster names both teachers" \
    '<span class="teacher">測試ta</span> <span class="teacher">測試tb</span>' "$(req ta "$BASE/teacher/courses/$C2")"
check_match "a course without students says so" '這門課目前沒有修課學生' "$(req tc "$BASE/teacher/courses/$D1")"

denied=$(n_audit access.denied "$TA")
check_eq "ta opening tb's course (same school) gets 404" 404 "$(status ta "/teacher/courses/$C4")"
check_eq "tc of school B opening ta's course gets 404" 404 "$(status tc "/teacher/courses/$C1")"
check_eq "ta opening school B's course gets 404" 404 "$(status ta "/teacher/courses/$D1")"
check_eq "an unknown course gets 404" 404 "$(status ta "/teacher/courses/$(new_public_id)")"
check_eq "a malformed id gets 404" 404 "$(status ta "/teacher/courses/1")"
check_eq "each of ta's four refusals is audited as access.denied" $((denied + 4)) "$(n_audit access.denied "$TA")"
check_match "with the reason not_found" '^teacher_course	denied	\{"reason":"not_found"' "$(last_audit access.denied "$TA")"
check_match "and school B's teacher's too" '^teacher_course	denied	\{"reason":"not_found"' "$(last_audit access.denied "$TC")"
check_eq "no roster view was recorded for the refusals" $((views + 2)) "$(n_audit personal_data.view "$TA")"

# ------------------------------------------------------------ a student's records

views=$(n_audit personal_data.view "$S1")
page=$(req s1 "$BASE/me/records")
flat=$(printf '%s' "$page" | tr '\n' ' ')
check_match "s1's records page is zh-TW" '<h1 id="records-title">我的修課紀錄</h1>' "$page"
check_match "with s1's name and number" "<dt>姓名</dt><dd>陳小華</dd> <dt>學號</dt><dd>${RUNID}01</dd>" "$flat"
check_match "class and seat" '<dt>班級</dt><dd>一年一班</dd> <dt>座號</dt><dd>7</dd>' "$flat"
check_match "birth date and status" '<dt>出生日期</dt><dd>2008-05-01</dd> <dt>學籍狀態</dt><dd>在學</dd>' "$flat"
check_match "the national ID masked" '<dt>身分證統一編號</dt><dd id="national-id">A12\*\*\*\*\*89</dd>' "$flat"
check_nomatch "never whole" "$TWID" "$page"
check_match "the course records of 114-1, newest term first, with credits" \
    '<h3>學期 114-1 <small>\(學分合計 8\)</small></h3>.*<h3>學期 113-2 <small>\(學分合計 3\)</small></h3>' "$flat"
check_match "each course with code, name, credits and teachers" \
    '<td><code>MATH101</code></td> <td>數學甲</td> <td>4</td> <td>測試ta</td>' "$flat"
check_match "ENG101 taught by tb" '<td><code>ENG101</code></td> <td>英文</td> <td>4</td> <td>測試tb</td>' "$flat"
check_match "CHEM100 of 113-2" '<td><code>CHEM100</code></td> <td>化學</td> <td>3</td>' "$flat"
check_nomatch "not a course s1 did not take" 'PHYS101' "$page"
check_nomatch "nobody else's data" "王大明|${RUNID}02|2008-09-09" "$page"
check_eq "the view is audited" $((views + 1)) "$(n_audit personal_data.view "$S1")"
check_eq "as s1's own" "student:$P1	success	{\"own\":true}" "$(last_audit personal_data.view "$S1")"
page=$(req s1 -H 'Accept-Language: en' "$BASE/me/records")
check_match "the page in English" '<h1 id="records-title">My course records</h1>' "$page"
check_match "with the term in the school-year form" '<h3>Term 114-1 <small>\(credits in total 8\)</small></h3>' "$page"
check_match "and the ID's kind in English" '<dt>National ID number</dt><dd id="national-id">A12\*\*\*\*\*89</dd>' "$page"
page=$(req sn "$BASE/me/records")
check_match "a student without a student record is told so" '<p class="notice" id="no-record">學校尚未登錄您的學籍資料' "$page"
check_nomatch "and sees nobody's data" '陳小華|王大明|MATH101' "$page"
check_eq "the national ID is in no log" 0 "$(cat "$LICHENG_RUN"/log/*.log 2>/dev/null | grep -c "$TWID")"
