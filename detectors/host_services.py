"""The host's own plumbing, classified so it is not reported as unknown software:
cron, syslog (rsyslog, syslog-ng), logrotate, time sync (chrony, ntpd), monitoring
agents (node exporter, zabbix agent, NRPE), backup agents (bacula-fd, restic/borg
cron jobs) and the units every Debian/RHEL/Alpine install enables (OS_UNITS below).

Real rules followed, per program:
* rsyslog: see modernize/parsers/rsyslog.py (an input listens only when its module is
  loaded; `@`/`@@`/omfwd forwarding targets are endpoints);
* chrony.conf: `server`/`pool`/`peer` are upstreams (udp 123 or `port N`); the NTP
  server port opens only with `allow` (port from `port`, default 123; `port 0` never);
  the command port `cmdport` (323; 0 disables) on `bindcmdaddress` (default 127.0.0.1
  and ::1); `include`/`confdir`/`sourcedir` are read;
* ntpd: binds 123/udp on every interface; `server`/`pool`/`peer` are upstreams;
* zabbix_agentd.conf: `ListenPort` (10050), `ListenIP` (0.0.0.0), no listener with
  `StartAgents=0`; `Server=` and `ServerActive=` (host[:port], default 10051) are the
  zabbix servers; `Include=` files, dirs and globs;
* node exporter: `--web.listen-address` in ARGS (default `:9100`, every address);
* nrpe.cfg: `server_port` (5666), `server_address`, `include`/`include_dir`;
* bacula-fd.conf: `FDPort` (9102), `FDAddress`, the Director's `Password` is a secret.
OS units become services only when an init system has them enabled.
"""

from __future__ import annotations

import re
import shlex

from modernize.detector import Detector
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Port, file_ref
from modernize.parsers import rsyslog
from modernize.parsers.includes import read_once
from modernize.parsers.shell import assignments, split_command
from modernize.secrets import make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

