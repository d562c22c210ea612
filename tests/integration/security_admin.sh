# security_admin: the admins' security pages through nginx, signed in for
# real (activation, privacy notice, TOTP enrolment) — egress addresses
# added, listed and removed; alerts acknowledged; a second factor reset and
# an account unlocked; an address unblocked — each change audited, and
# every row of another school answered 404 with access.denied audited.
. "$(dirname "$0")/lib.sh"

RUNID="sa$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

# ------------------------------------------------------------ accounts

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "安全甲高中"
check "school B is added" L school add --code "$sb" --name "安全乙高中"
check "admin a1 of school A signs in with a second factor" signin_as a1 school_admin "$sa"
check "admin a2 of school A signs in" signin_as a2 school_admin "$sa"
check "admin b1 of school B signs in" signin_as b1 school_admin "$sb"
check "central staff c1 signs in" signin_as c1 central_staff
check "central staff c2 signs in" signin_as c2 central_staff
check "student s1 of school A signs in" signin_as s1 student "$sa"
A1=$(login_of a1) A2=$(login_of a2) B1=$(login_of b1) C1=$(login_of c1) C2=$(login_of c2) S1=$(login_of s1)

# ------------------------------------------------------------ roles

check_eq "a student gets 403 on /admin/security" 403 "$(http_status /admin/security -b "$tmp/s1.jar")"
check_eq "a student gets 403 on /admin/egress" 403 "$(http_status /admin/egress -b "$tmp/s1.jar")"
check_eq "central staff get 403 on /admin/egress (a school's own list)" 403 \
    "$(http_status /admin/egress -b "$tmp/c1.jar")"
check_eq "signed out, /admin/security leads to sign-in" "303 $BASE/login" \
    "$(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/admin/security")"

# ------------------------------------------------------------ egress

page=$(req a1 "$BASE/admin/egress")
check_match "the egress page is zh-TW" '<h1 id="egress-title">學校對外位址</h1>' "$page"
check_match "it shows the normal and the egress thresholds" \
    '<td>5</td><td>100</td>' "$page"
check_match "it shows the sign-in thresholds too" '<td>10</td><td>200</td>' "$page"
check_match "it shows the requester's own address" '<strong id="my-address">127\.0\.0\.1</strong>' "$page"
check_match "no address yet" '尚未登錄任何對外位址' "$page"
check_nomatch "no inline script or style" '<script|style=' "$page"

token=$(printf '%s' "$page" | csrf_of)
check_eq "an address is registered (303 back to the list)" "303 $BASE/admin/egress?done=added" \
    "$(st a1 --data-urlencode "address=2001:DB8:0:0::7" --data-urlencode "note=北棟電腦教室" \
        --data-urlencode "csrf=$token" "$BASE/admin/egress")"
check_eq "it is stored in canonical form for school A" "2001:db8::7	北棟電腦教室	$sa" \
    "$(app_sql "SELECT e.address, e.note, s.code FROM school_egress e JOIN schools s ON s.id = e.school_id WHERE s.code = '$sa'")"
check_eq "egress.add is audited with the address and note" \
    "egress:2001:db8::7	success	{\"note\":\"北棟電腦教室\"}" "$(last_audit egress.add "$A1")"
page=$(req a1 "$BASE/admin/egress?done=added")
check_match "the list shows it" '<td class="addr">2001:db8::7</td>' "$page"
check_match "and who added it" "<td>$A1</td>" "$page"
check_match "with the notice" '位址已登錄' "$page"

xss='<script>alert(1)</script>'
check_eq "a note with markup is accepted as text" "303 $BASE/admin/egress?done=added" \
    "$(st a1 --data-urlencode "address=203.0.113.7" --data-urlencode "note=$xss" \
        --data-urlencode "csrf=$token" "$BASE/admin/egress")"
page=$(req a1 "$BASE/admin/egress")
check_match "the note comes back escaped" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$page"
check_nomatch "never as markup" '<script>alert' "$page"

