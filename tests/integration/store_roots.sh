# store_roots: /healthz through nginx notices at once when a store root's
# STORE_ID marker is missing, foreign or the root is gone (an empty or wrong
# disk mounted where the store was), raises one alert.store per state, and
# recovers when it is back. `licheng store check` agrees, and `licheng store
# init` never re-initialises a root.
. "$(dirname "$0")/lib.sh"

replica=$(conf_get replica "$LICHENG_CONF")
primary=$(conf_get primary "$LICHENG_CONF")
tmp=$(mktemp -d)
# open_alerts KIND: the open alerts of KIND about the replica.
open_alerts() {
	sql_as app "SELECT COUNT(*) FROM alerts WHERE kind = '$1' AND acknowledged_at IS NULL
	    AND JSON_VALUE(detail, '\$.root') = 'replica'"
}
restore() {
	[ -f "$tmp/STORE_ID" ] && cp -p "$tmp/STORE_ID" "$replica/STORE_ID"
	[ -d "$replica.moved" ] && mv "$replica.moved" "$replica"
	rm -rf "$tmp"
	# The alerts raised here are handled: later scenarios start clean.
	sql_as app "UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6)
	    WHERE kind LIKE 'store.%' AND acknowledged_at IS NULL" >/dev/null 2>&1
}
trap 'restore; lib_finish' EXIT

# health_is STATE_REGEX CODE: every one of 12 requests (so every child is
# asked) answers CODE with a body matching the regex.
health_is() {
	local i body code
	for i in $(seq 1 12); do
		body=$(curl_k "$BASE/healthz")
		code=$(http_status /healthz)
		[ "$code" = "$2" ] || return 1
		printf '%s' "$body" | grep -Eq -- "$1" || return 1
	done
}

check "healthz is 200 with both roots ok" health_is '"primary":"ok","replica":"ok"' 200
check "licheng store check says both roots are ok" "$LICHENG_BIN/licheng" -c "$LICHENG_CONF" store check

cp -p "$replica/STORE_ID" "$tmp/STORE_ID"

# The marker removed: as if an empty disk were mounted at the replica.
rm "$replica/STORE_ID"
check "a missing replica marker makes healthz 503 with no_marker" health_is '"replica":"no_marker"' 503
check_eq "and raises one alert.store.no_marker, however many children saw it" 1 "$(open_alerts store.no_marker)"
out=$("$LICHENG_BIN/licheng" -c "$LICHENG_CONF" store check 2>&1); rc=$?
check_eq "licheng store check exits 1 for a root without its marker" 1 "$rc"
check_match "licheng store check names the state" 'replica .*no_marker' "$out"
out=$("$LICHENG_BIN/licheng" -c "$LICHENG_CONF" store init 2>&1); rc=$?
check_eq "licheng store init refuses to re-initialise a recorded store" 1 "$rc"
check "store init did not write a new marker" test ! -e "$replica/STORE_ID"

# Another store's marker: a wrong disk.
printf '%064d\n' 7 >"$replica/STORE_ID"
check "a foreign replica marker makes healthz 503 with foreign" health_is '"replica":"foreign"' 503
check_eq "and raises one alert.store.foreign" 1 "$(open_alerts store.foreign)"

# Back as it was.
cp -p "$tmp/STORE_ID" "$replica/STORE_ID"
check "healthz is 200 again once the marker is back" health_is '"replica":"ok"' 200

# The root gone altogether.
mv "$replica" "$replica.moved"
check "a missing replica root makes healthz 503 with unreachable" health_is '"replica":"unreachable"' 503
check_eq "and raises one alert.store.unreachable" 1 "$(open_alerts store.unreachable)"
mv "$replica.moved" "$replica"
check "healthz is 200 again once the root is back" health_is '"primary":"ok","replica":"ok"' 200
check "the primary root was never touched" test -s "$primary/STORE_ID"
