# auth_csrf: every state-changing request carries the CSRF token of its own
# session. A POST without one, with a wrong one or with another session's
# is refused with 403, says the form has expired, is audited as
# access.denied, and changes nothing: the privacy notice is not accepted,
# the password not changed, the session not ended, nobody signed in.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=cs
PW="Fm6~willow-C"
EN=(-H 'Accept-Language: en')

read -r C CC < <(new_user student)
check "the account is activated" activate "$(newjar)" "$C" "$CC" "$PW"
J=$(newjar)
check "it signs in" signin "$J" "$C" "$PW"
# Another session's token: an anonymous visitor's, valid for its own form.
O=$(newjar)
web "$O" /login
other=$(csrf_of "$O.body")
mine() { web "$J" "$1" >/dev/null; csrf_of "$J.body"; }
denied0=$(audit_count "event = 'access.denied' AND detail LIKE '%\"reason\":\"csrf\"%'")

# forged PATH DESC FIELDS...: the POST is refused three ways with 403.
forged() {
	local path=$1 desc=$2 how
	shift 2
	local fields=(--data "")
	for f in "$@"; do fields+=(--data-urlencode "$f"); done
	web "$J" "$path" "${fields[@]}"
	check_eq "$desc without a CSRF token: 403" 403 "$STATUS"
	check_says "$desc without a CSRF token: the form-expired page" zh-TW form.csrf_title
	web "$J" "$path" "${fields[@]}" --data-urlencode "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	check_eq "$desc with a wrong CSRF token: 403" 403 "$STATUS"
	web "$J" "$path" "${fields[@]}" --data-urlencode "csrf=$other" "${EN[@]}"
	check_eq "$desc with another session's CSRF token: 403" 403 "$STATUS"
	check_says "$desc: the form-expired page in English" en form.csrf_title
	check_says "$desc: it says nothing was changed" en form.csrf_text
}

# /privacy, before the notice is accepted.
mine /privacy >/dev/null
forged /privacy "POST /privacy" accept=1 version=2026-1
check_eq "no acceptance is recorded" 0 \
    "$(sql_as app "SELECT COUNT(*) FROM privacy_acceptances a JOIN users u ON u.id = a.user_id WHERE u.login = '$C'")"
check_eq "the user has accepted no version" NULL \
    "$(sql_as app "SELECT COALESCE(privacy_version, 'NULL') FROM users WHERE login = '$C'")"
web "$J" /account
check_eq "the notice is still pending" "303 /privacy" "$STATUS $LOCATION"
check "with its own token the notice is accepted" accept_privacy "$J"

# /password.
sql_as root "UPDATE licheng.users SET password_changed_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY WHERE login = '$C'"
h0=$(sql_as app "SELECT password_hash FROM users WHERE login = '$C'")
forged /password "POST /password" "current_password=$PW" "new_password=Fm6~willow-D"
check_eq "the password hash is unchanged" "$h0" "$(sql_as app "SELECT password_hash FROM users WHERE login = '$C'")"
check "the old password still signs in" signin "$(newjar)" "$C" "$PW"
check_not "the new one does not" signin "$(newjar)" "$C" "Fm6~willow-D"
guard_unlock "$C"

# /logout and /logout/all.
forged /logout "POST /logout"
check "the session is still alive" signed_in "$J"
forged /logout/all "POST /logout/all"
check "the session is still alive after forged sign-outs everywhere" signed_in "$J"

# /login: a sign-in form posted from elsewhere signs nobody in.
L2=$(newjar)
web "$L2" /login --data-urlencode "login=$C" --data-urlencode "password=$PW"
check_eq "POST /login without a session or token: 403" 403 "$STATUS"
web "$L2" /login
web "$L2" /login --data-urlencode "login=$C" --data-urlencode "password=$PW" --data-urlencode "csrf=$other"
check_eq "POST /login with another session's token: 403" 403 "$STATUS"
check_not "nobody is signed in" signed_in "$L2"

# /activate likewise.
read -r N NC < <(new_user student)
A2=$(newjar)
web "$A2" /activate
web "$A2" /activate --data-urlencode "login=$N" --data-urlencode "code=$NC" \
    --data-urlencode "new_password=Fm6~willow-N" --data-urlencode "csrf=$other"
check_eq "POST /activate with another session's token: 403" 403 "$STATUS"
check_eq "the account stays pending" pending "$(sql_as app "SELECT status FROM users WHERE login = '$N'")"

denied=$(($(audit_count "event = 'access.denied' AND detail LIKE '%\"reason\":\"csrf\"%'") - denied0))
check_eq "each of the 15 refusals is audited as access.denied, reason csrf" 15 "$denied"
check_match "the rows name the user, the route and the method" \
    "access\\.denied	$C	student	$SCHOOL	127\\.0\\.0\\.1	denied	\\{\"reason\":\"csrf\",\"method\":\"POST\",\"path\":\"/password\"\\}" \
    "$(audit_rows "event = 'access.denied' AND actor = '$C'")"
check "the audit chain verifies" audit_verified
