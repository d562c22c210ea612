# auth_audit: what sign-in and the account pages write to the audit log,
# row by row, for a student and an auditor going through their first days:
# account.activated, login.failure, login.success, privacy.accept,
# password.change.refused, password.change, access.denied (a CSRF failure
# and a student asking for the auditors' /audit), logout, account.locked,
# mfa.enrol and mfa.success — each with who, role, school, address and
# outcome, none with a password, code, secret or token — and the chain
# still verifies.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=ad
PW="Pv2'hazel-A"
PW2="Pv2'hazel-B"
IP='127\.0\.0\.1'
first=$(($(sql_as audit "SELECT COALESCE(MAX(id), 0) FROM audit_log") + 1))
# row EVENT LOGIN: the audit rows of EVENT about user LOGIN.
row() { audit_rows "id >= $first AND event = '$1' AND target = 'user:$2'"; }

# ------------------------------------------------------------ a student
read -r S SC < <(new_user student)
J=$(newjar)
check "the student activates" activate "$J" "$S" "$SC" "$PW"
check_match "account.activated: the student, role, school, address, success" \
    "^account\\.activated	$S	student	$SCHOOL	$IP	success	\$" "$(row account.activated "$S")"
check_not "a wrong password fails" signin "$J" "$S" "$PW2"
check_match "login.failure: bad_credentials" \
    "^login\\.failure	$S	student	$SCHOOL	$IP	failure	\\{\"reason\":\"bad_credentials\"\\}\$" "$(row login.failure "$S")"
check "the student signs in" signin "$J" "$S" "$PW"
check_match "login.success" "^login\\.success	$S	student	$SCHOOL	$IP	success	\$" "$(row login.success "$S")"
check "the student accepts the privacy notice" accept_privacy "$J"
check_match "privacy.accept with the version" \
    "^privacy\\.accept	$S	student	$SCHOOL	$IP	success	\\{\"version\":\"2026-1\"\\}\$" "$(row privacy.accept "$S")"
web "$J" /password
post "$J" /password "current_password=$PW" "new_password=$PW2"
check_eq "a change on the first day is refused" 422 "$STATUS"
check_match "password.change.refused: the rule and when" \
    "^password\\.change\\.refused	$S	student	$SCHOOL	$IP	failure	\\{\"rule\":\"too_soon\",\"during\":\"change\"\\}\$" \
    "$(row password.change.refused "$S")"
sql_as root "UPDATE licheng.users SET password_changed_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY WHERE login = '$S'"
post "$J" /password "current_password=$PW" "new_password=$PW2"
check_eq "a change two days later is accepted" 303 "$STATUS"
check_match "password.change" "^password\\.change	$S	student	$SCHOOL	$IP	success	\$" "$(row password.change "$S")"

web "$J" /audit
check_eq "a student asking for /audit is refused" 403 "$STATUS"
check_says "with the access-denied page" zh-TW error.403.title
web "$J" /password --data-urlencode "current_password=$PW2" --data-urlencode "new_password=$PW"
check_eq "a POST without its CSRF token is refused" 403 "$STATUS"
rows=$(audit_rows "id >= $first AND event = 'access.denied' AND actor = '$S'")
check_match "access.denied for /audit: the route, reason role" \
    "access\\.denied	$S	student	$SCHOOL	$IP	denied	\\{\"reason\":\"role\",\"method\":\"GET\",\"path\":\"/audit\"\\}" "$rows"
check_eq "... with the route's name as its target" 1 \
    "$(audit_count "id >= $first AND event = 'access.denied' AND actor = '$S' AND target = 'audit'")"
check_match "access.denied for the CSRF failure: reason csrf" \
    "access\\.denied	$S	student	$SCHOOL	$IP	denied	\\{\"reason\":\"csrf\",\"method\":\"POST\",\"path\":\"/password\"\\}" "$rows"
web "$J" /account
post "$J" /logout
check_eq "the student signs out" 303 "$STATUS"
check_match "logout" "^logout	$S	student	$SCHOOL	$IP	success	\$" "$(row logout "$S")"

for i in 1 2 3 4 5; do signin "$(newjar)" "$S" "Pv2'hazel-$i"; done
check_match "account.locked after five failures" \
    "^account\\.locked	$S	student	$SCHOOL	$IP	alert	\$" "$(row account.locked "$S")"
guard_unlock "$S"

# ------------------------------------------------------------ an auditor
read -r AU AJ < <(new_active auditor "$PW")
check "the auditor enrols in TOTP" enrol_totp "$AJ"
secret=$TOTP_SECRET
check_match "mfa.enrol: the auditor, no school" "^mfa\\.enrol	$AU	auditor		$IP	success	\$" "$(row mfa.enrol "$AU")"
T=$(newjar)
signin "$T" "$AU" "$PW"
check_eq "the auditor's next sign-in asks for the code" "303 /login/totp" "$STATUS $LOCATION"
check_match "login.password_ok names the next step" \
    "^login\\.password_ok	$AU	auditor		$IP	success	\\{\"next\":\"totp\"\\}\$" "$(row login.password_ok "$AU")"
web "$T" /login/totp
post "$T" /login/totp "totp=$(totp_at "$secret" $((TOTP_STEP + 1)))"
check_eq "the code signs in" "303 /" "$STATUS $LOCATION"
check_match "mfa.success" "^mfa\\.success	$AU	auditor		$IP	success	\$" "$(row mfa.success "$AU")"
check_match "login.success with the factor" \
    "login\\.success	$AU	auditor		$IP	success	\\{\"factor\":\"totp\"\\}" "$(row login.success "$AU")"
web "$T" /audit
check_not "the auditor is not refused /audit by the gate" test "$STATUS" = 403
check_eq "... nor audited as denied" 0 "$(audit_count "id >= $first AND event = 'access.denied' AND actor = '$AU'")"

# ------------------------------------------------------------ nothing secret
all=$(sql_as audit "SELECT CONCAT_WS(' ', actor, target, detail) FROM audit_log WHERE id >= $first")
check_nomatch "no password in the audit log" "hazel" "$all"
check_nomatch "no activation code" "$SC|${SC//-/}" "$all"
check_nomatch "no TOTP secret" "$secret" "$all"
check_nomatch "no session token" "$(jar_token "$T")|$(jar_token "$AJ")" "$all"
tail=$(L audit tail --limit 100)
for e in account.activated login.failure login.success privacy.accept password.change.refused \
    password.change access.denied logout account.locked mfa.enrol mfa.success; do
	check_match "audit tail shows $e" "\"event\":\"$e\"" "$tail"
done
check "the audit chain verifies" audit_verified
