"""ELF headers, from the first bytes of a file (System V gABI): class, byte order,
machine, type, and the program headers that fit in the bytes given (PT_INTERP says
dynamically linked; a PT_NOTE named "Go" is a Go build ID)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

MACHINES = {
    0x03: "i386",
    0x28: "armhf",
    0x3E: "amd64",
    0xB7: "arm64",
    0xF3: "riscv64",
    0x15: "ppc64el",
    0x16: "s390x",
    0x08: "mips",
}
PT_INTERP, PT_NOTE = 3, 4


@dataclass(frozen=True)
class ElfInfo:
    bits: int
    arch: str
    type: str  # exec, dyn, rel, core
    dynamic: bool | None  # None: program headers not in the bytes read
    interpreter: str | None
    go: bool


def parse(head: bytes) -> ElfInfo | None:
    if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    bits = 64 if head[4] == 2 else 32
    end = "<" if head[5] == 1 else ">"
    e_type, e_machine = struct.unpack_from(end + "HH", head, 16)
    if bits == 64:
        if len(head) < 64:
            return None
        phoff = struct.unpack_from(end + "Q", head, 32)[0]
        phentsize, phnum = struct.unpack_from(end + "HH", head, 54)
    else:
        phoff = struct.unpack_from(end + "I", head, 28)[0]
        phentsize, phnum = struct.unpack_from(end + "HH", head, 42)
    dynamic: bool | None = False
    interp = None
    go = b"Go build ID:" in head or b"\xff Go buildinf:" in head
    for i in range(min(phnum, 256)):
        off = phoff + i * phentsize
        if off + phentsize > len(head) or phentsize < (56 if bits == 64 else 32):
            dynamic = dynamic or None
            break
        if bits == 64:
            p_type, _flags, p_offset, _va, _pa, p_filesz = struct.unpack_from(end + "IIQQQQ", head, off)
        else:
            p_type, p_offset, _va, _pa, p_filesz = struct.unpack_from(end + "IIIII", head, off)
        if p_type == PT_INTERP:
            dynamic = True
            raw = head[p_offset : p_offset + p_filesz]
            interp = raw.split(b"\0", 1)[0].decode("ascii", "replace") if raw else None
        elif p_type == PT_NOTE and p_offset + 12 <= len(head):
            namesz = struct.unpack_from(end + "I", head, p_offset)[0]
            name = head[p_offset + 12 : p_offset + 12 + namesz].rstrip(b"\0")
            go = go or name == b"Go"
    kind = {1: "rel", 2: "exec", 3: "dyn", 4: "core"}.get(e_type, str(e_type))
    return ElfInfo(bits, MACHINES.get(e_machine, hex(e_machine)), kind, dynamic, interp, go)
