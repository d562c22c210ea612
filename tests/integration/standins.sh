# standins: the school admins' stand-in certifiers (/admin/standins)
# through nginx, signed in for real. An admin names a stand-in for a
# course and for a teacher over dates; the list shows them with where
# today stands in each (in force, not yet, ended), who set them and when;
# every refusal (the course's own teacher, the teacher themself, unknown
# and another school's teachers and courses with the same message, a
# teacher who left or is disabled, a duplicate, dates out of order,
# missing fields) is a 422 with its message next to the field, the values
# echoed, and nothing written or audited; revoking keeps the row, below
# the active ones; another school's assignment is 404; teachers and
# students cannot reach the page.
. "$(dirname "$0")/lib.sh"

RUNID="si$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/records_helpers.bash"
. "$(dirname "$0")/term_helpers.bash"

# teacher NAME SCHOOL: a teacher's account (not activated) and records row.
teacher() {
	L user add --school "$2" --role teacher --login "$(login_of "$1")" --name "教師$1" >/dev/null &&
		teacher_row "$1"
}
teacher_row() {
	app_sql "INSERT INTO teachers (public_id, school_id, user_id)
	    SELECT '$(new_public_id)', school_id, id FROM users WHERE login = '$(login_of "$1")'"
}
tpub() { app_sql "SELECT t.public_id FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$(login_of "$1")'"; }
# course SCHOOL TERM_PUB CODE NAME TEACHER: a course taught by TEACHER;
# prints its public id.
course() {
	local pub
	pub=$(new_public_id)
	app_sql "INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
	    SELECT '$pub', t.school_id, t.id, '$3', '$4', 2 FROM terms t WHERE t.public_id = '$2';
	    INSERT INTO course_teachers (course_id, teacher_id)
	    SELECT c.id, t.id FROM courses c, teachers t JOIN users u ON u.id = t.user_id
	    WHERE c.public_id = '$pub' AND u.login = '$(login_of "$5")'" || return 1
	printf '%s\n' "$pub"
}
n_rows() { app_sql "SELECT COUNT(*) FROM cert_standins s JOIN schools c ON c.id = s.school_id WHERE c.code = '$sa'"; }
# row_of ID: the assignment's table row on the last page fetched ($PAGE).
row_of() { printf '%s' "$PAGE" | tr '\n' ' ' | sed -n "s/.*\(<tr id=\"standin-$1\".*\)/\1/p" | sed 's/<\/tr>.*//'; }
# error_of FIELD: the message next to FIELD in the last form's answer.
error_of() { form_body | sed -n "s/.*<p class=\"field-error\" id=\"$1-error\">\([^<]*\)<.*/\1/p" | head -n 1; }
# refused DESC FIELD KEY FIELD=VALUE...: the form is refused with 422 and
# the message KEY (zh-TW) next to FIELD.
refused() {
	local desc=$1 field=$2 key=$3 out
	shift 3
	out=$(form a1 /admin/standins "$@")
	check_eq "$desc: 422" "422 " "$out"
	check_eq "  with its message next to $field" "$(msg zh-TW "$key" | html_esc)" "$(error_of "$field")"
}

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "代理甲高中"
check "school B is added" L school add --code "$sb" --name "代理乙高中"
check "admin a1 of school A signs in with a second factor" signin_as a1 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
check "teacher ta of school A signs in" signin_as ta teacher "$sa"
check "student s1 of school A signs in" signin_as s1 student "$sa"
A1=$(login_of a1) B1=$(login_of b1)
check "ta's teachers row" teacher_row ta
check "teachers tb, tc, tl, td of school A" eval 'teacher tb "$sa" && teacher tc "$sa" && teacher tl "$sa" && teacher td "$sa"'
check "teacher tx of school B" teacher tx "$sb"
app_sql "UPDATE teachers t JOIN users u ON u.id = t.user_id SET t.status = 'left' WHERE u.login = '$(login_of tl)';
    UPDATE users SET status = 'disabled' WHERE login = '$(login_of td)'"
