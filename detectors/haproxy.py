"""HAProxy: listeners from `bind`, backends from `server`, from haproxy.cfg.

HAProxy's own rules: a line is blank-separated words, `#` starts a comment unless
quoted or escaped, `"..."`/`'...'` quote and `\\` escapes; a section keyword
(`global`, `defaults`, `frontend`, `backend`, `listen`, `userlist`, ...) starts a
section that runs to the next one. `bind` takes comma-separated addresses
(`:80`, `*:443`, `[::]:80`, `:::80`, `ipv6@:80`, `unix@/path`, `/path`, port
ranges) then options (`ssl crt <pem>`); an empty or `*` address is IPv4's any.
A proxy with `disabled` opens nothing. The RHEL unit also loads
/etc/haproxy/conf.d/*.cfg after the main file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modernize.detector import Detector
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port, file_ref
from modernize.secrets import make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

MAIN = "/etc/haproxy/haproxy.cfg"
SECTIONS = {
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "resolvers",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "log-forward",
    "crt-store",
    "traces",
}
_PREFIX = re.compile(r"^(ipv4|ipv6|unix|abns|abnsz|fd|sockpair|udp|udp4|udp6|quic4|quic6|tcp|tcp4|tcp6)@(.*)$")


@dataclass
class Line:
    words: list[str]
    path: str
    no: int
    raw: str


@dataclass
class Section:
    kind: str
    name: str
    head: Line
    lines: list[Line] = field(default_factory=list)


def split_words(line: str) -> list[str]:
    words: list[str] = []
    buf: list[str] = []
    have = False
    i, n = 0, len(line)
    quote = ""
    while i < n:
        c = line[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"' and i + 1 < n:
                i += 1
                buf.append(line[i])
            else:
                buf.append(c)
        elif c in "\"'":
            quote, have = c, True
        elif c == "\\" and i + 1 < n:
            i += 1
            buf.append(line[i])
            have = True
        elif c == "#":
            break
        elif c in " \t":
            if have:
                words.append("".join(buf))
                buf, have = [], False
        else:
            buf.append(c)
            have = True
        i += 1
    if have:
        words.append("".join(buf))
    return words


def parse(text: str, path: str) -> list[Section]:
    sections: list[Section] = []
    for no, raw in enumerate(text.splitlines(), 1):
        words = split_words(raw.strip())
        if not words:
            continue
        line = Line(words, path, no, raw.strip())
        if words[0] in SECTIONS:
            sections.append(Section(words[0], words[1] if len(words) > 1 else "", line))
        elif sections:
            sections[-1].lines.append(line)
    return sections


def parse_address(addr: str) -> list[tuple[str | None, int | None, str | None, str]]:
    """(address, port, socket, proto) for each port of a bind address."""
    family = ""
    m = _PREFIX.match(addr)
    if m:
        family, addr = m.group(1), m.group(2)
    proto = "udp" if family.startswith(("udp", "quic")) else "tcp"
    if family in ("unix", "abns", "abnsz") or addr.startswith("/"):
        return [(None, None, addr, "unix")]
    if family in ("fd", "sockpair"):
        return []
    host, _, ports = addr.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host in ("", "*"):
        host = "::" if family.endswith("6") else "0.0.0.0"
    first, _, last = ports.partition("-")
    if not first.isdigit():
        return []
    lo = int(first)
    hi = int(last) if last.isdigit() else lo
    return [(host, p, None, proto) for p in range(lo, min(hi, lo + 63) + 1)]


def _ev(line: Line) -> Evidence:
    return Evidence("config", line.path, line.no, excerpt=line.raw)


class HaproxyDetector(Detector):
    name = "haproxy"
    tags = ("service", "web-server")
    reads = whole(MAIN, "/etc/haproxy/conf.d/*.cfg")

    def detect(self, snap: Snapshot, found: Found) -> None:
        if not snap.is_file(MAIN):
            return
        files = [MAIN, *sorted(p for p in snap.glob("/etc/haproxy/conf.d/*.cfg") if snap.is_file(p))]
        sections: list[Section] = []
        read: list[str] = []
        for path in files:
            text = snap.text(path)
            if text is None:
                continue
            read.append(path)
            sections.extend(parse(text, path))
        if not read:
            return
        sf = ServiceFacts(
            software="haproxy",
            kind="web-server",
            packages=["haproxy"],
            binaries=["/usr/sbin/haproxy"],
            units=["haproxy.service", "haproxy"],
            evidence=[Evidence("file", MAIN)],
            config_files=[file_ref(p, "config") for p in read],
        )
        crt_base = ca_base = "/etc/haproxy"
        for sec in sections:
            if sec.kind != "global":
                continue
            for ln in sec.lines:
                w = ln.words
                if w[0] == "user" and len(w) > 1:
                    sf.user = w[1]
                elif w[0] == "group" and len(w) > 1:
                    sf.group = w[1]
                elif w[0] == "chroot" and len(w) > 1:
                    sf.attributes["chroot"] = w[1]
                elif w[0] == "pidfile" and len(w) > 1:
                    sf.attributes["pid"] = w[1]
                elif w[0] == "crt-base" and len(w) > 1:
                    crt_base = w[1]
                elif w[0] == "ca-base" and len(w) > 1:
                    ca_base = w[1]
                elif w[:2] == ["stats", "socket"] and len(w) > 2:
                    for addr, port, sock, proto in parse_address(w[2]):
                        sf.ports.append(Port(port, proto, addr, sock, evidence=(_ev(ln),)))
        frontends, backends = [], []
        for sec in sections:
            if sec.kind in ("frontend", "listen", "backend"):
                disabled = any(ln.words == ["disabled"] for ln in sec.lines)
                if sec.kind != "backend":
                    frontends.append(sec.name + (" (disabled)" if disabled else ""))
                if sec.kind != "frontend":
                    backends.append(sec.name)
                self._proxy(sf, sec, disabled, crt_base, ca_base)
            elif sec.kind == "userlist":
                for ln in sec.lines:
                    w = ln.words
                    for i, word in enumerate(w[:-1]):
                        if word in ("password", "insecure-password"):
                            sf.secrets.append(make_secret(f"userlist {sec.name} {w[1]}", w[i + 1], ln.path, ln.no))
        if frontends:
            sf.attributes["frontends"] = ", ".join(frontends)
        if backends:
            sf.attributes["backends"] = ", ".join(backends)
        found.add(sf)

    @staticmethod
    def _proxy(sf: ServiceFacts, sec: Section, disabled: bool, crt_base: str, ca_base: str) -> None:
        def rel(path: str, base: str) -> str:
            return P.absolute(path, base)

        for ln in sec.lines:
            w = ln.words
            if w[0] == "bind" and len(w) > 1 and not disabled:
                for addr in w[1].split(","):
                    for host, port, sock, proto in parse_address(addr):
                        sf.ports.append(Port(port, proto, host, sock, evidence=(_ev(ln),)))
                for i, opt in enumerate(w[2:-1], 2):
                    if opt in ("crt", "crt-list", "ca-file", "crl-file"):
                        base = crt_base if opt.startswith("crt") else ca_base
                        sf.config_files.append(FileRef(rel(w[i + 1], base), "certs", evidence=(_ev(ln),)))
            elif w[0] == "server" and len(w) > 2:
                if "disabled" in w[3:]:
                    continue
                ep = _server(w[2], ln)
                if ep:
                    sf.endpoints.append(ep)
            elif w[:2] == ["stats", "auth"] and len(w) > 2:
                user, _, pw = w[2].partition(":")
                if pw:
                    sf.secrets.append(make_secret(f"stats auth {user}", pw, ln.path, ln.no))


def _server(addr: str, ln: Line) -> Endpoint | None:
    family = ""
    m = _PREFIX.match(addr)
    if m:
        family, addr = m.group(1), m.group(2)
    if family in ("unix", "abns") or addr.startswith("/"):
        return Endpoint("server", None, None, None, addr, (_ev(ln),))
    host, sep, port = addr.rpartition(":")
    if not sep:
        host, port = addr, ""
    host = host.strip("[]")
    if not host or "$" in host:
        return None
    return Endpoint("server", host, int(port) if port.isdigit() else None, None, None, (_ev(ln),))
