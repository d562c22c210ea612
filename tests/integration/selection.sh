# selection: the student's ticks (勾選) for submission, through nginx with
# a real session. /items shows each school year's box (ticked against the
# caps, what remains, the deadline) and, per item, the tick form or why it
# cannot be ticked. Only eligible items can be ticked: an item still being
# checked, a course outcome pending or rejected, a quarantined one and one
# whose file is lost are refused with their reason (409) and nothing is
# written. The caps hold against crafted POSTs — the 7th course outcome and
# the 11th diverse performance of a school year are refused — and when two
# requests for the 6th and the 7th race (two curl processes at once, many
# rounds) exactly one wins. The school year's selection deadline refuses
# both tick and untick with the date; a submitted item never changes;
# another student's item, another school's, a deleted one and a random id
# are 404 (audited); a malformed request is 422. Untick works; ticks and
# unticks are audited (item.ticked / item.unticked); an item ticked once
# and since quarantined can still be unticked. An item certified on the
# teacher's page and ticked loses its tick when its file is replaced (and
# its certification with it) and when the teacher rejects it after all.
. "$(dirname "$0")/lib.sh"

RUNID="sl$RANDOM$RANDOM"
. "$(dirname "$0")/admin_helpers.bash"
. "$(dirname "$0")/selection_helpers.bash"

sa=${RUNID}a
sb=${RUNID}b
check "school A is added" L school add --code "$sa" --name "勾選甲高中"
check "school B is added" L school add --code "$sb" --name "勾選乙高中"
check "student s1 of school A signs in" signin_as s1 student "$sa"
check "student s2 of school A signs in" signin_as s2 student "$sa"
check "student s3 of school B signs in" signin_as s3 student "$sb"
check "teacher t1 of school A signs in" signin_as t1 teacher "$sa"
S1=$(login_of s1) S2=$(login_of s2)

# A term of the current school year, open for uploads, with course C1; the
# same in school B.
T1=$(new_public_id) TB=$(new_public_id) C1=$(new_public_id) CB=$(new_public_id)
sql="$(term_row "$sa" "$T1" "$CY" 1 "$(day -30)" "$(day 30)")
$(term_row "$sb" "$TB" "$CY" 1 "$(day -30)" "$(day 30)")
$(course_row "$sa" "$C1" "$T1" C1 國語文)
$(course_row "$sb" "$CB" "$TB" CB 英語文)
$(student_row "$S1" "${RUNID}1" 陳小華)
$(student_row "$S2" "${RUNID}2" 林小美)
$(student_row "$(login_of s3)" "${RUNID}3" 王大同)
$(enrols "${RUNID}1" "$C1")
$(enrols "${RUNID}2" "$C1")
$(enrols "${RUNID}3" "$CB")
$(teacher_row "$(login_of t1)")
$(teaches "$(login_of t1)" "$C1")"
check "a term, courses, students, enrolments and C1's teacher exist" root_sql "$sql"

# ------------------------------------------------------------ the items