TA=$(tpub ta) TB=$(tpub tb) TC=$(tpub tc) TL=$(tpub tl) TD=$(tpub td) TX=$(tpub tx)
T_NOW=$(term "$sa" 114 1 "$(day -60)" "$(day 60)")
T_OLD=$(term "$sa" 113 2 "$(day -250)" "$(day -80)")
T_B=$(term "$sb" 114 1 "$(day -60)" "$(day 60)")
C1=$(course "$sa" "$T_NOW" MA101 數學甲 ta)
C2=$(course "$sa" "$T_OLD" PH201 物理乙 tb)
CB=$(course "$sb" "$T_B" EN101 英文 tx)
check "the records exist" test -n "$TA" -a -n "$TB" -a -n "$TC" -a -n "$TL" -a -n "$TD" -a -n "$TX" -a -n "$C1" -a -n "$C2" -a -n "$CB"

# ------------------------------------------------------------ the page

page_of a1 /admin/standins
check_match "the page is zh-TW" '<h1 id="standins-title">代理認證</h1>' "$PAGE"
check_match "the navigation links it" 'href="/admin/standins" aria-current="page"' "$PAGE"
check "it says there is no assignment yet" says zh-TW standins.none_active "$PAGE"
check_match "the stand-in choices hold the active teachers" "<option value=\"$TB\">教師tb \\($(login_of tb)\\)</option>" "$PAGE"
check_nomatch "  not one who left" "value=\"$TL\"" "$PAGE"
check_nomatch "  nor another school's" "value=\"$TX\"" "$PAGE"
order=$(printf '%s' "$PAGE" | grep -o "<option value=\"\\($C1\\|$C2\\)\"" | sed 's/.*value="\([^"]*\)"/\1/' | tr '\n' ' ')
check_eq "the courses, newest term first" "$C1 $C2 " "$order"
check_match "  labelled with term, code and name" "<option value=\"$C1\">114-1 MA101 數學甲</option>" "$PAGE"
check_nomatch "  none of another school" "$CB" "$PAGE"
check_nomatch "no inline script or style" '<script|style=' "$PAGE"

# ------------------------------------------------------------ create

out=$(form a1 /admin/standins standin="$TB" scope=course course="$C1" for_teacher="$TA" starts_on= ends_on=)
check_eq "a stand-in for a course is named" "303 $BASE/admin/standins?done=created" "$out"
S1=$(app_sql "SELECT s.public_id FROM cert_standins s JOIN courses c ON c.id = s.course_id WHERE c.public_id = '$C1'")
check_eq "  stored for the course, without dates or teacher, set by a1" \
    "$TB	NULL	NULL	NULL	$A1" \
    "$(app_sql "SELECT t.public_id, COALESCE(s.for_teacher_id, 'NULL'), COALESCE(s.starts_on, 'NULL'), COALESCE(s.ends_on, 'NULL'), u.login
        FROM cert_standins s JOIN teachers t ON t.id = s.standin_teacher_id JOIN users u ON u.id = s.set_by WHERE s.public_id = '$S1'")"
check_eq "  audited with the stand-in and the course" \
    "standin:$S1	success	{\"standin\":\"$(login_of tb)\",\"scope\":\"course\",\"course\":\"MA101\",\"term\":\"114-1\"}" \
    "$(last_audit certify.standin_set "$A1")"
page_of a1 "/admin/standins?done=created"
check "the list says it was named" says zh-TW standins.done.created "$PAGE"
row=$(row_of "$S1")
check_match "  and shows who stands in" "教師tb \\($(login_of tb)\\)" "$row"
check_match "  for the course, its code, name and term" 'MA101 數學甲 \(114-1\)' "$row"
check_match "  in force" 'standin-in_force">生效中<' "$row"
check_match "  set by a1, with the time" "測試a1 \\($A1\\) <span class=\"hint\">$(day 0) [0-9]{2}:[0-9]{2}<" "$row"
check_match "  with a revoke button" "action=\"/admin/standins/$S1/revoke\"" "$row"

