# worker_pool: licheng-worker's pool as an operator drives it — the children
# it keeps, SIGTTIN/SIGTTOU, a child killed with SIGKILL, the configuration
# check, and a graceful stop that leaves no record in Redis. It ends with the
# worker running again, started the way deploy/dev starts it.
. "$(dirname "$0")/lib.sh"

PREFIX=$(conf_get prefix "$LICHENG_CONF")
: "${PREFIX:=licheng:}"
HOST=$(hostname)

# worker_key KEY DEFAULT: a key of the configuration's worker: section.
worker_key() {
	local v
	v=$(awk -v k="$1:" '/^worker:/ { w = 1; next } /^[^ #]/ { w = 0 }
		w && $1 == k { print $2; exit }' "$LICHENG_CONF" | tr -d '"')
	printf '%s\n' "${v:-$2}"
}

rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
children_of() { pgrep -P "$1" | sort; }
count_children() { children_of "$1" | grep -c .; }
has_children() { [ "$(count_children "$1")" -eq "$2" ]; }
status_lists() { curl_k "$BASE/status" | grep -qw -- "$1"; }
status_lacks() { ! status_lists "$1"; }
record_exists() { [ "$(rcli EXISTS "${PREFIX}worker:$HOST:$1")" = 1 ]; }
master_record() { rcli HGET "${PREFIX}worker-master:$HOST:$1" "$2"; }
master_says() { [ "$(master_record "$1" "$2")" = "$3" ]; }
# new_pid OLD NEW: the one pid in NEW (sorted lists) that is not in OLD.
new_pid() { comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | head -n 1; }
gone_pid() { comm -23 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | head -n 1; }

want=$(worker_key children 2)
drain=$(worker_key drain_timeout 300)
heartbeat=$(worker_key heartbeat 5)

master=$(pid_of worker)
check "licheng-worker master is running" kill -0 "${master:-0}"
[ -n "$master" ] || exit 1
check "the master has worker.children ($want) children" \
	wait_for 10 has_children "$master" "$want"
children=$(children_of "$master")
check "each child publishes its record" wait_for $((2 * heartbeat + 3)) \
	bash -c "for c in $(echo $children); do
		[ \"\$(redis-cli -s '$REDIS_SOCK' EXISTS '${PREFIX}worker:$HOST:'\$c)\" = 1 ] || exit 1
	done"
check "the master publishes its record (target $want)" \
	wait_for $((2 * heartbeat + 3)) master_says "$master" target "$want"
check "/status lists a child" wait_for 5 status_lists "$(printf '%s\n' "$children" | head -n 1)"

# 1. SIGTTIN: one more child, listed on /status within a few seconds.
kill -TTIN "$master"
check "SIGTTIN adds a child" wait_for 10 has_children "$master" $((want + 1))
after=$(children_of "$master")
added=$(new_pid "$children" "$after")
check_match "the added child has a pid" '^[0-9]+$' "$added"
check "/status lists the added child" wait_for 5 status_lists "${added:-none}"
check "the master's record says $((want + 1)) children" \
	wait_for $((2 * heartbeat + 3)) master_says "$master" children $((want + 1))

# 2. SIGTTOU: one fewer, and the one that left cleans up its record.
kill -TTOU "$master"
check "SIGTTOU removes a child" wait_for 10 has_children "$master" "$want"
now=$(children_of "$master")
removed=$(gone_pid "$after" "$now")
check_match "the removed child had a pid" '^[0-9]+$' "$removed"
check_not "the removed child's record is gone" record_exists "${removed:-0}"
check "/status no longer lists the removed child" wait_for 5 status_lacks "${removed:-none}"

# 3. kill -9 of a child: a replacement appears; the master removes the
# record the killed child could not remove itself.
victim=$(printf '%s\n' "$now" | head -n 1)
kill -9 "$victim"
check "a child killed with SIGKILL is replaced" wait_for 10 bash -c \
	"[ \$(pgrep -P $master | grep -c .) -eq $want ] && ! pgrep -P $master | grep -qx $victim"
check "the killed child's record is removed" \
	wait_for $((2 * heartbeat + 3)) bash -c "[ \"\$(redis-cli -s '$REDIS_SOCK' EXISTS '${PREFIX}worker:$HOST:$victim')\" = 0 ]"

# 4. The configuration check.
out=$("$LICHENG_BIN/licheng-worker" -n -c "$LICHENG_CONF" 2>&1)
check_eq "licheng-worker -n says configuration OK" "configuration OK" "$out"
bad=$(mktemp /tmp/worker-pool-conf.XXXXXX)
sed 's/^\(  children:\).*/\1 lots/' "$LICHENG_CONF" >"$bad"
out=$("$LICHENG_BIN/licheng-worker" -n -c "$bad" 2>&1)
rc=$?
rm -f "$bad"
check_eq "licheng-worker -n refuses a bad configuration" 1 "$rc"
check_match "the error says file:line:column" ':[0-9]+:[0-9]+:' "$out"

# 5. SIGTERM: the master exits within the drain timeout and every record of
# its pool disappears.
last=$(children_of "$master")
kill -TERM "$master"
check "the master exits within worker.drain_timeout (${drain}s)" \
	wait_for $((drain + 2)) bash -c "! kill -0 $master"
check_not "no child is left running" bash -c \
	"for c in $(echo $last); do kill -0 \$c 2>/dev/null && exit 0; done; exit 1"
check_not "the pid file is removed" test -e "$LICHENG_RUN/pid/worker.pid"
check_eq "the master's record is gone" 0 "$(rcli EXISTS "${PREFIX}worker-master:$HOST:$master")"
check_eq "the master left the masters set" "" "$(rcli ZSCORE "${PREFIX}worker-masters" "$HOST:$master")"
ghosts=0
for c in $last; do
	[ "$(rcli EXISTS "${PREFIX}worker:$HOST:$c")" = 0 ] || ghosts=$((ghosts + 1))
	[ -z "$(rcli ZSCORE "${PREFIX}workers" "$HOST:$c")" ] || ghosts=$((ghosts + 1))
done
check_eq "no child record is left behind" 0 "$ghosts"

# 6. Started again for the scenarios that follow, as deploy/dev starts it.
"$REPO/deploy/dev" restart-one worker --dir "$LICHENG_RUN" --bin "$LICHENG_BIN" \
	--https-port "$HTTPS_PORT" --http-port "$HTTP_PORT" >/dev/null 2>&1
master=$(pid_of worker)
check "licheng-worker is running again" kill -0 "${master:-0}"
check "it has its children again" wait_for 10 has_children "${master:-0}" "$want"
