# deadlines: the school admins' certification and selection deadlines
# (/admin/deadlines) through nginx, signed in for real. The page shows each
# term's certification deadline (the default rule: certify.deadline_days
# after the closing ceremony, or the admin's date) and each school year's
# selection deadline (selection.deadline in the year after the school year
# ends), whether each has passed; the admin sets, extends, shortens and
# resets them, each change audited with the old and new dates (an
# extension as such); a date before the closing ceremony is refused with
# its message and nothing written; a teacher's certification refused after
# the deadline succeeds once the admin extends it, and is refused again
# when the admin moves it back; another school's term is 404, and teachers
# and students cannot reach the page.
. "$(dirname "$0")/lib.sh"

RUNID="dl$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/records_helpers.bash"
. "$(dirname "$0")/term_helpers.bash"

# conf_in SECTION KEY: a "key: value" under "section:" of the stack's conf.
conf_in() {
	awk -v s="$1:" -v k="$2:" '$0 ~ "^" s { w = 1; next } /^[^ #]/ { w = 0 }
		w && $1 == k { print $2; exit }' "$LICHENG_CONF" | tr -d '"'
}
cert_row() { app_sql "SELECT d.deadline FROM cert_deadlines d JOIN terms t ON t.id = d.term_id WHERE t.public_id = '$1'"; }
sel_row() { app_sql "SELECT d.deadline FROM selection_deadlines d JOIN schools s ON s.id = d.school_id WHERE s.code = '$1' AND d.year = $2"; }
# card_of ID: a term's (term-PUB) or year's (year-Y) card on the last page.
card_of() { printf '%s' "$PAGE" | tr '\n' ' ' | sed -n "s/.*\(<section class=\"card stack\" id=\"$1\".*\)/\1/p" | sed 's/<\/section>.*//'; }
error_of() { form_body | sed -n "s/.*<p class=\"field-error\" id=\"deadline-$1-error\">\([^<]*\)<.*/\1/p" | head -n 1; }
# change OLD NEW: which way a deadline moved (the audit detail);
# way OLD NEW: the notice word of that move.
change() { if [[ $2 > $1 ]]; then echo extend; elif [[ $2 < $1 ]]; then echo shorten; else echo same; fi; }
way() { case $(change "$1" "$2") in extend) echo extended ;; shorten) echo shortened ;; *) echo set ;; esac; }

DAYS=$(conf_in certify deadline_days)
: "${DAYS:=21}"
MD=$(conf_in selection deadline)
: "${MD:=11-30}"

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "期限甲高中"
check "school B is added" L school add --code "$sb" --name "期限乙高中"
check "admin a1 of school A signs in with a second factor" signin_as a1 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
check "teacher t1 of school A signs in" signin_as t1 teacher "$sa"
check "student s1 of school A signs in" signin_as s1 student "$sa"
A1=$(login_of a1) B1=$(login_of b1)

# School A: a term whose default deadline has passed, one whose has not,
# an older year's term; school B: one term.
E_PAST=$(day -30) E_NOW=$(day 60) E_OLD=$(day -250)
T_PAST=$(term "$sa" 114 1 "$(day -150)" "$E_PAST")
T_NOW=$(term "$sa" 114 2 "$(day -20)" "$E_NOW")
T_OLD=$(term "$sa" 113 2 "$(day -400)" "$E_OLD")
T_B=$(term "$sb" 114 1 "$(day -150)" "$E_PAST")
check "the terms exist" test -n "$T_PAST" -a -n "$T_NOW" -a -n "$T_OLD" -a -n "$T_B"
D_PAST=$(plus "$E_PAST" "$DAYS") D_NOW=$(plus "$E_NOW" "$DAYS")
S114="2026-$MD" S113="2025-$MD"

