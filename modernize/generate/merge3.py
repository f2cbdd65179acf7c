"""A three-way merge of text files, line by line, as `git merge-file` does: the user's
edits (ours) and the generator's changes (theirs) against what was generated last time
(base). Where both changed the same lines the result gets standard conflict markers.

In Python rather than a call to git: the machine running modernize may have no git,
and the result must be the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

OURS_LABEL = "yours"
THEIRS_LABEL = "modernize"


@dataclass(frozen=True)
class Merged:
    text: str
    conflicts: int


def _matches(base: list[str], other: list[str]) -> dict[int, int]:
    """Base line index -> other line index, for the lines the two have in common."""
    found: dict[int, int] = {}
    for block in SequenceMatcher(None, base, other, autojunk=False).get_matching_blocks():
        for n in range(block.size):
            found[block.a + n] = block.b + n
    return found


def merge3(base: str, ours: str, theirs: str) -> Merged:
    b, o, t = base.splitlines(keepends=True), ours.splitlines(keepends=True), theirs.splitlines(keepends=True)
    in_ours, in_theirs = _matches(b, o), _matches(b, t)
    # lines unchanged on both sides, in order on both sides: the merge syncs on them
    syncs: list[tuple[int, int, int]] = []
    last_o = last_t = -1
    for i in sorted(set(in_ours) & set(in_theirs)):
        jo, jt = in_ours[i], in_theirs[i]
        if jo > last_o and jt > last_t:
            syncs.append((i, jo, jt))
            last_o, last_t = jo, jt
    syncs.append((len(b), len(o), len(t)))
    out: list[str] = []
    conflicts = 0
    i = j = k = 0
    for s, so, st in syncs:
        cb, co, ct = b[i:s], o[j:so], t[k:st]
        if co == cb:
            out += ct
        elif ct == cb or co == ct:
            out += co
        else:
            conflicts += 1
            out += [f"<<<<<<< {OURS_LABEL}\n", *_ended(co), "=======\n", *_ended(ct), f">>>>>>> {THEIRS_LABEL}\n"]
        if s < len(b):
            out.append(b[s])
        i, j, k = s + 1, so + 1, st + 1
    return Merged("".join(out), conflicts)


def _ended(lines: list[str]) -> list[str]:
    """A side's lines, the last one ending in a newline (else the marker joins it)."""
    if lines and not lines[-1].endswith("\n"):
        return [*lines[:-1], lines[-1] + "\n"]
    return lines


def is_text(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
