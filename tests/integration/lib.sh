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

ok() { PASS=$((PASS + 1)); printf 'ok - %s\n' "$*"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL - %s\n' "$*"; }

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
