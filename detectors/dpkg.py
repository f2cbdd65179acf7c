"""Debian packages from dpkg's own database, and what changed from their defaults.

`/var/lib/dpkg/status` lists every package dpkg knows; only those whose state is
`installed` count (a removed package keeps its stanza as `config-files`).
Conffile md5sums in the status file are compared with the files on disk: a
changed conffile is what an image must carry. Files under /etc that no
package's `.list` names are the admin's own.

Each package's origin (where it can be installed from again) comes from apt's package
lists where they are kept, else from dpkg's and apt's logs; see modernize.parsers.apt.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from detectors.package_sources import official
from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import ConfigChange, Evidence, Package, PackageSource
from modernize.parsers import apt
from modernize.parsers.apt import LISTS
from modernize.snapshot import Snapshot
from modernize.snapshot.base import ReadResult, decode
from modernize.snapshot.declarations import Declaration, ReadMode, matching_lines, whole
from modernize.versions import make_version

STATUS = "/var/lib/dpkg/status"
LIST_MAX = 256 * 1024 * 1024  # a full archive's list is ~50 MB uncompressed
OFFER_LINES = "^(Package|Version):"  # all apt.offers reads of a list
_ETC_LINE = re.compile(r"^/etc/.*$", re.M)
_OPT_TOP_LINE = re.compile(r"^/opt/[^/\n]*$", re.M)
# Written by the system itself, not worth calling "the admin's own".
GENERATED = {
    "/etc/adjtime",
    "/etc/machine-id",
    "/etc/ld.so.cache",
    "/etc/mtab",
    "/etc/.pwd.lock",
    "/etc/passwd-",
    "/etc/group-",
    "/etc/shadow-",
    "/etc/gshadow-",
    "/etc/subuid-",
    "/etc/subgid-",
    "/etc/resolv.conf",
}


def stanzas(text: str) -> list[tuple[int, dict[str, str]]]:
    """RFC 822-style stanzas as (first line number, fields). Continuation lines
    (starting with a space) are joined with newlines, as dpkg keeps them."""
    out: list[tuple[int, dict[str, str]]] = []
    fields: dict[str, str] = {}
    start = 0
    key = ""
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if fields:
                out.append((start, fields))
            fields, key = {}, ""
            continue
        if line[0] in " \t" and key:
            fields[key] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        if not fields:
            start = no
        key = name.strip()
        fields[key] = value.strip()
    if fields:
        out.append((start, fields))
    return out


def conffiles(field: str) -> list[tuple[str, str, list[str]]]:
    out = []
    for line in field.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("/"):
            out.append((parts[0], parts[1], parts[2:]))
    return out


class DpkgDetector(Detector):
    name = "dpkg"
    tags = ("host", "packages")
    reads = (
        *whole(STATUS, max_size=64 * 1024 * 1024),
        *whole("/var/lib/dpkg/info/*.list", "/var/lib/dpkg/info/*.conffiles"),
        *whole("/etc/**"),
        # where packages came from: apt's lists (tens of MB for a full archive) and the logs
        *matching_lines(OFFER_LINES, f"{LISTS}/*_Packages", max_size=LIST_MAX),
        *whole(f"{LISTS}/*_Packages.gz", f"{LISTS}/*_Packages.xz", max_size=LIST_MAX),
        *whole("/var/log/dpkg.log*", "/var/log/apt/history.log*", max_size=64 * 1024 * 1024),
    )
    requires = ("package-sources",)

    def detect(self, snap: Snapshot, found: Found) -> None:
        result = snap.read(STATUS)
        if not result.ok:
            if result.status.value not in ("missing",):
                found.finding("warning", "dpkg-status-unreadable", f"{STATUS}: {result.status.value}", STATUS)
            return
        text = result.data.decode("utf-8", "replace")
        changes: list[ConfigChange] = []
        owners: dict[str, str] = {}
        packages: list[Package] = []
        for line, f in stanzas(text):
            name = f.get("Package")
            status = f.get("Status", "").split()
            if not name or len(status) < 3 or status[2] != "installed":
                continue
            arch = f.get("Architecture")
            modified: list[str] = []
            missing: list[str] = []
            for path, md5, flags in conffiles(f.get("Conffiles", "")):
                if "obsolete" in flags or "remove-on-upgrade" in flags:
                    continue
                owners.setdefault(path, name)
                res = snap.read(path)
                if res.ok:
                    if hashlib.md5(res.data, usedforsecurity=False).hexdigest() != md5 and md5 != "newconffile":
                        modified.append(path)
                        changes.append(ConfigChange(path, "modified", name))
                elif res.status.value == "missing":
                    missing.append(path)
                    changes.append(ConfigChange(path, "missing", name))
            summary = f.get("Description", "").split("\n", 1)[0] or None
            source = f.get("Source", "").split(" ")[0] or None
            packages.append(
                Package(
                    manager="dpkg",
                    name=name,
                    version=make_version(f.get("Version", ""), "dpkg", name),
                    arch=arch,
                    source=source,
                    summary=summary,
                    modified_conffiles=tuple(sorted(modified)),
                    missing_conffiles=tuple(sorted(missing)),
                    evidence=(Evidence("package", STATUS, line, excerpt=f"Package: {name}"),),
                    installed_size=_kib(f.get("Installed-Size")),
                    depends=_depends(f.get("Pre-Depends", "") + "," + f.get("Depends", "")),
                )
            )
        found.add(*origins(snap, found, packages))
        if found.host.arch is None:
            archs = sorted({p.arch for p in packages if p.arch and p.arch != "all"})
            if len(archs) == 1:
                found.host.arch = archs[0]
                found.host.arch_evidence = (
                    Evidence("package", STATUS, detail="Architecture of the installed packages"),
                )
        owned = self._owned_etc(snap, owners)
        found.add(*changes, *self._unowned(snap, owned))
        found.owners.update(owners)

    @staticmethod
    def _owned_etc(snap: Snapshot, owners: dict[str, str]) -> set[str]:
        owned = set(owners)
        for listing in snap.glob("/var/lib/dpkg/info/*.list"):
            pkg = listing.rsplit("/", 1)[1][: -len(".list")].split(":")[0]
            result = snap.read(listing)
            if not result.ok:
                continue
            # the lists hold every file of every package (megabytes): most name
            # nothing under /etc or /opt, which a substring test on the bytes
            # tells; the lines wanted are picked in C, not tested one by one
            data = result.data
            etc = data.startswith(b"/etc/") or b"\n/etc/" in data
            opt = data.startswith(b"/opt/") or b"\n/opt/" in data
            if not (etc or opt):
                continue
            text = decode(data)
            if etc:
                for path in _ETC_LINE.findall(text):
                    owned.add(path)
                    owners.setdefault(path, pkg)
            if opt:
                for path in _OPT_TOP_LINE.findall(text):
                    owners.setdefault(path, pkg)  # lets `unpackaged` tell packaged /opt trees apart
        return owned

    @staticmethod
    def _unowned(snap: Snapshot, owned: set[str]) -> list[ConfigChange]:
        if not owned:
            return []  # no package lists to judge by
        out = []
        for top, _dirs, files in snap.walk("/etc"):
            for name in files:
                path = f"{top}/{name}"
                if path in owned or path in GENERATED:
                    continue
                info = snap.stat(path, follow=False)
                if info is None or info.kind != "file":
                    continue  # symlinks here are alternatives and enablement, made by scripts
                out.append(ConfigChange(path, "unowned", None))
        return out


def _kib(value: str | None) -> int | None:
    """dpkg's Installed-Size is in KiB."""
    return int(value) * 1024 if value and value.strip().isdigit() else None