# t1 teaches a course of the passed term; s1 has a course learning outcome
# in it whose file is verified and scanned clean (rows made with SQL: the
# upload path is items.sh's), waiting for certification.
CP=$(new_public_id) PS=$(new_public_id) IT=$(new_public_id) SHA=$(openssl rand -hex 32)
check "t1's course and s1's item waiting in term 114-1 (SQL)" sql_as root "USE licheng;
SET @a = (SELECT id FROM schools WHERE code = '$sa');
INSERT INTO teachers (public_id, school_id, user_id) SELECT '$(new_public_id)', @a, id FROM users WHERE login = '$(login_of t1)';
INSERT INTO courses (public_id, school_id, term_id, code, name, credits) SELECT '$CP', @a, id, 'DL1', '國語文', 2 FROM terms WHERE public_id = '$T_PAST';
INSERT INTO course_teachers (course_id, teacher_id) SELECT c.id, t.id FROM courses c, teachers t JOIN users u ON u.id = t.user_id
    WHERE c.public_id = '$CP' AND u.login = '$(login_of t1)';
INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind, national_id_hmac, national_id_sealed, birth_date)
    SELECT '$PS', @a, id, '${RUNID}1', '陳小華', 'national', SHA2('$RUNID', 256), RANDOM_BYTES(40), '2009-01-01' FROM users WHERE login = '$(login_of s1)';
INSERT INTO enrolments (public_id, school_id, student_id, course_id) SELECT '$(new_public_id)', @a, s.id, c.id FROM students s, courses c
    WHERE s.public_id = '$PS' AND c.public_id = '$CP';
INSERT INTO objects (sha256, size, mime, verified_at, verify_result, scanned_at, scan_result)
    VALUES ('$SHA', 3000, 'application/pdf', UTC_TIMESTAMP(6), 'ok', UTC_TIMESTAMP(6), 'clean');
INSERT INTO items (public_id, school_id, student_id, term_id, kind, course_id, description, cert_state)
    SELECT '$IT', @a, s.id, t.id, 'course', c.id, '期限測試報告', 'pending' FROM students s, terms t, courses c
    WHERE s.public_id = '$PS' AND t.public_id = '$T_PAST' AND c.public_id = '$CP';
INSERT INTO item_files (public_id, school_id, item_id, slot, version, sha256, size, mime, original_name, uploaded_by)
    SELECT '$(new_public_id)', i.school_id, i.id, 'doc', 1, '$SHA', 3000, 'application/pdf', 'report.pdf', s.user_id
    FROM items i JOIN students s ON s.id = i.student_id WHERE i.public_id = '$IT'"
# certify: t1 certifies the item (POST /certify/:id with the list's
# token); prints "STATUS LOCATION", the body in form_body.
certify() {
	page_of t1 /certify
	form t1 "/certify/$IT" decision=certified
}
item_state() { app_sql "SELECT cert_state FROM items WHERE public_id = '$IT'"; }
n_certs() { app_sql "SELECT COUNT(*) FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$IT'"; }
# late_refused DESC DATE: t1's certification is refused (409) with the
# deadline DATE, and no decision is written.
late_refused() {
	local before out
	before=$(n_certs)
	out=$(certify)
	check_eq "$1" "409 " "$out"
	check_match "  saying the deadline, $2" "$(msg zh-TW certify.late | sed "s/{date}/$2/")" "$(form_body)"
	check_eq "  nothing written" "$before" "$(n_certs)"
}

# ------------------------------------------------------------ the page

page_of a1 /admin/deadlines
check_match "the page is zh-TW" '<h1 id="deadlines-title">認證與勾選期限</h1>' "$PAGE"
check_match "the navigation links it" 'href="/admin/deadlines" aria-current="page"' "$PAGE"
check "it states the default rule with the configured days" says zh-TW deadlines.cert_lead "$PAGE"
order=$(printf '%s' "$PAGE" | sed -n 's/.*<h3 id="term-[^"]*-title">學期 \([0-9-]*\)<\/h3>.*/\1/p' | tr '\n' ' ')
check_eq "school A's terms, newest first, and only them" "114-2 114-1 113-2 " "$order"
check_nomatch "school B's term is not listed" "$T_B" "$PAGE"
card=$(card_of "term-$T_PAST")
check_match "a term's deadline is by default $DAYS days after its closing ceremony" \
    "<dd>$E_PAST</dd>.*deadline-date\">$D_PAST<" "$card"
check "  and says it is the default" says zh-TW deadlines.cert_default "$card"
check_match "  passed" 'deadline-passed">已截止<' "$card"
check_nomatch "  with no reset button" 'value="reset"' "$card"
check_match "  and a form with the date" \
    "action=\"/admin/deadlines/term/$T_PAST\".*name=\"deadline\" value=\"$D_PAST\"" "$card"
