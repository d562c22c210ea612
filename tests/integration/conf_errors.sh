# conf_errors: the programs refuse a bad configuration before doing anything,
# with file:line:column, and refuse a secrets file that others can read.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; lib_finish' EXIT

for prog in licheng-fcgi licheng-worker licheng; do
	out=$("$LICHENG_BIN/$prog" -n -c "$LICHENG_CONF" 2>&1)
	check_eq "$prog -n accepts the stack's configuration" "configuration OK" "$out"
done

# An unknown key, reported at its line and column, with a suggestion.
sed 's/^\([[:space:]]*\)children:/\1chidren:/' "$LICHENG_CONF" >"$tmp/typo.yaml"
line=$(grep -n 'chidren:' "$tmp/typo.yaml" | head -n 1 | cut -d: -f1)
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/typo.yaml" 2>&1); rc=$?
check_eq "an unknown key stops licheng-fcgi -n" 1 "$rc"
check_match "the unknown key is reported as file:line:column" "^$tmp/typo.yaml:$line:[0-9]+: unknown key" "$out"
check_match "the closest known key is suggested" 'did you mean' "$out"

# A wrong type (the first "children:" is an integer wherever it stands).
sed '0,/^\([[:space:]]*\)children:.*/s//\1children: lots/' "$LICHENG_CONF" >"$tmp/type.yaml"
line=$(grep -n 'children: lots' "$tmp/type.yaml" | head -n 1 | cut -d: -f1)
out=$("$LICHENG_BIN/licheng-worker" -n -c "$tmp/type.yaml" 2>&1); rc=$?
check_eq "a wrong type stops licheng-worker -n" 1 "$rc"
check_match "a wrong type names the line and what was expected" "^$tmp/type.yaml:$line:[0-9]+: .*integer" "$out"

# A YAML syntax error.
printf 'log:\n  file: [unclosed\n' >"$tmp/syntax.yaml"
out=$("$LICHENG_BIN/licheng" -n -c "$tmp/syntax.yaml" 2>&1); rc=$?
check_eq "a syntax error stops licheng -n" 1 "$rc"
check_match "a syntax error is reported as file:line:column" "^$tmp/syntax.yaml:[0-9]+:[0-9]+: " "$out"

# A value check across the file: the letters' sign-in address must be https.
{ cat "$LICHENG_CONF"; printf 'site:\n  url: "http://licheng.example.edu.tw"\n'; } >"$tmp/site.yaml"
line=$(grep -n 'url: "http:' "$tmp/site.yaml" | head -n 1 | cut -d: -f1)
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/site.yaml" 2>&1); rc=$?
check_eq "a plain-http site.url stops licheng-fcgi -n" 1 "$rc"
check_match "site.url's refusal names its line and an example" "^$tmp/site.yaml:$line:[0-9]+: site.url must be an https:// address" "$out"
{ cat "$LICHENG_CONF"; printf 'import:\n  max_rows: 5\n'; } >"$tmp/rows.yaml"
out=$("$LICHENG_BIN/licheng" -n -c "$tmp/rows.yaml" 2>&1); rc=$?
check_eq "import.max_rows below its bound stops licheng -n" 1 "$rc"
check_match "the bound is named" "import.max_rows|10" "$out"

# Upload types are names the type detector knows, each once.
sed 's|^items:$|items:\n  doc_types: pdf,gif|' "$LICHENG_CONF" >"$tmp/types.yaml"
line=$(grep -n 'doc_types: pdf,gif' "$tmp/types.yaml" | head -n 1 | cut -d: -f1)
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/types.yaml" 2>&1); rc=$?
check_eq "an unknown upload type stops licheng-fcgi -n" 1 "$rc"
check_match "the unknown type is named at its line" "^$tmp/types.yaml:$line:[0-9]+: items.doc_types: \"gif\" is not an upload type" "$out"
sed 's|^items:$|items:\n  video_types: mp4,mp3,mp4|' "$LICHENG_CONF" >"$tmp/types2.yaml"
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/types2.yaml" 2>&1); rc=$?
check_eq "a type listed twice stops licheng-fcgi -n" 1 "$rc"
check_match "the repeated type is named" 'items.video_types: "mp4" is listed twice' "$out"

# The categories file of diverse performances is checked whole at start.
printf -- '- code: cadre\n  zh-TW: 幹部經歷\n  en: Leadership\n- code: ability\n  zh-TW: 多元能力\n  en: Abilities\n  kinds:\n    - code: Bad-Code\n      zh-TW: 志工服務\n      en: Volunteer\n' >"$tmp/cats.yaml"
sed "s|^  categories:.*|  categories: \"$tmp/cats.yaml\"|" "$LICHENG_CONF" >"$tmp/catconf.yaml"
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/catconf.yaml" 2>&1); rc=$?
check_eq "a bad category code stops licheng-fcgi -n" 1 "$rc"
check_match "the bad code is reported as file:line:column" "^$tmp/cats.yaml:8:13: code: expected 1 to 32 characters" "$out"
printf -- '- code: cadre\n  zh-TW: 幹部經歷\n  en: Leadership\n  colour: red\n' >"$tmp/cats.yaml"
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/catconf.yaml" 2>&1); rc=$?
check_eq "an unknown key in the categories stops licheng-fcgi -n" 1 "$rc"
check_match "the unknown key is named at its line" "^$tmp/cats.yaml:4:3: unknown key \"colour\"" "$out"
printf -- '- code: cadre\n  zh-TW: 幹部經歷\n  en: Leadership\n- code: cadre\n  zh-TW: 幹部\n  en: Cadre\n' >"$tmp/cats.yaml"
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/catconf.yaml" 2>&1); rc=$?
check_eq "a repeated category code stops licheng-fcgi -n" 1 "$rc"
check_match "the repeated code is named" "^$tmp/cats.yaml:4:9: code \"cadre\" is used twice" "$out"
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$LICHENG_CONF" 2>&1)
check_eq "the shipped categories load" "configuration OK" "$out"

# The secrets file must not be readable by others.
secrets=$(conf_get secrets_file "$LICHENG_CONF")
cp "$secrets" "$tmp/secrets.yaml"
chmod 0644 "$tmp/secrets.yaml"
sed "s|^secrets_file:.*|secrets_file: $tmp/secrets.yaml|" "$LICHENG_CONF" >"$tmp/open.yaml"
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/open.yaml" 2>&1); rc=$?
check_eq "a 0644 secrets file stops licheng-fcgi" 1 "$rc"
check_match "the refusal names the mode and the fix" '0644 is too open.*chmod 600' "$out"
chmod 0600 "$tmp/secrets.yaml"
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$tmp/open.yaml" 2>&1)
check_eq "the same file at 0600 is accepted" "configuration OK" "$out"

# LICHENG_CONF selects the file when -c is absent.
out=$(LICHENG_CONF="$tmp/syntax.yaml" "$LICHENG_BIN/licheng" -n 2>&1)
check_match "LICHENG_CONF is honoured" "^$tmp/syntax.yaml:" "$out"
