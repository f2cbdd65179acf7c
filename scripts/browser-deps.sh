#!/usr/bin/env bash
# Make this machine able to open the HTML report in a real headless browser for the
# report tests: installs Debian's chromium and chromium-driver (chromedriver).
# Idempotent: a second run installs nothing and touches no package list.
# Needs root (apt-get); exits 77 without it. Progress goes to stderr; on success prints
# the chromium and chromedriver paths on stdout, one a line.
set -euo pipefail

PACKAGES=(chromium chromium-driver)

log() { printf 'browser-deps: %s\n' "$*" >&2; }

missing=()
find_missing() {
  missing=()
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f '${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [ "${status:0:2}" = "ii" ] || missing+=("$pkg")
  done
}
find_missing
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "needs root to install ${missing[*]} (apt-get)"
    exit 77
  fi
  export DEBIAN_FRONTEND=noninteractive
  # one install at a time (parallel test sessions may call this together); then look again
  exec 9>"${TMPDIR:-/tmp}/modernize-browser-deps.lock"
  flock 9
  find_missing
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt_install() { apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null; }
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

chromium_bin=$(command -v chromium || true)
driver_bin=$(command -v chromedriver || true)
[ -n "$chromium_bin" ] || { log "error: chromium is not on PATH after installing"; exit 1; }
[ -n "$driver_bin" ] || { log "error: chromedriver is not on PATH after installing"; exit 1; }
echo "$chromium_bin"
echo "$driver_bin"
