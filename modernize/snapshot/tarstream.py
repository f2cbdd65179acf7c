"""A sequential tar reader that parses headers itself over large decompressed buffers.

Why not `tarfile`: in stream mode it copies every skipped byte through Python
objects, which costs about as much again as the inflate itself on a server
tarball (see shared notes). Here data we do not want is skipped by offset
arithmetic inside the buffers the decompressor hands us.

Handles ustar, GNU (long names `L`, long links `K`, old sparse `S`), PAX
(`x`/`g`: path, linkpath, size, uid, gid, mtime, GNU.sparse.* 0.0/0.1/1.0),
base-256 numbers, and hard links. Never writes anything anywhere.

Plain headers (most of a server's members) go through a compiled fast path,
`_tarscan.scan`, a whole buffer at a time, where pip could build it; the parser
here is the reference it must agree with (tests/test_tarscan.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from modernize.snapshot import _tarscan

Chunk = bytes | bytearray | memoryview  # what a stream's read() hands over
ScanFn = Callable[[Chunk, int], "list[_tarscan.Member]"]


def _compiled_scan() -> ScanFn | None:
    """The compiled fast path for plain headers, if pip built it (it needs a C
    compiler at install time). MODERNIZE_NO_TARSCAN=1 leaves the pure-Python
    parser alone: to compare the two, or to rule the fast path out."""
    if os.environ.get("MODERNIZE_NO_TARSCAN"):
        return None
    try:
        from modernize.snapshot._tarscan import scan
    except ImportError:  # pragma: no cover - the tests run both paths by switching it off
        return None
    return scan


_scan = _compiled_scan()

BLOCK = 512
CHUNK = 4 * 1024 * 1024
_ZERO = bytes(BLOCK)


class TarFormatError(Exception):
    """The stream is not a tar archive, or is damaged."""


class Truncated(TarFormatError):
    """The stream ended inside the archive."""


@dataclass(slots=True)
class Member:
    name: str
    type: str  # "file", "hardlink", "symlink", "dir", "char", "block", "fifo", "other"
    size: int  # bytes stored in the archive for this member
    mode: int
    uid: int
    gid: int
    mtime: float
    linkname: str = ""
    realsize: int = -1  # sparse members: the file's logical size
    sparse: list[tuple[int, int]] | None = None  # (offset, numbytes) map
    sparse_map_in_data: bool = False  # PAX sparse 1.0 keeps the map at the start of the data

    @property
    def logical_size(self) -> int:
        return self.realsize if self.realsize >= 0 else self.size


_TYPES = {
    "0": "file",
    "\0": "file",
    "7": "file",
    "1": "hardlink",
    "2": "symlink",
    "3": "char",
    "4": "block",
    "5": "dir",
    "6": "fifo",
    "S": "file",
}


_DATA_TYPES = frozenset("0\0" + "7S")
_LINK_TYPES = frozenset("12")


def _str(raw: bytes) -> str:
    end = raw.find(b"\0")
    if end >= 0:
        raw = raw[:end]
    return raw.decode("utf-8", "surrogateescape")


def _num(raw: bytes) -> int:
    if raw and raw[0] & 0x80:  # base-256 (GNU) for large values
        value = raw[0] & 0x3F
        for b in raw[1:]:
            value = (value << 8) | b
        return -value if raw[0] & 0x40 else value
    try:
        return int(raw.rstrip(b"\0 ") or b"0", 8)  # the common case: "0000644\0"
    except ValueError:
        pass
    text = raw.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError as exc:
        raise TarFormatError(f"bad number field {raw!r}") from exc


def _checksum_ok(block: bytes) -> bool:
    stored = block[148:156]
    try:
        want = _num(stored)
    except TarFormatError:
        return False
    unsigned = sum(block) - sum(stored) + 8 * 32
    if unsigned == want:
        return True
    signed = unsigned - sum(256 for b in block if b > 127) + sum(256 for b in stored if b > 127)
    return signed == want


def _pax_number(pax: dict[str, str], key: str, name: str, kind: Callable[[str], Any] = int) -> Any:
    try:
        return kind(pax[key])
    except ValueError:
        raise TarFormatError(f"corrupt PAX header for member {name!r}: {key}={pax[key]!r}") from None


def _parse_pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    n = len(data)
    sparse_pairs: list[str] = []
    while pos < n:
        sp = data.find(b" ", pos)
        if sp < 0:
            break
        try:
            length = int(data[pos:sp])
        except ValueError:
            break
        if length <= 0:
            break
        rec = data[sp + 1 : pos + length - 1]
        key, _, value = rec.partition(b"=")
        k = key.decode("utf-8", "surrogateescape")
        v = value.decode("utf-8", "surrogateescape")
        if k in ("GNU.sparse.offset", "GNU.sparse.numbytes"):
            sparse_pairs.append(v)  # PAX sparse 0.0 repeats these keys
        out[k] = v
        pos += length
    if sparse_pairs and "GNU.sparse.map" not in out:
        out["GNU.sparse.map"] = ",".join(sparse_pairs)
    return out


class TarReader:
    """Iterate members; for each, call at most one of `read_data`, `read_head` or
    `read_tail` before asking for the next (data left unread is skipped)."""

    def __init__(self, stream: BinaryIO, *, on_read: Callable[[int], None] | None = None, fast: bool = True) -> None:
        self._f = stream
        self._scan = _scan if fast else None
        # An inflating helper hands chunks over (bytearrays, or views of a ring it
        # shares with a child process) that it fills again once the reader is done
        # with them (`recycle`): memory reused costs no page faults. Everything
        # handed on from here is a copy, so nothing points into a recycled chunk.
        self._recycle: Callable[[Any], None] | None = getattr(stream, "recycle", None)
        self._buf: Chunk = b""
        self._pos = 0
        self._pending = 0  # padded data bytes of the current member still unconsumed
        self._on_read = on_read
        self.offset = 0  # decompressed bytes consumed so far
        self.last_name = ""
        self.members_seen = 0

    # -- buffer ---------------------------------------------------------------
    def _more(self, want: int) -> Chunk:
        chunk = self._f.read(max(CHUNK, want))
        if chunk and self._on_read is not None:
            self._on_read(len(chunk))
        return chunk

    def _done_with(self, chunk: Chunk) -> None:
        if self._recycle is not None and type(chunk) is not bytes:
            self._recycle(chunk)

    def _take(self, n: int) -> bytes:
        end = self._pos + n
        buf = self._buf
        if end <= len(buf):
            out = buf[self._pos : end] if type(buf) is bytes else bytes(memoryview(buf)[self._pos : end])
            self._pos = end
            self.offset += n
            return out
        # the bytes wanted run into the next chunk(s): copy just those, and keep
        # reading the last chunk in place (not a join of whole 8 MB chunks)
        parts = [buf[self._pos :]]
        have = len(parts[0])
        done = [buf]
        while True:
            chunk = self._more(n - have)
            if not chunk:
                raise Truncated(f"archive ends inside member {self.last_name!r}")
            need = n - have
            if len(chunk) >= need:
                parts.append(chunk[:need])
                self._buf, self._pos = chunk, need
                break
            parts.append(chunk)
            done.append(chunk)
            have += len(chunk)
        self.offset += n
        out = b"".join(parts)
        for old in done:
            self._done_with(old)
        return out

    def _skip(self, n: int) -> None:
        avail = len(self._buf) - self._pos
        self.offset += n
        if n <= avail:
            self._pos += n
            return
        n -= avail
        self._done_with(self._buf)
        self._buf = b""
        self._pos = 0
        while n > 0:
            chunk = self._more(CHUNK)
            if not chunk:
                raise Truncated(f"archive ends inside member {self.last_name!r}")
            if len(chunk) > n:
                self._buf = chunk
                self._pos = n
                return
            n -= len(chunk)
            self._done_with(chunk)

    @staticmethod
    def _padded(n: int) -> int:
        return (n + BLOCK - 1) // BLOCK * BLOCK

    # -- members -----------------------------------------------------------------
    def __iter__(self) -> Iterator[Member]:
        return self.members()

    def members(self) -> Iterator[Member]:
        long_name: str | None = None
        long_link: str | None = None
        pax: dict[str, str] = {}
        global_pax: dict[str, str] = {}
        first = True
        scan = self._scan
        while True:
            start = self._pos + self._pending
            if (
                scan is not None
                and start <= len(self._buf) - BLOCK
                and not (first or global_pax or pax)
                and long_name is None
                and long_link is None
            ):
                # the compiled scanner takes every plain header whose data lies in this
                # buffer; the first one it leaves (PAX, long names, sparse, odd numbers,
                # the end, the buffer's edge) is parsed below
                batch = scan(self._buf, start)
                if batch:
                    base = self.offset - self._pos
                    for name, kind, size, mode, uid, gid, mtime, linkname, data_at, padded in batch:
                        self._pos = data_at
                        self._pending = padded
                        self.offset = base + data_at
                        self.last_name = name
                        self.members_seen += 1
                        yield Member(name, kind, size, mode, uid, gid, mtime, linkname)
            pending, pos = self._pending, self._pos
            # the common cases inline (a call per member adds up over a whole server):
            # the skipped data and the next header both lie in the current buffer
            if pos + pending + BLOCK <= len(self._buf):
                pos += pending
                block = self._buf[pos : pos + BLOCK]
                if type(block) is not bytes:
                    block = bytes(block)
                self._pos = pos + BLOCK
                self.offset += pending + BLOCK
                self._pending = 0
            else:
                if pending:
                    self._skip(pending)
                    self._pending = 0
                try:
                    block = self._take(BLOCK)
                except Truncated:
                    if first:
                        raise TarFormatError("empty stream: not a tar archive") from None
                    raise
            if block == _ZERO:
                return  # end of archive (the second zero block need not be read)
            # The checksum is verified on the first header and on any without the ustar
            # magic (v7 archives, or damage); later well-formed headers rely on the magic,
            # and malformed number fields still fail below.
            if (first or block[257:262] != b"ustar") and not _checksum_ok(block):
                if first:
                    raise TarFormatError("not a tar archive (bad header checksum)")
                raise TarFormatError(f"corrupt header after member {self.last_name!r}")
            first = False
            tflag = chr(block[156])
            try:  # the common case inline: octal digits then NUL (a call per field adds up)
                size = int(block[124:135], 8)
            except ValueError:
                size = _num(block[124:136])
                if size < 0:  # base-256 allows it; a size cannot be
                    raise TarFormatError(f"corrupt header (negative size) after member {self.last_name!r}") from None
            if tflag in ("L", "K", "x", "g"):
                data = self._take(self._padded(size))[:size]
                if tflag == "L":
                    long_name = _str(data)
                elif tflag == "K":
                    long_link = _str(data)
                elif tflag == "x":
                    pax = _parse_pax(data)
                else:
                    global_pax.update(_parse_pax(data))
                continue
            raw = block[0:100]  # _str inlined: this runs for every member
            end = raw.find(b"\0")
            name = (raw[:end] if end >= 0 else raw).decode("utf-8", "surrogateescape")
            magic = block[257:263]
            if magic == b"ustar\x00":  # POSIX ustar: a prefix field precedes the name
                prefix = _str(block[345:500])
                if prefix:
                    name = prefix + "/" + name
            merged = {**global_pax, **pax} if global_pax else pax
            if long_name is not None:
                name = long_name
            if "path" in merged:
                name = merged["path"]
            if long_link is not None:
                linkname = long_link
            elif tflag in _LINK_TYPES:
                linkname = _str(block[157:257])
            else:
                linkname = ""
            if "linkpath" in merged:
                linkname = merged["linkpath"]
            if "size" in merged:
                size = _pax_number(merged, "size", name)
                if size < 0:
                    raise TarFormatError(f"corrupt PAX header (negative size) for member {name!r}")
            try:
                mtime = float(int(block[136:147], 8))
                uid = int(block[108:115], 8)
                gid = int(block[116:123], 8)
                mode = int(block[100:107], 8) & 0o7777
            except ValueError:
                mtime = float(_num(block[136:148]))
                uid = _num(block[108:116])
                gid = _num(block[116:124])
                mode = _num(block[100:108]) & 0o7777
            if merged:
                if "mtime" in merged:
                    mtime = _pax_number(merged, "mtime", name, float)
                if "uid" in merged:
                    uid = _pax_number(merged, "uid", name)
                if "gid" in merged:
                    gid = _pax_number(merged, "gid", name)
            member = Member(name, _TYPES.get(tflag, "other"), size, mode, uid, gid, mtime, linkname)
            if tflag == "S":
                self._gnu_sparse(block, member)
            elif "GNU.sparse.realsize" in merged or "GNU.sparse.size" in merged:
                self._pax_sparse(merged, member)
            long_name = long_link = None
            pax = {}
            self.last_name = name
            self.members_seen += 1
            # As tarfile does: only regular files and unknown types carry data.
            if size and (tflag in _DATA_TYPES or tflag not in _TYPES):
                self._pending = (size + BLOCK - 1) // BLOCK * BLOCK
            yield member

    def _gnu_sparse(self, block: bytes, member: Member) -> None:
        entries = self._sparse_entries(block[386:482], 4)
        extended = block[482]
        while extended:
            ext = self._take(BLOCK)
            entries += self._sparse_entries(ext[0:504], 21)
            extended = ext[504]
        member.sparse = entries
        member.realsize = _num(block[483:495])

    @staticmethod
    def _sparse_entries(raw: bytes, count: int) -> list[tuple[int, int]]:
        out = []
        for i in range(count):
            off = raw[i * 24 : i * 24 + 12]
            num = raw[i * 24 + 12 : i * 24 + 24]
            if not off.strip(b"\0"):
                break
            out.append((_num(off), _num(num)))
        return out

    @staticmethod
    def _pax_sparse(pax: dict[str, str], member: Member) -> None:
        member.realsize = int(pax.get("GNU.sparse.realsize", pax.get("GNU.sparse.size", "0")))
        if "GNU.sparse.name" in pax:
            member.name = pax["GNU.sparse.name"]
        if pax.get("GNU.sparse.major") == "1":
            member.sparse_map_in_data = True
            member.sparse = []
        elif "GNU.sparse.map" in pax:
            nums = [int(x) for x in pax["GNU.sparse.map"].split(",") if x]
            member.sparse = list(zip(nums[0::2], nums[1::2], strict=False))

    # -- data of the current member -------------------------------------------------
    def read_data(self, member: Member) -> bytes:
        padded, self._pending = self._pending, 0
        data = b""
        if padded:
            data = self._take(member.size)
            self._skip(padded - member.size)
        if member.sparse is not None:
            return self._unsparse(member, data)
        return data

    def read_head(self, member: Member, n: int) -> bytes:
        if member.sparse is not None:
            return self.read_data(member)[:n]
        padded, self._pending = self._pending, 0
        n = min(n, member.size)
        data = self._take(n)
        self._skip(padded - n)
        return data

    def read_tail(self, member: Member, n: int) -> bytes:
        if member.sparse is not None:
            data = self.read_data(member)
            return data[-n:] if n else b""
        padded, self._pending = self._pending, 0
        n = min(n, member.size)
        self._skip(member.size - n)
        data = self._take(n)
        self._skip(padded - member.size)
        return data

    @staticmethod
    def _unsparse(member: Member, data: bytes) -> bytes:
        entries = member.sparse or []
        if member.sparse_map_in_data:
            # decimal numbers, one per line: count, then offset/size pairs; padded to a block
            lines = data.split(b"\n")
            count = int(lines[0])
            nums = [int(x) for x in lines[1 : 1 + 2 * count]]
            header_len = sum(len(x) + 1 for x in lines[: 1 + 2 * count])
            data = data[TarReader._padded(header_len) :]
            entries = list(zip(nums[0::2], nums[1::2], strict=False))
        out = bytearray(member.realsize)
        pos = 0
        for off, num in entries:
            # a hostile map must not grow the file past its declared size
            num = max(0, min(num, member.realsize - off))
            if off < 0 or num == 0:
                continue
            out[off : off + num] = data[pos : pos + num].ljust(num, b"\0")
            pos += num
        return bytes(out)
