# review: the periodic account review through the real stack — the review
# page lists a school's accounts with role, status, last sign-in and days
# inactive, filtered and paged; an admin disables an account with a reason
# (its sessions end, sign-in fails) and enables it again, both audited;
# records a review; downloads the CSV (BOM, attachment, audited); the
# worker's sweep and `licheng accounts sweep` disable graduated students
# past the grace period as "system", never those within it; another
# school's admin gets 404, teachers and students 403; and
# `licheng accounts review --school` prints the list.
. "$(dirname "$0")/lib.sh"

RUNID="rv$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

user_status() { app_sql "SELECT status FROM users WHERE login = '$1'"; }
# row_of LOGIN PAGE: the review table's row of LOGIN, on one line.
row_of() {
	printf '%s' "$2" | awk -v RS='</tr>' -v l="<code>$1</code>" 'index($0, l) { gsub(/\n/, " "); print }'
}
# student_row LOGIN STATUS DAYS_AGO: the students row of LOGIN's account,
# its status changed DAYS_AGO days ago. The national ID is never shown by
# these pages, so its HMAC and sealed form are random bytes here.
student_row() {
	app_sql "INSERT INTO students (public_id, school_id, user_id, student_no, name,
	    id_kind, national_id_hmac, national_id_sealed, birth_date, status, status_changed_at)
	    SELECT '$(new_public_id)', u.school_id, u.id, '$(openssl rand -hex 4)', u.name,
	    'national', '$(openssl rand -hex 32)', UNHEX('$(openssl rand -hex 38)'), '2008-05-01',
	    '$2', UTC_TIMESTAMP(6) - INTERVAL $3 DAY FROM users u WHERE u.login = '$1'"
}
pub_of() { app_sql "SELECT public_id FROM users WHERE login = '$1'"; }
# session_gone NAME: NAME's session token (its cookie jar) is no longer in
# Redis.
session_gone() {
	local t
	t=$(awk '$6 == "__Host-licheng" { t = $7 } END { print t }' "$tmp/$1.jar")
	[ -n "$t" ] || return 1
	[ "$(redis-cli -s "$REDIS_SOCK" EXISTS "${KV_PREFIX}s:$(printf '%s' "$t" | sha256sum | cut -c1-64)")" = 0 ]
}

# ------------------------------------------------------------ accounts

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "檢查甲高中"
check "school B is added" L school add --code "$sb" --name "檢查乙高中"
check "admin a1 of school A signs in" signin_as a1 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
check "teacher t1 of school A signs in" signin_as t1 teacher "$sa"
check "student s1 of school A signs in" signin_as s1 student "$sa"
check "student gw of school A signs in" signin_as gw student "$sa"
A1=$(login_of a1) B1=$(login_of b1) T1=$(login_of t1) S1=$(login_of s1) GW=$(login_of gw)
GC=$(login_of gc) GR=$(login_of gr) PD=$(login_of pd)
check "a pending student gc is issued" L user add --school "$sa" --role student --login "$GC" --name "畢業丙"
check "a pending student gr is issued" L user add --school "$sa" --role student --login "$GR" --name "離校丁"
check "a pending teacher pd is issued" L user add --school "$sa" --role teacher --login "$PD" --name "老師戊"
app_sql "INSERT INTO teachers (public_id, school_id, user_id, staff_no)
    SELECT '$(new_public_id)', school_id, id, 'T$RANDOM' FROM users WHERE login = '$T1'"
student_row "$S1" enrolled 0
# The accounts the sweep is about: gw (signed in) graduated 40 days ago,
# past the 30-day grace period; gc 20 days ago, within it for the worker
# but not for a sweep run with a 10-day grace period; gr left 5 days ago.
# They are made now, while the worker's sweep (every 5 s) cannot yet see
# gw's row before the checks below look for it.
student_row "$GC" graduated 20
student_row "$GR" left 5
# pd last signed in 40 days ago.
app_sql "UPDATE users SET last_login_at = UTC_TIMESTAMP(6) - INTERVAL 40 DAY WHERE login = '$PD'"

# ------------------------------------------------------------ roles

