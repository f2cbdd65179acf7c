"""DNS servers: BIND 9 (Debian /etc/bind and RHEL /etc/named.conf layouts), unbound, dnsmasq.

BIND, by the ARM (9.18): `listen-on [port N] [tls T] [http H] { list; };` may repeat;
without any, named listens on port 53 on all IPv4 interfaces, and without
`listen-on-v6` on all IPv6 ones; `-4`/`-6` on the command line (OPTIONS in
/etc/default/named or /etc/sysconfig/named) drop a family; DNS is served on UDP and
TCP, DoT (`tls`, default 853) and DoH (`http`, 443/80) on TCP only. Without a
`controls` statement named opens the control channel on 127.0.0.1 and ::1 port 953
when the rndc key file exists; `controls { };` disables it. Zones' `file`s are
relative to `directory`; `key "x" { secret "..."; };` is a secret (value never kept).

unbound: `server:` clause `interface:` (`addr[@port]`, default localhost only),
`port:` (53), `do-ip6`; `remote-control:` `control-enable` (8953 on localhost);
`forward-addr:` upstreams; `include:` globs.

dnsmasq: `port=` (53; 0 disables DNS), `listen-address=`, `dhcp-range` (DHCP 67/udp),
`server=` upstreams; `conf-dir=` / `conf-file=` includes.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port, file_ref
from modernize.parsers import bind
from modernize.parsers.includes import read_once
from modernize.parsers.shell import assignments
from modernize.secrets import make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

LAYOUTS = (
    # (layout, main config, defaults file, rndc key, default directory)
    ("debian", "/etc/bind/named.conf", "/etc/default/named", "/etc/bind/rndc.key", "/var/cache/bind"),
    ("rhel", "/etc/named.conf", "/etc/sysconfig/named", "/etc/rndc.key", "/var/named"),
)


def _ev(s: bind.Stmt, excerpt: str | None = None) -> Evidence:
    return Evidence("config", s.path, s.line, excerpt=excerpt or " ".join(s.words)[:200], via=s.via)


def _elements(block: list[bind.Stmt]) -> list[str]:
    return [" ".join(s.words) for s in block if s.words]


class DnsDetector(Detector):
    name = "dns"
    tags = ("service", "dns")
    requires = ("systemd", "sysv", "dpkg", "rpm", "apk")
    reads = whole(
        "/etc/bind/*",
        "/etc/named.conf",
        "/etc/named/*",
        "/etc/named.*",
        "/etc/rndc.key",
        "/etc/default/named",
        "/etc/default/bind9",
        "/etc/sysconfig/named",
        "/etc/unbound/**",
        "/etc/dnsmasq.conf",
        "/etc/dnsmasq.d/*",
        "/etc/default/dnsmasq",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        for layout, main, defaults, keyfile, directory in LAYOUTS:
            if snap.is_file(main):
                self._bind(snap, found, layout, main, defaults, keyfile, directory)
                break
        if snap.is_file("/etc/unbound/unbound.conf"):
            self._unbound(snap, found)
        if snap.is_file("/etc/dnsmasq.conf") and (
            found.package("dnsmasq") or any(u.name in ("dnsmasq.service", "dnsmasq") for u in found.units)
        ):
            self._dnsmasq(snap, found)

    # -- BIND -----------------------------------------------------------------------
    def _bind(
        self, snap: Snapshot, found: Found, layout: str, main: str, defaults: str, keyfile: str, directory: str
    ) -> None:
        conf = bind.parse(main, snap.text, snap.want)
        if conf is None:
            return
        for path, why in conf.errors:
            found.unparsable(path, why)
        sf = ServiceFacts(
            software="bind9",
            kind="dns",
            packages=["bind9", "bind", "bind-chroot"],
            units=["named.service", "bind9.service", "named-chroot.service", "named", "bind9"],
            binaries=["/usr/sbin/named"],
            attributes={"layout": layout},
            evidence=[Evidence("file", main)],
        )
        for path, via in conf.files:
            sf.config_files.append(FileRef(path, "config", evidence=(Evidence("config", path, via=via),)))
        flags = self._flags(snap, defaults, sf)
        options = next((s.block() for s in conf.top("options")), [])
        opt = {s.keyword: s for s in options}
        if "directory" in opt and len(opt["directory"].words) > 1:
            directory = opt["directory"].words[1]
            dir_ev = _ev(opt["directory"])
        else:
            dir_ev = Evidence("default", detail=f"named's working directory on {layout}")
        sf.data_dirs.append(FileRef(directory, "data", evidence=(dir_ev,)))
        acls = {s.words[1]: _elements(s.block()) for s in conf.top("acl") if len(s.words) > 1}
        self._listen(sf, options, acls, flags)
        self._controls(snap, sf, conf, keyfile, flags)
        self._zones(sf, conf, directory)
        for s in bind.walk(conf.statements):
            if s.keyword == "key" and len(s.words) > 1:
                for inner in s.block():
                    if inner.keyword == "secret" and len(inner.words) > 1:
                        sf.secrets.append(make_secret(s.words[1], inner.words[1], inner.path, inner.line, kind="key"))
            elif s.keyword == "forwarders":
                for el in _elements(s.block()):
                    addr = el.split()[0]
                    port = el.split()[2] if len(el.split()) > 2 and el.split()[1] == "port" else "53"
                    sf.endpoints.append(
                        Endpoint(
                            "forwarders",
                            addr,
                            int(port) if port.isdigit() else 53,
                            "dns",
                            None,
                            (_ev(s, f"forwarders {{ {el}; }}"),),
                        )
                    )
        for log in conf.top("logging"):
            for channel in log.block():
                for inner in channel.block() if channel.keyword == "channel" else []:
                    if inner.keyword == "file" and len(inner.words) > 1:
                        f = inner.words[1]
                        path = P.absolute(f, directory)
                        sf.log_paths.append(FileRef(path, "logs", evidence=(_ev(inner),)))
        found.add(sf)

    @staticmethod
    def _flags(snap: Snapshot, defaults: str, sf: ServiceFacts) -> set[str]:
        """named's command-line flags from OPTIONS=: `-u user`, `-4`, `-6`."""
        flags: set[str] = set()
        for _no, k, v in assignments(snap.text(defaults) or ""):
            if k != "OPTIONS":
                continue
            words = v.split()
            for i, w in enumerate(words):
                if w in ("-4", "-6"):
                    flags.add(w)
                elif w == "-u" and i + 1 < len(words):
                    sf.user = words[i + 1]
                elif w.startswith("-u") and len(w) > 2:
                    sf.user = w[2:]
        if snap.exists(defaults):
            sf.config_files.append(file_ref(defaults, "env"))
        return flags

    def _listen(self, sf: ServiceFacts, options: list[bind.Stmt], acls: dict[str, list[str]], flags: set[str]) -> None:
        for kw, any_addr, flag_off in (("listen-on", "0.0.0.0", "-6"), ("listen-on-v6", "::", "-4")):
            stmts = [s for s in options if s.keyword == kw]
            if flag_off in flags:
                continue
            if not stmts:
                fam = "IPv4" if kw == "listen-on" else "IPv6"
                ev = Evidence("default", detail=f"without {kw} named listens on port 53 on all {fam} interfaces")
                sf.ports += [Port(53, proto, any_addr, source="default", evidence=(ev,)) for proto in ("udp", "tcp")]
                continue
            for s in stmts:
                tls = s.after("tls")
                http = s.after("http")
                port_s = s.after("port")
                if port_s and port_s.isdigit():
                    port = int(port_s)
                elif http:
                    port = 443 if tls and tls != "none" else 80
                elif tls:
                    port = 853
                else:
                    port = 53
                protos = ("tcp",) if tls or http else ("udp", "tcp")
                for addr in self._match_list(_elements(s.block()), acls, any_addr):
                    sf.ports += [Port(port, proto, addr, evidence=(_ev(s),)) for proto in protos]

    def _match_list(self, elements: list[str], acls: dict[str, list[str]], any_addr: str, depth: int = 0) -> list[str]:
        out: list[str] = []
        for el in elements:
            if el.startswith("!") or el == "none" or depth > 8:
                continue
            if el == "any":
                out.append(any_addr)
            elif el in acls:
                out += self._match_list(acls[el], acls, any_addr, depth + 1)
            elif el in ("localhost", "localnets"):
                out.append(any_addr)  # every address of this host: the interfaces are not known here
            else:
                out.append(el.split("/")[0])
        return list(dict.fromkeys(out))

    @staticmethod
    def _controls(snap: Snapshot, sf: ServiceFacts, conf: bind.NamedConf, keyfile: str, flags: set[str]) -> None:
        controls = conf.top("controls")
        if not controls:
            if snap.exists(keyfile):
                text = snap.text(keyfile) or ""
                key = bind.parse(keyfile, lambda _p: text)
                for s in bind.walk(key.statements if key else []):
                    if s.keyword == "key" and len(s.words) > 1:
                        for inner in s.block():
                            if inner.keyword == "secret" and len(inner.words) > 1:
                                sf.secrets.append(
                                    make_secret(s.words[1], inner.words[1], keyfile, inner.line, kind="key")
                                )
                ev = Evidence("default", detail=f"no controls statement and {keyfile} exists: rndc on localhost:953")
                addrs = [a for a, f in (("127.0.0.1", "-6"), ("::1", "-4")) if f not in flags]
                sf.ports += [
                    Port(953, "tcp", a, source="default", evidence=(ev, Evidence("file", keyfile))) for a in addrs
                ]
            return
        for c in controls:
            for inner in c.block():
                if inner.keyword == "inet" and len(inner.words) > 1:
                    addr = inner.words[1]
                    port_s = inner.after("port")
                    port = int(port_s) if port_s and port_s.isdigit() else 953
                    addr = {"*": "0.0.0.0", "::": "::"}.get(addr, addr)
                    sf.ports.append(Port(port, "tcp", addr, evidence=(_ev(inner),)))
                elif inner.keyword == "unix" and len(inner.words) > 1:
                    sf.ports.append(Port(None, "unix", socket=inner.words[1], evidence=(_ev(inner),)))

    @staticmethod
    def _zones(sf: ServiceFacts, conf: bind.NamedConf, directory: str) -> None:
        zones: list[str] = []
        stmts = list(conf.statements)
        for v in conf.top("view"):
            stmts += v.block()
        for z in stmts:
            if z.keyword != "zone" or len(z.words) < 2:
                continue
            body = {s.keyword: s for s in z.block()}
            ztype = body["type"].words[1] if "type" in body and len(body["type"].words) > 1 else ""
            if ztype in ("hint", "forward", "redirect", "delegation-only", "static-stub"):
                pass
            elif z.words[1] not in zones:
                zones.append(z.words[1])
            if "file" in body and len(body["file"].words) > 1:
                f = body["file"].words[1]
                path = P.absolute(f, directory)
                ev = _ev(body["file"], f'zone "{z.words[1]}" file "{f}"')
                if path.startswith("/etc/"):
                    sf.config_files.append(FileRef(path, "config", evidence=(ev,)))
                elif path.startswith("/usr/"):
                    continue  # package content (root hints)
                else:
                    parent = P.parent(path)
                    if not any(r.path == parent for r in sf.data_dirs):
                        sf.data_dirs.append(FileRef(parent, "data", evidence=(ev,)))
        sf.attributes["zones"] = " ".join(zones)

    # -- unbound --------------------------------------------------------------------
    def _unbound(self, snap: Snapshot, found: Found) -> None:
        main = "/etc/unbound/unbound.conf"
        entries: list[tuple[str, str, str, str, int]] = []  # (clause, key, value, path, line)
        files: list[str] = []
        self._unbound_file(snap, main, entries, files, ["server"], set())
        sf = ServiceFacts(
            software="unbound",
            kind="dns",
            packages=["unbound"],
            units=["unbound.service", "unbound"],
            binaries=["/usr/sbin/unbound"],
            config_files=[file_ref(f, "config") for f in files],
            evidence=[Evidence("file", main)],
        )
        server = [(k, v, p, n) for c, k, v, p, n in entries if c == "server"]
        port, port_ev = 53, Evidence("default", detail="unbound's port default is 53")
        v6 = True
        for k, v, p, n in server:
            if k == "port" and v.isdigit():
                port, port_ev = int(v), Evidence("config", p, n, excerpt=f"port: {v}")
            elif k == "do-ip6" and v == "no":
                v6 = False
        interfaces = [
            (v, Evidence("config", p, n, excerpt=f"interface: {v}")) for k, v, p, n in server if k == "interface"
        ]
        if not interfaces:
            ev = Evidence("default", detail="unbound answers on localhost only without interface:")
            interfaces = [("127.0.0.1", ev)] + ([("::1", ev)] if v6 else [])
        for value, ev in interfaces:
            addr, _, p_s = value.partition("@")
            p_num = int(p_s) if p_s.isdigit() else port
            evs = (ev,) if p_s else (ev, port_ev)
            sf.ports += [Port(p_num, proto, addr, evidence=evs) for proto in ("udp", "tcp")]
        rc = [(k, v, p, n) for c, k, v, p, n in entries if c == "remote-control"]
        if any(k == "control-enable" and v == "yes" for k, v, _, _ in rc):
            cport = next((int(v) for k, v, _, _ in rc if k == "control-port" and v.isdigit()), 8953)
            ifs = [v for k, v, _, _ in rc if k == "control-interface"] or ["127.0.0.1", "::1"]
            ev = Evidence("config", main, detail="remote-control: control-enable: yes")
            sf.ports += [Port(cport, "tcp", a, evidence=(ev,)) for a in ifs if not a.startswith("/")]
            sf.ports += [Port(None, "unix", socket=a, evidence=(ev,)) for a in ifs if a.startswith("/")]
        for c, k, v, p, n in entries:
            if c == "forward-zone" and k == "forward-addr":
                addr, _, rest = v.partition("@")
                pnum = int(rest.split("#")[0]) if rest.split("#")[0].isdigit() else 53
                sf.endpoints.append(
                    Endpoint(
                        "forward-addr",
                        addr,
                        pnum,
                        "dns",
                        None,
                        (Evidence("config", p, n, excerpt=f"forward-addr: {v}"),),
                    )
                )
        found.add(sf)

    def _unbound_file(
        self,
        snap: Snapshot,
        path: str,
        entries: list[tuple[str, str, str, str, int]],
        files: list[str],
        clause: list[str],
        seen: set[str],
    ) -> None:
        text = read_once(snap, path, seen, files)
        if text is None:
            return
        for no, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip() if '"' not in raw else re.sub(r"\s#.*$", "", raw).strip()
            if not line or ":" not in line:
                continue
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key in ("include", "include-toplevel"):
                targets = sorted(snap.glob(value))
                snap.want(targets)
                for t in targets:
                    self._unbound_file(snap, t, entries, files, clause, seen)
                continue
            if not value:
                clause[0] = key
                continue
            entries.append((clause[0], key, value, path, no))

    # -- dnsmasq ----------------------------------------------------------------------
    def _dnsmasq(self, snap: Snapshot, found: Found) -> None:
        main = "/etc/dnsmasq.conf"
        lines: list[tuple[str, str, str, int]] = []
        files: list[str] = []
        extra = [main]
        defaults = {k: v for _, k, v in assignments(snap.text("/etc/default/dnsmasq") or "")}
        if defaults.get("CONFIG_DIR"):
            extra.append("dir:" + defaults["CONFIG_DIR"])
        elif snap.exists("/etc/default/dnsmasq"):
            extra.append("dir:/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new")
        for item in extra:
            self._dnsmasq_item(snap, item, lines, files, set())
        sf = ServiceFacts(
            software="dnsmasq",
            kind="dns",
            packages=["dnsmasq"],
            units=["dnsmasq.service", "dnsmasq"],
            binaries=["/usr/sbin/dnsmasq"],
            config_files=[file_ref(f, "config") for f in files],
            evidence=[Evidence("file", main)],
        )
        port, port_ev = 53, Evidence("default", detail="dnsmasq serves DNS on port 53 unless port= is set")
        addrs: list[tuple[str, Evidence]] = []
        for k, v, p, n in lines:
            ev = Evidence("config", p, n, excerpt=f"{k}={v}")
            if k == "port" and v.isdigit():
                port, port_ev = int(v), ev
            elif k == "listen-address":
                addrs += [(a.strip(), ev) for a in v.split(",") if a.strip()]
            elif k == "dhcp-range":
                sf.ports.append(Port(67, "udp", "0.0.0.0", evidence=(ev,)))
            elif k == "server" and v:
                target = v.rsplit("/", 1)[-1]
                host, _, p_s = target.partition("#")
                if host and re.fullmatch(r"[0-9a-fA-F.:]+", host):
                    sf.endpoints.append(Endpoint("server", host, int(p_s) if p_s.isdigit() else 53, "dns", None, (ev,)))
        if port != 0:
            if not addrs:
                ev = Evidence("default", detail="dnsmasq binds the wildcard address unless listen-address is set")
                addrs = [("0.0.0.0", ev), ("::", ev)]
            for a, ev in addrs:
                sf.ports += [Port(port, proto, a, evidence=(ev, port_ev)) for proto in ("udp", "tcp")]
        found.add(sf)

    def _dnsmasq_item(
        self, snap: Snapshot, item: str, lines: list[tuple[str, str, str, int]], files: list[str], seen: set[str]
    ) -> None:
        if item.startswith("dir:"):
            spec = item[4:].split(",")
            d, rules = spec[0], spec[1:]
            targets = []
            for path in snap.glob(P.join(d, "*")):
                name = path.rsplit("/", 1)[1]
                includes = [r[1:] for r in rules if r.startswith("*")]
                if (
                    name.startswith(".")
                    or name.endswith("~")
                    or any(name.endswith(r) for r in rules if not r.startswith("*"))
                ):
                    continue
                if includes and not any(name.endswith(s) for s in includes):
                    continue
                targets.append(path)
            snap.want(targets)
            for t in sorted(targets):
                self._dnsmasq_item(snap, t, lines, files, seen)
            return
        text = read_once(snap, item, seen, files)
        if text is None:
            return
        for no, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if key == "conf-dir":
                self._dnsmasq_item(snap, "dir:" + value, lines, files, seen)
            elif key == "conf-file":
                snap.want([value])
                self._dnsmasq_item(snap, value, lines, files, seen)
            else:
                lines.append((key, value, item, no))
