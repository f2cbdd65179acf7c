#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
# nginx: a 404 or 5xx means the app behind it is down
code=$(docker compose exec -T nginx bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   nginx http :8080/ -> $code" ;; *) echo "FAIL nginx http :8080/ -> ${code:-no answer}"; fail=1 ;; esac
if docker compose exec -T redis bash -c 'exec 3<>/dev/tcp/127.0.0.1/6380' 2>/dev/null; then echo "ok   redis tcp :6380"; else echo "FAIL redis tcp :6380"; fail=1; fi
exit $fail