check_eq "a teacher gets 403 on /admin/accounts" 403 "$(http_status /admin/accounts -b "$tmp/t1.jar")"
check_eq "a student gets 403 on /admin/accounts" 403 "$(http_status /admin/accounts -b "$tmp/s1.jar")"
check_eq "a student gets 403 on /admin/accounts.csv" 403 "$(http_status /admin/accounts.csv -b "$tmp/s1.jar")"
check_eq "signed out, /admin/accounts leads to sign-in" "303 $BASE/login" \
    "$(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/admin/accounts")"

# ------------------------------------------------------------ the listing

page=$(req a1 "$BASE/admin/accounts")
check_match "the review page is zh-TW" '<h1 id="review-title">帳號檢查</h1>' "$page"
check_match "it counts the school's accounts" '<p id="review-total">共 7 個帳號。' "$page"
row=$(row_of "$S1" "$page")
check_match "s1's row shows the role" '<td>學生</td>' "$row"
check_match "its status" '<td>使用中</td>' "$row"
check_match "its last sign-in today" "<td>$(date -u +%Y-%m-%d) [0-9]{2}:[0-9]{2} UTC</td>" "$row"
check_match "0 days inactive" '<td class="days">0</td>' "$row"
check_match "and its student status" '<td>在學' "$row"
check_match "with disable and re-issue forms" "action=\"/admin/accounts/$(pub_of "$S1")/disable\".*action=\"/admin/accounts/$(pub_of "$S1")/reissue\"" "$row"
row=$(row_of "$PD" "$page")
check_match "pd, who signed in 40 days ago, shows 40 days inactive" '<td class="days">40</td>' "$row"
check_match "and is pending" '<td>待開通</td>' "$row"
row=$(row_of "$GC" "$page")
check_match "gc never signed in" '<td>從未登入</td>' "$row"
check_match "a graduated student still enabled is highlighted with the day it will be disabled" \
    "<mark class=\"due\">將自動停用於 $(date -u -d '+10 days' +%Y-%m-%d)</mark>" "$row"
check_match "the teacher's row shows their staff status" '<td>在職' "$(row_of "$T1" "$page")"
check_match "an admin's own row has no disable form" '您自己的帳號' "$(row_of "$A1" "$page")"
check_nomatch "nor any other school's account" "$B1" "$page"
check_nomatch "no national ID or birth date column" '2008-05-01|身分證' "$page"
check_nomatch "no inline script or style" '<script|style=' "$page"

page=$(req a1 "$BASE/admin/accounts?role=teacher")
check_match "the role filter keeps teachers" "<code>$T1</code>" "$page"
check_nomatch "and drops students" "<code>$S1</code>" "$page"
check_match "and says how many" '共 2 個帳號' "$page"
page=$(req a1 "$BASE/admin/accounts?inactive=30")
check_match "the inactivity filter keeps pd" "<code>$PD</code>" "$page"
check_nomatch "and drops the accounts used today" "<code>$S1</code>" "$page"
check_match "the CSV link keeps the filters" 'href="/admin/accounts\.csv\?inactive&#61;30"' "$page"
out=$(req a1 -w '\n%{http_code}' "$BASE/admin/accounts?role=hacker&inactive=x")
check_eq "an unknown role in the query is 422" 422 "$(printf '%s' "$out" | tail -n 1)"
check_match "with the field's message" 'id="f-role-error">請從選項中選擇' "$out"
check_match "and the number's" 'id="f-inactive-error">格式不正確' "$out"
check_eq "an undeclared parameter is 422" 422 "$(http_status '/admin/accounts?sort=name' -b "$tmp/a1.jar")"

# Paging: 55 more accounts make two pages of 50.
values=""
for i in $(seq 1 55); do
	values+="${values:+,}('$(new_public_id)', (SELECT id FROM schools WHERE code = '$sa'), 'student', '$RUNID-p$i', '分頁$i', 'pending')"
done
app_sql "INSERT INTO users (public_id, school_id, role, login, name, status) VALUES $values"
page=$(req a1 "$BASE/admin/accounts")
check_eq "a page shows 50 accounts" 50 "$(printf '%s' "$page" | grep -c '<tr class="review-row"')"
check_match "with a link to the next page" 'href="/admin/accounts\?page&#61;2" rel="next"' "$page"
page=$(req a1 "$BASE/admin/accounts?page=2")
check_eq "the second page shows the other 12" 12 "$(printf '%s' "$page" | grep -c '<tr class="review-row"')"
check_match "and links back" 'href="/admin/accounts\?page&#61;1" rel="prev"' "$page"
check_match "the page's filters survive paging" 'href="/admin/accounts\?role&#61;student&amp;page&#61;2"' \
    "$(req a1 "$BASE/admin/accounts?role=student")"

