# audit_page: GET /audit through nginx for a signed-in auditor — newest
# first, filtered by event (prefix), outcome, actor and dates, 50 rows a
# page with links that keep the filters; invalid filters answered with
# per-field messages and no rows; every view recorded as audit.view; only
# auditors admitted; stored values shown escaped.
. "$(dirname "$0")/lib.sh"

RUNID="ap$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

audit_sql() { sql_as audit "$1"; }
# col N PAGE: the text of column N of each row of the audit table.
col() {
	printf '%s\n' "$2" | awk -v n="$1" '
	    /<tr class="audit-row">/ { i = 0; inrow = 1; next }
	    inrow && /^<td/ { i++; if (i == n) { gsub(/<[^>]*>/, ""); print } }
	    /<\/tr>/ { inrow = 0 }'
}
rows() { printf '%s\n' "$1" | grep -c '<tr class="audit-row">'; }
views() { audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'audit.view' AND actor = '$AU'"; }
last_view() {
	audit_sql "SELECT target, outcome, detail FROM audit_log WHERE event = 'audit.view' AND actor = '$AU' ORDER BY id DESC LIMIT 1"
}
# view QUERY: the auditor's page for a query string, status on the last line.
view() { req au "$BASE/audit$1" -w '\n%{http_code}'; }
status_of() { printf '%s' "$1" | tail -n 1; }

# ------------------------------------------------------------ accounts

sx=${RUNID}x
check "a school is added" L school add --code "$sx" --name "稽核測試高中"
check "a school admin signs in" signin_as x1 school_admin "$sx"
check "an auditor signs in with a second factor" signin_as au auditor
X1=$(login_of x1) AU=$(login_of au)

# A failed sign-in whose login is markup: the log keeps it as typed.
xss='<script>alert(1)</script>'
token=$(csrf anon /login)
st anon --data-urlencode "login=$xss" --data-urlencode "password=x" \
    --data-urlencode "csrf=$token" "$BASE/login" >/dev/null

# ------------------------------------------------------------ who may read

check_eq "a school admin gets 403" 403 "$(http_status /audit -b "$tmp/x1.jar")"
check_match "and the refusal is audited" '^audit	denied	\{"reason":"role"' \
    "$(audit_sql "SELECT target, outcome, detail FROM audit_log WHERE event = 'access.denied' AND actor = '$X1' ORDER BY id DESC LIMIT 1")"
check_eq "signed out, /audit leads to sign-in" "303 $BASE/login" \
    "$(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/audit")"

# ------------------------------------------------------------ the log

before=$(views)
out=$(view "")
check_eq "the auditor gets the page" 200 "$(status_of "$out")"
check_match "in zh-TW" '<h1 id="audit-title">稽核紀錄</h1>' "$out"
check_match "it says how the chain is verified" 'licheng audit verify' "$out"
check_eq "the view is recorded" $((before + 1)) "$(views)"
check_eq "with the page as detail" 'audit_log	success	{"page":1}' "$(last_view)"
check_eq "newest first: the first row is this very view" "$AU audit.view" \
    "$(paste -d ' ' <(col 2 "$out") <(col 6 "$out") | head -n 1)"
check_eq "times are as stored, newest first" "$(col 1 "$out" | sort -r)" "$(col 1 "$out")"
check_match "times are UTC with microseconds" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$' \
    "$(col 1 "$out" | head -n 1)"
total=$(audit_sql "SELECT COUNT(*) FROM audit_log")
check_match "the total is counted" "共 $total 筆符合" "$out"
check_eq "every row up to fifty is shown" $((total < 50 ? total : 50)) "$(rows "$out")"
check_nomatch "no inline script or style" '<script|style=' "$out"

# ------------------------------------------------------------ filters

out=$(view "?event=login")
check_eq "event=login is 200" 200 "$(status_of "$out")"
n=$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'login' OR event LIKE 'login.%'")
check_match "event=login counts login and login.* only" "共 $n 筆符合" "$out"
check_eq "every row shown is a login event" "" "$(col 6 "$out" | grep -Ev '^login(\.|$)')"
check_match "login.failure is among them" '^login\.failure$' "$(col 6 "$out")"
check_match "login.success too" '^login\.success$' "$(col 6 "$out")"
check_eq "the view's filters are recorded" 'audit_log	success	{"event":"login","page":1}' "$(last_view)"

out=$(view "?event=login.failure")
check_match "a stored login that is markup comes back escaped" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$out"
check_nomatch "never as markup" '<script>alert' "$out"

