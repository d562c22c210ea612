# auth_egress_pw: a school's registered egress address is never blocked by
# the password-change detector either: it gets the higher
# detect.egress_password_changes threshold (100 accounts setting a
# password within the window, the default the test stack keeps) and, past
# it, one alert (alert.password_changes.egress) for the school instead of
# a block. See auth_egress for the sign-in detector.
#
# The address registered is 127.0.0.1 for the length of this scenario: the
# only address nginx exempts from its rate limit in the dev stack, and so
# the only one from which 100 activations fit in a test run. The registration
# and the address's counters are removed when the scenario exits.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=ep
PW="Nr4_alder-E"
ADDR=127.0.0.1
P=$REDIS_PREFIX
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
check_eq "$ADDR is registered as the school's egress address" 1 \
    "$(sql_as app "SELECT COUNT(*) FROM school_egress WHERE address = '$ADDR' AND school_id = $sid")"

read -r G GC < <(new_user student)
check "an account is activated" activate "$(newjar)" "$G" "$GC" "$PW"

# ------------------------------------------------------------ password changes
mkdir -p "$AUTH_TMP"
for i in $(seq 1 101); do
	par_wait 8
	new_user student >"$AUTH_TMP/u.$i" &
done
wait
for i in $(seq 1 101); do
	par_wait 8
	(read -r l c <"$AUTH_TMP/u.$i"
	 activate "$(newjar)" "$l" "$c" "$PW"; echo "$STATUS" >"$AUTH_TMP/a.$i") &
done
wait
check_eq "101 more accounts set their passwords from the egress address (102 in all)" 101 \
    "$(cat "$AUTH_TMP"/a.* | grep -c '^303$')"
check_not "which does not block it" blocked
check_eq "one alert: password_changes.egress" 1 "$(alerts password_changes.egress)"
check_eq "none of the blocking kind" 0 "$(alerts password_changes.blocked)"
check_match "the alert is the school's, past 100 accounts, from an egress address" \
    "^$sid	\\{\"accounts\":101,.*\"egress\":true\\}\$" \
    "$(sql_as app "SELECT school_id, detail FROM alerts WHERE ip = '$ADDR' AND kind = 'password_changes.egress' AND at >= '$T0'")"
check_eq "the audit log has alert.password_changes.egress" 1 \
    "$(audit_count "event = 'alert.password_changes.egress' AND ip = '$ADDR' AND at >= '$T0'")"
check "sign-in from the egress address still works" signin "$(newjar)" "$G" "$PW"

check "the audit chain verifies" audit_verified