out=$(req a1 -w '\n%{http_code}' --data-urlencode "address=203.0.113.7" --data-urlencode "note=again" \
    --data-urlencode "csrf=$token" "$BASE/admin/egress")
check_eq "a duplicate is answered 409" 409 "$(printf '%s' "$out" | tail -n 1)"
check_match "with a clear message on the page" '本校已登錄過這個位址' "$out"
out=$(req a1 -w '\n%{http_code}' --data-urlencode "address=203.0.113.999" \
    --data-urlencode "csrf=$token" "$BASE/admin/egress")
check_eq "a malformed address is 422" 422 "$(printf '%s' "$out" | tail -n 1)"
check_match "with the field's message" 'id="address-error">這不是 IPv4 或 IPv6 位址' "$out"
check_match "and what was typed" 'value="203\.0\.113\.999"' "$out"
out=$(req a1 -w '\n%{http_code}' --data-urlencode "address=10.0.0.1" \
    --data-urlencode "note=$(printf 'x%.0s' $(seq 101))" --data-urlencode "csrf=$token" "$BASE/admin/egress")
check_eq "a note over 100 characters is 422" 422 "$(printf '%s' "$out" | tail -n 1)"
check_match "with its message" 'id="note-error">內容超過長度上限' "$out"
check_eq "a form without its CSRF token is refused" 403 \
    "$(http_status /admin/egress -b "$tmp/a1.jar" --data-urlencode "address=10.0.0.2")"
check_eq "nothing was stored by the refused forms" 2 \
    "$(app_sql "SELECT COUNT(*) FROM school_egress e JOIN schools s ON s.id = e.school_id WHERE s.code = '$sa'")"

# School B's own address, and A's admin trying to remove it.
token_b=$(csrf b1 /admin/egress)
check_eq "school B registers its address" "303 $BASE/admin/egress?done=added" \
    "$(st b1 --data-urlencode "address=198.51.100.20" --data-urlencode "csrf=$token_b" "$BASE/admin/egress")"
check_nomatch "school A's list does not show school B's address" '198\.51\.100\.20' "$(req a1 "$BASE/admin/egress")"
idb=$(app_sql "SELECT e.public_id FROM school_egress e JOIN schools s ON s.id = e.school_id WHERE s.code = '$sb'")
denied=$(n_audit access.denied "$A1")
check_eq "school A deleting school B's address gets 404" 404 \
    "$(http_status "/admin/egress/$idb/delete" -b "$tmp/a1.jar" --data-urlencode "csrf=$token")"
check_eq "and access.denied is audited" $((denied + 1)) "$(n_audit access.denied "$A1")"
check_match "with the reason" "^admin_egress_delete	denied	\\{\"reason\":\"other_school\"" \
    "$(last_audit access.denied "$A1")"
check_eq "school B's address is still there" 1 \
    "$(app_sql "SELECT COUNT(*) FROM school_egress WHERE public_id = '$idb'")"
check_eq "an unknown id gets the same 404" 404 \
    "$(http_status "/admin/egress/$(new_public_id)/delete" -b "$tmp/a1.jar" --data-urlencode "csrf=$token")"

ida=$(app_sql "SELECT e.public_id FROM school_egress e JOIN schools s ON s.id = e.school_id WHERE s.code = '$sa' AND e.address = '203.0.113.7'")
check_eq "school A removes its address" "303 $BASE/admin/egress?done=deleted" \
    "$(st a1 --data-urlencode "csrf=$token" "$BASE/admin/egress/$ida/delete")"
check_eq "it is gone" 0 "$(app_sql "SELECT COUNT(*) FROM school_egress WHERE public_id = '$ida'")"
check_match "egress.delete is audited" '^egress:203\.0\.113\.7	success	' "$(last_audit egress.delete "$A1")"

# ------------------------------------------------------------ alerts

