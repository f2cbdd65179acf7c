"""nginx: its listeners, sites, upstreams, files and user, from the parsed configuration.

Follows nginx's rules (see `modernize.parsers.nginx`): includes in place, relative to
the configuration prefix; only `server` blocks reached from nginx.conf count, so a
site left in sites-available or a `*.conf.off` file adds nothing. `listen` forms:
`80`, `*:80`, `127.0.0.1` (port 80), `[::]:80`, `unix:/path`; a `server` without
`listen` listens on `*:80` (nginx's documented default). `proxy_pass` and the
`*_pass` family resolve an `upstream` name to its `server` entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modernize.detector import Detector
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port
from modernize.parsers.nginx import Config, Directive, load
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole
from modernize.userfiles import add_user_files

MAINS = (
    ("/etc/nginx/nginx.conf", "/etc/nginx"),
    ("/usr/local/nginx/conf/nginx.conf", "/usr/local/nginx/conf"),
    ("/usr/local/etc/nginx/nginx.conf", "/usr/local/etc/nginx"),
)
PACKAGES = ["nginx", "nginx-core", "nginx-full", "nginx-light", "nginx-extras"]
_PASS = ("proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass")
_PASS_SCHEME = {"fastcgi_pass": "fastcgi", "uwsgi_pass": "uwsgi", "scgi_pass": "scgi", "grpc_pass": "grpc"}
_HOSTPORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+)(?::(\d+))?$")


def _ev(d: Directive) -> Evidence:
    return Evidence("config", d.path, d.line, excerpt=d.excerpt(), via=d.via)


def parse_listen(arg: str) -> tuple[str | None, int | None, str | None]:
    """(address, port, socket) of a `listen` address; nginx's defaults: port 80, address `*`."""
    if arg.startswith("unix:"):
        return None, None, arg[5:]
    if arg.isdigit():
        return "0.0.0.0", int(arg), None
    m = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$", arg)
    if m:
        return m.group(1), int(m.group(2) or 80), None
    host, _, port = arg.rpartition(":")
    if not host:
        host, port = arg, ""
    if port and not port.isdigit():
        return arg, 80, None
    if host == "*":
        host = "0.0.0.0"
    return host, int(port) if port else 80, None


def _target(value: str) -> tuple[str | None, str | None, int | None, str | None]:
    """(scheme, host, port, socket) of a `*_pass` value; None parts when it is a variable."""
    scheme = None
    m = re.match(r"^([a-z][a-z0-9+.-]*)://(.*)$", value, re.IGNORECASE)
    rest = value
    if m:
        scheme, rest = m.group(1).lower(), m.group(2)
    if rest.startswith("unix:"):
        sock = rest[5:]
        if scheme:  # http://unix:/run/app.sock:/uri
            sock = sock.split(":", 1)[0]
        return scheme, None, None, sock
    hostport = rest.split("/", 1)[0]
    if "$" in hostport:
        return scheme, None, None, None
    hm = _HOSTPORT.match(hostport)
    if not hm:
        return scheme, None, None, None
    port = int(hm.group(2)) if hm.group(2) else None
    return scheme, hm.group(1).strip("[]"), port, None


@dataclass
class _Site:
    names: list[str] = field(default_factory=list)


