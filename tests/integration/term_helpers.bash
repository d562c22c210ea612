# term_helpers.bash: sourced (after lib.sh, admin_helpers.bash) by the
# scenarios of issue 7's admin pages (standins, deadlines): Taiwan dates
# relative to today, so that terms, windows and deadlines are open or
# passed as a scenario needs whatever day it runs, and terms made with SQL.

# day N: the Taiwan date N days from today; plus DATE N: N days after DATE.
day() { TZ=Asia/Taipei date -d "$1 days" +%Y-%m-%d; }
plus() { date -u -d "$1 $2 days" +%Y-%m-%d; }
# term SCHOOL YEAR SEMESTER STARTS ENDS: adds a term; prints its public id.
term() {
	local pub
	pub=$(new_public_id)
	app_sql "INSERT INTO terms (public_id, school_id, year, semester, starts_on, ends_on)
	    SELECT '$pub', id, $2, $3, '$4', '$5' FROM schools WHERE code = '$1'" || return 1
	printf '%s\n' "$pub"
}
