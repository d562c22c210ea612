#!/usr/bin/env bash
# fcgi_basics: licheng-fcgi behind the stack's nginx answers /healthz, 404,
# 405, 400, the loopback-only /status and /metrics with moving counters,
# logs one line per request without the query string, checks its
# configuration with -n, and refuses to start twice on one socket.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; lib_finish' EXIT
LOG="$LICHENG_RUN/log/licheng.log"

# The fcgi socket: the first "socket:" under the top-level "fcgi:" key.
FCGI_SOCK=$(awk '/^fcgi:/ { f = 1; next } /^[^ #]/ { f = 0 }
	f && $1 == "socket:" { print $2; exit }' "$LICHENG_CONF" | tr -d '"')

# fcgi_direct METHOD URI REMOTE_ADDR: one request straight to the socket,
# bypassing nginx, as cgi-fcgi prints it (headers, blank line, body).
fcgi_direct() {
	env -i REQUEST_METHOD="$1" REQUEST_URI="$2" REMOTE_ADDR="$3" \
	    SERVER_PROTOCOL=HTTP/1.1 cgi-fcgi -bind -connect "$FCGI_SOCK"
}

# metric NAME_WITH_LABELS: its value in /metrics, 0 when absent.
metric() {
	curl_k "$BASE/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# /healthz
out=$(curl_k -D "$tmp/h" "$BASE/healthz")
check_eq "/healthz answers 200" 200 "$(awk 'NR == 1 { print $2 }' "$tmp/h")"
check_match "/healthz is JSON" '^content-type: application/json' "$(tr -d '\r' <"$tmp/h" | tr A-Z a-z)"
check_match "/healthz says ok" '^\{"status":"ok",' "$out"
check_match "/healthz reports the database" '"database":\{"ok":true,"ms":[0-9]+\}' "$out"
check_match "/healthz reports redis" '"redis":\{"ok":true,"ms":[0-9]+\}' "$out"
check_match "/healthz reports both store roots" '"store":\{"primary":"ok","replica":"ok"\}' "$out"
check_match "/healthz is not cached" '^cache-control: no-store' "$(tr -d '\r' <"$tmp/h" | tr A-Z a-z)"
check_eq "HEAD /healthz answers 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -I "$BASE/healthz")"
if command -v cgi-fcgi >/dev/null; then
	head_out=$(fcgi_direct HEAD /healthz 127.0.0.1 | tr -d '\r')
	check_match "HEAD sends the headers" '^Status: 200 OK' "$head_out"
	check_nomatch "HEAD sends no body" '"status"' "$head_out"
fi

# An unknown path: the bilingual 404 page, nothing about versions.
out=$(curl_k -D "$tmp/h" "$BASE/no-such-page-$$")
hdrs=$(tr -d '\r' <"$tmp/h")
check_eq "an unknown path answers 404" 404 "$(awk 'NR == 1 { print $2 }' "$tmp/h")"
check_match "the 404 page is HTML" '^content-type: text/html; charset=utf-8' "$(printf '%s' "$hdrs" | tr A-Z a-z)"
check_match "the 404 page is in Chinese" '<html lang="zh-TW"' "$out"
check_match "the 404 page has an English part" 'lang="en"' "$out"
check_match "the 404 page names the status" '404' "$out"
check_nomatch "no version in the 404 headers" '(nginx/[0-9]|X-Powered-By|licheng-fcgi|MariaDB|hiredis|libfcgi)' "$hdrs"
check_nomatch "no version in the 404 page" '(nginx/[0-9]|licheng-fcgi|MariaDB|hiredis|libfcgi|[0-9]+\.[0-9]+\.[0-9]+)' "$out"

# A path the router refuses outright.
check_eq "a path with an encoded .. answers 400" 400 "$(http_status '/a/%2e%2e/b')"
check_eq "a path with // answers 400" 400 "$(http_status '/a//b')"

# Wrong method: 405 with Allow.
curl_k -o /dev/null -D "$tmp/h" -X POST "$BASE/healthz"
hdrs=$(tr -d '\r' <"$tmp/h" | tr A-Z a-z)
check_eq "POST /healthz answers 405" 405 "$(awk 'NR == 1 { print $2 }' "$tmp/h")"
check_match "405 lists the allowed methods" '^allow: get, head$' "$hdrs"

# /status and /metrics, locally, with counters that move.
status1=$(curl_k "$BASE/status")
check_match "/status shows the pool" '^pool: +fcgi' "$status1"
check_match "/status shows the children" 'idle children: +[0-9]+' "$status1"
check_match "/status has one row per child" '^[0-9]+ +(idle|active) ' "$status1"
check_match "/status shows the workers section" '(masters|workers: redis unavailable)' "$status1"
acc1=$(printf '%s\n' "$status1" | awk -F: '/^accepted requests:/ { print $2 + 0 }')
json=$(curl_k "$BASE/status?json")
check_match "/status?json is JSON" '^\{"pool":"fcgi",.*"children":\[\{"pid":[0-9]+' "$json"
check_match "/status?json has the workers" '"workers":\{"ok":(true|false)' "$json"
if command -v python3 >/dev/null; then
	check "/status?json parses" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$json"
fi
h1=$(metric 'licheng_http_requests_total{route="healthz",status="200"}')
curl_k -o /dev/null "$BASE/healthz"
curl_k -o /dev/null "$BASE/healthz"
h2=$(metric 'licheng_http_requests_total{route="healthz",status="200"}')
check "/metrics counts /healthz requests" test "$h2" -ge $((h1 + 2))
acc2=$(curl_k "$BASE/status" | awk -F: '/^accepted requests:/ { print $2 + 0 }')
check "/status accepted requests moves" test "$acc2" -gt "${acc1:-0}"
metrics=$(curl_k "$BASE/metrics")
check_match "/metrics has the 404s of unknown paths" 'licheng_http_requests_total\{route="unmatched",status="404"\} [1-9]' "$metrics"
check_match "/metrics has the duration histogram" 'licheng_http_request_duration_seconds_bucket\{route="healthz",le="0.005"\} [0-9]+' "$metrics"
check_match "/metrics has +Inf" 'licheng_http_request_duration_seconds_bucket\{route="healthz",le="\+Inf"\} [1-9]' "$metrics"
check_match "/metrics has the pool children" 'licheng_pool_children\{state="idle"\} [0-9]+' "$metrics"
check_match "/metrics has accepted requests" 'licheng_pool_accepted_total [1-9]' "$metrics"
check_match "/metrics has max children reached" 'licheng_pool_max_children_reached_total [0-9]+' "$metrics"
check_match "/metrics has slow requests" 'licheng_pool_slow_requests_total [0-9]+' "$metrics"
if command -v cgi-fcgi >/dev/null; then
	out=$(fcgi_direct GET /status 10.1.2.3 | head -n 1 | tr -d '\r')
	check_eq "/status from another address is 404" "Status: 404 Not Found" "$out"
	out=$(fcgi_direct GET /metrics 192.0.2.7 | head -n 1 | tr -d '\r')
	check_eq "/metrics from another address is 404" "Status: 404 Not Found" "$out"
	out=$(fcgi_direct GET /status ::1 | head -n 1 | tr -d '\r')
	check_eq "/status from ::1 answers" "Status: 200 OK" "$out"
fi

# One log line per request, never with the query string.
mark="fcgi-basics-$$-$RANDOM"
curl_k -o /dev/null "$BASE/$mark?token=sekrit-$$"
if wait_for 5 grep -q "\"path\":\"/$mark\"" "$LOG"; then
	line=$(grep "\"path\":\"/$mark\"" "$LOG" | tail -n 1)
	ok "a request line appears in the log"
	check_match "the line is a request event" '"event":"request"' "$line"
	check_match "the line has method, route, status" '"method":"GET".*"route":"unmatched","status":404' "$line"
	check_match "the line has ms and bytes" '"ms":[0-9]+\.[0-9]{3},"bytes":[0-9]+' "$line"
	check_match "the line has the remote address" '"remote_addr":"127\.0\.0\.1"' "$line"
	check_nomatch "the line has no query string" "sekrit" "$line"
else
	fail "a request line appears in the log"
fi

# -n checks the configuration, templates and messages.
out=$("$LICHENG_BIN/licheng-fcgi" -n -c "$LICHENG_CONF" 2>&1)
check_eq "licheng-fcgi -n prints configuration OK" "configuration OK" "$out"

# A second licheng-fcgi on the same socket refuses; the first keeps going.
pid1=$(pid_of fcgi)
out=$(timeout 20 "$LICHENG_BIN/licheng-fcgi" -c "$LICHENG_CONF" 2>&1); rc=$?
check "a second licheng-fcgi exits non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
check_match "it says the socket is in use" 'is in use by another licheng-fcgi' "$out"
check_eq "the pid file still names the first" "$pid1" "$(pid_of fcgi)"
check "the socket is still there" test -S "$FCGI_SOCK"
check_eq "the first still answers /healthz" 200 "$(http_status /healthz)"
