# auth_lockout: five failed sign-ins of one login within the window lock it
# for lockout.duration — the sixth try fails even with the right password
# and says so — and an unknown login is locked in exactly the same way, so
# the lock tells nothing about which logins exist. Guesses of the current
# password on /password count too, and the lock holds there. The lock ends
# on its own; account.locked is audited.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=lo
PW="Bx5^meadow-K"
EN=(-H 'Accept-Language: en')
P=$REDIS_PREFIX
strip() { printf '%s' "$BODY" | sed "s/name=\"csrf\" value=\"[^\"]*\"//; s/$1/LOGIN/g"; }

read -r K KC < <(new_user student)
check "the account is activated" activate "$(newjar)" "$K" "$KC" "$PW"
U="lo-nobody-$RANDOM$RANDOM"

J=$(newjar)
for i in 1 2 3 4 5; do
	signin "$J" "$K" "Bx5^meadow-$i"
	check_eq "wrong password $i: the sign-in page again (200)" 200 "$STATUS"
	check_says "wrong password $i: the failure message" zh-TW login.failed
	if [ "$i" = 1 ]; then
		fail_k=$(strip "$K")
		t=$(rcli TTL "${P}g:f:$K")
		check_match "the failures are counted over 15 minutes (TTL $t)" '^(8[4-9][0-9]|900)$' "$t"
	fi
done
t=$(rcli TTL "${P}g:l:$K")
check_match "the fifth failure locks the login for 15 minutes (TTL $t)" '^(8[4-9][0-9]|900)$' "$t"
signin "$J" "$K" "$PW"
check_eq "the sixth try, with the right password, does not sign in" 200 "$STATUS"
check_says "it says the account is locked" zh-TW login.locked
check_match "in zh-TW: 鎖定, 15 分鐘" '鎖定.*15 分鐘' "$BODY"
locked_k=$(strip "$K")
signin "$J" "$K" "$PW" "${EN[@]}"
check_says "in English too" en login.locked
check_match "in English: locked, 15 minutes" 'locked.*15 minutes' "$BODY"
check_not "the locked account has no session" signed_in "$J"

# An unknown login: the same five failures, the same lock, the same page.
J2=$(newjar)
for i in 1 2 3 4 5; do
	signin "$J2" "$U" "Bx5^meadow-$i"
	check_eq "unknown login, try $i: the known login's failure page, login aside" "$fail_k" "$(strip "$U")"
done
check_says "an unknown login gets the same failure message" zh-TW login.failed
signin "$J2" "$U" "$PW"
check_says "the sixth try on an unknown login says it is locked" zh-TW login.locked
check_eq "the unknown login's locked page is the known one's, login aside" "$locked_k" "$(strip "$U")"
check_eq "... with the same status" 200 "$STATUS"

# The audit log: five failures and one lock each; the locked tries are
# failures with reason "locked".
check_eq "account.locked is audited once for the account" 1 \
    "$(audit_count "event = 'account.locked' AND target = 'user:$K'")"
check_eq "account.locked is audited once for the unknown login" 1 \
    "$(audit_count "event = 'account.locked' AND target = 'user:$U'")"
check_eq "five bad_credentials failures for the account" 5 \
    "$(audit_count "event = 'login.failure' AND target = 'user:$K' AND detail LIKE '%bad_credentials%'")"
check_eq "two locked failures for the account" 2 \
    "$(audit_count "event = 'login.failure' AND target = 'user:$K' AND detail LIKE '%\"locked\"%'")"
row=$(audit_rows "event = 'account.locked' AND target = 'user:$K'")
check_match "the lock row names the account, its role and school, the address" \
    "^account\\.locked	$K	student	$SCHOOL	127\\.0\\.0\\.1	alert" "$row"
check_eq "L audit tail shows account.locked" 1 \
    "$(L audit tail --limit 200 | grep -c "\"event\":\"account.locked\",\"target\":\"user:$K\"")"

# The lock ends when its key expires. Rather than wait 15 minutes, the
# lock's TTL is cut to one second — time passing, as Redis sees it.
rcli EXPIRE "${P}g:l:$K" 1 >/dev/null
rcli EXPIRE "${P}g:l:$U" 1 >/dev/null
sleep 2
check_eq "the lock is gone" 0 "$(rcli EXISTS "${P}g:l:$K")"
J3=$(newjar)
signin "$J3" "$K" "$PW"
check_eq "after the lock the right password signs in" "303 /" "$STATUS $LOCATION"
signin "$J2" "$U" "$PW"
check_says "after the lock an unknown login just fails" zh-TW login.failed

# A success resets the count: four failures, a success, four failures do
# not lock.
for i in 1 2 3 4; do signin "$(newjar)" "$K" "Bx5^meadow-$i"; done
check "a success after four failures signs in" signin "$(newjar)" "$K" "$PW"
for i in 1 2 3 4; do signin "$(newjar)" "$K" "Bx5^meadow-$i"; done
check_eq "four more failures do not lock" 0 "$(rcli EXISTS "${P}g:l:$K")"
check "the right password still signs in" signin "$(newjar)" "$K" "$PW"

# Wrong activation codes lock a login the same way.
read -r V VC < <(new_user student)
VJ=$(newjar)
for i in 1 2 3 4 5; do activate "$VJ" "$V" "ABCDE-FGH$((i + 1))K" "Rt6&lichen-V"; done
check_says "five wrong activation codes: still the activation message" zh-TW activate.failed
check_eq "account.locked is audited for the activation" 1 \
    "$(audit_count "event = 'account.locked' AND target = 'user:$V'")"
activate "$VJ" "$V" "$VC" "Rt6&lichen-V"
check_not "the right code is refused while the login is locked" test "$STATUS" = 303
check_says "the page says the account is locked" zh-TW login.locked
check_eq "the account is still pending" pending "$(sql_as app "SELECT status FROM users WHERE login = '$V'")"

# The current password asked by /password is a password guess like any
# other: five wrong ones lock the account, and the lock holds there too.
read -r W WJ < <(new_active student "$PW")
sql_as root "UPDATE licheng.users SET password_changed_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY WHERE login = '$W'"
for i in 1 2 3 4 5; do
	web "$WJ" /password
	post "$WJ" /password "current_password=Bx5^meadow-$i" "new_password=Rt6&lichen-W"
done
check_says "five wrong current passwords: refused as wrong" zh-TW password.rule.current_wrong
check_eq "... and the account is locked" 1 "$(rcli EXISTS "${P}g:l:$W")"
check_eq "account.locked is audited for the change" 1 \
    "$(audit_count "event = 'account.locked' AND target = 'user:$W' AND detail LIKE '%password_change%'")"
web "$WJ" /password
post "$WJ" /password "current_password=$PW" "new_password=Rt6&lichen-W"
check_not "while locked, /password does not accept the right current password" \
    test "$STATUS $LOCATION" = "303 /account?done=password"
check_says "... it says the account is locked" zh-TW login.locked
check "the password is unchanged: the old one signs in after the lock" \
    eval 'guard_unlock "$W"; signin "$(newjar)" "$W" "$PW"'

guard_unlock "$K"
guard_unlock "$U"
guard_unlock "$V"
guard_unlock "$W"
check "the audit chain verifies" audit_verified