out=$(form a1 /admin/standins standin="$TC" scope=teacher course="$C1" for_teacher="$TA" starts_on="$(day -1)" ends_on="$(day 5)")
check_eq "a stand-in for a teacher over dates is named" "303 $BASE/admin/standins?done=created" "$out"
S2=$(app_sql "SELECT s.public_id FROM cert_standins s JOIN teachers t ON t.id = s.standin_teacher_id WHERE t.public_id = '$TC'")
check_eq "  stored for the teacher with the dates, no course" \
    "$TA	$(day -1)	$(day 5)	NULL" \
    "$(app_sql "SELECT t.public_id, s.starts_on, s.ends_on, COALESCE(s.course_id, 'NULL') FROM cert_standins s
        JOIN teachers t ON t.id = s.for_teacher_id WHERE s.public_id = '$S2'")"
check_eq "  audited with both teachers and the dates" \
    "standin:$S2	success	{\"standin\":\"$(login_of tc)\",\"scope\":\"teacher\",\"for_teacher\":\"$(login_of ta)\",\"starts_on\":\"$(day -1)\",\"ends_on\":\"$(day 5)\"}" \
    "$(last_audit certify.standin_set "$A1")"
out=$(form a1 /admin/standins standin="$TB" scope=teacher for_teacher="$TA" starts_on="$(day 10)" ends_on="$(day 20)")
check_eq "one that starts later is named" "303 $BASE/admin/standins?done=created" "$out"
out=$(form a1 /admin/standins standin="$TC" scope=teacher for_teacher="$TB" starts_on="$(day -20)" ends_on="$(day -10)")
check_eq "one that has ended is named" "303 $BASE/admin/standins?done=created" "$out"
out=$(form a1 /admin/standins standin="$TC" scope=teacher for_teacher="$TA" starts_on="$(day 6)" ends_on="$(day 6)")
check_eq "the same pair on the next days (no day shared) is named" "303 $BASE/admin/standins?done=created" "$out"
S3=$(app_sql "SELECT public_id FROM cert_standins WHERE starts_on = '$(day 10)' AND school_id = (SELECT id FROM schools WHERE code = '$sa')")
S4=$(app_sql "SELECT public_id FROM cert_standins WHERE ends_on = '$(day -10)' AND school_id = (SELECT id FROM schools WHERE code = '$sa')")
page_of a1 /admin/standins
row=$(row_of "$S2")
check_match "the teacher's assignment names the teacher and the dates" \
    "教師</span> <span class=\"standin-teacher\">測試ta \\($(login_of ta)\\)</span>, <span class=\"standin-dates\">$(day -1) – $(day 5)<" "$row"
check_match "  in force today" 'standin-in_force">' "$row"
check_match "the later one is not started yet" 'standin-not_yet">尚未開始<' "$(row_of "$S3")"
check_match "the past one has ended" 'standin-ended">已結束<' "$(row_of "$S4")"
check_eq "five assignments, five audit rows" "5 5" "$(n_rows) $(n_audit certify.standin_set "$A1")"

# ------------------------------------------------------------ refused

rows_before=$(n_rows)
refused "the course's own teacher as its stand-in" standin standins.error.own_course \
    standin="$TA" scope=course course="$C1"
check_match "  the choices echoed: the stand-in selected" "<option value=\"$TA\" selected>" "$(form_body)"
check_match "  the course selected" "<option value=\"$C1\" selected>" "$(form_body)"
check "  and the alert" says zh-TW standins.invalid "$(form_body)"
refused "a teacher as their own stand-in" for_teacher standins.error.self \
    standin="$TA" scope=teacher for_teacher="$TA" starts_on="$(day 1)" ends_on="$(day 2)"
