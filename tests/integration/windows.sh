# windows: the school admins' upload windows (/admin/windows) through nginx,
# signed in for real. The list shows every term of the school, newest first,
# with its window (the default rule, or the admin's dates) and whether it is
# open now; a window is set, refused with a message next to the field when
# its dates are wrong (not a date, missing, closing before opening), and
# reset to the default; each change is audited with its dates; another
# school's term is 404 and its terms never listed; other roles cannot reach
# the page.
. "$(dirname "$0")/lib.sh"

RUNID="uw$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/records_helpers.bash"

# day N: the Taiwan date N days from today.
day() { TZ=Asia/Taipei date -d "$1 days" +%Y-%m-%d; }
# term SCHOOL YEAR SEMESTER STARTS ENDS: adds a term; prints its public id.
term() {
	local pub
	pub=$(new_public_id)
	app_sql "INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
	    SELECT '$pub', id, $2, $3, '$4', '$5' FROM schools WHERE code = '$1'" || return 1
	printf '%s\n' "$pub"
}
windows_of() { app_sql "SELECT CONCAT(opens_on, ' ', closes_on) FROM upload_windows w JOIN terms t ON t.id = w.term_id WHERE t.public_id = '$1'"; }
# row_of ID: the term's card on the last page fetched ($PAGE), one line.
row_of() { printf '%s' "$PAGE" | tr '\n' ' ' | sed -n "s/.*\(<section class=\"card stack\" id=\"term-$1\".*\)/\1/p" | sed 's/<\/section>.*//'; }

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "上傳甲高中"
check "school B is added" L school add --code "$sb" --name "上傳乙高中"
check "admin a1 of school A signs in with a second factor" signin_as a1 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
check "teacher t1 of school A signs in" signin_as t1 teacher "$sa"
A1=$(login_of a1) B1=$(login_of b1)

# Three terms of school A (past, now, later) and one of school B.
PAST_END=$(day -200) NOW_END=$(day 60) NEXT_START=$(day 100)
T_PAST=$(term "$sa" 112 2 "$(day -380)" "$PAST_END")
T_NOW=$(term "$sa" 113 1 "$(day -30)" "$NOW_END")
T_NEXT=$(term "$sa" 113 2 "$NEXT_START" "$(day 250)")
T_B=$(term "$sb" 113 1 "$(day -30)" "$NOW_END")
check "the terms exist" test -n "$T_PAST" -a -n "$T_NOW" -a -n "$T_NEXT" -a -n "$T_B"
DAYS=$(conf_get window_days "$LICHENG_CONF")
: "${DAYS:=14}"

# ------------------------------------------------------------ the list

page_of a1 /admin/windows
check_match "the page is zh-TW" '<h1 id="windows-title">上傳期間</h1>' "$PAGE"
check "its lead states the default rule with the configured days" \
    says zh-TW windows.lead "$PAGE"
check_match "the navigation links it" 'href="/admin/windows" aria-current="page"' "$PAGE"
order=$(printf '%s' "$PAGE" | sed -n 's/.*<h2 id="term-[^"]*-title">學期 \([0-9-]*\)<\/h2>.*/\1/p' | tr '\n' ' ')
check_eq "school A's terms, newest first, and only them" "113-2 113-1 112-2 " "$order"
check_nomatch "school B's term is not listed" "$T_B" "$PAGE"
row=$(row_of "$T_NOW")
check_match "the current term's window is the default, up to $DAYS days after its end" \
    "$(day -30) – $(TZ=Asia/Taipei date -d "$NOW_END $DAYS days" +%Y-%m-%d)" "$row"
check "  and says it is the default" says zh-TW windows.default "$row"
check_match "  and open now" 'window-open">開放中<' "$row"
check_nomatch "  with no reset button" 'value="reset"' "$row"
check_match "the past term's window is closed" 'window-closed">已截止<' "$(row_of "$T_PAST")"
check_match "the next term's window is not open yet" 'window-not_yet">尚未開放<' "$(row_of "$T_NEXT")"
check_match "each term has a form for its dates" \
    "action=\"/admin/windows/$T_NEXT\".*name=\"opens_on\" value=\"$NEXT_START\"" "$(row_of "$T_NEXT")"