# s1: eight course outcomes (to be certified) and twelve diverse
# performances, plus one course outcome for each way of being ineligible;
# s2 and s3 one each.
COURSE=() DIVERSE=()
for i in 1 2 3 4 5 6 7 8; do COURSE+=("$(new_item s1 course "$C1" "課程成果 $i")"); done
for i in $(seq 1 12); do DIVERSE+=("$(new_item s1 diverse ability.volunteer "志工服務 $i")"); done
PENDING=$(new_item s1 course "$C1" "待認證的成果")
REJECTED=$(new_item s1 course "$C1" "未通過的成果")
CHECKING=$(new_item s1 course "$C1" "檢查中的成果")
QUAR=$(new_item s1 course "$C1" "被隔離的成果")
LOST=$(new_item s1 course "$C1" "遺失的成果")
SUBMITTED=$(new_item s1 course "$C1" "已提交的成果")
DELETED=$(new_item s1 diverse ability.volunteer "已刪除的成果")
OTHER=$(new_item s2 diverse ability.volunteer "別人的成果")
OTHER_SCHOOL=$(new_item s3 diverse ability.volunteer "別校的成果")
n=0
for id in "${COURSE[@]}" "${DIVERSE[@]}" "$PENDING" "$REJECTED" "$CHECKING" "$QUAR" "$LOST" \
    "$SUBMITTED" "$DELETED" "$OTHER" "$OTHER_SCHOOL"; do
	[[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] && n=$((n + 1))
done
check_eq "every upload made an item" 29 "$n"
check "the workers verify and scan every file clean" wait_for 90 all_clean "${COURSE[@]}" "${DIVERSE[@]}" \
    "$PENDING" "$REJECTED" "$CHECKING" "$QUAR" "$LOST" "$SUBMITTED" "$DELETED" "$OTHER" "$OTHER_SCHOOL"

TOKEN=$(csrf s1 /items)
out=$(req s1 -o /dev/null -w '%{http_code} %{redirect_url}' --data-urlencode "csrf=$TOKEN" "$BASE/items/$DELETED/delete")
check_eq "one is deleted" "303 $BASE/items?done=deleted" "$out"

# The teacher's decisions (unread by s1 until /items is opened).
for id in "${COURSE[@]}" "$QUAR" "$LOST" "$SUBMITTED"; do certify_sql "$id"; done
reject_sql "$REJECTED" "缺少反思"
check "one object is not checked yet" root_sql "UPDATE objects SET verified_at = NULL, verify_result = NULL WHERE sha256 = '$(sha_of "$CHECKING")'"
check "one is quarantined" root_sql "UPDATE objects SET scan_result = 'infected', quarantined_at = UTC_TIMESTAMP(6) WHERE sha256 = '$(sha_of "$QUAR")'"
check_not "all_clean sees an unchecked and a quarantined file" all_clean "$CHECKING" "$QUAR"
check "one is lost" root_sql "UPDATE objects SET lost_at = UTC_TIMESTAMP(6) WHERE sha256 = '$(sha_of "$LOST")'"
check "one is submitted" root_sql "UPDATE items SET submitted_at = UTC_TIMESTAMP(6) WHERE public_id = '$SUBMITTED'"

# ------------------------------------------------------------ the page

DEADLINE="$((CY + 1912))-11-30"
p=$(page s1 /items)
check_match "the school year's box" "<h3 id=\"selection-$CY-title\">勾選提交 $CY 學年度</h3>" "$p"
check_match "nothing ticked of 6 course outcomes" '課程學習成果 已勾選 0 / 6（尚可勾選 6 件）' "$p"
check_match "nor of 10 diverse performances" '多元表現 已勾選 0 / 10（尚可 10 件）' "$p"
check_match "the default deadline: November 30 after the school year" "勾選期限 $DEADLINE<" "$p"
row() { printf '%s' "$p" | tr -d '\n' | sed 's/<li class="item card"/\n&/g' | grep -F "id=\"item-$1\""; }
check_match "a certified course outcome has the tick form" \
    "<form method=\"post\" action=\"/items/select\" class=\"select-form\"><input type=\"hidden\" name=\"csrf\" value=\"$TOKEN\"><input type=\"hidden\" name=\"item\" value=\"${COURSE[0]}\"><input type=\"hidden\" name=\"op\" value=\"tick\"><button type=\"submit\">勾選</button>" \
    "$(row "${COURSE[0]}")"
check_match "a diverse performance too" 'name="op" value="tick"><button type="submit">勾選</button>' "$(row "${DIVERSE[0]}")"
check_match "a pending one says it is not certified yet" '<span class="select-why">不能勾選：尚未認證</span>' "$(row "$PENDING")"
check_match "a rejected one says so" '<span class="select-why">不能勾選：認證未通過</span>' "$(row "$REJECTED")"
check_match "one being checked says so" '<span class="select-why">不能勾選：檔案檢查中</span>' "$(row "$CHECKING")"
check_match "a quarantined one says so" '<span class="select-why">不能勾選：已隔離</span>' "$(row "$QUAR")"
check_match "a lost one says so" '<span class="select-why">不能勾選：檔案遺失</span>' "$(row "$LOST")"
check_match "a submitted one says it can no longer change" '<span class="select-why">已提交至中央資料庫，勾選不能再變更。</span>' "$(row "$SUBMITTED")"
for id in "$PENDING" "$REJECTED" "$CHECKING" "$QUAR" "$LOST" "$SUBMITTED"; do
	check_nomatch "no tick form for $id" 'select-form' "$(row "$id")"
done
check_match "the states are the ones the student knows" \
    "href=\"/items/$PENDING\">C1 國語文</a> <span class=\"state state-pending\">待認證</span>" "$p"
check_match "certified" "href=\"/items/${COURSE[0]}\">C1 國語文</a> <span class=\"state state-certified\">認證通過</span>" "$p"
check_match "not certified, with the reason" "<span class=\"state state-rejected\">認證未通過</span>.*<p class=\"item-reason\">未通過原因： 缺少反思" \
    "$(row "$REJECTED")"
check_match "a new result is marked as new" '<span class="new-result">新的認證結果</span>' "$(row "$REJECTED")"
check_match "the certified ones too" '<span class="new-result">新的認證結果</span>' "$(row "${COURSE[0]}")"
check_match "being checked" "<span class=\"state state-checking\">檢查中</span>" "$(row "$CHECKING")"
check_match "quarantined" "<span class=\"state state-quarantined\">已隔離</span>" "$(row "$QUAR")"
check_match "file lost" "<span class=\"state state-lost\">檔案遺失</span>" "$(row "$LOST")"
check_match "no certification needed" "<span class=\"state state-no_cert\">不須認證</span>" "$(row "${DIVERSE[0]}")"
check_nomatch "no inline script or style" '<script>|style=' "$p"
check_eq "opening /items marked the results seen" 0 \
    "$(app_sql "SELECT COUNT(*) FROM items i JOIN students s ON s.id = i.student_id WHERE s.student_no = '${RUNID}1' AND i.cert_notice = 1")"
check_nomatch "so the next visit shows none as new" 'class="new-result"' "$(page s1 /items)"

# ------------------------------------------------------------ ticking

a0=$(n_audit item.ticked "$S1")
out=$(tick s1 "${COURSE[0]}")
check_eq "a certified course outcome is ticked" "303 $BASE/items?done=ticked" "$out"
check_eq "its selected_at is set" 1 "$(ticked "${COURSE[0]}")"
check_match "audited with its school year and count" \
    "^item:${COURSE[0]}	success	\\{\"kind\":\"course\",\"year\":$CY,\"term\":\"$CY-1\",\"what\":\"C1 國語文\",\"ticked\":1,\"max\":6\\}\$" \
    "$(last_audit item.ticked "$S1")"
p=$(page s1 "/items?done=ticked")
check_match "the page says it was ticked" '<p class="notice" role="status">已勾選' "$p"
check_match "the box counts it" '課程學習成果 已勾選 1 / 6（尚可勾選 5 件）' "$p"
check_match "the row says ticked and offers the untick" \
    '<span class="ticked">已勾選提交</span>.*name="op" value="untick"><button type="submit" class="secondary">取消勾選</button>' \
    "$(row "${COURSE[0]}")"
out=$(tick s1 "${COURSE[0]}")
check_eq "ticking it again changes nothing" "303 $BASE/items?done=ticked" "$out"
check_eq "and is not audited again" $((a0 + 1)) "$(n_audit item.ticked "$S1")"

for id in "$PENDING" "$REJECTED" "$CHECKING" "$QUAR" "$LOST"; do
	tick s1 "$id" >"$tmp/out"
	out=$(cat "$tmp/out")
	check_eq "ineligible $id is refused (409)" "409 " "$out"
	check_eq "and stays unticked" 0 "$(ticked "$id")"
	case $id in
	"$PENDING") want='這項成果目前不能勾選：尚未認證。' ;;
	"$REJECTED") want='這項成果目前不能勾選：認證未通過。' ;;
	"$CHECKING") want='這項成果目前不能勾選：檔案檢查中。' ;;
	"$QUAR") want='這項成果目前不能勾選：已隔離。' ;;
	"$LOST") want='這項成果目前不能勾選：檔案遺失。' ;;
	esac
	check_eq "saying why" "$want" "$(alert_text)"
