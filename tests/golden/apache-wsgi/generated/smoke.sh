#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
# apache2: wiki's health route; a 404 or 5xx means the app is down
code=$(docker compose exec -T apache2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf "GET /admin/login/ HTTP/1.0\r\nHost: wiki.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   apache2 http :80/admin/login/ -> $code" ;; *) echo "FAIL apache2 http :80/admin/login/ -> ${code:-no answer}"; fail=1 ;; esac
# wiki: wiki's health route; a 404 or 5xx means the app is down
code=$(docker compose exec -T wiki bash -c 'exec 3<>/dev/tcp/127.0.0.1/8000; printf "GET /admin/login/ HTTP/1.0\r\nHost: wiki.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??) echo "ok   wiki http :8000/admin/login/ -> $code" ;; *) echo "FAIL wiki http :8000/admin/login/ -> ${code:-no answer}"; fail=1 ;; esac
exit $fail
