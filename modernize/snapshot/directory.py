"""A server's root filesystem unpacked in a directory.

Symlinks are resolved by the base class, component by component, inside the
root; this class only ever lstat()s, lists and opens canonical paths, opening
with O_NOFOLLOW so a link swapped in later still cannot lead outside.
"""

from __future__ import annotations

import os
import stat as st

from modernize.errors import SourceError
from modernize.snapshot.base import (
    BLOCK,
    CHAR,
    DIR,
    FIFO,
    FILE,
    SOCKET,
    SYMLINK,
    FileInfo,
    ReadFailed,
    ReadStatus,
    Snapshot,
)
from modernize.snapshot.declarations import Declaration, ReadMode, keep_lines


def _kind(mode: int) -> str:
    if st.S_ISREG(mode):
        return FILE
    if st.S_ISDIR(mode):
        return DIR
    if st.S_ISLNK(mode):
        return SYMLINK
    if st.S_ISFIFO(mode):
        return FIFO
    if st.S_ISCHR(mode):
        return CHAR
    if st.S_ISBLK(mode):
        return BLOCK
    return SOCKET


class DirectorySnapshot(Snapshot):
    kind = "directory"

    def __init__(self, root: str, **kwargs: int) -> None:
        if not os.path.isdir(root):
            raise SourceError(f"{root}: not a directory")
        # the root itself may be reached through a link of the scanning machine (the
        # user chose it); inside it, no link is ever followed by the OS
        super().__init__(os.path.realpath(root), **kwargs)
        self._root = self.location
        self._cache: dict[str, FileInfo | None] = {}
        self._listing: dict[str, list[str]] = {}
        self.passes = 1

    def _host(self, cpath: str) -> str:
        return self._root + cpath if cpath != "/" else self._root

    def _entry(self, cpath: str) -> FileInfo | None:
        try:
            return self._cache[cpath]
        except KeyError:
            pass
        try:
            s = os.lstat(self._host(cpath))
        except OSError:
            info = None
        else:
            kind = _kind(s.st_mode)
            link = os.readlink(self._host(cpath)) if kind == SYMLINK else None
            info = FileInfo(
                cpath, kind, s.st_size, st.S_IMODE(s.st_mode), s.st_uid, s.st_gid, float(int(s.st_mtime)), link
            )
        self._cache[cpath] = info
        return info

    def _children(self, cpath: str) -> list[str]:
        try:
            return self._listing[cpath]
        except KeyError:
            pass
        try:
            with os.scandir(self._host(cpath)) as it:
                names = sorted(e.name for e in it)
        except PermissionError:
            self.coverage.note(cpath, "denied: directory cannot be listed")
            names = []
        except OSError:
            names = []
        self._listing[cpath] = names
        return names

    def _load(self, cpath: str, info: FileInfo, decl: Declaration | None) -> bytes:
        flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        try:
            fd = os.open(self._host(cpath), flags)
        except PermissionError:
            raise
        except OSError as exc:
            raise ReadFailed(cpath, ReadStatus.MISSING) from exc
        try:
            # Re-check on the open descriptor: what we opened must be a regular file.
            if not st.S_ISREG(os.fstat(fd).st_mode):
                raise ReadFailed(cpath, ReadStatus.SPECIAL)
            mode = decl.mode if decl else ReadMode.WHOLE
            if mode is ReadMode.HEAD:
                return os.read(fd, decl.size if decl else 0)
            if mode is ReadMode.TAIL and decl is not None:
                os.lseek(fd, max(0, info.size - decl.size), os.SEEK_SET)
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            data = b"".join(chunks)
            return keep_lines(data, decl.lines) if mode is ReadMode.LINES and decl is not None else data
        finally:
            os.close(fd)
