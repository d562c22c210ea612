# items: a student's uploads through nginx, signed in for real. The page
# lists the student's terms with their upload windows and offers only the
# courses of open terms; a course outcome of exactly the document limit is
# stored (the object in both roots with the recorded SHA-256 and size, the
# item and file rows and a hash and a scan job committed with it, the
# state 檢查中 shown, or 待認證 once the workers ran both); one byte more, a wrong type, a PNG renamed .pdf, a
# closed or not-yet-open window, a description of 101 characters, a course
# the student does not take and an upload without its CSRF token are each
# refused with their own message and leave no row and no temporary file; 100
# CJK characters pass; two identical uploads at once make one object and two
# items; a file name with ../, NUL, a right-to-left override and 300
# characters is stored as data and shown escaped; another student's item,
# another school's, a random id and a deleted one are 404; a file is
# replaced (both versions kept with their hashes) and an item deleted (its
# rows and object kept); a certified item loses its certification only when
# the change is confirmed (audited), and a submitted one does not change.
. "$(dirname "$0")/lib.sh"

RUNID="it$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

PRIMARY=$(conf_get primary "$LICHENG_CONF")
REPLICA=$(conf_get replica "$LICHENG_CONF")
DOC_MAX=4194304

# page NAME PATH: the body of a GET with NAME's session.
page() { req "$1" "$BASE$2"; }
# status NAME PATH: the status of NAME's GET of PATH.
status() { req "$1" -o /dev/null -w '%{http_code}' "$BASE$2"; }
# upload NAME KIND COURSE|CATEGORY DESCRIPTION [curl -F args...]: posts the
# upload form as a browser does (the CSRF token first); prints "STATUS
# LOCATION" and keeps the answer in $tmp/$OUT (default page).
upload() {
	local name=$1 kind=$2 target=$3 desc=$4 token sel
	shift 4
	token=$(csrf "$name" /items)
	if [ "$kind" = course ]; then sel=(-F "course=$target"); else sel=(-F "category=$target"); fi
	req "$name" -o "$tmp/${OUT:-page}" -w '%{http_code} %{redirect_url}' \
	    -F "csrf=$token" -F "kind=$kind" "${sel[@]}" --form-string "description=$desc" \
	    "$@" "$BASE/items"
}
# change NAME ID [curl -F args...]: posts the change form of item ID.
change() {
	local name=$1 id=$2 token
	shift 2
	token=$(csrf "$name" "/items/$id")
	req "$name" -o "$tmp/page" -w '%{http_code} %{redirect_url}' \
	    -F "csrf=$token" "$@" "$BASE/items/$id"
}
# delete NAME ID [FIELD=VALUE...]: posts the delete form of item ID.
delete() {
	local name=$1 id=$2 token a=()
	shift 2
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	token=$(csrf "$name" "/items/$id")
	req "$name" -o "$tmp/page" -w '%{http_code} %{redirect_url}' \
	    --data-urlencode "csrf=$token" "${a[@]}" "$BASE/items/$id/delete"
}
body() { cat "$tmp/${OUT:-page}"; }
# pdf FILE SIZE / png FILE SIZE: a file of exactly SIZE bytes with the
# format's signature and random bytes after it (so each is a new object).
pdf() { { printf '%%PDF-1.7\n'; head -c $(($2 - 9)) /dev/urandom; } >"$1"; }
png() { { printf '\x89PNG\r\n\x1a\n'; head -c $(($2 - 8)) /dev/urandom; } >"$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
obj() { printf '%s/objects/%s/%s/%s' "$1" "${2:0:2}" "${2:2:2}" "$2"; }
tmp_files() { find "$PRIMARY/tmp" "$REPLICA/tmp" -type f | wc -l; }
items_of() { app_sql "SELECT COUNT(*) FROM items i JOIN students s ON s.id = i.student_id WHERE s.student_no = '$1'"; }
item_of_sha() { app_sql "SELECT i.public_id FROM items i JOIN item_files f ON f.item_id = i.id WHERE f.sha256 = '$1' ORDER BY i.id DESC LIMIT 1"; }
day() { date -u -d "$1 days" +%F; }

# ------------------------------------------------------------ the school

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "上傳甲高中"
check "school B is added" L school add --code "$sb" --name "上傳乙高中"
check "student s1 of school A signs in" signin_as s1 student "$sa"
check "student s2 of school A signs in" signin_as s2 student "$sa"
check "student s3 of school B signs in" signin_as s3 student "$sb"
S1=$(login_of s1) S2=$(login_of s2)

# Terms of school A: 114-1 open now (the default window), 113-2 closed
# (its window ended 14 days after its closing ceremony), 115-1 not open
# yet. Courses: C1 (114-1, s1 enrolled), C2 (113-2), C3 (115-1), C4
# (114-1, only s2), and CB of school B.
T1=$(new_public_id) T2=$(new_public_id) T3=$(new_public_id) TB=$(new_public_id)
C1=$(new_public_id) C2=$(new_public_id) C3=$(new_public_id) C4=$(new_public_id) CB=$(new_public_id)
CLOSED_FROM=$(day -200) CLOSED_END=$(day -100) CLOSED_TO=$(day -86)
NEXT_FROM=$(day 30) NEXT_END=$(day 150) NEXT_TO=$(day 164)
student_row() { # LOGIN NUMBER NAME
	printf "INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind, national_id_hmac, national_id_sealed, birth_date) SELECT '%s', school_id, id, '%s', '%s', 'national', '%s', UNHEX('%s'), '2009-01-01' FROM users WHERE login = '%s';\n" \
	    "$(new_public_id)" "$2" "$3" "$(openssl rand -hex 32)" "$(openssl rand -hex 40)" "$1"
}
enrols() { # STUDENT_NO COURSE_PUBLIC_ID
	printf "INSERT INTO enrolments (public_id, school_id, student_id, course_id) SELECT '%s', s.school_id, s.id, c.id FROM students s JOIN courses c ON c.school_id = s.school_id WHERE s.student_no = '%s' AND c.public_id = '%s';\n" \
	    "$(new_public_id)" "$1" "$2"
}
sql="SET @a = (SELECT id FROM schools WHERE code = '$sa');
SET @b = (SELECT id FROM schools WHERE code = '$sb');
INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on) VALUES
    ('$T1', @a, 114, 1, '$(day -30)', '$(day 30)'),
    ('$T2', @a, 113, 2, '$CLOSED_FROM', '$CLOSED_END'),
    ('$T3', @a, 115, 1, '$NEXT_FROM', '$NEXT_END'),
    ('$TB', @b, 114, 1, '$(day -30)', '$(day 30)');
INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
    SELECT '$C1', @a, id, 'C1', '國語文', 4 FROM terms WHERE public_id = '$T1';
INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
    SELECT '$C2', @a, id, 'C2', '數學', 4 FROM terms WHERE public_id = '$T2';
INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
    SELECT '$C3', @a, id, 'C3', '物理', 2 FROM terms WHERE public_id = '$T3';
INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
    SELECT '$C4', @a, id, 'C4', '化學', 2 FROM terms WHERE public_id = '$T1';
INSERT INTO courses (public_id, school_id, term_id, code, name, credits)
    SELECT '$CB', @b, id, 'CB', '英語文', 4 FROM terms WHERE public_id = '$TB';
$(student_row "$S1" "${RUNID}1" 陳小華)
$(student_row "$S2" "${RUNID}2" 林小美)
$(student_row "$(login_of s3)" "${RUNID}3" 王大同)
$(enrols "${RUNID}1" "$C1")
$(enrols "${RUNID}1" "$C2")
$(enrols "${RUNID}1" "$C3")
$(enrols "${RUNID}2" "$C4")
$(enrols "${RUNID}3" "$CB")"
check "terms, courses, students and enrolments exist" sql_as root "USE licheng; $sql"

# ------------------------------------------------------------ the page

p=$(page s1 /items)
check_match "the items page is zh-TW" '<h1 id="items-title">我的學習歷程</h1>' "$p"
check_match "its upload form is multipart, the CSRF token first" \
    'enctype="multipart/form-data" class="stack card upload-form" id="upload-form" data-upload>.?<input type="hidden" name="csrf"' \
    "$(printf '%s' "$p" | tr -d '\n')"
check_match "it offers C1 (an open term's course)" "<option value=\"$C1\">C1 國語文</option>" "$p"
for c in "$C2" "$C3" "$C4" "$CB"; do
	check_nomatch "it does not offer $c" "value=\"$c\"" "$p"
