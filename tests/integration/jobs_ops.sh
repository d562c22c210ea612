# jobs_ops: operating the job queue — `licheng jobs` (list, show, retry,
# workers, probe) with its refusals and exit statuses, the job gauges of
# /metrics, and the warning line on the school admin's and central staff's
# home pages (not on a student's or a teacher's). Rows are made with SQL
# under a job type of this run's own (no worker consumes it, so its counts
# are exact whatever else runs); the probe jobs and the retried probe run
# through the real workers. Everything it made is removed at the end.
. "$(dirname "$0")/lib.sh"

RUNID="jo$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"

PREFIX=$(conf_get prefix "$LICHENG_CONF")
: "${PREFIX:=licheng:}"
HOST=$(uname -n)
TYPE="opst_$(tr -dc a-z </dev/urandom | head -c 10)"
IDS=() # every job row this scenario made

root_sql() { sql_as root "$1"; }
# new_job STATE ATTEMPTS CREATED_AGO_S NOT_BEFORE_IN_S [TYPE]: a job row
# made with SQL; prints its id.
new_job() {
	local id
	id=$(root_sql "INSERT INTO licheng.jobs (type, payload, state, attempts,
	    max_attempts, not_before, created_at) VALUES ('${5:-$TYPE}', '{}', '$1', $2, 5,
	    UTC_TIMESTAMP(6) + INTERVAL $4 SECOND, UTC_TIMESTAMP(6) - INTERVAL $3 SECOND);
	    SELECT LAST_INSERT_ID()")
	printf '%s\n' "$id"
}
cleanup_jobs() {
	local list
	[ "${#IDS[@]}" -gt 0 ] || return 0
	list=$(IFS=,; printf '%s' "${IDS[*]}")
	root_sql "DELETE FROM licheng.job_attempts WHERE job_id IN ($list);
	    DELETE FROM licheng.jobs WHERE id IN ($list)"
	rcli DEL "${PREFIX}jobs:$TYPE" >/dev/null
}
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
trap 'cleanup_jobs >/dev/null 2>&1; finish' EXIT

metric() {
	curl_k "$BASE/metrics" | awk -v k="$1" '$1 == k { v = $2; f = 1 } END { print f ? v : "absent" }'
}
job_col() { app_sql "SELECT $2 FROM jobs WHERE id = $1"; }
job_is() { [ "$(job_col "$1" state)" = "$2" ]; }
# workers_say REGEX: `licheng jobs workers` prints a line matching REGEX
# (a child's record appears with its first heartbeat).
workers_say() { L jobs workers 2>/dev/null | grep -Eq -- "$1"; }
# out_of CMD...: the command's stdout and stderr, then "exit N".
out_of() {
	local o rc
	o=$("$@" 2>&1)
	rc=$?
	printf '%s\nexit %d' "$o" "$rc"
}
# type_row: this run's type's line of `licheng jobs`, spaces squeezed.
type_row() { L jobs | tr -s ' ' | grep "^$TYPE " ; }

# ------------------------------------------------------------ list

out=$(out_of L jobs)
check_match "licheng jobs prints a header with every state" \
    '^type +due +waiting +running +done +dead +oldest pending' "$out"
check_match "and exits 0" 'exit 0$' "$out"
check_nomatch "a type with no job is not listed" "^$TYPE " "$out"

due=$(new_job pending 0 7230 0)
wait1=$(new_job pending 2 10 86400)
IDS+=("$due" "$wait1")
run=$(new_job running 1 5 0)
dead=$(new_job dead 5 20 0)
done1=$(new_job done 1 30 0)
IDS+=("$run" "$dead" "$done1")
root_sql "UPDATE licheng.jobs SET last_error = 'scanner said: boom\nsecond line',
    finished_at = UTC_TIMESTAMP(6) WHERE id = $dead;
    UPDATE licheng.jobs SET claimed_by = '$HOST:999999', claimed_at = UTC_TIMESTAMP(6)
    WHERE id = $run;
    INSERT INTO licheng.job_attempts (job_id, attempt, consumer, started_at,
    finished_at, result, error) VALUES
    ($dead, 1, 'h1:11', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 'lost', NULL),
    ($dead, 2, 'h2:22', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 'error', 'first failure')"