check_match "the current term's has not passed" "deadline-date\">$D_NOW<.*deadline-open\">尚未截止<" "$(card_of "term-$T_NOW")"
years=$(printf '%s' "$PAGE" | sed -n 's/.*<h3 id="year-[0-9]*-title">學年度 \([0-9]*\)<\/h3>.*/\1/p' | tr '\n' ' ')
check_eq "the school years with terms, newest first" "114 113 " "$years"
card=$(card_of year-114)
check_match "a year's selection deadline is by default $MD of the year after it" \
    "<dd>114-2, 114-1</dd>.*<dd>$E_NOW</dd>.*deadline-date\">$S114<" "$card"
if [[ $(day 0) > $S114 ]]; then w=passed; else w=open; fi
check_match "  $w today" "deadline-$w\"" "$card"
check_match "year 113's is in the year after it" "deadline-date\">$S113<" "$(card_of year-113)"
check_nomatch "no inline script or style" '<script|style=' "$PAGE"

# ------------------------------------------------------------ certification

late_refused "after the deadline, t1's certification is refused" "$D_PAST"
check_eq "  the item still waits" pending "$(item_state)"
page_of a1 /admin/deadlines
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set deadline="$(day 5)")
check_eq "a passed deadline moved later is an extension" "303 $BASE/admin/deadlines?done=extended" "$out"
check_eq "  stored" "$(day 5)" "$(cert_row "$T_PAST")"
check_eq "  scoped to school A" "$sa" "$(app_sql "SELECT s.code FROM cert_deadlines d JOIN schools s ON s.id = d.school_id JOIN terms t ON t.id = d.term_id WHERE t.public_id = '$T_PAST'")"
check_eq "  audited as extended, with the old (default) and new dates" \
    "term:114-1	success	{\"term\":\"114-1\",\"old\":\"$D_PAST\",\"new\":\"$(day 5)\",\"old_default\":true,\"new_default\":false,\"change\":\"extend\"}" \
    "$(last_audit certify.deadline_extended "$A1")"
page_of a1 "/admin/deadlines?done=extended"
check "the page says it was extended" says zh-TW deadlines.done.extended "$PAGE"
card=$(card_of "term-$T_PAST")
check_match "the term shows the new date" "deadline-date\">$(day 5)<" "$card"
check "  set by the school" says zh-TW deadlines.custom "$card"
check_match "  no longer passed" 'deadline-open">' "$card"
check_match "  with a reset button to the default" "name=\"op\" value=\"reset\".*$D_PAST" "$card"
out=$(certify)
check_eq "once extended, t1's certification succeeds" "303 $BASE/certify?done=certified" "$out"
check_eq "  the item is certified" certified "$(item_state)"
check "  and its signed decision verifies" L verify-cert "$IT"

out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set deadline="$(day 2)")
check_eq "moved earlier, it is shortened" "303 $BASE/admin/deadlines?done=shortened" "$out"
check_eq "  audited as set, with the change" \
    "term:114-1	success	{\"term\":\"114-1\",\"old\":\"$(day 5)\",\"new\":\"$(day 2)\",\"old_default\":false,\"new_default\":false,\"change\":\"shorten\"}" \
    "$(last_audit certify.deadline_set "$A1")"
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set deadline="$(day 2)")
check_eq "the same date again changes nothing" "303 $BASE/admin/deadlines?done=unchanged" "$out"
check_eq "  and audits nothing" "1 1" "$(n_audit certify.deadline_set "$A1") $(n_audit certify.deadline_extended "$A1")"
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set deadline="$E_PAST")
check_eq "the closing ceremony itself is allowed" "303 $BASE/admin/deadlines?done=shortened" "$out"
page_of a1 /admin/deadlines
check_match "  and has passed" 'deadline-passed">' "$(card_of "term-$T_PAST")"
late_refused "moved back before today, t1's new decision is refused again" "$E_PAST"
page_of a1 /admin/deadlines
out=$(form a1 "/admin/deadlines/term/$T_NOW" op=set deadline="$D_NOW")
check_eq "the default's own date, set, is pinned" "303 $BASE/admin/deadlines?done=set" "$out"
check_match "  audited as set, the same date" "\"old\":\"$D_NOW\",\"new\":\"$D_NOW\",\"old_default\":true,\"new_default\":false,\"change\":\"same\"" \
    "$(last_audit certify.deadline_set "$A1")"