# ------------------------------------------------------------ disable / enable

token=$(csrf a1 /admin/accounts)
S1P=$(pub_of "$S1")
check "s1 is signed in before" [ "$(st s1 "$BASE/account")" = "200 " ]
out=$(req a1 -w '\n%{http_code}' --data-urlencode "reason=abc" --data-urlencode "csrf=$token" \
    "$BASE/admin/accounts/$S1P/disable")
check_eq "a reason under 5 characters is 422" 422 "$(printf '%s' "$out" | tail -n 1)"
check_match "with the field's message next to it" 'id="action-reason-error">內容太短' "$out"
check_match "and what was typed" 'name="reason" value="abc"' "$out"
check_eq "a missing reason is 422" 422 \
    "$(http_status "/admin/accounts/$S1P/disable" -b "$tmp/a1.jar" --data-urlencode "csrf=$token")"
check_eq "a reason over 200 characters is 422" 422 \
    "$(http_status "/admin/accounts/$S1P/disable" -b "$tmp/a1.jar" \
        --data-urlencode "reason=$(printf '長%.0s' $(seq 201))" --data-urlencode "csrf=$token")"
check_eq "s1 is still active" active "$(user_status "$S1")"
check_eq "a form without its CSRF token is refused" 403 \
    "$(http_status "/admin/accounts/$S1P/disable" -b "$tmp/a1.jar" --data-urlencode "reason=no token here")"

check_eq "a1 disables s1 with a reason" "303 $BASE/admin/accounts?done=disabled" \
    "$(st a1 --data-urlencode "reason=轉學，帳號不再需要" --data-urlencode "csrf=$token" \
        "$BASE/admin/accounts/$S1P/disable")"
check_eq "s1 is disabled, by a1, with the reason" "disabled	轉學，帳號不再需要	$A1	1" \
    "$(app_sql "SELECT u.status, u.disabled_reason, a.login, u.disabled_at IS NOT NULL FROM users u
        JOIN users a ON a.id = u.disabled_by WHERE u.login = '$S1'")"
check "s1's session is gone from Redis at once" session_gone s1
check_eq "s1's next request is signed out" "303 $BASE/login" "$(st s1 "$BASE/account")"
check_match "s1 cannot sign in" '^200 $' "$(password_signin s1)"
check_eq "account.disable is audited with the reason" \
    "user:$S1	success	{\"reason\":\"轉學，帳號不再需要\"}" "$(last_audit account.disable "$A1")"
page=$(req a1 "$BASE/admin/accounts?status=disabled")
check_match "the page says so" '帳號已停用' "$(req a1 "$BASE/admin/accounts?done=disabled")"
row=$(row_of "$S1" "$page")
check_match "the disabled filter lists s1 as disabled, by whom and why" "已停用<br><small>.* UTC · $A1<br>轉學，帳號不再需要</small>" "$row"
check_match "with an enable form" "action=\"/admin/accounts/$S1P/enable\"" "$row"
out=$(req a1 -w '\n%{http_code}' --data-urlencode "reason=once more" --data-urlencode "csrf=$token" \
    "$BASE/admin/accounts/$S1P/disable")
check_eq "disabling it again is 409" 409 "$(printf '%s' "$out" | tail -n 1)"
check_match "and says it already is" '這個帳號已經是停用狀態' "$out"

A1P=$(pub_of "$A1")
out=$(req a1 -w '\n%{http_code}' --data-urlencode "reason=testing myself" --data-urlencode "csrf=$token" \
    "$BASE/admin/accounts/$A1P/disable")
check_eq "an admin cannot disable themself (403)" 403 "$(printf '%s' "$out" | tail -n 1)"
check_match "and is told why" '您不能停用自己的帳號' "$out"
check_eq "a1 is still active" active "$(user_status "$A1")"
check_match "the refusal is audited" '^admin_account_disable	denied	\{"reason":"self"' "$(last_audit access.denied "$A1")"

