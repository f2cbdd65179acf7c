#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
# apache2: a 404 or 5xx means the app behind it is down
code=$(docker compose exec -T apache2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf "GET / HTTP/1.0\r\nHost: wiki.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   apache2 http :80/ -> $code" ;; *) echo "FAIL apache2 http :80/ -> ${code:-no answer}"; fail=1 ;; esac
if docker compose exec -T wiki bash -c 'exec 3<>/dev/tcp/127.0.0.1/8000' 2>/dev/null; then echo "ok   wiki tcp :8000"; else echo "FAIL wiki tcp :8000"; fail=1; fi
exit $fail
