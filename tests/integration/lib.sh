# lib.sh: sourced by every integration scenario. It counts checks and prints
# "N passed, N failed" when the scenario exits (non-zero exit on failure).
# tests/run sets LICHENG_RUN, LICHENG_BIN, LICHENG_CONF, HTTPS_PORT, HTTP_PORT.
set -u

PASS=0
FAIL=0
: "${LICHENG_RUN:?tests/run sets LICHENG_RUN}"
: "${LICHENG_BIN:?tests/run sets LICHENG_BIN}"
: "${LICHENG_CONF:=$LICHENG_RUN/conf/licheng.yaml}"
: "${HTTPS_PORT:=8443}"
: "${HTTP_PORT:=8080}"
BASE="https://127.0.0.1:$HTTPS_PORT"
CACERT="$LICHENG_RUN/nginx/tls/cert.pem"
MYSQL_SOCK="$LICHENG_RUN/mysql.sock"
REDIS_SOCK="$LICHENG_RUN/redis/redis.sock"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export LICHENG_RUN LICHENG_BIN LICHENG_CONF BASE CACERT MYSQL_SOCK REDIS_SOCK

# Each line ends with the seconds since the script started, so that a
# slow step shows in the log.
ok() { PASS=$((PASS + 1)); printf 'ok - %s  [%ds]\n' "$*" "$SECONDS"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL - %s  [%ds]\n' "$*" "$SECONDS"; }

# check MSG cmd...: passes when cmd exits 0 (its output is hidden).
check() {
	local msg=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$msg"; else fail "$msg"; fi
}

# check_not MSG cmd...: passes when cmd exits non-zero.
check_not() {
	local msg=$1; shift
	if "$@" >/dev/null 2>&1; then fail "$msg"; else ok "$msg"; fi
}

# check_eq MSG EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}

# check_match MSG REGEX TEXT (extended regex)
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		fail "$1 (no match for /$2/ in: $(printf '%s' "$3" | head -c 300))"; fi
}

check_nomatch() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		fail "$1 (unexpected /$2/ in: $(printf '%s' "$3" | head -c 300))"; else ok "$1"; fi
}