check_match "the type's line counts due, waiting, running, done, dead and the oldest wait" \
    "^$TYPE 1 1 1 1 1 2h0[0-9]m\$" "$(type_row)"
check_match "the total line is there" '^total ' "$(L jobs list)"
check_match "the dead job is named with its id" "dead \\(latest first\\):.* $dead \\($TYPE\\)" "$(L jobs)"

out=$(out_of L jobs bogus)
check_match "an unknown subcommand is a usage error (exit 2)" 'exit 2$' "$out"
check_match "that names it" "unknown subcommand 'bogus'" "$out"
check_match "jobs list takes no argument (exit 2)" 'exit 2$' "$(out_of L jobs list x)"

# ------------------------------------------------------------ show

out=$(out_of L jobs show "$dead")
check_match "show: the type" "type +$TYPE" "$out"
check_match "show: the state" 'state +dead' "$out"
check_match "show: attempts of max_attempts" 'attempts +5 of 5' "$out"
check_match "show: the last error on one line" 'last error +scanner said: boom second line' "$out"
check_match "show: every delivery" 'deliveries \(2\)' "$out"
check_match "show: a lost delivery with its consumer" '^ +1  h1:11 .* lost$' "$out"
check_match "show: a failed delivery with its error" 'error: first failure' "$out"
check_match "show exits 0" 'exit 0$' "$out"
out=$(out_of L jobs show "$run")
check_match "show: who claimed a running job" "claimed by +$HOST:999999" "$out"
check_match "show: a waiting job says so" 'waiting for its backoff' "$(L jobs show "$wait1")"
check_match "show: a due job says so" 'due: may run now' "$(L jobs show "$due")"
missing=$(($(app_sql "SELECT COALESCE(MAX(id), 0) FROM jobs") + 1000000))
out=$(out_of L jobs show "$missing")
check_match "show of an unknown id: a clear error" "no job has the id $missing" "$out"
check_match "and exit 1" 'exit 1$' "$out"
out=$(out_of L jobs show 12x)
check_match "show of a non-number: a usage error" "'12x' is not a job ID" "$out"
check_match "exit 2" 'exit 2$' "$out"
check_match "show without an id: exit 2" 'exit 2$' "$(out_of L jobs show)"

# ------------------------------------------------------------ metrics

check_eq "/metrics: pending of the type (due and waiting)" 2 "$(metric "licheng_jobs{type=\"$TYPE\",state=\"pending\"}")"
check_eq "/metrics: running" 1 "$(metric "licheng_jobs{type=\"$TYPE\",state=\"running\"}")"
check_eq "/metrics: dead" 1 "$(metric "licheng_jobs{type=\"$TYPE\",state=\"dead\"}")"
check "/metrics: the oldest pending job's age (>= 7230 s)" \
    test "$(metric "licheng_jobs_oldest_pending_seconds{type=\"$TYPE\"}")" -ge 7230
check_eq "/metrics: the table was read" 1 "$(metric licheng_jobs_up)"

# ------------------------------------------------------------ retry

pend_attempts=$(job_col "$wait1" attempts)
out=$(out_of L jobs retry "$wait1")
check_match "retry of a pending job is refused, naming its state" "job $wait1 is pending, not dead" "$out"
check_match "with exit 1" 'exit 1$' "$out"
check_eq "the refused job is unchanged" "pending $pend_attempts" "$(job_col "$wait1" "CONCAT(state, ' ', attempts)")"
check_match "retry of a running job is refused" "job $run is running, not dead" "$(L jobs retry "$run" 2>&1)"
check_match "retry of a done job is refused" "job $done1 is done, not dead" "$(L jobs retry "$done1" 2>&1)"
out=$(out_of L jobs retry "$missing")
check_match "retry of an unknown id: a clear error, exit 1" "no job has the id $missing.*exit 1$" "$(printf '%s' "$out" | tr '\n' ' ')"
check_match "retry of a non-number: exit 2" 'exit 2$' "$(out_of L jobs retry -5)"

