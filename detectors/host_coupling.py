"""What ties the workload to this host: mounts, kernel modules, sysctls, hosts
entries, firewall rules and mandatory access control."""

from __future__ import annotations

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, HostSetting, Mount
from modernize.parsers.lines import numbered
from modernize.parsers.shell import assignments
from modernize.secrets import make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

NETWORK_FS = {"nfs", "nfs4", "cifs", "smbfs", "glusterfs", "ceph", "fuse.sshfs", "davfs", "9p", "lustre"}
PSEUDO_FS = {"proc", "sysfs", "devpts", "tmpfs", "devtmpfs", "securityfs", "cgroup", "cgroup2", "debugfs", "mqueue"}
FIREWALL_FILES = {
    "/etc/iptables/rules.v4": "iptables",
    "/etc/iptables/rules.v6": "ip6tables",
    "/etc/sysconfig/iptables": "iptables",
    "/etc/sysconfig/ip6tables": "ip6tables",
    "/etc/nftables.conf": "nftables",
    "/etc/sysconfig/nftables.conf": "nftables",
    "/etc/ufw/user.rules": "ufw",
    "/etc/ufw/user6.rules": "ufw",
}


def mount_kind(fstype: str, options: list[str]) -> str:
    if fstype == "swap":
        return "swap"
    if "bind" in options or "rbind" in options or (fstype == "none" and "bind" in ",".join(options)):
        return "bind"
    if fstype in NETWORK_FS or "_netdev" in options:
        return "network"
    if fstype == "tmpfs":
        return "tmpfs"
    if fstype in PSEUDO_FS:
        return "pseudo"
    return "local"


class HostCouplingDetector(Detector):
    name = "host-coupling"
    tags = ("host",)
    reads = whole(
        "/etc/fstab",
        "/etc/modules",
        "/etc/modules-load.d/*.conf",
        "/usr/lib/modules-load.d/*.conf",
        "/etc/sysctl.conf",
        "/etc/sysctl.d/*.conf",
        "/etc/hosts",
        "/etc/selinux/config",
        "/etc/apparmor.d/*",
        "/etc/firewalld/zones/*.xml",
        *FIREWALL_FILES,
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        self._fstab(snap, found)
        self._modules(snap, found)
        self._sysctl(snap, found)
        self._hosts(snap, found)
        self._firewall(snap, found)
        self._mac(snap, found)

    @staticmethod
    def _fstab(snap: Snapshot, found: Found) -> None:
        text = snap.text("/etc/fstab")
        rows = [(no, line.split()) for no, line in numbered(text or "")]
        creds = [
            o.split("=", 1)[1]
            for _, f in rows
            if len(f) > 3
            for o in f[3].split(",")
            if o.startswith(("credentials=", "cred=")) and "=" in o
        ]
        snap.want(c for c in creds if c.startswith("/"))
        for no, f in rows:
            if len(f) < 3:
                continue
            opts = f[3].split(",") if len(f) > 3 else ["defaults"]
            secrets = []
            for o in opts:
                if o.startswith(("credentials=", "cred=")):
                    path = o.split("=", 1)[1]
                    for cno, key, value in assignments(snap.text(path) or ""):
                        if key.lower() in ("password", "pass") and value:
                            secrets.append(make_secret(key, value, path, cno))
            # credentials= and password= values are never kept
            opts = [o if not o.startswith(("password=", "pass=")) else o.split("=")[0] + "=<redacted>" for o in opts]
            found.add(
                Mount(
                    source=f[0],
                    target=f[1],
                    fstype=f[2],
                    options=tuple(opts),
                    kind=mount_kind(f[2], opts),
                    secrets=tuple(secrets),
                    evidence=(Evidence("config", "/etc/fstab", no, excerpt=" ".join(f[:3])),),
                )
            )

    @staticmethod
    def _modules(snap: Snapshot, found: Found) -> None:
        files = ["/etc/modules", *snap.glob("/etc/modules-load.d/*.conf"), *snap.glob("/usr/lib/modules-load.d/*.conf")]
        for path in files:
            for no, line in numbered(snap.text(path) or "", comments="#;"):
                name = line.split()[0]
                found.add(HostSetting("kernel-module", name, None, (Evidence("config", path, no, excerpt=line),)))

    @staticmethod
    def _sysctl(snap: Snapshot, found: Found) -> None:
        # later files win, as `sysctl --system` applies them
        values: dict[str, tuple[str, Evidence]] = {}
        for path in [*sorted(snap.glob("/etc/sysctl.d/*.conf")), "/etc/sysctl.conf"]:
            for no, line in numbered(snap.text(path) or "", comments="#;"):
                key, sep, value = line.partition("=")
                if sep:
                    k = key.strip().lstrip("-").replace("/", ".")
                    values[k] = (value.strip(), Evidence("config", path, no, excerpt=line))
        for k, (v, ev) in values.items():
            found.add(HostSetting("sysctl", k, v, (ev,)))

    @staticmethod
    def _hosts(snap: Snapshot, found: Found) -> None:
        for no, line in numbered(snap.text("/etc/hosts") or ""):
            f = line.split("#", 1)[0].split()
            for name in f[1:]:
                found.add(HostSetting("hosts-entry", name, f[0], (Evidence("config", "/etc/hosts", no, excerpt=line),)))

    @staticmethod
    def _firewall(snap: Snapshot, found: Found) -> None:
        for path, tool in FIREWALL_FILES.items():
            text = snap.text(path)
            if text is None:
                continue
            rules = sum(1 for _, line in numbered(text) if line.startswith(("-A", "add rule")) or " accept" in line)
            found.add(HostSetting("firewall", tool, f"{rules} rules", (Evidence("config", path),)))
        zones = snap.glob("/etc/firewalld/zones/*.xml")
        if zones:
            found.add(
                HostSetting("firewall", "firewalld", f"{len(zones)} zones", tuple(Evidence("config", z) for z in zones))
            )

    @staticmethod
    def _mac(snap: Snapshot, found: Found) -> None:
        text = snap.text("/etc/selinux/config")
        if text is not None:
            for no, key, value in assignments(text):
                if key == "SELINUX":
                    found.add(HostSetting("selinux", "mode", value, (Evidence("config", "/etc/selinux/config", no),)))
        profiles = [p for p in snap.glob("/etc/apparmor.d/*") if snap.is_file(p)]
        if profiles:
            found.add(
                HostSetting(
                    "apparmor",
                    "profiles",
                    str(len(profiles)),
                    (Evidence("file", "/etc/apparmor.d", detail=f"{len(profiles)} profiles"),),
                )
            )