done
check_match "the refusal is the items page again" '<h1 id="items-title">我的學習歷程</h1>' "$(body)"
out=$(tick s1 "$SUBMITTED")
check_eq "a submitted item is refused (409)" "409 " "$out"
check_eq "saying it was submitted" '這項成果已提交至中央資料庫，勾選不能再變更。' "$(alert_text)"
check_eq "and it stays unticked" 0 "$(ticked "$SUBMITTED")"
check_eq "no refusal was recorded as a tick" $((a0 + 1)) "$(n_audit item.ticked "$S1")"

# ------------------------------------------------------------ not theirs

for pair in "another student's:$OTHER:not_owner" "another school's:$OTHER_SCHOOL:other_school" \
    "a deleted:$DELETED:deleted" "a random:$(new_public_id):unknown"; do
	IFS=: read -r what id reason <<<"$pair"
	out=$(tick s1 "$id")
	check_eq "$what item is 404" "404 " "$out"
	check_match "audited as denied ($reason)" "denied.*\"reason\":\"$reason\"" "$(last_audit access.denied "$S1")"
	out=$(tick s1 "$id" untick)
	check_eq "its untick too" "404 " "$out"
done
check_eq "another student's item stays unticked" 0 "$(ticked "$OTHER")"
check_eq "the deleted one too" 0 "$(ticked "$DELETED")"
out=$(tick s2 "${COURSE[0]}" untick)
check_eq "another student cannot untick s1's item (404)" "404 " "$out"
check_eq "which stays ticked" 1 "$(ticked "${COURSE[0]}")"