check_nomatch "no inline script or style" '<script|style=' "$PAGE"

# ------------------------------------------------------------ set

OPENS=$(day -3) CLOSES=$(day 5)
out=$(form a1 "/admin/windows/$T_NOW" op=set "opens_on=$OPENS" "closes_on=$CLOSES")
check_eq "setting a window redirects with the done notice" "303 $BASE/admin/windows?done=set" "$out"
check_eq "the window is stored" "$OPENS $CLOSES" "$(windows_of "$T_NOW")"
check_eq "  scoped to school A" "$sa" "$(app_sql "SELECT s.code FROM upload_windows w JOIN terms t ON t.id = w.term_id JOIN schools s ON s.id = w.school_id WHERE t.public_id = '$T_NOW'")"
check_match "it is audited with the term and its dates" \
    "^term:113-1	success	\{\"term\":\"113-1\",\"opens_on\":\"$OPENS\",\"closes_on\":\"$CLOSES\"\}\$" \
    "$(last_audit upload_window.set "$A1")"
page_of a1 "/admin/windows?done=set"
check "the list says it was saved" says zh-TW windows.done.set "$PAGE"
row=$(row_of "$T_NOW")
check_match "the term shows the new window" "$OPENS – $CLOSES" "$row"
check "  set by the school" says zh-TW windows.custom "$row"
check_match "  still open" 'window-open">' "$row"
check_match "  with a reset button" 'name="op" value="reset"' "$row"

# A window that has ended is shown closed; one that has not begun, not yet.
out=$(form a1 "/admin/windows/$T_NOW" op=set "opens_on=$(day -10)" "closes_on=$(day -1)")
check_eq "a window in the past is accepted" "303 $BASE/admin/windows?done=set" "$out"
page_of a1 /admin/windows
check_match "  and shown closed" 'window-closed">' "$(row_of "$T_NOW")"
out=$(form a1 "/admin/windows/$T_NOW" op=set "opens_on=$(day 1)" "closes_on=$(day 1)")
check_eq "a one-day window (opens = closes) is accepted" "303 $BASE/admin/windows?done=set" "$out"
page_of a1 /admin/windows
check_match "  and shown not open yet" 'window-not_yet">' "$(row_of "$T_NOW")"
check_eq "three sets, three audit rows" 3 "$(n_audit upload_window.set "$A1")"

# ------------------------------------------------------------ refused

before=$(windows_of "$T_NOW")
out=$(form a1 "/admin/windows/$T_NOW" op=set "opens_on=$(day 9)" "closes_on=$(day 2)")
check_eq "closing before opening is refused with 422" "422 " "$out"
body=$(form_body)
check "  with the message next to the closing date" says zh-TW windows.error.order "$body"
check_match "  on that term's form" \
    "id=\"closes_on-$T_NOW-error\">$(msg zh-TW windows.error.order)<" "$body"
check_match "  the typed dates echoed back" \
    "name=\"opens_on\" value=\"$(day 9)\".*name=\"closes_on\" value=\"$(day 2)\"" \
    "$(printf '%s' "$body" | tr '\n' ' ' | sed -n "s/.*id=\"term-$T_NOW\"//p")"
check "  and the alert" says zh-TW windows.invalid "$body"
check_nomatch "  the other terms' forms show no error" "closes_on-$T_NEXT-error" "$body"
out=$(form a1 "/admin/windows/$T_NOW" op=set "opens_on=2026-02-30" "closes_on=$(day 2)")
check_eq "a date that does not exist is refused" "422 " "$out"
check_match "  with the date message on the opening date" \
    "id=\"opens_on-$T_NOW-error\">$(msg zh-TW form.error.date)<" "$(form_body)"
out=$(form a1 "/admin/windows/$T_NOW" op=set "opens_on=$(day 2)")
check_eq "a missing closing date is refused" "422 " "$out"
check_match "  with the required message" \
    "id=\"closes_on-$T_NOW-error\">$(msg zh-TW form.error.missing)<" "$(form_body)"