def _depends(field: str) -> tuple[str, ...]:
    """`libc6 (>= 2.34), libpcre2-8-0 | libpcre3` -> ('libc6', 'libpcre2-8-0'): the
    first of each alternative, without versions or architecture qualifiers."""
    out: list[str] = []
    for part in field.split(","):
        first = part.split("|")[0].strip().split(" ")[0].split(":")[0]
        if first and first not in out:
            out.append(first)
    return tuple(out)


def origins(snap: Snapshot, found: Found, packages: list[Package]) -> list[Package]:
    """The packages with their origin: from apt's lists where any are kept (as `apt list
    --installed` tells `[installed,local]`), else from the logs (`dpkg -i` outside apt),
    else left unknown."""
    lists: list[tuple[str, dict[str, set[str]]]] = []
    unread = []
    for path in sorted(snap.glob(f"{LISTS}/*_Packages*")):
        if path.endswith("_Packages"):  # only the fields that say what it offers: a live host filters them
            result: ReadResult | None = snap.read(
                path, Declaration(path, ReadMode.LINES, max_size=LIST_MAX, lines=OFFER_LINES)
            )
        elif path.endswith((".gz", ".xz")):
            result = snap.read(path, Declaration(path, max_size=LIST_MAX))
        else:
            result = None
        data = apt.decompress(path, result.data) if result is not None and result.ok else None
        if data is None:
            unread.append(path)
        else:
            lists.append((path, apt.offers(data)))
    if unread:  # a package may be in a list not read: "in no list" would be a guess
        found.finding("info", "apt-lists-unread", f"{len(unread)} of apt's package lists not read, e.g. {unread[0]}")
    sources = [s for s in found.package_sources if s.manager == "apt" and s.enabled]
    if lists and not unread:
        return [_from_lists(p, lists, sources) for p in packages]
    events: list[apt.DpkgEvent] = []
    runs: list[apt.AptRun] = []
    for pattern, parse in (("/var/log/dpkg.log*", "dpkg"), ("/var/log/apt/history.log*", "apt")):
        for path in sorted(snap.glob(pattern)):
            result = snap.read(path)
            data = apt.decompress(path, result.data) if result.ok else None
            if data is None:
                continue
            text = decode(data)
            if parse == "dpkg":
                events += apt.dpkg_events(path, text)
            else:
                runs += apt.apt_runs(path, text)
    if not events:
        return packages
    official_only = bool(sources) and all(s.official for s in sources)
    out = []
    for p in packages:
        how, record = apt.installed_by_hand(p.name, p.version.raw, events, runs)
        if how == "local" and isinstance(record, apt.DpkgEvent):
            ev = Evidence("package", record.path, record.line, excerpt=record.text,
                          detail="unpacked by dpkg outside any apt run (dpkg -i)")  # fmt: skip
            out.append(replace(p, origin="local", evidence=(*p.evidence, ev)))
        elif how == "local" and isinstance(record, apt.AptRun):
            ev = Evidence("package", record.path, record.line, excerpt=f"Commandline: {record.commandline}",
                          detail="installed by apt from a .deb file")  # fmt: skip
            out.append(replace(p, origin="local", evidence=(*p.evidence, ev)))
        elif how == "apt" and official_only:
            out.append(replace(p, origin="archive"))  # apt installs from its sources: here only the archive's
        else:
            out.append(p)
    return out


