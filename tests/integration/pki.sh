# pki: the school platform's signing key and verify-cert, on a COPY of the
# stack's configuration and secrets (the stack's own key is never touched).
# init-school appends the key to the secrets file (still 0600, every other
# line unchanged, the configuration still loads, the key never printed),
# registers it in platform_keys and writes the request and the self-signed
# certificate, which openssl reads back (Ed25519, the subject, the
# extensions, the same public key as the row and as the seed); a second run
# says "already initialised" and changes nothing; pki show matches, and
# exits 1 without a key or with one that no row names. A secrets file that
# cannot be rewritten (read-only, in a directory its user cannot write, a
# symbolic link) and a database that cannot be reached are refused clearly
# and leave the file as it was. verify-cert: an unknown item exits 2, an
# item without decisions says so, and two decisions recorded directly in
# the database and signed with openssl (not with Licheng) over the text
# verify-cert --text prints verify; a changed file hash, decision, time or
# reason fails, and a replaced file makes the current decision STALE.
. "$(dirname "$0")/lib.sh"

RUNID="pk$RANDOM$RANDOM"
T=$(mktemp -d /tmp/licheng-pki.XXXXXX)
chmod 0755 "$T"
KEYS_BEFORE=$(sql_as root "SELECT GROUP_CONCAT(key_id ORDER BY id) FROM licheng.platform_keys")
STACK_SECRETS_SUM=$(sha256sum <"$SECRETS_FILE")

# What this scenario adds to the stack's database goes again at its end;
# the stack's own key row stays.
cleanup() {
	local rc=$?
	sql_as root "USE licheng;
	    DELETE f FROM certification_files f JOIN certifications c
	        ON c.id = f.certification_id JOIN schools s ON s.id = c.school_id
	        WHERE s.code = '$RUNID';
	    UPDATE items i JOIN schools s ON s.id = i.school_id
	        SET i.cert_id = NULL WHERE s.code = '$RUNID';
	    DELETE c FROM certifications c JOIN schools s
	        ON s.id = c.school_id WHERE s.code = '$RUNID';
	    DELETE f FROM item_files f JOIN schools s
	        ON s.id = f.school_id WHERE s.code = '$RUNID';
	    DELETE i FROM items i JOIN schools s
	        ON s.id = i.school_id WHERE s.code = '$RUNID';
	    DELETE FROM objects WHERE mime = 'application/x-$RUNID';
	    DELETE x FROM students x JOIN schools s
	        ON s.id = x.school_id WHERE s.code = '$RUNID';
	    DELETE x FROM courses x JOIN schools s
	        ON s.id = x.school_id WHERE s.code = '$RUNID';
	    DELETE x FROM terms x JOIN schools s
	        ON s.id = x.school_id WHERE s.code = '$RUNID';
	    DELETE x FROM teachers x JOIN schools s
	        ON s.id = x.school_id WHERE s.code = '$RUNID';
	    DELETE x FROM users x JOIN schools s
	        ON s.id = x.school_id WHERE s.code = '$RUNID';
	    DELETE FROM schools WHERE code = '$RUNID';
	    DELETE FROM platform_keys
	        WHERE FIND_IN_SET(key_id, '${KEYS_BEFORE:-}') = 0;" >/dev/null 2>&1 ||
		fail "the scenario's rows could not be removed"
	rm -rf "$T"
	(exit "$rc")
	lib_finish
}
trap cleanup EXIT

