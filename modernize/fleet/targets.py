"""What a fleet scan scans: the command line's sources expanded into named targets.

A source is a directory, a tarball or capture bundle, `ssh://...`, or `local`; an
argument `@FILE` names a file of sources, one a line (`#` comments); a text file
that is no tarball is read as an Ansible inventory (INI or YAML). Each target
gets the name its inventory file is made from: the Ansible host name, the URL's
host, or the file's name without its archive suffixes, made safe and unique.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from modernize.errors import UserError
from modernize.fleet import ansible

_ARCHIVE = re.compile(r"(\.tar)?(\.(gz|tgz|zst|zstd|xz|bz2))?$|\.tgz$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
RESERVED = {"fleet"}  # fleet.json is the summary


@dataclass(frozen=True)
class Target:
    name: str  # what the user calls the host (before it is made a file name)
    source: str  # what `modernize scan` is given
    identity: str | None = None  # a key file for this host only (Ansible's private key)


def _is_text_file(path: str) -> str | None:
    """The file's text when it is a small text file that is not a tar (an inventory), else None."""
    from modernize.inflate import sniff

    try:
        if os.path.getsize(path) > 16 << 20 or sniff(path) != "none":
            return None
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[257:262] == b"ustar" or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _inventory_text(path: str) -> str | None:
    """The text of an Ansible inventory file, or None when PATH is not one. A file that
    says it is one (its name, a `[group]` or `all:` first line) is one, and its errors are
    reported; any other text file is one only if it parses (else the tarball reader will
    say what it is not)."""
    text = _is_text_file(path)
    if text is None:
        return None
    name = os.path.basename(path).lower()
    first = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    if name.endswith((".ini", ".yml", ".yaml", ".cfg")) or name.startswith(("hosts", "inventory")):
        return text
    if first.startswith("[") or first.split(":")[0] == "all" or first == "---":
        return text
    try:
        ansible.parse(text, path)
    except UserError:
        return None
    return text


def _from_list(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise UserError(f"@{path}: no such file (a list of sources, one a line)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"@{path}: cannot read the list of sources ({exc})") from None
    out = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if not out:
        raise UserError(f"@{path}: lists no sources")
    base = os.path.dirname(path)
    # a relative path in the list is relative to the list, as a user would mean it
    return [s if s.startswith(("ssh://", "/")) or s == "local" else os.path.join(base, s) for s in out]


def _from_ansible(path: str, text: str) -> list[Target]:
    out = []
    for host in ansible.parse(text, path):
        v = host.vars
        if v.get("connection") == "local":
            out.append(Target(host.name, "local"))
            continue
        if v.get("connection") not in (None, "ssh", "paramiko", "smart"):
            raise UserError(f"{path}: host {host.name}: ansible_connection={v['connection']} cannot be scanned")
        port = v.get("port", "")
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise UserError(f"{path}: host {host.name}: ansible_port={port!r} is not a port")
        address = host.address
        if ":" in address and not address.startswith("["):
            address = f"[{address}]"  # an IPv6 address
        url = "ssh://" + (f"{v['user']}@" if v.get("user") else "") + address + (f":{port}" if port else "")
        key = os.path.expanduser(v["key"]) if v.get("key") else None
        out.append(Target(host.name, url, key))
    return out


def is_fleet(args: list[str]) -> bool:
    """Several sources, a list of them, or an inventory: a folder of inventories."""
    return len(args) > 1 or any(a.startswith("@") or _inventory_text(a) is not None for a in args)


def expand(args: list[str]) -> list[Target]:
    """Every target the arguments name, in order, each once (the same source twice is one)."""
    out: list[Target] = []
    for arg in args:
        if arg.startswith("@"):
            sources = _from_list(arg[1:])
        else:
            sources = [arg]
        for source in sources:
            text = _inventory_text(source) if not source.startswith("ssh://") else None
            if text is not None:
                out.extend(_from_ansible(source, text))
            else:
                out.append(Target(_default_name(source), source))
    seen: set[tuple[str, str | None]] = set()
    unique = []
    for t in out:
        if (t.source, t.identity) not in seen:
            seen.add((t.source, t.identity))
            unique.append(t)
    if not unique:
        raise UserError("no sources to scan")
    return unique


def _default_name(source: str) -> str:
    if source.startswith("ssh://"):
        from modernize.live.target import parse_url

        return parse_url(source).alias  # checks the URL now, before any host is tried
    if source == "local":
        return os.uname().nodename or "local"
    base = os.path.basename(os.path.normpath(source)) or "root"
    return _ARCHIVE.sub("", base) or base


def file_names(targets: list[Target]) -> list[str]:
    """A safe, unique file stem per target (case-insensitively unique: some file systems are)."""
    taken: set[str] = set()
    out = []
    for t in targets:
        stem = _UNSAFE.sub("_", t.name).strip("._") or "host"
        stem = stem[:100]
        name, n = stem, 1
        while name.lower() in taken or name.lower() in RESERVED:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.lower())
        out.append(name)
    return out
