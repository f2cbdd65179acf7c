"""RPM packages from the sqlite database of RHEL 9 / Fedora (`rpmdb.sqlite`).

Each row of the `Packages` table holds one header blob: a big-endian index of
(tag, type, offset, count) entries followed by the data store (rpm's
lib/header.c layout). Older Berkeley DB (`Packages`) and SUSE ndb databases are
reported as findings rather than guessed at.
"""

from __future__ import annotations

import sqlite3
import struct

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, Package, Version
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import Declaration, ReadMode
from modernize.versions import series_of

SQLITE_DB = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
LEGACY_DB = ("/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/usr/lib/sysimage/rpm/Packages.db")
TAGS = {
    1000: "name", 1001: "version", 1002: "release", 1003: "epoch", 1004: "summary", 1009: "size", 1022: "arch",
    1044: "sourcerpm",
}  # fmt: skip
STRING, INT32, STRING_ARRAY, I18NSTRING = 6, 4, 8, 9


def parse_header(blob: bytes) -> dict[str, str]:
    if len(blob) < 8:
        raise ValueError("header too short")
    il, dl = struct.unpack(">ii", blob[:8])
    if il < 0 or dl < 0 or 8 + il * 16 + dl > len(blob):
        raise ValueError("header index out of bounds")
    store = blob[8 + il * 16 : 8 + il * 16 + dl]
    out: dict[str, str] = {}
    for i in range(il):
        tag, typ, off, count = struct.unpack(">iiii", blob[8 + i * 16 : 24 + i * 16])
        name = TAGS.get(tag)
        if name is None or off < 0 or off >= len(store):
            continue
        if typ in (STRING, I18NSTRING, STRING_ARRAY):
            end = store.find(b"\0", off)
            out[name] = store[off : end if end >= 0 else len(store)].decode("utf-8", "replace")
        elif typ == INT32 and count >= 1 and off + 4 <= len(store):
            out[name] = str(struct.unpack(">i", store[off : off + 4])[0])
    return out


class RpmDetector(Detector):
    name = "rpm"
    tags = ("host", "packages")
    reads = (
        *(Declaration(p, ReadMode.WHOLE, max_size=512 * 1024 * 1024) for p in SQLITE_DB),
        *(Declaration(p, ReadMode.META) for p in LEGACY_DB),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        for path in SQLITE_DB:
            res = snap.read(path, self.reads[SQLITE_DB.index(path)])
            if res.ok:
                self._sqlite(path, res.data, found)
                return
            if res.status.value != "missing":
                found.finding("warning", "rpmdb-unreadable", f"{path}: {res.status.value}", path)
                return
        for path in LEGACY_DB:
            if snap.exists(path):
                found.finding(
                    "warning",
                    "rpmdb-unsupported",
                    f"{path}: Berkeley DB / ndb rpm databases are not read yet; packages of this host are not listed",
                    path,
                )
                return

    @staticmethod
    def _sqlite(path: str, data: bytes, found: Found) -> None:
        conn = sqlite3.connect(":memory:")
        try:
            conn.deserialize(data)
            rows = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
        except sqlite3.Error as exc:
            found.unparsable(path, f"not an rpm sqlite database: {exc}")
            return
        finally:
            conn.close()
        archs: set[str] = set()
        for hnum, blob in rows:
            try:
                h = parse_header(bytes(blob))
            except (ValueError, struct.error) as exc:
                found.unparsable(path, f"package header {hnum}: {exc}")
                continue
            if "name" not in h or h["name"] == "gpg-pubkey":
                continue
            epoch = h.get("epoch")
            raw = (f"{epoch}:" if epoch else "") + f"{h.get('version', '')}-{h.get('release', '')}"
            version = Version(raw, h.get("version", ""), series_of(h.get("version", ""), h["name"]))
            arch = h.get("arch")
            if arch and arch != "noarch":
                archs.add(arch)
            found.add(
                Package(
                    manager="rpm",
                    name=h["name"],
                    version=version,
                    arch=arch,
                    source=h.get("sourcerpm"),
                    summary=h.get("summary"),
                    evidence=(Evidence("package", path, detail=f"Packages row {hnum}"),),
                    installed_size=int(h["size"]) if h.get("size", "").isdigit() else None,
                )
            )
        if found.host.arch is None and len(archs) == 1:
            found.host.arch = archs.pop()
            found.host.arch_evidence = (Evidence("package", path, detail="Arch of the installed packages"),)
