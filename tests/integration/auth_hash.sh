# auth_hash: passwords are stored with scrypt at the configured cost
# (ln=15, r=8, p=1) under a per-user salt, and a hash made with other
# parameters is silently replaced at the next successful sign-in.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=ha
PW="Hq3!lantern-H"
SHAPE='^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$'
hash_of() { sql_as app "SELECT password_hash FROM users WHERE login = '$1'"; }

read -r h1 c1 < <(new_user student)
read -r h2 c2 < <(new_user teacher)
check "a student activates" activate "$(newjar)" "$h1" "$c1" "$PW"
check "a teacher activates with the same password" activate "$(newjar)" "$h2" "$c2" "$PW"
s1=$(hash_of "$h1")
s2=$(hash_of "$h2")
check_match "the stored hash is scrypt ln=15,r=8,p=1 with a 16-byte salt and a 32-byte key" "$SHAPE" "$s1"
salt1=$(printf '%s' "$s1" | cut -d'$' -f4)
salt2=$(printf '%s' "$s2" | cut -d'$' -f4)
check_not "the same password under two accounts has two salts" test "$salt1" = "$salt2"
check_not "... and two hashes" test "$s1" = "$s2"

# A hash of the same password at ln=14 (N=16384), computed here with
# OpenSSL's scrypt and written in lib/passhash.c's format: standard base64
# (+ and /) without padding.
salt_hex=$(openssl rand -hex 16)
b64() { openssl base64 -A | tr -d '='; }
key64=$(openssl kdf -keylen 32 -kdfopt "pass:$PW" -kdfopt "hexsalt:$salt_hex" \
    -kdfopt n:16384 -kdfopt r:8 -kdfopt p:1 -binary SCRYPT | b64)
salt64=$(printf "$(printf '%s' "$salt_hex" | sed 's/../\\x&/g')" | b64)
old="\$scrypt\$ln=14,r=8,p=1\$$salt64\$$key64"
check_match "the ln=14 hash has the stored shape" '^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$' "$old"
sql_as root "UPDATE licheng.users SET password_hash = '$old' WHERE login = '$h1'"

check_not "a wrong password does not match the ln=14 hash" signin "$(newjar)" "$h1" "Hq3!lantern-X"
check_eq "a failed sign-in leaves the old hash" "$old" "$(hash_of "$h1")"
guard_unlock "$h1"
J=$(newjar)
check "the right password signs in against the ln=14 hash" signin "$J" "$h1" "$PW"
check_eq "... to the next step" "303 /" "$STATUS $LOCATION"
new=$(hash_of "$h1")
check_match "the stored hash is now ln=15" "$SHAPE" "$new"
check_not "with a new salt" test "$(printf '%s' "$new" | cut -d'$' -f4)" = "$salt64"
check "the password still signs in after the re-hash" signin "$(newjar)" "$h1" "$PW"
check_eq "and the hash is not re-made again" "$new" "$(hash_of "$h1")"

# Neither the password nor a hash reaches a log.
logs=$(cat "$LICHENG_RUN"/log/* 2>/dev/null)
check_match "licheng-fcgi logged the re-hash, naming the user by public id" \
    "re-hashed the password of user $(sql_as app "SELECT public_id FROM users WHERE login = '$h1'")" "$logs"
check_nomatch "no log holds the password" "$PW" "$logs"
check_nomatch "no log holds a stored hash" "$key64|$(printf '%s' "$new" | cut -d'$' -f5)" "$logs"
check_nomatch "the audit log holds no hash" '\$scrypt\$' \
    "$(sql_as audit "SELECT GROUP_CONCAT(detail) FROM audit_log WHERE target IN ('user:$h1', 'user:$h2')")"
check "the audit chain verifies" audit_verified
