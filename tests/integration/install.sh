#!/usr/bin/env bash
# install.sh: deploy/install (what `make install` runs) into a temporary
# DESTDIR with PREFIX=/usr: every file lands where docs/deploy.md's layout
# table says, templates are filled, an existing licheng.yaml survives a
# reinstall, the production nginx site passes `nginx -t`, and the systemd
# units pass `systemd-analyze verify` where it exists.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

TMP=$(mktemp -d /tmp/lct-install.XXXXXX)
trap 'rm -rf "$TMP"; lib_finish' EXIT
D=$TMP/root

if ! "$REPO/deploy/install" "$D" /usr /etc/licheng >"$TMP/install.out" 2>&1; then
	fail "deploy/install failed: $(tail -n 5 "$TMP/install.out")"
	exit 1
fi
ok "deploy/install DESTDIR PREFIX=/usr SYSCONFDIR=/etc/licheng"

# --- every path of docs/deploy.md's layout table exists
# shellcheck disable=SC2016 # backquotes are Markdown here
layout=$(sed -n '/<!-- layout:begin -->/,/<!-- layout:end -->/p' "$REPO/docs/deploy.md" |
	grep '^| `/' | sed 's/^| `\([^`]*\)`.*/\1/')
if [ -z "$layout" ]; then
	fail "docs/deploy.md has no layout table (<!-- layout:begin --> ... <!-- layout:end -->)"
fi
for p in $layout; do
	check "installed: $p" test -e "$D$p"
done

# --- programs, data and templates
for prog in licheng-fcgi licheng-worker licheng; do
	check "$prog is executable" test -x "$D/usr/bin/$prog"