ida_alert=$(new_public_id) idb_alert=$(new_public_id) idc_alert=$(new_public_id)
app_sql "INSERT INTO alerts (public_id, at, school_id, kind, ip, detail) VALUES
    ('$ida_alert', UTC_TIMESTAMP(6), (SELECT id FROM schools WHERE code = '$sa'),
        'password_changes.egress', '192.0.2.1', '{\"accounts\":101}'),
    ('$idb_alert', UTC_TIMESTAMP(6), (SELECT id FROM schools WHERE code = '$sb'),
        'password_changes.blocked', '192.0.2.2', NULL),
    ('$idc_alert', UTC_TIMESTAMP(6), NULL, 'signin_many_accounts.blocked', '192.0.2.3', NULL)"
page=$(req a1 "$BASE/admin/security")
check_match "school A's admin sees its alert" "/alerts/$ida_alert/ack" "$page"
check_nomatch "but not school B's" "$idb_alert" "$page"
check_nomatch "nor one of no school" "$idc_alert" "$page"
check_match "in words from the catalogue" '學校對外位址短時間內有大量帳號變更密碼' "$page"
page=$(req c1 "$BASE/admin/security")
check_match "central staff see every school's alerts" "$ida_alert.*|$idb_alert" "$page"
check_match "and the ones of no school" "$idc_alert" "$page"
check_match "and the unblock form" 'name="address"' "$page"
check_nomatch "a school admin has no unblock form" 'name="address"' "$(req a1 "$BASE/admin/security")"

token=$(csrf a1 /admin/security)
check_eq "acknowledging without back returns home (the home banner's form)" "303 $BASE/" \
    "$(st a1 --data-urlencode "csrf=$token" "$BASE/alerts/$ida_alert/ack")"
check_eq "the alert is acknowledged by a1" "1	$A1" \
    "$(app_sql "SELECT a.acknowledged_at IS NOT NULL, u.login FROM alerts a JOIN users u ON u.id = a.acknowledged_by WHERE a.public_id = '$ida_alert'")"
check_eq "alert.acknowledge is audited" "alert:$ida_alert	success	{\"kind\":\"password_changes.egress\"}" \
    "$(last_audit alert.acknowledge "$A1")"
denied=$(n_audit access.denied "$A1")
check_eq "school B's alert is 404 for school A" 404 \
    "$(http_status "/alerts/$idb_alert/ack" -b "$tmp/a1.jar" --data-urlencode "csrf=$token")"
check_eq "an alert of no school is 404 for a school admin" 404 \
    "$(http_status "/alerts/$idc_alert/ack" -b "$tmp/a1.jar" --data-urlencode "csrf=$token")"
check_eq "both refusals are audited" $((denied + 2)) "$(n_audit access.denied "$A1")"
check_eq "school B's alert is still open" 0 \
    "$(app_sql "SELECT COUNT(*) FROM alerts WHERE public_id = '$idb_alert' AND acknowledged_at IS NOT NULL")"
check_eq "a bad back value is a bad request" 400 \
    "$(http_status "/alerts/$idb_alert/ack" -b "$tmp/c1.jar" --data-urlencode "csrf=$(csrf c1 /admin/security)" --data-urlencode "back=https://evil.example/")"
token_c=$(csrf c1 /admin/security)
check_eq "central staff acknowledge school B's alert and come back" "303 $BASE/admin/security?done=alert_ack" \
    "$(st c1 --data-urlencode "csrf=$token_c" --data-urlencode "back=/admin/security" "$BASE/alerts/$idb_alert/ack")"
check_match "the page says so" '警示已標示為已處理' "$(req c1 "$BASE/admin/security?done=alert_ack")"
check_eq "acknowledging again changes nothing and is not audited twice" "303 $BASE/" \
    "$(st c1 --data-urlencode "csrf=$token_c" "$BASE/alerts/$idb_alert/ack")"