out=$(tick s1 "${COURSE[1]}" select)
check_eq "an unknown op is 422" "422 " "$out"
check_eq "saying the request was malformed" '勾選的要求不完整或格式不對，沒有變更。請使用頁面上的按鈕。' "$(alert_text)"
out=$(tick s1 "not-an-id")
check_eq "a malformed item id is 422" "422 " "$out"
TOKEN=$(csrf s1 /items)
out=$(req s1 -o /dev/null -w '%{http_code}' --data-urlencode "item=${COURSE[1]}" \
    --data-urlencode "op=tick" --data-urlencode "extra=1" --data-urlencode "csrf=$TOKEN" "$BASE/items/select")
check_eq "an undeclared field is 422" 422 "$out"
out=$(req s1 -o /dev/null -w '%{http_code}' --data-urlencode "item=${COURSE[1]}" --data-urlencode "op=tick" "$BASE/items/select")
check_eq "without the CSRF token: 403" 403 "$out"
check_eq "none of them ticked anything" 0 "$(ticked "${COURSE[1]}")"

# ------------------------------------------------------------ the caps

for i in 1 2 3 4; do tick s1 "${COURSE[$i]}" >/dev/null; done
check_eq "five course outcomes are ticked" 5 \
    "$(app_sql "SELECT COUNT(*) FROM items i JOIN students s ON s.id = i.student_id WHERE s.student_no = '${RUNID}1' AND i.kind = 'course' AND i.selected_at IS NOT NULL")"
course_ticks() { app_sql "SELECT COUNT(*) FROM items i JOIN students s ON s.id = i.student_id WHERE s.student_no = '${RUNID}1' AND i.kind = 'course' AND i.selected_at IS NOT NULL"; }

# The 6th and the 7th at the same moment, many times: exactly one wins.
# (The racers only read the cookie jar: two curls writing one jar at once
# could lose the session.)
race() {
	curl -s --cacert "$CACERT" -b "$tmp/s1.jar" -o /dev/null -w '%{http_code}' \
	    --data-urlencode "item=$1" --data-urlencode "op=tick" \
	    --data-urlencode "csrf=$TOKEN" "$BASE/items/select"
}
TOKEN=$(csrf s1 /items)
rounds=20 good=0
for r in $(seq 1 $rounds); do
	race "${COURSE[5]}" >"$tmp/race6" &
	p6=$!
	race "${COURSE[6]}" >"$tmp/race7" &
	p7=$!
	wait "$p6" "$p7"
	r6=$(cut -c1-3 "$tmp/race6") r7=$(cut -c1-3 "$tmp/race7")
	n=$(course_ticks)
	if [ "$n" = 6 ] && { [ "$r6 $r7" = "303 409" ] || [ "$r6 $r7" = "409 303" ]; }; then
		good=$((good + 1))
	else
		printf '# round %d: %s %s, %s ticked\n' "$r" "$r6" "$r7" "$n"
	fi
	# Back to five for the next round.
	if [ "$r6" = 303 ]; then tick s1 "${COURSE[5]}" untick "$TOKEN" >/dev/null; fi
	if [ "$r7" = 303 ]; then tick s1 "${COURSE[6]}" untick "$TOKEN" >/dev/null; fi
