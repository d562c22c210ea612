# certify_sig: the signed certification decisions, made through the
# teacher's pages and checked from outside. `licheng verify-cert ITEM`
# verifies a rejection (its reason with a backslash and a line break) and
# the certification that superseded it; it fails, exiting 1 and naming the
# decision, after one byte of a recorded certification_files.sha256, the
# decision or decided_at is changed in the database (as the migrations
# account), and verifies again once each is put back; the canonical text
# of `verify-cert --text` is the one lib/certsig.h describes and verifies
# with `openssl pkeyutl -verify -rawin` against the public key of
# platform.crt.pem; a certified item whose file the student replaces is
# pending again, its decision superseded and no longer current; and with a
# configuration whose secrets file has no signing key (reloaded with
# SIGHUP, then put back), decisions are refused (503) and nothing is
# written.
. "$(dirname "$0")/lib.sh"

RUNID="cs$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/records_helpers.bash"

page() { req "$1" "$BASE$2"; }
# day N: the date N days from today in Taiwan (the pages' today).
day() { date -u -d "8 hours $1 days" +%F; }
pdf() { { printf '%%PDF-1.7\n%%\342\343\n'; head -c 3000 /dev/urandom; } >"$1"; }
mp4() { { printf '\0\0\0\030ftypisom\0\0\0\0isommp41'; head -c 4000 /dev/urandom; } >"$1"; }
sha() { sha256sum "$1" | cut -c1-64; }
msql() { sql_as migrate "$1"; }
clean() {
	[ "$(app_sql "SELECT COUNT(*) FROM item_files f JOIN items i ON i.id = f.item_id JOIN objects o ON o.sha256 = f.sha256
	    WHERE i.public_id = '$1' AND f.replaced_at IS NULL AND o.verify_result = 'ok' AND o.scan_result = 'clean'")" = "$2" ]
}
decide() {
	local name=$1 item=$2
	shift 2
	page_of "$name" "/certify/$item"
	form "$name" "/certify/$item" "$@"
}
# verify [--text]: runs verify-cert on the item; OUT is its output, RC its
# exit status.
verify() {
	OUT=$(L verify-cert "$@" "$ITEM" 2>&1)
	RC=$?
}
n_certs() { app_sql "SELECT COUNT(*) FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$ITEM'"; }

# ------------------------------------------------------------ clean-up

# The stack's configuration is changed for the no-key case and put back
# (and reloaded) at the end, also on failure.
CONF_ORIG=$tmp/licheng.yaml.orig
cp "$LICHENG_CONF" "$CONF_ORIG"
CONF_CHANGED=0
LOG_FILE=$LICHENG_RUN/log/licheng.log
no_key_lines() { grep -c 'signing.school_key is not set' "$LOG_FILE" 2>/dev/null; }
key_lines() { grep -c 'certification decisions are signed with key id' "$LOG_FILE" 2>/dev/null; }
more_than() { [ "$("$1")" -gt "$2" ]; }
old_children_gone() {
	local p
	for p in $OLD_CHILDREN; do kill -0 "$p" 2>/dev/null && return 1; done
	return 0
}
# reload_fcgi COUNTER: SIGHUP to the fcgi master; succeeds once COUNTER's
# log line has been written once more and the old children have gone.
reload_fcgi() {
	local before
	before=$("$1")
	OLD_CHILDREN=$(pgrep -P "$(pid_of fcgi)")
	kill -HUP "$(pid_of fcgi)" || return 1
	wait_for 20 more_than "$1" "$before" && wait_for 30 old_children_gone
}
cleanup() {
	if [ "$CONF_CHANGED" = 1 ]; then
		cat "$CONF_ORIG" >"$LICHENG_CONF"
		reload_fcgi key_lines
	fi
}
trap 'rc=$?; cleanup >/dev/null 2>&1; (exit $rc); finish' EXIT

# ------------------------------------------------------------ the school

