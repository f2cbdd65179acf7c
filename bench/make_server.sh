#!/usr/bin/env bash
# Build the benchmark server of issue 9: a real Debian bookworm tree
# (debootstrap minbase + real packages from the Debian archive + real apps
# from PyPI/npm), cached OUTSIDE git, packed as .tar.gz / .tar.zst / .tar.xz.
#
#   bench/make_server.sh            -> $DIR/server/ + server.tar.{gz,zst,xz}
#   bench/make_server.sh --double   -> $DIR/server2/ + server2.tar.{gz,zst,xz}
#                                      (server + a second app + a larger /usr)
#
#   DIR = ${MODERNIZE_BENCH_DIR:-/var/cache/modernize-bench}
#
# Needs root, debootstrap, network (deb.debian.org, pypi.org, registry.npmjs.org).
# Idempotent: the target tree and its tarballs are wiped and rebuilt.
# Env knobs: MIRROR (default http://deb.debian.org/debian), XZ_OPT (default -T0),
#            SKIP_XZ=1 to skip the slow .tar.xz.
set -euo pipefail

MODE=normal
case "${1:-}" in
  "") ;;
  --double) MODE=double ;;
  -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--double]" >&2; exit 2 ;;
esac

DIR=${MODERNIZE_BENCH_DIR:-/var/cache/modernize-bench}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
HOST_CA=/etc/ssl/certs/ca-certificates.crt   # includes the host's TLS-intercepting CA, if any
DEBCACHE=$DIR/debootstrap-debs
mkdir -p "$DIR" "$DEBCACHE"

# Real Debian packages. BASE_PKGS is the server of issue 9; EXTRA_PKGS are real,
# commonly-installed packages that bring the tree to the target size
# (>= 40,000 entries, .tar.gz >= 200 MB).
BASE_PKGS=(postgresql nginx redis-server python3-venv nodejs npm systemd systemd-sysv cron
           ca-certificates openssh-server logrotate rsyslog sudo curl less vim-tiny procps
           iproute2 netbase tzdata)
EXTRA_PKGS=(default-jdk-headless python3-numpy python3-scipy git make gcc g++ libpq-dev
            python3-dev postgresql-contrib)
# --double: a larger /usr on top of the normal server.
DOUBLE_PKGS=(libreoffice-core libreoffice-writer texlive-latex-base ruby-full php-fpm php-pgsql
             golang-go clang gdb valgrind imagemagick ghostscript)

ROOT= ; MOUNTED=0
cleanup() {
  if [ "$MOUNTED" = 1 ] && [ -n "$ROOT" ]; then umount "$ROOT/proc" 2>/dev/null || umount -l "$ROOT/proc" || true; fi
  if [ -n "$ROOT" ]; then rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/tmp/host-ca.crt"; fi
}
trap cleanup EXIT

in_chroot() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    SSL_CERT_FILE=/tmp/host-ca.crt PIP_CERT=/tmp/host-ca.crt NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt \
    "$@"
}

begin_chroot() {       # /proc mounted and no service may start, only while installing
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  cp "$HOST_CA" "$ROOT/tmp/host-ca.crt"
  printf '#!/bin/sh\n# bench/make_server.sh: no daemon may start while building\nexit 101\n' \
    > "$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  mount -t proc proc "$ROOT/proc"; MOUNTED=1
}

end_chroot() {
  in_chroot apt-get clean
  umount "$ROOT/proc"; MOUNTED=0
  rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/tmp/host-ca.crt"
  # a server's resolv.conf, not the build host's
  printf 'nameserver 10.0.0.2\nsearch example.internal\n' > "$ROOT/etc/resolv.conf"
}

apt_install() { in_chroot apt-get install -y --no-install-recommends "$@"; }