done
check_eq "in each of $rounds races of the 6th and 7th, exactly one won" "$rounds" "$good"
check_eq "five are ticked again" 5 "$(course_ticks)"

out=$(tick s1 "${COURSE[5]}")
check_eq "the 6th course outcome is ticked" "303 $BASE/items?done=ticked" "$out"
out=$(tick s1 "${COURSE[6]}")
check_eq "the 7th is refused (409)" "409 " "$out"
check_eq "saying the cap and the count" "$CY 學年度的課程學習成果最多只能勾選 6 件，你已勾選 6 件。請先取消其他勾選。" "$(alert_text)"
check_eq "six stay ticked" 6 "$(course_ticks)"
check_match "the box shows none left" '課程學習成果 已勾選 6 / 6（尚可勾選 0 件）' "$(body)"

for i in $(seq 0 9); do tick s1 "${DIVERSE[$i]}" >/dev/null; done
check_eq "ten diverse performances are ticked" 10 \
    "$(app_sql "SELECT COUNT(*) FROM items i JOIN students s ON s.id = i.student_id WHERE s.student_no = '${RUNID}1' AND i.kind = 'diverse' AND i.selected_at IS NOT NULL")"
out=$(tick s1 "${DIVERSE[10]}")
check_eq "the 11th is refused (409)" "409 " "$out"
check_eq "saying the cap" "$CY 學年度的多元表現最多只能勾選 10 件，你已勾選 10 件。請先取消其他勾選。" "$(alert_text)"
check_eq "it stays unticked" 0 "$(ticked "${DIVERSE[10]}")"

# ------------------------------------------------------------ untick

a0=$(n_audit item.unticked "$S1")
out=$(tick s1 "${COURSE[0]}" untick)
check_eq "an untick is accepted" "303 $BASE/items?done=unticked" "$out"
check_eq "selected_at is cleared" 0 "$(ticked "${COURSE[0]}")"
check_match "audited" "^item:${COURSE[0]}	success	.*\"ticked\":5,\"max\":6" "$(last_audit item.unticked "$S1")"
check_eq "once" $((a0 + 1)) "$(n_audit item.unticked "$S1")"
check_match "the page says so" '<p class="notice" role="status">已取消勾選' "$(page s1 "/items?done=unticked")"
out=$(tick s1 "${COURSE[6]}")
check_eq "now the 7th fits" "303 $BASE/items?done=ticked" "$out"

# A ticked item that becomes ineligible stays ticked until unticked, and
# the page says it will not be submitted.
check "a ticked item's file is quarantined" root_sql "UPDATE objects SET scan_result = 'infected', quarantined_at = UTC_TIMESTAMP(6) WHERE sha256 = '$(sha_of "${COURSE[6]}")'"
p=$(page s1 /items)
check_match "the page says it does not meet the conditions now" \
    '<p class="select-note">這項成果目前不符合提交條件（已隔離），提交時不會送出；你可以取消勾選。</p>' "$(row "${COURSE[6]}")"
out=$(tick s1 "${COURSE[6]}" untick)
check_eq "it can be unticked" "303 $BASE/items?done=unticked" "$out"
out=$(tick s1 "${COURSE[6]}")
check_eq "and not ticked again" "409 " "$out"

# ------------------------------------------------------------ the deadline

YESTERDAY=$(TZ=Asia/Taipei date -d '-1 day' +%F)
check "the school's selection deadline is set to yesterday" root_sql \
    "INSERT INTO selection_deadlines (school_id, year, deadline, set_by) SELECT s.id, $CY, '$YESTERDAY', u.id FROM schools s JOIN users u ON u.login = '$S1' WHERE s.code = '$sa'"
