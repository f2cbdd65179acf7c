"""native-apps: ELF heads (Go, static/dynamic), .NET runtimeconfig, negatives."""

from __future__ import annotations

import struct

from detectors.native_apps import NativeAppsDetector
from detectors.systemd import SystemdDetector
from modernize.parsers import elf
from modernize.snapshot.memory import Content
from tests.helpers import inventory, ports

DETS = [SystemdDetector, NativeAppsDetector]


def elf64(*, interp: str | None = None, go: bool = False, machine: int = 0x3E) -> bytes:
    """A minimal little-endian ELF64 header with PT_INTERP / PT_NOTE program headers."""
    phdrs = []
    payload = b""
    base = 64 + 56 * 2
    if interp:
        data = interp.encode() + b"\0"
        phdrs.append(struct.pack("<IIQQQQQQ", 3, 4, base + len(payload), 0, 0, len(data), len(data), 1))
        payload += data
    if go:
        note = struct.pack("<III", 4, 8, 4) + b"Go\0\0" + b"abcdefgh"
        phdrs.append(struct.pack("<IIQQQQQQ", 4, 4, base + len(payload), 0, 0, len(note), len(note), 4))
        payload += note
    while len(phdrs) < 2:
        phdrs.append(struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, 0, 0, 0x1000))
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x401000, 64, 0, 0, 64, 56, 2, 64, 0, 0)
    return header + b"".join(phdrs) + payload


UNIT = "[Service]\nUser=svc\nWorkingDirectory=/opt/app\n{env}\nExecStart={cmd}\n[Install]\nWantedBy=multi-user.target\n"


def scan(cmd: str, files: dict[str, Content], env: str = ""):  # type: ignore[no-untyped-def]
    return inventory(DETS, {"/etc/systemd/system/app.service": UNIT.format(cmd=cmd, env=env), **files})


def test_elf_parser() -> None:
    info = elf.parse(elf64(interp="/lib64/ld-linux-x86-64.so.2"))
    assert info is not None and (info.arch, info.bits, info.dynamic, info.go) == ("amd64", 64, True, False)
    assert info.interpreter == "/lib64/ld-linux-x86-64.so.2"
    info = elf.parse(elf64(go=True, machine=0xB7))
    assert info is not None and (info.arch, info.dynamic, info.go) == ("arm64", False, True)
    assert elf.parse(b"#!/bin/sh\necho hi\n" + b"\0" * 64) is None


def test_go_binary_unit() -> None:
    inv = scan(
        "/opt/app/bin/server --listen :9000", {"/opt/app/bin/server": elf64(go=True)}, env="Environment=PORT=9000"
    )
    (svc,) = inv.services
    assert svc.id == "go-app:/opt/app/bin/server"
    assert (svc.runtime, dict(svc.attributes)["linking"], dict(svc.attributes)["arch"]) == ("go", "static", "amd64")
    assert svc.user == "svc" and [m.name for m in svc.started_by] == ["app.service"]
    assert svc.ports == ()  # a --listen flag of an unknown program is not interpreted


def test_dynamic_native_binary() -> None:
    inv = scan("/usr/local/bin/legacyd -f", {"/usr/local/bin/legacyd": elf64(interp="/lib64/ld-linux-x86-64.so.2")})
    (svc,) = inv.services
    assert svc.id == "native-app:/usr/local/bin/legacyd"
    assert dict(svc.attributes)["loader"] == "/lib64/ld-linux-x86-64.so.2"


def test_dotnet_app() -> None:
    cfg = '{"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}'
    files: dict[str, Content] = {"/opt/app/Api.dll": b"MZ", "/opt/app/Api.runtimeconfig.json": cfg}
    inv = scan("/usr/bin/dotnet /opt/app/Api.dll", files, env="Environment=ASPNETCORE_URLS=http://0.0.0.0:5080")
    (svc,) = inv.services
    assert (svc.id, svc.runtime, svc.framework) == ("dotnet-app:/opt/app/Api.dll", "dotnet8.0", "aspnetcore")
    assert ports(svc) == {(None, 5080)}
    (svc,) = scan("/usr/bin/dotnet Api.dll", files).services
    assert {(p.address, p.port, p.source) for p in svc.ports} == {("127.0.0.1", 5000, "default")}


def test_negatives() -> None:
    # a shell script, an interpreter other detectors describe, a missing binary, a packaged path
    inv = scan("/opt/app/start.sh", {"/opt/app/start.sh": "#!/bin/sh\nexec java -jar app.jar\n"})
    assert not inv.services
    inv = scan("/opt/node/bin/node /opt/app/server.js", {"/opt/node/bin/node": elf64(interp="/lib/ld.so")})
    assert not inv.services
    inv = scan("/usr/sbin/nginx", {"/usr/sbin/nginx": elf64(interp="/lib/ld.so")})
    assert not inv.services
    assert not scan("/opt/app/bin/gone", {}).services


def test_binary_outside_bin_dirs_is_second_order() -> None:
    # /opt/app/server is not under a declared bin directory: the strict snapshot only
    # allows the read because the detector asked for it with want()
    (svc,) = scan("/opt/app/server", {"/opt/app/server": elf64(go=True)}).services
    assert svc.id == "go-app:/opt/app/server"