n0=$(n_audit job.retried "cli:$(id -un)")
out=$(out_of L jobs retry "$dead")
check_match "retry of the dead job succeeds" "job $dead \\($TYPE\\) is pending again" "$out"
check_match "and exits 0" 'exit 0$' "$out"
check_eq "the job is pending again with attempts 0" "pending 0" "$(job_col "$dead" "CONCAT(state, ' ', attempts)")"
check_eq "its not_before is now (due)" 1 "$(job_col "$dead" "not_before <= UTC_TIMESTAMP(6) AND not_before > UTC_TIMESTAMP(6) - INTERVAL 60 SECOND")"
check_eq "the retry is audited once" $((n0 + 1)) "$(n_audit job.retried "cli:$(id -un)")"
row=$(last_audit job.retried "cli:$(id -un)")
check_match "the audit row names the job" "^job:$dead	success	" "$row"
check_match "and keeps why it had died" '"last_error":"scanner said: boom' "$row"
check_match "the audit row's role is operator" operator \
    "$(audit_sql "SELECT role FROM audit_log WHERE event = 'job.retried' ORDER BY id DESC LIMIT 1")"
check_match "the job was published at once (XADD job <id>)" "^$dead\$" \
    "$(rcli XRANGE "${PREFIX}jobs:$TYPE" - + | grep -x "$dead")"
check_match "retry of it again is refused now (it is pending)" "is pending, not dead" "$(L jobs retry "$dead" 2>&1)"
check_eq "/metrics: dead went back to 0" 0 "$(metric "licheng_jobs{type=\"$TYPE\",state=\"dead\"}")"
check_eq "/metrics: pending went up to 3" 3 "$(metric "licheng_jobs{type=\"$TYPE\",state=\"pending\"}")"
check_match "the list agrees" "^$TYPE 2 1 1 1 0 2h0[0-9]m\$" "$(type_row)"
check "audit log still verifies" audit_verified

# ------------------------------------------------------------ workers

master=$(pid_of worker)
child=$(pgrep -P "$master" | head -n 1)
root_sql "UPDATE licheng.jobs SET claimed_by = '$HOST:$child' WHERE id = $run"
check "workers: the master with its children" wait_for 15 workers_say "$HOST:$master +[0-9]+ +[0-9]+ +[0-9]+s ago"
check "workers: each child with its master and slot" wait_for 15 workers_say "$HOST:$child +$master +[0-9]+ "
check "workers: a child's running job from its claim" workers_say "$HOST:$child +$master +[0-9]+ +busy +[0-9]+ +$TYPE #$run "
check_match "workers: exits 0" 'exit 0$' "$(out_of L jobs workers)"
root_sql "UPDATE licheng.jobs SET claimed_by = '$HOST:999999' WHERE id = $run"
out=$(out_of L jobs workers)
check_match "workers: a running job whose consumer is gone is listed apart" \
    "that no live child is running \\([0-9]+\\):.*$TYPE #$run +claimed by $HOST:999999" "$(printf '%s' "$out" | tr '\n' ' ')"
check_match "workers takes no argument (exit 2)" 'exit 2$' "$(out_of L jobs workers x)"

# ------------------------------------------------------------ probe: refusals

for bad in "0" "100001" "1x" "-3" "2 3"; do
	check_match "probe $bad: a usage error (exit 2)" 'exit 2$' "$(out_of L jobs probe $bad)"
done
check_match "probe --sleep -1 is refused" "from 0 to 600000, not '-1'" "$(L jobs probe --sleep -1 2>&1)"
check_match "probe --sleep 600001 is refused" 'exit 2$' "$(out_of L jobs probe --sleep 600001)"
check_match "probe --sleep without a value is refused" '--sleep needs milliseconds' "$(L jobs probe --sleep 2>&1)"
check_match "probe --bogus is refused" "probe has no option '--bogus'" "$(L jobs probe --bogus 2>&1)"