# School B's admin and school A's accounts.
token_b=$(csrf b1 /admin/accounts)
denied=$(n_audit access.denied "$B1")
check_eq "school B's admin enabling A's account gets 404" 404 \
    "$(http_status "/admin/accounts/$S1P/enable" -b "$tmp/b1.jar" --data-urlencode "reason=not my school" \
        --data-urlencode "csrf=$token_b")"
T1P=$(pub_of "$T1")
check_eq "school B's admin disabling A's account gets 404" 404 \
    "$(http_status "/admin/accounts/$T1P/disable" -b "$tmp/b1.jar" --data-urlencode "reason=not my school" \
        --data-urlencode "csrf=$token_b")"
check_eq "an unknown account gets the same 404" 404 \
    "$(http_status "/admin/accounts/$(new_public_id)/disable" -b "$tmp/b1.jar" --data-urlencode "reason=not my school" \
        --data-urlencode "csrf=$token_b")"
check_eq "each 404 is audited as access.denied" $((denied + 3)) "$(n_audit access.denied "$B1")"
check_eq "s1 is still disabled and t1 still active" "disabled active" "$(user_status "$S1") $(user_status "$T1")"
check_nomatch "school B's list shows none of school A's accounts" "$RUNID-(s1|t1|a1)<" "$(req b1 "$BASE/admin/accounts")"

out=$(req a1 -w '\n%{http_code}' --data-urlencode "reason=x" --data-urlencode "csrf=$token" \
    "$BASE/admin/accounts/$S1P/enable")
check_eq "enabling needs a reason of 5 characters too" 422 "$(printf '%s' "$out" | tail -n 1)"
check_eq "a1 enables s1 again" "303 $BASE/admin/accounts?done=enabled" \
    "$(st a1 --data-urlencode "reason=復學，恢復帳號" --data-urlencode "csrf=$token" \
        "$BASE/admin/accounts/$S1P/enable")"
check_eq "s1 is active again, the disabling forgotten" "active	1" \
    "$(app_sql "SELECT status, disabled_reason IS NULL AND disabled_at IS NULL AND disabled_by IS NULL FROM users WHERE login = '$S1'")"
check "s1 signs in again" signin s1
check_eq "account.enable is audited with the reason" \
    "user:$S1	success	{\"reason\":\"復學，恢復帳號\"}" "$(last_audit account.enable "$A1")"
check_eq "enabling an enabled account is 409" 409 \
    "$(http_status "/admin/accounts/$S1P/enable" -b "$tmp/a1.jar" --data-urlencode "reason=once more" \
        --data-urlencode "csrf=$token")"
GCP=$(pub_of "$GC")
check_eq "a pending account can be disabled" "303 $BASE/admin/accounts?done=disabled" \
    "$(st a1 --data-urlencode "reason=帳號重複建立" --data-urlencode "csrf=$token" "$BASE/admin/accounts/$GCP/disable")"
check_eq "and enabled again, still pending" "303 $BASE/admin/accounts?done=enabled pending" \
    "$(st a1 --data-urlencode "reason=確認不是重複帳號" --data-urlencode "csrf=$token" \
        "$BASE/admin/accounts/$GCP/enable") $(user_status "$GC")"

# ------------------------------------------------------------ recording a review

out=$(req a1 -w '\n%{http_code}' --data-urlencode "note=$(printf 'x%.0s' $(seq 201))" --data-urlencode "csrf=$token" \
    "$BASE/admin/accounts/review")
check_eq "a note over 200 characters is 422" 422 "$(printf '%s' "$out" | tail -n 1)"
check_match "with the field's message" 'id="review-note-error">內容超過長度上限' "$out"
check_eq "nothing was recorded" 0 \
    "$(app_sql "SELECT COUNT(*) FROM account_reviews r JOIN schools s ON s.id = r.school_id WHERE s.code = '$sa'")"
check_match "no review recorded yet" '本校尚未記錄過帳號檢查' "$(req a1 "$BASE/admin/accounts")"
check_eq "a1 records the review" "303 $BASE/admin/accounts?done=reviewed" \
    "$(st a1 --data-urlencode "note=停用 0 個帳號" --data-urlencode "csrf=$token" "$BASE/admin/accounts/review")"