# refused
before=$(cert_row "$T_PAST")
n_before=$(audit_count "actor = '$A1' AND event LIKE 'certify.deadline%'")
page_of a1 /admin/deadlines
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set deadline="$(plus "$E_PAST" -1)")
check_eq "a date before the closing ceremony is refused" "422 " "$out"
check_eq "  with its message next to that term's date" "$(msg zh-TW deadlines.error.before_closing)" "$(error_of "term-$T_PAST")"
check_match "  the typed date echoed" "id=\"deadline-term-$T_PAST\" name=\"deadline\" value=\"$(plus "$E_PAST" -1)\"" "$(form_body)"
check "  and the alert" says zh-TW deadlines.invalid "$(form_body)"
check_nomatch "  the other terms' forms show no error" "deadline-term-$T_NOW-error" "$(form_body)"
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set deadline=2026-02-30)
check_eq "a date that does not exist is refused" "422 " "$out"
check_eq "  with the date message" "$(msg zh-TW form.error.date)" "$(error_of "term-$T_PAST")"
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set)
check_eq "a missing date is refused" "422 " "$out"
check_eq "  with the required message" "$(msg zh-TW form.error.missing)" "$(error_of "term-$T_PAST")"
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=extend deadline="$(day 9)")
check_eq "an unknown operation is refused" "422 " "$out"
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=set deadline="$(day 9)" extra=1)
check_eq "an undeclared field is refused" "422 " "$out"
check "  with its message" says zh-TW form.error.unknown "$(form_body)"
out=$(req a1 -o /dev/null -w '%{http_code}' --data-urlencode op=set \
    --data-urlencode "deadline=$(day 9)" "$BASE/admin/deadlines/term/$T_PAST")
check_eq "a POST without the CSRF token is refused" 403 "$out"
check_eq "nothing refused was stored" "$before" "$(cert_row "$T_PAST")"
check_eq "  nor audited" "$n_before" "$(audit_count "actor = '$A1' AND event LIKE 'certify.deadline%'")"

# reset
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=reset)
check_eq "reset redirects with its notice" "303 $BASE/admin/deadlines?done=reset" "$out"
check_eq "the admin's date is gone" "" "$(cert_row "$T_PAST")"
check_eq "  audited with the date removed and the default again" \
    "term:114-1	success	{\"term\":\"114-1\",\"old\":\"$E_PAST\",\"new\":\"$D_PAST\",\"old_default\":false,\"new_default\":true,\"change\":\"extend\"}" \
    "$(last_audit certify.deadline_reset "$A1")"
page_of a1 "/admin/deadlines?done=reset"
check "the page says so" says zh-TW deadlines.done.reset "$PAGE"
check_match "the term is on the default again" "deadline-date\">$D_PAST<" "$(card_of "term-$T_PAST")"
out=$(form a1 "/admin/deadlines/term/$T_PAST" op=reset)
check_eq "resetting a default changes nothing" "303 $BASE/admin/deadlines?done=reset" "$out"
check_eq "  and audits nothing" 1 "$(n_audit certify.deadline_reset "$A1")"

# ------------------------------------------------------------ selection

page_of a1 /admin/deadlines
Y1=$(day 70) Y2=$(day 80)
out=$(form a1 /admin/deadlines/year/114 op=set deadline="$Y1")
check_eq "a school year's selection deadline is set" "303 $BASE/admin/deadlines?done=$(way "$S114" "$Y1")" "$out"
check_eq "  stored for school A's year 114" "$Y1" "$(sel_row "$sa" 114)"
check_eq "  audited with the old (default) and new dates" \
    "year:114	success	{\"year\":\"114\",\"old\":\"$S114\",\"new\":\"$Y1\",\"old_default\":true,\"new_default\":false,\"change\":\"$(change "$S114" "$Y1")\"}" \
    "$(last_audit selection.deadline_set "$A1")"
out=$(form a1 /admin/deadlines/year/114 op=set deadline="$Y2")
check_eq "moved later, it is extended" "303 $BASE/admin/deadlines?done=extended" "$out"
check_match "  audited as set, with the change" "\"old\":\"$Y1\",\"new\":\"$Y2\".*\"change\":\"extend\"" \
    "$(last_audit selection.deadline_set "$A1")"
