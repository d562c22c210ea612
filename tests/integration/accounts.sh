# accounts: `licheng school add` and `licheng user add` against the real
# database — public facts refused as login names, activation codes printed
# once and stored only as a hash, demo accounts only in the demo stack.
. "$(dirname "$0")/lib.sh"

L() { "$LICHENG_BIN/licheng" -c "$LICHENG_CONF" "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; lib_finish' EXIT
# An x in second place can never be a national ID (a digit or A-D there) nor
# a date; the logins below carry a dash for the same reason.
code="tx$RANDOM$RANDOM"

check "a school is added" L school add --code "$code" --name "測試高中 Test High School"
out=$(L school add --code "$code" --name "again" 2>&1); rc=$?
check_eq "the same school code twice is refused" 1 "$rc"
check_match "the refusal says why" 'already exists' "$out"

refuse() { # refuse DESCRIPTION LOGIN REASON_REGEX
	local out rc
	out=$(L user add --school "$code" --role student --login "$2" --name "王小明" 2>&1); rc=$?
	check_eq "$1 is refused" 1 "$rc"
	check_match "$1: the reason is given" "$3" "$out"
}
refuse "a national ID as login" a123456789 'national ID'
refuse "a resident certificate number as login" a800000014 'national ID'
refuse "a birth date as login" 20080315 'date'
refuse "an ROC birth date as login" 0970315 'date'
refuse "the school code as login" "$code" 'school code'
refuse "a login with spaces" 'wang xm' '3 to 32'

login="stu-$RANDOM$RANDOM"
out=$(L user add --school "$code" --role student --login "$login" --name "王小明" 2>&1); rc=$?
check_eq "a good login is accepted" 0 "$rc"
act=$(printf '%s\n' "$out" | sed -n 's/^activation code: \([0-9A-Z-]*\) .*/\1/p')
check_match "an activation code is printed" '^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$' "$act"
row=$(sql_as app "SELECT status, activation_hash, TIMESTAMPDIFF(DAY, UTC_TIMESTAMP(), activation_expires), CHAR_LENGTH(public_id) FROM users WHERE login = '$login'")
check_match "the account is pending with a 64-hex hash, 13-14 days, an opaque id" $'^pending\t[0-9a-f]{64}\t1[34]\t22$' "$row"
check_nomatch "the code itself is not stored" "${act//-/}|$act" "$(sql_as app "SELECT * FROM users WHERE login = '$login'")"
out=$(L user add --school "$code" --role teacher --login "$login" --name "x" 2>&1); rc=$?
check_eq "a taken login is refused" 1 "$rc"
out=$(L user add --role student --login "z$login" --name "x" 2>&1); rc=$?
check_eq "a student without a school is refused" 1 "$rc"
out=$(L user add --school "$code" --role auditor --login "a$login" --name "x" 2>&1); rc=$?
check_eq "an auditor with a school is refused" 1 "$rc"
check "an auditor without a school is accepted" L user add --role auditor --login "a$login" --name "稽核員"

# The facts a password must not contain: a birth date and a national ID,
# the ID kept only as an HMAC.
out=$(L user add --school "$code" --role student --login "b$login" --name "x" --birth-date 2008-02-30 2>&1); rc=$?
check_eq "an impossible birth date is refused" 1 "$rc"
check_match "the refusal names the option" 'birth-date' "$out"
out=$(L user add --school "$code" --role student --login "b$login" --name "x" --national-id A123456788 2>&1); rc=$?
check_eq "a national ID with a wrong check digit is refused" 1 "$rc"
check "birth date and national ID are accepted" L user add --school "$code" --role student --login "b$login" --name "林同學" --birth-date 2008-03-15 --national-id a123456789
row=$(sql_as app "SELECT birth_date, CHAR_LENGTH(national_id_hmac) FROM users WHERE login = 'b$login'")
check_eq "the birth date and a 64-hex HMAC are stored" $'2008-03-15\t64' "$row"
check_nomatch "the national ID itself is not stored" 'A123456789|a123456789' "$(sql_as app "SELECT * FROM users WHERE login = 'b$login'")"

# Demo accounts: only where the configuration says demo: true.
grep -v '^demo:' "$LICHENG_CONF" >"$tmp/prod.yaml"
out=$("$LICHENG_BIN/licheng" -c "$tmp/prod.yaml" demo seed 2>&1); rc=$?
check_eq "demo seed refuses a configuration without demo: true" 1 "$rc"
check_match "the refusal says why" 'only in the demo stack' "$out"
check_eq "no demo account exists in the test stack" 0 "$(sql_as app "SELECT COUNT(*) FROM users WHERE login LIKE 'demo-%'")"