done
check_match "the categories come from the Ministry's list, kinds grouped" '<optgroup label="多元能力">' "$p"
check_match "with a kind as the value" '<option value="ability.volunteer">志工服務</option>' "$p"
check_match "the description is limited to 100 characters" 'name="description" value="" maxlength="100"' "$p"
check_match "the document input takes PDF, JPEG and PNG" 'name="doc" accept="\.pdf,application/pdf,\.jpg,image/jpeg,\.jpeg,\.png,image/png"' "$p"
check_match "with the limit shown" '接受 PDF, JPEG, PNG，最大 4 MiB' "$p"
check_match "the video input says MP4, MP3 and 10 MiB" '接受 MP4, MP3，最大 10 MiB' "$p"
check_match "114-1 is open" "上傳期間：$(day -30) 至 $(day 44)（開放中）" "$p"
check_match "113-2 says when its window closed" "上傳期間已於 $CLOSED_TO 結束（$CLOSED_FROM 至 $CLOSED_TO）" "$p"
check_match "115-1 says when its window opens" "上傳期間尚未開始：將於 $NEXT_FROM 開放" "$p"
check_match "a diverse performance goes to the open term" '多元表現會歸入目前開放上傳的 114-1 學期' "$p"
check_match "the progress bar is there, hidden, for items.js" '<div class="upload-progress" hidden>' "$p"
check_match "items.js is loaded from a file" '<script src="/static/items.js"></script>' "$p"
check_nomatch "no inline script or style" '<script>|style=' "$p"
check_match "nothing uploaded yet" 'id="no-items"' "$p"
check_eq "items.js is served" 200 "$(http_status /static/items.js)"

# ------------------------------------------------------------ an upload