# ---------------------------------------------------------------- the apps
write_intranet() {     # Flask + gunicorn + celery, talks to postgresql and redis
  in_chroot sh -c 'getent passwd intranet >/dev/null || useradd --system --home-dir /srv/intranet --shell /usr/sbin/nologin intranet'
  mkdir -p "$ROOT/srv/intranet/app/intranet" "$ROOT/etc/intranet"
  in_chroot python3 -m venv /srv/intranet/venv
  if ! in_chroot /srv/intranet/venv/bin/pip install --no-cache-dir flask gunicorn celery redis psycopg2-binary; then
    echo "pip inside the chroot failed; installing with the host's pip --target" >&2
    local sp; sp=$(echo "$ROOT"/srv/intranet/venv/lib/python3.*/site-packages)
    python3 -m pip install --no-cache-dir --python-version 3.11 --only-binary=:all: \
      --platform manylinux2014_x86_64 --target "$sp" flask gunicorn celery redis psycopg2-binary
  fi
  cat > "$ROOT/srv/intranet/app/intranet/__init__.py" <<'EOF'
import os

from celery import Celery
from flask import Flask
import psycopg2

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
celery = Celery("intranet", broker=os.environ["CELERY_BROKER_URL"])


def db():
    return psycopg2.connect(os.environ["DATABASE_URL"])


@app.get("/healthz")
def healthz():
    with db() as conn, conn.cursor() as cur:
        cur.execute("select 1")
    return {"ok": True}


@celery.task
def nightly_report():
    with db() as conn, conn.cursor() as cur:
        cur.execute("select count(*) from pg_stat_activity")
        return cur.fetchone()[0]
EOF
  cat > "$ROOT/srv/intranet/app/wsgi.py" <<'EOF'
from intranet import app  # noqa: F401
EOF
  cat > "$ROOT/etc/intranet/env" <<'EOF'
DATABASE_URL=postgresql://intranet:benchPg-Ks93xQ7v@127.0.0.1:5432/intranet
CELERY_BROKER_URL=redis://127.0.0.1:6379/0
SECRET_KEY=benchFlask-2mT8pLq4Zr
EOF
  chmod 640 "$ROOT/etc/intranet/env"
  cat > "$ROOT/etc/systemd/system/intranet-gunicorn.service" <<'EOF'
[Unit]
Description=Intranet (gunicorn)
After=network.target postgresql.service redis-server.service
Wants=postgresql.service redis-server.service

[Service]
User=intranet
Group=intranet
WorkingDirectory=/srv/intranet/app
EnvironmentFile=/etc/intranet/env
ExecStart=/srv/intranet/venv/bin/gunicorn --workers 4 --bind 127.0.0.1:8000 wsgi:app
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
  cat > "$ROOT/etc/systemd/system/intranet-celery.service" <<'EOF'
[Unit]
Description=Intranet (celery worker)
After=network.target redis-server.service
Wants=redis-server.service

[Service]
User=intranet
Group=intranet
WorkingDirectory=/srv/intranet/app
EnvironmentFile=/etc/intranet/env
ExecStart=/srv/intranet/venv/bin/celery -A intranet.celery worker --loglevel=INFO
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
  cat > "$ROOT/etc/nginx/sites-available/intranet" <<'EOF'
server {
	listen 80;
	listen [::]:80;
	server_name intranet.example.internal;

	location / {
		proxy_pass http://127.0.0.1:8000;
		proxy_set_header Host $host;
		proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
	}
}
EOF
  ln -sfn /etc/nginx/sites-available/intranet "$ROOT/etc/nginx/sites-enabled/intranet"
  in_chroot chown -R intranet:intranet /srv/intranet
  in_chroot chown root:intranet /etc/intranet/env
}

write_shop() {         # Node/express
  in_chroot sh -c 'getent passwd shop >/dev/null || useradd --system --home-dir /srv/shop --shell /usr/sbin/nologin shop'
  mkdir -p "$ROOT/srv/shop" "$ROOT/etc/shop"
  cat > "$ROOT/srv/shop/package.json" <<'EOF'
{
  "name": "shop",
  "version": "1.4.0",
  "private": true,
  "main": "server.js",
  "scripts": { "start": "node server.js" },
  "dependencies": { "express": "^4.19.2" }
}
EOF
  cat > "$ROOT/srv/shop/server.js" <<'EOF'
const express = require("express");

const app = express();
const port = process.env.PORT || 3000;

app.get("/healthz", (req, res) => res.json({ ok: true }));

app.listen(port, "127.0.0.1", () => console.log(`shop listening on ${port}`));
EOF
  if ! in_chroot sh -c 'cd /srv/shop && npm install --omit=dev --no-audit --no-fund'; then
    echo "npm inside the chroot failed; using the host's npm --prefix" >&2
    npm install --prefix "$ROOT/srv/shop" --omit=dev --no-audit --no-fund
  fi
  printf 'PORT=3000\nNODE_ENV=production\nSESSION_SECRET=benchShopSess-9vR3kW\n' > "$ROOT/etc/shop/env"
  chmod 640 "$ROOT/etc/shop/env"
  cat > "$ROOT/etc/systemd/system/shop.service" <<'EOF'
[Unit]
Description=Shop (node/express)
After=network.target

[Service]
User=shop
Group=shop
WorkingDirectory=/srv/shop
EnvironmentFile=/etc/shop/env
ExecStart=/usr/bin/node /srv/shop/server.js
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
  cat > "$ROOT/etc/nginx/sites-available/shop" <<'EOF'
server {
	listen 8080;
	server_name shop.example.internal;

	location / {
		proxy_pass http://127.0.0.1:3000;
	}
}
EOF
  ln -sfn /etc/nginx/sites-available/shop "$ROOT/etc/nginx/sites-enabled/shop"
  in_chroot chown -R shop:shop /srv/shop
  in_chroot chown root:shop /etc/shop/env
}

