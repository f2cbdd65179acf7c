#!/usr/bin/env bash
# Make this machine able to build Dockerfiles with buildah and run them with podman,
# without a Docker engine and without pulling from any registry:
#  - installs buildah, podman, runc, netavark and friends from Debian;
#  - writes a containers.conf (runc, ulimits root may set here, cgroupfs, netavark);
#  - makes the base image `debian:12-slim` locally from a debootstrap tree.
# Idempotent: a second run installs nothing, debootstraps nothing and imports nothing.
# Needs root. Prints `export CONTAINERS_CONF=PATH` on stdout (its only stdout line);
# progress goes to stderr.
#
#   MODERNIZE_RIG_DIR      cache dir (containers.conf, debootstrap trees); default ~/.cache/modernize-rig
#   MODERNIZE_TEST_MIRROR  Debian mirror for debootstrap and the image's apt sources
#   MODERNIZE_RIG_SUITES   Debian suites to make images of; default "bookworm" ("bookworm bullseye" for both)
set -euo pipefail

RIG_DIR=${MODERNIZE_RIG_DIR:-${HOME:-/root}/.cache/modernize-rig}
MIRROR=${MODERNIZE_TEST_MIRROR:-http://deb.debian.org/debian}
SUITES=${MODERNIZE_RIG_SUITES:-bookworm}
PACKAGES=(buildah podman runc netavark aardvark-dns containernetworking-plugins debootstrap)

log() { printf 'container-rig: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  log "needs root (apt-get, debootstrap, rootful podman)"
  exit 77
fi
export DEBIAN_FRONTEND=noninteractive

mkdir -p "$RIG_DIR"
# one rig run at a time (parallel test sessions share the cache and the image store)
exec 9>"$RIG_DIR/lock"
flock 9

# -- packages -----------------------------------------------------------------
missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f '${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  [ "${status:0:2}" = "ii" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt_install() { apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  # update first only when there are no lists at all; else try, and update once if that fails
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get update -qq
    apt_install
  elif ! apt_install; then
    log "install failed with the current package lists: apt-get update and retry"
    apt-get update -qq
    apt_install
  fi
fi

# -- containers.conf ----------------------------------------------------------
# crun (podman's default) fails here: root may not raise RLIMIT_NOFILE and the cgroups
# are hybrid v1/v2. runc works; the default ulimits stay within what root may set.
# No systemd as PID 1 on these machines: cgroupfs, and events to a file, not journald.
# netavark, not CNI: only netavark (with aardvark-dns) lets containers on a network find
# each other by name. Debian's podman ships a CNI config, so podman run without this
# file uses CNI, whose bridge cni-podman0 takes 10.88.0.0/16 and stays behind (down,
# with its route) when its containers go: netavark's default network, on the same
# subnet by default, then loses its traffic. So ours has a subnet of its own.
CONF="$RIG_DIR/containers.conf"
conf_text='# written by scripts/container-rig.sh
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
default_subnet = "10.87.0.0/16"
'
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$(printf '%s' "$conf_text")" ]; then
  printf '%s' "$conf_text" >"$CONF.tmp"
  mv -f "$CONF.tmp" "$CONF"
  log "wrote $CONF"
fi
export CONTAINERS_CONF="$CONF"

# -- base images --------------------------------------------------------------
# Tags a Dockerfile may use for each suite; the first is the one imported.
tags_for() {
  case "$1" in
    bookworm) echo "localhost/debian:bookworm-slim docker.io/library/debian:bookworm-slim docker.io/library/debian:12-slim localhost/debian:12-slim" ;;
    bullseye) echo "localhost/debian:bullseye-slim docker.io/library/debian:bullseye-slim docker.io/library/debian:11-slim localhost/debian:11-slim" ;;
    *) die "unknown suite $1 (known: bookworm bullseye)" ;;
  esac
}

# a debootstrap tree, cached in the rig dir: made once, reused by later runs
ensure_tree() {
  local suite=$1 root="$RIG_DIR/$1-root"
  if [ ! -f "$root/.modernize-rig-complete" ]; then
    rm -rf "$root" "$root.partial"
    log "debootstrap $suite from $MIRROR (about a minute)"
    if ! debootstrap --variant=minbase "$suite" "$root.partial" "$MIRROR" >"$RIG_DIR/debootstrap-$suite.log" 2>&1; then
      tail -n 30 "$RIG_DIR/debootstrap-$suite.log" >&2
      die "debootstrap $suite failed (log: $RIG_DIR/debootstrap-$suite.log)"
    fi
    mv "$root.partial" "$root"
    touch "$root/.modernize-rig-complete"
  fi
  # the apt sources and cleanup a real debian:*-slim image has (again on every
  # import, so a tree cached by an older version of this script is brought up to date)
  cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $suite main
deb $MIRROR $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
  rm -rf "$root/etc/apt/sources.list.d/"*
  rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb
  mkdir -p "$root/var/lib/apt/lists/partial"
  # the host's resolver config and name do not belong in an image (podman provides its own)
  : >"$root/etc/resolv.conf"
  echo localhost >"$root/etc/hostname"
}

for suite in $SUITES; do
  tags_for "$suite" >/dev/null # dies here, not in the subshell below, on an unknown suite
done
for suite in $SUITES; do
  read -r -a tags <<<"$(tags_for "$suite")"
  if ! podman image exists "${tags[0]}"; then
    ensure_tree "$suite"
    tarball="$RIG_DIR/$suite-base.tar"
    log "importing ${tags[0]}"
    tar -C "$RIG_DIR/$suite-root" --numeric-owner --exclude=./.modernize-rig-complete -cf "$tarball" .
    podman import --quiet --change 'CMD ["bash"]' "$tarball" "${tags[0]}" >/dev/null
    rm -f "$tarball"
  fi
  want=$(podman image inspect -f '{{.Id}}' "${tags[0]}")
  replaced=()
  for tag in "${tags[@]:1}"; do
    # tag only when missing or pointing at another image
    have=$(podman image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
    if [ "$have" != "$want" ]; then
      podman tag "${tags[0]}" "$tag"
      [ -z "$have" ] || replaced+=("$have")
    fi
  done
  # an older base that lost its last tag here goes (podman refuses while images or
  # containers still use it, and so do we)
  for old in ${replaced[@]+"${replaced[@]}"}; do
    if [ -z "$(podman image inspect -f '{{.RepoTags}}' "$old" 2>/dev/null | tr -d '[]')" ]; then
      podman rmi "$old" >/dev/null 2>&1 || true
    fi
  done
done

echo "export CONTAINERS_CONF=$CONF"
