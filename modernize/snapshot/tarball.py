"""A tarball of a server's root (`tar -C / -cf - .`, `tar -cf- /`), read without unpacking.

The first pass builds the index of every member (metadata only) and keeps the
bytes of every member the detectors declared, plus, within a memory budget, the
small files under the usual config and app roots, so that reads discovered
later (an EnvironmentFile, an include) rarely cost another pass. Paths are seen
through the server's own symlinks, whatever order the members come in: the
index is resolved after the pass, and anything a declaration covers only
through a symlink that was not fetched speculatively costs one batched pass.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import types
import zlib
from collections.abc import Callable, Iterable
from typing import BinaryIO

from modernize.errors import CorruptArchiveError, SourceError
from modernize.snapshot import paths as P
from modernize.snapshot.base import DIR, FILE, SYMLINK, FileInfo, has_magic
from modernize.snapshot.declarations import Declaration, Matcher, ReadMode, literal_prefix
from modernize.snapshot.indexed import IndexedSnapshot
from modernize.snapshot.tarstream import Member, TarFormatError, TarReader

# Kept speculatively in the first pass (small files only, within the budget).
CONFIG_ROOTS = ("/etc/", "/srv/", "/opt/", "/var/www/", "/home/", "/root/", "/usr/local/", "/var/spool/")
SPECULATIVE_MAX = 128 * 1024
SPECULATIVE_BUDGET = 64 * 1024 * 1024
# Bulky trees that are never worth keeping speculatively.
NOISE_DIRS = ("/node_modules/", "/site-packages/", "/dist-packages/", "/.git/", "/__pycache__/", "/.cache/")
# usrmerge: on Debian 12 and RHEL 9, /lib, /bin, /sbin are links into /usr.
USRMERGE = ("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/")

COMPRESSIONS = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\xfd7zXZ\x00": "xz",
    b"BZh": "bzip2",
}


def sniff(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(264)
    for magic, name in COMPRESSIONS.items():
        if head.startswith(magic):
            return name
    return "none"  # a plain tar, or the reader will say it is not one


class _Counting(io.RawIOBase):
    """Counts compressed bytes read, for the progress display."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._raw.readinto(b)  # type: ignore[attr-defined]
        if n and self._on is not None:
            self._on(n)
        return n or 0


class _CarefulGzip(io.RawIOBase):
    """gzip decoded block by block in this thread: slower than the threaded reader, but
    on a truncated file it hands over every byte before the damage (the threaded
    reader loses the whole block the damage is in)."""

    def __init__(self, raw: BinaryIO) -> None:
        zlib_mod: types.ModuleType
        try:
            from isal import isal_zlib as zlib_mod
        except ImportError:  # pragma: no cover
            zlib_mod = zlib
        self._zlib = zlib_mod
        self._raw = raw
        self._d = zlib_mod.decompressobj(31)
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                if not self._d.eof:
                    # truncated: hand over what decodes, then end; the tar layer reports
                    # the archive as ending inside a member
                    self._out = self._d.flush()
                    if not self._out:
                        return 0
                    break
                return 0
            self._out = self._d.decompress(chunk)
            while self._d.eof and self._d.unused_data:  # concatenated gzip members
                rest = self._d.unused_data
                self._d = self._zlib.decompressobj(31)
                self._out += self._d.decompress(rest)
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def open_stream(
    path: str, on_bytes: Callable[[int], None] | None = None, *, careful: bool = False
) -> tuple[BinaryIO, list[object]]:
    """A decompressed byte stream of the archive, plus what must be closed after."""
    kind = sniff(path)
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the returned list
    counted = io.BufferedReader(_Counting(raw, on_bytes), buffer_size=1 << 20)
    closers: list[object] = [counted, raw]
    stream: BinaryIO
    if kind == "gzip" and careful:
        stream = io.BufferedReader(_CarefulGzip(counted), buffer_size=4 << 20)  # type: ignore[assignment]
    elif kind == "gzip":
        try:
            from isal import igzip_threaded

            stream = igzip_threaded.open(counted, "rb", threads=1, block_size=4 << 20)  # type: ignore[no-untyped-call]
        except ImportError:  # pragma: no cover - isal is a dependency; stdlib fallback
            import gzip

            stream = gzip.GzipFile(fileobj=counted)  # type: ignore[assignment]
    elif kind == "zstd":
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(counted, read_size=1 << 20)  # type: ignore[assignment]
    elif kind == "xz":
        stream = lzma.LZMAFile(counted)  # type: ignore[assignment]  # noqa: SIM115
    elif kind == "bzip2":
        stream = bz2.BZ2File(counted)  # type: ignore[assignment]
    else:
        stream = counted  # type: ignore[assignment]
    closers.insert(0, stream)
    return stream, closers


