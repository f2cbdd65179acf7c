"""The server files a plan copies, read through the Snapshot in one declared pass."""

from __future__ import annotations

import fnmatch
import posixpath as P
from dataclasses import dataclass

from modernize.plan.model import Plan
from modernize.snapshot.base import FILE, NotYetRead, Snapshot
from modernize.snapshot.declarations import Declaration, whole

# an app's code may hold larger files than a config tree; still bounded
MAX_COPY_SIZE = 64 * 2**20


@dataclass(frozen=True)
class ServerFile:
    data: bytes
    mode: int  # permission bits, for the exec bit in the build context


@dataclass
class Collected:
    files: dict[str, ServerFile]
    missing: list[str]  # paths the plan names that the source does not have (findings, not errors)


def excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    """True when REL (relative to a copied directory) or any of its parts matches."""
    parts = rel.split("/")
    for pat in patterns:
        if "/" in pat:
            if rel == pat or rel.startswith(pat.rstrip("/") + "/"):
                return True
        elif any(fnmatch.fnmatchcase(part, pat) for part in parts):
            return True
    return False


def declarations(plan: Plan) -> list[Declaration]:
    """What generate reads: every copied file and directory (a directory whole,
    its excluded names never descended into)."""
    out: list[Declaration] = []
    for svc in plan.services:
        for f in svc.files:
            if f.secret:
                out.extend(whole(f.source))  # its .example is made from it, redacted
                continue
            simple = tuple(p for p in f.exclude if "/" not in p and not any(c in p for c in "*?["))
            out.extend(whole(f.source, max_size=MAX_COPY_SIZE))
            out.extend(whole(f.source.rstrip("/") + "/**", max_size=MAX_COPY_SIZE, exclude=simple))
    return out


def collect(plan: Plan, snap: Snapshot) -> Collected:
    """Read what the plan copies. Missing paths are reported, not fatal.

    First every wanted path is listed (metadata only), then a source that fetches
    ahead (a tarball) reads all that its earlier passes did not keep in ONE more
    pass, then the bytes are taken."""
    wanted, missing = copied_paths(plan, snap)
    return read_files(snap, wanted, missing)


def copied_paths(plan: Plan, snap: Snapshot, *, every_service: bool = False) -> tuple[list[str], list[str]]:
    """The regular files the plan copies (directories walked, exclusions applied), and
    the paths it names that the source lacks. EVERY_SERVICE: whatever each service's
    strategy (a capture keeps what any later plan may copy)."""
    wanted: list[str] = []
    missing: list[str] = []
    seen: set[str] = set()
    for svc in plan.services:
        if not every_service and (svc.strategy not in ("official", "distro") or svc.build_from):
            continue
        for f in svc.files:
            if f.source in seen or (f.secret and not snap.exists(f.source)):
                continue  # a secret file the snapshot lacks is the planner's finding already
            seen.add(f.source)
            if snap.stat(f.source) is None:
                missing.append(f.source)
            elif snap.is_dir(f.source):
                wanted.extend(_walk(snap, f.source, f.exclude))
            else:
                wanted.append(f.source)
    return sorted(set(wanted)), missing


def read_files(snap: Snapshot, wanted: list[str], missing: list[str]) -> Collected:
    """The bytes of WANTED, fetched in one more pass where the source fetches ahead."""
    missing = list(missing)
    asks = getattr(snap, "missing_contents", None)
    if asks is not None:
        requests = asks([Declaration(p, max_size=MAX_COPY_SIZE) for p in wanted])
        if requests:
            snap.fetch_more(requests)
    files: dict[str, ServerFile] = {}
    for path in wanted:
        _read(snap, path, files, missing)
    return Collected(files, sorted(set(missing)))


def _read(snap: Snapshot, path: str, files: dict[str, ServerFile], missing: list[str]) -> None:
    try:
        res = snap.read(path, Declaration(path, max_size=MAX_COPY_SIZE))
    except NotYetRead:
        missing.append(path)  # the extra pass could not fetch it (a damaged archive)
        return
    if not res.ok:
        missing.append(path)
        return
    mode = res.info.mode if res.info is not None else 0o644
    files[path] = ServerFile(res.data, mode & 0o7777)


def _walk(snap: Snapshot, top: str, exclude: tuple[str, ...]) -> list[str]:
    """The regular files below TOP that are not excluded (links and special files
    inside an app tree are left out)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in snap.walk(top):
        rel_dir = P.relpath(dirpath, top) if dirpath != top else ""
        dirnames[:] = [d for d in dirnames if not excluded(P.join(rel_dir, d) if rel_dir else d, exclude)]
        for name in filenames:
            rel = P.join(rel_dir, name) if rel_dir else name
            if excluded(rel, exclude):
                continue
            path = P.join(dirpath, name)
            st = snap.stat(path, follow=False)
            if st is not None and st.kind == FILE:
                out.append(path)
    return out