out=$(tick s1 "${COURSE[7]}")
check_eq "a tick after the deadline is refused (409)" "409 " "$out"
check_eq "with the date" "$CY 學年度的勾選期限已於 $YESTERDAY 截止，不能再勾選或取消勾選。" "$(alert_text)"
out=$(tick s1 "${COURSE[1]}" untick)
check_eq "an untick too" "409 " "$out"
check_eq "nothing changed" "$(printf '0\n1')" "$(ticked "${COURSE[7]}"; ticked "${COURSE[1]}")"
p=$(page s1 /items)
check_match "the box says the deadline passed" "勾選期限 $YESTERDAY（已截止）" "$p"
check_match "and the rows offer no form" "<span class=\"select-why\">勾選期限已於 $YESTERDAY 截止。</span>" "$(row "${COURSE[1]}")"
check_nomatch "none at all" 'class="select-form"' "$p"
TODAY=$(TZ=Asia/Taipei date +%F)
check "the deadline is today" root_sql "UPDATE selection_deadlines SET deadline = '$TODAY' WHERE year = $CY AND school_id = (SELECT id FROM schools WHERE code = '$sa')"
out=$(tick s1 "${COURSE[1]}" untick)
check_eq "the deadline's own day still allows it" "303 $BASE/items?done=unticked" "$out"
check "the deadline row is removed" root_sql "DELETE FROM selection_deadlines WHERE school_id = (SELECT id FROM schools WHERE code = '$sa')"

# ------------------------------------------------------------ English

req s1 -o /dev/null "$BASE/lang/en"
p=$(page s1 /items)
check_match "in English: the box" "Ticked for submission, school year $CY" "$p"
check_match "the counts" 'Course learning outcomes: 4 / 6 ticked \(2 more allowed\)' "$p"
check_match "why an item cannot be ticked" 'Cannot be ticked: not certified yet' "$(row "$PENDING")"
out=$(tick s1 "${DIVERSE[10]}")
check_eq "the cap refusal is English too" \
    "At most 10 diverse performances can be ticked for school year $CY, and you have ticked 10. Untick another one first." "$(alert_text)"
req s1 -o /dev/null "$BASE/lang/zh-TW"

# ------------------------------------------------------------ the teacher's decisions

# Certified on the teacher's page, ticked, then: a file replaced (the
# certification goes, and the tick with it), or the teacher's later
# rejection (likewise).
R1=$(new_item s1 course "$C1" "要替換檔案的成果")
R2=$(new_item s1 course "$C1" "之後被退回的成果")
check "the workers check both" wait_for 90 all_clean "$R1" "$R2"
check_eq "t1 certifies R1 on /certify/:id" "303 $BASE/certify?done=certified" "$(decide t1 "$R1" certified)"
check_eq "and R2" "303 $BASE/certify?done=certified" "$(decide t1 "$R2" certified)"
check_eq "s1 ticks R1" "303 $BASE/items?done=ticked" "$(tick s1 "$R1")"
check_eq "and R2" "303 $BASE/items?done=ticked" "$(tick s1 "$R2")"
pdf "$tmp/new.pdf" 3000
TOKEN=$(csrf s1 "/items/$R1")
out=$(req s1 -o "$tmp/page" -w '%{http_code} %{redirect_url}' -F "csrf=$TOKEN" \
    --form-string "description=要替換檔案的成果" -F "confirm=1" -F "doc=@$tmp/new.pdf" "$BASE/items/$R1")
check_eq "s1 replaces R1's file, confirming" "303 $BASE/items/$R1?done=changed" "$out"
check_eq "R1 is pending again, without its decision, unticked" "$(printf 'pending\t1\t0')" \
    "$(app_sql "SELECT cert_state, cert_id IS NULL, selected_at IS NOT NULL FROM items WHERE public_id = '$R1'")"
check_match "audited as the certification removed, unticked" "^item:$R1	success	.*\"unticked\":true" \
    "$(last_audit item.certification_removed "$S1")"
p=$(page s1 /items)
check_nomatch "its row is no longer ticked" 'class="ticked"' "$(row "$R1")"
check_match "and says why it cannot be ticked" '<span class="select-why">不能勾選：(檔案檢查中|尚未認證)</span>' "$(row "$R1")"
out=$(tick s1 "$R1")
check_eq "a tick of it now is refused" "409 " "$out"
check_eq "t1 rejects R2 after all" "303 $BASE/certify?done=rejected" "$(decide t1 "$R2" rejected "與課程無關")"
check_eq "R2 is unticked" 0 "$(ticked "$R2")"
p=$(page s1 /items)
check_match "its row says why it cannot be ticked" '<span class="select-why">不能勾選：認證未通過</span>' "$(row "$R2")"

check "the audit chain verifies" audit_verified
