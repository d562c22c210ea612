# home: GET / through nginx is a real page in the visitor's language,
# zh-TW first, with no inline script or style (the CSP forbids them).
. "$(dirname "$0")/lib.sh"

zh=$(curl_k "$BASE/")
en=$(curl_k -H 'Accept-Language: en-US,en;q=0.9' "$BASE/")
check_eq "GET / is 200" 200 "$(http_status /)"
check_match "the page is zh-TW by default" '<html lang="zh-TW">' "$zh"
check_match "it says what Licheng is, in zh-TW" '學習歷程' "$zh"
check_match "English when the browser prefers it" '<html lang="en">' "$en"
check_match "the English text is there" 'learning records' "$en"
check_match "zh-TW wins when the browser lists it first" '<html lang="zh-TW">' \
	"$(curl_k -H 'Accept-Language: zh-TW,zh;q=0.9,en;q=0.8' "$BASE/")"
check_nomatch "no inline script" '<script>|<script [^>]*>[^<]' "$zh"
check_nomatch "no inline style" '<style|style=' "$zh"
check_match "the stylesheet is served" 'text/css' "$(curl_k -sI "$BASE/static/licheng.css")"
check_eq "HEAD / is 200" 200 "$(http_status / -I)"
check_eq "POST / is 405" 405 "$(http_status / -X POST -d x=1)"
