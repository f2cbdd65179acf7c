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

import bisect
import lzma
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import replace

from modernize.errors import CorruptArchiveError, SourceError
from modernize.inflate import Stream, _Incremental, claim, close_all, open_stream, sniff
from modernize.snapshot import paths as P
from modernize.snapshot.base import DEFAULT_MAX_FILE_SIZE, DIR, FILE, SYMLINK, FileInfo, parts_match
from modernize.snapshot.declarations import Declaration, Matcher, ReadMode, has_magic, keep_lines, literal_prefix
from modernize.snapshot.indexed import IndexedSnapshot, merge_requests
from modernize.snapshot.tarstream import Member, TarFormatError, TarReader

# Kept speculatively in the first pass (small files only, within the budget).
CONFIG_ROOTS = ("/etc/", "/srv/", "/opt/", "/var/www/", "/home/", "/root/", "/usr/local/", "/var/spool/")
SPECULATIVE_MAX = 128 * 1024
SPECULATIVE_BUDGET = 64 * 1024 * 1024
# Bulky trees that are never worth keeping speculatively.
NOISE_DIRS = ("/node_modules/", "/site-packages/", "/dist-packages/", "/.git/", "/__pycache__/", "/.cache/")
# usrmerge: on Debian 12 and RHEL 9, /lib, /bin, /sbin are links into /usr.
USRMERGE = ("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/")

_KINDS = {"file": FILE, "hardlink": FILE, "symlink": SYMLINK, "dir": DIR}


