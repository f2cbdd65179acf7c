#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
if docker compose exec -T memcached bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211' 2>/dev/null; then echo "ok   memcached tcp :11211"; else echo "FAIL memcached tcp :11211"; fail=1; fi
# shop: shop's health route; a 404 or 5xx means the app is down
code=$(docker compose exec -T shop bash -c 'exec 3<>/dev/tcp/127.0.0.1/3000; printf "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   shop http :3000/healthz -> $code" ;; *) echo "FAIL shop http :3000/healthz -> ${code:-no answer}"; fail=1 ;; esac
# shop-legacy: a 404 or 5xx means the app behind it is down
code=$(docker compose exec -T shop-legacy bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   shop-legacy http :8080/ -> $code" ;; *) echo "FAIL shop-legacy http :8080/ -> ${code:-no answer}"; fail=1 ;; esac
exit $fail
