#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
set -eu
docker compose up -d --build --wait
fail=0
if docker compose exec -T intranet bash -c 'exec 3<>/dev/tcp/127.0.0.1/8000' 2>/dev/null; then echo "ok   intranet tcp :8000"; else echo "FAIL intranet tcp :8000"; fail=1; fi
# nginx: a 5xx or 404 means the app behind it is down
code=$(docker compose exec -T nginx bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf "GET / HTTP/1.0\r\nHost: intranet.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??) echo "ok   nginx http :80/ -> $code" ;; *) echo "FAIL nginx http :80/ -> ${code:-no answer}"; fail=1 ;; esac
# nginx: a 5xx or 404 means the app behind it is down
code=$(docker compose exec -T nginx bash -c 'exec 3<>/dev/tcp/127.0.0.1/443; printf "GET / HTTP/1.0\r\nHost: intranet.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??) echo "ok   nginx http :443/ -> $code" ;; *) echo "FAIL nginx http :443/ -> ${code:-no answer}"; fail=1 ;; esac
if docker compose exec -T postgresql bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' 2>/dev/null; then echo "ok   postgresql tcp :5432"; else echo "FAIL postgresql tcp :5432"; fail=1; fi
if docker compose exec -T redis bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379' 2>/dev/null; then echo "ok   redis tcp :6379"; else echo "FAIL redis tcp :6379"; fail=1; fi
exit $fail
