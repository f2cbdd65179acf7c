"""The host's own network configuration: bonds, VLANs, bridges and plain ports, as
Debian's ifupdown, netplan, NetworkManager keyfiles, systemd-networkd and RHEL's
ifcfg files declare them. A container gets its network from the platform, so
these are host coupling. Wi-Fi keys and 802.1X passwords are secrets: only their
fingerprints are kept (as host secrets), never their values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, NetworkInterface
from modernize.parsers.shell import assignments
from modernize.secrets import make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

IFUPDOWN = "/etc/network/interfaces"
IFUPDOWN_D = "/etc/network/interfaces.d/*"
NETPLAN = ("/etc/netplan/*.yaml", "/lib/netplan/*.yaml", "/run/netplan/*.yaml")
NM = "/etc/NetworkManager/system-connections/*"
NETWORKD = ("/etc/systemd/network/*.netdev", "/etc/systemd/network/*.network")
IFCFG = "/etc/sysconfig/network-scripts/ifcfg-*"

# ifupdown stanza keywords (interfaces(5)): anything else is an option of the current iface
_STANZAS = ("iface", "mapping", "auto", "source", "source-directory", "rename")
# source-directory takes the files whose names match this (interfaces(5), run-parts)
_RUN_PARTS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_VLAN_NAME = re.compile(r"^(?:(?P<parent>.+)\.(?P<id>\d+)|vlan(?P<bare>\d+))$")
# secret-bearing keys of ifupdown (wpa_supplicant's) and NetworkManager's wifi/802.1X settings
_IFUPDOWN_SECRETS = ("wpa-psk", "wpa-password", "wireless-key", "wpa-wep-key0", "wpa-wep-key1")
_NM_SECRET_SECTIONS = ("wifi-security", "802-11-wireless-security", "802-1x", "vpn-secrets", "pppoe", "gsm")
_NM_TYPES = {"802-3-ethernet": "ethernet", "802-11-wireless": "wifi", "wifi": "wifi", "ethernet": "ethernet",
             "bond": "bond", "vlan": "vlan", "bridge": "bridge", "team": "bond"}  # fmt: skip


def _guess_kind(name: str) -> str:
    if name == "lo":
        return "loopback"
    if name.startswith(("eth", "en", "em")):
        return "ethernet"
    if name.startswith(("wl", "wlan")):
        return "wifi"
    return "other"


@dataclass
class _Iface:
    """One interface while its files are read: several stanzas/files add to it."""

    name: str
    source: str
    kind: str | None = None
    members: list[str] = field(default_factory=list)
    parent: str | None = None
    master: str | None = None  # the bond/bridge this one belongs to (a member's own setting)
    vlan_id: int | None = None
    mode: str | None = None
    method: str | None = None
    addresses: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    def cite(self, path: str, line: int | None, excerpt: str | None = None, via: tuple[str, ...] = ()) -> None:
        ev = Evidence("config", path, line, excerpt=excerpt, via=via)
        if ev not in self.evidence:
            self.evidence.append(ev)


class _Interfaces:
    """The interfaces of one configuration system, by name, then finished together:
    members that name their bond or bridge join its member list."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.by_name: dict[str, _Iface] = {}

    def get(self, name: str) -> _Iface:
        if name not in self.by_name:
            self.by_name[name] = _Iface(name, self.source)
        return self.by_name[name]

    def finish(self) -> list[NetworkInterface]:
        for i in list(self.by_name.values()):
            if i.master and i.master in self.by_name:
                host = self.by_name[i.master]
                if i.name not in host.members:
                    host.members.append(i.name)
                host.mode = host.mode or i.mode
            if i.master:
                i.mode = None  # a member's bond-* options describe its bond
        out = []
        for i in self.by_name.values():
            if i.name == "lo" or not i.evidence:
                continue
            kind = i.kind
            m = _VLAN_NAME.match(i.name)
            if kind is None and (i.vlan_id is not None or (m and (i.parent or m.group("parent")))):
                kind = "vlan"
            if kind == "vlan" and m:
                if i.vlan_id is None:
                    i.vlan_id = int(m.group("id") or m.group("bare"))
                if i.parent is None and m.group("parent"):
                    i.parent = m.group("parent")
            out.append(
                NetworkInterface(
                    name=i.name,
                    kind=kind or _guess_kind(i.name),
                    source=i.source,
                    members=tuple(i.members),
                    parent=i.parent if kind == "vlan" else i.master,
                    vlan_id=i.vlan_id,
                    mode=i.mode,
                    method=i.method,
                    addresses=tuple(i.addresses),
                    evidence=tuple(i.evidence),
                )
            )
        return out


