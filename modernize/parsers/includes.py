"""Following a config file's includes: each file read once, loops and runaway
include trees cut off."""

from __future__ import annotations

from modernize.snapshot import Snapshot

MAX_FILES = 100


def read_once(snap: Snapshot, path: str, seen: set[str], files: list[str], limit: int = MAX_FILES) -> str | None:
    """The text of `path` the first time it is met (recorded in `files`), else None:
    a file already read (an include loop) or past `limit` files is not read again."""
    if path in seen or len(seen) > limit:
        return None
    seen.add(path)
    text = snap.text(path)
    if text is None:
        return None
    files.append(path)
    return text