check_match "  the dates echoed" "name=\"starts_on\" value=\"$(day 1)\".*name=\"ends_on\" value=\"$(day 2)\"" "$(form_body | tr '\n' ' ')"
check_match "  the teacher scope still chosen" 'value="teacher" checked' "$(form_body)"
refused "an unknown stand-in" standin standins.error.no_teacher standin="$(new_public_id)" scope=course course="$C1"
unknown_msg=$(error_of standin)
refused "another school's teacher as stand-in" standin standins.error.no_teacher standin="$TX" scope=course course="$C1"
check_eq "  the same message as an unknown one" "$unknown_msg" "$(error_of standin)"
refused "another school's course" course standins.error.no_course standin="$TC" scope=course course="$CB"
refused "an unknown course" course standins.error.no_course standin="$TC" scope=course course="$(new_public_id)"
refused "another school's teacher stood in for" for_teacher standins.error.no_teacher \
    standin="$TC" scope=teacher for_teacher="$TX" starts_on="$(day 30)" ends_on="$(day 31)"
refused "a stand-in who left" standin standins.error.inactive standin="$TL" scope=course course="$C1"
refused "a stand-in whose account is disabled" standin standins.error.inactive standin="$TD" scope=course course="$C2"
refused "a second stand-in of the same teacher for the same course" standin standins.error.dup_course \
    standin="$TB" scope=course course="$C1"
refused "the same pair on a day already covered" standin standins.error.dup_teacher \
    standin="$TC" scope=teacher for_teacher="$TA" starts_on="$(day 3)" ends_on="$(day 8)"
refused "an end before the start" ends_on standins.error.order \
    standin="$TB" scope=teacher for_teacher="$TC" starts_on="$(day 9)" ends_on="$(day 2)"
refused "a teacher's assignment without dates" starts_on form.error.missing \
    standin="$TB" scope=teacher for_teacher="$TC" starts_on= ends_on=
check_eq "  the end date is required too" "$(msg zh-TW form.error.missing)" "$(error_of ends_on)"
refused "a course's assignment without a course" course form.error.missing standin="$TB" scope=course course=
refused "no stand-in" standin form.error.missing standin= scope=course course="$C1"
refused "an unknown scope" scope form.error.choice standin="$TB" scope=school course="$C1"
refused "a date that does not exist" ends_on form.error.date \
    standin="$TB" scope=teacher for_teacher="$TC" starts_on="$(day 1)" ends_on=2026-02-30
out=$(form a1 /admin/standins standin="$TB" scope=course course="$C2" extra=1)
check_eq "an undeclared field is refused" "422 " "$out"
check "  with its message" says zh-TW form.error.unknown "$(form_body)"
out=$(req a1 -o /dev/null -w '%{http_code}' --data-urlencode standin="$TB" \
    --data-urlencode scope=course --data-urlencode course="$C2" "$BASE/admin/standins")
check_eq "a POST without the CSRF token is refused" 403 "$out"
check_eq "nothing refused was stored" "$rows_before" "$(n_rows)"
check_eq "  nor audited" 5 "$(n_audit certify.standin_set "$A1")"

# English
req a1 -o /dev/null "$BASE/lang/en"
page_of a1 /admin/standins
check_match "the page speaks English when chosen" '<h1 id="standins-title">Stand-in certifiers</h1>' "$PAGE"
check "  with the English states" says en standins.state.not_yet "$(row_of "$S3")"
out=$(form a1 /admin/standins standin="$TA" scope=course course="$C1")
check_eq "  and refuses in English" "$(msg en standins.error.own_course | html_esc)" "$(error_of standin)"
req a1 -o /dev/null "$BASE/lang/zh-TW"

# ------------------------------------------------------------ revoke

