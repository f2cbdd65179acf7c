# modernize collector: reads a Linux host and writes NOTHING on it; everything
# goes to standard output. POSIX sh and the usual tools, with fallbacks (busybox,
# old RHEL). Run from standard input: `sh -s` (or `sudo -n sh -s`).
#
# Output: frames. A frame starts with the byte 0x1e, a tag and its arguments on
# one line; its body runs to the next frame. The listing (L) and the file
# archive (T) come last and run to the end of the stream. Files that cannot be
# read are named in D frames ("denied", never "missing"). Standard error carries
# nothing the reader needs (a relay such as Ansible may merge or drop it).
export LC_ALL=C
umask 077
MZ_ROOT=${MZ_ROOT:-/}

mz_frame() { printf '\036%s\n' "$*"; }

# for a relay that carries text only (Ansible's script module): standard input as
# base64, or as od's hex where base64 is missing, between two marker lines
mz_encode() {
  if mz_have base64; then
    echo "MZ-BEGIN base64"
    base64
  else
    echo "MZ-BEGIN hex"
    od -An -v -tx1
  fi
  echo "MZ-END"
}
mz_have() { command -v "$1" >/dev/null 2>&1; }

mz_identity() {
  mz_frame "S id"
  id -u
  id -G
  mz_frame "S passwd"
  cat /etc/passwd 2>/dev/null
}

# processes: /proc is on every Linux; exe and cwd are readable for one's own processes
# (all of them as root)
mz_processes() {
  mz_frame "S processes"
  for d in /proc/[0-9]*; do
    [ -r "$d/status" ] || continue
    mz_frame "P ${d#/proc/}"
    cat "$d/status" 2>/dev/null
    mz_frame "C"
    cat "$d/cmdline" 2>/dev/null
    mz_frame "X $(readlink "$d/exe" 2>/dev/null)"
    mz_frame "W $(readlink "$d/cwd" 2>/dev/null)"
    mz_frame "G"
    cat "$d/cgroup" 2>/dev/null
  done
}

# listening sockets with their owners: ss, else netstat; /proc/net always (the
# fallback, and the owners through each process's socket inodes)
mz_sockets() {
  if mz_have ss; then
    mz_frame "S ss"
    ss -Htulnp 2>/dev/null || ss -tulnp 2>/dev/null
  elif mz_have netstat; then
    mz_frame "S netstat"
    netstat -tulnp 2>/dev/null
  fi
  for f in tcp tcp6 udp udp6 unix; do
    mz_frame "S net_$f"
    cat "/proc/net/$f" 2>/dev/null
  done
  mz_frame "S fds"
  ls -l /proc/[0-9]*/fd/ 2>/dev/null
}

mz_system() {
  mz_frame "S mounts"
  cat /proc/self/mounts 2>/dev/null || cat /proc/mounts 2>/dev/null
  mz_frame "S modules"
  cat /proc/modules 2>/dev/null
  if mz_have systemctl && [ -d /run/systemd/system ]; then
    mz_frame "S units"
    systemctl list-units --all --no-legend --no-pager --plain 2>/dev/null
    mz_frame "S unit_files"
    systemctl list-unit-files --no-legend --no-pager 2>/dev/null
  fi
  mz_frame "S containers"
  for c in docker podman containerd crio lxc lxd kubelet; do
    mz_have "$c" && command -v "$c"
  done
}

# every entry's metadata (not its bytes), /proc /sys /dev left out
mz_listing() {
  cd "$MZ_ROOT" || { mz_frame "E cannot enter $MZ_ROOT"; return; }
  if find . -maxdepth 0 -printf '' >/dev/null 2>&1; then
    mz_frame "L gnu"
    find . \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o -printf '%y %m %U %G %s %T@ %p\0%l\0'
  elif stat -c '%f' . >/dev/null 2>&1; then
    mz_frame "L stat"
    find . \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o -exec stat -c '%f %u %g %s %Y %n' {} +
    mz_frame "K"
    find . \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o -type l \
      -exec sh -c 'for f; do printf "%s\n%s\n" "$f" "$(readlink "$f")"; done' sh {} +
  else
    mz_frame "E the target's find has no -printf and its stat no -c: cannot list files"
  fi
}

mz_survey() {
  mz_frame "V 1"
  mz_identity
  mz_processes
  mz_sockets
  mz_system
  mz_listing
}

# tar of the names on standard input: GNU tar, or a tar that takes -T (bsdtar, a
# busybox built with it); mz_tar_ok says whether there is one
mz_tar_ok() {
  tar -cf - -T /dev/null >/dev/null 2>&1
}
mz_tar() {
  if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    tar -cf - --no-recursion --no-unquote --ignore-failed-read -T -
  else
    tar -cf - -T -
  fi
}

# without such a tar (Debian's busybox has no -T): one B frame a file, exactly its
# size when listed here (zeros after a file that shrank, cut where it grew)
mz_each() {
  while IFS= read -r f; do
    n=$(wc -c <"$f" 2>/dev/null) || continue
    n=$((n + 0))
    mz_frame "B whole $n $f"
    { cat "$f"; head -c "$n" /dev/zero; } 2>/dev/null | head -c "$n"
  done
}

# mz_pieces lists "head|tail BYTES PATH" and "lines FILTER PATH". A head or tail
# becomes a B frame of exactly BYTES bytes (zeros after a file that shrank); the
# lines of PATH that the extended regular expression FILTER (anchored at ^, so no
# line sent starts with 0x1e) matches become a G frame running to the next frame.
# mz_files lists the files sent whole in one tar (or B frames, see mz_each). Each file that cannot be read
# is named in a D frame, all of them before the tar.
mz_fetch() {
  mz_frame "V 1"
  cd "$MZ_ROOT" || { mz_frame "E cannot enter $MZ_ROOT"; return; }
  mz_pieces | while IFS=' ' read -r how n f; do
    if ! { [ -r "$f" ] && [ -f "$f" ]; }; then
      mz_frame "D $f"
    elif [ "$how" = lines ]; then
      mz_frame "G $f"
      grep -E -e "$n" -- "$f" 2>/dev/null
    else
      mz_frame "B $how $n $f"
      { if [ "$how" = head ]; then head -c "$n" "$f"; else tail -c "$n" "$f"; fi; head -c "$n" /dev/zero; } 2>/dev/null | head -c "$n"
    fi
  done
  exec 3>&1 # the D frames go out while the readable names are gathered
  mz_readable=$(mz_files | while IFS= read -r f; do
    if [ -r "$f" ]; then printf '%s\n' "$f"; else mz_frame "D $f" >&3; fi
  done)
  exec 3>&-
  if [ -z "$mz_readable" ]; then
    mz_frame "T none"
  elif mz_tar_ok; then
    mz_frame "T"
    printf '%s\n' "$mz_readable" | mz_tar
  else
    printf '%s\n' "$mz_readable" | mz_each
    mz_frame "T none"
  fi
}