# wait_for SECONDS cmd...: retries cmd until it succeeds or time runs out.
wait_for() {
	local secs=$1; shift
	local end=$((SECONDS + secs))
	while [ "$SECONDS" -lt "$end" ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	"$@" >/dev/null 2>&1
}

curl_k() { curl -s --cacert "$CACERT" "$@"; }

# http_status PATH [curl args...]: prints the status code of a request.
http_status() {
	local path=$1; shift
	curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" "$@" "$BASE$path"
}

# conf_get KEY FILE: the value of a "key: value" line (first match), unquoted.
conf_get() {
	sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" "$2" | head -n 1 | sed 's/^"\(.*\)"$/\1/'
}

SECRETS_FILE="$(conf_get secrets_file "$LICHENG_CONF")"

# sql_as ROLE SQL: runs SQL with the mariadb client as one of the accounts
# (root uses the unix_socket authentication of the stack's root).
sql_as() {
	local role=$1 sql=$2 user pw
	if [ "$role" = root ]; then
		mariadb --socket="$MYSQL_SOCK" -uroot -N -B -e "$sql"
		return
	fi
	user="licheng_$role"
	pw="$(conf_get "${role}_password" "$SECRETS_FILE")"
	MYSQL_PWD="$pw" mariadb --socket="$MYSQL_SOCK" -u"$user" -N -B licheng -e "$sql"
}

pid_of() { cat "$LICHENG_RUN/pid/$1.pid" 2>/dev/null; }

lib_finish() {
	local rc=$?
	if [ "$rc" -ne 0 ] && [ "$FAIL" -eq 0 ] && [ "$PASS" -eq 0 ]; then
		FAIL=1
		printf 'FAIL - %s stopped with status %d before any check\n' "$0" "$rc"
	fi
	printf '%d passed, %d failed\n' "$PASS" "$FAIL"
	[ "$FAIL" -eq 0 ]
}
trap lib_finish EXIT

# ---------------------------------------------------------------- sign-in
# Shared helpers for the auth_* scenarios: a browser-like client with a
# cookie jar, accounts issued with the CLI and activated through the web,
# sign-in, the privacy notice, TOTP (RFC 6238 with openssl) and the Redis
# keys behind sessions, lock-outs and address blocks. bash, curl, openssl
# and coreutils only.

REDIS_PREFIX="$(conf_get prefix "$LICHENG_CONF")"
: "${REDIS_PREFIX:=licheng:}"
# Jars and other scratch files; made by newjar on first use (the name is
# fixed here so that subshells agree on it), removed by auth_finish.
AUTH_TMP="${TMPDIR:-/tmp}/licheng-auth.$$"
AUTH_CLEANUP=()
# The source address of web requests (empty: 127.0.0.1); see from_addr.
WEB_FROM=""

L() { "$LICHENG_BIN/licheng" -c "$LICHENG_CONF" "$@"; }
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

# at_exit CMD...: runs CMD (through eval) when the scenario exits, before the
# counts are printed; auth_finish is the EXIT trap that does it.
at_exit() { AUTH_CLEANUP+=("$*"); }
auth_finish() {
	local rc=$? c
	for c in "${AUTH_CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1; done
	rm -rf "$AUTH_TMP"
	(exit "$rc")
	lib_finish
}
trap auth_finish EXIT

# guard_reset ADDR: forgets the detection counters, the alert flags and the
# block of an address (lib/guard.c's keys). Scenarios call it for every
# address they used, so that the next scenario starts from a clean slate:
# the scenarios run one after another within the detection window, and
# together they activate and sign in far more accounts from 127.0.0.1 than
# detect.password_changes and detect.signin_accounts allow.
guard_reset() {
	local p=$REDIS_PREFIX
	rcli DEL "${p}g:b:$1" "${p}g:a:signin:$1" "${p}g:a:password:$1" \
	    "${p}g:n:signin:$1" "${p}g:n:password:$1" >/dev/null
}
# guard_unlock LOGIN: forgets a login's failures and lock.
guard_unlock() { rcli DEL "${REDIS_PREFIX}g:f:$1" "${REDIS_PREFIX}g:l:$1" >/dev/null; }

# from_addr N: the following web requests come from 127.0.0.N (curl
# --interface). nginx listens on 127.0.0.1, and a connection from another
# loopback address reaches licheng-fcgi with that REMOTE_ADDR, so a
# detector test blocks its own address, never 127.0.0.1. The address's
# counters are reset now and when the scenario exits. from_addr 1 goes
# back to the default. Only 127.0.0.1 is exempt from nginx's request-rate
# limits in the dev stack (10 POSTs a minute, bursts of 5, on /login,
# /activate and /password): web waits for nginx when it answers 429.
from_addr() {
	local a="127.0.0.$1"
	guard_reset "$a"
	at_exit guard_reset "$a"
	if [ "$1" = 1 ]; then WEB_FROM=""; else WEB_FROM=$a; fi
}

# newjar: prints the path of a new, empty cookie jar.
newjar() {
	mkdir -p -m 0700 "$AUTH_TMP"
	mktemp "$AUTH_TMP/jar.XXXXXX"
}

# web JAR PATH [curl args...]: one HTTPS request with the cookie jar JAR
# (read and written), from WEB_FROM when set. Sets STATUS, LOCATION (the
# Location header, without the origin), BODY (the body; also in JAR.body)
# and HDRS (the response headers; also in JAR.hdr). A 429 from nginx's
# rate limiter (its own page, not Licheng's) is waited out and retried for
# up to 30 seconds; WEB_WAITED counts the seconds spent so.
WEB_WAITED=0
web() {
	local jar=$1 path=$2 i
	shift 2
	local args=(-sk -c "$jar" -b "$jar" -D "$jar.hdr" -o "$jar.body"
	    -w '%{http_code}' --max-time 30)
	[ -n "$WEB_FROM" ] && args+=(--interface "$WEB_FROM")
	for i in $(seq 0 30); do
		STATUS=$(curl "${args[@]}" "$@" "$BASE$path")
		if [ "$STATUS" != 429 ] || grep -q 'id="main"' "$jar.body"; then
			break
		fi
		[ "$i" = 0 ] && printf '# waiting for nginx rate limit (%s %s)\n' "${WEB_FROM:-127.0.0.1}" "$path"
		sleep 1
		WEB_WAITED=$((WEB_WAITED + 1))
	done
	HDRS=$(tr -d '\r' <"$jar.hdr")
	LOCATION=$(printf '%s\n' "$HDRS" | sed -n 's/^[Ll]ocation: *//p' | tail -n 1)
	LOCATION=${LOCATION#"$BASE"}
	BODY=$(cat "$jar.body")
}

# csrf_of FILE: the value of the first hidden csrf field in FILE.
csrf_of() {
	sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$1" | head -n 1
}

# post JAR PATH FIELD=VALUE...: a form POST with the CSRF token of the page
# last fetched with JAR (JAR.body) added; curl args may follow "--".
post() {
	local jar=$1 path=$2 csrf
	shift 2
	local args=()
	csrf=$(csrf_of "$jar.body")
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=(--data-urlencode "$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	web "$jar" "$path" "${args[@]}" --data-urlencode "csrf=$csrf" "$@"
}

# new_school: adds a school with a random code and prints the code. The x
# in second place keeps it from ever looking like a national ID or a date.
new_school() {
	local code="tx$RANDOM$RANDOM"
	L school add --code "$code" --name "測試高中 $code" >/dev/null || return 1
	printf '%s\n' "$code"
}

# new_user ROLE [licheng user add args...]: issues an account and prints
# "LOGIN CODE". The login is "${LOGIN_PREFIX:-u}-<random>" unless --login is
# given, the name "測試 <login>" unless --name is; a school role takes
# --school $SCHOOL unless --school is given.
new_user() {
	local role=$1 login="" name="" school="" out a
	shift
	local rest=()
	while [ $# -gt 0 ]; do
		case $1 in
		--login) login=$2; shift 2 ;;
		--name) name=$2; shift 2 ;;
		--school) school=$2; shift 2 ;;
		*) rest+=("$1"); shift ;;
		esac
	done
	[ -n "$login" ] || login="${LOGIN_PREFIX:-u}-$RANDOM$RANDOM"
	[ -n "$name" ] || name="測試 $login"
	case $role in
	student | teacher | school_admin) [ -n "$school" ] || school=${SCHOOL:-} ;;
	*) school="" ;;
	esac
	a=(--role "$role" --login "$login" --name "$name")
	[ -n "$school" ] && a+=(--school "$school")
	out=$(L user add "${a[@]}" "${rest[@]}" 2>&1) || {
		printf 'new_user: %s\n' "$out" >&2
		return 1
	}
	printf '%s %s\n' "$login" "$(printf '%s\n' "$out" | sed -n 's/^activation code: \([0-9A-Z-]*\) .*/\1/p')"
}