done
n_src=$(find "$REPO/migrations" -name '*.sql' | wc -l)
n_dst=$(find "$D/usr/share/licheng/migrations" -name '*.sql' | wc -l)
check_eq "every migration is installed" "$n_src" "$n_dst"
for f in "$REPO"/conf/*.txt; do
	[ -e "$f" ] || continue
	check "data file $(basename "$f") is installed" test -f "$D/usr/share/licheng/$(basename "$f")"
done
for f in "$REPO"/conf/messages/*; do
	[ -e "$f" ] || continue
	check "message catalogue $(basename "$f") is installed" cmp -s "$f" "$D/usr/share/licheng/messages/$(basename "$f")"
done

# No unfilled placeholder outside comments in anything rendered.
for f in "$D/usr/share/licheng/nginx/licheng.conf" "$D/lib/systemd/system/licheng-fcgi.service" \
	"$D/lib/systemd/system/licheng-worker.service"; do
	check_not "$(basename "$f") has no unfilled placeholder" grep -q '^[^#]*@[A-Z_]*@' "$f"
done

# --- the configuration: production paths, and never overwritten
conf=$D/etc/licheng/licheng.yaml
check_eq "licheng.yaml points at the installed migrations" /usr/share/licheng/migrations \
	"$(conf_get migrations "$conf")"
check_eq "licheng.yaml logs to /var/log/licheng" /var/log/licheng/licheng.log "$(conf_get file "$conf")"
check_eq "licheng.yaml names /etc/licheng/secrets.yaml" /etc/licheng/secrets.yaml \
	"$(conf_get secrets_file "$conf")"
echo "# edited by the operator" >>"$conf"
cp "$conf" "$TMP/edited.yaml"
"$REPO/deploy/install" "$D" /usr /etc/licheng >"$TMP/install2.out" 2>&1 ||
	fail "a second deploy/install failed: $(tail -n 5 "$TMP/install2.out")"
check "a reinstall keeps the existing licheng.yaml" cmp -s "$TMP/edited.yaml" "$conf"
check_not "no secrets file is installed (the operator generates it)" test -e "$D/etc/licheng/secrets.yaml"
secrets=$("$D/usr/share/licheng/gen-secrets")
check_match "gen-secrets makes 32-character passwords" \
	'app_password: "[A-Za-z0-9]{32}"' "$secrets"

# --- systemd units: the settings docs/deploy.md relies on
for unit in licheng-fcgi licheng-worker; do
	u=$D/lib/systemd/system/$unit.service
	for want in "User=licheng" "Group=licheng" "Restart=on-failure" "NoNewPrivileges=yes" \
		"ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "RuntimeDirectory=licheng" \
		"LogsDirectory=licheng" "KillSignal=SIGTERM" \
		"ExecStart=/usr/bin/$unit -c /etc/licheng/licheng.yaml" \
		"ExecStartPre=/usr/bin/$unit -n -c /etc/licheng/licheng.yaml" \
		"ReadWritePaths=/srv/licheng/store-a /srv/licheng/store-b"; do
		check "$unit.service: $want" grep -qxF "$want" "$u"
	done
	check_match "$unit.service: ExecReload checks then sends SIGHUP" \
		"^ExecReload=/bin/sh -c '/usr/bin/$unit -n -c /etc/licheng/licheng.yaml && kill -HUP \\\$MAINPID'$" \
		"$(grep '^ExecReload=' "$u")"
done

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the programs at their ExecStart paths: point them into DESTDIR.
	mkdir -p "$TMP/units"
	for unit in licheng-fcgi licheng-worker; do
		sed "s|/usr/bin/|$D/usr/bin/|g" "$D/lib/systemd/system/$unit.service" >"$TMP/units/$unit.service"
		if out=$(systemd-analyze verify "$TMP/units/$unit.service" 2>&1); then
			ok "systemd-analyze verify $unit.service"
		else
			fail "systemd-analyze verify $unit.service: $out"
		fi
	done
else
	ok "skipped systemd-analyze verify: systemd-analyze is not installed here"
fi

# --- logrotate
lr=$D/etc/logrotate.d/licheng
for want in daily "rotate 14" compress delaycompress; do
	check "logrotate: $want" grep -qE "^[[:space:]]*$want$" "$lr"
done
check "logrotate: SIGUSR1 to both services after rotating" \
	sh -c "grep -q 'systemctl kill -s USR1.*licheng-fcgi.service' '$lr' && grep -q 'systemctl kill -s USR1.*licheng-worker.service' '$lr'"

# --- the production nginx site is valid nginx (paths moved into DESTDIR,
# the dev stack's certificate standing in for the real one).
site=$TMP/site.conf
sed -e "s|/usr/share/licheng/|$D/usr/share/licheng/|g" \
	-e "s|/etc/licheng/tls/fullchain.pem|$CACERT|g" \
	-e "s|/etc/licheng/tls/privkey.pem|$LICHENG_RUN/nginx/tls/key.pem|g" \
	"$D/usr/share/licheng/nginx/licheng.conf" >"$site"
mkdir -p "$TMP/ngx/tmp"
cat >"$TMP/ngx/nginx.conf" <<EOF
pid $TMP/ngx/nginx.pid;
error_log $TMP/ngx/error.log;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    client_body_temp_path $TMP/ngx/tmp/b;
    proxy_temp_path $TMP/ngx/tmp/p;
    fastcgi_temp_path $TMP/ngx/tmp/f;
    uwsgi_temp_path $TMP/ngx/tmp/u;
    scgi_temp_path $TMP/ngx/tmp/s;
    access_log off;
    include $site;
}
EOF
if out=$(nginx -t -q -e "$TMP/ngx/error.log" -p "$TMP/ngx/" -c "$TMP/ngx/nginx.conf" 2>&1); then
	ok "the production nginx site passes nginx -t"
else
	fail "nginx -t on the production site: $out"
fi
check "production site listens on 443 with http2" grep -q '^[[:space:]]*listen 443 ssl http2;' "$site"
# shellcheck disable=SC2016 # nginx variables, literally
check "production site redirects http to https without a port" \
	grep -qF 'return 301 https://$host$request_uri;' "$site"
check "production site passes to /run/licheng/fcgi.sock" grep -qF 'unix:/run/licheng/fcgi.sock;' "$site"
check "production site exempts nobody from the rate limits" \
	sh -c "sed -n '/^geo /,/^}/p' '$site' | grep -v default | grep -q ' 1;' && exit 1 || exit 0"
