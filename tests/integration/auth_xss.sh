# auth_xss: everything echoed back is escaped — the login typed on /login
# and /activate, a user's name (set with the CLI) on the home, account and
# privacy pages, the path of a missing page — and no page carries an
# inline script, which the Content-Security-Policy would forbid anyway.
. "$(dirname "$0")/lib.sh"

from_addr 1
SCHOOL=$(new_school)
LOGIN_PREFIX=xs
PW="Gk2@spruce-X"
PAYLOADS=('<script>alert(1)</script>' '"'"'"'><img src=x onerror=alert(1)>' 'javascript:alert(1)')

# clean DESC: the last page has no raw markup from the payloads, no inline
# script and no javascript: link.
clean() {
	check_nomatch "$1: no raw <script" '<script' "$BODY"
	check_nomatch "$1: no raw <img" '<img' "$BODY"
	check_nomatch "$1: no onerror attribute" '[[:space:]]onerror=' "$BODY"
	check_nomatch "$1: no javascript: URL" '(href|src|action)="?javascript:' "$BODY"
}

J=$(newjar)
for p in "${PAYLOADS[@]}"; do
	signin "$J" "$p" "$PW"
	check_eq "/login with the login $p: the form again" 200 "$STATUS"
	clean "/login echoing $p"
done
signin "$J" "${PAYLOADS[0]}" "$PW"
check_match "/login: the login comes back escaped" 'value="&lt;script&gt;alert\(1\)&lt;/script&gt;"' "$BODY"
signin "$J" "${PAYLOADS[1]}" "$PW"
check_match "/login: quotes come back escaped" 'value="&quot;&#39;&gt;&lt;img src&#61;x onerror&#61;alert\(1\)&gt;"' "$BODY"

for p in "${PAYLOADS[@]}"; do
	activate "$J" "$p" ABCDE-FGHJK "$PW"
	check_eq "/activate with the login $p: the form again" 200 "$STATUS"
	clean "/activate echoing $p"
done
activate "$J" "${PAYLOADS[1]}" ABCDE-FGHJK "$PW"
check_match "/activate: the login comes back escaped" 'value="&quot;&#39;&gt;&lt;img' "$BODY"
# An incomplete form echoes what was typed, too.
web "$J" /activate
post "$J" /activate "login=${PAYLOADS[0]}"
clean "/activate, incomplete form"

# A name with markup, as an operator might paste it.
NAME='<script>alert(1)</script>"'"'"'><img src=x onerror=alert(1)> javascript:alert(1)'
read -r X XC < <(new_user student --name "$NAME")
XJ=$(newjar)
check "the account with the odd name is activated" activate "$XJ" "$X" "$XC" "$PW"
check "it signs in" signin "$XJ" "$X" "$PW"
web "$XJ" /privacy
check_eq "the privacy page opens" 200 "$STATUS"
clean "the privacy page with the name in its header"
check_match "the privacy page shows the name escaped" '&lt;script&gt;alert\(1\)&lt;/script&gt;&quot;&#39;&gt;&lt;img src&#61;x' "$BODY"
check "the notice is accepted" accept_privacy "$XJ"
web "$XJ" /
check_eq "the home page opens" 200 "$STATUS"
clean "the home page"
check_match "the home page shows the name escaped in its heading" '<h1 id="home-title">&lt;script&gt;' "$BODY"
web "$XJ" /account
clean "the account page"
check_match "the account page shows the name escaped" '<dd>&lt;script&gt;alert\(1\)&lt;/script&gt;' "$BODY"
web "$XJ" /password
clean "the password page"

# Query strings and paths are not echoed raw either.
web "$J" "/login?done=%3Cscript%3Ealert(1)%3C/script%3E"
clean "/login?done=<script>"
web "$J" "/%3Cscript%3Ealert(1)%3C/script%3E"
check_eq "a path with markup is 404" 404 "$STATUS"
clean "the 404 page"

csp=$(printf '%s\n' "$HDRS" | sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p')
check_match "the CSP allows scripts from the site only" "script-src 'self'" "$csp"
check_nomatch "the CSP allows no inline script" 'unsafe-inline|unsafe-eval' "$csp"

for l in "${PAYLOADS[@]}"; do guard_unlock "${l,,}"; done
check "the audit chain verifies" audit_verified
