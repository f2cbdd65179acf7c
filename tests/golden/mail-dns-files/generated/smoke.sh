#!/bin/sh
# Smoke test of the generated stack: start it, wait for health, knock on each door.
# Needs docker compose (the probes run inside the containers); run it here after filling in .env.
# `modernize verify .` does more: HTTPS with each virtual host, data kept across a restart.
set -eu
docker compose up -d --build --wait
fail=0
if docker compose exec -T bind9 bash -c 'exec 3<>/dev/tcp/127.0.0.1/53' 2>/dev/null; then echo "ok   bind9 tcp :53"; else echo "FAIL bind9 tcp :53"; fail=1; fi
if docker compose exec -T bind9 bash -c 'exec 3<>/dev/tcp/127.0.0.1/953' 2>/dev/null; then echo "ok   bind9 tcp :953"; else echo "FAIL bind9 tcp :953"; fail=1; fi
if docker compose exec -T dovecot bash -c 'exec 3<>/dev/tcp/127.0.0.1/143' 2>/dev/null; then echo "ok   dovecot tcp :143"; else echo "FAIL dovecot tcp :143"; fail=1; fi
if docker compose exec -T dovecot bash -c 'exec 3<>/dev/tcp/127.0.0.1/993' 2>/dev/null; then echo "ok   dovecot tcp :993"; else echo "FAIL dovecot tcp :993"; fail=1; fi
if docker compose exec -T postfix bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' 2>/dev/null; then echo "ok   postfix tcp :25"; else echo "FAIL postfix tcp :25"; fail=1; fi
if docker compose exec -T samba bash -c 'exec 3<>/dev/tcp/127.0.0.1/139' 2>/dev/null; then echo "ok   samba tcp :139"; else echo "FAIL samba tcp :139"; fail=1; fi
if docker compose exec -T samba bash -c 'exec 3<>/dev/tcp/127.0.0.1/445' 2>/dev/null; then echo "ok   samba tcp :445"; else echo "FAIL samba tcp :445"; fail=1; fi
exit $fail