page_of a1 /admin/deadlines
card=$(card_of year-114)
check_match "the year shows the date, set by the school" "deadline-date\">$Y2<.*$(msg zh-TW deadlines.custom)" "$card"
check_match "  with a reset button" 'name="op" value="reset"' "$card"
out=$(form a1 /admin/deadlines/year/114 op=set deadline="$(plus "$E_NOW" -1)")
check_eq "a date before the year's last closing ceremony is refused" "422 " "$out"
check_eq "  with its message" "$(msg zh-TW deadlines.error.before_last_term)" "$(error_of year-114)"
check_eq "  nothing stored" "$Y2" "$(sel_row "$sa" 114)"
out=$(form a1 /admin/deadlines/year/114 op=reset)
check_eq "reset" "303 $BASE/admin/deadlines?done=reset" "$out"
check_eq "  the row is gone" "" "$(sel_row "$sa" 114)"
check_eq "  audited" \
    "year:114	success	{\"year\":\"114\",\"old\":\"$Y2\",\"new\":\"$S114\",\"old_default\":false,\"new_default\":true,\"change\":\"$(change "$Y2" "$S114")\"}" \
    "$(last_audit selection.deadline_reset "$A1")"
out=$(form a1 /admin/deadlines/year/200 op=set deadline="$Y1")
check_eq "a year without terms is 404" "404 " "$out"
for y in abc 0114 1140 -1; do
	out=$(form a1 "/admin/deadlines/year/$y" op=set deadline="$Y1")
	check_eq "  so is year '$y'" "404 " "$out"
done

# English
req a1 -o /dev/null "$BASE/lang/en"
page_of a1 /admin/deadlines
check_match "the page speaks English when chosen" '<h1 id="deadlines-title">Certification and selection deadlines</h1>' "$PAGE"
out=$(form a1 "/admin/deadlines/term/$T_NOW" op=set deadline="$(plus "$E_NOW" -3)")
check_eq "  and refuses in English" "$(msg en deadlines.error.before_closing | html_esc)" "$(error_of "term-$T_NOW")"
req a1 -o /dev/null "$BASE/lang/zh-TW"

# ------------------------------------------------------------ scope

page_of b1 /admin/deadlines
check_match "b1 sees school B's term" "id=\"term-$T_B\"" "$PAGE"
check_nomatch "  and none of school A's" "$T_PAST|$T_NOW|$T_OLD" "$PAGE"
check_match "  and its own year 114 on the default" "deadline-date\">$S114<" "$(card_of year-114)"
out=$(form b1 "/admin/deadlines/term/$T_PAST" op=set deadline="$(day 30)")
check_eq "school A's term is 404 for b1" "404 " "$out"
check_eq "  nothing was stored" "" "$(cert_row "$T_PAST")"
check_match "  and the refusal is audited" '"reason":"not_found"' \
    "$(audit_sql "SELECT detail FROM audit_log WHERE event = 'access.denied' AND actor = '$B1' ORDER BY id DESC LIMIT 1")"
out=$(form b1 /admin/deadlines/year/113 op=set deadline="$(day 30)")
check_eq "a year only school A has terms in is 404 for b1" "404 " "$out"
out=$(form b1 /admin/deadlines/year/114 op=set deadline="$(day 30)")
check_eq "b1 sets school B's year 114" "303 $BASE/admin/deadlines?done=$(way "$S114" "$(day 30)")" "$out"
check_eq "  for school B only" "$(day 30) " "$(sel_row "$sb" 114) $(sel_row "$sa" 114)"
page_of a1 /admin/deadlines
out=$(form a1 "/admin/deadlines/term/$(new_public_id)" op=set deadline="$(day 30)")
check_eq "an unknown term is 404" "404 " "$out"
out=$(form a1 "/admin/deadlines/term/not-an-id" op=reset)
check_eq "a malformed id is 404" "404 " "$out"
check_eq "a teacher cannot open the page" 403 "$(st t1 "$BASE/admin/deadlines" | cut -d' ' -f1)"
check_eq "a student cannot open the page" 403 "$(st s1 "$BASE/admin/deadlines" | cut -d' ' -f1)"
check "the audit chain is whole" audit_verified
