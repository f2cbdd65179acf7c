"""Software installed outside any package manager: trees under /opt and programs
under /usr/local. These have no package to reinstall from: an image must copy them."""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, Package, Version
from modernize.parsers.shell import as_dict
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import Declaration, ReadMode, whole
from modernize.versions import series_of

_NAME_VERSION = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_.+-]*?)[-_](?P<version>v?\d+(?:\.\d+)+[A-Za-z0-9.+-]*)$")
VERSION_FILES = ("VERSION", "version", "version.txt", "VERSION.txt", "release")


def _version(text: str | None) -> str | None:
    if not text:
        return None
    values = as_dict(text)
    for key in ("JAVA_VERSION", "VERSION", "version"):
        if values.get(key):
            return values[key]
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return first if re.fullmatch(r"v?\d+(\.\d+)+[A-Za-z0-9.+-]*", first) else None


class UnpackagedDetector(Detector):
    name = "unpackaged"
    tags = ("host", "packages")
    requires = ("dpkg",)
    reads = (
        *whole(*(f"/opt/*/{v}" for v in VERSION_FILES)),
        Declaration("/usr/local/bin/*", ReadMode.META),
        Declaration("/usr/local/sbin/*", ReadMode.META),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        for path in snap.glob("/opt/*"):
            if not snap.is_dir(path) or path in found.owners:
                continue
            name = path.rsplit("/", 1)[1]
            m = _NAME_VERSION.match(name)
            raw = None
            for vf in VERSION_FILES:
                raw = _version(snap.text(f"{path}/{vf}")) if snap.exists(f"{path}/{vf}") else None
                if raw:
                    break
            if m and not raw:
                name, raw = m.group("name"), m.group("version")
            raw = (raw or "").lstrip("v")
            found.add(
                Package(
                    manager="none",
                    name=name,
                    version=Version(raw, raw, series_of(raw, name) if raw else ""),
                    location=path,
                    evidence=(Evidence("file", path, detail="a tree under /opt that no package owns"),),
                )
            )
        for base in ("/usr/local/bin", "/usr/local/sbin"):
            for path in snap.glob(f"{base}/*"):
                info = snap.stat(path)
                if info is None or info.kind != "file" or not info.mode & 0o111:
                    continue
                found.add(
                    Package(
                        manager="none",
                        name=path.rsplit("/", 1)[1],
                        version=Version("", "", ""),
                        location=path,
                        evidence=(Evidence("file", path, detail="an executable under /usr/local"),),
                    )
                )
