# migrate: `licheng migrate` applies each numbered file once, records its
# SHA-256, refuses (before applying anything) when an applied file was
# edited or a file is misnamed, and ignores files that are not *.sql.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; lib_finish' EXIT

L="$LICHENG_BIN/licheng"
dir="$(conf_get migrations "$LICHENG_CONF")"
[ -n "$dir" ] && [ -d "$dir" ] || dir="$REPO/migrations"

count_applied() { sql_as migrate "SELECT COUNT(*) FROM schema_migrations"; }
probe_exists() { [ -n "$(sql_as migrate "SHOW TABLES LIKE 'migrate_probe'")" ]; }

# Running it again on the stack applies nothing.
out=$("$L" -c "$LICHENG_CONF" migrate 2>&1); rc=$?
check_eq "migrate on an up-to-date database exits 0" 0 "$rc"
check_match "it prints 'nothing to apply'" '^nothing to apply$' "$out"
check_nomatch "it applies nothing" '^applied ' "$out"

# One row per file, each with the file's SHA-256.
nfiles=0
for f in "$dir"/[0-9][0-9][0-9][0-9]_*.sql; do
	[ -e "$f" ] || continue
	nfiles=$((nfiles + 1))
	base=$(basename "$f" .sql)
	v=$((10#${base%%_*}))
	want=$(sha256sum "$f" | cut -d' ' -f1)
	got=$(sql_as migrate "SELECT sha256 FROM schema_migrations WHERE version = $v")
	check_eq "schema_migrations records the sha256 of $base.sql" "$want" "$got"
	name=$(sql_as migrate "SELECT name FROM schema_migrations WHERE version = $v")
	check_eq "schema_migrations records the name $base" "$base" "$name"
done
check "the migrations directory holds at least one migration" [ "$nfiles" -ge 1 ]
before=$(count_applied)
check_eq "schema_migrations holds one row per file" "$nfiles" "$before"

# The accounts exist and start with their role.
for r in app worker audit central; do
	got=$(sql_as root "SELECT default_role FROM mysql.user WHERE user = 'licheng_$r'")
	check_eq "licheng_$r has the default role licheng_${r}_r" "licheng_${r}_r" "$got"
done

# A copy with README.md and other non-.sql files is still up to date.
cp -r "$dir" "$tmp/same"
printf 'notes\n' >"$tmp/same/NOTES.txt"
printf '# how to\n' >"$tmp/same/README.md"
out=$("$L" -c "$LICHENG_CONF" migrate --dir "$tmp/same" 2>&1); rc=$?
check_eq "non-.sql files in the directory are ignored" 0 "$rc"
check_match "a copy of the directory has nothing to apply" '^nothing to apply$' "$out"

# An applied file that was edited: refused, naming both hashes, and the new
# migration next to it is not applied either.
cp -r "$dir" "$tmp/edited"
first=$(cd "$tmp/edited" && ls [0-9][0-9][0-9][0-9]_*.sql | head -n 1)
old=$(sha256sum "$dir/$first" | cut -d' ' -f1)
printf -- '-- an edit after the fact\n' >>"$tmp/edited/$first"
new=$(sha256sum "$tmp/edited/$first" | cut -d' ' -f1)
printf 'CREATE TABLE migrate_probe (id INT);\n' >"$tmp/edited/9990_migrate_probe.sql"
out=$("$L" -c "$LICHENG_CONF" migrate --dir "$tmp/edited" 2>&1); rc=$?
check_eq "an edited applied migration makes migrate exit 1" 1 "$rc"
check_match "the refusal names the file and both hashes" \
    "$first was changed after it was applied \\(recorded sha256 $old, now $new\\); write a new migration instead" "$out"
check_nomatch "nothing is applied after the refusal" '^applied ' "$out"
check_not "the new migration's table was not created" probe_exists
check_eq "schema_migrations is unchanged" "$before" "$(count_applied)"

# Misnamed files are refused by name, before anything is applied.
for bad in 0003-probe.sql 12_short.sql 0004_Upper.sql 0005_.sql x_0006.sql; do
	rm -rf "$tmp/bad"
	cp -r "$dir" "$tmp/bad"
	printf 'CREATE TABLE migrate_probe (id INT);\n' >"$tmp/bad/$bad"
	out=$("$L" -c "$LICHENG_CONF" migrate --dir "$tmp/bad" 2>&1); rc=$?
	check_eq "a file named $bad makes migrate exit 1" 1 "$rc"
	check_match "the refusal names $bad" "$bad" "$out"
done
check_not "no misnamed migration was applied" probe_exists

# Two files with one number.
rm -rf "$tmp/dup"
cp -r "$dir" "$tmp/dup"
cp "$dir/$first" "$tmp/dup/${first%%_*}_again.sql"
out=$("$L" -c "$LICHENG_CONF" migrate --dir "$tmp/dup" 2>&1); rc=$?
check_eq "a duplicate version makes migrate exit 1" 1 "$rc"
check_match "the refusal names the duplicate" "${first%%_*}_again.sql" "$out"
check_eq "schema_migrations is still unchanged" "$before" "$(count_applied)"

# Usage errors.
"$L" -c "$LICHENG_CONF" migrate --bogus >/dev/null 2>&1; rc=$?
check_eq "an unknown option exits 2" 2 "$rc"
"$L" -c "$LICHENG_CONF" migrate --dir "$tmp/missing" >/dev/null 2>&1; rc=$?
check_eq "a missing directory exits 1" 1 "$rc"