class NetworkDetector(Detector):
    name = "network"
    tags = ("host",)
    reads = whole(IFUPDOWN, IFUPDOWN_D, *NETPLAN, NM, *NETWORKD, IFCFG)

    def detect(self, snap: Snapshot, found: Found) -> None:
        for parse in (self._ifupdown, self._netplan, self._networkmanager, self._networkd, self._ifcfg):
            found.add(*parse(snap, found))

    # -- Debian ifupdown ------------------------------------------------------------------
    def _ifupdown(self, snap: Snapshot, found: Found) -> list[NetworkInterface]:
        ifaces = _Interfaces("ifupdown")
        seen: set[str] = set()

        def read(path: str, via: tuple[str, ...]) -> None:
            if path in seen or len(via) > 8:
                return
            seen.add(path)
            text = snap.text(path)
            if text is None:
                return
            current: _Iface | None = None
            for no, line in _logical_lines(text):
                words = line.split()
                key = words[0]
                if key in _STANZAS or key.startswith("allow-"):
                    current = None
                    if key == "iface" and len(words) >= 2:
                        current = ifaces.get(words[1])
                        if len(words) >= 4 and words[3] != "loopback":
                            current.method = current.method or words[3]
                        current.cite(path, no, line, via)
                    elif key in ("source", "source-directory") and len(words) >= 2:
                        for sub in _sourced(snap, path, key, words[1]):
                            read(sub, (*via, path))
                    continue
                if current is None:
                    continue
                opt, value = key.replace("_", "-"), " ".join(words[1:])
                if opt in _IFUPDOWN_SECRETS:
                    found.add(make_secret(key, value, path, no))
                    current.kind = current.kind or "wifi"
                    continue
                self._ifupdown_option(current, opt, value, words[1:], path, no, line, via)

        read(IFUPDOWN, ())
        return ifaces.finish()

    @staticmethod
    def _ifupdown_option(
        i: _Iface, opt: str, value: str, args: list[str], path: str, no: int, line: str, via: tuple[str, ...]
    ) -> None:
        if opt == "bond-slaves":
            i.kind = "bond"
            i.members += [a for a in args if a not in ("none", *i.members)]
        elif opt == "bond-master":
            i.master = value or None
        elif opt == "bond-mode":
            i.mode = value  # on a member's stanza: the bond's mode, for when the member creates it
        elif opt == "vlan-raw-device":
            i.kind, i.parent = "vlan", value
        elif opt == "vlan-id" and value.isdigit():
            i.kind, i.vlan_id = "vlan", int(value)
        elif opt == "bridge-ports":
            i.kind = "bridge"
            i.members += [a for a in args if a not in ("none", *i.members)]
        elif opt == "address" and value:
            i.addresses.append(value)
        elif opt.startswith("wpa-") or opt.startswith("wireless-"):
            i.kind = i.kind or "wifi"
            return
        else:
            return
        i.cite(path, no, line if opt != "address" else f"address {value}", via)

    # -- netplan ------------------------------------------------------------------------
    def _netplan(self, snap: Snapshot, found: Found) -> list[NetworkInterface]:
        ifaces = _Interfaces("netplan")
        # netplan reads /lib, /etc and /run; a file name in a later directory replaces an earlier one's
        files: dict[str, str] = {}
        for pattern in NETPLAN:
            for path in snap.glob(pattern):
                files[path.rsplit("/", 1)[1]] = path
        kinds = {"ethernets": "ethernet", "bonds": "bond", "vlans": "vlan", "bridges": "bridge", "wifis": "wifi"}
        for fname in sorted(files):
            path = files[fname]
            text = snap.text(path)
            if text is None:
                continue
            try:
                root = yaml.compose(text)
            except yaml.YAMLError as exc:
                found.unparsable(path, f"not YAML: {str(exc).splitlines()[0]}")
                continue
            network = _child(root, "network")
            if not isinstance(network, yaml.MappingNode):
                continue
            for key_node, section in network.value:
                kind = kinds.get(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
                if kind is None or not isinstance(section, yaml.MappingNode):
                    continue
                for name_node, body in section.value:
                    if not isinstance(name_node, yaml.ScalarNode):
                        continue
                    name = str(name_node.value)
                    i = ifaces.get(name)
                    i.kind = kind
                    line = name_node.start_mark.line + 1
                    i.cite(path, line, f"{key_node.value}: {name}")
                    self._netplan_body(i, body, path, found)
        return ifaces.finish()

    @staticmethod
    def _netplan_body(i: _Iface, body: yaml.Node, path: str, found: Found) -> None:
        if not isinstance(body, yaml.MappingNode):
            return
        for k, v in body.value:
            key = k.value
            if key == "interfaces" and isinstance(v, yaml.SequenceNode):
                i.members = [str(x.value) for x in v.value if isinstance(x, yaml.ScalarNode)]
            elif key == "link" and isinstance(v, yaml.ScalarNode):
                i.parent = str(v.value)
            elif key == "id" and isinstance(v, yaml.ScalarNode) and str(v.value).isdigit():
                i.vlan_id = int(v.value)
            elif key == "parameters" and isinstance(v, yaml.MappingNode):
                mode = _child(v, "mode")
                if isinstance(mode, yaml.ScalarNode):
                    i.mode = str(mode.value)
            elif key == "addresses" and isinstance(v, yaml.SequenceNode):
                # an address is a string or a one-key mapping {addr: {lifetime: ...}}
                for x in v.value:
                    if isinstance(x, yaml.ScalarNode):
                        i.addresses.append(str(x.value))
                    elif isinstance(x, yaml.MappingNode) and x.value:
                        i.addresses.append(str(x.value[0][0].value))
                i.method = i.method or "static"
            elif key in ("dhcp4", "dhcp6") and isinstance(v, yaml.ScalarNode):
                if str(v.value).lower() in ("true", "yes", "on"):
                    i.method = "dhcp"
            elif key == "access-points" and isinstance(v, yaml.MappingNode):
                for ssid, ap in v.value:
                    pw = _child(ap, "password") if isinstance(ap, yaml.MappingNode) else None
                    if isinstance(pw, yaml.ScalarNode) and pw.value:
                        found.add(make_secret(f"{ssid.value}.password", str(pw.value), path, pw.start_mark.line + 1))

    # -- NetworkManager keyfiles ---------------------------------------------------------
    def _networkmanager(self, snap: Snapshot, found: Found) -> list[NetworkInterface]:
        ifaces = _Interfaces("networkmanager")
        conns: list[tuple[str, dict[str, dict[str, tuple[str, int]]]]] = []
        for path in snap.glob(NM):
            if not snap.is_file(path) or path.endswith((".bak", "~", ".orig")):
                continue
            text = snap.text(path)
            if text is None:
                continue
            sections: dict[str, dict[str, tuple[str, int]]] = {}
            for section, key, value, no in _ini(text):
                if section in _NM_SECRET_SECTIONS and key in ("psk", "password", "wep-key0", "leap-password", "pin",
                                                              "private-key-password", "secrets"):  # fmt: skip
                    if value:
                        found.add(make_secret(f"{section}.{key}", value, path, no))
                    continue
                sections.setdefault(section, {})[key] = (value, no)
            if "connection" in sections:
                conns.append((path, sections))
        aliases: dict[str, str] = {}  # a connection's uuid and id -> the name we give it
        for _path, sec in conns:
            c = sec["connection"]
            name = (c.get("interface-name") or c.get("id") or ("", 0))[0]
            for k in ("uuid", "id", "interface-name"):
                if k in c:
                    aliases[c[k][0]] = name
        for path, sec in conns:
            c = sec["connection"]
            name = aliases.get((c.get("interface-name") or c.get("id") or ("", 0))[0], "")
            if not name:
                continue
            i = ifaces.get(name)
            ctype, tline = c.get("type", ("", 0))
            i.kind = _NM_TYPES.get(ctype, "other")
            i.cite(path, tline or None, f"type={ctype}" if ctype else None)
            if "master" in c or "controller" in c:
                master, mline = c.get("controller") or c["master"]
                i.master = aliases.get(master, master)
                i.cite(path, mline, f"master={i.master}")
            if "bond" in sec and "mode" in sec["bond"]:
                i.mode = sec["bond"]["mode"][0]
            if "vlan" in sec:
                vid = sec["vlan"].get("id", ("", 0))[0]
                i.vlan_id = int(vid) if vid.isdigit() else None
                parent = sec["vlan"].get("parent", ("", 0))[0]
                i.parent = aliases.get(parent, parent) or None
            for fam in ("ipv4", "ipv6"):
                ip = sec.get(fam, {})
                if "method" in ip and ip["method"][0] not in ("ignore", "disabled", "link-local") and not i.method:
                    i.method = {"manual": "static"}.get(ip["method"][0], ip["method"][0])
                for k in sorted(k for k in ip if re.fullmatch(r"address\d*|addresses", k)):
                    for a in ip[k][0].split(";"):
                        if a.strip():
                            i.addresses.append(a.split(",")[0].strip())
        return ifaces.finish()

    # -- systemd-networkd -----------------------------------------------------------------
    def _networkd(self, snap: Snapshot, found: Found) -> list[NetworkInterface]:
        ifaces = _Interfaces("networkd")
        paths = sorted({p for pattern in NETWORKD for p in snap.glob(pattern)}, key=lambda p: p.rsplit("/", 1)[1])
        for path in paths:
            text = snap.text(path)
            if text is None:
                continue
            rows = _ini(text)
            if path.endswith(".netdev"):
                name = next((v for s, k, v, _ in rows if s == "NetDev" and k == "Name"), None)
                if not name:
                    continue
                i = ifaces.get(name)
                for s, k, v, no in rows:
                    if s == "NetDev" and k == "Kind":
                        i.kind = {"bond": "bond", "vlan": "vlan", "bridge": "bridge"}.get(v, "other")
                        i.cite(path, no, f"Kind={v}")
                    elif s == "Bond" and k == "Mode":
                        i.mode = v
                    elif s == "VLAN" and k == "Id" and v.isdigit():
                        i.vlan_id = int(v)
                continue
            names = [n for s, k, v, _ in rows if s == "Match" and k == "Name" for n in v.split()]
            for name in names:
                if any(c in name for c in "*?["):
                    continue  # a pattern matches interfaces we cannot name from here
                i = ifaces.get(name)
                for s, k, v, no in rows:
                    if s != "Network":
                        continue
                    if k in ("Bond", "Bridge"):
                        i.master = v
                        i.cite(path, no, f"{k}={v}")
                    elif k == "VLAN":
                        vlan = ifaces.get(v)
                        vlan.parent = name
                        vlan.cite(path, no, f"VLAN={v}")
                    elif k == "Address":
                        i.addresses.append(v)
                        i.method = i.method or "static"
                        i.cite(path, no, f"Address={v}")
                    elif k == "DHCP" and v.lower() in ("yes", "true", "ipv4", "ipv6"):
                        i.method = "dhcp"
                        i.cite(path, no, f"DHCP={v}")
        return ifaces.finish()

    # -- RHEL ifcfg ---------------------------------------------------------------------------
    def _ifcfg(self, snap: Snapshot, found: Found) -> list[NetworkInterface]:
        ifaces = _Interfaces("ifcfg")
        for path in snap.glob(IFCFG):
            fname = path.rsplit("/", 1)[1]
            if fname.endswith((".bak", "~", ".orig", ".rpmnew", ".rpmsave")):
                continue
            text = snap.text(path)
            if text is None:
                continue
            vals = {k: (v, no) for no, k, v in assignments(text)}
            name = (vals.get("DEVICE") or vals.get("NAME") or (fname[len("ifcfg-") :], 0))[0]
            if not name:
                continue
            i = ifaces.get(name)
            first = min((no for _, no in vals.values()), default=None)
            i.cite(path, vals["DEVICE"][1] if "DEVICE" in vals else first, f"DEVICE={name}")
            ctype = vals.get("TYPE", ("", 0))[0].lower()
            if ctype in ("bond", "bridge", "vlan", "ethernet"):
                i.kind = ctype
            if vals.get("BONDING_MASTER", ("", 0))[0].lower() == "yes" or "BONDING_OPTS" in vals:
                i.kind = "bond"
            if "BONDING_OPTS" in vals:
                opts, no = vals["BONDING_OPTS"]
                i.cite(path, no, f"BONDING_OPTS={opts}")
                mode = re.search(r"\bmode=(\S+)", opts)
                i.mode = mode.group(1) if mode else None
            if vals.get("VLAN", ("", 0))[0].lower() == "yes":
                i.kind = "vlan"
                i.cite(path, vals["VLAN"][1], "VLAN=yes")
                if "PHYSDEV" in vals:
                    i.parent = vals["PHYSDEV"][0]
                vid = vals.get("VLAN_ID", ("", 0))[0]
                if vid.isdigit():
                    i.vlan_id = int(vid)
            for key in ("MASTER", "BRIDGE"):
                if key in vals:
                    i.master = vals[key][0]
                    i.cite(path, vals[key][1], f"{key}={i.master}")
            proto = vals.get("BOOTPROTO", ("", 0))[0].lower()
            if proto:
                i.method = {"none": "static" if "IPADDR" in vals else "manual"}.get(proto, proto)
            for k in sorted(k for k in vals if re.fullmatch(r"IPADDR\d*", k)):
                prefix = vals.get("PREFIX" + k[6:], ("", 0))[0]
                i.addresses.append(f"{vals[k][0]}/{prefix}" if prefix else vals[k][0])
            for k in ("WPA_PSK", "KEY", "KEY1", "PASSWORD"):
                if k in vals and vals[k][0]:
                    found.add(make_secret(k, vals[k][0], path, vals[k][1]))
        return ifaces.finish()


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """interfaces(5): `#` starts a comment only at the start of a line; a trailing
    backslash continues the line."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            start = start if pending else no
            pending += line[:-1] + " "
            continue
        if pending:
            line, no, pending = (pending + line).strip(), start, ""
        if line:
            out.append((no, line))
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def _sourced(snap: Snapshot, path: str, key: str, arg: str) -> list[str]:
    """The files a `source` (a glob) or `source-directory` line names, relative to
    the including file's directory when not absolute (those outside interfaces.d are
    second-order reads)."""
    base = arg if arg.startswith("/") else f"{P.parent(path)}/{arg}"
    if key == "source":
        found = sorted(snap.glob(base))
    else:
        found = sorted(p for p in snap.glob(f"{base.rstrip('/')}/*") if _RUN_PARTS_NAME.match(p.rsplit("/", 1)[1]))
    files = [p for p in found if snap.is_file(p)]
    snap.want([p for p in files if P.parent(p) != "/etc/network/interfaces.d"])
    return files


def _ini(text: str) -> list[tuple[str, str, str, int]]:
    """(section, key, value, line) for the `key=value` lines of an INI-style file
    (NetworkManager keyfiles, systemd-networkd files); `#`/`;` lines are comments."""
    out: list[tuple[str, str, str, int]] = []
    section = ""
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if sep and section:
            out.append((section, key.strip(), value.strip(), no))
    return out


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v  # type: ignore[no-any-return]
    return None
