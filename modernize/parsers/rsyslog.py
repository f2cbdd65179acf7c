"""rsyslog configuration: legacy (`$Directive`, `facility.priority action`) and
RainerScript (`module()`, `input()`, `action()`, `include()`), as rsyslogd reads it.

Rules followed (rsyslog.conf(5), the v8 configuration docs):
* `#` starts a comment outside quotes, `/* ... */` comments span lines;
* `$IncludeConfig glob-or-dir` and `include(file="glob" [mode="optional"])` are read in
  place, matches in sorted order;
* an input only listens when its module is loaded (`module(load="imudp")` or
  `$ModLoad imudp`); `imudp` defaults to port 514, `imtcp`/`imrelp` need a port;
  legacy `$UDPServerRun [port]`, `$InputTCPServerRun port`, `$UDPServerAddress`;
* forwarding: `@host[:port]` (UDP), `@@host[:port]` (TCP), `@(o)host`, `[v6]:port`,
  `action(type="omfwd" target= port= protocol=)`; default port 514;
* files: `/path` and `-/path` selector actions, `action(type="omfile" file=)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

OBJECTS = ("module", "input", "action", "include", "global", "template", "main_queue", "ruleset", "parser")
_OBJ = re.compile(r"\b(" + "|".join(OBJECTS) + r")\s*\(", re.IGNORECASE)
_PARAM = re.compile(r"([A-Za-z_][\w.]*)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|\[[^\]]*\]|[^\s)]+)")
_SELECTOR = re.compile(r"^([A-Za-z0-9*,;.!=<> _-]*\.[A-Za-z0-9*!=<>_ -]+)\s+(\S.*)$")


@dataclass
class Item:
    path: str
    line: int
    text: str
    via: tuple[str, ...]


@dataclass
class Input(Item):
    type: str = ""
    port: int | None = None
    address: str | None = None
    proto: str = "udp"


@dataclass
class Action(Item):
    kind: str = ""  # file, forward, other
    target: str | None = None  # file path or remote host
    port: int | None = None
    proto: str | None = None
    selector: str | None = None


@dataclass
class RsyslogConfig:
    files: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)
    inputs: list[Input] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    legacy: list[tuple[str, str, Item]] = field(default_factory=list)  # ($directive lower, args, where)

    def listening(self) -> list[Input]:
        return [i for i in self.inputs if i.type in self.modules and i.port is not None]

    def files_for(self, facility: str) -> list[Action]:
        """File actions whose selector names `facility` (or, when none does, catches it by `*`)."""
        named = [a for a in self.actions if a.kind == "file" and a.selector and selects(a.selector, facility, True)]
        if named:
            return named
        return [a for a in self.actions if a.kind == "file" and a.selector and selects(a.selector, facility, False)]


def selects(selector: str, facility: str, explicit: bool) -> bool:
    """Does `mail.*;mail.none`-style selector let `facility` through? `explicit`: only by name."""
    state = False
    for part in selector.split(";"):
        facs, _, prio = part.strip().rpartition(".")
        names = [f.strip() for f in facs.split(",")]
        if facility in names or (not explicit and "*" in names):
            state = prio.strip() != "none"
    return state


def strip_comments(text: str) -> list[str]:
    """Lines with `#` comments and `/* */` blocks removed (quotes respected). A `/*` inside
    a word (`/etc/rsyslog.d/*.conf`) is a glob, not a comment: rsyslog's lexer reads
    legacy lines whole."""
    out: list[str] = []
    in_block = False
    for raw in text.splitlines():
        buf: list[str] = []
        quote = ""
        i = 0
        while i < len(raw):
            c = raw[i]
            if in_block:
                if raw.startswith("*/", i):
                    in_block = False
                    i += 2
                    continue
                i += 1
                continue
            if quote:
                buf.append(c)
                if c == "\\" and i + 1 < len(raw):
                    buf.append(raw[i + 1])
                    i += 2
                    continue
                if c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
                buf.append(c)
            elif c == "#":
                break
            elif raw.startswith("/*", i) and (i == 0 or raw[i - 1] in " \t(){};"):
                in_block = True
                i += 2
                continue
            else:
                buf.append(c)
            i += 1
        out.append("".join(buf))
    return out


def params(body: str) -> dict[str, str]:
    out = {}
    for m in _PARAM.finditer(body):
        v = m.group(2)
        if v.startswith("["):
            v = ",".join(x.strip().strip("\"'") for x in v[1:-1].split(","))
        else:
            v = v.strip("\"'")
        out[m.group(1).lower()] = v
    return out


def hostport(value: str) -> tuple[str, int | None]:
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", value)
    if m:
        return m.group(1), int(m.group(2)) if m.group(2) else None
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return value, None


def legacy_action(action: str) -> tuple[str, str | None, int | None, str | None]:
    """(kind, target, port, proto) of a selector line's action."""
    a = action.strip()
    if a.startswith("@"):
        proto = "tcp" if a.startswith("@@") else "udp"
        a = a.lstrip("@")
        a = re.sub(r"^\([^)]*\)", "", a)  # @(o)host, @(z9)host
        a = a.split(";", 1)[0].split()[0] if a.split() else a
        host, port = hostport(a)
        return "forward", host, port or 514, proto
    path = a.lstrip("-").split(";", 1)[0].strip()
    if path.startswith("/"):
        return "file", path, None, None
    return "other", a, None, None


