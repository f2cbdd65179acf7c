#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
# httpd: a 404 or 5xx means the app behind it is down
code=$(docker compose exec -T httpd bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf "GET / HTTP/1.0\r\nHost: orders.corp.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   httpd http :80/ -> $code" ;; *) echo "FAIL httpd http :80/ -> ${code:-no answer}"; fail=1 ;; esac
# httpd: TLS on :443 (sh has no TLS client: only the port here)
if docker compose exec -T httpd bash -c 'exec 3<>/dev/tcp/127.0.0.1/443' 2>/dev/null; then echo "ok   httpd tcp :443"; else echo "FAIL httpd tcp :443"; fail=1; fi
if docker compose exec -T postgresql bash -c 'exec 3<>/dev/tcp/127.0.0.1/5433' 2>/dev/null; then echo "ok   postgresql tcp :5433"; else echo "FAIL postgresql tcp :5433"; fail=1; fi
exit $fail