out=$(form a1 "/admin/windows/$T_NOW" op=set "opens_on=$(day 2)" "closes_on=$(day 3)" extra=1)
check_eq "an undeclared field is refused" "422 " "$out"
out=$(form a1 "/admin/windows/$T_NOW" op=grow "opens_on=$(day 2)" "closes_on=$(day 3)")
check_eq "an unknown operation is refused" "422 " "$out"
check_eq "nothing refused was stored" "$before" "$(windows_of "$T_NOW")"
check_eq "  nor audited" 3 "$(n_audit upload_window.set "$A1")"
out=$(req a1 -o /dev/null -w '%{http_code}' --data-urlencode op=set \
    --data-urlencode "opens_on=$(day 1)" --data-urlencode "closes_on=$(day 2)" \
    "$BASE/admin/windows/$T_NOW")
check_eq "a POST without the CSRF token is refused" 403 "$out"

# English
req a1 -o /dev/null "$BASE/lang/en"
page_of a1 /admin/windows
check_match "the page speaks English when chosen" '<h1 id="windows-title">Upload windows</h1>' "$PAGE"
check "  with the English states" says en windows.state.not_yet "$(row_of "$T_NOW")"
req a1 -o /dev/null "$BASE/lang/zh-TW"
page_of a1 /admin/windows

# ------------------------------------------------------------ reset

set_dates=$(windows_of "$T_NOW")
out=$(form a1 "/admin/windows/$T_NOW" op=reset)
check_eq "reset redirects with its notice" "303 $BASE/admin/windows?done=reset" "$out"
check_eq "the window row is gone" "" "$(windows_of "$T_NOW")"
check_match "the reset is audited with the dates it removed" \
    "^term:113-1	success	\{\"term\":\"113-1\",\"opens_on\":\"${set_dates% *}\",\"closes_on\":\"${set_dates#* }\"\}\$" \
    "$(last_audit upload_window.reset "$A1")"
page_of a1 "/admin/windows?done=reset"
check "the list says so" says zh-TW windows.done.reset "$PAGE"
check_match "the term is on the default window again, open" 'window-open">' "$(row_of "$T_NOW")"
page_of a1 /admin/windows
out=$(form a1 "/admin/windows/$T_NOW" op=reset)
check_eq "resetting a default window changes nothing" "303 $BASE/admin/windows?done=reset" "$out"
check_eq "  and audits nothing" 1 "$(n_audit upload_window.reset "$A1")"

# ------------------------------------------------------------ scope

page_of b1 /admin/windows
check_match "b1 sees school B's term" "id=\"term-$T_B\"" "$PAGE"
check_nomatch "  and none of school A's" "$T_NOW|$T_PAST|$T_NEXT" "$PAGE"
out=$(form b1 "/admin/windows/$T_NOW" op=set "opens_on=$(day 1)" "closes_on=$(day 2)")
check_eq "school A's term is 404 for b1" "404 " "$out"
check_eq "  nothing was stored" "" "$(windows_of "$T_NOW")"
check_match "  and the refusal is audited" '"reason":"not_found"' \
    "$(audit_sql "SELECT detail FROM audit_log WHERE event = 'access.denied' AND actor = '$B1' ORDER BY id DESC LIMIT 1")"
out=$(form b1 "/admin/windows/$T_NOW" op=reset)
check_eq "  a reset of it too" "404 " "$out"
page_of a1 /admin/windows
out=$(form a1 "/admin/windows/$(new_public_id)" op=set "opens_on=$(day 1)" "closes_on=$(day 2)")
check_eq "an unknown term is 404" "404 " "$out"
out=$(form a1 "/admin/windows/not-an-id" op=reset)
check_eq "a malformed id is 404" "404 " "$out"
check_eq "a teacher cannot open the page" 403 "$(st t1 "$BASE/admin/windows" | cut -d' ' -f1)"
check "the audit chain is whole" audit_verified
