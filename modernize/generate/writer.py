"""The one writer of output folders: it never loses what a user wrote.

`OUT/.modernize/manifest.json` maps each path modernize wrote to the sha256 of what
it generated there and the command that did; `OUT/.modernize/base/PATH` keeps that
generated version. On the next run, per file:

- unchanged since generated: replaced by the new version;
- edited by the user: the new version is merged in three ways (base, the user's, the
  new one), as `git merge-file` does: both sides' changes kept, and where both changed
  the same lines, standard conflict markers (a conflict, exit 1);
- deleted by the user: stays deleted (reported); a file modernize never wrote (the
  user's .env, their own files) is never touched: the new version goes beside it as
  PATH.new;
- no longer generated: removed when untouched, kept (reported) when edited.

Without the manifest or a base (deleted by hand, damaged), an existing file gets the new
version as PATH.new beside it, never overwritten.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from modernize.errors import UserError
from modernize.generate.merge3 import is_text, merge3

STATE = ".modernize"
MANIFEST = f"{STATE}/manifest.json"
BASE = f"{STATE}/base"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # the user's edits kept, the new version merged in
    conflicts: list[str] = field(default_factory=list)  # merged with conflict markers
    beside: list[str] = field(default_factory=list)  # PATH.new written because PATH is the user's
    deleted: list[str] = field(default_factory=list)  # the user deleted it: left deleted
    removed: list[str] = field(default_factory=list)  # no longer generated, untouched: removed
    orphaned: list[str] = field(default_factory=list)  # no longer generated, but edited: kept
    diffs: list[str] = field(default_factory=list)  # dry runs: unified diffs of what would change

    @property
    def changed(self) -> bool:
        return bool(self.written or self.merged or self.conflicts or self.beside or self.removed)


@dataclass(frozen=True)
class _Action:
    kind: str  # write, unchanged, merged, conflict, beside, deleted
    data: bytes | None  # what goes to PATH (or PATH.new for beside)


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
            self.manifest_lost = self.root.is_dir() and any(p.name != STATE for p in self.root.iterdir())
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = data["files"]
            if not isinstance(files, dict):
                raise TypeError("files is not a mapping")
            return {str(k): dict(v) for k, v in files.items()}
        except (ValueError, KeyError, TypeError, OSError):
            self.manifest_lost = True
            return {}

    def _safe(self, rel: str) -> Path:
        if rel.startswith("/") or ".." in rel.split("/") or rel.split("/")[0] == STATE:
            raise UserError(f"refusing to write outside the output folder: {rel}")
        return self.root / rel

    def base(self, rel: str) -> bytes | None:
        """What modernize generated at REL last time, when it still knows."""
        known = self.manifest.get(rel, {}).get("sha256")
        path = self.root / BASE / rel
        if known is None or not path.is_file():
            return None
        data = path.read_bytes()
        return data if sha256(data) == known else None

    def edited(self, rel: str) -> bool:
        """REL exists and is not what modernize generated there last."""
        path = self.root / rel
        if not path.is_file():
            return False
        known = self.manifest.get(rel, {}).get("sha256")
        return known != sha256(path.read_bytes())

    def _decide(self, rel: str, new: bytes) -> _Action:
        path = self._safe(rel)
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return _Action("beside", new)
        if not path.exists():
            # written before and gone now: the user deleted it (a lost manifest knows nothing)
            return _Action("deleted", None) if rel in self.manifest else _Action("write", new)
        current = path.read_bytes()
        if current == new:
            return _Action("unchanged", new)
        known = self.manifest.get(rel, {}).get("sha256")
        if known is not None and known == sha256(current):
            return _Action("write", new)
        base = self.base(rel)
        if base is None or not (is_text(base) and is_text(current) and is_text(new)):
            return _Action("beside", new)
        merged = merge3(base.decode(), current.decode(), new.decode())
        data = merged.text.encode()
        if merged.conflicts:
            return _Action("conflict", data)
        return _Action("unchanged" if data == current else "merged", data)

    def write(
        self,
        files: dict[str, bytes],
        modes: dict[str, int] | None = None,
        *,
        owns: Callable[[str], bool] | None = None,
        dry_run: bool = False,
    ) -> WriteResult:
        """Write FILES (path relative to the root -> the generated bytes). OWNS says which
        earlier-written paths this call is responsible for: those it no longer produces
        are removed (untouched) or reported (edited). With DRY_RUN nothing is written and
        the result carries the unified diffs of what would change."""
        if self.root.exists() and not self.root.is_dir():
            raise UserError(f"{self.root}: exists and is not a directory")
        result = WriteResult()
        lists = {"write": result.written, "unchanged": result.unchanged, "merged": result.merged,
                 "conflict": result.conflicts, "beside": result.beside, "deleted": result.deleted}  # fmt: skip
        for rel in sorted(files):
            new = files[rel]
            action = self._decide(rel, new)
            mode = (modes or {}).get(rel, 0o755 if rel.endswith(".sh") else 0o644)
            lists[action.kind].append(rel)
            if dry_run:
                self._diff(rel, action, result)
                continue
            if action.kind == "beside":
                self._put(self.root / (rel + ".new"), new, mode)
                continue  # the base stays: the user's file is not ours yet
            if action.kind in ("write", "merged", "conflict") and action.data is not None:
                self._put(self._safe(rel), action.data, mode, keep_mode=action.kind != "write")
            self._record(rel, new)
        for rel in sorted(self.manifest):
            if rel in files or owns is None or not owns(rel):
                continue
            path = self.root / rel
            if not path.exists():
                self._forget(rel, dry_run)
            elif self.edited(rel):
                result.orphaned.append(rel)
            else:
                result.removed.append(rel)
                if dry_run:
                    result.diffs.append(_unified(rel, path.read_bytes(), b""))
                else:
                    path.unlink()
                    self._forget(rel, dry_run)
        if not dry_run:
            self._save()
        return result

    def put_merged(self, rel: str, data: bytes, base: bytes) -> None:
        """Write DATA (merged by the caller, e.g. a re-plan) and record BASE as what
        modernize generated there."""
        self._put(self._safe(rel), data, 0o644, keep_mode=True)
        self._record(rel, base)
        self._save()

    def _diff(self, rel: str, action: _Action, result: WriteResult) -> None:
        if action.kind in ("unchanged", "deleted"):
            return
        path = self.root / rel
        old = path.read_bytes() if path.is_file() else b""
        target = rel + ".new" if action.kind == "beside" else rel
        result.diffs.append(_unified(target, old if action.kind != "beside" else b"", action.data or b""))

    def _record(self, rel: str, generated: bytes) -> None:
        self.manifest[rel] = {"sha256": sha256(generated), "command": self.command}
        self._put(self.root / BASE / rel, generated, 0o644)

    def _forget(self, rel: str, dry_run: bool) -> None:
        if dry_run:
            return
        self.manifest.pop(rel, None)
        (self.root / BASE / rel).unlink(missing_ok=True)

    def _put(self, path: Path, data: bytes, mode: int, keep_mode: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if keep_mode and path.exists():
            mode = path.stat().st_mode & 0o7777  # the user's chmod stays too
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)

    def _save(self) -> None:
        data = {"files": dict(sorted(self.manifest.items()))}
        self._put(self.root / MANIFEST, (json.dumps(data, indent=2) + "\n").encode(), 0o644)


def _unified(rel: str, old: bytes, new: bytes) -> str:
    if not (is_text(old) and is_text(new)):
        return f"Binary file {rel} would change\n"
    lines = difflib.unified_diff(
        old.decode().splitlines(keepends=True), new.decode().splitlines(keepends=True), f"a/{rel}", f"b/{rel}"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
