"""systemd units: what is installed, what is enabled, and how each is started.

Follows systemd's search path and precedence (/etc over /usr/local/lib over
/usr/lib, /lib), drop-ins (`NAME.d/*.conf`, template, dash-prefix and type-wide
ones, applied in file-name order as systemd does),
masking (a link to /dev/null), aliases, template instances enabled through
`*.wants/NAME@INSTANCE.service` links, and the reset meaning of an empty
`ExecStart=`. EnvironmentFile contents are read (a second-order read) so that
services get their settings; secret values never leave this module.
"""

from __future__ import annotations

from modernize.detector import Detector
from modernize.endpoints import classify_setting
from modernize.facts import Found
from modernize.model import EnvVar, Evidence, InitUnit, Secret
from modernize.parsers.shell import assignments
from modernize.parsers.systemd import UnitFile, environment, expand, parse_into, split_exec
from modernize.secrets import redact_argv
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

SEARCH_PATH = (
    "/etc/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)
TYPES = (".service", ".socket", ".timer")


def template_of(name: str) -> str | None:
    stem, _, suffix = name.rpartition(".")
    prefix, at, instance = stem.partition("@")
    return f"{prefix}@.{suffix}" if at and instance else None


def _search_dirs(snap: Snapshot) -> list[tuple[int, str]]:
    """The search directories the server has, with their rank (0 for /etc), each
    real directory once: on merged-/usr, /lib/systemd/system is /usr/lib's."""
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for rank, base in enumerate(SEARCH_PATH):
        real = snap.realpath(base)
        if real is not None and real not in seen:
            seen.add(real)
            out.append((rank, base))
    return out


def _dropin_names(name: str) -> list[str]:
    """The unit names whose `NAME.d` directories hold drop-ins for NAME, most
    specific first, as systemd walks them: the unit, its template, then the same
    for each dash prefix (`a-b-c.service`: `a-b-.service`, `a-.service`; an
    instance `a-b@x.service`: `a-b@.service`, `a-.service`, `a-@x.service`, `a-@.service`)."""
    out = [name]
    tmpl = template_of(name)
    if tmpl:
        out += _dropin_names(tmpl)
    stem, _, suffix = name.rpartition(".")
    prefix, _, instance = stem.partition("@")
    chopped = False
    while True:
        cut = prefix.rfind("-")
        if cut <= 0:
            return out  # no dash, or only a leading one
        if cut + 1 < len(prefix) or chopped:
            prefix = prefix[: cut + 1]
            break
        prefix, chopped = prefix[:cut], True  # a trailing dash: chop it once
    # a template's prefixes are plain units (`a-.service`); an instance's keep it
    return out + _dropin_names(f"{prefix}@{instance}.{suffix}" if instance else f"{prefix}.{suffix}")


class SystemdDetector(Detector):
    name = "systemd"
    tags = ("host", "init")
    reads = tuple(
        d
        for base in SEARCH_PATH
        for d in whole(f"{base}/*", f"{base}/*.d/*.conf", f"{base}/*.wants/*", f"{base}/*.requires/*")
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        dirs = _search_dirs(snap)
        files, masked = self._unit_files(snap, dirs)
        wanted = self._wanted(snap, dirs)
        names = set(files) | set(wanted) | masked
        confs = self._dropin_confs(snap, dirs)
        units: list[tuple[str, UnitFile, str | None]] = []
        for name in sorted(names):
            if not name.endswith(TYPES) or "@." in name:
                continue  # a template is not runnable until instantiated
            if name in masked:
                found.add(
                    InitUnit(
                        name,
                        "systemd",
                        name.rpartition(".")[2],
                        f"/etc/systemd/system/{name}",
                        False,
                        "masked",
                        evidence=(Evidence("symlink", f"/etc/systemd/system/{name}", detail="masked (-> /dev/null)"),),
                    )
                )
                continue
            path = files.get(name) or (files.get(template_of(name) or "") if template_of(name) else None)
            if path is None:
                continue  # a wants link to a unit that is not installed
            unit = UnitFile()
            text = snap.text(path)
            if text is None:
                continue
            parse_into(unit, text, path)
            for dropin in self._dropins(confs, name):
                dtext = snap.text(dropin)
                if dtext is not None:
                    parse_into(unit, dtext, dropin)
            if not (path.startswith("/etc/") or name in wanted or unit.has_install()):
                continue  # a static vendor unit nothing pulls in: the OS's own internals
            units.append((name, unit, path))
        env_files = sorted(
            {
                expand(s.value, n).lstrip("-")
                for n, u, _ in units
                for s in u.values(self._exec_section(n), "EnvironmentFile")
            }
        )
        snap.want(f for f in env_files if f.startswith("/"))
        for name, unit, path in units:
            found.add(self._unit(snap, name, unit, path or "", wanted.get(name)))

    @staticmethod
    def _exec_section(name: str) -> str:
        return name.rpartition(".")[2].capitalize()

    def _unit_files(self, snap: Snapshot, dirs: list[tuple[int, str]]) -> tuple[dict[str, str], set[str]]:
        files: dict[str, str] = {}
        masked: set[str] = set()
        self._aliases: dict[str, set[str]] = {}
        for _rank, base in dirs:
            for path in snap.glob(f"{base}/*"):
                name = path.rsplit("/", 1)[1]
                if not name.endswith(TYPES) or name in files or name in masked:
                    continue
                link = snap.readlink(path)
                if link is not None:
                    if link == "/dev/null":
                        masked.add(name)
                        continue
                    target = snap.realpath(path)
                    if target is None:
                        continue
                    tname = target.rsplit("/", 1)[1]
                    if tname != name:
                        # an Alias= link: the same unit under another name
                        self._aliases.setdefault(tname, set()).add(name)
                        continue
                if snap.is_file(path):
                    files[name] = path
        return files, masked

    @staticmethod
    def _wanted(snap: Snapshot, dirs: list[tuple[int, str]]) -> dict[str, list[tuple[str, str]]]:
        """unit name -> [(target, link path)] for every .wants/.requires link."""
        out: dict[str, list[tuple[str, str]]] = {}
        for _rank, base in dirs:
            for pattern in (f"{base}/*.wants/*", f"{base}/*.requires/*"):
                for link in snap.glob(pattern):
                    target_dir = P.parent(link).rsplit("/", 1)[1].rsplit(".", 1)[0]
                    out.setdefault(link.rsplit("/", 1)[1], []).append((target_dir, link))
        return out

    @staticmethod
    def _dropin_confs(snap: Snapshot, dirs: list[tuple[int, str]]) -> dict[str, list[tuple[int, str]]]:
        """Drop-in directory name (`foo.service.d`) -> (rank of its search directory,
        0 for /etc, and the `*.conf` path) for each file: one glob per search
        directory, not several per unit."""
        out: dict[str, list[tuple[int, str]]] = {}
        for rank, base in dirs:
            for path in snap.glob(f"{base}/*.d/*.conf"):
                out.setdefault(P.parent(path).rsplit("/", 1)[1], []).append((rank, path))
        return out

    @staticmethod
    def _dropins(confs: dict[str, list[tuple[int, str]]], name: str) -> list[str]:
        """The drop-ins of a unit in the order systemd applies them: by file name,
        whatever directory holds them. Of two files with one name, the one systemd
        lists first wins: its own, template and dash-prefix directories (`foo-.service.d`)
        in every search directory, /etc first, then the type's (`service.d`)."""
        suffix = name.rpartition(".")[2]
        dirs = [f"{d}.d" for d in dict.fromkeys(_dropin_names(name))]
        chosen: dict[str, tuple[tuple[int, int, int], str]] = {}
        for level, d in enumerate([*dirs, f"{suffix}.d"]):
            type_wide = int(level == len(dirs))
            for rank, path in confs.get(d, ()):
                fname = path.rsplit("/", 1)[1]
                key = (type_wide, rank, level)
                have = chosen.get(fname)
                if have is None or key < have[0]:
                    chosen[fname] = (key, path)
        return [chosen[f][1] for f in sorted(chosen)]

    def _unit(
        self,
        snap: Snapshot,
        name: str,
        unit: UnitFile,
        path: str,
        wanted: list[tuple[str, str]] | None,
    ) -> InitUnit:
        kind = name.rpartition(".")[2]
        section = self._exec_section(name)

        def ex(value: str) -> str:
            return expand(value, name)

        exec_start = tuple(redact_argv(split_exec(ex(s.value))) for s in unit.values(section, "ExecStart"))
        env: list[EnvVar] = []
        secrets: list[Secret] = []
        for s in unit.values(section, "Environment"):
            for k, v in environment(ex(s.value)):
                var, sec = classify_setting(k, v, s.path, s.line, kind="unit")
                env.append(var)
                if sec:
                    secrets.append(sec)
        env_files = []
        for s in unit.values(section, "EnvironmentFile"):
            f = ex(s.value)
            f = f.lstrip("-")  # "-" only makes a missing file not an error
            env_files.append(f)
            text = snap.text(f)
            if text is None:
                continue
            for no, k, v in assignments(text):
                var, sec = classify_setting(k, v, f, no)
                env.append(var)
                if sec:
                    secrets.append(sec)
        if wanted:
            state, enabled = (
                ("enabled", True)
                if any(link.startswith("/etc/") for _, link in wanted)
                else (
                    "static",
                    True,
                )
            )
        elif not unit.has_install():
            state, enabled = "static", None
        else:
            state, enabled = "disabled", False
        start = unit.get(section, "ExecStart")
        ev = [Evidence("unit", start.path if start else path, start.line if start else None)]
        for _target, link in wanted or []:
            ev.append(Evidence("symlink", link, detail=f"enabled: {link} -> {snap.readlink(link)}"))
        for dropin in unit.sources[1:]:
            ev.append(Evidence("unit", dropin, detail="drop-in"))
        trig = unit.value(section, "Unit") if kind in ("socket", "timer") else None
        if kind in ("socket", "timer") and not trig:
            trig = name.rsplit(".", 1)[0] + ".service"
        schedule = tuple(
            f"{k}={s.value}"
            for k in ("OnCalendar", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec", "OnActiveSec")
            for s in unit.values("Timer", k)
        )
        listen = tuple(
            s.value
            for k in ("ListenStream", "ListenDatagram", "ListenSequentialPacket")
            for s in unit.values("Socket", k)
        )
        wd = unit.value(section, "WorkingDirectory")
        return InitUnit(
            name=name,
            system="systemd",
            type=kind,
            path=path,
            enabled=enabled,
            state=state,
            description=unit.value("Unit", "Description"),
            exec_start=exec_start,
            user=ex(unit.value(section, "User") or "") or None,
            group=ex(unit.value(section, "Group") or "") or None,
            working_dir=ex(wd).lstrip("-") if wd else None,
            environment=tuple(env),
            env_files=tuple(env_files),
            secrets=tuple(secrets),
            dropins=tuple(unit.sources[1:]),
            wanted_by=tuple(sorted({t for t, _ in wanted or []})),
            triggers=trig,
            schedule=schedule,
            listen=listen,
            aliases=tuple(
                sorted(
                    self._aliases.get(name, set())
                    | {a for s in unit.values("Install", "Alias") for a in s.value.split()}
                )
            ),
            evidence=tuple(ev),
            service_type=(unit.value("Service", "Type") or None) if kind == "service" else None,
        )