Reader = Callable[[str], str | None]
Globber = Callable[[str], list[str]]


def parse(main: str, read: Reader, glob: Globber, want: Callable[[list[str]], None] | None = None) -> RsyslogConfig:
    cfg = RsyslogConfig()
    _parse_file(cfg, main, read, glob, want, (), set())
    return cfg


def _includes(pattern: str, glob: Globber) -> list[str]:
    pat = pattern.strip().strip("\"'")
    hits = glob(pat)
    if len(hits) == 1 and not any(ch in pat for ch in "*?[") and not re.search(r"\.[A-Za-z0-9]+$", pat):
        hits = glob(pat.rstrip("/") + "/*")  # a directory: every file in it
    return sorted(hits)


def _parse_file(
    cfg: RsyslogConfig,
    path: str,
    read: Reader,
    glob: Globber,
    want: Callable[[list[str]], None] | None,
    via: tuple[str, ...],
    seen: set[str],
) -> None:
    if path in seen or len(seen) > 200:
        return
    text = read(path)
    if text is None:
        return
    seen.add(path)
    cfg.files.append((path, via))
    lines = strip_comments(text)
    pending = ""
    start = 0
    depth = 0
    for no, line in enumerate(lines, 1):
        if depth > 0:
            pending += " " + line
            depth = _depth(pending)
            if depth <= 0:
                _statement(cfg, pending, path, start, via, read, glob, want, seen)
                pending = ""
            continue
        s = line.strip()
        if not s:
            continue
        d = _depth(s)
        if d > 0 and _OBJ.search(s):
            pending, start, depth = s, no, d
            continue
        _statement(cfg, s, path, no, via, read, glob, want, seen)
    if pending:
        _statement(cfg, pending, path, start, via, read, glob, want, seen)


def _depth(text: str) -> int:
    depth = 0
    quote = ""
    for c in text:
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
    return depth


