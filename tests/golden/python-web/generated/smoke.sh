#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
# intranet: intranet's health route; a 404 or 5xx means the app is down
code=$(docker compose exec -T intranet bash -c 'exec 3<>/dev/tcp/127.0.0.1/8000; printf "GET /healthz HTTP/1.0\r\nHost: intranet.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??) echo "ok   intranet http :8000/healthz -> $code" ;; *) echo "FAIL intranet http :8000/healthz -> ${code:-no answer}"; fail=1 ;; esac
# nginx: intranet's health route; a 404 or 5xx means the app is down
code=$(docker compose exec -T nginx bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf "GET /healthz HTTP/1.0\r\nHost: intranet.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   nginx http :80/healthz -> $code" ;; *) echo "FAIL nginx http :80/healthz -> ${code:-no answer}"; fail=1 ;; esac
# nginx: TLS on :443 (sh has no TLS client: only the port here)
if docker compose exec -T nginx bash -c 'exec 3<>/dev/tcp/127.0.0.1/443' 2>/dev/null; then echo "ok   nginx tcp :443"; else echo "FAIL nginx tcp :443"; fail=1; fi
if docker compose exec -T postgresql bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' 2>/dev/null; then echo "ok   postgresql tcp :5432"; else echo "FAIL postgresql tcp :5432"; fail=1; fi
if docker compose exec -T redis bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379' 2>/dev/null; then echo "ok   redis tcp :6379"; else echo "FAIL redis tcp :6379"; fail=1; fi
exit $fail
