#!/usr/bin/env bash
# nginx.sh: the site in front of licheng-fcgi — TLS versions, the HTTP to
# HTTPS redirect, no version leaks, the security headers on every kind of
# response (pages, licheng-fcgi's and nginx's own errors), body-size limits,
# loopback-only /status, and the sign-in rate limit.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

TMP=$(mktemp -d /tmp/lct-nginx.XXXXXX)
trap 'rm -rf "$TMP"; lib_finish' EXIT

# fetch NAME PATH [curl args...]: saves the headers and body of one request in
# $TMP/NAME.h and $TMP/NAME.b and prints the status code.
fetch() {
	local name=$1 path=$2
	shift 2
	curl -s --cacert "$CACERT" -D "$TMP/$name.h" -o "$TMP/$name.b" \
		-w '%{http_code}' "$@" "$BASE$path" || true
}

# header NAME FIELD: the value of one response header (last one, CR removed).
header() {
	grep -i "^$2:" "$TMP/$1.h" | tail -n 1 | sed 's/^[^:]*:[[:space:]]*//' | tr -d '\r'
}

CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

# security_headers NAME: every security header, with its exact value, once.
security_headers() {
	local name=$1 field want got n
	while IFS='|' read -r field want; do
		got=$(header "$name" "$field")
		n=$(grep -ci "^$field:" "$TMP/$name.h" || true)
		if [ "$got" = "$want" ] && [ "$n" -eq 1 ]; then
			ok "$name: $field"
		else
			fail "$name: $field is '$got' ($n times), expected '$want' once"
		fi
	done <<EOF
Strict-Transport-Security|max-age=63072000
X-Content-Type-Options|nosniff
Content-Security-Policy|$CSP
Referrer-Policy|same-origin
X-Frame-Options|DENY
Permissions-Policy|camera=(), microphone=(), geolocation=()
EOF
}

# no_version NAME: the Server header is exactly "nginx" or absent, and the
# body names no nginx version.
no_version() {
	local name=$1 server
	server=$(header "$name" Server)
	if [ -z "$server" ] || [ "$server" = nginx ]; then
		ok "$name: Server header reveals no version ('$server')"
	else
		fail "$name: Server header is '$server'"
	fi
	check_not "$name: the body names no nginx version" grep -Eiq 'nginx/[0-9]' "$TMP/$name.b"
}

# --- /healthz over TLS, verified against the stack's certificate (no -k)
code=$(fetch healthz /healthz)
check_eq "/healthz over TLS is 200" 200 "$code"
check_match "/healthz is JSON" '^[[:space:]]*\{.*\}[[:space:]]*$' "$(tr -d '\n' <"$TMP/healthz.b")"
check_match "/healthz has a JSON content type" '^application/json' "$(header healthz Content-Type)"
security_headers healthz
no_version healthz

# --- http:// moves to https:// with 301, keeping the path and query
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
	"http://127.0.0.1:$HTTP_PORT/healthz?from=http")
check_eq "http:// redirects with 301 to https://" \
	"301 https://127.0.0.1:$HTTPS_PORT/healthz?from=http" "$out"
curl -s -D "$TMP/redirect.h" -o "$TMP/redirect.b" "http://127.0.0.1:$HTTP_PORT/x" >/dev/null || true
no_version redirect

# --- a 404 from licheng-fcgi
code=$(fetch fcgi404 /no-such-page-licheng-test)
check_eq "an unknown page is 404 (licheng-fcgi)" 404 "$code"
security_headers fcgi404
no_version fcgi404

# --- nginx's own 404 for a missing static file
code=$(fetch static404 /static/missing-licheng-test.css)
check_eq "a missing static file is 404 (nginx)" 404 "$code"
security_headers static404
no_version static404

# --- a 405: DELETE on a static file is refused by nginx
code=$(fetch m405 /static/missing-licheng-test.css -X DELETE)
check_eq "DELETE /static/... is 405" 405 "$code"
security_headers m405
no_version m405

