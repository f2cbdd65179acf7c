"""Snapshot sources: one read-only view of a server, wherever its bytes are."""

from __future__ import annotations

import os
from collections.abc import Callable

from modernize.errors import SourceError
from modernize.snapshot.base import (
    DEFAULT_MAX_FILE_SIZE,
    FileInfo,
    NotYetRead,
    ReadFailed,
    ReadResult,
    ReadStatus,
    Snapshot,
    UndeclaredRead,
)
from modernize.snapshot.declarations import Declaration, ReadMode
from modernize.snapshot.directory import DirectorySnapshot
from modernize.snapshot.memory import MemorySnapshot
from modernize.snapshot.tarball import TarballSnapshot

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "Declaration",
    "DirectorySnapshot",
    "FileInfo",
    "MemorySnapshot",
    "NotYetRead",
    "ReadFailed",
    "ReadMode",
    "ReadResult",
    "ReadStatus",
    "Snapshot",
    "TarballSnapshot",
    "UndeclaredRead",
    "open_snapshot",
]


def open_snapshot(
    source: str,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> Snapshot:
    """Open SOURCE: a directory holding a root filesystem, or a tarball of one."""
    if source.startswith(("ssh://", "local")) and not os.path.exists(source):
        raise SourceError(f"{source}: live hosts are not supported yet; scan a directory or a tarball")
    if os.path.isdir(source):
        return DirectorySnapshot(source, max_file_size=max_file_size)
    if os.path.isfile(source):
        return TarballSnapshot(source, max_file_size=max_file_size, progress=progress)
    if os.path.lexists(source):
        raise SourceError(f"{source}: neither a directory nor a regular file")
    raise SourceError(f"{source}: no such file or directory")
