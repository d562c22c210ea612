# auth_privacy: the privacy notice (個資告知) comes before anything else
# after the first sign-in: every page sends to /privacy, every other POST
# is refused, until the version in force is accepted. The acceptance is
# kept as evidence (privacy_acceptances and the users row) and audited;
# the notice is shown in zh-TW or English; a new version asks again.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=pv
PW="Hn7;orchid-P"
EN=(-H 'Accept-Language: en')
VERSION=2026-1 # privacy.version, the default the test stack keeps
accepted() { sql_as app "SELECT COUNT(*) FROM privacy_acceptances a JOIN users u ON u.id = a.user_id WHERE u.login = '$1'"; }

read -r V VC < <(new_user student)
check "the account is activated" activate "$(newjar)" "$V" "$VC" "$PW"
J=$(newjar)
signin "$J" "$V" "$PW"
check_eq "the first sign-in succeeds" "303 /" "$STATUS $LOCATION"
for path in / /account /password /mfa/setup; do
	web "$J" "$path"
	check_eq "before acceptance GET $path goes to /privacy" "303 /privacy" "$STATUS $LOCATION"
done
web "$J" /privacy
check_eq "the notice opens" 200 "$STATUS"
zh=$BODY
post "$J" /password "current_password=$PW" "new_password=Hn7;orchid-Q"
check_eq "before acceptance a POST to /password is refused" 403 "$STATUS"
# Every refusal names its rule: this one, the notice still to accept.
check_match "the refusal says the privacy notice comes first" 'href="/privacy"|個人資料蒐集告知' "$BODY"
check_eq "the password is unchanged" 0 "$(audit_count "event = 'password.change' AND target = 'user:$V'")"

web "$J" /privacy
check_match "the notice names its version $VERSION" "name=\"version\" value=\"$VERSION\"" "$BODY"
first_zh=$(head -n 1 "$REPO/conf/privacy/$VERSION.zh-TW.txt" | html_esc)
first_en=$(head -n 1 "$REPO/conf/privacy/$VERSION.en.txt" | html_esc)
check "the zh-TW notice is shown by default" grep -qF -- "$first_zh" "$J.body"
check_match "it is the 個資告知" '個人資料蒐集告知事項' "$BODY"
web "$J" /privacy "${EN[@]}"
check "the English notice is shown with Accept-Language: en" grep -qF -- "$first_en" "$J.body"
check_nomatch "the English page is not the zh-TW text" "$(printf '%s' "$first_zh" | head -c 30)" "$BODY"
check_not "the two notices differ" test "$zh" = "$BODY"

# Not ticked, or a stale version: nothing is accepted.
post "$J" /privacy "version=$VERSION"
check_eq "without the box ticked: 422" 422 "$STATUS"
check_says "... asking to tick it" zh-TW privacy.must_accept
post "$J" /privacy accept=1 version=2025-1
check_eq "another version: 422" 422 "$STATUS"
check_eq "nothing is recorded" 0 "$(accepted "$V")"

check "the notice is accepted" accept_privacy "$J"
check_eq "the acceptance is recorded once" 1 "$(accepted "$V")"
check_match "with the version, a time and the address" \
    "^$VERSION	1	127\\.0\\.0\\.1\$" \
    "$(sql_as app "SELECT a.version, a.accepted_at > UTC_TIMESTAMP(6) - INTERVAL 5 MINUTE, a.ip FROM privacy_acceptances a JOIN users u ON u.id = a.user_id WHERE u.login = '$V'")"
check_eq "the users row has the version and the time" "$VERSION	1" \
    "$(sql_as app "SELECT privacy_version, privacy_accepted_at IS NOT NULL FROM users WHERE login = '$V'")"
check_match "privacy.accept is audited with the version" \
    "^privacy\\.accept	$V	student	$SCHOOL	127\\.0\\.0\\.1	success	\\{\"version\":\"$VERSION\"\\}\$" \
    "$(audit_rows "event = 'privacy.accept' AND target = 'user:$V'")"
web "$J" /account
check_eq "after acceptance /account opens" 200 "$STATUS"
web "$J" /
check_eq "and the home page" 200 "$STATUS"
web "$J" /privacy
check_says "the notice now says it was accepted" zh-TW privacy.accepted
check_nomatch "without the form" 'action="/privacy"' "$BODY"

# A new version in force (simulated: the user's accepted version made
# older) asks again, and a second acceptance is kept beside the first.
sql_as root "UPDATE licheng.users SET privacy_version = '2025-9' WHERE login = '$V'"
web "$J" /account
check_eq "an older accepted version sends to /privacy again" "303 /privacy" "$STATUS $LOCATION"
check "the notice is accepted again" accept_privacy "$J"
check_eq "both acceptances are kept" 2 "$(accepted "$V")"

check "the audit chain verifies" audit_verified