# --- a 413: a 2 MB POST outside the upload location (limit 1m)
head -c 2000000 /dev/zero >"$TMP/2mb"
code=$(fetch big413 / -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$TMP/2mb")
check_eq "a 2 MB POST outside the upload location is 413" 413 "$code"
security_headers big413
no_version big413

# The upload location takes it (whatever licheng-fcgi then says of it).
code=$(fetch items /items -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$TMP/2mb")
if [ "$code" != 413 ] && [ "$code" != 000 ]; then
	ok "a 2 MB POST to /items passes nginx's body limit ($code)"
else
	fail "a 2 MB POST to /items got $code"
fi

# --- internal locations are not reachable from outside
code=$(fetch errpage /_errors/502.html)
check_eq "/_errors/ is internal" 404 "$code"
code=$(fetch storeint /_store/primary/00/00/x)
check_eq "/_store/primary/ is internal" 404 "$code"

# --- TLS versions: 1.1 refused, 1.2 and 1.3 accepted (with verification)
tls_handshake() {
	openssl s_client -brief -connect "127.0.0.1:$HTTPS_PORT" -servername localhost \
		-CAfile "$CACERT" -verify_return_error "$@" </dev/null 2>&1 | tr -d '\0'
	return "${PIPESTATUS[0]}"
}
# SECLEVEL=0 lets the client offer TLS 1.1 at all, so the refusal is nginx's.
if out=$(tls_handshake -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'); then
	fail "TLS 1.1 was accepted: $(printf '%s' "$out" | grep -m1 'Protocol version')"
else
	ok "TLS 1.1 is refused"
fi
for v in 1_2 1_3; do
	name="TLSv${v/_/.}"
	if out=$(tls_handshake "-tls$v") && printf '%s' "$out" | grep -q "Protocol version: $name"; then
		ok "$name is accepted and the certificate verifies"
	else
		fail "$name handshake failed: $(printf '%s' "$out" | grep -Ei 'error|alert|verif|protocol' | head -n 3)"
	fi
done
check_eq "HTTP/2 is spoken over TLS" 2 \
	"$(curl -s -o /dev/null --http2 -w '%{http_version}' --cacert "$CACERT" "$BASE/healthz")"
if out=$(tls_handshake -tls1_2 -cipher 'AES128-SHA:@SECLEVEL=0'); then
	fail "a non-forward-secret cipher (AES128-SHA) was accepted"
else
	ok "non-forward-secret ciphers are refused"
fi

# --- /status answers on loopback only
code=$(fetch status /status)
check_eq "/status from 127.0.0.1 answers 200" 200 "$code"
if curl -s -o /dev/null --interface 127.0.0.2 --max-time 5 --cacert "$CACERT" "$BASE/healthz" 2>/dev/null; then
	code=$(fetch status2 /status --interface 127.0.0.2)
	check_eq "/status from another address (127.0.0.2) is 403" 403 "$code"
	code=$(fetch metrics2 /metrics --interface 127.0.0.2)
	check_eq "/metrics from another address (127.0.0.2) is 403" 403 "$code"
	security_headers status2

	# --- sign-in rate limit: 10/min, burst 5, POSTs only, per address. The
	# dev stack exempts 127.0.0.1 (LICHENG_RATE_EXEMPT), so use 127.0.0.2.
	got429=0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		code=$(fetch rl /login --interface 127.0.0.2 -X POST -d 'login=x&password=y')
		if [ "$code" = 429 ]; then got429=1; break; fi
	done
	check_eq "rapid sign-in POSTs from one address get 429" 1 "$got429"
	if [ "$got429" = 1 ]; then security_headers rl; fi
	code=$(fetch rlget /login --interface 127.0.0.2)
	if [ "$code" != 429 ]; then ok "GET /login is not rate limited ($code)"; else fail "GET /login got 429"; fi
else
	ok "skipped the non-loopback checks: cannot bind 127.0.0.2 here"
fi
