# auth_detect: one address failing to sign in as more than
# detect.signin_accounts (10) distinct logins within detect.window is
# blocked — even a right password from it is refused with 429 and a message
# that names the block — and an alert is raised: an alerts row, an audit
# row (alert.signin_many_accounts.blocked) and a banner on the home pages
# of the central staff and of the admins of the school concerned.
#
# The burst comes from 127.0.0.21 (see from_addr), so 127.0.0.1 stays
# usable. nginx limits POSTs from any address but 127.0.0.1 to 10 a minute
# with bursts of 5, so the twelve POSTs below take about half a minute:
# web waits for nginx's 429s, and the accounts used to read the alerts are
# set up from 127.0.0.1 meanwhile.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
OTHER=$(new_school)
LOGIN_PREFIX=dt
PW="Lw9,thistle-D"
BAD="Lw9,thistle-X"
ADDR=127.0.0.21
P=$REDIS_PREFIX
T0=$(sql_as app "SELECT UTC_TIMESTAMP(6)") # rows from earlier runs on a kept stack are older
# here CMD...: CMD from 127.0.0.1.
here() { local WEB_FROM=""; "$@"; }
blocked() { [ "$(rcli EXISTS "${P}g:b:$ADDR")" = 1 ]; }
alerts() { sql_as app "SELECT COUNT(*) FROM alerts WHERE ip = '$ADDR' AND kind = '$1' AND at >= '$T0'"; }

logins=()
for i in $(seq 1 11); do
	read -r l _ < <(new_user student)
	logins+=("$l")
done
read -r G GC < <(new_user student)
check "an account of the school is activated (from 127.0.0.1)" here activate "$(newjar)" "$G" "$GC" "$PW"

from_addr 21
J=$(newjar)
for i in 0 1 2 3 4 5; do
	signin "$J" "${logins[$i]}" "$BAD"
	check_eq "from $ADDR, login $((i + 1)) fails (200)" 200 "$STATUS"
done

# While nginx's bucket for 127.0.0.21 drains: the readers of the alert.
read -r CS CSJ < <(here new_active central_staff "$PW")
check "a central staff member enrols in TOTP" here enrol_totp "$CSJ"
read -r SA SAJ < <(here new_active school_admin "$PW" --school "$SCHOOL")
check "the school's admin enrols in TOTP" here enrol_totp "$SAJ"
read -r OA OAJ < <(here new_active school_admin "$PW" --school "$OTHER")
check "another school's admin enrols in TOTP" here enrol_totp "$OAJ"

for i in 6 7 8 9; do
	signin "$J" "${logins[$i]}" "$BAD"
	check_eq "from $ADDR, login $((i + 1)) fails (200)" 200 "$STATUS"
	check_says "login $((i + 1)): the usual failure message" zh-TW login.failed
done
signin "$J" "${logins[9]}" "$BAD"
check_not "ten distinct logins (one of them twice) do not block the address" blocked
check_eq "and raise no alert" 0 "$(alerts signin_many_accounts.blocked)"
signin "$J" "${logins[10]}" "$BAD"
check_eq "the 11th distinct login fails as usual" 200 "$STATUS"
check "the 11th distinct login blocks the address" blocked
t=$(rcli TTL "${P}g:b:$ADDR")
check_match "for an hour (TTL $t)" '^(3[5-6][0-9][0-9])$' "$t"

signin "$(newjar)" "$G" "$PW"
check_eq "from the blocked address the right password is refused with 429" 429 "$STATUS"
check_says "the page says the address is blocked" zh-TW login.blocked
check_match "... for 60 minutes" '60 分鐘' "$BODY"
check_not "and nobody is signed in" signed_in "$J"
check_eq "the refusal is audited as a failure, address_blocked" 1 \
    "$(audit_count "event = 'login.failure' AND target = 'user:$G' AND ip = '$ADDR' AND detail LIKE '%address_blocked%'")"
check "from 127.0.0.1 the same account signs in" here signin "$(newjar)" "$G" "$PW"

# The alert.
sid=$(sql_as app "SELECT id FROM schools WHERE code = '$SCHOOL'")
check_eq "one alert row: the kind, the address, the school of the accounts" \
    "1	$sid" "$(sql_as app "SELECT COUNT(*), MAX(school_id) FROM alerts WHERE ip = '$ADDR' AND kind = 'signin_many_accounts.blocked' AND at >= '$T0' AND acknowledged_at IS NULL")"
check_match "its detail counts 11 accounts" '"accounts":11' \
    "$(sql_as app "SELECT detail FROM alerts WHERE ip = '$ADDR' AND kind = 'signin_many_accounts.blocked' AND at >= '$T0'")"
check_eq "the audit log has alert.signin_many_accounts.blocked from the address" 1 \
    "$(audit_count "event = 'alert.signin_many_accounts.blocked' AND ip = '$ADDR' AND at >= '$T0' AND outcome = 'alert'")"
check_eq "... and the school concerned" "$SCHOOL" \
    "$(sql_as audit "SELECT COALESCE(MAX(school), '(none)') FROM audit_log WHERE event = 'alert.signin_many_accounts.blocked' AND ip = '$ADDR' AND at >= '$T0'")"
check_nomatch "no further failure from the blocked address raised another" '^[2-9]' \
    "$(alerts signin_many_accounts.blocked)"

web "$CSJ" /
check_eq "the central staff's home page opens" 200 "$STATUS"
check_says "it shows the alert banner" zh-TW alert.kind.signin_many_accounts.blocked
check_match "naming the address and the school" "$ADDR</span> · $SCHOOL" "$BODY"
web "$CSJ" / -H 'Accept-Language: en'
check_says "the banner in English" en alert.kind.signin_many_accounts.blocked
web "$SAJ" /
check_eq "the school admin's home page opens" 200 "$STATUS"
check_says "it shows the alert of their school" zh-TW alert.kind.signin_many_accounts.blocked
check_match "... with the address" "$ADDR" "$BODY"
web "$OAJ" /
check_eq "another school's admin's home page opens" 200 "$STATUS"
check_nomatch "it does not show this alert" "$ADDR" "$BODY"

printf '# waited %s s for nginx rate limiting\n' "$WEB_WAITED"
for l in "${logins[@]}" "$G"; do guard_unlock "$l"; done
check "the audit chain verifies" audit_verified