pdf "$tmp/exact.pdf" $DOC_MAX
SHA=$(sha "$tmp/exact.pdf")
before=$(tmp_files)
out=$(upload s1 course "$C1" "我的國語文報告" -F "doc=@$tmp/exact.pdf;filename=報告.pdf")
check_eq "a document of exactly 4 MiB is accepted" "303 $BASE/items?done=created" "$out"
ID=$(item_of_sha "$SHA")
check_match "its item exists" '^[A-Za-z0-9_-]{22}$' "$ID"
row=$(app_sql "SELECT i.kind, c.code, i.description, i.cert_state, i.version, t.year, t.semester
    FROM items i JOIN courses c ON c.id = i.course_id JOIN terms t ON t.id = i.term_id WHERE i.public_id = '$ID'")
check_eq "the items row: a course outcome of C1 in 114-1, pending" \
    "$(printf 'course\tC1\t我的國語文報告\tpending\t1\t114\t1')" "$row"
row=$(app_sql "SELECT f.slot, f.version, f.size, f.mime, f.original_name, u.login, f.replaced_at IS NULL,
    TIMESTAMPDIFF(SECOND, f.uploaded_at, UTC_TIMESTAMP(6)) < 600
    FROM item_files f JOIN items i ON i.id = f.item_id JOIN users u ON u.id = f.uploaded_by WHERE i.public_id = '$ID'")
check_eq "the item_files row: hash, size, detected type, name, uploader, time" \
    "$(printf 'doc\t1\t%s\tapplication/pdf\t報告.pdf\t%s\t1\t1' $DOC_MAX "$S1")" "$row"
check_eq "with the SHA-256 of the bytes" "$SHA" \
    "$(app_sql "SELECT f.sha256 FROM item_files f JOIN items i ON i.id = f.item_id WHERE i.public_id = '$ID'")"
# (Its hash job may have verified it already: ok is the only result.)
check_eq "the objects row records it, unverified or verified ok" "$(printf '%s\tapplication/pdf\t1' $DOC_MAX)" \
    "$(app_sql "SELECT size, mime, COALESCE(verify_result, 'ok') = 'ok' FROM objects WHERE sha256 = '$SHA'")"
check_eq "the object is in the primary root with that hash" "$SHA" "$(sha "$(obj "$PRIMARY" "$SHA")")"
check_eq "and in the replica root" "$SHA" "$(sha "$(obj "$REPLICA" "$SHA")")"
check_eq "of that size" $DOC_MAX "$(stat -c %s "$(obj "$REPLICA" "$SHA")")"
jobs=$(app_sql "SELECT type, state IN ('pending', 'running', 'done') FROM jobs WHERE JSON_VALUE(payload, '\$.sha256') = '$SHA' ORDER BY type")
check_eq "a hash and a scan job were committed with it (pending, or taken by a worker already)" "$(printf 'hash\t1\nscan\t1')" "$jobs"
JOB=$(app_sql "SELECT id FROM jobs WHERE JSON_VALUE(payload, '\$.sha256') = '$SHA' AND type = 'hash'")
# A worker may have taken (and deleted) the entry already: published means
# published_at recorded, or a delivery started. (Both are published
# together, in one Redis round trip and one UPDATE.)
check_eq "the hash and the scan job were published to their streams" "$(printf 'hash\t1\nscan\t1')" \
    "$(app_sql "SELECT type, published_at IS NOT NULL OR attempts > 0 FROM jobs
        WHERE JSON_VALUE(payload, '\$.sha256') = '$SHA' ORDER BY type")"
check_eq "no temporary file is left" "$before" "$(tmp_files)"
check_match "the upload was audited" "^item:$ID	success	.*\"sha256\":\"$SHA\"" "$(last_audit item.create "$S1")"
p=$(page s1 "/items?done=created")
check_match "the page says it was uploaded" '<p class="notice" role="status">已上傳' "$p"
check_match "it lists the item under 114-1, as a course outcome" '<h3 id="term-114-1">學期 114-1</h3>' "$p"
# 檢查中 until the workers have run both jobs (a small file's take well
# under a second), then 待認證.
check_match "with its state: checking (or pending, once both jobs ran)" \
    "href=\"/items/$ID\">C1 國語文</a> <span class=\"state state-(checking\">檢查中|pending\">待認證)</span>" "$p"
check_match "its file with type and size" '<bdi>報告\.pdf</bdi></a> <span class="file-meta">文件 · PDF · 4 MiB</span>' "$p"
check_match "linked for download by its public id" "<a href=\"/files/$(app_sql "SELECT f.public_id FROM item_files f JOIN items i ON i.id = f.item_id WHERE i.public_id = '$ID'")\">" "$p"
check_match "its description" '<p class="item-description">我的國語文報告</p>' "$p"

# ------------------------------------------------------------ refusals

n0=$(items_of "${RUNID}1")
pdf "$tmp/big.pdf" $((DOC_MAX + 1))
out=$(upload s1 course "$C1" "太大的檔案" -F "doc=@$tmp/big.pdf")
check_eq "4 MiB + 1 byte is refused" "413 " "$out"
check_match "saying the document is too big, and the limit" '文件檔超過大小上限 4 MiB，沒有儲存。' "$(body)"
check_match "on the form again" 'id="upload-form"' "$(body)"
check_match "with the description typed kept" 'value="太大的檔案"' "$(body)"
check_eq "no object of it" 0 "$(app_sql "SELECT COUNT(*) FROM objects WHERE sha256 = '$(sha "$tmp/big.pdf")'")"
check_eq "no temporary file is left" "$before" "$(tmp_files)"

printf 'GIF89a\x01\x00\x01\x00\x80\x00\x00' >"$tmp/a.gif"
out=$(upload s1 course "$C1" "動圖" -F "doc=@$tmp/a.gif;type=application/pdf")
check_eq "a GIF (sent as application/pdf) is refused" "422 " "$out"
check_match "saying what the document may be" '文件檔只接受 PDF, JPEG, PNG（依檔案內容判斷）' "$(body)"
png "$tmp/real.png" 3000
out=$(upload s1 course "$C1" "改名的圖片" -F "doc=@$tmp/real.png;filename=report.pdf;type=application/pdf")
check_eq "a PNG renamed .pdf is refused" "422 " "$out"
check_match "saying the name and the content disagree" '檔名的副檔名表示 PDF 檔，但檔案內容是 PNG，兩者不符' "$(body)"
out=$(upload s1 course "$C1" "沒有副檔名" -F "doc=@$tmp/real.png;filename=scan" -F "video=@$tmp/real.png;filename=b.mp4")
check_eq "a PNG as the video is refused" "422 " "$out"
check_match "saying what the video may be" '影音檔只接受 MP4, MP3' "$(body)"

pdf "$tmp/small.pdf" 2000
out=$(upload s1 course "$C2" "上學期的報告" -F "doc=@$tmp/small.pdf")
check_eq "an upload for a closed term (113-2) is refused" "422 " "$out"
check_match "saying when its window closed" "113-2 學期目前不在上傳期間內，不能上傳或修改。 上傳期間已於 $CLOSED_TO 結束" "$(body)"
out=$(upload s1 course "$C3" "下學期的報告" -F "doc=@$tmp/small.pdf")
check_eq "an upload for a term not open yet (115-1) is refused" "422 " "$out"
check_match "saying when it opens" "將於 $NEXT_FROM 開放（至 $NEXT_TO）" "$(body)"

d101=$(printf '字%.0s' $(seq 1 101))
out=$(upload s1 course "$C1" "$d101" -F "doc=@$tmp/small.pdf")
check_eq "a description of 101 characters is refused" "422 " "$out"
check_match "saying how long it may be and is" '<p class="alert" role="alert">內容簡述最多 100 個字，你輸入了 101 個字。' "$(body)"
check_match "next to the field too" '<p class="field-error" id="description-error">內容簡述最多 100 個字' "$(body)"
out=$(upload s1 course "$C4" "別人的課" -F "doc=@$tmp/small.pdf")
check_eq "a course s1 does not take is refused" "422 " "$out"
check_match "saying so" '這不是你修習的課程，不能為它上傳。' "$(body)"
out=$(upload s1 course "$CB" "別校的課" -F "doc=@$tmp/small.pdf")
check_eq "another school's course too" "422 " "$out"
: >"$tmp/empty"
out=$(upload s1 course "$C1" "沒有檔案" -F "doc=@$tmp/empty;filename=")
check_eq "an upload without a file (an empty file input) is refused" "422 " "$out"
check_match "saying a file is needed" '請至少選擇一個文件檔或影音檔。' "$(body)"
out=$(upload s1 diverse "nothing.such" "不存在的項目" -F "doc=@$tmp/small.pdf")
check_eq "an unknown category is refused" "422 " "$out"
out=$(req s1 -o "$tmp/page" -w '%{http_code}' -F "kind=course" -F "course=$C1" \
    -F "description=沒有權杖" -F "doc=@$tmp/small.pdf" "$BASE/items")
check_eq "an upload without its CSRF token first is refused" 403 "$out"
out=$(req s1 -o "$tmp/page" -w '%{http_code}' -F "csrf=$(new_public_id)xxxxxxxxxxxxxxxxxxxxx" -F "kind=course" \
    -F "course=$C1" -F "description=假權杖" -F "doc=@$tmp/small.pdf" "$BASE/items")
check_eq "and with a wrong one" 403 "$out"
check_eq "none of them made an item" "$n0" "$(items_of "${RUNID}1")"
check_eq "none of them recorded an object" 0 "$(app_sql "SELECT COUNT(*) FROM objects WHERE sha256 = '$(sha "$tmp/small.pdf")'")"
check_eq "none left a temporary file" "$before" "$(tmp_files)"

# In English.
req s1 -o /dev/null "$BASE/lang/en"
out=$(upload s1 course "$C1" "too big" -F "doc=@$tmp/big.pdf")
check_match "the refusal is in English for an English reader" \
    'The document is larger than the limit of 4 MiB; it was not stored\.' "$(body)"
out=$(upload s1 course "$C1" "renamed" -F "doc=@$tmp/real.png;filename=report.PDF")
check_match "the mismatch too" "The file name&#39;s extension says PDF, but the file&#39;s content is PNG" "$(body)"
req s1 -o /dev/null "$BASE/lang/zh-TW"

# ------------------------------------------------------------ accepted

d100=$(printf '字%.0s' $(seq 1 100))
png "$tmp/photo.png" 5000
out=$(upload s1 diverse ability.volunteer "$d100" -F "doc=@$tmp/photo.png;filename=志工.PNG")
check_eq "100 CJK characters and a PNG: a diverse performance is accepted" "303 $BASE/items?done=created" "$out"
DIV=$(item_of_sha "$(sha "$tmp/photo.png")")
check_eq "in the open term, in its category, needing no certification" \
    "$(printf 'diverse\tability.volunteer\tnone\t114\t100')" \
    "$(app_sql "SELECT i.kind, i.category, i.cert_state, t.year, CHAR_LENGTH(i.description) FROM items i JOIN terms t ON t.id = i.term_id WHERE i.public_id = '$DIV'")"
p=$(page s1 /items)
check_match "listed with its category" "href=\"/items/$DIV\">多元能力・志工服務</a>" "$p"

# Two identical uploads at the same time: one object, two items.
pdf "$tmp/same.pdf" 300000
SAME=$(sha "$tmp/same.pdf")
OUT=c1 upload s1 course "$C1" "同時上傳一" -F "doc=@$tmp/same.pdf" >"$tmp/o1" &
OUT=c2 upload s1 course "$C1" "同時上傳二" -F "doc=@$tmp/same.pdf" >"$tmp/o2" &
wait
check_eq "the first concurrent upload is accepted" "303 $BASE/items?done=created" "$(cat "$tmp/o1")"
check_eq "the second too" "303 $BASE/items?done=created" "$(cat "$tmp/o2")"
check_eq "one object" 1 "$(app_sql "SELECT COUNT(*) FROM objects WHERE sha256 = '$SAME'")"
check_eq "two items use it" 2 "$(app_sql "SELECT COUNT(DISTINCT item_id) FROM item_files WHERE sha256 = '$SAME'")"
check_eq "the object is whole in the replica" "$SAME" "$(sha "$(obj "$REPLICA" "$SAME")")"
check_eq "and no temporary file is left" "$before" "$(tmp_files)"

# A file name that is data, not a path: ../, NUL (through filename*), a
# right-to-left override, markup, and 320 characters in all.
B="----licheng$RANDOM$RANDOM"
long=$(printf 'a%.0s' $(seq 1 300))
pdf "$tmp/weird.pdf" 1500
{
	printf -- '--%s\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n%s\r\n' "$B" "$(csrf s1 /items)"
	printf -- '--%s\r\nContent-Disposition: form-data; name="kind"\r\n\r\ncourse\r\n' "$B"
	printf -- '--%s\r\nContent-Disposition: form-data; name="course"\r\n\r\n%s\r\n' "$B" "$C1"
	printf -- '--%s\r\nContent-Disposition: form-data; name="description"\r\n\r\n奇怪的檔名\r\n' "$B"
	printf -- '--%s\r\nContent-Disposition: form-data; name="doc"; filename="x.pdf"; ' "$B"
	printf -- "filename*=UTF-8''..%%2F%%00%%E2%%80%%AE%%3Cimg%%20src%%3Dx%%3E%s.pdf\r\n" "$long"
	printf -- 'Content-Type: application/pdf\r\n\r\n'
	cat "$tmp/weird.pdf"
	printf -- '\r\n--%s--\r\n' "$B"
} >"$tmp/weird.body"
out=$(req s1 -o "$tmp/page" -w '%{http_code} %{redirect_url}' \
    -H "Content-Type: multipart/form-data; boundary=$B" --data-binary "@$tmp/weird.body" "$BASE/items")
check_eq "a file named ../, NUL, RLO, markup and 300 more characters is accepted" "303 $BASE/items?done=created" "$out"
WEIRD=$(item_of_sha "$(sha "$tmp/weird.pdf")")
name_of() { app_sql "SELECT $1 FROM item_files f JOIN items i ON i.id = f.item_id WHERE i.public_id = '$WEIRD'"; }
check_eq "its name is cut to 255 characters, keeping .pdf" "$(printf '255\t.pdf')" \
    "$(name_of "CHAR_LENGTH(f.original_name), RIGHT(f.original_name, 4)")"
check_eq "and kept as data: ../, U+FFFD for the NUL, the RLO, the markup" \
    "2E2E2FEFBFBDE280AE3C696D67207372633D783E61" "$(name_of "LEFT(HEX(f.original_name), 42)")"
check "nothing was written outside the objects" test ! -e "$PRIMARY/objects/../x.pdf"
p=$(page s1 /items)
check_match "the page shows it escaped and isolated" '<bdi>\.\./��&lt;img src&#61;x&gt;aaaa' "$p"
check_nomatch "never as markup" '<img src' "$p"
check "and never with the override itself" test "$(printf '%s' "$p" | grep -c $'\xe2\x80\xae')" = 0

# ------------------------------------------------------------ not theirs

check_eq "another student's item is 404" 404 "$(status s2 "/items/$ID")"
check_match "audited as a denied access" 'denied.*"reason":"not_owner"' "$(last_audit access.denied "$S2")"
check_eq "another school's student gets 404 too" 404 "$(status s3 "/items/$ID")"
check_eq "a random id is 404" 404 "$(status s1 "/items/$(new_public_id)")"
TOKEN2=$(csrf s2 /items)
out=$(req s2 -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$TOKEN2" "$BASE/items/$ID/delete")
check_eq "another student cannot delete it (404)" 404 "$out"
out=$(req s2 -o /dev/null -w '%{http_code}' -F "csrf=$TOKEN2" -F "description=偷改" "$BASE/items/$ID")
check_eq "nor change it (404)" 404 "$out"
check_eq "it is unchanged" "$(printf '1\t我的國語文報告')" "$(app_sql "SELECT version, description FROM items WHERE public_id = '$ID'")"
check_nomatch "s2's page does not list it" "$ID" "$(page s2 /items)"

# ------------------------------------------------------------ the item page

p=$(page s1 "/items/$ID")
check_match "the item page shows the item" '<h1 id="item-title">C1 國語文</h1>' "$p"
check_match "with its state" '<span class="state state-(checking" id="item-state">檢查中|pending" id="item-state">待認證)</span>' "$p"
check_match "and the recorded SHA-256" "<code class=\"sha256\">$SHA</code>" "$p"
check_match "and the change form, description filled in" 'name="description" value="我的國語文報告"' "$p"
check_match "and the delete form" "action=\"/items/$ID/delete\"" "$p"
check_nomatch "asking no confirmation while not certified" 'name="confirm"' "$p"
check_match "the view was audited" "^item:$ID	success" "$(last_audit item.view "$S1")"

pdf "$tmp/v2.pdf" 10000
V2=$(sha "$tmp/v2.pdf")
out=$(change s1 "$ID" --form-string "description=我的國語文報告" -F "doc=@$tmp/v2.pdf;filename=報告第二版.pdf")
check_eq "the document is replaced" "303 $BASE/items/$ID?done=changed" "$out"
rows=$(app_sql "SELECT f.version, f.sha256, f.replaced_at IS NULL FROM item_files f JOIN items i ON i.id = f.item_id WHERE i.public_id = '$ID' ORDER BY f.version")
check_eq "the old row is marked replaced and the new one is version 2" \
    "$(printf '1\t%s\t0\n2\t%s\t1' "$SHA" "$V2")" "$rows"
check_eq "the item is at version 2" 2 "$(app_sql "SELECT version FROM items WHERE public_id = '$ID'")"
check_eq "the new file has its hash and scan jobs" 2 \
    "$(app_sql "SELECT COUNT(*) FROM jobs WHERE JSON_VALUE(payload, '\$.sha256') = '$V2' AND type IN ('hash', 'scan')")"
check_eq "the old object stays" 1 "$(app_sql "SELECT COUNT(*) FROM objects WHERE sha256 = '$SHA'")"
p=$(page s1 "/items/$ID?done=changed")
check_match "the page lists both versions with their hashes" "$SHA.*" "$(printf '%s' "$p" | tr -d '\n')"
check_match "the new one too" "<code class=\"sha256\">$V2</code>" "$p"
check_match "the old one marked replaced" '<tr class="replaced">' "$p"
out=$(change s1 "$ID" --form-string "description=修改後的簡述")
check_eq "the description alone is changed" "303 $BASE/items/$ID?done=changed" "$out"
check_eq "version 3, files untouched" "$(printf '3\t修改後的簡述\t2')" \
    "$(app_sql "SELECT i.version, i.description, (SELECT COUNT(*) FROM item_files f WHERE f.item_id = i.id) FROM items i WHERE i.public_id = '$ID'")"
out=$(change s1 "$ID" --form-string "description=修改後的簡述")
check_eq "a change that changes nothing is refused" "422 " "$out"
check_match "saying so" '沒有要修改的內容' "$(body)"
check_match "changes were audited" "^item:$ID	success	.*\"description\":true" "$(last_audit item.change "$S1")"

# ------------------------------------------------------------ certified

check "the teacher certifies it (set directly)" app_sql "UPDATE items SET cert_state = 'certified',
    cert_at = UTC_TIMESTAMP(6), cert_by = (SELECT id FROM users WHERE login = '$S2') WHERE public_id = '$ID'"
p=$(page s1 "/items/$ID")
check_match "the page says before anything is sent that a change removes the certification" \
    '<p class="alert" id="cert-warning">這項成果已經通過認證。修改或刪除會取消認證' "$p"
check_match "and asks for the confirmation" 'name="confirm" value="1" required> 我了解修改會取消' "$p"
pdf "$tmp/v3.pdf" 12000
out=$(change s1 "$ID" --form-string "description=修改後的簡述" -F "doc=@$tmp/v3.pdf")
check_eq "a change without the confirmation is refused" "422 " "$out"
check_match "saying to confirm" '這項成果已通過認證；要修改或刪除，請勾選確認方塊' "$(body)"
check_eq "it stays certified at version 3" "$(printf 'certified\t3')" \
    "$(app_sql "SELECT cert_state, version FROM items WHERE public_id = '$ID'")"
check_eq "no object or row for the refused file" 0 "$(app_sql "SELECT COUNT(*) FROM objects WHERE sha256 = '$(sha "$tmp/v3.pdf")'")"
check_eq "no temporary file is left" "$before" "$(tmp_files)"
out=$(change s1 "$ID" --form-string "description=修改後的簡述" -F "confirm=1" -F "doc=@$tmp/v3.pdf")
check_eq "with the confirmation the file is replaced" "303 $BASE/items/$ID?done=changed" "$out"
check_eq "the certification is dropped back to pending" "$(printf 'pending\t1\t1\t1\t4')" \
    "$(app_sql "SELECT cert_state, cert_at IS NULL, cert_by IS NULL, cert_reason IS NULL, version FROM items WHERE public_id = '$ID'")"
check_match "audited as item.certification_removed" "^item:$ID	success	.*\"was\":\"certified\"" \
    "$(last_audit item.certification_removed "$S1")"
check_eq "every change was audited" \
    "$(audit_sql "SELECT COUNT(*) FROM audit_log WHERE actor = '$S1' AND event = 'item.change' AND target = 'item:$ID'")" 3

# ------------------------------------------------------------ submitted

check "the item is submitted (set directly)" app_sql "UPDATE items SET submitted_at = UTC_TIMESTAMP(6) WHERE public_id = '$ID'"
p=$(page s1 "/items/$ID")
check_match "the page says it is submitted" 'id="item-submitted"' "$p"
check_nomatch "and offers no change" 'id="change-form"' "$p"
out=$(change s1 "$ID" --form-string "description=提交後修改" -F "confirm=1")
check_eq "a change of a submitted item is refused" "409 " "$out"
check_match "saying so" '這項成果已提交，不能再修改或刪除。' "$(body)"
out=$(delete s1 "$ID" confirm=1)
check_eq "and its deletion" "409 " "$out"
check_eq "it is unchanged" "$(printf '4\t修改後的簡述\t0')" \
    "$(app_sql "SELECT version, description, deleted_at IS NOT NULL FROM items WHERE public_id = '$ID'")"

# ------------------------------------------------------------ closed term

check "an item is moved to the closed term (set directly)" app_sql "UPDATE items SET term_id = (SELECT id FROM terms WHERE public_id = '$T2') WHERE public_id = '$DIV'"
out=$(change s1 "$DIV" --form-string "description=期限後修改")
check_eq "outside the window an item cannot change" "422 " "$out"
check_match "saying when the window closed" "上傳期間已於 $CLOSED_TO 結束" "$(body)"
out=$(delete s1 "$DIV")
check_eq "nor be deleted" "422 " "$out"
check "it goes back (set directly)" app_sql "UPDATE items SET term_id = (SELECT id FROM terms WHERE public_id = '$T1') WHERE public_id = '$DIV'"

# ------------------------------------------------------------ delete

out=$(delete s1 "$DIV")
check_eq "an item is deleted" "303 $BASE/items?done=deleted" "$out"
check_eq "softly: deleted_at set, its file row kept" "$(printf '1\t1')" \
    "$(app_sql "SELECT i.deleted_at IS NOT NULL, COUNT(f.id) FROM items i JOIN item_files f ON f.item_id = i.id WHERE i.public_id = '$DIV' GROUP BY i.id")"
check_eq "its object is kept in both roots" "$(sha "$tmp/photo.png")" "$(sha "$(obj "$REPLICA" "$(sha "$tmp/photo.png")")")"
check_match "audited" "^item:$DIV	success" "$(last_audit item.delete "$S1")"
check_eq "a deleted item is 404" 404 "$(status s1 "/items/$DIV")"
p=$(page s1 "/items?done=deleted")
check_match "the page says it was deleted" '已刪除這項成果' "$p"
check_nomatch "and no longer lists it" "/items/$DIV\"" "$p"
SAMEID=$(item_of_sha "$SAME")
out=$(delete s1 "$SAMEID")
check_eq "one of the two items sharing an object is deleted" "303 $BASE/items?done=deleted" "$out"
check_eq "the object the other uses stays" "$SAME" "$(sha "$(obj "$PRIMARY" "$SAME")")"