# Units an OS install enables by itself: unit name (a template as `name@`) -> (software, kind).
# Suffix-less names are SysV/OpenRC scripts. Extend here; nothing else needs to change.
OS_UNITS: dict[str, tuple[str, str]] = {
    "getty@": ("getty", "other"),
    "serial-getty@": ("serial-getty", "other"),
    "e2scrub_reap.service": ("e2scrub_reap", "other"),
    "e2scrub_all.timer": ("e2scrub_all", "other"),
    "systemd-pstore.service": ("systemd-pstore", "other"),
    "systemd-timesyncd.service": ("systemd-timesyncd", "other"),
    "systemd-networkd.service": ("systemd-networkd", "other"),
    "systemd-networkd-wait-online.service": ("systemd-networkd-wait-online", "other"),
    "systemd-network-generator.service": ("systemd-network-generator", "other"),
    "systemd-resolved.service": ("systemd-resolved", "other"),
    "systemd-boot-update.service": ("systemd-boot-update", "other"),
    "systemd-tmpfiles-clean.timer": ("systemd-tmpfiles-clean", "other"),
    "networking.service": ("networking", "other"),
    "ifup@": ("ifup", "other"),
    "apparmor.service": ("apparmor", "other"),
    "console-setup.service": ("console-setup", "other"),
    "keyboard-setup.service": ("keyboard-setup", "other"),
    "setvtrgb.service": ("setvtrgb", "other"),
    "netfilter-persistent.service": ("netfilter-persistent", "other"),
    "ufw.service": ("ufw", "other"),
    "nftables.service": ("nftables", "other"),
    "iptables.service": ("iptables", "other"),
    "firewalld.service": ("firewalld", "other"),
    "apt-daily.timer": ("apt-daily", "other"),
    "apt-daily-upgrade.timer": ("apt-daily-upgrade", "other"),
    "unattended-upgrades.service": ("unattended-upgrades", "other"),
    "dpkg-db-backup.timer": ("dpkg-db-backup", "other"),
    "fstrim.timer": ("fstrim", "other"),
    "man-db.timer": ("man-db", "other"),
    "plocate-updatedb.timer": ("plocate-updatedb", "other"),
    "mlocate-updatedb.timer": ("mlocate-updatedb", "other"),
    "dnf-makecache.timer": ("dnf-makecache", "other"),
    "NetworkManager.service": ("NetworkManager", "other"),
    "NetworkManager-wait-online.service": ("NetworkManager-wait-online", "other"),
    "NetworkManager-dispatcher.service": ("NetworkManager-dispatcher", "other"),
    "auditd.service": ("auditd", "other"),
    "tuned.service": ("tuned", "other"),
    "irqbalance.service": ("irqbalance", "other"),
    "kdump.service": ("kdump", "other"),
    "lvm2-monitor.service": ("lvm2-monitor", "other"),
    "mdmonitor.service": ("mdmonitor", "other"),
    "multipathd.service": ("multipathd", "other"),
    "smartmontools.service": ("smartmontools", "monitoring"),
    "smartd.service": ("smartd", "monitoring"),
    "sysstat.service": ("sysstat", "monitoring"),
    "rngd.service": ("rngd", "other"),
    "haveged.service": ("haveged", "other"),
    "qemu-guest-agent.service": ("qemu-guest-agent", "other"),
    "open-vm-tools.service": ("open-vm-tools", "other"),
    "vgauth.service": ("vgauth", "other"),
    "cloud-init.service": ("cloud-init", "other"),
    "cloud-init-local.service": ("cloud-init-local", "other"),
    "cloud-config.service": ("cloud-config", "other"),
    "cloud-final.service": ("cloud-final", "other"),
    "rhsmcertd.service": ("rhsmcertd", "other"),
    "sssd.service": ("sssd", "other"),
    "microcode.service": ("microcode", "other"),
    "atd.service": ("atd", "scheduler"),
    "anacron.timer": ("anacron", "scheduler"),
    "anacron.service": ("anacron", "scheduler"),
    "resolvconf.service": ("resolvconf", "other"),
    "dbus.service": ("dbus", "other"),
    "polkit.service": ("polkit", "other"),
    # SysV (Debian) and OpenRC (Alpine) scripts
    "procps": ("procps", "other"),
    "kmod": ("kmod", "other"),
    "netfilter-persistent": ("netfilter-persistent", "other"),
    "hostname": ("hostname", "other"),
    "bootmisc": ("bootmisc", "other"),
    "hwclock": ("hwclock", "other"),
    "modules": ("modules", "other"),
    "sysctl": ("sysctl", "other"),
    "syslog": ("busybox-syslogd", "logging"),
    "klogd": ("busybox-klogd", "logging"),
    "acpid": ("acpid", "other"),
    "devfs": ("devfs", "other"),
    "dmesg": ("dmesg", "other"),
    "mdev": ("mdev", "other"),
    "hwdrivers": ("hwdrivers", "other"),
    "killprocs": ("killprocs", "other"),
    "savecache": ("savecache", "other"),
    "mount-ro": ("mount-ro", "other"),
    "urandom": ("urandom", "other"),
    "seedrng": ("seedrng", "other"),
    "localmount": ("localmount", "other"),
    "swap": ("swap", "other"),
    "networking": ("networking", "other"),
    "loadkmap": ("loadkmap", "other"),
}
# The package that ships a unit, where it is not named like the software.
PACKAGE_OF: dict[str, str] = {
    "getty": "systemd",
    "serial-getty": "systemd",
    "e2scrub_reap": "e2fsprogs",
    "e2scrub_all": "e2fsprogs",
    "apt-daily": "apt",
    "apt-daily-upgrade": "apt",
    "dpkg-db-backup": "dpkg",
    "fstrim": "util-linux",
    "networking": "ifupdown",
    "ifup": "ifupdown",
    "keyboard-setup": "keyboard-configuration",
    "setvtrgb": "console-setup",
    "lvm2-monitor": "lvm2",
    "mdmonitor": "mdadm",
    "multipathd": "multipath-tools",
    "plocate-updatedb": "plocate",
    "mlocate-updatedb": "mlocate",
    "dnf-makecache": "dnf",
    "procps": "procps",
    "kmod": "kmod",
    "busybox-syslogd": "busybox",
    "busybox-klogd": "busybox",
    "cloud-init-local": "cloud-init",
    "cloud-config": "cloud-init",
    "cloud-final": "cloud-init",
    "rngd": "rng-tools",
    "NetworkManager-wait-online": "network-manager",
    "NetworkManager-dispatcher": "network-manager",
}
# Config a unit's software is driven by, recorded when the file exists.
OS_UNIT_CONFIG: dict[str, tuple[str, ...]] = {
    "netfilter-persistent": ("/etc/iptables/rules.v4", "/etc/iptables/rules.v6"),
    "ufw": ("/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw"),
    "nftables": ("/etc/nftables.conf",),
    "iptables": ("/etc/sysconfig/iptables", "/etc/sysconfig/ip6tables"),
    "firewalld": ("/etc/firewalld/firewalld.conf",),
    "systemd-timesyncd": ("/etc/systemd/timesyncd.conf",),
    "networking": ("/etc/network/interfaces",),
    "unattended-upgrades": ("/etc/apt/apt.conf.d/50unattended-upgrades",),
}
CRON_UNITS = ("cron.service", "crond.service", "cronie.service", "cron", "crond")
CHRONY_CONFS = ("/etc/chrony/chrony.conf", "/etc/chrony.conf")
NTP_CONFS = ("/etc/ntpsec/ntp.conf", "/etc/ntp.conf")
ZABBIX_CONFS = (
    ("zabbix-agent", "/etc/zabbix/zabbix_agentd.conf"),
    ("zabbix-agent2", "/etc/zabbix/zabbix_agent2.conf"),
)
NODE_EXPORTER = (
    ("/etc/default/prometheus-node-exporter", "ARGS"),
    ("/etc/sysconfig/node_exporter", "OPTIONS"),
    ("/etc/default/node_exporter", "OPTIONS"),
)
BACKUP_TOOLS = ("restic", "borg", "borgmatic", "duplicity", "rclone")


