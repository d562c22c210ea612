# import_page: the admins' CSV import and activation letters through nginx,
# signed in for real (two schools' admins with a second factor). A students
# file with bad rows is reported row by row and changes nothing; a good one
# is applied, its letters printed (one per student, no national ID, no-store)
# and downloaded, a letter's code activates its account, the batch is
# destroyed; an applied import cannot be applied again; a re-issue makes a
# new letter and kills the old code; every import, letter and account of
# school A is 404 for school B's admin; an upload whose first part is not
# the CSRF token is 403; oversized, empty, missing and malformed uploads get
# their own answers; a Big5 file is read as Big5.
. "$(dirname "$0")/lib.sh"

RUNID="ip$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

app_sql() { sql_as app "$1"; }
audit_sql() { sql_as audit "$1"; }
audit_n() { audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = '$1' AND actor = '$2'"; }

# twid LETTER DIGITS8: a national ID with a valid check digit (the letter,
# the 8 digits given, then the check digit); twid_bad: the same with a
# wrong one.
twid() {
	local map=ABCDEFGHJKLMNPQRSTUVXYWZIO n d s i
	d=${map%%"$1"*}
	n=$((${#d} + 10))
	s=$((n / 10 + (n % 10) * 9))
	for ((i = 0; i < 8; i++)); do s=$((s + ${2:i:1} * (8 - i))); done
	printf '%s%s%d' "$1" "$2" $(((10 - s % 10) % 10))
}
twid_bad() {
	local id
	id=$(twid "$1" "$2")
	printf '%s%d' "${id:0:9}" $(((${id:9:1} + 1) % 10))
}

# upload NAME FILE KIND [ENCODING [FILENAME]]: posts the import form as a
# browser does (csrf first) with NAME's session; prints "STATUS LOCATION"
# and keeps the page in $tmp/NAME.page.
upload() {
	local name=$1 file=$2 kind=$3 enc=${4:-auto} fname=${5:-} token
	token=$(csrf "$name" /admin/import)
	req "$name" -o "$tmp/$name.page" -w '%{http_code} %{redirect_url}' \
	    -F "csrf=$token" -F "kind=$kind" -F "encoding=$enc" \
	    -F "file=@$file;type=text/csv${fname:+;filename=\"$fname\"}" "$BASE/admin/import"
}
# checked DESC FILE [ENCODING [FILENAME]]: uploads a students file as a1,
# checks it was saved (303 to its report), and sets ID (the import's) and
# body (its report page).
checked() {
	local out
	out=$(upload a1 "$2" students "${3:-auto}" "${4:-}")
	check_match "$1" "^303 $BASE/admin/imports/[A-Za-z0-9_-]{22}\$" "$out"
	ID=${out##*/}
	body=$(page a1 "/admin/imports/$ID")
}
# page NAME PATH: the body of a GET with NAME's session.
page() { req "$1" "$BASE$2"; }
# hdrs NAME PATH: the response headers of a GET, lower case (HTTP/2's),
# CR dropped.
hdrs() { req "$1" -D - -o /dev/null "$BASE$2" | tr -d '\r' | tr 'A-Z' 'a-z'; }
# post_csrf NAME FROM PATH: a POST of PATH with the CSRF token of page FROM;
# prints "STATUS LOCATION" and keeps the page in $tmp/NAME.page.
post_csrf() {
	local token
	token=$(csrf "$1" "$2")
	req "$1" -o "$tmp/$1.page" -w '%{http_code} %{redirect_url}' \
	    --data-urlencode "csrf=$token" "$BASE$3"
}
imports_of() { app_sql "SELECT COUNT(*) FROM imports i JOIN schools s ON s.id = i.school_id WHERE s.code = '$1'"; }
students_of() { app_sql "SELECT COUNT(*) FROM students t JOIN schools s ON s.id = t.school_id WHERE s.code = '$1'"; }
users_of() { app_sql "SELECT COUNT(*) FROM users u JOIN schools s ON s.id = u.school_id WHERE s.code = '$1'"; }

# ------------------------------------------------------------ accounts

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "匯入甲高中"
check "school B is added" L school add --code "$sb" --name "匯入乙高中"
check "admin a1 of school A signs in with a second factor" signin_as a1 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
A1=$(login_of a1) B1=$(login_of b1)

# The class the students belong to, in this school year (ROC).
y=$(date -u +%Y) m=$(date -u +%-m)
roc=$((y - 1911 - (m < 8 ? 1 : 0)))
check "class 101 of school A exists" app_sql "INSERT INTO classes (public_id, school_id, year, code, name, grade)
    SELECT '$(openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n')', id, $roc, '101', '一年一班', 1 FROM schools WHERE code = '$sa'"

# ------------------------------------------------------------ the form

body=$(page a1 /admin/import)
check_match "the import page is zh-TW" '<h1 id="import-title">CSV 匯入</h1>' "$body"
check_match "it is a multipart form" 'enctype="multipart/form-data"' "$body"
check_match "whose first field is the CSRF token" \
    'enctype="multipart/form-data" class="stack card">.?<input type="hidden" name="csrf"' "$(printf '%s' "$body" | tr -d '\n')"
for k in students teachers courses enrolments; do
	check_match "it offers the kind $k" "<option value=\"$k\"" "$body"
done
for e in auto utf-8 big5; do
	check_match "it offers the encoding $e" "<option value=\"$e\"" "$body"
done
check_match "it describes the students' columns" 'id="columns-students"' "$body"
check_match "and says where the full description is" 'docs/import.md' "$body"
check_match "and the size limit" '8 MiB' "$body"
check_match "no import yet" '尚未匯入任何檔案' "$body"
check_nomatch "no inline script or style" '<script|style=' "$body"

# ------------------------------------------------------------ bad rows

ID1=$(twid A 12345678) ID2=$(twid B 22345678) ID3=$(twid C 13345678) ID4=$(twid D 24345678)
ID5=$(twid E 15345678) ID6=$(twid F 26345678) BADID=$(twid_bad G 17345678)
HDR='student_no,name,national_id,birth_date,class,seat_no'
cat >"$tmp/bad.csv" <<EOF
$HDR
110001,陳大文,$ID1,2009-03-04,101,1
110002,林小美,$BADID,2009-05-06,101,2
110003,王志明,$ID2,2009-07-08,999,3
110001,張重複,$ID3,2009-09-10,101,4
110005,,$ID4,2009-11-12,101,5
EOF
checked "a file with bad rows is checked (303 to its report)" "$tmp/bad.csv" auto '<img src=x>bad.csv'
R1=$ID
check_match "the report names the file, escaped" '<td>&lt;img src&#61;x&gt;bad\.csv</td>' "$body"
check_nomatch "never as markup" '<img' "$body"
check_match "it counts 5 data rows" '<td id="rows-total">5</td>' "$body"
check_match "and 4 bad rows" '<td id="rows-bad">4</td>' "$body"
check_match "it says nothing was changed (all or nothing)" 'id="bad-explain"' "$body"
check_nomatch "it offers no apply" 'id="apply-form"' "$body"
rows=$(printf '%s' "$body" | sed -n '/id="problems-table"/,/<\/table>/p' | tr -d '\n' | sed 's/<tr>/\n<tr>/g' | grep -c '^<tr><td>[0-9]')
check "it lists at least one problem per bad row ($rows)" test "$rows" -ge 4
# Each bad row with its column's header name and a reason.
for rc in 3:身分證統一編號 4:班級 5:學號 6:姓名; do
	check_match "row ${rc%%:*} is listed at column ${rc#*:}" "^<tr><td>${rc%%:*}</td><td>${rc#*:}</td><td>[^<]+</td>" \
	    "$(printf '%s' "$body" | tr -d '\n' | sed 's/<tr>/\n<tr>/g')"
done
check_nomatch "the wrong-checksum ID is not shown unmasked" "$BADID" "$body"
check_match "it is shown masked" "${BADID:0:3}\\*\\*\\*\\*\\*${BADID:8:2}" "$body"
for id in "$ID1" "$ID2" "$ID3" "$ID4"; do
	check_nomatch "no national ID in the report ($id)" "$id" "$body"
done
check_eq "nothing was written: no students in school A" 0 "$(students_of "$sa")"
check_eq "nothing was written: only the admin's account" 1 "$(users_of "$sa")"
check_eq "the import is recorded as checked with its counts" "checked	5	4" \
    "$(app_sql "SELECT state, rows_total, rows_bad FROM imports WHERE public_id = '$R1'")"
check_eq "the check is audited" 1 "$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'import.check' AND actor = '$A1'")"

csv=$(req a1 "$BASE/admin/imports/$R1/report.csv" | od -An -tx1 -N3 | tr -d ' \n')
check_eq "the CSV report starts with a BOM" efbbbf "$csv"
csvbody=$(req a1 "$BASE/admin/imports/$R1/report.csv")
check "it has a header and the bad rows" test "$(printf '%s' "$csvbody" | grep -c $'\r$')" -ge 5
check_match "rows 3 and 6 are in it" '^3,' "$(printf '%s' "$csvbody" | tr -d '\r' | sed 's/^\xef\xbb\xbf//')"
check_nomatch "no unmasked ID in the CSV" "$BADID" "$csvbody"
h=$(hdrs a1 "/admin/imports/$R1/report.csv")
check_match "the CSV is an attachment" '^content-disposition: attachment; filename=' "$h"
check_match "it is text/csv" '^content-type: text/csv' "$h"
check_match "it is not cached" '^cache-control: no-store' "$h"
check_eq "a report with bad rows cannot be applied" 409 \
    "$(post_csrf a1 "/admin/imports/$R1" "/admin/imports/$R1/apply" | cut -d' ' -f1)"
check_eq "still no students" 0 "$(students_of "$sa")"

# ------------------------------------------------------------ a good file

cat >"$tmp/good.csv" <<EOF
$HDR
110001,陳大文,$ID1,2009-03-04,101,1
110002,林小美,$ID5,2009-05-06,101,2
110003,王志明,$ID2,2009-07-08,101,3
EOF
checked "a good file is checked" "$tmp/good.csv" utf-8
R2=$ID
check_match "its report has no bad rows" '<td id="rows-bad">0</td>' "$body"
check_match "it offers the apply" 'id="apply-form"' "$body"
check_match "saying how many rows will be written" '全部 3 列' "$body"
check_match "and that accounts will be made" '建立帳號並取得一次性啟用碼' "$body"
check_eq "the check changed nothing" 0 "$(students_of "$sa")"
check_eq "it is listed on the import page" 1 \
    "$(page a1 /admin/import | grep -c "href=\"/admin/imports/$R2\"")"

out=$(post_csrf a1 "/admin/imports/$R2" "/admin/imports/$R2/apply")
check_eq "applying it redirects to the report" "303 $BASE/admin/imports/$R2?done=applied" "$out"
check_eq "three students were written" 3 "$(students_of "$sa")"
check_eq "with three student accounts" 3 \
    "$(app_sql "SELECT COUNT(*) FROM users u JOIN schools s ON s.id = u.school_id WHERE s.code = '$sa' AND u.role = 'student' AND u.status = 'pending'")"
body=$(page a1 "/admin/imports/$R2?done=applied")
check_match "the report says it was applied" 'id="applied-summary"' "$body"
check_match "3 created" '<strong id="count-created">3</strong>' "$body"
check_match "3 accounts issued" '<strong id="count-issued">3</strong>' "$body"
check_match "with a link to the letters" 'id="letters-link" href="/admin/letters/[A-Za-z0-9_-]{22}"' "$body"
L1=$(printf '%s' "$body" | sed -n 's/.*id="letters-link" href="\/admin\/letters\/\([A-Za-z0-9_-]*\)".*/\1/p')
check_eq "the import is marked applied" applied "$(app_sql "SELECT state FROM imports WHERE public_id = '$R2'")"
check_eq "import.apply is audited" 1 "$(audit_n import.apply "$A1")"

out=$(post_csrf a1 "/admin/imports/$R2" "/admin/imports/$R2/apply")
check_eq "applying it again is refused" 409 "${out%% *}"
check_match "saying it was already applied" '已經套用過' "$(cat "$tmp/a1.page")"
check_eq "still three students" 3 "$(students_of "$sa")"

# ------------------------------------------------------------ the letters

body=$(page a1 "/admin/letters/$L1")
check_eq "the letters page has one letter per student" 3 "$(printf '%s' "$body" | grep -c '<article class="letter">')"
check_match "it names the school" '匯入甲高中' "$body"
check_match "and the activation address" "$BASE/activate" "$body"
check_match "each letter has a code" '<code class="code">[0-9A-Z]{5}-[0-9A-Z]{5}</code>' "$body"
check_match "it prints as A4 (letters.css)" 'href="/static/letters.css"' "$body"
check_match "with a print button" 'id="print-letters"' "$body"
for id in "$ID1" "$ID2" "$ID5"; do
	check_nomatch "no national ID on the letters ($id)" "$id" "$body"
done
check_nomatch "no inline script or style" '<script>|style=' "$body"
logins=$(printf '%s' "$body" | sed -n 's/.*<p class="letter-login"><code>\([^<]*\)<\/code>.*/\1/p')
codes=$(printf '%s' "$body" | sed -n 's/.*<code class="code">\([^<]*\)<\/code>.*/\1/p')
check_eq "three logins" 3 "$(printf '%s\n' "$logins" | grep -c .)"
check_match "logins are the student numbers with a suffix" '^110001-[a-z2-9]{4}$' "$(printf '%s\n' "$logins" | sort | head -n 1)"
check_eq "letters.view is audited" 1 "$(audit_n letters.view "$A1")"
h=$(hdrs a1 "/admin/letters/$L1")
check_match "the letters are not cached" '^cache-control: no-store' "$h"
check_match "the list shows the batch" "href=\"/admin/letters/$L1\"" "$(page a1 /admin/letters)"

csv=$(req a1 "$BASE/admin/letters/$L1/letters.csv" | od -An -tx1 -N3 | tr -d ' \n')
check_eq "the letters CSV starts with a BOM" efbbbf "$csv"
csvbody=$(req a1 "$BASE/admin/letters/$L1/letters.csv" | tr -d '\r')
check_eq "it has a header and three letters" 4 "$(printf '%s\n' "$csvbody" | grep -c .)"
check_match "with the codes" "$(printf '%s\n' "$codes" | head -n 1)" "$csvbody"
h=$(hdrs a1 "/admin/letters/$L1/letters.csv")
check_match "the letters CSV is an attachment" '^content-disposition: attachment' "$h"
check_match "and not cached" '^cache-control: no-store' "$h"
check "letters.download is audited" test "$(audit_n letters.download "$A1")" -ge 1

# A letter's code opens its account.
login1=$(printf '%s\n' "$logins" | sed -n 1p)
code1=$(printf '%s\n' "$codes" | sed -n 1p)
login2=$(printf '%s\n' "$logins" | sed -n 2p)
code2=$(printf '%s\n' "$codes" | sed -n 2p)
guard_forget_local
token=$(csrf s1 /activate)
check_eq "the first letter's code activates its account" "303 $BASE/login?done=activated" \
    "$(st s1 --data-urlencode "login=$login1" --data-urlencode "code=$code1" \
        --data-urlencode "new_password=$PW" --data-urlencode "csrf=$token" "$BASE/activate")"
check_eq "the account is active" active "$(app_sql "SELECT status FROM users WHERE login = '$login1'")"

# ------------------------------------------------------------ cross-school

token_b=$(csrf b1 /admin/import)
for p in "/admin/imports/$R2" "/admin/imports/$R2/report.csv" "/admin/letters/$L1" "/admin/letters/$L1/letters.csv"; do
	check_eq "school B's admin gets 404 for A's $p" 404 "$(http_status "$p" -b "$tmp/b1.jar")"
done
stu2=$(app_sql "SELECT public_id FROM users WHERE login = '$login2'")
for p in "/admin/imports/$R1/apply" "/admin/letters/$L1/destroy" "/admin/accounts/$stu2/reissue"; do
	check_eq "school B's admin gets 404 for POST $p" 404 \
	    "$(http_status "$p" -b "$tmp/b1.jar" --data-urlencode "csrf=$token_b")"
done
check_eq "a missing import is 404 too" 404 "$(http_status "/admin/imports/AAAAAAAAAAAAAAAAAAAAAA" -b "$tmp/b1.jar")"
check "the refusals are audited as access.denied" test \
    "$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'access.denied' AND actor = '$B1' AND detail LIKE '%other_school%'")" -ge 7
check_eq "A's letters are still there" 3 "$(page a1 "/admin/letters/$L1" | grep -c '<article class="letter">')"
check_eq "B saw no letter" 0 "$(audit_n letters.view "$B1")"

# ------------------------------------------------------------ re-issue

out=$(post_csrf a1 /admin/import "/admin/accounts/$stu2/reissue")
check_match "a re-issue makes a new letter" "^303 $BASE/admin/letters/[A-Za-z0-9_-]{22}\\?done=reissued\$" "$out"
L2=${out##*/admin/letters/}
L2=${L2%%\?*}
body=$(page a1 "/admin/letters/$L2")
check_eq "with one letter" 1 "$(printf '%s' "$body" | grep -c '<article class="letter">')"
new2=$(printf '%s' "$body" | sed -n 's/.*<code class="code">\([^<]*\)<\/code>.*/\1/p')
check_match "for the same login" "<code>$login2</code>" "$body"
check "and a new code" test -n "$new2" -a "$new2" != "$code2"
check_eq "account.reissue is audited" "user:$login2" \
    "$(audit_sql "SELECT target FROM audit_log WHERE event = 'account.reissue' AND actor = '$A1' ORDER BY id DESC LIMIT 1")"
guard_forget_local
token=$(csrf s2 /activate)
out=$(st s2 --data-urlencode "login=$login2" --data-urlencode "code=$code2" \
    --data-urlencode "new_password=$PW" --data-urlencode "csrf=$token" "$BASE/activate")
check_nomatch "the old code no longer works" '^303' "$out"
token=$(csrf s2 /activate)
check_eq "the new one does" "303 $BASE/login?done=activated" \
    "$(st s2 --data-urlencode "login=$login2" --data-urlencode "code=$new2" \
        --data-urlencode "new_password=$PW" --data-urlencode "csrf=$token" "$BASE/activate")"
me=$(app_sql "SELECT public_id FROM users WHERE login = '$A1'")
check_eq "an admin cannot re-issue their own code" 403 "$(post_csrf a1 /admin/import "/admin/accounts/$me/reissue" | cut -d' ' -f1)"
login3=$(printf '%s\n' "$logins" | sed -n 3p)
stu3=$(app_sql "SELECT public_id FROM users WHERE login = '$login3'")
app_sql "UPDATE users SET status = 'disabled' WHERE login = '$login3'"
n3=$(audit_n account.reissue "$A1")
check_eq "a disabled account is not re-issued (409)" 409 \
    "$(post_csrf a1 /admin/import "/admin/accounts/$stu3/reissue" | cut -d' ' -f1)"
check_match "saying to enable it first" '這個帳號已停用' "$(cat "$tmp/a1.page")"
check_eq "and nothing is audited as re-issued" "$n3" "$(audit_n account.reissue "$A1")"

# ------------------------------------------------------------ destroy

check_eq "the batch is destroyed" "303 $BASE/admin/letters/$L1?done=destroyed" \
    "$(post_csrf a1 "/admin/letters/$L1" "/admin/letters/$L1/destroy")"
body=$(page a1 "/admin/letters/$L1?done=destroyed")
check_match "its page says the codes are gone" 'id="letters-gone"' "$body"
check_match "and how to re-issue" '重新發給' "$body"
check_nomatch "it shows no code" '<code class="code">' "$body"
check_eq "its CSV is gone (404)" 404 "$(http_status "/admin/letters/$L1/letters.csv" -b "$tmp/a1.jar")"
check_eq "letters.destroy is audited" 1 "$(audit_n letters.destroy "$A1")"
check_match "the list says destroyed" '已銷毀' "$(page a1 /admin/letters)"

# ------------------------------------------------------------ CSRF

n=$(imports_of "$sa")
token=$(csrf a1 /admin/import)
out=$(req a1 -o /dev/null -w '%{http_code}' -F "kind=students" -F "encoding=auto" \
    -F "file=@$tmp/good.csv;type=text/csv" -F "csrf=$token" "$BASE/admin/import")
check_eq "an upload whose first part is not the CSRF token is 403" 403 "$out"
out=$(req a1 -o /dev/null -w '%{http_code}' -F "kind=students" -F "encoding=auto" \
    -F "file=@$tmp/good.csv;type=text/csv" "$BASE/admin/import")
check_eq "an upload without a CSRF token is 403" 403 "$out"
out=$(req a1 -o /dev/null -w '%{http_code}' -F "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" -F "kind=students" \
    -F "encoding=auto" -F "file=@$tmp/good.csv;type=text/csv" "$BASE/admin/import")
check_eq "an upload with a wrong token is 403" 403 "$out"
check_eq "none of them was recorded" "$n" "$(imports_of "$sa")"
check "the refusals are audited (csrf)" test \
    "$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'access.denied' AND actor = '$A1' AND detail LIKE '%csrf%'")" -ge 3

# ------------------------------------------------------------ bad uploads

: >"$tmp/empty.csv"
out=$(upload a1 "$tmp/empty.csv" students)
check_eq "an empty file is 422" "422 " "$out"
check_match "saying the file is empty" '這個檔案是空的' "$(cat "$tmp/a1.page")"
token=$(csrf a1 /admin/import)
out=$(req a1 -o "$tmp/a1.page" -w '%{http_code}' -F "csrf=$token" -F "kind=students" -F "encoding=auto" "$BASE/admin/import")
check_eq "a form without a file is 422" 422 "$out"
check_match "saying to choose one" '請選擇要上傳的 CSV 檔案' "$(cat "$tmp/a1.page")"
out=$(upload a1 "$tmp/good.csv" pupils)
check_eq "an unknown kind is 422" "422 " "$out"
check_match "with the field's message" 'id="kind-error"' "$(cat "$tmp/a1.page")"
out=$(req a1 -o "$tmp/a1.page" -w '%{http_code}' -H 'Content-Type: multipart/form-data; boundary=XyZ' \
    --data-binary $'--XyZ\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'"$token"$'\r\n--XyZ\r\nContent-Disposition: form-data; name="kind"\r\n\r\nstud' \
    "$BASE/admin/import")
check_eq "a truncated multipart body is 400" 400 "$out"
page_t=$(cat "$tmp/a1.page")
check_match "with the form again" 'enctype="multipart/form-data"' "$page_t"
check_nomatch "and a message, not a key" 'multipart\.error\.' "$page_t"
check_match "in an alert" '<p class="alert" role="alert">' "$page_t"
check_eq "none of them was recorded" "$n" "$(imports_of "$sa")"

head -c $((8 * 1024 * 1024 + 300 * 1024)) /dev/zero | tr '\0' 'a' >"$tmp/big.csv"
out=$(upload a1 "$tmp/big.csv" students)
check_eq "a file over import.max_bytes is 413" "413 " "$out"
check_match "with the form and the limit" '8 MiB' "$(cat "$tmp/a1.page")"
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$tmp/huge.csv"
out=$(upload a1 "$tmp/huge.csv" students)
check_eq "a 10 MiB upload is refused by nginx (413)" "413 " "$out"
check_eq "none of them was recorded" "$n" "$(imports_of "$sa")"
rm -f "$tmp/big.csv" "$tmp/huge.csv"

# ------------------------------------------------------------ expiry

cat >"$tmp/later.csv" <<EOF
$HDR
110009,何美華,$(twid K 21345670),2009-08-09,101,9
EOF
checked "a file left unapplied is checked" "$tmp/later.csv"
app_sql "UPDATE imports SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE public_id = '$ID'"
body=$(page a1 "/admin/imports/$ID")
check_match "once past import.keep_hours its report says to upload it again" 'id="expired-explain"' "$body"
check_nomatch "and offers no apply" 'id="apply-form"' "$body"
check_eq "applying it is refused" 409 "$(post_csrf a1 "/admin/imports/$ID" "/admin/imports/$ID/apply" | cut -d' ' -f1)"
check_eq "nobody 110009 was written" 0 \
    "$(app_sql "SELECT COUNT(*) FROM students t JOIN schools s ON s.id = t.school_id WHERE s.code = '$sa' AND t.student_no = '110009'")"

# ------------------------------------------------------------ Big5

ID7=$(twid H 17345679) ID8=$(twid J 28345679)
{
	printf '%s\r\n' "$HDR" | iconv -f UTF-8 -t BIG5
	printf '120001,黃美玲,%s,2009-01-02,101,7\r\n' "$ID7" | iconv -f UTF-8 -t BIG5
	# A character Big5 lacks, written as UTF-8 by the exporting system.
	printf '120002,林堃,%s,2009-02-03,101,8\r\n' "$ID8"
} >"$tmp/big5.csv"
check_not "the Big5 file is not UTF-8" iconv -f UTF-8 -t UTF-8 "$tmp/big5.csv"
checked "a Big5 file with encoding auto is checked" "$tmp/big5.csv" auto
R3=$ID
check_match "it was read as Big5" '<td id="encoding-used">Big5</td>' "$body"
check_match "without bad rows" '<td id="rows-bad">0</td>' "$body"
check_match "applying it works" "^303 $BASE/admin/imports/$R3\\?done=applied\$" \
    "$(post_csrf a1 "/admin/imports/$R3" "/admin/imports/$R3/apply")"
check_eq "the names are read correctly" "黃美玲 林堃" \
    "$(app_sql "SELECT t.name FROM students t JOIN schools s ON s.id = t.school_id WHERE s.code = '$sa' AND t.student_no IN ('120001', '120002') ORDER BY t.student_no" | tr '\n' ' ' | sed 's/ $//')"

check "the audit chain is intact" L audit verify