check_eq "one alert.acknowledge row for it" 1 \
    "$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE event = 'alert.acknowledge' AND target = 'alert:$idb_alert'")"

# Sixty open alerts of school A: fifty on the first page.
app_sql "INSERT INTO alerts (public_id, at, school_id, kind, ip)
    WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
    SELECT CONCAT('$RUNID', LPAD(i, 22 - CHAR_LENGTH('$RUNID'), 'x')), UTC_TIMESTAMP(6) - INTERVAL i SECOND,
        (SELECT id FROM schools WHERE code = '$sa'), 'signin_many_accounts.egress', '192.0.2.9'
    FROM n"
page=$(req a1 "$BASE/admin/security")
check_eq "the first page lists fifty alerts" 50 "$(printf '%s' "$page" | grep -c '/ack" class="inline-form"')"
check_match "it counts all sixty" '共 60 則尚未處理的警示' "$page"
check_match "and links to page 2" 'href="/admin/security\?page(=|&#61;)2" rel="next"' "$page"
page=$(req a1 "$BASE/admin/security?page=2")
check_eq "page 2 lists the other ten" 10 "$(printf '%s' "$page" | grep -c '/ack" class="inline-form"')"
check_match "with a link back" 'href="/admin/security\?page(=|&#61;)1" rel="prev"' "$page"
check_match "each ack form of the page comes back to it" 'name="back" value="/admin/security"' "$page"
check_eq "a page number out of range is just page 1" 200 "$(http_status '/admin/security?page=x' -b "$tmp/a1.jar")"
app_sql "UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6) WHERE public_id LIKE '$RUNID%'"

# ------------------------------------------------------------ MFA reset

# a2 has a live session (its jar) and recovery codes.
check_eq "a2 has a second factor and recovery codes" "1	10" \
    "$(app_sql "SELECT u.totp_enabled_at IS NOT NULL, (SELECT COUNT(*) FROM mfa_recovery_codes c WHERE c.user_id = u.id) FROM users u WHERE login = '$A2'")"
check_eq "a2's session works" "200 " "$(st a2 "$BASE/account")"
token=$(csrf a1 /admin/security)
out=$(req a1 -w '\n%{http_code}' --data-urlencode "login=$A2" --data-urlencode "csrf=$token" "$BASE/admin/mfa-reset")
check_eq "a reset without a reason is 422" 422 "$(printf '%s' "$out" | tail -n 1)"
check_match "with the field's message" 'id="reset-reason-error">此欄位必填' "$out"
check_eq "a1 resets a2's second factor" "303 $BASE/admin/security?done=mfa_reset" \
    "$(st a1 --data-urlencode "login=${A2^^}" --data-urlencode "reason=遺失手機，已當面確認身分" \
        --data-urlencode "csrf=$token" "$BASE/admin/mfa-reset")"
check_eq "the factor and its recovery codes are gone" "0	0	0	0" \
    "$(app_sql "SELECT u.totp_secret IS NOT NULL, u.totp_enabled_at IS NOT NULL, u.totp_last_step, (SELECT COUNT(*) FROM mfa_recovery_codes c WHERE c.user_id = u.id) FROM users u WHERE login = '$A2'")"
check_eq "mfa.reset is audited with the reason" "user:$A2	success	{\"reason\":\"遺失手機，已當面確認身分\"}" \
    "$(last_audit mfa.reset "$A1")"
check_eq "a2's session has ended" "303 $BASE/login" "$(st a2 "$BASE/account")"
check_eq "a2 signs in with the password alone" "303 $BASE/" "$(password_signin a2)"
check_eq "and is led to TOTP enrolment" "303 $BASE/mfa/setup" "$(st a2 "$BASE/")"
check_match "which shows a new secret" 'id="totp-secret"' "$(req a2 "$BASE/mfa/setup")"

out=$(req a1 -w '\n%{http_code}' --data-urlencode "login=$B1" --data-urlencode "reason=test" \
    --data-urlencode "csrf=$token" "$BASE/admin/mfa-reset")
