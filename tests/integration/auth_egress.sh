# auth_egress: a school's registered egress address (the NAT its pupils
# share) is never blocked by the sign-in detector: it gets the higher
# detect.egress_signin_accounts threshold (200 failing logins within the
# window, the default the test stack keeps) and, past it, one alert
# (alert.signin_many_accounts.egress) for the school instead of a block.
# Sign-in from it keeps working. auth_egress_pw does the same for password
# changes.
#
# The address registered is 127.0.0.1 for the length of this scenario: the
# only address nginx exempts from its rate limit in the dev stack, and so
# the only one from which 200 sign-ins fit in a test run. The registration
# and the address's counters are removed when the scenario exits.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=eg
PW="Nr4_alder-E"
ADDR=127.0.0.1
P=$REDIS_PREFIX
RUN=$RANDOM$RANDOM
T0=$(sql_as app "SELECT UTC_TIMESTAMP(6)")
sid=$(sql_as app "SELECT id FROM schools WHERE code = '$SCHOOL'")
blocked() { [ "$(rcli EXISTS "${P}g:b:$ADDR")" = 1 ]; }
alerts() { sql_as app "SELECT COUNT(*) FROM alerts WHERE ip = '$ADDR' AND kind = '$1' AND at >= '$T0'"; }
par_wait() { while [ "$(jobs -rp | wc -l)" -ge "$1" ]; do wait -n; done; }

read -r ADM _ < <(new_user school_admin)
pub=$(openssl rand -hex 11)
sql_as root "INSERT INTO licheng.school_egress (public_id, school_id, address, note, created_by)
    SELECT '$pub', $sid, '$ADDR', 'auth_egress test', id FROM licheng.users WHERE login = '$ADM'"
at_exit "sql_as root \"DELETE FROM licheng.school_egress WHERE public_id = '$pub'\""
at_exit "rcli --scan --pattern '${P}g:f:eg-miss-$RUN-*' | xargs -r redis-cli -s '$REDIS_SOCK' DEL"
check_eq "$ADDR is registered as the school's egress address" 1 \
    "$(sql_as app "SELECT COUNT(*) FROM school_egress WHERE address = '$ADDR' AND school_id = $sid")"

read -r G GC < <(new_user student)
check "an account is activated" activate "$(newjar)" "$G" "$GC" "$PW"

# ------------------------------------------------------------ sign-in
J=$(newjar)
for i in $(seq 1 11); do signin "$J" "eg-miss-$RUN-$i" "$PW"; done
check_eq "11 failing logins from the egress address: the usual page" 200 "$STATUS"
check_not "... do not block it" blocked
check_eq "... and raise no alert (the egress threshold is 200)" 0 \
    "$(($(alerts signin_many_accounts.blocked) + $(alerts signin_many_accounts.egress)))"
# 190 more, eight at a time.
for i in $(seq 12 201); do
	par_wait 8
	(signin "$(newjar)" "eg-miss-$RUN-$i" "$PW"; echo "$STATUS" >"$AUTH_TMP/s.$i") &
done
wait
check_eq "the 190 parallel failures got the usual page" 190 "$(cat "$AUTH_TMP"/s.* | grep -c '^200$')"
check_eq "the distinct logins are counted" 201 "$(rcli ZCARD "${P}g:a:signin:$ADDR")"
check_not "201 failing logins do not block an egress address" blocked
check_eq "one alert: signin_many_accounts.egress" 1 "$(alerts signin_many_accounts.egress)"
check_eq "none of the blocking kind" 0 "$(alerts signin_many_accounts.blocked)"
check_eq "the alert is the school's" "$sid" \
    "$(sql_as app "SELECT MAX(school_id) FROM alerts WHERE ip = '$ADDR' AND kind = 'signin_many_accounts.egress' AND at >= '$T0'")"
check_match "its detail says egress" '"accounts":201,.*"egress":true' \
    "$(sql_as app "SELECT detail FROM alerts WHERE ip = '$ADDR' AND kind = 'signin_many_accounts.egress' AND at >= '$T0'")"
check_eq "the audit log has alert.signin_many_accounts.egress" 1 \
    "$(audit_count "event = 'alert.signin_many_accounts.egress' AND ip = '$ADDR' AND at >= '$T0'")"
signin "$(newjar)" "$G" "$PW"
check_eq "the right password still signs in from the egress address" "303 /" "$STATUS $LOCATION"

check "the audit chain verifies" audit_verified
