"""Services no detector recognised: what merge makes of a unit nobody claims.

Split out of merge.py (which joins facts for every service) because this part grows
on its own: a leftover unit becomes an unclassified service, its command line gives
ports, endpoints and data directories, and the `daemons` detector's facts for that
unit (the program, the config files it is given, what those say) are folded in.
Those facts go to a unit's service only where no detector recognised the software:
an unclassified service, or a bare native binary (`native-apps` knows it is an ELF
file, not what it reads).
"""

from __future__ import annotations

import re

from modernize.facts import DaemonFacts, Endpoint, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Port, StartMethod

# detectors that know a program's kind but not its config: daemon facts complete theirs
GENERIC = frozenset({"native-apps"})


def from_unit(unit: InitUnit, user: str | None, refs: list[FileRef]) -> ServiceFacts:
    """An enabled unit no service claims, as an unclassified service."""
    sf = ServiceFacts(
        software=unit.name.removesuffix(".service"),
        kind="other",
        instance=None,
        name=unit.name,
        started_by=[StartMethod(unit.system, unit.name, unit.enabled, unit.evidence)],
        user=user,
        group=unit.group,
        command=unit.exec_start[0] if unit.exec_start else (),
        working_dir=unit.working_dir,
        env_files=list(unit.env_files),
        evidence=list(unit.evidence),
        found_by="merge",
    )
    sf.attributes["unclassified"] = "true"
    if unit.exec_start:
        _hints(sf, unit.exec_start[0], unit.evidence[:1])
    sf.env.extend(unit.environment)
    sf.secrets.extend(unit.secrets)
    sf.config_files.append(FileRef(unit.path, "unit", evidence=unit.evidence[:1]))
    sf.config_files.extend(refs)
    sf.log_paths.extend(FileRef(p, "logs", evidence=unit.evidence[:1]) for p in unit.log_paths)
    return sf


def _hints(sf: ServiceFacts, argv: tuple[str, ...], evidence: tuple[Evidence, ...]) -> None:
    ports, endpoints, dirs = command_hints(argv, evidence)
    sf.ports.extend(ports)
    sf.endpoints.extend(endpoints)
    sf.data_dirs.extend(dirs)


def add_daemons(services: list[ServiceFacts], daemons: list[DaemonFacts], units: list[InitUnit]) -> None:
    """Fold each unit's daemon facts into the service that unit starts, where that
    service is unclassified or only generically known."""
    by_unit = {(d.unit_system, d.unit_name): d for d in daemons}
    by_key = {(u.system, u.name): u for u in units}
    for sf in services:
        generic = set(sf.found_by.split(",")) <= GENERIC
        if not (sf.attributes.get("unclassified") or generic):
            continue
        for start in sf.started_by:
            d = by_unit.get((start.system, start.name))
            if d is None:
                continue
            unit = by_key.get((start.system, start.name))
            if d.command and unit is not None and sf.command in ((), unit.exec_start[0] if unit.exec_start else ()):
                # a SysV daemon's options from its defaults file: the command it really runs
                sf.command = d.command
                if sf.attributes.get("unclassified"):
                    _hints(sf, d.command, unit.evidence[:1])
            if sf.attributes.get("unclassified"):
                sf.working_dir = sf.working_dir or d.working_dir
            if d.user and sf.user in (None, "root") and start.system in ("sysv", "openrc"):
                sf.user = d.user  # started as root, the program switches to the user its config names
            sf.program = sf.program or d.program
            for name in ("ports", "config_files", "data_dirs", "log_paths", "endpoints", "secrets", "evidence"):
                getattr(sf, name).extend(getattr(d, name))
            sf.found_by = ",".join(sorted({*sf.found_by.split(","), d.found_by} - {""}))


_DIR_FLAG = re.compile(r"^--?(?:root|dir|data|datadir|data-dir|data_dir|path|home|storage|spool|workdir|directory)$")
_LISTEN_FLAGS = {"--listen", "--bind", "--address", "--addr", "--listen-address", "--http", "-l", "-b"}
_PORT_FLAGS = {"--port", "-p", "--http-port", "--listen-port"}
_HOSTPORT = re.compile(r"^\[?([A-Za-z0-9_.:-]*?)\]?:(\d{1,5})$")


def command_hints(
    argv: tuple[str, ...], evidence: tuple[Evidence, ...]
) -> tuple[list[Port], list[Endpoint], list[FileRef]]:
    """What an unrecognised program's command line says: `--port 7000`, `--listen
    0.0.0.0:8873` are where it listens; another `--flag host:port` is where it connects;
    `--root /srv/x`, `--data-dir /var/lib/x` are its data."""
    ports: list[Port] = []
    endpoints: list[Endpoint] = []
    dirs: list[FileRef] = []
    words: list[tuple[str, str]] = []
    for i, arg in enumerate(argv[1:], 1):
        flag, eq, value = arg.partition("=")
        if eq and flag.startswith("-"):
            words.append((flag, value))
        elif not arg.startswith("-") and i > 1 and argv[i - 1].startswith("-") and "=" not in argv[i - 1]:
            words.append((argv[i - 1], arg))
    for flag, value in words:
        m = _HOSTPORT.match(value)
        if flag in _PORT_FLAGS and value.isdigit():
            ports.append(Port(int(value), evidence=evidence))
        elif flag in _LISTEN_FLAGS and m:
            ports.append(Port(int(m.group(2)), address=m.group(1) or None, evidence=evidence))
        elif m and re.search(r"[A-Za-z.]", m.group(1)) and "." in m.group(1):
            endpoints.append(Endpoint(flag.lstrip("-"), m.group(1), int(m.group(2)), None, None, evidence))
        elif _DIR_FLAG.match(flag) and value.startswith("/"):
            dirs.append(FileRef(value.rstrip("/") or "/", "data", evidence=evidence))
    return ports, endpoints, dirs
