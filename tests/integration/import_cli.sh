# import_cli: `licheng import` through the real stack — the four example
# files of docs/import/ imported cleanly with accounts and letter batches;
# a students file with bad rows reported row by row and column by column
# while the database stays exactly as it was (dry run and apply alike); a
# Big5-HKSCS file with rare characters and a UTF-8 cell kept to the byte;
# a second apply that changes nothing; national IDs never shown unmasked
# (output, report CSV, audit log, the stack's logs); and `user add`, which
# now shares lib/issue.c with the import, still issuing accounts.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
at_exit rm -rf "$tmp"
EX="$REPO/docs/import"
new_public_id() { openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n'; }
app() { sql_as app "$1"; }

SCHOOL=$(new_school) || { fail "a school is added"; exit 1; }
SID=$(app "SELECT id FROM schools WHERE code = '$SCHOOL'")
app "INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
	VALUES ('$(new_public_id)', $SID, 114, 1, '2025-08-01', '2026-01-20');
    INSERT INTO classes (public_id, school_id, year, code, name, grade)
	VALUES ('$(new_public_id)', $SID, 114, '101', '一年一班', 1),
	       ('$(new_public_id)', $SID, 114, '102', '一年二班', 1)"
check_eq "the school has term 114-1 and classes 101, 102" "1 2" \
    "$(app "SELECT (SELECT COUNT(*) FROM terms WHERE school_id = $SID), (SELECT COUNT(*) FROM classes WHERE school_id = $SID)" | tr '\t' ' ')"

# Teacher logins are unique across schools: when this stack ran the
# scenario before, the example's logins get a suffix in a copy.
TEACHERS="$EX/teachers.csv" COURSES="$EX/courses.csv"
if [ "$(app "SELECT COUNT(*) FROM users WHERE login IN ('chen.meihua', 'lin.zhiwei', 'wang.yating', 'huang.junjie')")" != 0 ]; then
	sfx="-$RANDOM"
	sed -E "s/(meihua|zhiwei|yating|junjie)/\\1$sfx/g" "$EX/teachers.csv" >"$tmp/teachers.csv"
	sed -E "s/(meihua|zhiwei|yating|junjie)/\\1$sfx/g" "$EX/courses.csv" >"$tmp/courses.csv"
	TEACHERS="$tmp/teachers.csv" COURSES="$tmp/courses.csv"
fi

# The national IDs this scenario uses, to look for them later.
IDS=$(sed -n 's/.*,\([A-Z][0-9]\{9\}\),.*/\1/p' "$EX/students.csv" | tr '\n' ' ')

# imp NAME KIND FILE [args]: runs the import; output in $tmp/NAME.out,
# status in RC.
imp() {
	local name=$1 kind=$2 file=$3
	shift 3
	L import "$kind" --school "$SCHOOL" "$file" "$@" >"$tmp/$name.out" 2>&1
	RC=$?
	OUT=$(cat "$tmp/$name.out")
}
letters() { app "SELECT COUNT(*) FROM letter_batches WHERE school_id = $SID"; }

# ------------------------------------------------------------ the examples

imp ex-students-dry students "$EX/students.csv" --dry-run
check_eq "the example students file checks clean (exit 0)" 0 "$RC"
check_match "the dry run says so" '^students: 9 rows read as utf-8, 0 bad \(dry run: nothing was changed\)' "$OUT"
check_eq "a dry run writes nothing" 0 "$(app "SELECT COUNT(*) FROM students WHERE school_id = $SID")"

imp ex-students students "$EX/students.csv"
check_eq "the example students are imported" 0 "$RC"
check_match "9 created, each with an account" 'applied: 9 created, 0 updated, 0 unchanged, 9 accounts issued' "$OUT"
check_match "the letters are on the admin page until a time" \
    'printed from the admin page .*/admin/letters/[A-Za-z0-9_-]{22} until [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC' "$OUT"
LETTERS1=$(printf '%s' "$OUT" | sed -n 's|.*/admin/letters/\([A-Za-z0-9_-]\{22\}\) .*|\1|p')
imp ex-teachers teachers "$TEACHERS"
check_eq "the example teachers are imported" 0 "$RC"
check_match "4 teachers with accounts" 'applied: 4 created, 0 updated, 0 unchanged, 4 accounts issued' "$OUT"
imp ex-courses courses "$COURSES"
check_eq "the example courses are imported" 0 "$RC"
check_match "6 courses" 'applied: 6 created, 0 updated, 0 unchanged, 0 accounts issued' "$OUT"
imp ex-enrolments enrolments "$EX/enrolments.csv"
check_eq "the example enrolments are imported" 0 "$RC"
check_match "36 enrolments" 'applied: 36 created, 0 updated, 0 unchanged, 0 accounts issued' "$OUT"

row=$(app "SELECT s.name, s.id_kind, s.birth_date, c.code, s.seat_no, s.status, u.role, u.status, u.birth_date, CHAR_LENGTH(u.national_id_hmac) = 64 AND u.national_id_hmac = s.national_id_hmac
    FROM students s JOIN users u ON u.id = s.user_id LEFT JOIN classes c ON c.id = s.class_id
    WHERE s.school_id = $SID AND s.student_no = '114003'")
check_eq "a student's row: ROC 0990521 read as 2010-05-21, class by code, a pending account with the facts" \
    "$(printf '王淑芬\tnational\t2010-05-21\t101\t3\tenrolled\tstudent\tpending\t2010-05-21\t1')" "$row"
check_eq "a class given by its name (一年二班) and 休學 as suspended" "$(printf '102\tsuspended')" \
    "$(app "SELECT c.code, s.status FROM students s JOIN classes c ON c.id = s.class_id WHERE s.school_id = $SID AND s.student_no = '114006'")"
check_eq "a resident certificate number is stored as such" resident \
    "$(app "SELECT id_kind FROM students WHERE school_id = $SID AND student_no = '114009'")"
check_match "student logins are the number and four random characters" '^114001-[a-hj-km-np-z2-9]{4}$' \
    "$(app "SELECT u.login FROM students s JOIN users u ON u.id = s.user_id WHERE s.school_id = $SID AND s.student_no = '114001'")"
check_eq "homeroom teachers are set from the teachers file" "2" \
    "$(app "SELECT COUNT(*) FROM classes WHERE school_id = $SID AND homeroom_teacher_id IS NOT NULL")"
check_eq "a course has the two teachers its cell names (；)" 2 \
    "$(app "SELECT COUNT(*) FROM course_teachers ct JOIN courses c ON c.id = ct.course_id WHERE c.school_id = $SID AND c.code = 'HIS101'")"
check_eq "two letter batches: 9 student letters and 4 teacher letters, sealed" "$(printf '4\t1\n9\t1')" \
    "$(app "SELECT letters, payload IS NOT NULL AND LENGTH(payload) > 100 FROM letter_batches WHERE school_id = $SID ORDER BY letters")"
check_eq "the CLI names the students' batch" 1 "$(app "SELECT COUNT(*) FROM letter_batches WHERE school_id = $SID AND public_id = '$LETTERS1' AND letters = 9")"
check_eq "13 pending accounts with a code hash that expires in 13-14 days" 13 \
    "$(app "SELECT COUNT(*) FROM users WHERE school_id = $SID AND status = 'pending' AND CHAR_LENGTH(activation_hash) = 64 AND TIMESTAMPDIFF(DAY, UTC_TIMESTAMP(), activation_expires) IN (13, 14)")"
check_eq "import.apply audited once per apply, accounts.issue once per batch" "$(printf 'accounts.issue\t2\nimport.apply\t4')" \
    "$(audit_rows "school = '$SCHOOL' AND event IN ('import.apply', 'accounts.issue')" | cut -f1 | sort | uniq -c | awk '{ print $2 "\t" $1 }')"
check_match "the audit row has kind, counts and the batch, nothing personal" \
    '"kind":"students","rows":9,"created":9,"updated":0,"unchanged":0,"accounts":9,"import":null,"letters":"'"$LETTERS1"'"' \
    "$(audit_rows "school = '$SCHOOL' AND event = 'import.apply'" | head -n 1)"
check "the audit chain is whole" audit_verified

# ------------------------------------------------------------ idempotent

state() {
	sql_as root "CHECKSUM TABLE licheng.students, licheng.users, licheng.teachers, licheng.classes,
	    licheng.courses, licheng.course_teachers, licheng.enrolments, licheng.letter_batches, licheng.audit_log" |
	    awk '{ print $2 }' | tr '\n' ' '
}
counts() {
	app "SELECT (SELECT COUNT(*) FROM students WHERE school_id = $SID), (SELECT COUNT(*) FROM users WHERE school_id = $SID),
	    (SELECT COUNT(*) FROM enrolments WHERE school_id = $SID), (SELECT COUNT(*) FROM letter_batches WHERE school_id = $SID)" | tr '\t' ' '
}
before=$(counts)
for k in students teachers courses enrolments; do
	f="$EX/$k.csv"
	[ "$k" = teachers ] && f=$TEACHERS
	[ "$k" = courses ] && f=$COURSES
	imp again-$k "$k" "$f"
	check_eq "applying $k again succeeds" 0 "$RC"
	check_match "applying $k again creates and updates nothing" 'applied: 0 created, 0 updated, [0-9]+ unchanged, 0 accounts issued' "$OUT"
	check_nomatch "no letters for $k the second time" 'admin/letters' "$OUT"
done
check_eq "no new rows, accounts or letter batches" "$before" "$(counts)"

# ------------------------------------------------------------ bad rows

# Row 2: a wrong check digit; row 3: an unknown class; row 4: the number of
# row 2 again; row 5: no name; row 6 is fine.
printf '\xef\xbb\xbf學號,姓名,身分證統一編號,出生日期,班級,座號,學年度\r\n114101,錯誤甲,A200000013,2010-01-01,101,11,114\r\n114102,錯誤乙,A100000010,2010-02-02,109,12,114\r\n114101,錯誤丙,F100000024,2010-03-03,101,13,114\r\n114104,,H200000037,2010-04-04,102,14,114\r\n114105,正確戊,E100000041,2010-05-05,102,15,114\r\n' >"$tmp/bad.csv"
IDS="$IDS A200000013 A100000010 F100000024 H200000037 E100000041"
s0=$(state)
c0=$(counts)
imp bad-dry students "$tmp/bad.csv" --dry-run --report "$tmp/report.csv"
check_eq "the dry run of a bad file exits 1" 1 "$RC"
check_match "it counts the bad rows" '^students: 5 rows read as utf-8, 4 bad \(dry run' "$OUT"
check_match "row 2: the wrong check digit, in the national_id column, masked" \
    '^row 2, national_id: not a national ID or resident certificate number .*\(身分證統一編號或居留證號的格式或檢查碼錯誤\) \[A20\*\*\*\*\*13\]$' "$OUT"
check_match "row 3: the unknown class, in the class column" '^row 3, class: no class of that school year .*\[109\]$' "$OUT"
check_match "row 4: the duplicate student number names row 2" '^row 4, student_no: the same as an earlier row .*\[114101 \(row 2\)\]$' "$OUT"
check_match "row 5: the empty required name" '^row 5, name: required: the cell is empty \(必填欄位未填\)$' "$OUT"
check_nomatch "row 6 is not reported" '^row 6' "$OUT"
check_eq "exactly four problems are listed" 4 "$(grep -c '^row ' "$tmp/bad-dry.out")"
check_eq "the dry run changed nothing (checksums)" "$s0" "$(state)"
check_eq "the dry run changed nothing (counts)" "$c0" "$(counts)"
check "the report CSV starts with a BOM" cmp -n 3 "$tmp/report.csv" <(printf '\xef\xbb\xbf')
check_match "the report CSV has zh-TW headers and CRLF" $'^\xef\xbb\xbf列,欄位,原因,內容\r$' "$(head -n 1 "$tmp/report.csv")"
check_match "the report CSV names row 3 and its column" $'^3,班級,該學年度沒有此代碼或名稱的班級,109\r$' "$(cat "$tmp/report.csv")"
check_match "the report CSV names row 2 with the ID masked" $'^2,身分證統一編號,.*,A20\\*\\*\\*\\*\\*13\r$' "$(cat "$tmp/report.csv")"
check_eq "the report CSV is readable by its owner only" 600 "$(stat -c %a "$tmp/report.csv")"

imp bad-apply students "$tmp/bad.csv"
check_eq "applying the bad file exits 1" 1 "$RC"
check_match "it says nothing was changed" 'nothing was changed' "$OUT"
check_eq "applying the bad file changed nothing, not even row 6 (checksums)" "$s0" "$(state)"
check_eq "no row of the bad file is in the database" 0 "$(app "SELECT COUNT(*) FROM students WHERE school_id = $SID AND student_no LIKE '1141%'")"

# ------------------------------------------------------------ Big5

# 堃 and 峯 are not in Big5 proper; BIG5-HKSCS has them. The last row is
# written as UTF-8, as exports patched for missing characters do.
printf '學號,姓名,身分證統一編號,出生日期,班級,座號,學年度\r\n114201,林堃明,A200000101,2010-05-05,101,21,114\r\n114202,陳峯,A100000118,099/06/06,101,22,114\r\n' |
    iconv -f UTF-8 -t BIG5-HKSCS >"$tmp/big5.csv"
printf '114203,黃峯堃,A200000129,2010-07-07,102,23,114\r\n' >>"$tmp/big5.csv"
IDS="$IDS A200000101 A100000118 A200000129"
check_not "the test file is not UTF-8" iconv -f UTF-8 -t UTF-8 "$tmp/big5.csv"
imp big5-utf8 students "$tmp/big5.csv" --dry-run --encoding utf-8
check_eq "forced to UTF-8, the Big5 file is refused" 1 "$RC"
check_match "with an encoding problem" 'neither UTF-8 nor Big5' "$OUT"
imp big5-dry students "$tmp/big5.csv" --dry-run
check_eq "the Big5 file checks clean" 0 "$RC"
check_match "it is detected as Big5" '^students: 3 rows read as big5, 0 bad' "$OUT"
imp big5 students "$tmp/big5.csv" --encoding big5
check_eq "the Big5 file is imported" 0 "$RC"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }
check_eq "林堃明 is kept exactly" "$(hex 林堃明)" "$(app "SELECT HEX(name) FROM students WHERE school_id = $SID AND student_no = '114201'")"
check_eq "陳峯 is kept exactly" "$(hex 陳峯)" "$(app "SELECT HEX(name) FROM students WHERE school_id = $SID AND student_no = '114202'")"
check_eq "the UTF-8 cell 黃峯堃 is kept exactly" "$(hex 黃峯堃)" "$(app "SELECT HEX(name) FROM students WHERE school_id = $SID AND student_no = '114203'")"
check_eq "the accounts carry the same names" "$(hex 林堃明)" \
    "$(app "SELECT HEX(u.name) FROM students s JOIN users u ON u.id = s.user_id WHERE s.school_id = $SID AND s.student_no = '114201'")"

# ------------------------------------------------------------ updates

t0=$(app "SELECT status_changed_at FROM students WHERE school_id = $SID AND student_no = '114006'")
printf 'student_no,name,national_id,birth_date,status\n114006,黃冠宇,H100000062,2010-06-23,畢業\n114001,陳怡君,A200000012,2010-03-15,\n' >"$tmp/status.csv"
imp status students "$tmp/status.csv"
check_match "a status change is one update, the same row unchanged" 'applied: 0 created, 1 updated, 1 unchanged, 0 accounts issued' "$OUT"
check_eq "the status is graduated" graduated "$(app "SELECT status FROM students WHERE school_id = $SID AND student_no = '114006'")"
check_nomatch "the status change time moved" "^$t0\$" "$(app "SELECT status_changed_at FROM students WHERE school_id = $SID AND student_no = '114006'")"
check_eq "columns left out keep their values (class, seat)" "$(printf '102\t2')" \
    "$(app "SELECT c.code, s.seat_no FROM students s JOIN classes c ON c.id = s.class_id WHERE s.school_id = $SID AND s.student_no = '114006'")"

# ------------------------------------------------------------ user add

read -r tlogin tcode < <(SCHOOL=$SCHOOL LOGIN_PREFIX=imp new_user teacher --name "吳老師")
check_match "user add still issues an account with a code" '^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$' "${tcode:-}"
out=$(L user add --school "$SCHOOL" --role teacher --login "$tlogin" --name x 2>&1)
check_match "user add still refuses a taken login" 'refused: the login is taken' "$out"
out=$(L user add --school "$SCHOOL" --role student --login a123456789 --name x 2>&1)
check_match "user add still refuses a national ID as login" 'national ID' "$out"
printf 'login,name,staff_no\n%s,吳老師,T0999\n' "$tlogin" >"$tmp/t2.csv"
imp t2 teachers "$tmp/t2.csv"
check_match "a teacher account made by user add gets its record, no second account" \
    'applied: 1 created, 0 updated, 0 unchanged, 0 accounts issued' "$OUT"
check_eq "its one account keeps its code" 1 "$(app "SELECT COUNT(*) FROM users WHERE login = '$tlogin'")"

# ------------------------------------------------------------ privacy

leaks=""
for id in $IDS; do
	lower=$(printf '%s' "$id" | tr A-Z a-z)
	grep -rqF -e "$id" -e "$lower" "$tmp"/*.out "$tmp/report.csv" && leaks+=" out:${id:0:3}"
	grep -rqF -e "$id" -e "$lower" "$LICHENG_RUN/log" && leaks+=" log:${id:0:3}"
done
check_eq "no national ID appears unmasked in the output, the report or the stack's logs" "" "$leaks"
audit=$(L audit tail --limit 500)
leaks=""
for id in $IDS; do
	printf '%s' "$audit" | grep -qiF "$id" && leaks+=" ${id:0:3}"
done
check_eq "no national ID appears in the audit log" "" "$leaks"
check_nomatch "no activation code appears in the audit log" '[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}' "$audit"
dump=$(app "SELECT * FROM students WHERE school_id = $SID")
leaks=""
for id in $IDS; do
	printf '%s' "$dump" | grep -qiF "$id" && leaks+=" ${id:0:3}"
done
check_eq "the students table holds no national ID in clear" "" "$leaks"
check "the audit chain is still whole" audit_verified
