# admin_helpers.bash: sourced (after lib.sh) by the scenarios that sign in
# as school admins, central staff and auditors through the pages with curl:
# accounts made with `licheng user add`, activated, privacy accepted and
# TOTP enrolled, one cookie jar per account. The scenario sets RUNID first.

L() { "$LICHENG_BIN/licheng" -c "$LICHENG_CONF" "$@"; }
tmp=$(mktemp -d)
KV_PREFIX=$(conf_get prefix "$LICHENG_CONF")
PW='Tz8#qLv-Wm5n!Rk'

# b32_hex BASE32: the bytes of an RFC 4648 base32 text, as hex.
b32_hex() {
	local s=${1^^} a=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 bits="" c v i b
	s=${s//=/}
	s=${s// /}
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		v=${a%%"$c"*}
		v=${#v}
		for ((b = 4; b >= 0; b--)); do bits+=$(((v >> b) & 1)); done
	done
	for ((i = 0; i + 8 <= ${#bits}; i += 8)); do printf '%02x' "$((2#${bits:i:8}))"; done
}

# totp_at BASE32 STEP: the RFC 6238 code (HMAC-SHA1, 6 digits) of a step.
totp_at() {
	local key mac off
	key=$(b32_hex "$1")
	mac=$(printf "$(printf '%016x' "$2" | sed 's/../\\x&/g')" |
		openssl dgst -sha1 -mac HMAC -macopt "hexkey:$key" | sed 's/^.*= *//')
	off=$((16#${mac:39:1}))
	printf '%06d\n' $(((16#${mac:off * 2:8} & 0x7fffffff) % 1000000))
}

# totp_next NAME: a code of NAME's secret for a step the server has not
# seen yet (it refuses a step at or before the last one used), waiting for
# the next step when the window ahead is used up.
totp_next() {
	local name=$1 last now step
	last=$(cat "$tmp/$name.step" 2>/dev/null || echo 0)
	now=$(($(date +%s) / 30))
	step=$now
	[ "$step" -gt "$last" ] || step=$((now + 1))
	if [ "$step" -le "$last" ]; then
		sleep $((30 - $(date +%s) % 30 + 1))
		step=$(($(date +%s) / 30))
	fi
	echo "$step" >"$tmp/$name.step"
	totp_at "$(cat "$tmp/$name.secret")" "$step"
}

# req NAME curl-args...: a request with NAME's cookie jar.
req() {
	local name=$1
	shift
	curl -s --cacert "$CACERT" -c "$tmp/$name.jar" -b "$tmp/$name.jar" "$@"
}
# st NAME curl-args...: "STATUS LOCATION" of a request.
st() {
	local name=$1
	shift
	req "$name" -o /dev/null -w '%{http_code} %{redirect_url}' "$@"
}
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1; }
csrf() { req "$1" "$BASE${2:-/}" | csrf_of; }
login_of() { printf '%s-%s' "$RUNID" "$1"; }

# Every account here is activated from 127.0.0.1, and more than
# detect.password_changes of them would block the address: the test
# forgets its own address's counters (never anything else).
guard_forget_local() {
	local k
	for k in g:a:password:127.0.0.1 g:a:signin:127.0.0.1 g:b:127.0.0.1 \
	    g:n:password:127.0.0.1 g:n:signin:127.0.0.1; do
		redis-cli -s "$REDIS_SOCK" DEL "$KV_PREFIX$k" >/dev/null
	done
}

# password_signin NAME: a fresh session signed in with the password;
# prints "STATUS LOCATION".
password_signin() {
	local name=$1 token
	rm -f "$tmp/$name.jar"
	token=$(csrf "$name" /login)
	st "$name" --data-urlencode "login=$(login_of "$name")" \
	    --data-urlencode "password=$PW" --data-urlencode "csrf=$token" "$BASE/login"
}

# signin NAME: password and, for an enrolled account, the TOTP step. 0 when
# the session is full.
signin() {
	local name=$1 out token
	out=$(password_signin "$name")
	if [[ $out == *"/login/totp" ]]; then
		token=$(csrf "$name" /login/totp)
		out=$(st "$name" --data-urlencode "totp=$(totp_next "$name")" \
		    --data-urlencode "csrf=$token" "$BASE/login/totp")
	fi
	[[ $out == "303 $BASE/" ]]
}

# signin_as NAME ROLE [SCHOOL]: issues the account NAME, activates it,
# signs in, accepts the privacy notice and, for the roles that need one,
# enrols a TOTP authenticator (its secret in $tmp/NAME.secret).
signin_as() {
	local name=$1 role=$2 school=${3:-} login out code token page version secret
	login=$(login_of "$name")
	if [ -n "$school" ]; then
		out=$(L user add --school "$school" --role "$role" --login "$login" --name "測試$name" 2>&1)
	else
		out=$(L user add --role "$role" --login "$login" --name "測試$name" 2>&1)
	fi
	code=$(printf '%s\n' "$out" | sed -n 's/^activation code: \([0-9A-Z-]*\) .*/\1/p')
	[ -n "$code" ] || { echo "user add $login: $out" >&2; return 1; }
	guard_forget_local
	rm -f "$tmp/$name.jar"
	token=$(csrf "$name" /activate)
	out=$(st "$name" --data-urlencode "login=$login" --data-urlencode "code=$code" \
	    --data-urlencode "new_password=$PW" --data-urlencode "csrf=$token" "$BASE/activate")
	[[ $out == *"/login?done=activated" ]] || { echo "activate $login: $out" >&2; return 1; }
	out=$(password_signin "$name")
	[[ $out == "303 $BASE/" ]] || { echo "sign in $login: $out" >&2; return 1; }
	page=$(req "$name" "$BASE/privacy")
	version=$(printf '%s' "$page" | sed -n 's/.*name="version" value="\([^"]*\)".*/\1/p' | head -n 1)
	token=$(printf '%s' "$page" | csrf_of)
	out=$(st "$name" -d accept=1 --data-urlencode "version=$version" \
	    --data-urlencode "csrf=$token" "$BASE/privacy")
	[[ $out == "303 "* ]] || { echo "privacy $login: $out" >&2; return 1; }
	case $role in school_admin | central_staff | auditor) ;; *) return 0 ;; esac
	page=$(req "$name" "$BASE/mfa/setup")
	secret=$(printf '%s' "$page" | sed -n 's/.*id="totp-secret"[^>]*>\([A-Za-z2-7 =]*\)<.*/\1/p' | head -n 1)
	[ -n "$secret" ] || { echo "no TOTP secret for $login" >&2; return 1; }
	printf '%s' "$secret" >"$tmp/$name.secret"
	token=$(printf '%s' "$page" | csrf_of)
	out=$(st "$name" --data-urlencode "totp=$(totp_next "$name")" \
	    --data-urlencode "csrf=$token" "$BASE/mfa/setup")
	[[ $out == "200 "* ]] || { echo "TOTP enrolment $login: $out" >&2; return 1; }
	[ "$(st "$name" "$BASE/")" = "200 " ]
}

finish() {
	local rc=$?
	guard_forget_local
	rm -rf "$tmp"
	(exit "$rc")
	lib_finish
}
trap finish EXIT

# The database and audit readers every admin scenario uses.
app_sql() { sql_as app "$1"; }
audit_sql() { sql_as audit "$1"; }
# last_audit EVENT ACTOR: "target<TAB>outcome<TAB>detail" of ACTOR's last
# row of EVENT.
last_audit() {
	audit_sql "SELECT COALESCE(target, ''), outcome, COALESCE(detail, '') FROM audit_log
	    WHERE event = '$1' AND actor = '$2' ORDER BY id DESC LIMIT 1"
}
# n_audit EVENT ACTOR: how many rows of EVENT ACTOR has (lib.sh's
# audit_count takes a WHERE clause).
n_audit() { audit_count "event = '$1' AND actor = '$2'"; }
# new_public_id: a random public id of the shape the pages use (one that
# names nothing).
new_public_id() { openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n'; }