LB() { "$LICHENG_BIN/licheng" "$@"; }
pid() { openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n'; }

# copy_stack DIR: the stack's configuration in DIR/licheng.yaml naming
# DIR/secrets.yaml, a copy of the stack's secrets without its signing key.
copy_stack() {
	mkdir -p "$1"
	sed "s#^secrets_file: .*#secrets_file: \"$1/secrets.yaml\"#" \
	    "$LICHENG_CONF" >"$1/licheng.yaml"
	(
		umask 077
		awk '/^signing:/ { skip = 1; next }
		    skip && /^([ \t]|$)/ { next }
		    { skip = 0; print }' "$SECRETS_FILE" >"$1/secrets.yaml"
	)
}

# seed_pem SEED_HEX OUT: the Ed25519 private key of a raw seed, as PEM.
seed_pem() {
	printf '302e020100300506032b657004220420%s' "$1" | xxd -r -p >"$2.der"
	openssl pkey -inform DER -in "$2.der" -out "$2"
	rm -f "$2.der"
}

# raw_pub_of_cert PEM: the 32-byte public key of a certificate, in hex.
raw_pub_of_cert() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
	    tail -c 32 | xxd -p -c 64
}

# ---------------------------------------------------------------- init-school
A=$T/a
copy_stack "$A"
check_eq "the copy starts without a signing key" "" \
    "$(sed -n 's/^  school_key: //p' "$A/secrets.yaml")"
OLD_SECRETS=$(cat "$A/secrets.yaml")
OLD_SIZE=$(stat -c %s "$A/secrets.yaml")
OUT=$T/out
mkdir -p "$OUT"
ORG="測試高中 $RUNID"
out=$(LB -c "$A/licheng.yaml" pki init-school --cn pki-test.example.tw \
    --org "$ORG" --out "$OUT" 2>&1)
check_eq "init-school exits 0" 0 $?
check_match "init-school names the new key" \
    '^created the school platform.s signing key: key id [0-9a-f]{64}$' "$out"
KID=$(printf '%s\n' "$out" | sed -n 's/^created.*key id \([0-9a-f]*\)$/\1/p')
SEED=$(sed -n 's/^  school_key: "\([0-9a-f]*\)"$/\1/p' "$A/secrets.yaml")
check_match "the secrets file holds 64 hex digits of key" '^[0-9a-f]{64}$' "$SEED"
check_nomatch "the key is not printed" "${SEED:-nokey}" "$out"
check_eq "the secrets file stays 0600" 600 "$(stat -c %a "$A/secrets.yaml")"
check_eq "the secrets file keeps its owner" "$(id -u):$(id -g)" \
    "$(stat -c %u:%g "$A/secrets.yaml")"
check_eq "every other line of the secrets file is unchanged" "$OLD_SECRETS" \
    "$(head -c "$OLD_SIZE" "$A/secrets.yaml")"
check_eq "exactly the signing mapping is appended" \
    "$(printf 'signing:\n  school_key: "%s"' "$SEED")" \
    "$(tail -c +$((OLD_SIZE + 1)) "$A/secrets.yaml")"
check "the configuration still loads (licheng -n)" LB -n -c "$A/licheng.yaml"
check_eq "no temporary file is left beside it" "licheng.yaml secrets.yaml" \
    "$(ls "$A" | tr '\n' ' ' | sed 's/ $//')"
seed_pem "$SEED" "$T/key.pem"
check_eq "the key id is the SHA-256 of the seed's public key" "$KID" \
    "$(openssl pkey -in "$T/key.pem" -pubout -outform DER | tail -c 32 |
        sha256sum | cut -d' ' -f1)"
check_eq "the key is registered in platform_keys" 1 \
    "$(sql_as app "SELECT COUNT(*) FROM platform_keys WHERE key_id = '$KID' AND algorithm = 'ed25519' AND cert_issuer = 'self' AND retired_at IS NULL")"
check_eq "the row's subject" "CN=pki-test.example.tw, O=$ORG, C=TW" \
    "$(sql_as app "SELECT subject FROM platform_keys WHERE key_id = '$KID'")"
check_eq "the stack's own secrets file is untouched" "$STACK_SECRETS_SUM" \
    "$(sha256sum <"$SECRETS_FILE")"

# The request and the certificate, read by openssl.
check "openssl verifies the request's self-signature" \
    openssl req -verify -noout -in "$OUT/platform.csr.pem"
