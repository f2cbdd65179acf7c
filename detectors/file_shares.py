"""File-share servers: Samba (smbd/nmbd, and the AD DC) and the kernel NFS server.

smb.conf, by smb.conf(5): `#`/`;` comment lines, a trailing `\\` joins lines, parameter
names are case- and space-insensitive (`bind interfaces only` = `bindinterfacesonly`),
`directory` is a synonym of `path`, the last value in a section wins, `include =`
is read in place (paths with `%` macros depend on the client: not followed),
`available = no` turns a share off. smbd listens on `smb ports` (445 139); 139 goes
with `disable netbios = yes`; nmbd (when its unit exists) on 137/udp and 138/udp;
`bind interfaces only` + `interfaces` limit the addresses.
`security = user` (the default outside a domain) with a tdbsam/smbpasswd `passdb backend`
is an identity store made of the host's Unix accounts.
Samba on a client host (smb.conf from samba-common, no smbd) is not a server.

exports(5): `path [-defaults] client(options) ...`, `\\` continuations, `#` comments,
a quoted path may hold spaces; `client (rw)` with a space is two entries (the client
with defaults, and the world with rw). nfs.conf `[nfsd] port/udp/tcp/host`; rpcbind's
111 when rpcbind is installed; rpc.mountd's fixed `--port` / `[mountd] port`.
"""

from __future__ import annotations

import configparser
import re
import shlex

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, IdentityStore, InitUnit, Port, file_ref
from modernize.parsers.shell import assignments
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

SMB_CONF = "/etc/samba/smb.conf"
SYNONYMS = {"directory": "path", "writable": "writeable", "write ok": "writeable"}


def norm_key(key: str) -> str:
    k = " ".join(key.lower().split())
    k = SYNONYMS.get(k, k)
    return k.replace(" ", "")


class SmbConf:
    """Sections in file order; each key -> (value, path, line)."""

    def __init__(self) -> None:
        self.sections: dict[str, dict[str, tuple[str, str, int]]] = {}
        self.files: list[str] = []
        self.skipped_includes: list[str] = []

    def g(self, key: str, default: str = "") -> str:
        v = self.sections.get("global", {}).get(norm_key(key))
        return v[0] if v else default

    def ev(self, section: str, key: str) -> Evidence | None:
        v = self.sections.get(section, {}).get(norm_key(key))
        return Evidence("config", v[1], v[2], excerpt=f"{key} = {v[0]}") if v else None


def truthy(v: str) -> bool:
    return v.strip().lower() in ("yes", "true", "1", "on")


def parse_smb(
    snap: Snapshot, path: str, conf: SmbConf | None = None, section: str = "global", depth: int = 0
) -> SmbConf:
    conf = conf or SmbConf()
    text = snap.text(path)
    if text is None or depth > 10:
        return conf
    conf.files.append(path)
    pending, start = "", 0
    cur = section
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending:
            line, no = pending + line, start
            pending = ""
        if line.endswith("\\"):
            pending, start = line[:-1], no
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and "]" in line:
            cur = line[1 : line.index("]")].strip().lower()
            conf.sections.setdefault(cur, {})
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        k, v = norm_key(key), value.strip()
        if k == "include":
            if "%" in v:
                conf.skipped_includes.append(v)
            else:
                snap.want([v])
                parse_smb(snap, v, conf, cur, depth + 1)
            continue
        conf.sections.setdefault(cur, {})[k] = (v, path, no)
    return conf


def parse_exports(text: str) -> list[tuple[int, str, list[tuple[str, str]], str]]:
    """(line, path, [(client, options)], raw line) per export."""
    out = []
    pending, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip() if '"' not in raw else raw.rstrip()
        if pending:
            line, no = pending + " " + line.strip(), start
            pending = ""
        if line.endswith("\\"):
            pending, start = line[:-1], no
            continue
        if not line.strip():
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        if not words or not words[0].startswith("/"):
            continue
        path, rest = words[0].replace("\\040", " "), words[1:]
        defaults = ""
        if rest and rest[0].startswith("-"):
            defaults, rest = rest[0][1:], rest[1:]
        clients: list[tuple[str, str]] = []
        for w in rest:
            m = re.fullmatch(r"([^()]*)(?:\(([^)]*)\))?", w)
            if not m:
                continue
            client, opts = m.group(1) or "*", m.group(2)
            clients.append((client, opts if opts is not None else defaults))
        if not rest:
            clients.append(("*", defaults))
        out.append((no, path, clients, raw.strip()))
    return out