def _from_lists(p: Package, lists: list[tuple[str, dict[str, set[str]]]], sources: list[PackageSource]) -> Package:
    """The source whose list has this name and version, else this name (the archive moved
    on to a newer version), the distribution's archive first; none: local."""
    for exact in (True, False):
        have = [
            path for path, offer in lists if p.version.raw in offer.get(p.name, ()) or (not exact and p.name in offer)
        ]
        if have:
            named = [_list_source(path, sources) for path in have]
            official = [uri for uri, is_official in named if is_official]
            if official:
                return replace(p, origin="archive")
            return replace(p, origin=f"third-party:{named[0][0]}")
    ev = Evidence("package", LISTS, detail=f"in none of apt's {len(lists)} package lists: installed by hand")
    return replace(p, origin="local", evidence=(*p.evidence, ev))


def _list_source(path: str, sources: list[PackageSource]) -> tuple[str, bool]:
    """(source URI, the distribution's own archive?) of one of apt's list files."""
    name = path.rsplit("/", 1)[1]
    best = max((s for s in sources if name.startswith(apt.list_prefix(s.uri))), key=lambda s: len(s.uri), default=None)
    if best is not None:
        return best.uri, best.official
    host = name.split("_", 1)[0]
    return host, official(f"http://{host}/")