# ------------------------------------------------------------ probe: end to end

out=$(out_of L jobs probe 3)
check_match "probe 3 enqueues three jobs and prints their ids" \
    'enqueued 3 probe jobs \(sleep 0 ms\): ids [0-9]+\.\.[0-9]+' "$out"
check_match "and publishes them" 'published 3' "$out"
check_match "exit 0" 'exit 0$' "$out"
read -r p1 p3 < <(printf '%s\n' "$out" | sed -n 's/.*ids \([0-9]*\)\.\.\([0-9]*\)$/\1 \2/p')
probes() { app_sql "SELECT COUNT(*) FROM jobs WHERE id BETWEEN ${p1:-0} AND ${p3:-0} AND type = 'probe' AND $1"; }
IDS+=($(app_sql "SELECT id FROM jobs WHERE id BETWEEN ${p1:-0} AND ${p3:-0} AND type = 'probe'"))
check_eq "the three rows are probe jobs" 3 "$(probes "payload = '{}'")"
three_done() { [ "$(probes "state = 'done'")" = 3 ]; }
check "the workers run all three" wait_for 30 three_done
check_eq "each once, with one ok delivery" 3 "$(app_sql "SELECT COUNT(*) FROM job_attempts WHERE job_id BETWEEN ${p1:-0} AND ${p3:-0} AND result = 'ok'")"
check_match "show: a done probe with its delivery" 'state +done.*attempts +1 of [0-9]+.*deliveries \(1\):.* ok' \
    "$(L jobs show "${p1:-0}" | tr '\n' ' ')"

out=$(L jobs probe --sleep 4000)
slow=$(printf '%s\n' "$out" | sed -n 's/.*ids \([0-9]*\)\.\..*/\1/p')
IDS+=("${slow:-0}")
check_eq "probe --sleep puts the sleep in the payload" '{"sleep_ms":4000}' "$(job_col "${slow:-0}" payload)"
check "the slow probe is claimed" wait_for 15 job_is "${slow:-0}" running
check "workers: the child running it says busy with the job" \
    workers_say "$HOST:[0-9]+ +$master +[0-9]+ +busy +[0-9]+ +probe #$slow "
check "the slow probe finishes" wait_for 20 job_is "${slow:-0}" done

deadp=$(new_job dead 5 5 0 probe)
IDS+=("$deadp")
check_match "retry of a dead probe job" "job $deadp \\(probe\\) is pending again and published" "$(L jobs retry "$deadp")"
check "the retried job is then done" wait_for 30 job_is "$deadp" done
check_eq "after one more delivery" "1 ok" "$(app_sql "SELECT CONCAT(COUNT(*), ' ', MAX(result)) FROM job_attempts WHERE job_id = $deadp")"
check_match "its retry is audited" "^job:$deadp	success	" "$(last_audit job.retried "cli:$(id -un)")"

# ------------------------------------------------------------ home pages

guard_forget_local
sch=${RUNID}s
check "a school is added" L school add --code "$sch" --name "工作測試高中"
check "its admin signs in" signin_as adm school_admin "$sch"
check "central staff sign in" signin_as cen central_staff
check "a student signs in" signin_as stu student "$sch"
check "a teacher signs in" signin_as tea teacher "$sch"

