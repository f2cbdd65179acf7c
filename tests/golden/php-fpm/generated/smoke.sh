#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
if docker compose exec -T mariadb bash -c 'exec 3<>/dev/tcp/127.0.0.1/3306' 2>/dev/null; then echo "ok   mariadb tcp :3306"; else echo "FAIL mariadb tcp :3306"; fail=1; fi
# nginx: public's health route; a 404 or 5xx means the app is down
code=$(docker compose exec -T nginx bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf "GET /health HTTP/1.0\r\nHost: shop.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   nginx http :80/health -> $code" ;; *) echo "FAIL nginx http :80/health -> ${code:-no answer}"; fail=1 ;; esac
# nginx: public's health route; a 404 or 5xx means the app is down
code=$(docker compose exec -T nginx bash -c 'exec 3<>/dev/tcp/127.0.0.1/80; printf "GET /health HTTP/1.0\r\nHost: www.shop.example.com\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   nginx http :80/health -> $code" ;; *) echo "FAIL nginx http :80/health -> ${code:-no answer}"; fail=1 ;; esac
exit $fail
