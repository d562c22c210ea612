# records_helpers.bash: sourced (after lib.sh and admin_helpers.bash) by the
# records scenarios — valid national IDs made up per run, the audit and
# database readers, and the posting of a page's form.


# twid LETTER FIRST: a national ID (FIRST 1 or 2) or a new-style resident
# certificate number (FIRST 8 or 9) with random digits and a valid check
# digit. twid_bad ID: the same with a wrong check digit.
twid() {
	local letters=ABCDEFGHJKLMNPQRSTUVXYWZIO l=$1 v i d sum body
	v=${letters%%"$l"*}
	v=$((${#v} + 10))
	body=$(printf '%s%04d%03d' "$2" $((RANDOM % 10000)) $((RANDOM % 1000)))
	sum=$((v / 10 + (v % 10) * 9))
	for ((i = 0; i < 8; i++)); do
		d=${body:i:1}
		sum=$((sum + d * (8 - i)))
	done
	printf '%s%s%d\n' "$l" "$body" $(((10 - sum % 10) % 10))
}
twid_bad() { printf '%s%d\n' "${1:0:9}" $(((${1:9:1} + 1) % 10)); }

# page_of NAME PATH: GET a page with NAME's jar into $PAGE (and the CSRF
# token of its first form into $TOKEN).
page_of() {
	PAGE=$(req "$1" "$BASE$2")
	TOKEN=$(printf '%s' "$PAGE" | csrf_of)
}
# form NAME PATH FIELD=VALUE...: POSTs a form with $TOKEN; prints
# "STATUS LOCATION" and leaves the body in $tmp/form.body.
form() {
	local name=$1 path=$2 a=()
	shift 2
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	req "$name" -o "$tmp/form.body" -w '%{http_code} %{redirect_url}' \
	    "${a[@]}" --data-urlencode "csrf=$TOKEN" "$BASE$path"
}
form_body() { cat "$tmp/form.body"; }
