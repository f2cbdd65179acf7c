"""Alpine packages from apk's installed database (`/lib/apk/db/installed`).

The format (apk-tools' "installed database"): one paragraph per package, one
`X:value` line per field; P name, V version, A arch, T description, o origin.
"""

from __future__ import annotations

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, Package
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole
from modernize.versions import make_version

DB = ("/lib/apk/db/installed", "/usr/lib/apk/db/installed")


def paragraphs(text: str) -> list[tuple[int, dict[str, str]]]:
    out: list[tuple[int, dict[str, str]]] = []
    cur: dict[str, str] = {}
    start = 0
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if cur:
                out.append((start, cur))
            cur = {}
            continue
        if len(line) >= 2 and line[1] == ":":
            if not cur:
                start = no
            cur.setdefault(line[0], line[2:])  # F:/R: repeat; the first P/V/A is the package's
    if cur:
        out.append((start, cur))
    return out


class ApkDetector(Detector):
    name = "apk"
    tags = ("host", "packages")
    reads = whole(*DB, max_size=64 * 1024 * 1024)

    def detect(self, snap: Snapshot, found: Found) -> None:
        for path in DB:
            text = snap.text(path)
            if text is None:
                continue
            archs = set()
            for line, f in paragraphs(text):
                if "P" not in f or "V" not in f:
                    continue
                if f.get("A"):
                    archs.add(f["A"])
                found.add(
                    Package(
                        manager="apk",
                        name=f["P"],
                        version=make_version(f["V"], "apk", f["P"]),
                        arch=f.get("A"),
                        source=f.get("o"),
                        summary=f.get("T"),
                        evidence=(Evidence("package", path, line, excerpt=f"P:{f['P']}"),),
                        installed_size=int(f["I"]) if f.get("I", "").isdigit() else None,
                    )
                )
            if found.host.arch is None and len(archs) == 1:
                found.host.arch = archs.pop()
                found.host.arch_evidence = (Evidence("package", path, detail="A: of the installed packages"),)
            return
