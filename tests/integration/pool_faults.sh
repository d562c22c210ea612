# pool_faults: licheng-fcgi's pool under faults, through nginx over TLS —
# a child killed with SIGKILL, a reload under load, Redis and MariaDB
# restarted underneath a running pool.
. "$(dirname "$0")/lib.sh"

healthz_ok() { [ "$(http_status /healthz)" = 200 ]; }

# all_ok N PATH: N sequential requests, every one 200.
all_ok() {
	local i
	for i in $(seq 1 "$1"); do
		[ "$(http_status "$2")" = 200 ] || return 1
	done
}

fcgi_master=$(pid_of fcgi)
check "licheng-fcgi master is running" kill -0 "$fcgi_master"
children=$(pgrep -P "$fcgi_master" | sort)
check_eq "licheng-fcgi has fcgi.children children" 8 "$(printf '%s\n' "$children" | grep -c .)"

# 1. kill -9 of a child: it is replaced and requests keep succeeding.
victim=$(printf '%s\n' "$children" | head -n 1)
kill -9 "$victim"
check "a child killed with SIGKILL is replaced" wait_for 10 bash -c \
	"[ \$(pgrep -P $fcgi_master | grep -c .) -eq 8 ] && ! pgrep -P $fcgi_master | grep -qx $victim"
check "100 requests after the kill all succeed" all_ok 100 /healthz

# 2. SIGHUP during a bounded loopback load: zero failed requests.
out=$(mktemp)
wrk -t2 -c16 -d6s --latency "$BASE/healthz" >"$out" 2>&1 &
wrk_pid=$!
sleep 1.5
kill -HUP "$fcgi_master"
sleep 2
kill -HUP "$fcgi_master"
wait "$wrk_pid"
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out")
check_match "wrk ran requests during two reloads" '^[0-9]+$' "$reqs"
check_nomatch "no non-2xx responses during reloads" 'Non-2xx' "$(cat "$out")"
check_nomatch "no socket errors during reloads" 'Socket errors' "$(cat "$out")"
[ -n "$reqs" ] && [ "$reqs" -gt 100 ] && ok "load was real ($reqs requests)" || fail "load was too small: $reqs"
new_children=$(pgrep -P "$fcgi_master" | sort)
check "reload replaced every child" bash -c "! comm -12 <(printf '%s\n' \"$children\") <(printf '%s\n' \"$new_children\") | grep -q ."
rm -f "$out"
check "the master survived the reloads" kill -0 "$fcgi_master"

# 3. Redis restarted: /healthz back to 200 without restarting licheng-fcgi.
"$REPO/deploy/dev" restart-one redis --dir "$LICHENG_RUN" >/dev/null 2>&1
check "healthz is 200 again after Redis restarted" wait_for 15 healthz_ok
check "every child recovered from the Redis restart" all_ok 40 /healthz
check_eq "licheng-fcgi was not restarted (Redis)" "$fcgi_master" "$(pid_of fcgi)"

# 4. MariaDB restarted: the same.
"$REPO/deploy/dev" restart-one mariadb --dir "$LICHENG_RUN" >/dev/null 2>&1
check "healthz is 200 again after MariaDB restarted" wait_for 30 healthz_ok
check "every child recovered from the MariaDB restart" all_ok 40 /healthz
check_eq "licheng-fcgi was not restarted (MariaDB)" "$fcgi_master" "$(pid_of fcgi)"

# 5. While Redis is down, /healthz says so with 503 (and no internals).
redis_pid=$(pid_of redis)
kill -STOP "$redis_pid"
body=$(curl_k -m 10 "$BASE/healthz")
code=$(http_status /healthz -m 10)
kill -CONT "$redis_pid"
check_eq "healthz is 503 while Redis does not answer" 503 "$code"
check_match "healthz names redis as not ok" '"redis":\{"ok":false' "$body"
check_nomatch "healthz reveals no error text" '[Ee]rror|[Tt]imeout|errno|[Vv]ersion' "$body"
check "healthz recovers after Redis answers again" wait_for 15 healthz_ok