def _statement(
    cfg: RsyslogConfig,
    s: str,
    path: str,
    no: int,
    via: tuple[str, ...],
    read: Reader,
    glob: Globber,
    want: Callable[[list[str]], None] | None,
    seen: set[str],
) -> None:
    s = s.strip()
    item = Item(path, no, s, via)
    if s.startswith("$"):
        directive, _, args = s[1:].partition(" ")
        d, args = directive.lower(), args.strip()
        cfg.legacy.append((d, args, item))
        if d == "modload":
            cfg.modules.add(args.split()[0].removesuffix(".so") if args else "")
        elif d == "includeconfig" and args:
            targets = _includes(args, glob)
            if want:
                want(targets)
            for t in targets:
                _parse_file(cfg, t, read, glob, want, (*via, path), seen)
        elif d == "udpserverrun":
            addr = next((a for dd, a, _ in reversed(cfg.legacy) if dd == "udpserveraddress"), None)
            port = int(args) if args.isdigit() else 514
            cfg.inputs.append(Input(path, no, s, via, "imudp", port, _addr(addr), "udp"))
        elif d in ("inputtcpserverrun", "inputptcpserverrun", "inputrelpserverrun") and args.split():
            typ = {"inputtcpserverrun": "imtcp", "inputptcpserverrun": "imptcp", "inputrelpserverrun": "imrelp"}[d]
            port_s = args.split()[0]
            cfg.inputs.append(Input(path, no, s, via, typ, int(port_s) if port_s.isdigit() else None, None, "tcp"))
        return
    objs = list(_OBJ.finditer(s))
    if objs:
        for m in objs:
            body = _body(s, m.end())
            p = params(body)
            _object(cfg, m.group(1).lower(), p, Item(path, no, s, via), read, glob, want, seen)
        return
    # legacy selector line or property filter / if-then with a legacy action
    action = None
    selector = None
    if s.startswith(":"):
        m2 = re.match(r'^:[^,]+,\s*!?[\w-]+\s*,\s*"(?:[^"\\]|\\.)*"\s*(.*)$', s)
        action = m2.group(1) if m2 else None
    elif s.lower().startswith("if ") and " then " in s.lower():
        action = s[s.lower().index(" then ") + 6 :]
    else:
        m3 = _SELECTOR.match(s)
        if m3:
            selector, action = m3.group(1).replace(" ", ""), m3.group(2)
    if action and not action.strip().startswith(("{", "stop", "~")):
        kind, target, fport, proto = legacy_action(action)
        cfg.actions.append(Action(path, no, s, via, kind, target, fport, proto, selector))


def _body(s: str, start: int) -> str:
    depth = 1
    quote = ""
    for i in range(start, len(s)):
        c = s[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return s[start:i]
    return s[start:]


def _addr(value: str | None) -> str | None:
    return None if value in (None, "", "*") else value


def _object(
    cfg: RsyslogConfig,
    name: str,
    p: dict[str, str],
    item: Item,
    read: Reader,
    glob: Globber,
    want: Callable[[list[str]], None] | None,
    seen: set[str],
) -> None:
    if name == "module" and "load" in p:
        cfg.modules.add(p["load"])
    elif name == "include" and "file" in p:
        targets = _includes(p["file"], glob)
        if want:
            want(targets)
        for t in targets:
            _parse_file(cfg, t, read, glob, want, (*item.via, item.path), seen)
    elif name == "input" and "type" in p:
        typ = p["type"]
        proto = "udp" if typ == "imudp" else "tcp"
        raw_port = p.get("port", "514" if typ == "imudp" else "")
        for port_s in [x for x in raw_port.split(",") if x.strip()] or [""]:
            port = int(port_s) if port_s.strip().isdigit() else None
            cfg.inputs.append(
                Input(item.path, item.line, item.text, item.via, typ, port, _addr(p.get("address")), proto)
            )
    elif name == "action" and "type" in p:
        typ = p["type"]
        if typ == "omfwd" and "target" in p:
            port = int(p["port"]) if p.get("port", "").isdigit() else 514
            proto = p.get("protocol", "udp").lower()
            cfg.actions.append(
                Action(item.path, item.line, item.text, item.via, "forward", p["target"], port, proto, None)
            )
        elif typ == "omfile" and "file" in p:
            cfg.actions.append(Action(item.path, item.line, item.text, item.via, "file", p["file"], None, None, None))
        elif typ == "omrelp" and "target" in p:
            port = int(p["port"]) if p.get("port", "").isdigit() else 2514
            cfg.actions.append(Action(item.path, item.line, item.text, item.via, "forward", p["target"], port, "tcp"))
