"""`-o` for every command, checked before any work is done (DESIGN.md, "Exit codes and `-o`").

A single-file output (`scan -o`, `plan -o`) names a file, or an existing
directory that gets the default name inside it; `-o -` is stdout. A folder
output (`run`, `generate`, `report`) names a folder. Either way the path must
be writable now, not after a long scan, and must not be (or lie inside) what
the command reads: modernize never writes over the snapshot it inspects.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from modernize.errors import UserError


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def _refuse_sources(out: Path, option: str, sources: Iterable[str | None]) -> None:
    real_out = _real(out)
    for source in sources:
        if not source or source == "-" or not os.path.lexists(source):
            continue
        real_src = _real(source)
        if real_out == real_src:
            raise UserError(f"{option} {out}: that is the source {source}; modernize never writes over what it reads")
        if real_src.is_dir() and real_out.is_relative_to(real_src):
            raise UserError(
                f"{option} {out}: inside the source {source}; modernize never writes into the server it inspects"
            )


def _probe(directory: Path, option: str, shown: str) -> None:
    """Create and remove a file in DIRECTORY, the surest test that the output can be written
    (permissions, a read-only file system, ACLs, root squash all answer here)."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".modernize-probe-")
    except OSError as exc:
        raise UserError(f"{option} {shown}: cannot write in {directory} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(name)


def _check_parent(path: Path, option: str, shown: str) -> None:
    """PATH's folder exists and takes a new file, or can be made in its nearest existing ancestor."""
    parent = path.parent
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        if ancestor.is_symlink():  # a dangling link where a folder should be
            raise UserError(f"{option} {shown}: {ancestor} is a broken symbolic link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"{option} {shown}: {ancestor} is not a directory")
    if ancestor == parent:
        _probe(parent, option, shown)
    elif not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"{option} {shown}: cannot create folders in {ancestor} (permission denied)")


def single_file(output: str, default_name: str, sources: Iterable[str | None] = ()) -> Path | None:
    """The file a one-result command writes (None for stdout), checked: an existing
    directory gets DEFAULT_NAME inside it."""
    if output == "-":
        return None
    if not output.strip():
        raise UserError("-o '': give a file name, a directory, or '-' for stdout")
    path = Path(output)
    if path.is_dir():
        path = path / default_name
    if path.is_dir():
        raise UserError(f"-o {output}: {path} is a directory")
    _refuse_sources(path, "-o", sources)
    _check_parent(path, "-o", output)
    return path


def folder(output: str, sources: Iterable[str | None] = ()) -> Path:
    """The folder a many-result command writes into, checked."""
    if output == "-":
        raise UserError("-o -: this command writes a folder of files; name a folder")
    if not output.strip():
        raise UserError("-o '': name the output folder")
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise UserError(f"-o {output}: exists and is not a directory")
    _refuse_sources(path, "-o", sources)
    if path.is_dir():
        _probe(path, "-o", output)
    else:
        _check_parent(path, "-o", output)
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace PATH with DATA in one step; no temporary file is left behind, whatever happens."""
    write_atomic_with(path, lambda f: f.write(data), 0o666 & ~_umask())


def write_atomic_with(path: Path, body: Callable[[BinaryIO], object], mode: int) -> None:
    """Replace PATH with what BODY writes, with MODE, in one step: never half a file, and
    no temporary file left behind, whatever happens."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            body(f)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