check_eq "a user of another school is 404" 404 "$(printf '%s' "$out" | tail -n 1)"
check_match "with 'no such user in your school'" '本校沒有這個使用者' "$out"
check_match "the refusal is audited with whom it concerned" "^user:$B1	denied	\\{\"reason\":\"other_school\"" \
    "$(last_audit access.denied "$A1")"
check_eq "b1's factor is untouched" 1 "$(app_sql "SELECT totp_enabled_at IS NOT NULL FROM users WHERE login = '$B1'")"
denied=$(n_audit access.denied "$A1")
out=$(req a1 -w '\n%{http_code}' --data-urlencode "login=nobody-$RUNID" --data-urlencode "reason=test" \
    --data-urlencode "csrf=$token" "$BASE/admin/mfa-reset")
check_eq "an unknown login is the same 404" 404 "$(printf '%s' "$out" | tail -n 1)"
check_match "with the same message" '本校沒有這個使用者' "$out"
check_eq "and writes no refusal (nothing exists to refuse)" "$denied" "$(n_audit access.denied "$A1")"
out=$(req a1 -w '\n%{http_code}' --data-urlencode "login=$C1" --data-urlencode "reason=test" \
    --data-urlencode "csrf=$token" "$BASE/admin/mfa-reset")
check_eq "a school admin cannot reach central staff either" 404 "$(printf '%s' "$out" | tail -n 1)"
out=$(req a1 -w '\n%{http_code}' --data-urlencode "login=$A1" --data-urlencode "reason=test" \
    --data-urlencode "csrf=$token" "$BASE/admin/mfa-reset")
check_eq "resetting one's own factor is refused" 403 "$(printf '%s' "$out" | tail -n 1)"
check_match "with a message" '您不能對自己的帳號執行此操作' "$out"
check_match "and audited" "^user:$A1	denied	\\{\"reason\":\"self\"" "$(last_audit access.denied "$A1")"
check_eq "a1 still has its factor" 1 "$(app_sql "SELECT totp_enabled_at IS NOT NULL FROM users WHERE login = '$A1'")"

token_c=$(csrf c1 /admin/security)
out=$(req c1 -w '\n%{http_code}' --data-urlencode "login=$S1" --data-urlencode "reason=test" \
    --data-urlencode "csrf=$token_c" "$BASE/admin/mfa-reset")
check_eq "central staff cannot act on a student" 403 "$(printf '%s' "$out" | tail -n 1)"
check_match "and are told who helps students" '學生與教師請由所屬學校的管理者協助' "$out"
check_eq "central staff reset another central staff member" "303 $BASE/admin/security?done=mfa_reset" \
    "$(st c1 --data-urlencode "login=$C2" --data-urlencode "reason=new phone" \
        --data-urlencode "csrf=$token_c" "$BASE/admin/mfa-reset")"
check_eq "c2's factor is gone" 0 "$(app_sql "SELECT totp_enabled_at IS NOT NULL FROM users WHERE login = '$C2'")"
check_eq "c2's session has ended" "303 $BASE/login" "$(st c2 "$BASE/account")"
check_eq "central staff may reset a school admin of any school" "303 $BASE/admin/security?done=mfa_reset" \
    "$(st c1 --data-urlencode "login=$A2" --data-urlencode "reason=lost phone" \
        --data-urlencode "csrf=$token_c" "$BASE/admin/mfa-reset")"
check_eq "and the reset is audited as c1's" "user:$A2	success	{\"reason\":\"lost phone\"}" "$(last_audit mfa.reset "$C1")"

# ------------------------------------------------------------ unlock

