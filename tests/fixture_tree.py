"""Turn a fixture directory into the server tree it stands for.

Git keeps neither owners, modes beyond the executable bit, nor empty
directories; `manifest.tsv` records them and this module applies them to a
copy (modes normalised first, so a checkout's umask cannot leak in), and can
pack the copy as the tarball a customer would send.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from tests.helpers import FIXTURES


def scenarios() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "root").is_dir())


def materialize(name: str, dest: Path) -> Path:
    root = dest / name
    shutil.copytree(FIXTURES / name / "root", root, symlinks=True)
    for top, dirs, files in os.walk(root):
        for d in dirs:
            p = Path(top) / d
            if not p.is_symlink():
                p.chmod(0o755)
        for f in files:
            p = Path(top) / f
            if p.is_symlink():
                continue
            p.chmod(0o755 if p.stat().st_mode & stat.S_IXUSR else 0o644)
    manifest = FIXTURES / name / "manifest.tsv"
    if manifest.exists():
        for line in manifest.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            p = root / parts[0].lstrip("/")
            if len(parts) >= 2 and parts[1] == "dir":
                p.mkdir(parents=True, exist_ok=True)
                continue
            if not p.exists() and not p.is_symlink():
                p.mkdir(parents=True, exist_ok=True)  # an empty directory named with its mode
            if len(parts) >= 2 and not p.is_symlink():
                p.chmod(int(parts[1], 8))
            if len(parts) >= 4 and os.geteuid() == 0:
                os.lchown(p, int(parts[2]), int(parts[3]))
    return root


def tarball(root: Path, dest: Path, compression: str = "gz") -> Path:
    flag = {"gz": "-z", "zst": "--zstd", "xz": "-J", "": ""}[compression]
    out = dest / f"{root.name}.tar{'.' + compression if compression else ''}"
    cmd = ["tar", "-C", str(root), "--numeric-owner", "-cf", str(out), "."]
    if flag:
        cmd.insert(1, flag)
    subprocess.run(cmd, check=True)
    return out