req_text=$(openssl req -in "$OUT/platform.csr.pem" -noout -text -nameopt utf8)
check_match "the request is for an ED25519 key" 'Public Key Algorithm: ED25519' "$req_text"
check_match "the request's subject" "Subject: CN=pki-test.example.tw, O=$ORG, C=TW" "$req_text"
crt_text=$(openssl x509 -in "$OUT/platform.crt.pem" -noout -text -nameopt utf8)
check_match "the certificate is X.509 v3" 'Version: 3 \(0x2\)' "$crt_text"
check_match "the certificate is of an ED25519 key" 'Public Key Algorithm: ED25519' "$crt_text"
check_match "the certificate is signed with ED25519" 'Signature Algorithm: ED25519' "$crt_text"
check_match "the certificate's subject" "Subject: CN=pki-test.example.tw, O=$ORG, C=TW" "$crt_text"
check_match "the certificate is self-issued" "Issuer: CN=pki-test.example.tw, O=$ORG, C=TW" "$crt_text"
check_match "the certificate is not a CA" 'CA:FALSE' "$crt_text"
check_match "its key usage is digitalSignature, critical" \
    'Key Usage: critical' "$crt_text"
check_match "it has a subject key identifier" 'Subject Key Identifier' "$crt_text"
check "openssl verifies the self-signed certificate" \
    openssl verify -CAfile "$OUT/platform.crt.pem" -partial_chain "$OUT/platform.crt.pem"
PUB=$(sql_as app "SELECT public_key FROM platform_keys WHERE key_id = '$KID'")
check_eq "the certificate's public key is the row's public_key" "$PUB" \
    "$(raw_pub_of_cert "$OUT/platform.crt.pem")"
check_eq "the request's public key is the row's public_key" "$PUB" \
    "$(openssl req -in "$OUT/platform.csr.pem" -pubkey -noout |
        openssl pkey -pubin -outform DER | tail -c 32 | xxd -p -c 64)"
check_eq "the row's PEM texts are the files" \
    "$(cat "$OUT/platform.csr.pem" "$OUT/platform.crt.pem")" \
    "$(sql_as app "SELECT CONCAT(csr_pem, cert_pem) FROM platform_keys WHERE key_id = '$KID'" | sed 's/\\n/\n/g')"