class FileSharesDetector(Detector):
    name = "file-shares"
    tags = ("service", "file-share")
    requires = ("systemd", "sysv", "dpkg", "rpm", "apk")
    reads = whole(
        SMB_CONF,
        "/etc/samba/*.conf",
        "/etc/exports",
        "/etc/exports.d/*",
        "/etc/nfs.conf",
        "/etc/nfs.conf.d/*",
        "/etc/default/nfs-kernel-server",
        "/etc/sysconfig/nfs",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        units = {u.name: u for u in found.units}
        has_smbd = bool(found.package("samba")) or any(n in units for n in ("smbd.service", "smb.service", "smbd"))
        if snap.is_file(SMB_CONF) and has_smbd:
            self._samba(snap, found, units)
        nfs = found.package("nfs-kernel-server", "nfs-utils") is not None or "nfs-server.service" in units
        if nfs:
            self._nfs(snap, found, units)

    # -- samba -----------------------------------------------------------------------
    def _samba(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        conf = parse_smb(snap, SMB_CONF)
        role = conf.g("server role", "auto").lower()
        dc = "domain controller" in role and "classic" not in role
        sf = ServiceFacts(
            software="samba",
            kind="file-share",
            packages=["samba"],
            units=["smbd.service", "nmbd.service", "smb.service", "nmb.service", "smbd", "nmbd", "smb", "nmb"],
            binaries=["/usr/sbin/smbd", "/usr/sbin/nmbd"],
            config_files=[file_ref(f, "config") for f in conf.files],
            attributes={"server_role": role},
            evidence=[Evidence("file", SMB_CONF)],
        )
        netbios_off = truthy(conf.g("disable netbios", "no"))
        ports_ev = conf.ev("global", "smb ports") or Evidence("default", detail="smbd listens on `smb ports` 445 139")
        smb_ports = [int(p) for p in re.split(r"[\s,]+", conf.g("smb ports", "445 139")) if p.isdigit()]
        if netbios_off:
            smb_ports = [p for p in smb_ports if p != 139]
        addrs = self._addresses(conf)
        src = "configured" if ports_ev.kind == "config" else "default"
        if not dc:
            sf.ports += [Port(p, "tcp", a, source=src, evidence=(ports_ev,)) for p in smb_ports for a, _ in addrs]
            if not netbios_off and any(n in units for n in ("nmbd.service", "nmb.service", "nmbd")):
                ev = Evidence("default", detail="nmbd serves NetBIOS name and datagram services on 137/udp, 138/udp")
                sf.ports += [Port(p, "udp", a, source="default", evidence=(ev,)) for p in (137, 138) for a, _ in addrs]
        state = conf.g("state directory", "/var/lib/samba")
        sf.data_dirs.append(
            FileRef(
                state,
                "data",
                evidence=(conf.ev("global", "state directory") or Evidence("default", detail="samba state directory"),),
            )
        )
        for key in ("private dir", "cache directory"):
            if conf.g(key):
                sf.data_dirs.append(
                    FileRef(conf.g(key), "data", evidence=(conf.ev("global", key) or Evidence("config"),))
                )
        if conf.g("log file"):
            sf.log_paths.append(
                FileRef(conf.g("log file"), "logs", evidence=(conf.ev("global", "log file") or Evidence("config"),))
            )
        shares = []
        for name, opts in conf.sections.items():
            if name == "global" or not truthy(opts.get("available", ("yes", "", 0))[0]):
                continue
            shares.append(name)
            path = opts.get("path")
            printable = truthy(opts.get("printable", ("no", "", 0))[0]) or name == "printers"
            if path and not printable and "%" not in path[0]:
                ev = Evidence("config", path[1], path[2], excerpt=f"[{name}] path = {path[0]}")
                sf.data_dirs.append(FileRef(path[0], "data", evidence=(ev,)))
        sf.attributes["shares"] = " ".join(shares)
        if not dc:
            sf.identity_stores += self._smb_users(conf, role)
        if conf.skipped_includes:
            sf.attributes["per_client_includes"] = " ".join(conf.skipped_includes)
        found.add(sf)
        if "samba-ad-dc.service" in units or "samba-ad-dc" in units or dc:
            self._ad_dc(found, conf, dc, addrs, units)

    @staticmethod
    def _smb_users(conf: SmbConf, role: str) -> list[IdentityStore]:
        """`security = user` (the default outside a domain: `server role` standalone or
        auto) checks passwords in the `passdb backend` (default tdbsam); with tdbsam or
        smbpasswd every Samba user must also be a Unix account of this host (smbd runs as
        that uid), and `unix password sync` keeps the two passwords in step. ldapsam keeps
        them in a directory; `security = ads`/`domain` in the domain's."""
        security = conf.g("security", "user" if ("standalone" in role or role == "auto") else "").lower()
        if security != "user":
            return []
        backend = conf.g("passdb backend", "tdbsam")
        kind, _, where = backend.partition(":")
        evs = [
            conf.ev("global", "security")
            or conf.ev("global", "server role")
            or Evidence("default", detail="smb.conf: security = user outside a domain"),
            conf.ev("global", "passdb backend") or Evidence("default", detail="smb.conf: passdb backend = tdbsam"),
        ]
        if truthy(conf.g("unix password sync", "no")):
            evs.append(conf.ev("global", "unix password sync") or Evidence("config", SMB_CONF))
        store, path = kind.strip().lower(), where.strip() if where.strip().startswith("/") else None
        return [IdentityStore(store, store != "ldapsam", "passdb backend", path, tuple(evs))]

    @staticmethod
    def _addresses(conf: SmbConf) -> list[tuple[str | None, Evidence | None]]:
        if not truthy(conf.g("bind interfaces only", "no")) or not conf.g("interfaces"):
            return [("0.0.0.0", None)]
        out: list[tuple[str | None, Evidence | None]] = []
        for item in re.split(r"[\s,]+", conf.g("interfaces")):
            if not item:
                continue
            if item in ("lo", "127.0.0.1", "127.0.0.0/8"):
                out.append(("127.0.0.1", conf.ev("global", "interfaces")))
            elif re.fullmatch(r"[0-9a-fA-F.:]+(?:/\d+)?", item):
                out.append((item.split("/")[0], conf.ev("global", "interfaces")))
            else:
                out.append((None, conf.ev("global", "interfaces")))  # an interface name: its address is not here
        return list(dict.fromkeys(out)) or [("0.0.0.0", None)]

    @staticmethod
    def _ad_dc(
        found: Found,
        conf: SmbConf,
        dc: bool,
        addrs: list[tuple[str | None, Evidence | None]],
        units: dict[str, InitUnit],
    ) -> None:
        sf = ServiceFacts(
            software="samba-ad-dc",
            kind="other",
            packages=["samba", "samba-ad-dc"],
            units=["samba-ad-dc.service", "samba.service", "samba-ad-dc"],
            binaries=["/usr/sbin/samba"],
            config_files=[file_ref(SMB_CONF, "config")],
            attributes={"server_role": conf.g("server role", "auto")},
        )
        unit = units.get("samba-ad-dc.service")
        if unit is not None:
            sf.enabled = unit.enabled  # the SysV twin is shadowed (enabled unknown): the unit decides
        if dc:
            sf.kind = "file-share"
            ev = conf.ev("global", "server role") or Evidence("config", SMB_CONF)
            for port, protos in (
                (53, "tu"),
                (88, "tu"),
                (135, "t"),
                (389, "tu"),
                (445, "t"),
                (464, "tu"),
                (636, "t"),
                (3268, "t"),
                (3269, "t"),
            ):
                for proto in protos:
                    sf.ports += [Port(port, "tcp" if proto == "t" else "udp", a, evidence=(ev,)) for a, _ in addrs]
        found.add(sf)

    # -- NFS -------------------------------------------------------------------------
    def _nfs(self, snap: Snapshot, found: Found, units: dict[str, InitUnit]) -> None:
        files = [p for p in ["/etc/exports", *snap.glob("/etc/exports.d/*.exports")] if snap.is_file(p)]
        exports = []
        for path in files:
            for no, export, clients, raw in parse_exports(snap.text(path) or ""):
                exports.append((path, no, export, clients, raw))
        unit = units.get("nfs-server.service")
        if not exports and not (unit is not None and unit.enabled):
            return  # the NFS utilities without anything exported and no server enabled: a client
        sf = ServiceFacts(
            software="nfs-server",
            kind="file-share",
            packages=["nfs-kernel-server", "nfs-utils"],
            units=["nfs-server.service", "nfs-kernel-server.service", "nfs-kernel-server", "nfs-mountd.service"],
            binaries=["/usr/sbin/rpc.nfsd", "/usr/sbin/rpc.mountd"],
            config_files=[file_ref(p, "config") for p in files],
            evidence=[Evidence("file", p) for p in files[:1]],
        )
        for extra in ("/etc/default/nfs-kernel-server", "/etc/sysconfig/nfs", "/etc/nfs.conf"):
            if snap.is_file(extra):
                sf.config_files.append(file_ref(extra, "config"))
        listing = []
        for path, no, export, clients, raw in exports:
            ev = Evidence("config", path, no, excerpt=raw)
            sf.data_dirs.append(FileRef(export, "data", evidence=(ev,)))
            listing.append(export + " " + " ".join(f"{c}({o})" for c, o in clients))
        sf.attributes["exports"] = "; ".join(listing)
        nfs_conf = self._nfs_conf(snap, ("nfsd", "mountd"))
        nfsd = nfs_conf["nfsd"]
        port = int(nfsd["port"][0]) if nfsd.get("port", ("",))[0].isdigit() else 2049
        host = nfsd.get("host", (None,))[0] or "0.0.0.0"
        ev_def = Evidence("default", detail="nfsd listens on 2049 over TCP and UDP")
        for proto in ("tcp", "udp"):
            setting = nfsd.get(proto)
            if setting is not None and setting[0].lower() in ("n", "no", "0", "false", "off"):
                continue
            evs = tuple(e for e in (nfsd.get("port", (None, None))[1], ev_def) if e is not None)
            sf.ports.append(Port(port, proto, host, source="configured" if "port" in nfsd else "default", evidence=evs))
        mport = self._mountd_port(snap, nfs_conf["mountd"])
        if mport is not None:
            sf.ports += [Port(mport[0], proto, "0.0.0.0", evidence=(mport[1],)) for proto in ("tcp", "udp")]
        if found.package("rpcbind") or "rpcbind.service" in units or "rpcbind.socket" in units:
            ev = Evidence("default", detail="NFSv3 clients find mountd through rpcbind on 111")
            sf.ports += [Port(111, proto, "0.0.0.0", source="default", evidence=(ev,)) for proto in ("tcp", "udp")]
        found.add(sf)

    @staticmethod
    def _nfs_conf(snap: Snapshot, sections: tuple[str, ...]) -> dict[str, dict[str, tuple[str, Evidence]]]:
        """Settings of these sections of nfs.conf and its drop-ins (later files win),
        each with its evidence; the files are read once for all sections."""
        out: dict[str, dict[str, tuple[str, Evidence]]] = {section: {} for section in sections}
        for path in ["/etc/nfs.conf", *sorted(snap.glob("/etc/nfs.conf.d/*.conf"))]:
            text = snap.text(path)
            if not text:
                continue
            cp = configparser.RawConfigParser(strict=False, interpolation=None)
            try:
                cp.read_string(text, source=path)
            except configparser.Error:
                continue
            lines = [ln.strip() for ln in text.splitlines()]
            for section in sections:
                if not cp.has_section(section):
                    continue
                for k, v in cp.items(section):
                    line = next((i for i, ln in enumerate(lines, 1) if ln.startswith(k)), None)
                    excerpt = f"[{section}] {k}={v.strip()}"
                    out[section][k] = (v.strip(), Evidence("config", path, line, excerpt=excerpt))
        return out

    @staticmethod
    def _mountd_port(snap: Snapshot, mountd: dict[str, tuple[str, Evidence]]) -> tuple[int, Evidence] | None:
        if mountd.get("port", ("",))[0].isdigit():
            return int(mountd["port"][0]), mountd["port"][1]
        for path in ("/etc/default/nfs-kernel-server", "/etc/sysconfig/nfs"):
            for no, k, v in assignments(snap.text(path) or ""):
                m = re.search(r"(?:--port|-p)[ =](\d+)", v)
                if k in ("RPCMOUNTDOPTS", "RPCMOUNTDARGS", "MOUNTD_PORT") and (m or v.isdigit()):
                    return int(m.group(1) if m else v), Evidence("config", path, no, excerpt=f"{k}={v}")
        return None
