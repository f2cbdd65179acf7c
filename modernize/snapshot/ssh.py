"""A live host over SSH: a few round trips whatever the number of files.

1. survey: one `sh -s` gives identity, processes, sockets, mounts, modules, units
   (the runtime facts) and every entry's metadata (the index);
2. fetch: one more gives the declared files, whole in one tar stream read by the
   same one-pass reader as a local tarball, heads and tails of large ones as frames;
3. a second-order batch (`fetch_more`) when a detector asks for files nobody declared.

Nothing is written on the host: the collector is read from standard input and its
output streams back. A dropped link or a silent host (the command timeout) is
retried a bounded number of times, on a new connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from modernize.errors import SourceError
from modernize.live.collector import fetch_script, survey_script
from modernize.live.connect import Connection, StreamLost
from modernize.live.frames import Survey, parse_survey
from modernize.live.runtime_facts import runtime_files, socket_note
from modernize.live.settings import Options
from modernize.snapshot import paths as P
from modernize.snapshot.base import DEFAULT_MAX_FILE_SIZE
from modernize.snapshot.declarations import Declaration, ReadMode
from modernize.snapshot.indexed import merge_requests
from modernize.snapshot.live import RUNTIME, LiveSnapshot
from modernize.snapshot.tarstream import TarFormatError, TarReader

STREAM_ATTEMPTS = 3  # one round trip, tried again on a new connection when the link drops


class Reply(Protocol):
    """One collector run: its standard output, then its exit status and standard error."""

    def read(self, fn: Callable[[BinaryIO], object]) -> object: ...
    def finish(self) -> tuple[int, bytes]: ...


class Link(Protocol):
    """What runs the collector on the host: an SSH connection, or a relay (relay.py)."""

    round_trips: int

    def open(self) -> None: ...
    def close(self) -> None: ...
    def run(self, script: bytes) -> Reply: ...


class SshSnapshot(LiveSnapshot):
    kind = "ssh"

    def __init__(
        self,
        link: Link,
        options: Options,
        *,
        where: str,
        location: str,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    ) -> None:
        super().__init__(location, max_file_size=max_file_size)
        self.where = where  # who we talk to, for messages
        self.options = options
        self.conn = link
        self.conn.open()
        self.retries = 0
        self.bytes_received = 0

    @property
    def round_trips(self) -> int:
        return self.conn.round_trips

    def close(self) -> None:
        self.conn.close()

    # -- round trips ---------------------------------------------------------------------
    def _round_trip(self, script: bytes, read: Callable[[BinaryIO], object]) -> tuple[object, int, bytes]:
        last: StreamLost | None = None
        for attempt in range(STREAM_ATTEMPTS):
            if attempt:
                self.retries += 1
                self.conn.close()
                self.conn.open()
            try:
                run = self.conn.run(script)
                result = run.read(read)
                status, err = run.finish()
                return result, status, err
            except StreamLost as exc:
                last = exc
        assert last is not None
        raise StreamLost(f"{last} (tried {STREAM_ATTEMPTS} times)")

    def _survey(self) -> Survey:
        where = self.where

        def read(f: BinaryIO) -> bytes:
            data = f.read()
            if not data.startswith(b"\x1eV"):
                return data  # judged below, with stderr at hand
            if b"\x1eL " not in data:
                raise StreamLost(f"{where}: the reply ended before the file listing (the connection dropped?)")
            return data

        data, status, err = self._round_trip(survey_script(), read)
        assert isinstance(data, bytes)
        self.bytes_received += len(data)
        if not data.startswith(b"\x1eV"):
            said = err.decode("utf-8", "replace").strip().splitlines()
            if self.options.sudo and any("sudo" in line and "not found" in line for line in said):
                raise SourceError(f"{where}: --sudo, but sudo is not installed on the host ({said[-1]})")
            if self.options.sudo and any("sudo" in line for line in said):
                raise SourceError(
                    f"{where}: sudo refused to run the collector without a password ({said[-1]}); "
                    "scan without --sudo (coverage then says what could not be read) "
                    "or allow `sudo -n sh` for this user"
                )
            raise SourceError(
                f"{where}: the collector did not run (exit {status}): {' / '.join(said[-3:]) or 'no output'}"
            )
        return parse_survey(data, where)

    def _fetch(self, wanted: dict[str, Declaration]) -> None:
        files, pieces = self.split_requests(wanted)
        if not files and not pieces:
            return
        self.passes += 1
        reply = FetchReply()

        def read(f: BinaryIO) -> None:
            nonlocal reply
            reply = FetchReply()  # a retry starts over
            read_fetch_reply(f, self.where, reply)

        self._round_trip(fetch_script(files, pieces), read)
        self.take_reply(reply, wanted)

    def take_reply(self, reply: FetchReply, wanted: dict[str, Declaration]) -> None:
        self.errors.extend(reply.errors)
        for path, (mode, data) in reply.got.items():
            self.bytes_received += len(data)
            self.put(path, mode, data, wanted[path].lines if path in wanted else "")
        self.denied.update(reply.denied)
        # asked, not denied, not sent: gone since the listing (or unreadable): do not ask again
        self.unreadable.update(p for p in wanted if p not in self.contents and p not in self.denied)

    # -- the Snapshot hooks --------------------------------------------------------------
    def prefetch(self, declarations: list[Declaration]) -> None:
        survey = self._survey()
        for err in survey.errors:
            self.errors.append(f"{self.where}: {err}")
        self.load_survey(survey, runtime_files(survey))
        # which tool listed the sockets: a host without ss is read another way, say so
        if (why := socket_note(survey)) is not None:
            self.coverage.note(f"{RUNTIME}/listening.jsonl", why)
        self.note_denied()
        try:
            self._fetch(self.plan(declarations))
        except StreamLost as exc:
            self._broken(exc)

    def fetch_more(self, requests: Iterable[Declaration]) -> None:
        wanted = merge_requests(requests)
        if not wanted:
            return
        if not self.complete:
            self.unreadable.update(wanted)
            return
        try:
            self._fetch(wanted)
        except StreamLost as exc:
            self.unreadable.update(wanted)
            self._broken(exc)

    def _broken(self, exc: StreamLost) -> None:
        self.complete = False
        self.errors.append(f"{exc}; the inventory covers what was read")

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "location": self.location}


def read_fetch_reply(f: BinaryIO, where: str, reply: FetchReply) -> None:
    """Read a fetch reply (B, G and D frames, then one tar stream) into REPLY."""
    if not f.readline().startswith(b"\x1eV"):
        raise StreamLost(f"{where}: the collector did not start")
    line = f.readline()
    while True:
        if not line:
            raise StreamLost(f"{where}: the reply ended early (the connection dropped?)")
        head = line[1:].rstrip(b"\n").decode("utf-8", "surrogateescape")
        tag, _, rest = head.partition(" ")
        line = b""
        if tag == "B":
            how, n_text, name = rest.split(" ", 2)
            n = int(n_text)
            data = f.read(n)
            if len(data) < n:
                raise StreamLost(f"{where}: the reply ended inside {name}")
            if (path := P.member_to_path(name)) is not None:
                reply.got[path] = (ReadMode(how), data)
        elif tag == "G":  # matching lines, up to the next frame
            kept = bytearray()
            while (line := f.readline()) and not line.startswith(b"\x1e"):
                kept += line
            if (path := P.member_to_path(rest)) is not None:
                reply.got[path] = (ReadMode.LINES, bytes(kept))
            continue
        elif tag == "D":
            if (path := P.member_to_path(rest)) is not None:
                reply.denied.add(path)
        elif tag == "T":
            if rest != "none":
                _read_tar(f, where, reply.got)
            return
        elif tag == "E":
            reply.errors.append(f"{where}: {rest}")
            return
        line = f.readline()


@dataclass
class FetchReply:
    got: dict[str, tuple[ReadMode, bytes]] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def _read_tar(f: BinaryIO, where: str, got: dict[str, tuple[ReadMode, bytes]]) -> None:
    reader = TarReader(f)
    try:
        for member in reader:
            if member.type != "file":
                continue
            path = P.member_to_path(member.name)
            if path is not None:
                got[path] = (ReadMode.WHOLE, reader.read_data(member))
    except TarFormatError as exc:
        raise StreamLost(f"{where}: the file stream broke off ({exc})") from exc


def open_ssh(
    url: str,
    options: Options,
    *,
    ssh_config: str | None = None,
    identity: str | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> SshSnapshot:
    """Connect to URL (`ssh://[user@]host[:port]` or a ~/.ssh/config alias in one) and check its host key."""
    from modernize.live.target import load_config, parse_url, resolve

    target = parse_url(url)
    endpoint = resolve(target, load_config(ssh_config), identity=identity)
    link = Connection(endpoint, options)
    return SshSnapshot(link, options, where=endpoint.url(), location=target.url(), max_file_size=max_file_size)