# A second run changes nothing.
sums=$(sha256sum "$A/secrets.yaml" "$OUT"/*.pem)
rows=$(sql_as app "SELECT COUNT(*) FROM platform_keys")
out=$(LB -c "$A/licheng.yaml" pki init-school --out "$OUT" 2>&1)
check_eq "a second run exits 0" 0 $?
check_eq "a second run says already initialised" "already initialised: key id $KID" "$out"
check_eq "a second run changes no file" "$sums" "$(sha256sum "$A/secrets.yaml" "$OUT"/*.pem)"
check_eq "a second run adds no row" "$rows" "$(sql_as app "SELECT COUNT(*) FROM platform_keys")"

# It completes what is missing: the files, here, into the default place
# (the secrets file's directory).
out=$(LB -c "$A/licheng.yaml" pki init-school 2>&1)
check_match "a run with the files missing writes them" "wrote the self-signed certificate: $A/platform.crt.pem" "$out"
check_eq "with the row's texts" "$(cat "$OUT/platform.crt.pem")" "$(cat "$A/platform.crt.pem")"
rm -f "$A"/platform.*.pem

# pki show
out=$(LB -c "$A/licheng.yaml" pki show 2>&1)
check_eq "pki show exits 0 when set up" 0 $?
check_match "pki show: the key id" "^key id: $KID\$" "$out"
check_match "pki show: the subject" "subject: CN=pki-test.example.tw, O=$ORG, C=TW" "$out"
check_match "pki show: self-signed" '^issuer: self$' "$out"
check_match "pki show: created" '^created: [0-9]{4}-[0-9]{2}-[0-9]{2} ' "$out"
check_match "pki show: matches" 'registered, matches' "$out"
B=$T/b
copy_stack "$B"
out=$(LB -c "$B/licheng.yaml" pki show 2>&1)
check_eq "pki show exits 1 without a key" 1 $?
check_match "pki show says what to run" 'no signing key.*licheng pki init-school' "$out"
printf 'signing:\n  school_key: "%s"\n' "$(openssl rand -hex 32)" >>"$B/secrets.yaml"
out=$(LB -c "$B/licheng.yaml" pki show 2>&1)
check_eq "pki show exits 1 for a key no row names" 1 $?
check_match "pki show says it does not match" 'NOT registered' "$out"

# ---------------------------------------------------------------- refusals
# refused NAME DIR EXPECTED-MESSAGE [runuser args]: init-school on DIR's
# copy fails with the message and leaves the secrets file and platform_keys
# as they were.
refused() {
	local name=$1 dir=$2 msg=$3 before rows out rc
	shift 3
	before=$(sha256sum <"$dir/secrets.yaml")
	rows=$(sql_as app "SELECT COUNT(*) FROM platform_keys")
	out=$("$@" "$LICHENG_BIN/licheng" -c "$dir/licheng.yaml" pki init-school 2>&1)
	rc=$?
	check_eq "$name: exit 1" 1 "$rc"
	check_match "$name: a clear error" "$msg" "$out"
	check_eq "$name: the secrets file is unchanged" "$before" "$(sha256sum <"$dir/secrets.yaml")"
	check_eq "$name: no row added" "$rows" "$(sql_as app "SELECT COUNT(*) FROM platform_keys")"
	check_eq "$name: no temporary file left" "" "$(ls "$dir" | grep -v '^licheng.yaml$\|^secrets.yaml$\|^real.yaml$')"
}
NOBODY=(runuser -u nobody --)
C=$T/c
copy_stack "$C"
chown nobody "$C/secrets.yaml"
chmod 0400 "$C/secrets.yaml"
refused "a read-only secrets file" "$C" 'cannot rewrite the secrets file .*/c/secrets.yaml' "${NOBODY[@]}"
chmod 0600 "$C/secrets.yaml"
refused "a secrets file in a directory its user cannot write" "$C" \
    'its directory .*/c is not writable' "${NOBODY[@]}"
D=$T/d
copy_stack "$D"
mv "$D/secrets.yaml" "$D/real.yaml"
ln -s "$D/real.yaml" "$D/secrets.yaml"
refused "a secrets file that is a symbolic link" "$D" 'is not a regular file'
check "the link is still a link" test -L "$D/secrets.yaml"
E=$T/e
copy_stack "$E"
sed -i "s#^  socket: \".*mysql.sock\"#  socket: \"$T/no-such.sock\"#" "$E/licheng.yaml"
refused "a database it cannot reach" "$E" 'cannot reach the database'
F=$T/f
copy_stack "$F"
printf 'signing:\n' >>"$F/secrets.yaml"
refused "a secrets file with an empty signing mapping" "$F" 'already has a signing: mapping'

# ---------------------------------------------------------------- verify-cert
out=$(LB -c "$A/licheng.yaml" verify-cert 2>&1)
check_eq "verify-cert without an item is a usage error" 2 $?
unknown=$(pid)
out=$(LB -c "$A/licheng.yaml" verify-cert "$unknown" 2>&1)
check_eq "verify-cert of an unknown item exits 2" 2 $?
check_match "and says so" "$unknown: no such item" "$out"
out=$(LB -c "$A/licheng.yaml" verify-cert '../etc' 2>&1)
check_eq "verify-cert of a malformed id exits 2" 2 $?

ITEM=$(pid); STU=$(pid); CRS=$(pid); TCH=$(pid); TCH2=$(pid)
H1=$(printf '%s-1' "$RUNID" | sha256sum | cut -d' ' -f1)
H2=$(printf '%s-2' "$RUNID" | sha256sum | cut -d' ' -f1)
H3=$(printf '%s-3' "$RUNID" | sha256sum | cut -d' ' -f1)
sql_as root "USE licheng;
    INSERT INTO schools (public_id, code, name) VALUES ('$(pid)', '$RUNID', 'PKI 測試高中');
    SET @s = LAST_INSERT_ID();
    INSERT INTO users (public_id, school_id, role, login, name)
        VALUES ('$(pid)', @s, 'teacher', '$RUNID-t1', '王老師');
    INSERT INTO teachers (public_id, school_id, user_id) VALUES ('$TCH', @s, LAST_INSERT_ID());
    INSERT INTO users (public_id, school_id, role, login, name)
        VALUES ('$(pid)', @s, 'teacher', '$RUNID-t2', '李老師');
    INSERT INTO teachers (public_id, school_id, user_id) VALUES ('$TCH2', @s, LAST_INSERT_ID());
    INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
        VALUES ('$(pid)', @s, 114, 1, CURDATE() - INTERVAL 30 DAY, CURDATE() + INTERVAL 30 DAY);
    SET @term = LAST_INSERT_ID();
    INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
        VALUES ('$CRS', @s, @term, 'M1', '數學', 2);
    SET @c = LAST_INSERT_ID();
    INSERT INTO students (public_id, school_id, student_no, name, id_kind,
        national_id_hmac, national_id_sealed, birth_date)
        VALUES ('$STU', @s, '1001', '林同學', 'national', SHA2('$RUNID', 256), X'00', '2009-01-01');
    INSERT INTO objects (sha256, size, mime) VALUES ('$H1', 1, 'application/x-$RUNID'),
        ('$H2', 1, 'application/x-$RUNID'), ('$H3', 1, 'application/x-$RUNID');
    INSERT INTO items (public_id, school_id, student_id, term_id, kind, course_id,
        description, cert_state, version)
        VALUES ('$ITEM', @s, LAST_INSERT_ID(), @term, 'course', @c, 'pki', 'pending', 2);
    SET @i = LAST_INSERT_ID();
    INSERT INTO item_files (public_id, school_id, item_id, slot, version, sha256, size,
        mime, original_name, uploaded_by)
        SELECT '$(pid)', @s, @i, 'doc', 1, '$H1', 1, 'application/pdf', 'a.pdf', MIN(id)
        FROM users WHERE school_id = @s;
    INSERT INTO item_files (public_id, school_id, item_id, slot, version, sha256, size,
        mime, original_name, uploaded_by)
        SELECT '$(pid)', @s, @i, 'video', 2, '$H2', 1, 'video/mp4', 'a.mp4', MIN(id)
        FROM users WHERE school_id = @s;"
check_eq "a test item is made" 1 "$(sql_as app "SELECT COUNT(*) FROM items WHERE public_id = '$ITEM'")"
out=$(LB -c "$A/licheng.yaml" verify-cert "$ITEM" 2>&1)
check_eq "verify-cert of an item without decisions exits 0" 0 $?
check_eq "and says there are none" "$ITEM: no certification decisions" "$out"

# Two decisions, recorded as the teachers' pages record them: a rejection
# (with a reason of two lines and a backslash) by the stand-in teacher for
# the course's teacher, superseded by a certification over both files.
C1=$(pid); C2=$(pid)
sql_as root "USE licheng;
    SELECT id, school_id INTO @i, @s FROM items WHERE public_id = '$ITEM';
    SELECT id, user_id INTO @t, @u FROM teachers WHERE public_id = '$TCH';
    SELECT id, user_id INTO @t2, @u2 FROM teachers WHERE public_id = '$TCH2';
    INSERT INTO certifications (public_id, school_id, item_id, item_version, decision,
        reason, teacher_id, user_id, for_teacher_id, decided_at, key_id, signature,
        superseded_at)
        VALUES ('$C1', @s, @i, 1, 'rejected', CONCAT('請補上第2頁', CHAR(10), '路徑 C:\\\\x 結束'),
        @t2, @u2, @t, '2026-01-02 03:04:05.000001', '$KID', REPEAT('0', 128),
        '2026-01-03 00:00:00');
    INSERT INTO certification_files VALUES (LAST_INSERT_ID(), 'doc', '$H1');
    INSERT INTO certifications (public_id, school_id, item_id, item_version, decision,
        reason, teacher_id, user_id, decided_at, key_id, signature)
        VALUES ('$C2', @s, @i, 2, 'certified', NULL, @t, @u,
        '2026-01-04 05:06:07.654321', '$KID', REPEAT('0', 128));
    SET @c2 = LAST_INSERT_ID();
    INSERT INTO certification_files VALUES (@c2, 'doc', '$H1'), (@c2, 'video', '$H2');
    UPDATE items SET cert_id = @c2, cert_state = 'certified' WHERE id = @i;"

vc() { LB -c "$A/licheng.yaml" verify-cert "$@" 2>&1; }
out=$(vc --text "$ITEM")
check_eq "unsigned decisions fail (exit 1)" 1 $?
check_eq "both are BAD_SIGNATURE" 2 "$(printf '%s\n' "$out" | grep -c ' BAD_SIGNATURE')"
check_match "the last line counts them" "^$ITEM: 2 of 2 decision\(s\) FAILED\$" "$out"
# text_of ID: the canonical text verify-cert --text printed for ID.
text_of() {
	printf '%s\n' "$out" | sed -n "/^-----BEGIN LICHENG CERTIFICATION $1-----\$/,/^-----END LICHENG CERTIFICATION $1-----\$/p" |
	    sed '1d;$d'
}
text_of "$C1" >"$T/c1.txt"
text_of "$C2" >"$T/c2.txt"
check_eq "the rejection's canonical text" "licheng-certification-v1
school: $RUNID
item: $ITEM
version: 1
student: $STU
course: $CRS
teacher: $TCH2
for-teacher: $TCH
standin: 
file: doc $H1
decision: rejected
reason: 請補上第2頁\\n路徑 C:\\\\x 結束
time: 2026-01-02T03:04:05.000001Z
key: $KID" "$(cat "$T/c1.txt")"
check_eq "the certification's canonical text" "licheng-certification-v1
school: $RUNID
item: $ITEM
version: 2
student: $STU
course: $CRS
teacher: $TCH
for-teacher: 
standin: 
file: doc $H1
file: video $H2
decision: certified
reason: 
time: 2026-01-04T05:06:07.654321Z
key: $KID" "$(cat "$T/c2.txt")"
# Signed with openssl and the seed from the secrets file.
for c in c1 c2; do
	openssl pkeyutl -sign -rawin -inkey "$T/key.pem" -in "$T/$c.txt" -out "$T/$c.sig"
done
sql_as root "UPDATE licheng.certifications SET signature = '$(xxd -p -c 64 "$T/c1.sig")' WHERE public_id = '$C1';
    UPDATE licheng.certifications SET signature = '$(xxd -p -c 64 "$T/c2.sig")' WHERE public_id = '$C2'"
out=$(vc "$ITEM")
check_eq "decisions signed by openssl verify (exit 0)" 0 $?
check_match "the rejection: OK, by the stand-in for the teacher" \
    "^$C1 2026-01-02T03:04:05.000001Z rejected teacher=$TCH2 for=$TCH key=$KID OK\$" "$out"
check_match "the certification: OK and current" \
    "^$C2 2026-01-04T05:06:07.654321Z certified teacher=$TCH for=- key=$KID OK current\$" "$out"
check_match "the last line" "^$ITEM: verified 2 decision\(s\)\$" "$out"
out=$(vc --text "$ITEM")
check_match "--text prints the recorded signature" "^signature: $(xxd -p -c 64 "$T/c2.sig")\$" "$out"
check "openssl verifies the text with the platform certificate" \
    openssl pkeyutl -verify -rawin -certin -inkey "$OUT/platform.crt.pem" -in "$T/c2.txt" -sigfile "$T/c2.sig"

# tampered NAME SQL UNDO: after SQL the current decision fails, and after
# UNDO it verifies again.
tampered() {
	sql_as root "USE licheng; $2"
	out=$(vc "$ITEM")
	check_eq "$1: verify-cert exits 1" 1 $?
	check_match "$1: BAD_SIGNATURE" "^$C2 .* BAD_SIGNATURE current\$" "$out"
	check_match "$1: counted" "^$ITEM: 1 of 2 decision\(s\) FAILED\$" "$out"
	sql_as root "USE licheng; $3"
	check "$1: undone, it verifies again" vc "$ITEM"
}
cid="(SELECT id FROM certifications WHERE public_id = '$C2')"
tampered "a byte of the recorded hash" \
    "UPDATE certification_files SET sha256 = CONCAT(LEFT(sha256, 63), IF(RIGHT(sha256, 1) = '0', '1', '0')) WHERE certification_id = $cid AND slot = 'video'" \
    "UPDATE certification_files SET sha256 = '$H2' WHERE certification_id = $cid AND slot = 'video'"
tampered "the decision" \
    "UPDATE certifications SET decision = 'rejected', reason = 'x' WHERE public_id = '$C2'" \
    "UPDATE certifications SET decision = 'certified', reason = NULL WHERE public_id = '$C2'"
tampered "the time, by a microsecond" \
    "UPDATE certifications SET decided_at = decided_at + INTERVAL 1 MICROSECOND WHERE public_id = '$C2'" \
    "UPDATE certifications SET decided_at = '2026-01-04 05:06:07.654321' WHERE public_id = '$C2'"
tampered "the acting teacher" \
    "UPDATE certifications SET teacher_id = (SELECT id FROM teachers WHERE public_id = '$TCH2') WHERE public_id = '$C2'" \
    "UPDATE certifications SET teacher_id = (SELECT id FROM teachers WHERE public_id = '$TCH') WHERE public_id = '$C2'"
tampered "a file dropped" \
    "DELETE FROM certification_files WHERE certification_id = $cid AND slot = 'video'" \
    "INSERT INTO certification_files VALUES ($cid, 'video', '$H2')"
sql_as root "UPDATE licheng.certifications SET reason = CONCAT(reason, '.') WHERE public_id = '$C1'"
out=$(vc "$ITEM")
check_eq "a changed reason of the earlier decision fails too" 1 $?
check_match "that one is BAD_SIGNATURE, the current one OK" \
    "^$C1 .* BAD_SIGNATURE
$C2 .* OK current\$" "$out"
sql_as root "UPDATE licheng.certifications SET reason = TRIM(TRAILING '.' FROM reason) WHERE public_id = '$C1'"
check "the reason put back, all verify" vc "$ITEM"

# A replaced video: the current decision is no longer over the item's
# current files.
sql_as root "USE licheng;
    SELECT id, school_id INTO @i, @s FROM items WHERE public_id = '$ITEM';
    UPDATE item_files SET replaced_at = NOW(6) WHERE item_id = @i AND slot = 'video';
    INSERT INTO item_files (public_id, school_id, item_id, slot, version, sha256, size,
        mime, original_name, uploaded_by)
        SELECT '$(pid)', @s, @i, 'video', 3, '$H3', 1, 'video/mp4', 'b.mp4', MIN(id)
        FROM users WHERE school_id = @s;"
out=$(vc "$ITEM")
check_eq "a decision over a replaced file exits 1" 1 $?
check_match "the current one is STALE" "^$C2 .* STALE current\$" "$out"
check_match "the earlier one still verifies" "^$C1 .* OK\$" "$out"
check_eq "the stack's own key row is still there" 1 \
    "$(sql_as app "SELECT COUNT(*) FROM platform_keys WHERE key_id = '$(printf '%s' "$KEYS_BEFORE" | cut -d, -f1)'")"
