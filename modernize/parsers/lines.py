"""Numbered, comment-stripped lines: the common ground of many config formats."""

from __future__ import annotations

from collections.abc import Iterator


def numbered(text: str, comments: str = "#", *, continuation: bool = False) -> Iterator[tuple[int, str]]:
    """Yield (line number, stripped line) for non-blank, non-comment lines.
    With `continuation`, a trailing backslash joins the next line (numbered as the first)."""
    pending = ""
    start = 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line[0] in comments):
            continue
        if continuation and line.endswith("\\"):
            if not pending:
                start = no
            pending += line[:-1] + " "
            continue
        if pending:
            line, no, pending = pending + line, start, ""
        yield no, line
    if pending:
        yield start, pending.strip()