class TarballSnapshot(IndexedSnapshot):
    kind = "tarball"

    def __init__(
        self,
        path: str,
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
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
        self._hardlinks: list[tuple[FileInfo, str]] = []  # (link, target) as met in the stream
        self._partial: Callable[[str, int, int], Declaration | None] | None = None
        self._chase: dict[str, Declaration] = {}
        self._declared_links: list[tuple[str, Declaration]] = []
        self._links: list[str] = []  # every symlink member, sorted after the first pass
        self._dir_links: list[str] | None = None
        self._link_to_dir: dict[str, bool] = {}
        self.bytes_kept = 0
        self._early: Stream | None = None

    def begin(self) -> None:
        """Start inflating now, while the caller loads its detectors, or take over
        the stream the console entry started (`inflate.head_start`); the first pass
        picks it up (the helper thread's queue bounds what waits)."""
        if self._early is None and self.passes == 0:
            self._early = claim(self.file) or self._open()

    def close(self) -> None:
        if self._early is not None:
            close_all(self._early[1])
            self._early = None

    def _open(self, *, careful: bool = False) -> Stream:
        try:
            return open_stream(self.file, self.compression, careful=careful)
        except OSError as exc:
            raise SourceError(f"{self.file}: {exc.strerror or exc}") from exc

    # -- passes ---------------------------------------------------------------------
    def prefetch(self, declarations: list[Declaration]) -> None:
        decls = list(declarations)
        decls += [self._usrmerge_twin(d) for d in decls if d.pattern.startswith(USRMERGE)]
        matcher = Matcher(decls)
        self._partial = matcher.partial
        self._pass(matcher.match, build_index=True)
        self._links.sort()
        self._check_hardlinks()
        # Second pass only for what a declaration covers through a symlink we could
        # not foresee (e.g. an unusual link to another disk's tree).
        # Declared symlinks whose target came earlier in the stream:
        needed = self.missing_contents(replace(d, pattern=link, exclude=()) for link, d in self._declared_links)
        for decl in declarations:
            # `**` never follows symlinked directories (as glob does): where nothing but
            # `**` can cross a directory link, the in-stream match already saw every member
            if decl.mode is ReadMode.META or not self._may_cross_links(decl.pattern):
                continue
            hits = self.glob(decl.pattern) if has_magic(decl.pattern) else [decl.pattern]
            needed += self.missing_contents(
                replace(decl, pattern=h, exclude=()) for h in hits if not self._excluded(h, decl)
            )
        if needed:
            self.fetch_more(needed)

    def _may_cross_links(self, pattern: str) -> bool:
        """Could this pattern reach a file through a directory symlink? Yes when its
        literal directory part is not canonical (`/lib/...` on merged-/usr), or when
        a symlink to a directory sits where a wildcard other than `**` names a
        directory (`/etc/php/*/fpm/...`) or below one (`/srv/**/node_modules/*/`)."""
        if pattern.startswith("**"):
            return False
        prefix = literal_prefix(pattern)
        pdir = prefix.rsplit("/", 1)[0] or "/"
        if self.realpath(pdir) != pdir:
            return True
        dirs = pattern[len(pdir) :].strip("/").split("/")[:-1]
        if not any(has_magic(c) and c != "**" for c in dirs):
            return False
        # the first link on a path through the pattern is a canonical member named
        # by the pattern's components up to it (never `**`, which stays off links)
        heads = [dirs[: j + 1] for j, c in enumerate(dirs) if c != "**"]
        below = pdir.rstrip("/") + "/"
        links = self._links_to_dirs()
        i = bisect.bisect_left(links, below)
        while i < len(links) and links[i].startswith(below):
            names = links[i][len(below) :].split("/")
            if any(parts_match(head, names) for head in heads):
                return True
            i += 1
        return False

    def _links_to_dirs(self) -> list[str]:
        """The symlinks that lead to a directory, sorted (worked out once). A link
        met in the stream may be gone since: a later member replaced it, or a
        directory above it."""
        if self._dir_links is None:
            live = [link for link in dict.fromkeys(self._links) if (e := self.entries.get(link)) and e.kind == SYMLINK]
            self._dir_links = [link for link in live if self._leads_to_dir(link)]
        return self._dir_links

    def _leads_to_dir(self, link: str, hops: int = 0) -> bool:
        known = self._link_to_dir.get(link)
        if known is not None:
            return known
        target = self.entries[link].linkname or ""
        # most links name their target's canonical path, or another link's: a
        # lookup or two instead of resolving from the root
        direct = None
        if target and "/." not in f"/{target}" and "//" not in target and not target.endswith("/"):
            # plain names (`libz.so.1.3`, `/usr/lib/x`, `sub/dir`): no normalizing needed
            direct = self.entries.get(target if target[0] == "/" else f"{link.rsplit('/', 1)[0]}/{target}")
        else:
            names = [n for n in target.split("/") if n and n != "."]
            while names and names[0] == "..":
                names.pop(0)
            if ".." not in names:
                path = P.normalize(P.join("/" if target.startswith("/") else P.parent(link), target))
                direct = self.entries.get(path)
        if direct is not None and direct.kind != SYMLINK:
            leads = direct.kind == DIR
        elif direct is not None and hops < 8:
            leads = self._leads_to_dir(direct.path, hops + 1)
        else:
            info = self.stat(link)
            leads = info is not None and info.kind == DIR
        self._link_to_dir[link] = leads
        return leads

    @staticmethod
    def _excluded(path: str, decl: Declaration) -> bool:
        return any(f"/{x}/" in path for x in decl.exclude)

    @staticmethod
    def _usrmerge_twin(decl: Declaration) -> Declaration:
        return replace(decl, pattern="/usr" + decl.pattern)

    def fetch_more(self, requests: Iterable[Declaration]) -> None:
        wanted = merge_requests(requests)
        if not wanted:
            return
        if not self.complete:
            self.unreadable.update(wanted)  # the damage is still there: do not read again
            return
        self._pass(wanted.get, build_index=False)
        self.unreadable.update(p for p in wanted if p not in self.contents)

    def _pass(self, match: Callable[[str], Declaration | None], *, build_index: bool, careful: bool = False) -> None:
        self.passes += 1
        if self._early is not None and not careful:
            (stream, closers, position), self._early = self._early, None
        else:
            stream, closers, position = self._open(careful=careful)
        progress = self._progress

        def tick(_n: int) -> None:
            if progress is not None:
                progress(min(position(), self.total_bytes), self.total_bytes)

        reader = TarReader(stream, on_read=tick)
        try:
            for member in reader:
                self._member(reader, member, match, build_index)
            if careful:
                self._trailing(stream)
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
            close_all(closers)

    def _trailing(self, stream: object) -> None:
        """Bytes after the compressed archive that are not part of it: GNU tar reads such
        an archive (gzip says "trailing garbage ignored"), and so does the scan, with a warning."""
        inner = getattr(stream, "raw", None)
        if not isinstance(inner, _Incremental):
            return
        while stream.read(1 << 20):  # type: ignore[attr-defined]
            pass  # past the end-of-archive blocks, to what follows the last compressed stream
        if inner.trailing and not self.warnings:
            self.warnings.append(
                f"{self.file}: {inner.trailing} bytes after the end of the {self.compression} data "
                "are not part of the archive (trailing garbage ignored, as gzip and GNU tar do)"
            )

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
                self.coverage.note(m.name, "unsafe member name (climbs out with '..'): ignored")
            return
        if path == "/" or P.is_pseudo(path):
            return
        size = m.logical_size
        if build_index:
            kind = _KINDS.get(m.type, m.type)
            info = FileInfo(path, kind, size, m.mode, m.uid, m.gid, m.mtime)
            if m.type == "symlink":
                info.linkname = m.linkname
                info.size = len(m.linkname)
                self._links.append(path)
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
                self._hardlinks.append((info, target))
            self.add(info)
        if m.type != "file" or (not m.size and m.sparse is None):
            if m.type == "file" and build_index:
                self.put(path, ReadMode.WHOLE, b"")
            return
        decl = match(path) or self._chase.get(path)
        if decl is None:
            if (
                build_index
                and size <= SPECULATIVE_MAX
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
        if decl.mode in (ReadMode.WHOLE, ReadMode.LINES) and size > limit:
            partial = self._partial(path, size, self.max_file_size) if self._partial else None
            if partial is None:
                return  # recorded as too large when someone reads it
            decl = partial
        if decl.mode is ReadMode.WHOLE:
            data = reader.read_data(m)
        elif decl.mode is ReadMode.LINES:  # kept filtered: apt's lists are tens of MB for two fields
            data = keep_lines(reader.read_data(m), decl.lines)
        elif m.sparse is not None and size > limit:
            return  # a head or tail of a sparse file means inflating all of it
        elif decl.mode is ReadMode.HEAD:
            data = reader.read_head(m, decl.size)
        else:
            data = reader.read_tail(m, decl.size)
        self.bytes_kept += len(data)
        self.put(path, decl.mode, data, decl.lines)

    def _check_hardlinks(self) -> None:
        for info, to in self._hardlinks:
            if self.entries.get(info.path) is not info:
                continue  # a later member replaced the link
            target = self.entries.get(to)
            if target is None or target.kind != FILE:
                self.unreadable.add(to)
                self.coverage.note(info.path, f"hard link to {to}, which the archive does not hold")
            else:
                info.size = target.size

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "location": self.location, "compression": self.compression}