class NginxDetector(Detector):
    name = "nginx"
    tags = ("service", "web-server")
    reads = whole("/etc/nginx/**", "/usr/local/nginx/conf/**", "/usr/local/etc/nginx/**", "/etc/alpine-release")

    def detect(self, snap: Snapshot, found: Found) -> None:
        for main, prefix in MAINS:
            if snap.is_file(main):
                self._one(snap, found, main, prefix)
                return

    def _one(self, snap: Snapshot, found: Found, main: str, prefix: str) -> None:
        cfg = load(snap, main, prefix)
        if cfg is None:
            found.unparsable(main, "cannot be read")
            return
        for path, why in cfg.errors:
            found.unparsable(path, why)
        # relative log/root paths are relative to nginx's --prefix, which distributions set
        run_prefix = "/var/lib/nginx" if snap.exists("/etc/alpine-release") else "/usr/share/nginx"
        sf = ServiceFacts(
            software="nginx",
            kind="web-server",
            packages=list(PACKAGES),
            binaries=["/usr/sbin/nginx"] if main.startswith("/etc/") else ["/usr/local/nginx/sbin/nginx"],
            units=["nginx.service", "nginx"],
            evidence=[Evidence("file", main)],
        )
        for path, via in cfg.files:
            real = snap.realpath(path) or path
            sf.config_files.append(FileRef(real, "config", evidence=(Evidence("file", path, via=via),)))
        upstreams = self._upstreams(cfg)
        sites: list[_Site] = []
        seen_ports: dict[tuple[str, int | None, str | None, str | None], int] = {}

        def add_port(port: Port) -> None:
            key = (port.proto, port.port, port.address, port.socket)
            if key in seen_ports:
                i = seen_ports[key]
                old = sf.ports[i]
                sf.ports[i] = Port(
                    old.port, old.proto, old.address, old.socket, old.source, old.evidence + port.evidence
                )
            else:
                seen_ports[key] = len(sf.ports)
                sf.ports.append(port)

        def abspath(value: str, base: str) -> str:
            return P.absolute(value, base)

        user_files: dict[str, list[Evidence]] = {}

        for d, ctx in cfg.walk():
            if d.name == "server" and d.block is not None and ctx and ctx[-1].name in ("http", "stream"):
                site = _Site()
                sites.append(site)
                listens = list(d.children("listen"))
                for sn in d.children("server_name"):
                    site.names.extend(a for a in sn.args if a)
                if not listens and ctx[-1].name == "http":
                    add_port(
                        Port(
                            80,
                            "tcp",
                            "0.0.0.0",
                            source="default",
                            evidence=(_ev(d), Evidence("default", detail="a server without listen listens on *:80")),
                        )
                    )
                for ln in listens:
                    if not ln.args:
                        continue
                    addr, port, sock = parse_listen(ln.args[0])
                    proto = "udp" if "udp" in ln.args[1:] or "quic" in ln.args[1:] else "tcp"
                    if sock:
                        add_port(Port(None, "unix", None, sock, evidence=(_ev(ln),)))
                    else:
                        add_port(Port(port, proto, addr, evidence=(_ev(ln),)))
            elif d.name == "user" and not ctx and d.args:
                sf.user = d.args[0]
                if len(d.args) > 1:
                    sf.group = d.args[1]
            elif d.name == "pid" and not ctx and d.args:
                sf.attributes["pid"] = abspath(d.args[0], run_prefix)
            elif d.name in ("access_log", "error_log") and d.args:
                value = d.args[0]
                if value in ("off", "stderr") or value.startswith(("syslog:", "memory:", "/dev/")) or "$" in value:
                    continue
                sf.log_paths.append(FileRef(abspath(value, run_prefix), "logs", evidence=(_ev(d),)))
            elif d.name in ("root", "alias") and d.args and "$" not in d.args[0]:
                sf.content_paths.append(
                    FileRef(abspath(d.args[0], run_prefix).rstrip("/") or "/", "content", evidence=(_ev(d),))
                )
            elif (
                d.name
                in (
                    "ssl_certificate",
                    "ssl_certificate_key",
                    "ssl_trusted_certificate",
                    "ssl_client_certificate",
                    "ssl_dhparam",
                )
                and d.args
            ):
                value = d.args[0]
                if value.startswith(("data:", "engine:")) or "$" in value:
                    continue
                # a key file is a secret's location: named, never read
                sf.config_files.append(FileRef(abspath(value, P.parent(main)), "certs", evidence=(_ev(d),)))
            elif d.name in _PASS and d.args:
                sf.endpoints.extend(self._endpoints(d, upstreams))
            elif d.name == "auth_basic_user_file" and d.args and "$" not in d.args[0]:
                # relative to the configuration prefix (the main file's directory)
                user_files.setdefault(abspath(d.args[0], P.parent(main)), []).append(_ev(d))
        if sites:
            names = sorted({n for s in sites for n in s.names if n not in ("_", '""', "")})
            if names:
                sf.attributes["server_names"] = ", ".join(names)
            sf.attributes["sites"] = str(len(sites))
        if upstreams:
            sf.attributes["upstreams"] = ", ".join(sorted(upstreams))
        add_user_files(snap, found, sf, user_files, "auth_basic_user_file")
        found.add(sf)

    @staticmethod
    def _upstreams(cfg: Config) -> dict[str, list[Directive]]:
        out: dict[str, list[Directive]] = {}
        for d, _ctx in cfg.walk():
            if d.name == "upstream" and d.block is not None and d.args:
                out[d.args[0]] = list(d.children("server"))
        return out

    @staticmethod
    def _endpoints(d: Directive, upstreams: dict[str, list[Directive]]) -> list[Endpoint]:
        scheme, host, port, sock = _target(d.args[0])
        scheme = scheme or _PASS_SCHEME.get(d.name)
        if sock:
            return [Endpoint(d.name, None, None, scheme, sock, (_ev(d),))]
        if host is None:
            return []
        if host in upstreams and port is None:
            out = []
            for srv in upstreams[host]:
                if not srv.args or "down" in srv.args[1:]:
                    continue
                _s, uhost, uport, usock = _target(srv.args[0])
                if usock:
                    out.append(Endpoint(d.name, None, None, scheme, usock, (_ev(d), _ev(srv))))
                elif uhost:
                    out.append(Endpoint(d.name, uhost, uport or 80, scheme, None, (_ev(d), _ev(srv))))
            return out
        if port is None:
            port = {"https": 443, "grpcs": 443}.get(scheme or "", 80)
        return [Endpoint(d.name, host, port, scheme, None, (_ev(d),))]
