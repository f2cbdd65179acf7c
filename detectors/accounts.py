"""Users, groups and sudo rules, from the server's own account files."""

from __future__ import annotations

import fnmatch

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, Group, SudoRule, User
from modernize.snapshot import ReadStatus, Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

NOLOGIN = ("nologin", "false", "sync", "halt", "shutdown")


def login_defs(text: str | None) -> tuple[int, int]:
    uid_min, uid_max = 1000, 60000
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "UID_MIN" and parts[1].isdigit():
            uid_min = int(parts[1])
        elif len(parts) >= 2 and parts[0] == "UID_MAX" and parts[1].isdigit():
            uid_max = int(parts[1])
    return uid_min, uid_max


class AccountsDetector(Detector):
    name = "accounts"
    tags = ("host",)
    reads = whole("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/login.defs", "/etc/sudoers", "/etc/sudoers.d/*")

    def detect(self, snap: Snapshot, found: Found) -> None:
        uid_min, uid_max = login_defs(snap.text("/etc/login.defs"))
        groups = self._groups(snap)
        locked = self._locked(snap, found)
        members: dict[str, list[str]] = {}
        for g in groups:
            for m in g.members:
                members.setdefault(m, []).append(g.name)
        gid_name = {g.gid: g.name for g in groups}
        text = snap.text("/etc/passwd") or ""
        for no, line in enumerate(text.splitlines(), 1):
            f = line.split(":")
            if len(f) < 7 or line.startswith(("#", "+", "-")) or not f[2].isdigit() or not f[3].isdigit():
                continue
            name, uid, gid, home, shell = f[0], int(f[2]), int(f[3]), f[5], f[6]
            human = uid_min <= uid <= uid_max and shell.rsplit("/", 1)[-1] not in NOLOGIN
            primary = gid_name.get(gid)
            found.add(
                User(
                    name=name,
                    uid=uid,
                    gid=gid,
                    home=home,
                    shell=shell,
                    human=human,
                    groups=tuple(sorted(set(members.get(name, [])) | ({primary} if primary else set()))),
                    locked=locked.get(name),
                    evidence=(
                        Evidence("config", "/etc/passwd", no, excerpt=f"{name}:x:{uid}:{gid}:...:{home}:{shell}"),
                    ),
                )
            )
        found.add(*groups)
        self._sudoers(snap, found, "/etc/sudoers", depth=0)

    @staticmethod
    def _groups(snap: Snapshot) -> list[Group]:
        out = []
        text = snap.text("/etc/group") or ""
        for no, line in enumerate(text.splitlines(), 1):
            f = line.split(":")
            if len(f) < 4 or not f[2].isdigit():
                continue
            mem = tuple(sorted(m for m in f[3].split(",") if m))
            out.append(Group(f[0], int(f[2]), mem, (Evidence("config", "/etc/group", no),)))
        return out

    @staticmethod
    def _locked(snap: Snapshot, found: Found) -> dict[str, bool]:
        res = snap.read("/etc/shadow")
        if res.status is ReadStatus.DENIED:
            found.finding(
                "info", "shadow-denied", "/etc/shadow is not readable: account lock state unknown", "/etc/shadow"
            )
        if not res.ok:
            return {}
        out = {}
        for line in res.data.decode("utf-8", "replace").splitlines():
            f = line.split(":")
            if len(f) >= 2:
                # only the lock state is kept; the hash itself is never read further
                out[f[0]] = f[1].startswith(("!", "*")) or f[1] == ""
        return out

    def _sudoers(self, snap: Snapshot, found: Found, path: str, depth: int) -> None:
        if depth > 8:
            return
        text = snap.text(path)
        if text is None:
            return
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            no = i + 1
            line = lines[i].strip()
            i += 1
            while line.endswith("\\") and i < len(lines):
                line = line[:-1] + " " + lines[i].strip()
                i += 1
            if line.startswith(("#include", "@include")):
                parts = line.split(None, 1)
                if len(parts) == 2:
                    kind, target = parts
                    if not target.startswith("/"):
                        target = P.join(P.parent(path), target)
                    if kind.endswith("includedir"):
                        for inc in sorted(snap.glob(target.rstrip("/") + "/*")):
                            name = inc.rsplit("/", 1)[1]
                            # sudo skips names with a dot or ending in ~
                            if "." in name or name.endswith("~"):
                                continue
                            self._sudoers(snap, found, inc, depth + 1)
                    else:
                        self._sudoers(snap, found, target, depth + 1)
                continue
            if not line or line.startswith("#") or line.startswith("Defaults"):
                continue
            if fnmatch.fnmatch(line.split()[0], "*_Alias"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2 or "=" not in parts[1]:
                continue
            found.add(
                SudoRule(
                    subject=parts[0],
                    rule=parts[1],
                    nopasswd="NOPASSWD" in parts[1],
                    evidence=(Evidence("config", path, no, excerpt=line),),
                )
            )
