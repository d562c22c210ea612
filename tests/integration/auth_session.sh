# auth_session: the session cookie and its life in Redis — a __Host-
# cookie that is Secure, HttpOnly and SameSite=Lax; a new token at sign-in
# (a planted token is worthless); sign-out and "sign out everywhere" end
# sessions on the server; the idle and absolute timeouts; a password change
# ends the user's other sessions.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=se
PW="Jd4=copper-S"
P=$REDIS_PREFIX
setcookie() { printf '%s\n' "$HDRS" | grep -i '^set-cookie:' | tail -n 1; }
# as_token TOKEN PATH: a request carrying only that session cookie.
as_token() { web "$(newjar)" "$2" -H "Cookie: __Host-licheng=$1"; }

read -r S SC < <(new_user student)
check "the account is activated" activate "$(newjar)" "$S" "$SC" "$PW"
uid=$(sql_as app "SELECT id FROM users WHERE login = '$S'")

# ------------------------------------------------------------ the cookie
J=$(newjar)
web "$J" /login
c=$(setcookie)
check_match "GET /login sets __Host-licheng: Path=/, Secure, HttpOnly, SameSite=Lax" \
    '^[Ss]et-[Cc]ookie: __Host-licheng=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Lax$' "$c"
check_nomatch "... with no Domain" '[Dd]omain=' "$c"
t0=$(jar_token "$J")
k0=$(session_key "$t0")
t=$(rcli TTL "$k0")
check_match "an anonymous session lives at most 30 minutes (TTL $t)" '^(1[0-7][0-9][0-9]|1800)$' "$t"
check_eq "it is anonymous (user 0)" 0 "$(rcli HGET "$k0" u)"
check_eq "Redis keys hold no raw token" "" "$(rcli --scan --pattern "*$t0*")"

# ------------------------------------------------------------ fixation
# t0 is what an attacker would plant: the victim signs in with it.
post "$J" /login "login=$S" "password=$PW"
check_eq "sign-in succeeds" 303 "$STATUS"
c=$(setcookie)
check_match "sign-in sets a new cookie with the same attributes" \
    '^[Ss]et-[Cc]ookie: __Host-licheng=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Lax$' "$c"
t1=$(jar_token "$J")
check_not "the token after sign-in differs from the one before" test "$t0" = "$t1"
check_eq "the token before sign-in is gone from Redis" 0 "$(rcli EXISTS "$k0")"
k1=$(session_key "$t1")
check_eq "the new session belongs to the user" "$uid" "$(rcli HGET "$k1" u)"
check_eq "it is listed under the user" 1 "$(rcli SISMEMBER "${P}us:$uid" "${k1#"${P}s:"}")"
t=$(rcli TTL "$k1")
check_match "a signed-in session expires after 30 idle minutes (TTL $t)" '^(1[7-8][0-9][0-9])$' "$t"
as_token "$t0" /account
check_eq "the planted token does not reach /account" "303 /login" "$STATUS $LOCATION"
as_token "$t0" /
check_nomatch "nor shows the user's home page" "$S" "$BODY"
check "the victim's session works" accept_privacy "$J"
check "the victim reaches /account" signed_in "$J"

# ------------------------------------------------------------ sign-out
web "$J" /account
post "$J" /logout
check_eq "sign-out goes to /login?done=signed_out" "303 /login?done=signed_out" "$STATUS $LOCATION"
check_match "sign-out clears the cookie" '^[Ss]et-[Cc]ookie: __Host-licheng=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0$' "$(setcookie)"
check_eq "the session is deleted in Redis" 0 "$(rcli EXISTS "$k1")"
check_eq "and no longer listed under the user" 0 "$(rcli SISMEMBER "${P}us:$uid" "${k1#"${P}s:"}")"
as_token "$t1" /account
check_eq "replaying the old cookie: /account sends to /login" "303 /login" "$STATUS $LOCATION"
as_token "$t1" /
check_eq "replaying the old cookie: / is the visitors' page" 200 "$STATUS"
check_nomatch "... without the user" "$S|/logout" "$BODY"
web "$J" "/login?done=signed_out"
check_says "the sign-in page says so" zh-TW login.signed_out
check_eq "logout is audited" 1 "$(audit_count "event = 'logout' AND target = 'user:$S'")"

# ------------------------------------------------------------ everywhere
A=$(newjar) B=$(newjar)
check "signed in on device A" signin "$A" "$S" "$PW"
check "signed in on device B" signin "$B" "$S" "$PW"
check "A reaches /account" signed_in "$A"
check "B reaches /account" signed_in "$B"
check_eq "two sessions are listed under the user" 2 "$(rcli SCARD "${P}us:$uid")"
web "$A" /account
post "$A" /logout/all
check_eq "sign out everywhere goes to /login" "303 /login?done=signed_out" "$STATUS $LOCATION"
check_not "A is signed out" signed_in "$A"
check_not "B is signed out too" signed_in "$B"
check_eq "no session is left for the user" 0 "$(rcli SCARD "${P}us:$uid")"
check_eq "logout.all is audited" 1 "$(audit_count "event = 'logout.all' AND target = 'user:$S'")"

# ------------------------------------------------------------ idle
I=$(newjar)
check "signed in for the idle test" signin "$I" "$S" "$PW"
ki=$(session_key "$(jar_token "$I")")
# A session seen over a minute ago gets its idle expiry back on use.
rcli HSET "$ki" ts $(($(date +%s) - 120)) >/dev/null
rcli EXPIRE "$ki" 100 >/dev/null
check "a session used within the idle timeout works" signed_in "$I"
t=$(rcli TTL "$ki")
check_match "using it renews the idle expiry to 30 minutes (TTL $t)" '^(1[7-8][0-9][0-9])$' "$t"
# Thirty idle minutes, as Redis sees them: the key's TTL cut to 1 second.
rcli EXPIRE "$ki" 1 >/dev/null
sleep 2
web "$I" /account
check_eq "after the idle timeout /account sends to /login" "303 /login" "$STATUS $LOCATION"

# ------------------------------------------------------------ absolute
X=$(newjar)
check "signed in for the absolute test" signin "$X" "$S" "$PW"
kx=$(session_key "$(jar_token "$X")")
rcli HSET "$kx" t0 $(($(date +%s) - 11 * 3600)) >/dev/null
check "a session signed in 11 hours ago still works" signed_in "$X"
rcli HSET "$kx" t0 $(($(date +%s) - 13 * 3600)) >/dev/null
web "$X" /account
check_eq "a session signed in 13 hours ago (absolute timeout 12 h) has ended" "303 /login" "$STATUS $LOCATION"
check_eq "and is deleted" 0 "$(rcli EXISTS "$kx")"

# ------------------------------------------------------------ password change
E1=$(newjar) E2=$(newjar)
check "signed in on E1" signin "$E1" "$S" "$PW"
check "signed in on E2" signin "$E2" "$S" "$PW"
before=$(jar_token "$E1")
sql_as root "UPDATE licheng.users SET password_changed_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY WHERE login = '$S'"
web "$E1" /password
post "$E1" /password "current_password=$PW" "new_password=Jd4=copper-T"
check_eq "E1 changes the password" "303 /account?done=password" "$STATUS $LOCATION"
check_not "E1 gets a new token" test "$before" = "$(jar_token "$E1")"
check_eq "E1's old token is gone" 0 "$(rcli EXISTS "$(session_key "$before")")"
check "E1 stays signed in" signed_in "$E1"
check_not "E2 is signed out" signed_in "$E2"
check_eq "one session is left for the user" 1 "$(rcli SCARD "${P}us:$uid")"

check "the audit chain verifies" audit_verified
