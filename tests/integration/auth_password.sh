# auth_password: activation with the one-time code and the password rules
# through the real stack — the content rules (length, blocklist, the user's
# login, name, national ID, school code and birth date), the 180-day expiry
# and its warning, the 1-day minimum age, the last-3 history and the
# current-password check. Every refusal names its rule (zh-TW by default,
# English on request) and changes nothing.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=pw
EN=(-H 'Accept-Language: en')

# age LOGIN DAYS: the password was last changed DAYS days ago.
age() {
	sql_as root "UPDATE licheng.users SET password_changed_at = UTC_TIMESTAMP(6) - INTERVAL $2 DAY WHERE login = '$1'"
}
hash_of() { sql_as app "SELECT password_hash FROM users WHERE login = '$1'"; }
# change JAR CURRENT NEW [curl args]: GET /password, then POST it.
change() {
	local jar=$1 cur=$2 new=$3
	shift 3
	web "$jar" /password "$@"
	post "$jar" /password "current_password=$cur" "new_password=$new" -- "$@"
}
# refused_at_activation DESC RULE PASSWORD [curl args]: activation of Q with
# PASSWORD is refused with 422 and the message of RULE.
act_refused() {
	local desc=$1 rule=$2 pw=$3 lang=zh-TW
	shift 3
	[ "$#" -gt 0 ] && lang=en
	activate "$AJ" "$AL" "$AC" "$pw" "$@"
	check_eq "$desc: refused (422)" 422 "$STATUS"
	check_says "$desc: the message names the rule $rule ($lang)" "$lang" "password.rule.$rule"
}

# ------------------------------------------------------------ activation

read -r QL QC < <(new_user student)
J=$(newjar)
web "$J" /activate
check_eq "GET /activate is 200" 200 "$STATUS"
check_says "the activation page lists the password rules" zh-TW password.help.personal
check_match "the activation form carries a CSRF token" '^[A-Za-z0-9_-]{43}$' "$(csrf_of "$J.body")"

activate "$J" "$QL" "ABCDE-FGHJK" "Vn4!garnet-Q"
check_eq "a wrong activation code is refused (200, the form again)" 200 "$STATUS"
check_says "a wrong code: the activation message" zh-TW activate.failed
wrong_body=$(printf '%s' "$BODY" | sed 's/name="csrf" value="[^"]*"//')