# activate JAR LOGIN CODE PASSWORD [curl args...]: GET /activate, then POST
# it. Succeeds on 303 to /login?done=activated.
activate() {
	local jar=$1 login=$2 code=$3 pw=$4
	shift 4
	web "$jar" /activate "$@"
	post "$jar" /activate "login=$login" "code=$code" "new_password=$pw" -- "$@"
	[ "$STATUS" = 303 ] && [ "$LOCATION" = "/login?done=activated" ]
}

# signin JAR LOGIN PASSWORD [curl args...]: GET /login for the CSRF token,
# then POST it. Succeeds on a 303 (to / or to /login/totp).
signin() {
	local jar=$1 login=$2 pw=$3
	shift 3
	web "$jar" /login "$@"
	post "$jar" /login "login=$login" "password=$pw" -- "$@"
	[ "$STATUS" = 303 ]
}

# accept_privacy JAR: accepts the privacy notice in force. Succeeds on a
# 303 to /.
accept_privacy() {
	local jar=$1 version
	web "$jar" /privacy
	version=$(sed -n 's/.*name="version" value="\([^"]*\)".*/\1/p' "$jar.body" | head -n 1)
	post "$jar" /privacy accept=1 "version=$version"
	[ "$STATUS" = 303 ] && [ "$LOCATION" = / ]
}

