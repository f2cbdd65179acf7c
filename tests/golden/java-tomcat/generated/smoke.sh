#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
# reports: a 404 or 5xx means the app behind it is down
code=$(docker compose exec -T reports bash -c 'exec 3<>/dev/tcp/127.0.0.1/9091; printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   reports http :9091/ -> $code" ;; *) echo "FAIL reports http :9091/ -> ${code:-no answer}"; fail=1 ;; esac
# tomcat: a 404 or 5xx means the app behind it is down
code=$(docker compose exec -T tomcat bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3; head -n1 <&3' 2>/dev/null | cut -d" " -f2 || true)
case "$code" in 2??|3??|401|403) echo "ok   tomcat http :8080/ -> $code" ;; *) echo "FAIL tomcat http :8080/ -> ${code:-no answer}"; fail=1 ;; esac
exit $fail
