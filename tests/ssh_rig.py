"""Live test hosts: a real sshd (and redis-server) from Debian in a network namespace.

A cached `debootstrap --variant=minbase` tree with openssh-server and redis-server
is the lower layer, a fixture server's files lie over it, and a temporary upper
layer takes what the rig changes (host keys, test users), so neither is touched.
The tree runs under `ip netns exec NS unshare --pid --mount --uts --fork --kill-child`
with /proc mounted and `chroot`: sshd listens on 10.207.N.2 inside the namespace,
reached through a veth pair from 10.207.N.1. No traffic leaves the machine.
Torn down by pid; the namespace and the veth go with it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MIRROR = os.environ.get("MODERNIZE_TEST_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("MODERNIZE_FIXTURE_CACHE", "/var/cache/modernize-fixtures"))
BASE = CACHE / "ssh-rig-bookworm"
PACKAGES = "openssh-server,redis-server"
NETNS_EXEC = ("ip", "netns", "exec")
# --kill-child: when unshare dies, the namespace's init (and so every process in it) dies too
UNSHARE = ("unshare", "--pid", "--mount", "--uts", "--fork", "--kill-child")

# login shells of the misbehaving test users
HANG_SHELL = "#!/bin/sh\n# a login that never runs its command (a stuck profile)\nexec sleep 3600\n"
DROP_SHELL = (
    "#!/bin/sh\n# runs the command, then kills its own ssh session part way through the reply\n"
    '/bin/sh "$@" | head -c 100000\nkill -KILL $PPID\n'
)


class RigUnavailable(Exception):
    """This machine cannot make a rig (not root, no debootstrap, no network namespaces)."""


def base_tree() -> Path:
    """The cached Debian tree with openssh-server and redis-server (made once, under a lock)."""
    if os.geteuid() != 0:
        raise RigUnavailable("needs root (debootstrap, overlay mounts, network namespaces); CI runs as root")
    for tool in ("debootstrap", "ip", "unshare", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise RigUnavailable(f"{tool} is not installed (.ci/run installs it)")
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "ssh-rig.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (BASE / "usr/sbin/sshd").exists() and (BASE / "usr/bin/redis-server").exists():
            return BASE
        partial = BASE.with_name(BASE.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        log = CACHE / "ssh-rig-debootstrap.log"
        with open(log, "w") as out:
            done = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(partial), MIRROR],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode != 0:
            raise RuntimeError(f"debootstrap failed; see {log}")
        partial.rename(BASE)
    return BASE


@dataclass
class User:
    name: str
    uid: int
    shell: str = "/bin/sh"


@dataclass
class Rig:
    index: int
    work: Path
    merged: Path
    netns: str
    host_veth: str
    address: str
    proc: subprocess.Popen[bytes] | None = None
    mounted: bool = False
    client_key: Path = field(default_factory=Path)
    # sshd binds every address of the namespace: an address added later (a link only a
    # bastion can use, see link_behind) is served without a restart
    listen: str = "0.0.0.0"

    @property
    def host_address(self) -> str:
        return f"10.207.{self.index}.1"

    def known_hosts_line(self) -> str:
        key = (self.merged / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        return f"{self.address} {key[0]} {key[1]}\n"

    def ssh_config(self, path: Path, known_hosts: Path, *, user: str = "root", alias: str = "rig") -> Path:
        path.write_text(
            f"Host {alias}\n  HostName {self.address}\n  User {user}\n  IdentityFile {self.client_key}\n"
            f"  IdentitiesOnly yes\n  UserKnownHostsFile {known_hosts}\n  ConnectTimeout 5\n"
        )
        return path

    # -- life cycle ------------------------------------------------------------------
    def start(self) -> None:
        if self.proc is not None:
            return
        inner = (
            "mkdir -p /run/sshd /run/redis && chmod 755 /run/sshd && "
            "(redis-server /etc/redis/redis.conf --daemonize yes --supervised no || true) && "
            f"exec /usr/sbin/sshd -D -e -o ListenAddress={self.listen} -o PermitRootLogin=prohibit-password "
            "-o UsePAM=no -o PasswordAuthentication=no -o MaxStartups=50"
        )
        outer = f"mount -t proc proc {self.merged}/proc && exec chroot {self.merged} /bin/sh -c '{inner}'"
        log = open(self.work / "sshd.log", "wb")  # noqa: SIM115 - the rig's log lives as long as the rig
        self.proc = subprocess.Popen(
            [*NETNS_EXEC, self.netns, *UNSHARE, "sh", "-c", outer],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the rig's sshd ended: {(self.work / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection((self.address, 22), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the rig's sshd did not answer: {(self.work / 'sshd.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
            self.proc = None
            time.sleep(0.2)  # the namespace's init dies with unshare (--kill-child)

    def new_host_keys(self) -> None:
        """Make the host a rebuilt one: fresh host keys (sshd restarted)."""
        self.stop()
        for key in (self.merged / "etc/ssh").glob("ssh_host_*"):
            key.unlink()
        subprocess.run(["chroot", str(self.merged), "ssh-keygen", "-A"], check=True, capture_output=True)
        self.start()

    def teardown(self) -> None:
        self.stop()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.merged)], check=False)
            self.mounted = False
        subprocess.run(["ip", "netns", "del", self.netns], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", self.host_veth], check=False, capture_output=True)


def _sh(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True)


def make_rig(index: int, fixture_root: Path | None, work: Path, users: list[User]) -> Rig:
    """Lay FIXTURE_ROOT over the base tree, add USERS (with the client key), start sshd."""
    base = base_tree()
    for d in ("upper", "ovl", "merged"):
        (work / d).mkdir(parents=True, exist_ok=True)
    rig = Rig(index, work, work / "merged", f"mzssh{os.getpid()}x{index}", f"mzh{os.getpid() % 100000}x{index}", "")
    rig.address = f"10.207.{index}.2"
    lower = f"{fixture_root}:{base}" if fixture_root else str(base)
    try:
        layers = f"lowerdir={lower},upperdir={work}/upper,workdir={work}/ovl"
        _sh("mount", "-t", "overlay", "overlay", "-o", layers, str(rig.merged))
        rig.mounted = True
        _prepare_tree(rig, users)
        _network(rig)
        rig.start()
    except BaseException:
        rig.teardown()
        raise
    return rig


def _prepare_tree(rig: Rig, users: list[User]) -> None:
    root = rig.merged
    root.chmod(0o755)  # a fixture copied under pytest's tmp_path starts as 0700
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()  # the rig's own host keys, never the cached tree's
    _sh("chroot", str(root), "ssh-keygen", "-A")
    rig.client_key = rig.work / "id_ed25519"
    if not rig.client_key.exists():
        _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "modernize-test", "-f", str(rig.client_key))
    pub = (rig.work / "id_ed25519.pub").read_text()
    (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
    for name, text in (("rig-hang", HANG_SHELL), ("rig-drop", DROP_SHELL)):
        (root / "usr/local/bin" / name).write_text(text)
        (root / "usr/local/bin" / name).chmod(0o755)
    passwd, shadow, group = root / "etc/passwd", root / "etc/shadow", root / "etc/group"
    for f in (passwd, shadow, group):
        if not f.exists():
            f.write_text("")
    if "sshd:" not in passwd.read_text():
        with passwd.open("a") as fh:
            fh.write("sshd:x:102:65534::/run/sshd:/usr/sbin/nologin\n")
    home_keys = [(root / "root", 0)]
    for u in users:
        with passwd.open("a") as fh:
            fh.write(f"{u.name}:x:{u.uid}:{u.uid}::/home/{u.name}:{u.shell}\n")
        with shadow.open("a") as fh:
            fh.write(f"{u.name}:*:19000:0:99999:7:::\n")
        with group.open("a") as fh:
            fh.write(f"{u.name}:x:{u.uid}:\n")
        home_keys.append((root / "home" / u.name, u.uid))
    for home, uid in home_keys:
        ssh = home / ".ssh"
        ssh.mkdir(parents=True, exist_ok=True)
        (ssh / "authorized_keys").write_text(pub)
        for p in (home, ssh, ssh / "authorized_keys"):
            os.chown(p, uid, uid)
        home.chmod(0o755 if uid else 0o700)
        ssh.chmod(0o700)
        (ssh / "authorized_keys").chmod(0o600)


def _network(rig: Rig) -> None:
    peer = f"mzc{os.getpid() % 100000}x{rig.index}"
    _sh("ip", "netns", "add", rig.netns)
    _sh("ip", "link", "add", rig.host_veth, "type", "veth", "peer", "name", peer)
    _sh("ip", "link", "set", peer, "netns", rig.netns)
    _sh("ip", "addr", "add", f"{rig.host_address}/30", "dev", rig.host_veth)
    _sh("ip", "link", "set", rig.host_veth, "up")
    _sh("ip", "netns", "exec", rig.netns, "ip", "addr", "add", f"{rig.address}/30", "dev", peer)
    _sh("ip", "netns", "exec", rig.netns, "ip", "link", "set", peer, "up")
    _sh("ip", "netns", "exec", rig.netns, "ip", "link", "set", "lo", "up")


def link_behind(target: Rig, bastion: Rig, net: int) -> str:
    """A veth between the two namespaces, 10.208.NET.1 (bastion) - 10.208.NET.2 (target).

    The host has no route to 10.208.NET.0/30 (and the namespaces do not forward), so the
    target's address on it is reachable only from inside the bastion: a ProxyJump.
    Returns the target's inner address. The link goes with the namespaces.
    """
    outer, inner = f"mzb{os.getpid() % 100000}x{net}", f"mzt{os.getpid() % 100000}x{net}"
    _sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
    _sh("ip", "link", "set", outer, "netns", bastion.netns)
    _sh("ip", "link", "set", inner, "netns", target.netns)
    for ns, dev, addr in ((bastion.netns, outer, f"10.208.{net}.1"), (target.netns, inner, f"10.208.{net}.2")):
        _sh(*NETNS_EXEC, ns, "ip", "addr", "add", f"{addr}/30", "dev", dev)
        _sh(*NETNS_EXEC, ns, "ip", "link", "set", dev, "up")
    return f"10.208.{net}.2"
