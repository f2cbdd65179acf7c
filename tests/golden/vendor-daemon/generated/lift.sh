#!/bin/sh
# Make services/edge01-lift/rootfs.tar.gz: run this ON edge01 as root, then
# copy the file beside services/edge01-lift/Dockerfile and build it (docker compose build edge01-lift).
# It carries: acme-relay-service, reboot-etc-cron-d-acme-sync-3, tinyproxy.
# Left out: pseudo filesystems, caches, swap, SSH host keys and private keys (mount
# those at run time), so no secret ends up in the image.
set -eu
out=${1:-/tmp/edge01-lift-rootfs.tar.gz}
tar --numeric-owner --xattrs --acls -C / -czpf "$out" \
    --exclude='./proc/*' \
    --exclude='./sys/*' \
    --exclude='./dev/*' \
    --exclude='./run/*' \
    --exclude='./tmp/*' \
    --exclude='./var/tmp/*' \
    --exclude='./var/cache/*' \
    --exclude=./swapfile \
    --exclude=./swap.img \
    --exclude=./var/lib/docker \
    --exclude='./var/log/journal/*' \
    --exclude='./etc/ssh/ssh_host_*_key' \
    --exclude='./etc/ssl/private/*' \
    --exclude='./root/.ssh/*' \
    .
echo "wrote $out: copy it to services/edge01-lift/rootfs.tar.gz"
# Inside the container the server's own init starts its services. systemd needs
# a cgroup it can manage: with podman, `podman run --systemd=always`; with Docker,
# the cgroupns=host and /sys/fs/cgroup mount of your engine's systemd guide.
