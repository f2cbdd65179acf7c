"""What a scan read, as it read it: the record `modernize capture` saves in a bundle.

A snapshot with a log attached (`snap.log = ReadLog()`) notes every read that
reached the source: the bytes (a whole file, or the longest head and tail asked
for), and the reads the source refused (denied) or failed. A bundle replays the
same answers offline, so the same detectors give the same inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modernize.snapshot.declarations import ReadMode


@dataclass
class ReadLog:
    whole: dict[str, bytes] = field(default_factory=dict)  # canonical path -> the file
    pieces: dict[tuple[str, ReadMode], bytes] = field(default_factory=dict)  # the longest head / tail read
    lines: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # canonical path -> (filter, lines kept)
    denied: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # canonical path -> ReadStatus value

    def keep(self, cpath: str, mode: ReadMode, data: bytes, size: int, lines: str = "") -> None:
        self.failed.pop(cpath, None)
        if mode is ReadMode.LINES:
            if cpath not in self.whole:
                self.lines[cpath] = (lines, data)
            return
        if mode is ReadMode.WHOLE or len(data) >= size:
            self.whole.setdefault(cpath, data)
            return
        if cpath in self.whole:
            return
        have = self.pieces.get((cpath, mode))
        if have is None or len(data) > len(have):
            self.pieces[(cpath, mode)] = data

    def refuse(self, cpath: str) -> None:
        self.denied.add(cpath)

    def fail(self, cpath: str, status: str) -> None:
        if cpath not in self.whole:
            self.failed[cpath] = status

    @property
    def bytes_kept(self) -> int:
        kept = sum(map(len, self.whole.values())) + sum(map(len, self.pieces.values()))
        return kept + sum(len(data) for _, data in self.lines.values())
