# auth_detect_pw: more than detect.password_changes (5) accounts setting a
# password from one address within detect.window — activations and
# changes alike (seeds/002 case 1: many accounts changing their first
# passwords at once) — block the address and raise an alert
# (alert.password_changes.blocked). From the blocked address, activation
# and sign-in are refused with a message that names the block.
#
# From 127.0.0.22 (see from_addr); nginx's rate limit for addresses other
# than 127.0.0.1 makes the nine POSTs take about 20 seconds.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=dp
PW="Mq5.juniper-D"
ADDR=127.0.0.22
P=$REDIS_PREFIX
T0=$(sql_as app "SELECT UTC_TIMESTAMP(6)") # rows from earlier runs on a kept stack are older
here() { local WEB_FROM=""; "$@"; }
blocked() { [ "$(rcli EXISTS "${P}g:b:$ADDR")" = 1 ]; }

declare -a L C
for i in 1 2 3 4 5 6; do read -r "L[$i]" "C[$i]" < <(new_user student); done
# The sixth account is active already: it changes its password instead.
read -r CH CHJ < <(here new_active student "$PW")
sql_as root "UPDATE licheng.users SET password_changed_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY WHERE login = '$CH'"

from_addr 22
for i in 1 2 3 4 5; do
	activate "$(newjar)" "${L[$i]}" "${C[$i]}" "$PW"
	check_eq "from $ADDR, activation $i succeeds" "303 /login?done=activated" "$STATUS $LOCATION"
done
check_not "five accounts setting passwords do not block the address" blocked
J=$(newjar)
check "from $ADDR an active account signs in" signin "$J" "$CH" "$PW"
web "$J" /password
post "$J" /password "current_password=$PW" "new_password=Mq5.juniper-E"
check_eq "and changes its password: the 6th account, accepted" "303 /account?done=password" "$STATUS $LOCATION"
check "the 6th account blocks the address" blocked
check_eq "one alert row, for the school of the accounts" \
    "1	$(sql_as app "SELECT id FROM schools WHERE code = '$SCHOOL'")" \
    "$(sql_as app "SELECT COUNT(*), MAX(school_id) FROM alerts WHERE ip = '$ADDR' AND kind = 'password_changes.blocked' AND at >= '$T0'")"
check_match "its detail counts 6 accounts" '"accounts":6' \
    "$(sql_as app "SELECT detail FROM alerts WHERE ip = '$ADDR' AND kind = 'password_changes.blocked' AND at >= '$T0'")"
check_eq "the audit log has alert.password_changes.blocked" 1 \
    "$(audit_count "event = 'alert.password_changes.blocked' AND ip = '$ADDR' AND at >= '$T0' AND outcome = 'alert'")"

activate "$(newjar)" "${L[6]}" "${C[6]}" "$PW"
check_eq "from the blocked address an activation is refused with 429" 429 "$STATUS"
check_says "the page says the address is blocked" zh-TW login.blocked
check_eq "the account stays pending" pending "$(sql_as app "SELECT status FROM users WHERE login = '${L[6]}'")"
signin "$(newjar)" "${L[1]}" "$PW" -H 'Accept-Language: en'
check_eq "from the blocked address a right password is refused with 429" 429 "$STATUS"
check_says "the page says the address is blocked, in English" en login.blocked
check "from 127.0.0.1 the pending account activates" here activate "$(newjar)" "${L[6]}" "${C[6]}" "$PW"
check "from 127.0.0.1 an account activated at the blocked address signs in" here signin "$(newjar)" "${L[1]}" "$PW"

printf '# waited %s s for nginx rate limiting\n' "$WEB_WAITED"
check "the audit chain verifies" audit_verified
