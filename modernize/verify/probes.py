"""The plan's probes, made from outside the container: an HTTP request with the
virtual host's Host header (TLS with its name where the port serves TLS), a TCP
connect, or a command run inside it. A probe names what a healthy answer is, so a
web server's default page or a 404 does not pass for the app behind it."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

from modernize.plan.model import Probe
from modernize.verify.engine import Engine

TLS_PORTS = {443, 8443, 9443}


@dataclass(frozen=True)
class ProbeResult:
    probe: str  # what was asked: "http :80 / Host: x", "tcp :5432", "exec pg_isready"
    ok: bool
    answer: str  # what came back: the status line, "connected", the error


def describe(p: Probe) -> str:
    if p.kind == "http":
        return f"http :{p.port} {p.path or '/'}" + (f" Host: {p.host}" if p.host else "")
    if p.kind == "tcp":
        return f"tcp :{p.port}"
    return "exec " + " ".join(p.command)


def _status_ok(code: int, expect: str | None) -> bool:
    for want in (expect or "2xx,3xx").split(","):
        want = want.strip().lower()
        if want.endswith("xx") and want[:1].isdigit() and code // 100 == int(want[0]):
            return True
        if want.isdigit() and code == int(want):
            return True
    return False


def _http(port: int, p: Probe, timeout: float) -> tuple[bool, str]:
    host = p.host or "localhost"
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        conn: socket.socket = raw
        if p.port in TLS_PORTS:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # verify's own throwaway certificate
            conn = ctx.wrap_socket(raw, server_hostname=host)
        request = (
            f"GET {p.path or '/'} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: modernize-verify\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(request.encode("ascii", "replace"))
        head = b""
        while b"\r\n" not in head and len(head) < 8192:
            chunk = conn.recv(1024)
            if not chunk:
                break
            head += chunk
    finally:
        raw.close()
    line = head.split(b"\r\n", 1)[0].decode("latin-1").strip()
    parts = line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        return False, f"no HTTP answer ({line or 'connection closed'})"
    return _status_ok(int(parts[1]), p.expect), line


def run_probe(engine: Engine, container: str, p: Probe, deadline: float, timeout: float = 5.0) -> ProbeResult:
    """Try until it passes or the deadline: a service may answer a little after its
    healthcheck passes (an app's workers still booting)."""
    what = describe(p)
    answer = "not tried"
    while True:
        ok = False
        try:
            if p.kind == "exec":
                c = engine.exec(container, p.command)
                ok, answer = c.ok, (c.tail(300) or f"exit {c.returncode}")
            else:
                port = engine.host_port(container, p.port or 0)
                if port is None:
                    ok, answer = False, f"port {p.port} is not published (does the container listen on it?)"
                elif p.kind == "tcp":
                    socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
                    ok, answer = True, "connected"
                else:
                    ok, answer = _http(port, p, timeout)
        except (OSError, ssl.SSLError) as exc:
            ok, answer = False, f"{type(exc).__name__}: {exc}"
        if ok or time.monotonic() > deadline:
            return ProbeResult(what, ok, answer)
        time.sleep(1.0)