write_reports() {      # --double only: a second Python app (Django + gunicorn)
  in_chroot sh -c 'getent passwd reports >/dev/null || useradd --system --home-dir /srv/reports --shell /usr/sbin/nologin reports'
  mkdir -p "$ROOT/srv/reports" "$ROOT/etc/reports"
  in_chroot python3 -m venv /srv/reports/venv
  in_chroot /srv/reports/venv/bin/pip install --no-cache-dir django gunicorn psycopg2-binary pandas openpyxl
  in_chroot sh -c 'cd /srv/reports && /srv/reports/venv/bin/django-admin startproject reports .'
  printf 'DATABASE_URL=postgresql://reports:benchRpt-Lw83nDz1@127.0.0.1:5432/reports\nDJANGO_SECRET_KEY=benchDjango-Qe71xVb5\n' \
    > "$ROOT/etc/reports/env"
  chmod 640 "$ROOT/etc/reports/env"
  cat > "$ROOT/etc/systemd/system/reports.service" <<'EOF'
[Unit]
Description=Reports (django/gunicorn)
After=network.target postgresql.service

[Service]
User=reports
Group=reports
WorkingDirectory=/srv/reports
EnvironmentFile=/etc/reports/env
ExecStart=/srv/reports/venv/bin/gunicorn --workers 2 --bind 127.0.0.1:8001 reports.wsgi:application
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
  ln -sfn /etc/systemd/system/reports.service "$ROOT/etc/systemd/system/multi-user.target.wants/reports.service"
  in_chroot chown -R reports:reports /srv/reports
  in_chroot chown root:reports /etc/reports/env
}

enable_units() {
  local u
  mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
  for u in intranet-gunicorn intranet-celery shop; do
    ln -sfn "/etc/systemd/system/$u.service" "$ROOT/etc/systemd/system/multi-user.target.wants/$u.service"
  done
  cat > "$ROOT/etc/cron.d/intranet-backup" <<'EOF'
# nightly database dump of the intranet app
30 2 * * * postgres pg_dump intranet | gzip > /var/backups/intranet-$(date +\%F).sql.gz
EOF
}

# ---------------------------------------------------------------- build
build_server() {       # $1 = target root
  ROOT=$1
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  debootstrap --variant=minbase --cache-dir="$DEBCACHE" "$SUITE" "$ROOT" "$MIRROR"
  cat > "$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
  echo server01 > "$ROOT/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tserver01.example.internal server01\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$ROOT/etc/hosts"
  begin_chroot
  in_chroot apt-get update
  apt_install "${BASE_PKGS[@]}"
  apt_install "${EXTRA_PKGS[@]}"
  write_intranet
  write_shop
  enable_units
  end_chroot
}

pack() {               # $1 = root, $2 = output stem
  local root=$1 stem=$2 ex=('--exclude=./proc/*' '--exclude=./sys/*' '--exclude=./dev/*' '--exclude=./run/*')
  rm -f "$stem".tar.gz "$stem".tar.zst "$stem".tar.xz
  tar -C "$root" --numeric-owner "${ex[@]}" -czf "$stem.tar.gz" .
  tar -C "$root" --numeric-owner "${ex[@]}" --zstd -cf "$stem.tar.zst" .
  if [ "${SKIP_XZ:-0}" != 1 ]; then
    XZ_OPT=${XZ_OPT:--T0} tar -C "$root" --numeric-owner "${ex[@]}" -cJf "$stem.tar.xz" .
  fi
}

report() {             # $1 = root, $2 = output stem
  local root=$1 stem=$2 f
  echo "== $root"
  echo "entries (excluding proc/sys/dev/run contents): $(tar -tzf "$stem.tar.gz" | wc -l)"
  echo "apparent size: $(du -sh --apparent-size "$root" | cut -f1)"
  echo "dpkg packages (ii): $(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${db:Status-Abbrev}\n' | grep -c '^ii')"
  for f in "$stem".tar.gz "$stem".tar.zst "$stem".tar.xz; do
    [ -e "$f" ] && printf '%s\t%s bytes (%s)\n' "$f" "$(stat -c %s "$f")" "$(du -h "$f" | cut -f1)"
  done
  return 0
}

if [ "$MODE" = normal ]; then
  build_server "$DIR/server"
  pack "$DIR/server" "$DIR/server"
  report "$DIR/server" "$DIR/server"
else
  if [ ! -d "$DIR/server/usr" ]; then build_server "$DIR/server"; fi
  ROOT=$DIR/server2
  rm -rf "$ROOT"
  cp -a "$DIR/server" "$ROOT"
  echo server02 > "$ROOT/etc/hostname"
  sed -i 's/server01/server02/g' "$ROOT/etc/hosts"
  begin_chroot
  in_chroot apt-get update
  apt_install "${DOUBLE_PKGS[@]}"
  write_reports
  end_chroot
  pack "$ROOT" "$DIR/server2"
  report "$ROOT" "$DIR/server2"
fi
