# logs: one JSON line per request in log.file, and SIGUSR1 reopens the log
# in the masters and every child (what logrotate's postrotate sends).
. "$(dirname "$0")/lib.sh"

log=$(conf_get file "$LICHENG_CONF")
check "the log file exists" test -s "$log"
curl_k -o /dev/null "$BASE/healthz?who=secret-query"
line=$(grep '"event":"request"' "$log" | grep '"path":"/healthz"' | tail -n 1)
check_match "a request line is JSON with route, status and ms" '"route":"healthz".*"status":200.*"ms":' "$line"
check_nomatch "the query string is never logged" 'secret-query' "$(cat "$log")"

mv "$log" "$log.1"
kill -USR1 "$(pid_of fcgi)" "$(pid_of worker)"
sleep 1
for i in $(seq 1 20); do curl_k -o /dev/null "$BASE/healthz"; done
check "SIGUSR1 made licheng-fcgi open a new log file" wait_for 10 test -s "$log"
check "request lines go to the new file" wait_for 10 grep -q '"event":"request"' "$log"
old=$(grep -c '"event":"request"' "$log.1")
sleep 1
check_eq "nothing more is written to the rotated file" "$old" "$(grep -c '"event":"request"' "$log.1")"
check "every line of the new file is one JSON object" bash -c "! grep -v '^{.*}\$' '$log' | grep -q ."