check_eq "the review is stored with the count of accounts and the note" "$A1	62	停用 0 個帳號	$A1" \
    "$(app_sql "SELECT r.reviewed_by_actor, r.accounts, r.note, u.login FROM account_reviews r
        JOIN schools s ON s.id = r.school_id JOIN users u ON u.id = r.reviewed_by WHERE s.code = '$sa'")"
check_eq "account.review is audited with the count" \
    "school:$sa	success	{\"accounts\":62,\"note\":\"停用 0 個帳號\"}" "$(last_audit account.review "$A1")"
page=$(req a1 "$BASE/admin/accounts?done=reviewed")
check_match "the page shows the last review, when and by whom" \
    "<p id=\"review-last\">時間 $(date -u +%Y-%m-%d) [0-9:]{5} UTC · 檢查者 $A1 · 當時帳號數 62 · 備註 停用 0 個帳號</p>" "$page"
check_match "and the notice" '已記錄這次帳號檢查' "$page"
check_match "school B has no review recorded" '本校尚未記錄過帳號檢查' "$(req b1 "$BASE/admin/accounts")"

# ------------------------------------------------------------ CSV

exports=$(n_audit account.review_export "$A1")
req a1 -D "$tmp/csv.hdr" -o "$tmp/accounts.csv" "$BASE/admin/accounts.csv?role=teacher"
hdr=$(tr -d '\r' <"$tmp/csv.hdr")
check_match "the CSV is 200 text/csv" '^content-type: text/csv; charset=utf-8$' "$(printf '%s' "$hdr" | tr 'A-Z' 'a-z')"
check_match "an attachment named after the school" "^[Cc]ontent-[Dd]isposition: attachment; filename=\"accounts-$sa.csv\"$" "$hdr"
check_match "never cached" '^[Cc]ache-[Cc]ontrol: no-store' "$hdr"
check_eq "it starts with the UTF-8 BOM" "efbbbf" "$(head -c 3 "$tmp/accounts.csv" | od -An -tx1 | tr -d ' \n')"
check_match "a header row in zh-TW, CRLF-terminated" $'^\xef\xbb\xbf身分,帳號,姓名,學號,帳號狀態,.*停用原因\r$' "$(head -n 1 "$tmp/accounts.csv")"
check_match "the filtered rows" "^教師,$T1,測試t1,,使用中," "$(cat "$tmp/accounts.csv")"
check_eq "only the teachers (a header and 2 rows)" 3 "$(wc -l <"$tmp/accounts.csv")"
check_eq "the export is audited with its filter and size" $((exports + 1)) "$(n_audit account.review_export "$A1")"
check_eq "with the filter and rows" "school:$sa	success	{\"role\":\"teacher\",\"rows\":2}" \
    "$(last_audit account.review_export "$A1")"
check_eq "the CSV with a bad filter is 422" 422 "$(http_status '/admin/accounts.csv?status=gone' -b "$tmp/a1.jar")"

# ------------------------------------------------------------ the sweep

# gw is signed in; its student record turns graduated 40 days ago.
check "gw is signed in" [ "$(st gw "$BASE/account")" = "200 " ]
student_row "$GW" graduated 40
gone() { [ "$(user_status "$GW")" = disabled ]; }
check "the worker's sweep disables gw within 20 s" wait_for 20 gone
check_eq "as the sweep: no admin, reason graduated" "disabled	graduated	1	1" \
    "$(app_sql "SELECT status, disabled_reason, disabled_by IS NULL, disabled_at IS NOT NULL FROM users WHERE login = '$GW'")"
check_eq "audited as system" "system	system	$sa	user:$GW	success	{\"reason\":\"graduated\",\"auto\":true}" \
    "$(audit_sql "SELECT actor, role, school, target, outcome, detail FROM audit_log
        WHERE event = 'account.disable' AND target = 'user:$GW'")"
check "gw's session was ended by the worker" session_gone gw
check_match "the worker logged the run with its counts" '"account sweep: [1-9][0-9]* accounts disabled in [1-9][0-9]* schools' \
    "$(grep -h 'account sweep' "$LICHENG_RUN"/log/licheng.log)"
check_eq "gw cannot sign in" "200 " "$(password_signin gw)"
check_eq "gc, within the grace period, is not disabled" pending "$(user_status "$GC")"
check_eq "nor gr" pending "$(user_status "$GR")"
GWP=$(pub_of "$GW")
out=$(req a1 -w '\n%{http_code}' --data-urlencode "reason=畢業生要補資料" --data-urlencode "csrf=$token" \
    "$BASE/admin/accounts/$GWP/enable")