page_of a1 /admin/standins
out=$(form a1 "/admin/standins/$S1/revoke")
check_eq "revoking redirects with its notice" "303 $BASE/admin/standins?done=revoked" "$out"
check_eq "the row is kept, revoked by a1" "1	$A1" \
    "$(app_sql "SELECT s.revoked_at IS NOT NULL, u.login FROM cert_standins s JOIN users u ON u.id = s.revoked_by WHERE s.public_id = '$S1'")"
check_eq "  audited with what it was" \
    "standin:$S1	success	{\"standin\":\"$(login_of tb)\",\"scope\":\"course\",\"course\":\"MA101\",\"term\":\"114-1\"}" \
    "$(last_audit certify.standin_revoked "$A1")"
page_of a1 "/admin/standins?done=revoked"
check "the list says so" says zh-TW standins.done.revoked "$PAGE"
revoked_part=$(printf '%s' "$PAGE" | tr '\n' ' ' | sed -n 's/.*id="standins-revoked"//p')
active_part=$(printf '%s' "$PAGE" | tr '\n' ' ' | sed -n 's/.*id="standins-active"\(.*\)id="standin-add".*/\1/p')
check_match "it is listed below, with who revoked it and when" \
    "id=\"standin-$S1\".*測試a1 \\($A1\\) <span class=\"hint\">$(day 0) [0-9:]{5}<" "$revoked_part"
check_nomatch "  and no longer among the current ones" "standin-$S1" "$active_part"
check "  the revoked count shows" says zh-TW standins.revoked_total "$PAGE"
out=$(form a1 "/admin/standins/$S1/revoke")
check_eq "revoking it again changes nothing" "303 $BASE/admin/standins?done=revoked" "$out"
check_eq "  and audits nothing" 1 "$(n_audit certify.standin_revoked "$A1")"
out=$(form a1 /admin/standins standin="$TB" scope=course course="$C1")
check_eq "once revoked, the same stand-in may be named again" "303 $BASE/admin/standins?done=created" "$out"

# ------------------------------------------------------------ scope

page_of b1 /admin/standins
check_nomatch "b1 sees none of school A's assignments" "$S1|$S2|$S3|$S4" "$PAGE"
check "  and has none" says zh-TW standins.none_active "$PAGE"
out=$(form b1 "/admin/standins/$S2/revoke")
check_eq "school A's assignment is 404 for b1" "404 " "$out"
check_eq "  and stays in force" 0 "$(app_sql "SELECT revoked_at IS NOT NULL FROM cert_standins WHERE public_id = '$S2'")"
check_match "  the refusal is audited" '"reason":"not_found"' \
    "$(audit_sql "SELECT detail FROM audit_log WHERE event = 'access.denied' AND actor = '$B1' ORDER BY id DESC LIMIT 1")"
out=$(form b1 /admin/standins standin="$TA" scope=course course="$CB")
check_eq "b1 cannot name school A's teacher" "422 " "$out"
check_eq "  told it is no teacher of theirs" "$unknown_msg" "$(error_of standin)"
page_of a1 /admin/standins
out=$(form a1 "/admin/standins/$(new_public_id)/revoke")
check_eq "an unknown assignment is 404" "404 " "$out"
out=$(form a1 "/admin/standins/not-an-id/revoke")
check_eq "a malformed id is 404" "404 " "$out"
check_eq "a teacher cannot open the page" 403 "$(st ta "$BASE/admin/standins" | cut -d' ' -f1)"
page_of ta /
out=$(form ta /admin/standins standin="$TB" scope=course course="$C2")
check_eq "  nor post to it" "403 " "$out"
check_eq "a student cannot open the page" 403 "$(st s1 "$BASE/admin/standins" | cut -d' ' -f1)"
check_eq "nothing of theirs was stored" 0 "$(app_sql "SELECT COUNT(*) FROM cert_standins s JOIN courses c ON c.id = s.course_id WHERE c.public_id = '$C2'")"
check "the audit chain is whole" audit_verified