warn_age=$(awk '/^jobs:/ { j = 1; next } /^[^ #]/ { j = 0 } j && $1 == "warn_age:" { print $2 }' "$LICHENG_CONF")
: "${warn_age:=3600}"
# expected: what the line must say now, from the table ("" = no line).
expected() {
	local d o
	d=$(app_sql "SELECT COUNT(*) FROM jobs WHERE state = 'dead'")
	o=$(app_sql "SELECT COALESCE(TIMESTAMPDIFF(SECOND, MIN(created_at), UTC_TIMESTAMP(6)), -1) FROM jobs WHERE state = 'pending'")
	if [ "$d" -eq 0 ] && [ "$o" -le "$warn_age" ]; then return 0; fi
	printf '背景工作：'
	[ "$d" -gt 0 ] && printf '%s 件失敗（已停止重試）' "$d"
	[ "$d" -gt 0 ] && [ "$o" -gt "$warn_age" ] && printf '、'
	if [ "$o" -gt "$warn_age" ]; then
		if [ "$o" -lt 7200 ]; then printf '最舊的待處理工作已等候 %d 分鐘' $((o / 60))
		elif [ "$o" -lt 172800 ]; then printf '最舊的待處理工作已等候 %d 小時' $((o / 3600))
		else printf '最舊的待處理工作已等候 %d 天' $((o / 86400)); fi
	fi
	printf '。'
}
line_of() { req "$1" "$BASE/" "${@:2}" | sed -n 's/.*<p class="alert" role="status" id="jobs-warning">\([^<]*\) <span.*/\1/p'; }
has_line() { req "$1" "$BASE/" | grep -q 'id="jobs-warning"'; }
# line_as_queue WHEN: the admin's and central staff's pages show exactly
# the line the table calls for — none at all when no job is dead or old.
line_as_queue() {
	local want
	want=$(expected)
	if [ -z "$want" ]; then
		check_not "$1: no line on the admin's page" has_line adm
		check_not "$1: no line on the central staff's page" has_line cen
		return
	fi
	printf '# the queue has dead or old jobs of others: %s\n' "$want"
	check_eq "$1: the admin's line says what the queue has" "$want" "$(line_of adm)"
	check_eq "$1: so does the central staff's" "$want" "$(line_of cen)"
}

# Out of this run's rows for now (the old pending one and the retried one).
root_sql "UPDATE licheng.jobs SET state = 'done' WHERE id IN ($due, $dead, $wait1)"
clean=$(expected)
line_as_queue "before"

dead2=$(new_job dead 5 10 0)
IDS+=("$dead2")
want=$(expected)
check_match "a dead job makes a line (expected: $want)" '件失敗' "$want"
check_eq "the school admin's home page shows it" "$want" "$(line_of adm)"
check_eq "so does the central staff's" "$want" "$(line_of cen)"
check_match "with the hint to run licheng jobs" 'licheng jobs' "$(req adm "$BASE/" | grep 'id="jobs-warning"')"
check_not "a student's home page does not" has_line stu
check_not "a teacher's home page does not" has_line tea
en=$(req adm "$BASE/" -H 'Accept-Language: en' | grep 'id="jobs-warning"')
check_match "in English for an English browser" 'Background jobs: [0-9]+ failed \(no more retries\)' "$en"
check_match "with the English hint" 'run licheng jobs on the server' "$en"

old=$(new_job pending 0 $((3 * 3600 + 60)) 86400)
IDS+=("$old")
want=$(expected)
check_match "an old pending job adds its wait (expected: $want)" '已等候 [0-9]+ (小時|天)' "$want"
check_eq "the admin's line has both" "$want" "$(line_of adm)"
check_match "in English too" 'failed \(no more retries\); the oldest pending job has waited [0-9]+ [a-z]+\.' \
    "$(req adm "$BASE/" -H 'Accept-Language: en' | grep 'id="jobs-warning"')"

root_sql "UPDATE licheng.jobs SET state = 'done' WHERE id = $dead2"
want=$(expected)
check_eq "with the dead job resolved, the line follows (admin)" "$want" "$(line_of adm)"
# Other scenarios on this stack may have left dead jobs of their own (a scan
# whose file a test removed): then the line still counts those, and only
# those.
others=$(root_sql "SELECT COUNT(*) FROM licheng.jobs WHERE state = 'dead'")
if [ "$others" = 0 ]; then
	check_match "and names only the wait now" '^背景工作：最舊的待處理工作' "$(line_of cen)"
else
	check_match "and counts only the other dead jobs now ($others)" "^背景工作：$others 件失敗" "$(line_of cen)"
fi

root_sql "UPDATE licheng.jobs SET state = 'done' WHERE id = $old"
check_eq "resolved: the queue is back to what it was" "$clean" "$(expected)"
line_as_queue "resolved"