check_eq "enabling an account the sweep would disable again is 409" 409 "$(printf '%s' "$out" | tail -n 1)"
check_match "and says to correct the student's status first" '請先更正學生的學籍狀態' "$out"
check_match "the list says it was disabled automatically" '已停用<br><small>.* UTC · 自動停用<br>學生已畢業，寬限期滿自動停用' \
    "$(row_of "$GW" "$(req a1 "$BASE/admin/accounts?status=disabled")")"

# `licheng accounts sweep` with a 10-day grace period (a copy of the
# stack's configuration) disables gc, graduated 20 days ago.
sed 's/^accounts:$/accounts:\n  grace_days: 10/' "$LICHENG_CONF" >"$tmp/grace10.yaml"
out=$("$LICHENG_BIN/licheng" -c "$tmp/grace10.yaml" accounts sweep 2>&1)
check_match "licheng accounts sweep says what it did" \
    '^account sweep: [1-9][0-9]* accounts disabled in [1-9][0-9]* schools \(grace period 10 days\), [0-9]+ activation-letter batches wiped, [0-9]+ import files wiped$' "$out"
check_eq "gc is disabled" disabled "$(user_status "$GC")"
check_eq "audited as system" "system	{\"reason\":\"graduated\",\"auto\":true}" \
    "$(audit_sql "SELECT actor, detail FROM audit_log WHERE event = 'account.disable' AND target = 'user:$GC' AND actor = 'system'")"
check_eq "gr, 5 days after leaving, is not" pending "$(user_status "$GR")"
out=$("$LICHENG_BIN/licheng" -c "$tmp/grace10.yaml" accounts sweep 2>&1)
check_match "a second run succeeds" '^account sweep: [0-9]+ accounts disabled in [0-9]+ schools \(grace period 10 days\)' "$out"
check_eq "and audits nothing twice" 1 \
    "$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'account.disable' AND target = 'user:$GC' AND actor = 'system'")"
check_eq "licheng accounts sweep takes no arguments" 2 \
    "$("$LICHENG_BIN/licheng" -c "$LICHENG_CONF" accounts sweep --now >/dev/null 2>&1; echo $?)"

# ------------------------------------------------------------ the command

out=$(L accounts review --school "$sa" 2>&1)
check_match "licheng accounts review prints a header" '^role +login +name +student_no +status +created +last_login +days_inactive ' "$out"
check_match "and a line per account with role, status, last sign-in and days inactive" \
    "^student +$S1 +測試s1 +[0-9a-f]{8} +active +$(date -u +%Y-%m-%d) +$(date -u +%Y-%m-%d) [0-9:]{5} +0 +student_enrolled" "$out"
check_match "pd's 40 days" "^teacher +$PD +老師戊 +- +pending +[0-9-]{10} +[0-9-]{10} [0-9:]{5} +40 +- " "$out"
check_match "gw as disabled" "^student +$GW .* disabled .* graduated$" "$out"
check_eq "a header and every account of school A" 63 "$(printf '%s\n' "$out" | wc -l)"
check_nomatch "none of school B" "$B1" "$out"
out=$(L accounts review --school "$sa" --csv 2>/dev/null)
check_match "--csv prints CSV with the BOM" $'^\xef\xbb\xbfrole,login,name,student_no,status,' "$out"
check_match "with codes" "^student,$S1,測試s1," "$out"
check_eq "the command's listings are audited" "school:$sa	success	{\"rows\":62,\"format\":\"csv\"}" \
    "$(audit_sql "SELECT target, outcome, detail FROM audit_log WHERE event = 'account.review_export'
        AND actor LIKE 'cli%' AND target = 'school:$sa' ORDER BY id DESC LIMIT 1")"
check_eq "an unknown school is refused" 1 "$(L accounts review --school "${RUNID}zz" >/dev/null 2>&1; echo $?)"
check_eq "--school is required" 2 "$(L accounts review >/dev/null 2>&1; echo $?)"
check "the audit log's chain is intact" sh -c "'$LICHENG_BIN/licheng' -c '$LICHENG_CONF' audit verify | grep -q 'chain intact'"