def _cfg(path: str, line: int | None, text: str, via: tuple[str, ...] = ()) -> Evidence:
    return Evidence("config", path, line, excerpt=text.strip()[:200], via=via)


def _installed(found: Found, units: dict[str, InitUnit], packages: tuple[str, ...], names: tuple[str, ...]) -> bool:
    return found.package(*packages) is not None or any(n in units for n in names)


def _hostport(value: str, default: int | None) -> tuple[str, int | None]:
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", value)
    if m:
        return m.group(1), int(m.group(2)) if m.group(2) else default
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return value, default


class HostServicesDetector(Detector):
    name = "host-services"
    tags = ("service", "plumbing", "monitoring", "logging")
    requires = ("systemd", "sysv", "cron", "dpkg", "rpm", "apk")
    reads = whole(
        "/etc/rsyslog.conf",
        "/etc/rsyslog.d/*",
        "/etc/syslog-ng/syslog-ng.conf",
        "/etc/syslog-ng/conf.d/*",
        "/etc/logrotate.conf",
        *CHRONY_CONFS,
        "/etc/chrony/conf.d/*",
        "/etc/chrony/sources.d/*",
        "/etc/chrony/chrony.keys",
        "/etc/chrony.keys",
        *NTP_CONFS,
        "/etc/zabbix/*.conf",
        "/etc/zabbix/zabbix_agentd.d/*",
        "/etc/zabbix/zabbix_agentd.conf.d/*",
        "/etc/zabbix/zabbix_agent2.d/*",
        *(p for p, _ in NODE_EXPORTER),
        "/etc/nagios/nrpe.cfg",
        "/etc/nagios/nrpe.d/*",
        "/etc/nrpe.cfg",
        "/etc/bacula/bacula-fd.conf",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        units = {u.name: u for u in found.units}
        self._cron(found, units)
        self._rsyslog(snap, found, units)
        self._syslog_ng(snap, found, units)
        self._logrotate(snap, found, units)
        self._chrony(snap, found, units)
        self._ntpd(snap, found, units)
        self._node_exporter(snap, found, units)
        self._zabbix(snap, found, units)
        self._nrpe(snap, found, units)
        self._bacula(snap, found, units)
        self._backup_jobs(found)
        self._os_units(snap, found)

    # -- cron ------------------------------------------------------------------------
    def _cron(self, found: Found, units: dict[str, InitUnit]) -> None:
        if not _installed(found, units, ("cron", "cronie", "cronie-noanacron", "dcron", "systemd-cron"), CRON_UNITS):
            return
        sf = ServiceFacts(
            software="cron",
            kind="scheduler",
            plumbing=True,
            packages=["cron", "cronie", "dcron", "systemd-cron"],
            units=list(CRON_UNITS),
            binaries=["/usr/sbin/cron", "/usr/sbin/crond", "/usr/bin/crond"],
        )
        for job in found.cron_jobs:
            if job.source in ("crontab", "cron.d", "user-crontab", "anacron") and not any(
                r.path == job.path for r in sf.config_files
            ):
                sf.config_files.append(FileRef(job.path, "config", evidence=job.evidence[:1]))
        sf.attributes["jobs"] = str(sum(1 for j in found.cron_jobs if j.source != "systemd-timer"))
        found.add(sf)

    # -- syslog ----------------------------------------------------------------------
    def _rsyslog(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        if not snap.is_file("/etc/rsyslog.conf") or not _installed(
            found, units, ("rsyslog",), ("rsyslog.service", "rsyslog")
        ):
            return
        cfg = rsyslog.parse("/etc/rsyslog.conf", snap.text, snap.glob, snap.want)
        sf = ServiceFacts(
            software="rsyslog",
            kind="logging",
            plumbing=True,
            packages=["rsyslog"],
            units=["rsyslog.service", "syslog.service", "rsyslog"],
            binaries=["/usr/sbin/rsyslogd"],
            config_files=[FileRef(p, "config", evidence=(Evidence("config", p, via=v),)) for p, v in cfg.files],
            evidence=[Evidence("file", "/etc/rsyslog.conf")],
        )
        for inp in cfg.listening():
            ev = _cfg(inp.path, inp.line, inp.text, inp.via)
            addrs = [inp.address] if inp.address else ["0.0.0.0", "::"]
            sf.ports += [Port(inp.port, inp.proto, a, evidence=(ev,)) for a in addrs]
        for act in cfg.actions:
            ev = _cfg(act.path, act.line, act.text, act.via)
            if act.kind == "forward" and act.target:
                sf.endpoints.append(Endpoint("omfwd", act.target, act.port, f"syslog+{act.proto}", None, (ev,)))
            elif act.kind == "file" and act.target and not any(r.path == act.target for r in sf.log_paths):
                sf.log_paths.append(FileRef(act.target, "logs", evidence=(ev,)))
        found.add(sf)

    def _syslog_ng(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        main = "/etc/syslog-ng/syslog-ng.conf"
        if not snap.is_file(main) or not _installed(
            found, units, ("syslog-ng", "syslog-ng-core"), ("syslog-ng.service",)
        ):
            return
        files = [main, *sorted(snap.glob("/etc/syslog-ng/conf.d/*.conf"))]
        sf = ServiceFacts(
            software="syslog-ng",
            kind="logging",
            plumbing=True,
            packages=["syslog-ng-core", "syslog-ng"],
            units=["syslog-ng.service", "syslog-ng"],
            binaries=["/usr/sbin/syslog-ng"],
            config_files=[file_ref(f, "config") for f in files],
        )
        for path in files:
            text = re.sub(r"#[^\n]*", "", snap.text(path) or "")
            for m in re.finditer(r"\b(source|destination)\s+(\w+)\s*\{(.*?)\}\s*;", text, re.S):
                line = text.count("\n", 0, m.start()) + 1
                for d in re.finditer(r"\b(network|syslog|udp|tcp|udp6|tcp6|file)\s*\(([^;]*?)\)\s*;", m.group(3), re.S):
                    drv, args = d.group(1), d.group(2)
                    ev = _cfg(path, line, f"{m.group(1)} {m.group(2)} {{ {drv}({args.strip()}) }}")
                    port_m = re.search(r"port\s*\(\s*(\d+)\s*\)", args)
                    tcp = drv.startswith("tcp") or drv == "syslog" or re.search(r'transport\s*\(\s*"?tcp', args)
                    default = 601 if drv == "syslog" else 514
                    port = int(port_m.group(1)) if port_m else default
                    proto = "tcp" if tcp else "udp"
                    if m.group(1) == "source" and drv != "file":
                        ip = re.search(r"ip\s*\(\s*\"?([^\")\s]+)", args)
                        sf.ports.append(Port(port, proto, ip.group(1) if ip else "0.0.0.0", evidence=(ev,)))
                    elif drv == "file":
                        f = re.match(r'\s*"([^"]+)"', args)
                        if f and m.group(1) == "destination":
                            sf.log_paths.append(FileRef(f.group(1), "logs", evidence=(ev,)))
                    else:
                        host = re.match(r'\s*"([^"]+)"', args)
                        if host:
                            sf.endpoints.append(Endpoint(drv, host.group(1), port, f"syslog+{proto}", None, (ev,)))
        found.add(sf)

    def _logrotate(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        if not snap.is_file("/etc/logrotate.conf"):
            return
        if not _installed(found, units, ("logrotate",), ("logrotate.timer", "logrotate.service")) and not snap.exists(
            "/etc/cron.daily/logrotate"
        ):
            return
        files = ["/etc/logrotate.conf", *sorted(p for p in snap.glob("/etc/logrotate.d/*") if snap.is_file(p))]
        sf = ServiceFacts(
            software="logrotate",
            kind="logging",
            plumbing=True,
            packages=["logrotate"],
            units=["logrotate.service", "logrotate.timer"],
            config_files=[file_ref(f, "config") for f in files],
        )
        timer = units.get("logrotate.timer")
        if timer is not None and timer.enabled:
            sf.enabled = True
            sf.evidence += list(timer.evidence[:1])
        elif any(j.path == "/etc/cron.daily/logrotate" for j in found.cron_jobs):
            sf.enabled = True
            sf.evidence.append(Evidence("file", "/etc/cron.daily/logrotate", detail="run daily by cron"))
        found.add(sf)

    # -- time ------------------------------------------------------------------------
    def _chrony(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        main = next((c for c in CHRONY_CONFS if snap.is_file(c)), None)
        if main is None:
            return
        lines: list[tuple[str, list[str], str, int, str]] = []
        files: list[str] = []
        self._chrony_file(snap, main, lines, files, set())
        sf = ServiceFacts(
            software="chrony",
            kind="other",
            plumbing=True,
            packages=["chrony"],
            units=["chrony.service", "chronyd.service", "chronyd", "chrony"],
            binaries=["/usr/sbin/chronyd"],
            config_files=[file_ref(f, "config") for f in files],
            evidence=[Evidence("file", main)],
        )
        by: dict[str, list[tuple[list[str], Evidence]]] = {}
        for key, args, path, no, raw in lines:
            by.setdefault(key, []).append((args, _cfg(path, no, raw)))
        for key in ("server", "pool", "peer"):
            for args, ev in by.get(key, []):
                if args:
                    port = (
                        int(args[args.index("port") + 1])
                        if "port" in args[:-1] and args[args.index("port") + 1].isdigit()
                        else 123
                    )
                    sf.endpoints.append(Endpoint(key, args[0], port, "ntp", None, (ev,)))
        if by.get("allow"):
            port_line = by.get("port", [])
            port = int(port_line[-1][0][0]) if port_line and port_line[-1][0] and port_line[-1][0][0].isdigit() else 123
            if port != 0:
                evs = (by["allow"][0][1], *(e for _, e in port_line[-1:]))
                ntp_binds = [a[0] for a, _ in by.get("bindaddress", []) if a] or ["0.0.0.0", "::"]
                sf.ports += [Port(port, "udp", b, evidence=evs) for b in ntp_binds]
        cmd = by.get("cmdport", [])
        cport = int(cmd[-1][0][0]) if cmd and cmd[-1][0] and cmd[-1][0][0].isdigit() else 323
        if cport != 0:
            binds = [(a[0], e) for a, e in by.get("bindcmdaddress", []) if a and not a[0].startswith("/")]
            if not binds:
                ev = Evidence("default", detail="chronyd's command port 323 listens on 127.0.0.1 and ::1")
                binds = [("127.0.0.1", ev), ("::1", ev)]
            sf.ports += [
                Port(cport, "udp", b, source="default" if e.kind == "default" else "configured", evidence=(e,))
                for b, e in binds
            ]
        for key in ("driftfile", "dumpdir", "ntsdumpdir"):
            for args, ev in by.get(key, []):
                if args and args[0].startswith("/"):
                    d = args[0] if key != "driftfile" else P.parent(args[0])
                    if not any(r.path == d for r in sf.data_dirs):
                        sf.data_dirs.append(FileRef(d, "data", evidence=(ev,)))
        for args, ev in by.get("logdir", []):
            if args:
                sf.log_paths.append(FileRef(args[0], "logs", evidence=(ev,)))
        for args, _ev in by.get("keyfile", []):
            if args:
                self._chrony_keys(snap, sf, args[0])
        for args, _ev in by.get("user", []):
            if args:
                sf.user = args[0]
        found.add(sf)

    def _chrony_file(
        self,
        snap: Snapshot,
        path: str,
        out: list[tuple[str, list[str], str, int, str]],
        files: list[str],
        seen: set[str],
    ) -> None:
        text = read_once(snap, path, seen, files)
        if text is None:
            return
        for no, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line[0] in "#;!%":
                continue
            words = line.split()
            key, args = words[0].lower(), words[1:]
            if key in ("include", "confdir", "sourcedir") and args:
                pattern = (
                    args[0] if key == "include" else P.join(args[0], "*.conf" if key == "confdir" else "*.sources")
                )
                targets = sorted(snap.glob(pattern))
                snap.want(targets)
                for t in targets:
                    self._chrony_file(snap, t, out, files, seen)
                continue
            out.append((key, args, path, no, line))

    @staticmethod
    def _chrony_keys(snap: Snapshot, sf: ServiceFacts, path: str) -> None:
        snap.want([path])
        for no, raw in enumerate((snap.text(path) or "").splitlines(), 1):
            f = raw.split()
            if len(f) >= 2 and not f[0].startswith("#"):
                sf.secrets.append(make_secret(f"key {f[0]}", f[-1], path, no, kind="key"))

    def _ntpd(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        main = next((c for c in NTP_CONFS if snap.is_file(c)), None)
        if main is None or not _installed(
            found, units, ("ntp", "ntpsec"), ("ntp.service", "ntpsec.service", "ntpd.service", "ntp")
        ):
            return
        software = "ntpsec" if "ntpsec" in main else "ntp"
        sf = ServiceFacts(
            software=software,
            kind="other",
            plumbing=True,
            packages=["ntpsec", "ntp"],
            units=["ntp.service", "ntpsec.service", "ntpd.service", "ntp", "ntpd"],
            binaries=["/usr/sbin/ntpd"],
            config_files=[file_ref(main, "config")],
        )
        ev = Evidence("default", detail="ntpd binds 123/udp on every interface")
        sf.ports += [Port(123, "udp", a, source="default", evidence=(ev,)) for a in ("0.0.0.0", "::")]
        for no, raw in enumerate((snap.text(main) or "").splitlines(), 1):
            words = raw.split("#", 1)[0].split()
            if len(words) >= 2 and words[0] in ("server", "pool", "peer"):
                sf.endpoints.append(Endpoint(words[0], words[1], 123, "ntp", None, (_cfg(main, no, raw),)))
            elif len(words) >= 2 and words[0] == "driftfile":
                sf.data_dirs.append(FileRef(P.parent(words[1]), "data", evidence=(_cfg(main, no, raw),)))
        found.add(sf)

    # -- monitoring ------------------------------------------------------------------
    def _node_exporter(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        names = (
            "prometheus-node-exporter.service",
            "node_exporter.service",
            "prometheus-node-exporter",
            "node_exporter",
        )
        if not _installed(
            found, units, ("prometheus-node-exporter", "node_exporter", "golang-github-prometheus-node-exporter"), names
        ):
            return
        sf = ServiceFacts(
            software="prometheus-node-exporter",
            kind="monitoring",
            plumbing=True,
            packages=["prometheus-node-exporter", "node_exporter"],
            units=list(names),
            binaries=["/usr/bin/prometheus-node-exporter", "/usr/local/bin/node_exporter", "/usr/bin/node_exporter"],
        )
        addr, ev = ":9100", Evidence("default", detail="node exporter's --web.listen-address default is :9100")
        for path, var in NODE_EXPORTER:
            for no, k, v in assignments(snap.text(path) or ""):
                if k != var:
                    continue
                sf.config_files.append(file_ref(path, "config"))
                words = shlex.split(v) if v else []
                for i, w in enumerate(words):
                    if w.startswith("--web.listen-address"):
                        val = w.split("=", 1)[1] if "=" in w else (words[i + 1] if i + 1 < len(words) else "")
                        addr, ev = val, _cfg(path, no, f"{k}={v}")
                    elif w.startswith("--collector.textfile.directory") and "=" in w:
                        sf.data_dirs.append(FileRef(w.split("=", 1)[1], "data", evidence=(_cfg(path, no, f"{k}={v}"),)))
        for unit_name in names[:2]:
            u = units.get(unit_name)
            for argv in u.exec_start if u else ():
                for w in argv:
                    if w.startswith("--web.listen-address="):
                        addr, ev = w.split("=", 1)[1], Evidence("unit", u.path if u else None, excerpt=w)
        for item in addr.split(","):
            host, port = _hostport(item.strip(), 9100)
            sf.ports.append(
                Port(
                    port,
                    "tcp",
                    host or "0.0.0.0",
                    source="default" if ev.kind == "default" else "configured",
                    evidence=(ev,),
                )
            )
        found.add(sf)

    def _zabbix(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        for software, main in ZABBIX_CONFS:
            if not snap.is_file(main):
                continue
            if not _installed(found, units, (software,), (f"{software}.service", software)):
                continue
            settings: list[tuple[str, str, str, int]] = []
            files: list[str] = []
            self._zabbix_file(snap, main, settings, files, set())
            sf = ServiceFacts(
                software=software,
                kind="monitoring",
                plumbing=True,
                packages=[software],
                units=[f"{software}.service", software],
                binaries=["/usr/sbin/zabbix_agentd", "/usr/sbin/zabbix_agent2"],
                config_files=[file_ref(f, "config") for f in files],
                evidence=[Evidence("file", main)],
            )
            last = {k: (v, p, n) for k, v, p, n in settings}

            def ev(key: str, last: dict[str, tuple[str, str, int]] = last) -> Evidence | None:
                hit = last.get(key)
                return _cfg(hit[1], hit[2], f"{key}={hit[0]}") if hit else None

            start_agents = last.get("StartAgents", ("3", "", 0))[0]
            if start_agents != "0":
                port_s = last.get("ListenPort", ("10050", "", 0))[0]
                port_ev = ev("ListenPort") or Evidence("default", detail="zabbix agent ListenPort default 10050")
                ip_ev = ev("ListenIP") or Evidence("default", detail="zabbix agent ListenIP default 0.0.0.0")
                ips = [x.strip() for x in last.get("ListenIP", ("0.0.0.0", "", 0))[0].split(",") if x.strip()]
                src = "default" if port_ev.kind == "default" else "configured"
                sf.ports += [
                    Port(int(port_s), "tcp", ip, source=src, evidence=(port_ev, ip_ev))
                    for ip in ips
                    if port_s.isdigit()
                ]
            for key, default in (("Server", None), ("ServerActive", 10051)):
                hit = last.get(key)
                if not hit:
                    continue
                for item in (x.strip() for x in re.split(r"[,;]", hit[0]) if x.strip()):
                    host, port = _hostport(item, default)
                    if key == "Server":
                        host = host.split("/")[0]  # Server= may hold a CIDR of allowed pollers
                    sf.endpoints.append(
                        Endpoint(key, host, port, "zabbix", None, (_cfg(hit[1], hit[2], f"{key}={hit[0]}"),))
                    )
            if "LogFile" in last and last.get("LogType", ("file",))[0] == "file":
                sf.log_paths.append(
                    FileRef(last["LogFile"][0], "logs", evidence=(ev("LogFile") or Evidence("config"),))
                )
            if "TLSPSKFile" in last:
                sf.config_files.append(
                    FileRef(last["TLSPSKFile"][0], "certs", evidence=(ev("TLSPSKFile") or Evidence("config"),))
                )
            sf.user = last["User"][0] if "User" in last else None
            found.add(sf)

    def _zabbix_file(
        self, snap: Snapshot, path: str, out: list[tuple[str, str, str, int]], files: list[str], seen: set[str]
    ) -> None:
        text = read_once(snap, path, seen, files)
        if text is None:
            return
        for no, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if key == "Include":
                pattern = (
                    value if any(c in value for c in "*?[") else (P.join(value, "*") if snap.is_dir(value) else value)
                )
                targets = sorted(t for t in snap.glob(pattern) if snap.is_file(t))
                snap.want(targets)
                for t in targets:
                    self._zabbix_file(snap, t, out, files, seen)
                continue
            out.append((key, value, path, no))

    def _nrpe(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        main = next((p for p in ("/etc/nagios/nrpe.cfg", "/etc/nrpe.cfg") if snap.is_file(p)), None)
        names = ("nagios-nrpe-server.service", "nrpe.service", "nagios-nrpe-server", "nrpe")
        if main is None or not _installed(found, units, ("nagios-nrpe-server", "nrpe"), names):
            return
        settings: dict[str, tuple[str, Evidence]] = {}
        files: list[str] = []
        queue = [main]
        while queue and len(files) < 100:
            path = queue.pop(0)
            if path in files:
                continue
            files.append(path)
            for no, raw in enumerate((snap.text(path) or "").splitlines(), 1):
                line = raw.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, _, value = line.partition("=")
                if key == "include":
                    snap.want([value])
                    queue.append(value)
                elif key == "include_dir":
                    found_files = sorted(p for p in snap.glob(P.join(value, "*.cfg")))
                    snap.want(found_files)
                    queue += found_files
                else:
                    settings[key.strip()] = (value.strip(), _cfg(path, no, line))
        sf = ServiceFacts(
            software="nrpe",
            kind="monitoring",
            plumbing=True,
            packages=["nagios-nrpe-server", "nrpe"],
            units=list(names),
            binaries=["/usr/sbin/nrpe"],
            config_files=[file_ref(f, "config") for f in files],
        )
        port_s, port_ev = settings.get(
            "server_port", ("5666", Evidence("default", detail="nrpe server_port default 5666"))
        )
        addr = settings.get("server_address", ("0.0.0.0", port_ev))[0]
        if port_s.isdigit():
            sf.ports.append(Port(int(port_s), "tcp", addr, evidence=(port_ev,)))
        if "allowed_hosts" in settings:
            sf.attributes["allowed_hosts"] = settings["allowed_hosts"][0]
        found.add(sf)

    # -- backup ----------------------------------------------------------------------
    def _bacula(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        main = "/etc/bacula/bacula-fd.conf"
        if not snap.is_file(main) or not _installed(
            found, units, ("bacula-fd", "bacula-client"), ("bacula-fd.service", "bacula-fd")
        ):
            return
        sf = ServiceFacts(
            software="bacula-fd",
            kind="other",
            plumbing=True,
            packages=["bacula-fd", "bacula-client"],
            units=["bacula-fd.service", "bacula-fd"],
            binaries=["/usr/sbin/bacula-fd"],
            config_files=[file_ref(main, "config")],
        )
        port, port_ev = 9102, Evidence("default", detail="bacula-fd FDPort default 9102")
        addr = "0.0.0.0"
        resource = ""
        for no, raw in enumerate((snap.text(main) or "").splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            m = re.match(r"^(\w+)\s*\{", line)
            if m:
                resource = m.group(1).lower()
            for key, value in re.findall(r"(\w[\w ]*?)\s*=\s*(\"[^\"]*\"|[^;\s]+)", line):
                k, v = key.replace(" ", "").lower(), value.strip('"')
                if resource == "filedaemon" and k == "fdport" and v.isdigit():
                    port, port_ev = int(v), _cfg(main, no, line)
                elif resource == "filedaemon" and k == "fdaddress":
                    addr = v
                elif k == "password":
                    sf.secrets.append(make_secret(f"{resource} Password", v, main, no, kind="password"))
        sf.ports.append(Port(port, "tcp", addr, evidence=(port_ev,)))
        found.add(sf)

    @staticmethod
    def _backup_jobs(found: Found) -> None:
        """Backup tools run straight from cron (`restic -r ... backup`, `borg create ...`)."""
        for job in found.cron_jobs:
            words = split_command(job.command)
            tool = next((t for w in words for t in BACKUP_TOOLS if w.rsplit("/", 1)[-1] == t), None)
            if tool is None:
                continue
            sf = ServiceFacts(
                software=tool,
                kind="other",
                instance=f"{job.path}:{job.line}" if job.line else job.path,
                plumbing=True,
                packages=[tool],
                enabled=True,
                evidence=list(job.evidence),
                attributes={"schedule": job.schedule, "user": job.user},
            )
            for i, w in enumerate(words):
                if w in ("-r", "--repo") and i + 1 < len(words):
                    sf.attributes["repository"] = words[i + 1]
                elif w.startswith("--repo="):
                    sf.attributes["repository"] = w.split("=", 1)[1]
                elif "::" in w and tool == "borg":
                    sf.attributes["repository"] = w.split("::", 1)[0]
            found.add(sf)

    # -- OS units --------------------------------------------------------------------
    @staticmethod
    def _os_units(snap: Snapshot, found: Found) -> None:
        init_present = (
            any(
                snap.exists(p)
                for p in ("/lib/systemd/systemd", "/usr/lib/systemd/systemd", "/sbin/init", "/sbin/openrc")
            )
            or found.package("systemd", "sysvinit-core", "openrc", "busybox-openrc") is not None
        )
        for unit in found.units:
            if not unit.enabled or unit.state != "enabled":
                continue
            stem, _, _suffix = unit.name.rpartition(".") if unit.system == "systemd" else (unit.name, "", "")
            prefix, at, instance = stem.partition("@")
            key = f"{prefix}@" if at else unit.name
            if key not in OS_UNITS:
                continue
            software, kind = OS_UNITS[key]
            units = [unit.name]
            if unit.triggers:
                units.append(unit.triggers)
            sf = ServiceFacts(
                software=software,
                kind=kind,
                instance=instance or None,
                plumbing=True,
                units=units,
                packages=[
                    PACKAGE_OF.get(software, software),
                    *(["systemd"] if software.startswith("systemd-") else []),
                ],
                evidence=list(unit.evidence[:2]),
            )
            if unit.type in ("timer", "socket"):
                # merge attaches runnable units only; the trigger is what is enabled
                sf.enabled = True if init_present else None
                sf.attributes["trigger"] = unit.name
                if unit.schedule:
                    sf.attributes["schedule"] = " ".join(unit.schedule)
            if not init_present:
                sf.attributes["note"] = "enabled by a package, but no init system is installed to start it"
            for path in OS_UNIT_CONFIG.get(software, ()):
                if snap.exists(path):
                    sf.config_files.append(file_ref(path, "config"))
            found.add(sf)
