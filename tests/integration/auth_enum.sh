# auth_enum: sign-in tells nobody which logins exist. A wrong password, an
# unknown login and an account not yet activated get the same status, the
# same headers and the same page (apart from the login echoed in the form,
# and so the length), in about the same time: each costs one scrypt hash.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=en
PW="Cw8+harbor-E"

read -r K KC < <(new_user student)
check "the account is activated" activate "$(newjar)" "$K" "$KC" "$PW"
read -r PEND PC < <(new_user student)
U="en-nobody-$RANDOM$RANDOM"

J=$(newjar)
web "$J" /login
# try LOGIN: one failed sign-in with J; prints "status seconds" and keeps
# the page, with the login and the CSRF token taken out, in $J.LOGIN.
try() {
	local t
	t=$(curl -sk -c "$J" -b "$J" -D "$J.h" -o "$J.b" -w '%{http_code} %{time_total}' \
	    --data-urlencode "login=$1" --data-urlencode "password=Cw8+harbor-X" \
	    --data-urlencode "csrf=$(csrf_of "$J.body")" "$BASE/login")
	sed "s/$1/LOGIN/g" "$J.b" >"$J.$1"
	grep -Eiv '^(date|content-length):' "$J.h" | tr -d '\r' >"$J.$1.h"
	printf '%s\n' "$t"
}
declare -A times
for round in 1 2 3; do
	for who in "$K" "$U" "$PEND"; do
		read -r st secs < <(try "$who")
		check_eq "round $round, $who: 200" 200 "$st"
		times[$who]+="$secs "
	done
done
check_eq "wrong password and unknown login: the same page" "$(cat "$J.$K")" "$(cat "$J.$U")"
check_eq "wrong password and a pending account: the same page" "$(cat "$J.$K")" "$(cat "$J.$PEND")"
check_eq "wrong password and unknown login: the same headers" "$(cat "$J.$K.h")" "$(cat "$J.$U.h")"
check_eq "wrong password and a pending account: the same headers" "$(cat "$J.$K.h")" "$(cat "$J.$PEND.h")"
BODY=$(cat "$J.b")
check_says "the page says the login or the password is wrong" zh-TW login.failed

# Medians in milliseconds; each within 3x of the other (both hash).
median_ms() {
	printf '%s\n' $1 | sort -n | sed -n 2p | awk '{ printf "%d\n", $1 * 1000 }'
}
mk=$(median_ms "${times[$K]}")
mu=$(median_ms "${times[$U]}")
mp=$(median_ms "${times[$PEND]}")
printf '# median ms: wrong password %s, unknown login %s, pending account %s\n' "$mk" "$mu" "$mp"
check "an unknown login takes the time of a wrong password (${mu} vs ${mk} ms, within 3x)" \
    test "$mu" -lt $((3 * mk)) -a "$mk" -lt $((3 * mu))
check "a pending account takes the time of a wrong password (${mp} vs ${mk} ms, within 3x)" \
    test "$mp" -lt $((3 * mk)) -a "$mk" -lt $((3 * mp))
check "a failure takes the time of a hash (over 20 ms)" test "$mu" -gt 20

# The audit log knows the difference; the pages do not.
check_eq "the unknown login's failures are audited as anonymous" 3 \
    "$(audit_count "event = 'login.failure' AND target = 'user:$U' AND role = 'anonymous' AND detail LIKE '%bad_credentials%'")"
check_eq "the account's failures are audited with its role and school" 3 \
    "$(audit_count "event = 'login.failure' AND target = 'user:$K' AND role = 'student' AND school = '$SCHOOL'")"

# The activation page tells no more: an unknown login and a wrong code
# for a real one get the same answer.
web "$J" /activate
post "$J" /activate "login=$U" code=ABCDE-FGHJK new_password=Cw8+harbor-Z
a1=$(printf '%s' "$BODY" | sed "s/$U/LOGIN/g; s/name=\"csrf\" value=\"[^\"]*\"//")
s1=$STATUS
post "$J" /activate "login=$PEND" code=ABCDE-FGHJK new_password=Cw8+harbor-Z
a2=$(printf '%s' "$BODY" | sed "s/$PEND/LOGIN/g; s/name=\"csrf\" value=\"[^\"]*\"//")
check_eq "activation: unknown login and wrong code, the same status" "$s1" "$STATUS"
check_eq "activation: unknown login and wrong code, the same page" "$a1" "$a2"

for l in "$K" "$U" "$PEND"; do guard_unlock "$l"; done
check "the audit chain verifies" audit_verified