fail_signin() {
	local token
	rm -f "$tmp/x.jar"
	token=$(csrf x /login)
	st x --data-urlencode "login=$S1" --data-urlencode "password=wrong-$RANDOM" \
	    --data-urlencode "csrf=$token" "$BASE/login" >/dev/null
}
for i in 1 2 3 4 5; do fail_signin; done
check_eq "five failures lock s1" 1 "$(redis-cli -s "$REDIS_SOCK" EXISTS "${KV_PREFIX}g:l:$S1")"
check_match "s1 cannot sign in" '^200 $' "$(password_signin s1)"
token_b=$(csrf b1 /admin/security)
out=$(req b1 -w '\n%{http_code}' --data-urlencode "login=$S1" --data-urlencode "csrf=$token_b" "$BASE/admin/unlock")
check_eq "school B cannot unlock school A's student" 404 "$(printf '%s' "$out" | tail -n 1)"
check_match "it is told there is no such user" '本校沒有這個使用者' "$out"
check_match "the refusal is audited" "^user:$S1	denied	" "$(last_audit access.denied "$B1")"
check_eq "s1 is still locked" 1 "$(redis-cli -s "$REDIS_SOCK" EXISTS "${KV_PREFIX}g:l:$S1")"
token=$(csrf a1 /admin/security)
check_eq "school A's admin unlocks s1" "303 $BASE/admin/security?done=unlocked" \
    "$(st a1 --data-urlencode "login=$S1" --data-urlencode "csrf=$token" "$BASE/admin/unlock")"
check_eq "the lock is gone" 0 "$(redis-cli -s "$REDIS_SOCK" EXISTS "${KV_PREFIX}g:l:$S1")"
check_eq "account.unlock is audited" "user:$S1	success	{\"was_locked\":true}" "$(last_audit account.unlock "$A1")"
check "s1 signs in again" signin s1
check_eq "unlocking an account that is not locked says so" "303 $BASE/admin/security?done=not_locked" \
    "$(st a1 --data-urlencode "login=$S1" --data-urlencode "csrf=$token" "$BASE/admin/unlock")"
check_eq "unlocking oneself is refused" 403 \
    "$(http_status /admin/unlock -b "$tmp/a1.jar" --data-urlencode "login=$A1" --data-urlencode "csrf=$token")"

# ------------------------------------------------------------ unblock

redis-cli -s "$REDIS_SOCK" SET "${KV_PREFIX}g:b:192.0.2.55" 1 EX 3600 >/dev/null
check_eq "a school admin cannot unblock an address" 403 \
    "$(http_status /admin/unlock -b "$tmp/a1.jar" --data-urlencode "address=192.0.2.55" --data-urlencode "csrf=$token")"
check_match "the refusal is audited" '^admin_unlock	denied	\{"reason":"role"' "$(last_audit access.denied "$A1")"
check_eq "the block stays" 1 "$(redis-cli -s "$REDIS_SOCK" EXISTS "${KV_PREFIX}g:b:192.0.2.55")"
token_c=$(csrf c1 /admin/security)
check_eq "central staff unblock it" "303 $BASE/admin/security?done=unblocked" \
    "$(st c1 --data-urlencode "address=192.0.2.55" --data-urlencode "csrf=$token_c" "$BASE/admin/unlock")"
check_eq "the block is gone" 0 "$(redis-cli -s "$REDIS_SOCK" EXISTS "${KV_PREFIX}g:b:192.0.2.55")"
check_eq "address.unblock is audited" "address:192.0.2.55	success	{\"was_blocked\":true}" \
    "$(last_audit address.unblock "$C1")"
check_eq "a form with both a login and an address is 422" 422 \
    "$(http_status /admin/unlock -b "$tmp/c1.jar" --data-urlencode "address=192.0.2.55" \
        --data-urlencode "login=$A1" --data-urlencode "csrf=$token_c")"
check_eq "a field nobody declared is 422" 422 \
    "$(http_status /admin/unlock -b "$tmp/c1.jar" --data-urlencode "login=$A1" \
        --data-urlencode "role=auditor" --data-urlencode "csrf=$token_c")"