sa=${RUNID}a
check "a school is added" L school add --code "$sa" --name "簽章高中"
check "teacher ta signs in" signin_as ta teacher "$sa"
check "student s1 signs in" signin_as s1 student "$sa"
T1=$(new_public_id) C1=$(new_public_id) P1=$(new_public_id)
sql="SET @a = (SELECT id FROM schools WHERE code = '$sa');
INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on) VALUES ('$T1', @a, 114, 1, '$(day -30)', '$(day 30)');
INSERT INTO teachers (public_id, school_id, user_id) SELECT '$(new_public_id)', school_id, id FROM users WHERE login = '$(login_of ta)';
INSERT INTO courses (public_id, school_id, term_id, code, name, credits) SELECT '$C1', @a, id, 'C1', '國語文', 4 FROM terms WHERE public_id = '$T1';
INSERT INTO course_teachers (course_id, teacher_id) SELECT c.id, t.id FROM courses c, teachers t JOIN users u ON u.id = t.user_id
    WHERE c.public_id = '$C1' AND u.login = '$(login_of ta)';
INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind, national_id_hmac, national_id_sealed, birth_date)
    SELECT '$P1', school_id, id, '${RUNID}1', '陳小華', 'national', '$(openssl rand -hex 32)', UNHEX('$(openssl rand -hex 40)'), '2009-01-01'
    FROM users WHERE login = '$(login_of s1)';
INSERT INTO enrolments (public_id, school_id, student_id, course_id) SELECT '$(new_public_id)', s.school_id, s.id, c.id
    FROM students s, courses c WHERE s.public_id = '$P1' AND c.public_id = '$C1';"
check "a term, a course of ta's and s1 enrolled in it exist" app_sql "$sql"

pdf "$tmp/doc.pdf"
mp4 "$tmp/talk.mp4"
DOC=$(sha "$tmp/doc.pdf") VID=$(sha "$tmp/talk.mp4")
tok=$(csrf s1 /items)
out=$(req s1 -o /dev/null -w '%{http_code}' -F "csrf=$tok" -F kind=course -F "course=$C1" \
    --form-string "description=報告與口頭發表" -F "doc=@$tmp/doc.pdf;filename=doc.pdf" \
    -F "video=@$tmp/talk.mp4;filename=talk.mp4" "$BASE/items")
check_eq "s1 uploads a course outcome with a document and a video" 303 "$out"
ITEM=$(app_sql "SELECT i.public_id FROM items i JOIN item_files f ON f.item_id = i.id WHERE f.sha256 = '$DOC'")
check "both files are hashed and scanned clean" wait_for 60 clean "$ITEM" 2

verify
check_eq "verify-cert of an item without decisions exits 0" 0 "$RC"
check_match "  and says so" "^$ITEM: no certification decisions\$" "$OUT"

# ------------------------------------------------------------ two decisions

REASON='請補上結論\見第2頁
第二行'
check_eq "ta rejects it with a reason of two lines and a backslash" "303 $BASE/certify?done=rejected" \
    "$(decide ta "$ITEM" decision=rejected "reason=$REASON")"
check_eq "ta then certifies it" "303 $BASE/certify?done=certified" "$(decide ta "$ITEM" decision=certified)"
REJ=$(app_sql "SELECT c.public_id FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$ITEM' AND c.decision = 'rejected'")
CER=$(app_sql "SELECT c.public_id FROM certifications c JOIN items i ON i.id = c.item_id WHERE i.public_id = '$ITEM' AND c.decision = 'certified'")
check_eq "the reason is kept as typed" "$(printf '%s' "$REASON" | xxd -p | tr -d '\n' | tr a-f A-F)" \
    "$(app_sql "SELECT HEX(reason) FROM certifications WHERE public_id = '$REJ'")"

verify
check_eq "verify-cert verifies both (exit 0)" 0 "$RC"
check_match "  the rejection OK" "^$REJ [0-9T:.-]+Z rejected teacher=[A-Za-z0-9_-]{22} for=- key=[0-9a-f]{64} OK\$" "$OUT"
check_match "  the certification OK and current" "^$CER [0-9T:.-]+Z certified teacher=[A-Za-z0-9_-]{22} for=- key=[0-9a-f]{64} OK current\$" "$OUT"
check_match "  the verdict" "^$ITEM: verified 2 decision\\(s\\)\$" "$OUT"

