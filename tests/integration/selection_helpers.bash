# selection_helpers.bash: sourced (after lib.sh and admin_helpers.bash) by
# selection.sh and notices.sh — a school with terms of the current school
# year, students and teachers, uploads through POST /items as a browser
# sends them, waiting for the workers to verify and scan them, and the
# tick form of /items.

PRIMARY=$(conf_get primary "$LICHENG_CONF")
root_sql() { sql_as root "USE licheng; $1"; }

# page NAME PATH: the body of a GET with NAME's session; status NAME PATH:
# its status.
page() { req "$1" "$BASE$2"; }
status() { req "$1" -o /dev/null -w '%{http_code}' "$BASE$2"; }
body() { cat "$tmp/page"; }
# pdf FILE SIZE: a PDF of SIZE random bytes (a new object each time).
pdf() { { printf '%%PDF-1.7\n'; head -c $(($2 - 9)) /dev/urandom; } >"$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
day() { date -u -d "$1 days" +%F; }
# The school year (ROC) of today in Taiwan: 114 from 2025-08 to 2026-07.
school_year() {
	local y m
	y=$(TZ=Asia/Taipei date +%Y)
	m=$(TZ=Asia/Taipei date +%m)
	if [ "${m#0}" -ge 8 ]; then echo $((y - 1911)); else echo $((y - 1912)); fi
}
CY=$(school_year)

# student_row LOGIN NUMBER NAME [CLASS_PUBLIC_ID SEAT]: the SQL of a
# students row for the account LOGIN.
student_row() {
	local class="NULL" seat="NULL"
	if [ -n "${4:-}" ]; then
		class="(SELECT id FROM classes WHERE public_id = '$4')"
		seat=$5
	fi
	printf "INSERT INTO students (public_id, school_id, user_id, student_no, name, id_kind, national_id_hmac, national_id_sealed, birth_date, class_id, seat_no) SELECT '%s', school_id, id, '%s', '%s', 'national', '%s', UNHEX('%s'), '2009-01-01', %s, %s FROM users WHERE login = '%s';\n" \
	    "$(new_public_id)" "$2" "$3" "$(openssl rand -hex 32)" "$(openssl rand -hex 40)" "$class" "$seat" "$1"
}
# enrols NUMBER COURSE_PUBLIC_ID: the SQL of an enrolment.
enrols() {
	printf "INSERT INTO enrolments (public_id, school_id, student_id, course_id) SELECT '%s', s.school_id, s.id, c.id FROM students s JOIN courses c ON c.school_id = s.school_id WHERE s.student_no = '%s' AND c.public_id = '%s';\n" \
	    "$(new_public_id)" "$1" "$2"
}
# term_row SCHOOL_CODE PUBLIC_ID YEAR SEMESTER FROM TO; course_row
# SCHOOL_CODE PUBLIC_ID TERM_PUBLIC_ID CODE NAME: their SQL.
term_row() {
	printf "INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on) SELECT '%s', id, %s, %s, '%s', '%s' FROM schools WHERE code = '%s';\n" \
	    "$2" "$3" "$4" "$5" "$6" "$1"
}
course_row() {
	printf "INSERT INTO courses (public_id, school_id, term_id, code, name, credits) SELECT '%s', school_id, id, '%s', '%s', 2 FROM terms WHERE public_id = '%s';\n" \
	    "$2" "$4" "$5" "$3"
}

# upload NAME KIND COURSE|CATEGORY DESCRIPTION FILE: posts the upload form
# as a browser does (the CSRF token first); prints "STATUS LOCATION".
upload() {
	local name=$1 kind=$2 target=$3 desc=$4 file=$5 token sel
	token=$(csrf "$name" /items)
	if [ "$kind" = course ]; then sel=(-F "course=$target"); else sel=(-F "category=$target"); fi
	req "$name" -o "$tmp/page" -w '%{http_code} %{redirect_url}' \
	    -F "csrf=$token" -F "kind=$kind" "${sel[@]}" --form-string "description=$desc" \
	    -F "doc=@$file;filename=$(basename "$file")" "$BASE/items"
}
# new_item NAME KIND COURSE|CATEGORY DESCRIPTION: uploads a new small PDF
# and prints the item's public id (empty on failure). It runs in a
# command substitution, so it can keep nothing in variables: all_clean
# is given the ids.
new_item() {
	local f out s
	f=$(mktemp "$tmp/upload.XXXXXX")
	mv "$f" "$f.pdf"
	f=$f.pdf
	pdf "$f" 2000
	out=$(upload "$1" "$2" "$3" "$4" "$f")
	[ "$out" = "303 $BASE/items?done=created" ] || { echo "upload: $out" >&2; return 1; }
	s=$(sha "$f")
	app_sql "SELECT i.public_id FROM items i JOIN item_files f ON f.item_id = i.id WHERE f.sha256 = '$s'"
}
sha_of() { app_sql "SELECT f.sha256 FROM item_files f JOIN items i ON i.id = f.item_id WHERE i.public_id = '$1' AND f.replaced_at IS NULL"; }
# all_clean ID...: every current file of the items ID (at least one
# each) verified (ok) and scanned clean.
all_clean() {
	local id list=""
	[ $# -gt 0 ] || return 1
	for id in "$@"; do
		[[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || return 1
		list+="${list:+,}'$id'"
	done
	[ "$(app_sql "SELECT COUNT(DISTINCT i.id) = $# AND SUM(o.verify_result <=> 'ok' AND o.scan_result <=> 'clean') = COUNT(*) FROM items i JOIN item_files f ON f.item_id = i.id AND f.replaced_at IS NULL JOIN objects o ON o.sha256 = f.sha256 WHERE i.public_id IN ($list)")" = 1 ]
}
# teacher_row LOGIN: the SQL of a teachers row for the account LOGIN;
# teaches LOGIN COURSE_PUBLIC_ID: of a course_teachers row.
teacher_row() {
	printf "INSERT INTO teachers (public_id, school_id, user_id) SELECT '%s', school_id, id FROM users WHERE login = '%s';\n" \
	    "$(new_public_id)" "$1"
}
teaches() {
	printf "INSERT INTO course_teachers (course_id, teacher_id) SELECT c.id, t.id FROM courses c JOIN teachers t ON t.school_id = c.school_id JOIN users u ON u.id = t.user_id WHERE c.public_id = '%s' AND u.login = '%s';\n" \
	    "$2" "$1"
}

# decide NAME ID DECISION [REASON]: the teacher NAME's decision on item ID
# on its page /certify/ID; prints "STATUS LOCATION".
decide() {
	local name=$1 id=$2 token a
	token=$(csrf "$name" "/certify/$id")
	a=(--data-urlencode "decision=$3")
	[ -n "${4:-}" ] && a+=(--data-urlencode "reason=$4")
	req "$name" -o "$tmp/page" -w '%{http_code} %{redirect_url}' \
	    "${a[@]}" --data-urlencode "csrf=$token" "$BASE/certify/$id"
}

# certify_sql ID / reject_sql ID REASON: a decision written directly, as
# the teacher's page leaves it (with an unread result for the student),
# where many are needed and the page is not what is tested.
certify_sql() {
	root_sql "UPDATE items SET cert_state = 'certified', cert_at = UTC_TIMESTAMP(6), cert_notice = 1 WHERE public_id = '$1'"
}
reject_sql() {
	root_sql "UPDATE items SET cert_state = 'rejected', cert_at = UTC_TIMESTAMP(6), cert_reason = '$2', cert_notice = 1 WHERE public_id = '$1'"
}

# tick NAME ITEM [OP [TOKEN]]: posts the tick form of /items (OP tick by
# default) with NAME's CSRF token; prints "STATUS LOCATION", the answer's
# body in $tmp/page.
tick() {
	local name=$1 item=$2 op=${3:-tick} token=${4:-}
	[ -n "$token" ] || token=$(csrf "$name" /items)
	req "$name" -o "$tmp/page" -w '%{http_code} %{redirect_url}' \
	    --data-urlencode "item=$item" --data-urlencode "op=$op" \
	    --data-urlencode "csrf=$token" "$BASE/items/select"
}
# ticked ID: 1 when the item is ticked.
ticked() { app_sql "SELECT selected_at IS NOT NULL FROM items WHERE public_id = '$1'"; }
# alert_text: the alert of the last answer.
alert_text() { sed -n 's/.*<p class="alert" role="alert">\(.*\)<\/p>.*/\1/p' "$tmp/page" | head -n 1; }