_KINDS = {"file": FILE, "hardlink": FILE, "symlink": SYMLINK, "dir": DIR}


class TarballSnapshot(IndexedSnapshot):
    kind = "tarball"

    def __init__(
        self,
        path: str,
        *,
        max_file_size: int = 8 * 1024 * 1024,
        progress: Callable[[int, int], None] | None = None,
        speculative_budget: int = SPECULATIVE_BUDGET,
    ) -> None:
        if not os.path.isfile(path):
            raise SourceError(f"{path}: no such file")
        super().__init__(os.path.abspath(path), max_file_size=max_file_size)
        self.file = path
        self.compression = sniff(path)
        self.total_bytes = os.path.getsize(path)
        self._progress = progress
        self._budget = speculative_budget
        self._indexed = False
        self.unsafe_members: list[str] = []
        self._partial: Callable[[str], Declaration | None] | None = None
        self._chase: dict[str, Declaration] = {}
        self._declared_links: list[tuple[str, Declaration]] = []
        self.bytes_kept = 0

    # -- passes ---------------------------------------------------------------------
    def prefetch(self, declarations: list[Declaration]) -> None:
        decls = list(declarations)
        decls += [self._usrmerge_twin(d) for d in decls if any(d.pattern.startswith(p) for p in USRMERGE)]
        matcher = Matcher(decls)
        self._partial = matcher.partial
        self._pass(matcher.match, build_index=True)
        self._check_hardlinks()
        # Second pass only for what a declaration covers through a symlink we could
        # not foresee (e.g. an unusual link to another disk's tree).
        # Declared symlinks whose target came earlier in the stream:
        needed = self.missing_contents(
            Declaration(link, d.mode, d.size, d.max_size) for link, d in self._declared_links
        )
        for decl in declarations:
            # `**` never follows symlinked directories (as glob does): where nothing but
            # `**` can cross a directory link, the in-stream match already saw every member
            if decl.mode is ReadMode.META or not self._may_cross_links(decl.pattern):
                continue
            hits = self.glob(decl.pattern) if has_magic(decl.pattern) else [decl.pattern]
            needed += self.missing_contents(
                Declaration(h, decl.mode, decl.size, decl.max_size) for h in hits if not self._excluded(h, decl)
            )
        if needed:
            self.fetch_more(needed)

    def _may_cross_links(self, pattern: str) -> bool:
        """Could this pattern reach a file through a directory symlink? Yes when its
        literal directory part is not canonical (`/lib/...` on merged-/usr) or when a
        wildcard other than `**` names a directory (`/etc/php/*/fpm/...`)."""
        if pattern.startswith("**"):
            return False
        prefix = literal_prefix(pattern)
        pdir = prefix.rsplit("/", 1)[0] or "/"
        if self.realpath(pdir) != pdir:
            return True
        dirs = pattern[len(pdir) :].strip("/").split("/")[:-1]
        return any(has_magic(c) and c != "**" for c in dirs)

    @staticmethod
    def _excluded(path: str, decl: Declaration) -> bool:
        return any(f"/{x}/" in path for x in decl.exclude)

    @staticmethod
    def _usrmerge_twin(decl: Declaration) -> Declaration:
        return Declaration("/usr" + decl.pattern, decl.mode, decl.size, decl.max_size, decl.exclude)

    def fetch_more(self, requests: Iterable[Declaration]) -> None:
        wanted: dict[str, Declaration] = {}
        for d in requests:
            old = wanted.get(d.pattern)
            # one path asked for twice: a whole read covers a head or tail
            if old is None or (old.mode is not ReadMode.WHOLE and d.mode is ReadMode.WHOLE):
                wanted[d.pattern] = d
        if not wanted:
            return
        if not self.complete:
            self.unreadable.update(wanted)  # the damage is still there: do not read again
            return
        self._pass(wanted.get, build_index=False)
        self.unreadable.update(p for p in wanted if p not in self.contents)

    def _pass(self, match: Callable[[str], Declaration | None], *, build_index: bool, careful: bool = False) -> None:
        self.passes += 1
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if self._progress is not None:
                self._progress(done[0], self.total_bytes)

        try:
            stream, closers = open_stream(self.file, tick, careful=careful)
        except OSError as exc:
            raise SourceError(f"{self.file}: {exc.strerror or exc}") from exc
        reader = TarReader(stream)
        try:
            for member in reader:
                self._member(reader, member, match, build_index)
        except (TarFormatError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
            if not careful and self.compression == "gzip" and isinstance(exc, EOFError | OSError | zlib.error):
                # read it again block by block to keep everything before the damage
                self.passes -= 1
                self._pass(match, build_index=build_index, careful=True)
                return
            if build_index and reader.members_seen == 0:
                raise CorruptArchiveError(f"{self.file}: not a readable tar archive ({exc})") from exc
            self.complete = False
            self.errors.append(
                f"{self.file}: archive is truncated or corrupt after {reader.offset} bytes "
                f"(last member {reader.last_name!r}): {exc}; the inventory covers what was read"
            )
        except Exception as exc:  # zstandard raises its own ZstdError
            if type(exc).__name__ != "ZstdError":
                raise
            self.complete = False
            self.errors.append(f"{self.file}: archive is corrupt after {reader.offset} bytes: {exc}")
        finally:
            for c in closers:
                try:
                    c.close()  # type: ignore[attr-defined]
                except Exception:  # noqa: BLE001, S110 - closing a broken stream must not mask its error
                    pass

    def _member(
        self,
        reader: TarReader,
        m: Member,
        match: Callable[[str], Declaration | None],
        build_index: bool,
    ) -> None:
        path = P.member_to_path(m.name)
        if path is None:
            if build_index:
                self.unsafe_members.append(m.name)
                self.coverage.note(m.name, "unsafe member name (climbs out with '..'): ignored")
            return
        if path == "/" or P.is_pseudo(path):
            return
        if build_index:
            kind = _KINDS.get(m.type, m.type)
            info = FileInfo(path, kind, m.logical_size, m.mode, m.uid, m.gid, m.mtime)
            if m.type == "symlink":
                info.linkname = m.linkname
                info.size = len(m.linkname)
                decl = match(path)
                # a link a detector named (not one that merely lies in a declared tree,
                # like /etc/alternatives/* under /etc/**): keep its target too
                if decl is not None and "**" not in decl.pattern:
                    base = "/" if m.linkname.startswith("/") else P.parent(path)
                    self._chase[P.normalize(P.join(base, m.linkname))] = decl
                    self._declared_links.append((path, decl))
            elif m.type == "hardlink":
                target = P.member_to_path(m.linkname)
                if target is None:
                    self.coverage.note(path, f"hard link to unsafe name {m.linkname!r}: ignored")
                    return
                info.hardlink_to = target
            self.add(info)
        if m.type != "file" or (not m.size and m.sparse is None):
            if m.type == "file" and build_index:
                self.put(path, ReadMode.WHOLE, b"")
            return
        decl = match(path) or self._chase.get(path)
        if decl is None:
            if (
                build_index
                and m.logical_size <= SPECULATIVE_MAX
                and self.bytes_kept < self._budget
                and path.startswith(CONFIG_ROOTS)
                and not any(d in path for d in NOISE_DIRS)
            ):
                decl = Declaration(path)
            else:
                return
        if decl.mode is ReadMode.META:
            return
        limit = decl.max_size or self.max_file_size
        if decl.mode is ReadMode.WHOLE and m.logical_size > limit:
            partial = self._partial(path) if self._partial else None
            if partial is None:
                return  # recorded as too large when someone reads it
            decl = partial
        if decl.mode is ReadMode.WHOLE:
            data = reader.read_data(m)
        elif decl.mode is ReadMode.HEAD:
            if m.sparse is not None and m.logical_size > limit:
                return
            data = reader.read_head(m, decl.size)
        else:
            if m.sparse is not None and m.logical_size > limit:
                return
            data = reader.read_tail(m, decl.size)
        self.bytes_kept += len(data)
        self.put(path, decl.mode, data)

    def _check_hardlinks(self) -> None:
        for info in self.entries.values():
            if info.hardlink_to is None:
                continue
            target = self.entries.get(info.hardlink_to)
            if target is None or target.kind != FILE:
                self.unreadable.add(info.hardlink_to)
                self.coverage.note(info.path, f"hard link to {info.hardlink_to}, which the archive does not hold")
            else:
                info.size = target.size

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "location": self.location, "compression": self.compression}
