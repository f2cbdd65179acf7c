"""Snapshot sources: one read-only view of a server, wherever its bytes are."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from modernize.live.settings import Options


@dataclass(frozen=True)
class SshSettings:
    """How to reach ssh:// sources: ~/.ssh/config (or another file), an extra key, and the options."""

    ssh_config: str | None = None
    identity: str | None = None
    options: Options = field(default_factory=lambda: _default_options())


def _default_options() -> Options:
    from modernize.live.settings import Options

    return Options()


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
    "SshSettings",
    "TarballSnapshot",
    "UndeclaredRead",
    "open_snapshot",
]


def is_live(source: str) -> bool:
    """A live host rather than files: `ssh://...`, or `local` (unless a folder is named so)."""
    return source.startswith("ssh://") or (source == "local" and not os.path.exists(source))


def open_snapshot(
    source: str,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    progress: Callable[[int, int], None] | None = None,
    ssh: SshSettings | None = None,
) -> Snapshot:
    """Open SOURCE: a directory holding a root filesystem, a tarball of one, a capture
    bundle (`modernize capture`), a live host (`ssh://[user@]host[:port]`, connected
    and its host key checked here), or `local`: the machine modernize runs on."""
    if source.startswith("ssh://"):
        from modernize.snapshot.ssh import open_ssh

        settings = ssh or SshSettings()
        return open_ssh(
            source,
            settings.options,
            ssh_config=settings.ssh_config,
            identity=settings.identity,
            max_file_size=max_file_size,
        )
    if is_live(source):  # not ssh://, handled above: this machine
        from modernize.snapshot.local import LocalSnapshot

        return LocalSnapshot("/", max_file_size=max_file_size)
    if os.path.isdir(source):
        return DirectorySnapshot(source, max_file_size=max_file_size)
    if os.path.isfile(source):
        from modernize.snapshot.bundle import BundleSnapshot, is_bundle

        if is_bundle(source):
            return BundleSnapshot(source, max_file_size=max_file_size)
        return TarballSnapshot(source, max_file_size=max_file_size, progress=progress)
    if os.path.lexists(source):
        raise SourceError(f"{source}: neither a directory nor a regular file")
    raise SourceError(f"{source}: no such file or directory")