# ------------------------------------------------------------ the text, with openssl

verify --text
check_eq "verify-cert --text exits 0" 0 "$RC"
# text ID: the canonical text of decision ID; sig ID: its signature.
text_of() { printf '%s\n' "$OUT" | sed -n "/^-----BEGIN LICHENG CERTIFICATION $1-----\$/,/^-----END LICHENG CERTIFICATION $1-----\$/p" | sed '1d;$d'; }
sig_of() { printf '%s\n' "$OUT" | sed -n "/^-----END LICHENG CERTIFICATION $1-----\$/{n;s/^signature: //p}"; }
TEACHER=$(app_sql "SELECT t.public_id FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.login = '$(login_of ta)'")
KEY=$(app_sql "SELECT key_id FROM certifications WHERE public_id = '$REJ'")
AT=$(app_sql "SELECT DATE_FORMAT(decided_at, '%Y-%m-%dT%H:%i:%s.%fZ') FROM certifications WHERE public_id = '$REJ'")
expected=$(printf '%s\n' licheng-certification-v1 "school: $sa" "item: $ITEM" "version: 1" \
    "student: $P1" "course: $C1" "teacher: $TEACHER" "for-teacher: " "standin: " "file: doc $DOC" \
    "file: video $VID" "decision: rejected" 'reason: 請補上結論\\見第2頁\n第二行' "time: $AT" "key: $KEY")
check_eq "the rejection's canonical text is lib/certsig.h's, field by field" "$expected" "$(text_of "$REJ")"
CRT=$(dirname "$SECRETS_FILE")/platform.crt.pem
check "platform.crt.pem is beside the secrets file" test -s "$CRT"
check_eq "its public key is the registered key" "$KEY" \
    "$(openssl x509 -in "$CRT" -pubkey -noout | openssl pkey -pubin -outform DER | tail -c 32 | sha256sum | cut -c1-64)"
for id in "$REJ" "$CER"; do
	text_of "$id" >"$tmp/$id.txt"
	sig_of "$id" | xxd -r -p >"$tmp/$id.sig"
	check_eq "  the signature of $id is 64 bytes" 64 "$(stat -c %s "$tmp/$id.sig")"
	check "openssl verifies $id's text with platform.crt.pem's key" \
	    openssl pkeyutl -verify -rawin -certin -inkey "$CRT" -in "$tmp/$id.txt" -sigfile "$tmp/$id.sig"
done
sed 's/^decision: rejected$/decision: certified/' "$tmp/$REJ.txt" >"$tmp/forged.txt"
check_not "openssl refuses the text with another decision" \
    openssl pkeyutl -verify -rawin -certin -inkey "$CRT" -in "$tmp/forged.txt" -sigfile "$tmp/$REJ.sig"

# ------------------------------------------------------------ tampering

# tampered WHAT ID: verify-cert exits 1, names decision ID as failed and
# says one of two failed; then the change is put back and all is well.
tampered() {
	verify
	check_eq "after $1, verify-cert exits 1" 1 "$RC"
	check_match "  naming the decision" "^$2 .* BAD_SIGNATURE( current)?\$" "$OUT"
	check_match "  and the count" "^$ITEM: 1 of 2 decision\\(s\\) FAILED\$" "$OUT"
}
restored() {
	verify
	check_eq "put back, it verifies again" 0 "$RC"
}
first=${DOC:0:1}
other=$([ "$first" = 0 ] && echo 1 || echo 0)
check "one byte of the certification's document hash is changed (migrations account)" \
    msql "UPDATE certification_files f JOIN certifications c ON c.id = f.certification_id SET f.sha256 = CONCAT('$other', SUBSTR(f.sha256, 2)) WHERE c.public_id = '$CER' AND f.slot = 'doc'"