out=$(view "?event=log")
check_match "a prefix is a whole segment: log matches nothing of login" "共 0 筆符合" "$out"
check_match "and says nothing matched" '沒有符合篩選條件的紀錄' "$out"

out=$(view "?outcome=denied")
check_eq "outcome=denied shows only refusals" "" "$(col 8 "$out" | grep -v '^denied$')"
check_match "the school admin's refusal is there" "^$X1\$" "$(col 2 "$out")"
check_match "with role, school, address and detail" \
    "<td>$X1</td>.<td>school_admin</td>.<td>$sx</td>.<td class=\"addr\">127\\.0\\.0\\.1</td>.<td>access\\.denied</td>.<td>audit</td>.<td>denied</td>.<td><code>\\{&quot;reason&quot;:&quot;role&quot;" \
    "$(printf '%s' "$out" | tr '\n' '.')"
check_match "the selected outcome stays selected" '<option value="denied" selected>' "$out"

out=$(view "?actor=$X1")
check_eq "actor= shows that actor's rows only" "" "$(col 2 "$out" | grep -vx "$X1")"
n=$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE actor = '$X1'")
check_match "all of them" "共 $n 筆符合" "$out"

today=$(date -u +%F)
out=$(view "?from=$today&to=$today&actor=$X1")
check_match "today's rows of the actor are all of them" "共 $n 筆符合" "$out"
out=$(view "?from=2000-01-01&to=2000-01-31")
check_match "a range in the past has none" "共 0 筆符合" "$out"
check_eq "the dates are recorded with the view" \
    'audit_log	success	{"from":"2000-01-01","to":"2000-01-31","page":1}' "$(last_view)"

# ------------------------------------------------------------ invalid filters

before=$(views)
out=$(view "?event=Login%21")
check_eq "an invalid event is 422, not an error page" 422 "$(status_of "$out")"
check_match "it is the audit page" '<h1 id="audit-title">' "$out"
check_match "with the field's message" 'id="event-error">格式不正確' "$out"
check_match "and what was typed, escaped" 'value="Login!"' "$out"
check_eq "and no rows" 0 "$(rows "$out")"
out=$(view "?from=2026-02-30")
check_match "an impossible date has the date message" 'id="from-error">請輸入正確的日期' "$out"
out=$(view "?outcome=maybe")
check_match "an unknown outcome has the choice message" 'id="outcome-error">請從選項中選擇' "$out"
out=$(view "?page=0")
check_match "page 0 is out of range" '數值超出允許的範圍' "$out"
out=$(view "?from=2026-03-02&to=2026-03-01")
check_eq "dates in the wrong order are 422" 422 "$(status_of "$out")"
check_match "with a message" 'id="to-error">起始日期晚於結束日期' "$out"
out=$(view "?foo=1")
check_match "a parameter that is no filter is named as such" '表單含有不認識的欄位' "$out"
check_eq "no invalid query was recorded as a view (nothing was read)" "$before" "$(views)"

# ------------------------------------------------------------ pages

for i in $(seq 1 55); do req au -o /dev/null "$BASE/audit?actor=$AU&event=audit.view&outcome=success"; done
out=$(view "?actor=$AU&event=audit.view&outcome=success")
n=$(views)
check_match "the filtered total is counted" "共 $n 筆符合" "$out"
check_eq "page 1 has fifty" 50 "$(rows "$out")"
check_match "the next link keeps the filters" \
    "href=\"/audit\\?actor&#61;$AU&amp;event&#61;audit\\.view&amp;outcome&#61;success&amp;page&#61;2\" rel=\"next\"" "$out"
out=$(view "?actor=$AU&event=audit.view&outcome=success&page=2")
n=$(views)
check_eq "page 2 has the rest" $((n - 50)) "$(rows "$out")"
check_match "and links back to page 1 with the filters" \
    "href=\"/audit\\?actor&#61;$AU&amp;event&#61;audit\\.view&amp;outcome&#61;success&amp;page&#61;1\" rel=\"prev\"" "$out"
check_eq "the page is recorded with the filters" \
    "audit_log	success	{\"actor\":\"$AU\",\"event\":\"audit.view\",\"outcome\":\"success\",\"page\":2}" "$(last_view)"
out=$(view "")
check_eq "unfiltered, the first page has fifty" 50 "$(rows "$out")"
check_match "and links to the next" 'href="/audit\?page&#61;2" rel="next"' "$out"
out=$(view "?page=100000")
check_eq "a page past the end is empty, not an error" "200 0" "$(status_of "$out") $(rows "$out")"
check_match "and links back" 'rel="prev"' "$out"
