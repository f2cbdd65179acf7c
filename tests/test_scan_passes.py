"""Second-order reads on a tarball: asked for with want(), fetched in one batched pass."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from modernize.detector import Detector, Registry
from modernize.facts import Found, ServiceFacts
from modernize.scan import scan
from modernize.snapshot import Snapshot, TarballSnapshot
from modernize.snapshot.declarations import whole


class Chaser(Detector):
    """Reads a list of files named inside a declared file (like EnvironmentFile=)."""

    name = "chaser"
    reads = whole("/etc/chaser/list")

    def detect(self, snap: Snapshot, found: Found) -> None:
        names = (snap.text("/etc/chaser/list") or "").split()
        snap.want(names)
        for name in names:
            if snap.text(name) == "yes\n":
                found.add(ServiceFacts(software=name.rsplit("/", 1)[1], kind="other"))


def _tarball(tmp_path: Path, files: dict[str, str]) -> Path:
    out = tmp_path / "s.tar"
    with tarfile.open(out, "w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_discovered_reads_cost_one_batched_pass(tmp_path: Path) -> None:
    # /var/lib is outside the roots the first pass keeps speculatively
    files = {"etc/chaser/list": "/var/lib/a /var/lib/b /var/lib/c\n"}
    files |= {f"var/lib/{n}": "yes\n" for n in "abc"}
    snap = TarballSnapshot(str(_tarball(tmp_path, files)))
    inv = scan(snap, Registry([Chaser])).inventory
    assert sorted(s.software for s in inv.services) == ["a", "b", "c"]
    assert snap.passes == 2


def test_speculative_keep_makes_config_reads_free(tmp_path: Path) -> None:
    files = {"etc/chaser/list": "/etc/app/a.env /srv/app/b\n", "etc/app/a.env": "yes\n", "srv/app/b": "yes\n"}
    snap = TarballSnapshot(str(_tarball(tmp_path, files)))
    inv = scan(snap, Registry([Chaser])).inventory
    assert sorted(s.software for s in inv.services) == ["a.env", "b"]
    assert snap.passes == 1
