"""Where a Debian package came from, from apt's and dpkg's own records.

- apt's package lists (`/var/lib/apt/lists/*_Packages`, one per source, suite, component
  and architecture, named by apt's URItoFileName: the URI without its scheme and
  credentials, `/` -> `_`): the name and versions each configured source offers. A
  package no list has is what `apt list --installed` calls `[installed,local]`.
- `/var/log/dpkg.log*`: `DATE TIME install|upgrade NAME:ARCH OLD NEW` lines, one per
  package dpkg unpacked, whoever ran it.
- `/var/log/apt/history.log*`: stanzas `Start-Date:`, `Commandline:`, `Install:`/
  `Upgrade:`/`Reinstall:`/`Downgrade:` `NAME:ARCH (VERSION[, automatic])`, `End-Date:`:
  every apt run. A dpkg install at a moment no apt run covers, within the period the
  history covers, was `dpkg -i FILE.deb`.

What cannot be told is said: lists cleaned and no logs -> unknown (None), never a guess.
"""

from __future__ import annotations

import gzip
import lzma
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

LISTS = "/var/lib/apt/lists"
_FIELD = re.compile(rb"^(Package|Version): *(\S+)[ \t]*$", re.M)
_DPKG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (install|upgrade) (\S+) (\S+) (\S+)\s*$")
_HIST_PKG = re.compile(r"([^\s,():]+)(?::[^\s,()]+)? \(([^)]*)\)")
SLACK = timedelta(minutes=2)  # dpkg's and apt's clocks are one clock, but a run's lines straddle seconds


def decompress(path: str, data: bytes) -> bytes | None:
    """A rotated log or a list as stored (.gz, .xz or plain); None when it cannot be read."""
    try:
        if path.endswith(".gz"):
            return gzip.decompress(data)
        if path.endswith(".xz"):
            return lzma.decompress(data)
    except (OSError, EOFError, lzma.LZMAError):
        return None
    if path.endswith((".lz4", ".zst", ".bz2")):
        return None  # apt's compressed indexes (Acquire::GzipIndexes and the like): not read
    return data


def list_prefix(uri: str) -> str:
    """apt's file-name prefix for a source URI: `http://deb.debian.org/debian` ->
    `deb.debian.org_debian_` (URItoFileName: scheme and credentials dropped, `_` and
    other specials %-quoted, `/` -> `_`)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    rest = (host + parts.path).rstrip("/")
    quoted = quote(rest, safe="/:~.-+").replace("_", "%5f")
    return quoted.replace("/", "_") + "_"


def offers(data: bytes) -> dict[str, set[str]]:
    """name -> versions in one Packages list (its Package and Version fields only)."""
    out: dict[str, set[str]] = {}
    name: bytes | None = None
    for m in _FIELD.finditer(data):
        if m.group(1) == b"Package":
            name = m.group(2)
        elif name is not None:
            out.setdefault(name.decode("utf-8", "replace"), set()).add(m.group(2).decode("utf-8", "replace"))
            name = None
    return out


@dataclass
class DpkgEvent:
    when: datetime
    name: str
    version: str
    path: str
    line: int
    text: str


@dataclass
class AptRun:
    start: datetime
    end: datetime | None
    commandline: str
    path: str
    line: int
    packages: dict[str, set[str]] = field(default_factory=dict)  # name -> versions it installed


def dpkg_events(path: str, text: str) -> list[DpkgEvent]:
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        m = _DPKG_LINE.match(line)
        if not m:
            continue
        try:
            when = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
        out.append(DpkgEvent(when, m.group(3).split(":")[0], m.group(5), path, no, line.strip()))
    return out


def _when(value: str) -> datetime | None:
    try:
        return datetime.strptime(" ".join(value.split()), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def apt_runs(path: str, text: str) -> list[AptRun]:
    runs: list[AptRun] = []
    cur: AptRun | None = None
    for no, line in enumerate(text.splitlines(), 1):
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        if key == "Start-Date":
            start = _when(value)
            cur = AptRun(start, None, "", path, no) if start else None
            if cur:
                runs.append(cur)
        elif cur is None:
            continue
        elif key == "End-Date":
            cur.end = _when(value)
        elif key == "Commandline":
            cur.commandline = value.strip()
        elif key in ("Install", "Upgrade", "Reinstall", "Downgrade"):
            for name, versions in _HIST_PKG.findall(value):
                # Upgrade: NAME (OLD, NEW); Install: NAME (NEW[, automatic])
                vs = [v.strip() for v in versions.split(",") if v.strip() and v.strip() != "automatic"]
                if vs:
                    cur.packages.setdefault(name, set()).add(vs[-1])
    return runs


def from_file(run: AptRun, name: str) -> bool:
    """The apt run was given a .deb file for this package (`apt install ./x.deb`)."""
    return any(w.endswith(".deb") and w.rsplit("/", 1)[-1].startswith(f"{name}_") for w in run.commandline.split())


def installed_by_hand(
    name: str, version: str, events: Iterable[DpkgEvent], runs: list[AptRun]
) -> tuple[str | None, DpkgEvent | AptRun | None]:
    """('local', the record) when the installed version was unpacked by dpkg with no apt run
    around it (inside the period apt's history covers), or by apt from a .deb file;
    ('apt', the run) when an apt run from its sources installed it; (None, None) when the
    logs do not tell (rotated away, or before apt's history begins)."""
    last = None
    for ev in events:
        if ev.name == name and ev.version == version and (last is None or ev.when >= last.when):
            last = ev
    if last is None or not runs:
        return None, None
    if last.when < min(r.start for r in runs) - SLACK:
        return None, None  # before the oldest history kept: cannot be told
    for run in runs:
        end = run.end or run.start
        if run.start - SLACK <= last.when <= end + SLACK and name in run.packages:
            return ("local", run) if from_file(run, name) else ("apt", run)
    return "local", last
