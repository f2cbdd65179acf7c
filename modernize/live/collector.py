"""The collector: one POSIX sh script, run on the host from standard input.

`survey_script()` sends back who we are, processes, sockets, mounts, modules,
units and the metadata of every file; `fetch_script()` sends back the files the
detectors want, whole in one tar stream and as heads or tails of large ones.
The script body is `collector.sh`; only the lists of paths are written into it
here (as quoted here-documents: nothing in a path is ever run). It is the same
script `modernize collector` prints, so there is one collector, not two.
"""

from __future__ import annotations

import shlex
from importlib import resources

LIST_END = "MZ_LIST_END"


def library() -> str:
    return resources.files("modernize.live").joinpath("collector.sh").read_text(encoding="utf-8")


def _script(main: str, *, root: str | None = None, extra: str = "") -> bytes:
    head = "#!/bin/sh\n"
    if root is not None:
        head += f"MZ_ROOT={shlex.quote(root)}\n"
    # main runs with /dev/null as stdin: the rest of the script is stdin, nothing may eat it
    return (head + library() + extra + f"mz_main() {{\n  {main}\n}}\n" + _CALL.decode()).encode(
        "utf-8", "surrogateescape"
    )


_CALL = b"mz_main </dev/null\n"
_CALL_ENCODED = b"mz_main </dev/null 2>/dev/null | mz_encode\n"


def for_relay(script: bytes) -> bytes:
    """SCRIPT with its output encoded as text between marker lines (see mz_encode), for a
    relay whose channel carries text only and may mix standard error in (Ansible's script
    module over a terminal)."""
    if not script.endswith(_CALL):
        raise ValueError("not a collector script")
    return script[: -len(_CALL)] + _CALL_ENCODED


def survey_script(root: str | None = None) -> bytes:
    return _script("mz_survey", root=root)


def _relative(path: str) -> str:
    return "." + path if path != "/" else "."


def sendable(path: str) -> bool:
    """A path that fits one line of a here-document (a newline in a name cannot)."""
    return "\n" not in path and "\r" not in path


def _heredoc(name: str, lines: list[str]) -> str:
    body = "".join(line + "\n" for line in lines)
    return f"{name}() {{\ncat <<'{LIST_END}'\n{body}{LIST_END}\n}}\n"


def fetch_script(files: list[str], pieces: list[tuple[str, str, str]], root: str | None = None) -> bytes:
    """FILES whole (one tar), PIECES as (head|tail, bytes, path) or (lines, filter, path);
    paths are absolute, as the host sees them. A filter holds no blank (see Declaration)."""
    extra = _heredoc("mz_files", [_relative(p) for p in files if sendable(p)])
    extra += _heredoc("mz_pieces", [f"{how} {n} {_relative(p)}" for how, n, p in pieces if sendable(p)])
    return _script("mz_fetch", root=root, extra=extra)