sql_as root "UPDATE licheng.users SET activation_expires = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE login = '$QL'"
activate "$J" "$QL" "$QC" "Vn4!garnet-Q"
check_eq "an expired code is refused" 200 "$STATUS"
check_says "an expired code: the same message" zh-TW activate.failed
check_eq "an expired code: the very same page as a wrong one" "$wrong_body" \
    "$(printf '%s' "$BODY" | sed 's/name="csrf" value="[^"]*"//')"
check_eq "an expired code leaves the account pending" pending \
    "$(sql_as app "SELECT status FROM users WHERE login = '$QL'")"
activate "$J" "$QL" "$QC" "Vn4!garnet-Q" "${EN[@]}"
check_says "an expired code in English" en activate.failed
sql_as root "UPDATE licheng.users SET activation_expires = UTC_TIMESTAMP(6) + INTERVAL 14 DAY WHERE login = '$QL'"

# The blocklist, on an account with no personal facts to collide with.
AJ=$J AL=$QL AC=$QC
act_refused "a 7-character password" too_short "Vn4!gar"
act_refused "a 7-character password" too_short "Vn4!gar" "${EN[@]}"
check_match "the English message gives the minimum length" 'at least 8 characters' "$BODY"
for pw in 12345678 password1 qwerty123 1qaz2wsx 0912345678 20080315 088/01/01 ji394su3; do
	act_refused "the blocklisted $pw" blocklisted "$pw"
done
act_refused "a blocklisted password" blocklisted "password1" "${EN[@]}"
# 5201314x (520 1314, "I love you for ever", with a letter) on an account of
# its own: if it were accepted it would activate the account.
read -r RL RC < <(new_user student)
AJ=$(newjar) AL=$RL AC=$RC
act_refused "the blocklisted 5201314x" blocklisted "5201314x"
AJ=$J AL=$QL AC=$QC

activate "$J" "$QL" "$QC" "Vn4!garnet-Q"
check_eq "the right code with a good password activates (303)" 303 "$STATUS"
check_eq "... to /login?done=activated" "/login?done=activated" "$LOCATION"
check_eq "the account is active, its code spent" $'active\t1\t1' \
    "$(sql_as app "SELECT status, activation_hash IS NULL, activation_expires IS NULL FROM users WHERE login = '$QL'")"
web "$J" "/login?done=activated"
check_says "the sign-in page says the account is active" zh-TW login.activated
activate "$J" "$QL" "$QC" "Vn4!garnet-R"
check_eq "a used code is refused" 200 "$STATUS"
check_says "a used code: the same message" zh-TW activate.failed
check_eq "account.activated is audited once" 1 "$(audit_count "event = 'account.activated' AND target = 'user:$QL'")"
check_eq "the refusals are audited with their rule" 11 \
    "$(audit_count "event = 'password.change.refused' AND target = 'user:$QL' AND detail LIKE '%\"during\":\"activation\"%' AND (detail LIKE '%\"rule\":\"blocklisted\"%' OR detail LIKE '%\"rule\":\"too_short\"%')")"

# ------------------------------------------------------------ personal facts

read -r PL PC < <(new_user student --name "Chen Mei-Ling" --national-id A123456789 --birth-date 2008-03-15)
PJ=$(newjar)
AJ=$PJ AL=$PL AC=$PC
act_refused "the login inside the password" has_login "Zq!${PL}9"
act_refused "the login, upper case" has_login "Zq!${PL^^}9"
act_refused "the name's part Mei-Ling (Meiling2024!x)" has_name "Meiling2024!x"
act_refused "the name" has_name "Meiling2024!x" "${EN[@]}"
act_refused "the national ID (x9A123456789)" has_national_id "x9A123456789"
act_refused "the national ID in lower case" has_national_id "x9a123456789"
act_refused "the national ID" has_national_id "x9A123456789" "${EN[@]}"
act_refused "the school code" has_school_code "Q!${SCHOOL}z"
act_refused "the birth date (Qz20080315!)" has_birth_date "Qz20080315!"
act_refused "the ROC birth date (Qz0970315!)" has_birth_date "Qz0970315!"
act_refused "the birth date" has_birth_date "Qz0970315!" "${EN[@]}"
check_eq "after the refusals the account is still pending" pending \
    "$(sql_as app "SELECT status FROM users WHERE login = '$PL'")"
check_match "the audit rows name the rules" 'has_login.*has_name.*has_national_id.*has_school_code.*has_birth_date' \
    "$(sql_as audit "SELECT GROUP_CONCAT(detail ORDER BY id) FROM audit_log WHERE event = 'password.change.refused' AND target = 'user:$PL'")"
check_nomatch "no refused password is in the audit log" 'Meiling2024|x9A123456789|Qz0970315|Qz20080315' \
    "$(sql_as audit "SELECT GROUP_CONCAT(detail) FROM audit_log WHERE target = 'user:$PL'")"
PA="Tq8!wolfram-P"
check "P activates with a password free of personal facts" activate "$PJ" "$PL" "$PC" "$PA"
check "P signs in" signin "$PJ" "$PL" "$PA"
check "P accepts the privacy notice" accept_privacy "$PJ"

# ------------------------------------------------------------ change

h0=$(hash_of "$PL")
change "$PJ" "$PA" "Rk5#sable-P1"
check_eq "a change right after activation is refused (1-day minimum age)" 422 "$STATUS"
check_says "the message names too_soon" zh-TW password.rule.too_soon
change "$PJ" "$PA" "Rk5#sable-P1" "${EN[@]}"
check_says "too_soon in English" en password.rule.too_soon
age "$PL" 2
change "$PJ" "Wrong-current-9" "Rk5#sable-P1"
check_eq "a wrong current password is refused" 422 "$STATUS"
check_says "the message names current_wrong" zh-TW password.rule.current_wrong
change "$PJ" "$PA" "Rk5x9A123456789"
check_eq "a new password with the national ID is refused at a change too" 422 "$STATUS"
check_says "... naming has_national_id" zh-TW password.rule.has_national_id
check_eq "the refused changes left the stored hash alone" "$h0" "$(hash_of "$PL")"
check "the old password still signs in" signin "$(newjar)" "$PL" "$PA"
check_eq "the refusals are audited with rule and 'change'" 4 \
    "$(audit_count "event = 'password.change.refused' AND target = 'user:$PL' AND detail LIKE '%\"during\":\"change\"%' AND (detail LIKE '%too_soon%' OR detail LIKE '%current_wrong%' OR detail LIKE '%has_national_id%')")"
guard_unlock "$PL" # the wrong current password counted as a failure

# ------------------------------------------------------------ history

QJ=$(newjar)
A="Vn4!garnet-Q" B="Hw7%cobalt-Q" C="Mz2&russet-Q" D="Ky6*umber-Q"
check "Q signs in" signin "$QJ" "$QL" "$A"
check "Q accepts the privacy notice" accept_privacy "$QJ"
age "$QL" 2
change "$QJ" "$A" "$B"
check_eq "A -> B is accepted (303)" 303 "$STATUS"
check_eq "... to /account?done=password" "/account?done=password" "$LOCATION"
web "$QJ" "$LOCATION"
check_says "the account page says the password changed" zh-TW password.changed
age "$QL" 2
change "$QJ" "$B" "$C"
check_eq "B -> C is accepted" 303 "$STATUS"
age "$QL" 2
change "$QJ" "$C" "$A"
check_eq "C -> A is refused (A is among the last 3)" 422 "$STATUS"
check_says "... naming reused" zh-TW password.rule.reused
change "$QJ" "$C" "$B"
check_eq "C -> B is refused" 422 "$STATUS"
check_says "... naming reused" zh-TW password.rule.reused
change "$QJ" "$C" "$C" "${EN[@]}"
check_eq "C -> C is refused" 422 "$STATUS"
check_says "... naming reused, in English" en password.rule.reused
check_match "the English message says 3" 'last 3 passwords' "$BODY"
change "$QJ" "$C" "$D"
check_eq "C -> D is accepted" 303 "$STATUS"
age "$QL" 2
change "$QJ" "$D" "$B"
check_eq "D -> B is refused (D, C, B are the last 3)" 422 "$STATUS"
change "$QJ" "$D" "$A"
check_eq "D -> A is accepted (A is the 4th last)" 303 "$STATUS"
check_eq "two earlier hashes are kept besides the current one" 2 \
    "$(sql_as app "SELECT COUNT(*) FROM password_history h JOIN users u ON u.id = h.user_id WHERE u.login = '$QL'")"
check "Q signs in with A again" signin "$(newjar)" "$QL" "$A"
check_not "D no longer signs in" signin "$(newjar)" "$QL" "$D"
check_eq "password.change is audited for the four changes" 4 \
    "$(audit_count "event = 'password.change' AND target = 'user:$QL' AND outcome = 'success'")"

# ------------------------------------------------------------ expiry

age "$PL" 170
web "$PJ" /
check_eq "170 days old: the home page opens" 200 "$STATUS"
check_says "170 days old: the home page warns of the expiry" zh-TW password.expires_soon
check_match "... in about 10 days" '將於 (9|10) 天後到期' "$BODY"
web "$PJ" / "${EN[@]}"
check_says "the warning in English" en password.expires_soon
age "$PL" 160
web "$PJ" /
check_not "160 days old: no warning" says zh-TW password.expires_soon

age "$PL" 181
web "$PJ" /
check_eq "181 days old: GET / goes to /password" "303 /password" "$STATUS $LOCATION"
web "$PJ" /account
check_eq "181 days old: GET /account goes to /password" "303 /password" "$STATUS $LOCATION"
web "$PJ" /mfa/setup
check_eq "181 days old: GET /mfa/setup goes to /password" "303 /password" "$STATUS $LOCATION"
web "$PJ" /password
check_eq "the password page opens" 200 "$STATUS"
check_says "it says the password has expired" zh-TW password.expired
post "$PJ" /mfa/recovery totp=123456
check_eq "181 days old: a POST elsewhere is refused (403)" 403 "$STATUS"
check_match "the refusal says the password must be changed first" 'href="/password"|密碼已超過使用期限' "$BODY"
change "$PJ" "$PA" "Rk5#sable-P2"
check_eq "the expired password is changed (the minimum age does not apply)" 303 "$STATUS"
web "$PJ" /
check_eq "after the change the home page opens" 200 "$STATUS"
check_not "and warns no more" says zh-TW password.expires_soon

check "the audit chain verifies" audit_verified