tampered "a file hash changed" "$CER"
check "it is put back" msql "UPDATE certification_files f JOIN certifications c ON c.id = f.certification_id SET f.sha256 = '$DOC' WHERE c.public_id = '$CER' AND f.slot = 'doc'"
restored
check "the rejection's decision is changed to certified" msql "UPDATE certifications SET decision = 'certified' WHERE public_id = '$REJ'"
tampered "the decision changed" "$REJ"
check "it is put back" msql "UPDATE certifications SET decision = 'rejected' WHERE public_id = '$REJ'"
restored
check "the certification's time is moved by a microsecond" msql "UPDATE certifications SET decided_at = decided_at + INTERVAL 1 MICROSECOND WHERE public_id = '$CER'"
tampered "decided_at changed" "$CER"
check "it is put back" msql "UPDATE certifications SET decided_at = decided_at - INTERVAL 1 MICROSECOND WHERE public_id = '$CER'"
restored

# ------------------------------------------------------------ a replaced file

pdf "$tmp/doc2.pdf"
tok=$(csrf s1 "/items/$ITEM")
out=$(req s1 -o /dev/null -w '%{http_code}' -F "csrf=$tok" --form-string "description=報告與口頭發表" -F confirm=1 \
    -F "doc=@$tmp/doc2.pdf;filename=doc2.pdf" "$BASE/items/$ITEM")
check_eq "s1 replaces the document of the certified item (confirmed)" 303 "$out"
check_eq "the item is pending, without a current decision" "$(printf 'pending\t1')" \
    "$(app_sql "SELECT cert_state, cert_id IS NULL FROM items WHERE public_id = '$ITEM'")"
check_eq "the certification is superseded" 1 "$(app_sql "SELECT superseded_at IS NOT NULL FROM certifications WHERE public_id = '$CER'")"
verify
check_eq "verify-cert still verifies both decisions (exit 0)" 0 "$RC"
check_nomatch "  and reports no current decision" ' current$' "$OUT"
check_match "  the certification stays OK as history" "^$CER .* OK\$" "$OUT"

# ------------------------------------------------------------ no key

check "the new document is hashed and scanned clean" wait_for 60 clean "$ITEM" 2
awk '/^signing:/ { skip = 1; next } /^[^ #]/ { skip = 0 } !skip' "$SECRETS_FILE" >"$tmp/secrets.yaml"
chmod 0600 "$tmp/secrets.yaml"
sed "s|^secrets_file:.*|secrets_file: \"$tmp/secrets.yaml\"|" "$CONF_ORIG" >"$tmp/licheng.yaml"
check "the copy of the configuration without a signing key loads" L -n -c "$tmp/licheng.yaml"
CONF_CHANGED=1
cat "$tmp/licheng.yaml" >"$LICHENG_CONF"
check "licheng-fcgi reloads it (SIGHUP) and says decisions are refused" reload_fcgi no_key_lines
n0=$(n_certs)
p=$(page ta "/certify/$ITEM")
check_match "the item's page says certification is not set up, naming the command" \
    'id="certify-no-key">.*licheng pki init-school' "$p"
check_nomatch "  and offers no form" 'id="decide-form"' "$p"
TOKEN=$(csrf ta /certify)
check_eq "a decision is refused (503)" "503 " "$(form ta "/certify/$ITEM" decision=certified)"
check_match "  saying why" '簽章金鑰還沒有建立' "$(form_body)"
check_eq "nothing was written" "$n0" "$(n_certs)"
check_eq "the item is still pending" pending "$(app_sql "SELECT cert_state FROM items WHERE public_id = '$ITEM'")"
check_match "licheng-fcgi logged the refusal for the operator" 'certification refused: no signing key is loaded' "$(tail -n 50 "$LOG_FILE")"
cat "$CONF_ORIG" >"$LICHENG_CONF"
check "the configuration is put back and reloaded" reload_fcgi key_lines
CONF_CHANGED=0
check_eq "the item can be certified again" "303 $BASE/certify?done=certified" "$(decide ta "$ITEM" decision=certified)"
verify
check_eq "and its three decisions verify" "0 3" "$RC $(printf '%s\n' "$OUT" | grep -c ' OK')"
