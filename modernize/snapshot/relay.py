"""Collecting through a relay: someone else runs the collector on the host, round by round.

For teams that cannot hand out SSH logins but run Ansible (docs/ansible/). modernize
stays on the controller and decides each round exactly as an SSH scan does (the survey,
the declared files, the second-order reads, the files a plan copies): the relay only
carries scripts to the host and their output back, as files in one folder:

    round-1.sh   written by `modernize collector --relay DIR`: run it on the host
    round-1.out  what it printed (base64 between marker lines: text-only channels are fine)
    round-2.sh   written by the next call, which replays round 1 from its .out; and so on

A call replays every round whose output is there and stops at the first that is not
(exit 10, "run DIR/round-N.sh"); when none is missing it writes the capture bundle.
The replay is deterministic: a saved round whose script this modernize would no longer
write (another version, other detectors) is refused rather than misread.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from modernize.errors import UserError
from modernize.live.collector import for_relay
from modernize.live.settings import Options
from modernize.snapshot.base import DEFAULT_MAX_FILE_SIZE
from modernize.snapshot.ssh import SshSnapshot

_MARKED = re.compile(rb"MZ-BEGIN (base64|hex)\r?\n(.*?)MZ-END", re.DOTALL)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_NOT_HEX = re.compile(rb"[^0-9a-fA-F]")


class NeedRound(Exception):
    """The relay has to run one more script on the host before the scan can go on."""

    def __init__(self, number: int, script: Path, output: Path) -> None:
        super().__init__(f"run {script} on the host and save what it prints as {output}")
        self.number = number
        self.script = script
        self.output = output


def decode_output(raw: bytes, name: str) -> bytes:
    """The collector's bytes from what a relay saved: the text between the markers, with
    whatever a terminal or the relay added around or inside it (CRs, a closing banner) left out."""
    m = _MARKED.search(raw)
    if m is None:
        first = raw.strip().split(b"\n", 1)[0][:200].decode("utf-8", "replace")
        raise UserError(
            f"{name}: no collector output in it (no MZ-BEGIN ... MZ-END); "
            f"did the script run on the host? It starts: {first or '(empty)'}"
        )
    kind, body = m.group(1), m.group(2)
    try:
        if kind == b"base64":
            return base64.b64decode(_NOT_BASE64.sub(b"", body), validate=True)
        return binascii.unhexlify(_NOT_HEX.sub(b"", body))
    except (binascii.Error, ValueError) as exc:
        raise UserError(f"{name}: the collector output is damaged ({exc}); run that round again") from exc


class _Saved:
    """A round's reply, read back from its .out file."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, fn: Callable[[BinaryIO], object]) -> object:
        return fn(io.BufferedReader(io.BytesIO(self.data)))  # type: ignore[arg-type]

    def finish(self) -> tuple[int, bytes]:
        return 0, b""


class Relay:
    """A Link (see ssh.py) over a folder of rounds instead of a connection."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.round_trips = 0

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def run(self, script: bytes) -> _Saved:
        self.round_trips += 1
        n = self.round_trips
        sh, out = self.folder / f"round-{n}.sh", self.folder / f"round-{n}.out"
        wrapped = for_relay(script)
        if out.exists():
            if not sh.exists() or sh.read_bytes() != wrapped:
                raise UserError(
                    f"{sh}: this modernize would send another script for round {n} than the one that ran "
                    "(another version or other detectors?); start again in an empty folder"
                )
            return _Saved(decode_output(out.read_bytes(), str(out)))
        tmp = sh.with_name(sh.name + ".tmp")
        tmp.write_bytes(wrapped)
        os.replace(tmp, sh)  # whole or not at all: a relay never runs half a script
        for later in self.folder.glob("round-*"):  # rounds past this one answered other questions
            number = later.name.split("-", 1)[1].split(".", 1)[0]
            if number.isdigit() and int(number) > n:
                later.unlink()
        raise NeedRound(n, sh, out)


class RelaySnapshot(SshSnapshot):
    kind = "relay"

    def __init__(self, folder: str, *, name: str = "", max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        path = Path(folder)
        if path.exists() and not path.is_dir():
            raise UserError(f"{folder}: not a folder (the relay's rounds live in one)")
        path.mkdir(parents=True, exist_ok=True)
        where = f"relay {name or path.name}"
        super().__init__(Relay(path), Options(), where=where, location=f"relay:{name or path.name}",
                         max_file_size=max_file_size)  # fmt: skip
