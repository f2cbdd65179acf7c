"""The one writer of output folders, and its manifest.

`OUT/.modernize/manifest.json` maps each path modernize wrote to the sha256 of
what it wrote and the command that wrote it. A file is overwritten only when it
still has that hash (the user did not touch it); an edited file, or one the
manifest does not list (the user's .env, secrets/*, anything there before), gets
the new version beside it as PATH.new, and the run says so and exits 1.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from modernize.errors import UserError

MANIFEST = ".modernize/manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    beside: list[str] = field(default_factory=list)  # PATH.new written because PATH is the user's


class OutputWriter:
    def __init__(self, root: Path, command: str) -> None:
        self.root = root
        self.command = command
        self.manifest_lost = False
        self.manifest = self._load()

    def _load(self) -> dict[str, dict[str, str]]:
        path = self.root / MANIFEST
        if not path.exists():
            # files already here that we have no record of are the user's
            self.manifest_lost = self.root.exists() and any(self.root.iterdir())
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = data["files"]
            assert isinstance(files, dict)
            return {str(k): dict(v) for k, v in files.items()}
        except (ValueError, KeyError, TypeError, AssertionError, OSError):
            self.manifest_lost = True
            return {}

    def _safe(self, rel: str) -> Path:
        if rel.startswith("/") or ".." in rel.split("/"):
            raise UserError(f"refusing to write outside the output folder: {rel}")
        return self.root / rel

    def write(self, files: dict[str, bytes], modes: dict[str, int] | None = None) -> WriteResult:
        if self.root.exists() and not self.root.is_dir():
            raise UserError(f"{self.root}: exists and is not a directory")
        result = WriteResult()
        for rel in sorted(files):
            data = files[rel]
            path = self._safe(rel)
            mode = (modes or {}).get(rel, 0o755 if rel.endswith(".sh") else 0o644)
            if path.is_symlink() or (path.exists() and not path.is_file()):
                self._beside(path, data, mode, result, rel)
                continue
            if path.exists():
                current = path.read_bytes()
                if current == data:
                    result.unchanged.append(rel)
                    self.manifest[rel] = {"sha256": sha256(data), "command": self.command}
                    continue
                known = self.manifest.get(rel, {}).get("sha256")
                if known is None or known != sha256(current):
                    self._beside(path, data, mode, result, rel)
                    continue
            self._put(path, data, mode)
            self.manifest[rel] = {"sha256": sha256(data), "command": self.command}
            result.written.append(rel)
        self._save()
        return result

    def _beside(self, path: Path, data: bytes, mode: int, result: WriteResult, rel: str) -> None:
        self._put(path.with_name(path.name + ".new"), data, mode)
        result.beside.append(rel)

    def _put(self, path: Path, data: bytes, mode: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)

    def _save(self) -> None:
        data = {"files": dict(sorted(self.manifest.items()))}
        self._put(self.root / MANIFEST, (json.dumps(data, indent=2) + "\n").encode(), 0o644)