# new_active ROLE PASSWORD [user add args]: issues, activates, signs in and
# accepts the privacy notice with a new jar; prints "LOGIN JAR". A role
# with a second factor still has to enrol (enrol_totp JAR).
new_active() {
	local role=$1 pw=$2 login code jar
	shift 2
	read -r login code < <(new_user "$role" "$@") || return 1
	jar=$(newjar)
	activate "$jar" "$login" "$code" "$pw" || { echo "new_active: activation of $login: $STATUS" >&2; return 1; }
	signin "$jar" "$login" "$pw" || { echo "new_active: sign-in of $login: $STATUS" >&2; return 1; }
	accept_privacy "$jar" || { echo "new_active: privacy of $login: $STATUS" >&2; return 1; }
	printf '%s %s\n' "$login" "$jar"
}

# b32_hex TEXT: RFC 4648 base32 (no padding needed) to hex.
b32_hex() {
	local s=${1^^} abc=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 acc=0 bits=0 out="" c v i
	s=${s//=/}
	s=${s// /}
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		v=${abc%%"$c"*}
		v=${#v}
		[ "$v" -lt 32 ] || return 1
		acc=$(((acc << 5) | v))
		bits=$((bits + 5))
		if [ "$bits" -ge 8 ]; then
			bits=$((bits - 8))
			out+=$(printf '%02x' $(((acc >> bits) & 255)))
			acc=$((acc & ((1 << bits) - 1)))
		fi
	done
	printf '%s' "$out"
}

# totp_at SECRET STEP: the 6-digit RFC 6238 code (HMAC-SHA1) of a step.
totp_at() {
	local key mac off bin
	key=$(b32_hex "$1") || return 1
	mac=$(printf "$(printf '%016x' "$2" | sed 's/../\\x&/g')" |
	    openssl dgst -sha1 -mac HMAC -macopt "hexkey:$key" -binary |
	    od -An -v -tx1 | tr -d ' \n')
	off=$((0x${mac:39:1}))
	bin=$((0x${mac:off * 2:8} & 0x7fffffff))
	printf '%06d\n' $((bin % 1000000))
}
totp_step() { echo $(($(date +%s) / 30)); }
# totp_now SECRET [OFFSET_STEPS]: the code of the current step (+ offset).
totp_now() { totp_at "$1" $(($(totp_step) + ${2:-0})); }

# enrol_totp JAR: enrols the signed-in user of JAR in TOTP with the code of
# the current step. Sets TOTP_SECRET, TOTP_STEP (the step used) and
# RECOVERY (the ten recovery codes, space-separated). Succeeds on 200.
enrol_totp() {
	local jar=$1
	web "$jar" /mfa/setup
	TOTP_SECRET=$(sed -n 's/.*id="totp-secret"[^>]*>\([^<]*\)<.*/\1/p' "$jar.body" | head -n 1)
	TOTP_STEP=$(totp_step)
	post "$jar" /mfa/setup "totp=$(totp_at "$TOTP_SECRET" "$TOTP_STEP")"
	RECOVERY=$(sed -n '/id="recovery-codes"/,/<\/ol>/s/.*<li><code>\([^<]*\)<\/code>.*/\1/p' "$jar.body" | tr '\n' ' ')
	RECOVERY=${RECOVERY% }
	[ "$STATUS" = 200 ] && [ -n "$RECOVERY" ]
}

# jar_token JAR: the session token in JAR; session_key TOKEN: its Redis key.
jar_token() { awk '$6 == "__Host-licheng" { t = $7 } END { print t }' "$1"; }
session_key() { printf '%ss:%s' "$REDIS_PREFIX" "$(printf '%s' "$1" | sha256sum | cut -c1-64)"; }

# signed_in JAR: 0 when JAR's session reaches /account (200).
signed_in() { web "$1" /account && [ "$STATUS" = 200 ]; }

# audit_rows SQL_WHERE: event, actor, role, school, ip, outcome, detail of the
# matching audit rows, oldest first (read with the audit account).
audit_rows() {
	sql_as audit "SELECT event, actor, role, COALESCE(school, ''), ip, outcome, COALESCE(detail, '') FROM audit_log WHERE $1 ORDER BY id"
}
audit_count() { sql_as audit "SELECT COUNT(*) FROM audit_log WHERE $1"; }

# audit_verified: `licheng audit verify` passes (the chain is whole).
audit_verified() {
	L audit verify 2>&1 | grep -Eq '^audit log verified: [0-9]+ rows, chain intact$'
}

# msg LANG KEY: the text of message KEY (dotted, as templates name it) in
# conf/messages/LANG.yaml. Each catalogue is read once into MSGS.
declare -A MSGS=()
msg_load() {
	local line indent k v path
	local -a stack=()
	while IFS= read -r line; do
		case ${line#"${line%%[! ]*}"} in '' | '#'*) continue ;; esac
		indent=${line%%[! ]*}
		indent=$((${#indent} / 2))
		k=${line#"${line%%[! ]*}"}
		v=${k#*:}
		k=${k%%:*}
		k=${k//\"/}
		stack=("${stack[@]:0:indent}" "$k")
		printf -v path '%s.' "${stack[@]}"
		v=${v# }
		v=${v#\"}
		v=${v%\"}
		MSGS["$1:${path%.}"]=$v
	done <"$REPO/conf/messages/$1.yaml"
	MSGS["$1:"]=loaded
}
msg() {
	[ -n "${MSGS["$1:"]:-}" ] || msg_load "$1"
	[ -n "${MSGS["$1:$2"]:-}" ] || return 1
	printf '%s' "${MSGS["$1:$2"]}"
}

# html_esc: stdin HTML-escaped as the templates escape (lib/util.c buf_html).
html_esc() { sed "s/&/\\&amp;/g; s/</\\&lt;/g; s/>/\\&gt;/g; s/\"/\\&quot;/g; s/'/\\&#39;/g; s/\`/\\&#96;/g; s/=/\\&#61;/g"; }

# says LANG KEY [TEXT]: 0 when TEXT (default $BODY) shows message KEY of
# LANG, escaped as a page shows it; a {n} in the message stands for any
# number.
says() {
	local m part text=${3-$BODY}
	[ -n "${MSGS["$1:"]:-}" ] || msg_load "$1" # here, not in the subshell
	m=$(msg "$1" "$2") || { printf 'says: no message %s in %s\n' "$2" "$1" >&2; return 2; }
	m=$(printf '%s' "$m" | html_esc)
	while [ -n "$m" ]; do
		part=${m%%\{n\}*}
		if [ -n "$part" ] && ! printf '%s' "$text" | grep -qF -- "$part"; then
			return 1
		fi
		[ "$part" = "$m" ] && break
		m=${m#*\{n\}}
	done
	return 0
}
# check_says DESC LANG KEY: the last response ($BODY) shows message KEY.
check_says() {
	if says "$2" "$3"; then ok "$1"; else
		fail "$1 (no $2 $3 \"$(msg "$2" "$3")\"; status $STATUS, alert: $(printf '%s' "$BODY" | sed -n 's/.*<p class="alert" role="alert">\(.*\)<\/p>.*/\1/p' | head -n 1), title: $(printf '%s' "$BODY" | sed -n 's/.*<title>\(.*\)<\/title>.*/\1/p' | head -n 1))"
	fi
}
