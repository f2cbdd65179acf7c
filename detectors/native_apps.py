"""Compiled apps started by init units from outside the package manager's trees:
Go and other native (ELF) binaries under /opt, /srv, /home, /usr/local/{bin,sbin}, and
.NET apps (`dotnet X.dll`, or an apphost `X` next to `X.dll` + `X.runtimeconfig.json`).

Service ids: `go-app:<binary>`, `native-app:<binary>`, `dotnet-app:<dll>`.

Rules followed:
- Only the first 4096 bytes of a binary are read (declared for bin directories; a binary
  elsewhere is a second-order read): the ELF header (class, byte order,
  e_machine -> arch), the program headers (PT_INTERP -> dynamically linked, and the loader),
  and a PT_NOTE named "Go" or the "Go build ID:" string -> a Go binary. Scripts (`#!`) and
  the interpreters other detectors handle (python, node, java, ruby, php, uwsgi, gunicorn ...)
  are left to those detectors; so are trees a package owns (dpkg's /opt/<name> entries).
- .NET: `X.runtimeconfig.json` `runtimeOptions.framework` (or `frameworks[0]`) name and
  version -> runtime `dotnet8.0` (Microsoft.AspNetCore.App marks a web app); ASPNETCORE_URLS /
  ASPNETCORE_HTTP_PORTS / URLS in the unit's env give ports (Kestrel's default is
  http://localhost:5000; the 8080 of .NET 8 comes from the container images' env, not Kestrel).
"""

from __future__ import annotations

import json
import re

from modernize.detector import Detector
from modernize.endpoints import endpoints_of_env
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Port, file_ref
from modernize.parsers import elf
from modernize.parsers.apprun import (
    basename,
    bind_port,
    data_dirs_of_env,
    default_port,
    env_value,
    expand_env,
    runnable,
    unit_evidence,
    unit_settings,
    unwrap,
)
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import Matcher, head, whole

ROOTS = ("/opt/", "/srv/", "/home/", "/usr/local/bin/", "/usr/local/sbin/", "/usr/local/lib/", "/var/lib/")
HEAD = 4096
BIN_DIRS = ("/opt/*/bin/*", "/opt/*/sbin/*", "/opt/*/*/bin/*", "/srv/*/bin/*", "/usr/local/bin/*", "/usr/local/sbin/*")
# interpreters and app servers other detectors describe
OTHERS = re.compile(
    r"^(?:python[\d.]*|node(?:js)?|java|javaw|ruby[\d.]*|php[\d.-]*(?:fpm[\d.]*)?|perl|bash|sh|dash|uwsgi|gunicorn|"
    r"uvicorn|celery|daphne|hypercorn|waitress-serve|pm2|pm2-runtime|npm|yarn|pnpm|npx|bundle|puma|unicorn|"
    r"unicorn_rails|passenger|rails|sidekiq|catalina\.sh|startup\.sh|nginx|httpd|apache2|redis-server|memcached|"
    r"mongod|mysqld|mariadbd|postgres|haproxy|dotnet)$"
)


_BIN_MATCHER = Matcher(head(HEAD, *BIN_DIRS))


def _in_bin_dir(path: str) -> bool:
    return _BIN_MATCHER.match(path) is not None


class NativeAppsDetector(Detector):
    name = "native-apps"
    tags = ("service", "app", "native")
    requires = ("systemd", "supervisord", "sysv", "cron", "dpkg")
    reads = (
        # bin directories only: a head of every file under /opt or /srv would be a partial copy
        # that hides those files from other detectors' whole second-order reads
        *head(HEAD, *BIN_DIRS),
        *whole("/opt/**/*.runtimeconfig.json", "/srv/**/*.runtimeconfig.json", "/var/www/**/*.runtimeconfig.json"),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        plans: list[tuple[InitUnit, str, str | None]] = []  # unit, binary or dll, workdir
        for unit in found.units:
            if not runnable(unit):
                continue
            for argv in unit.exec_start:
                cmd = unwrap(expand_env(argv, unit.environment))
                if not cmd.argv:
                    continue
                exe = basename(cmd.argv[0])
                work = cmd.cwd or unit.working_dir
                if exe == "dotnet":
                    dll = next((a for a in cmd.argv[1:] if a.endswith(".dll")), None)
                    if dll:
                        plans.append((unit, dll if dll.startswith("/") else P.join(work or "/", dll), work))
                    break
                path = cmd.argv[0]
                if not path.startswith("/") or OTHERS.match(exe) or self._packaged(found, path):
                    break
                if path.startswith(ROOTS):
                    plans.append((unit, path, work))
                break
        wants = []
        for _unit, path, _work in plans:
            if path.endswith(".dll"):
                wants.append(path[:-4] + ".runtimeconfig.json")
            elif snap.exists(path + ".runtimeconfig.json"):
                wants.append(path + ".runtimeconfig.json")
        # binaries outside the declared trees (/home, /var/lib) are second-order reads
        wants += [p for _u, p, _w in plans if not p.endswith(".dll") and not _in_bin_dir(p)]
        snap.want([w for w in wants if snap.exists(w)])
        for unit, path, work in plans:
            sf = self._service(snap, unit, path, work)
            if sf is not None:
                found.add(sf)

    @staticmethod
    def _packaged(found: Found, path: str) -> bool:
        parts = path.split("/")
        return len(parts) > 2 and parts[1] == "opt" and f"/opt/{parts[2]}" in found.owners

    def _service(self, snap: Snapshot, unit: InitUnit, path: str, work: str | None) -> ServiceFacts | None:
        ev = unit_evidence(unit)
        config = path[:-4] + ".runtimeconfig.json" if path.endswith(".dll") else path + ".runtimeconfig.json"
        if path.endswith(".dll") or snap.exists(config):
            sf = ServiceFacts(
                software="dotnet-app", kind="app", instance=path if path.endswith(".dll") else path + ".dll"
            )
            self._dotnet(snap, sf, config)
        else:
            data = snap.head(path, HEAD)
            if data is None:
                return None
            info = elf.parse(data)
            if info is None:
                return None  # a script or not an executable: not a native app
            software = "go-app" if info.go else "native-app"
            sf = ServiceFacts(software=software, kind="app", instance=path, binaries=[path])
            sf.attributes.update({"arch": info.arch, "elf": f"{info.bits}-bit {info.type}"})
            if info.dynamic is not None:
                sf.attributes["linking"] = "dynamic" if info.dynamic else "static"
            if info.interpreter:
                sf.attributes["loader"] = info.interpreter
            detail = f"ELF {info.bits}-bit {info.arch}, " + (
                "Go build ID" if info.go else ("dynamically linked" if info.dynamic else "statically linked")
            )
            sf.evidence.append(Evidence("binary", path, detail=detail))
            if info.go:
                sf.runtime = "go"
        sf.name = unit.name.rsplit(".", 1)[0] if unit.system == "systemd" else unit.name
        unit_settings(sf, unit)
        sf.command = unit.exec_start[0] if unit.exec_start else ()
        sf.working_dir = work
        app_dir = P.parent(path)
        sf.content_paths.append(
            FileRef(
                app_dir if app_dir not in ("/usr/local/bin", "/usr/local/sbin") else path, "content", evidence=(ev,)
            )
        )
        sf.endpoints.extend(endpoints_of_env(sf.env))
        sf.data_dirs.extend(data_dirs_of_env(sf.env))
        if sf.software == "dotnet-app":
            self._kestrel(sf, ev)
        return sf

    @staticmethod
    def _dotnet(snap: Snapshot, sf: ServiceFacts, config: str) -> None:
        text = snap.text(config) if snap.exists(config) else None
        if text is None:
            return
        try:
            data = json.loads(text)
        except ValueError:
            sf.evidence.append(Evidence("file", config, detail="unparsable runtimeconfig.json"))
            return
        opts = data.get("runtimeOptions", {}) if isinstance(data, dict) else {}
        fws = [opts["framework"]] if isinstance(opts.get("framework"), dict) else list(opts.get("frameworks") or [])
        fws = [f for f in fws if isinstance(f, dict)]
        sf.config_files.append(file_ref(config, "config"))
        if fws:
            version = str(fws[0].get("version", ""))
            m = re.match(r"(\d+)\.(\d+)", version)
            if m:
                sf.runtime = f"dotnet{m.group(1)}.{m.group(2)}"
            names = [str(f.get("name")) for f in fws]
            sf.attributes["frameworks"] = ",".join(f"{f.get('name')} {f.get('version')}" for f in fws)
            if "Microsoft.AspNetCore.App" in names:
                sf.framework = "aspnetcore"
            sf.evidence.append(Evidence("file", config, excerpt=f'"name": "{names[0]}", "version": "{version}"'))

    @staticmethod
    def _kestrel(sf: ServiceFacts, ev: Evidence) -> None:
        urls = env_value(sf.env, "ASPNETCORE_URLS") or env_value(sf.env, "URLS")
        if urls:
            for u in urls.split(";"):
                m = re.match(r"^https?://(?P<host>\[[^\]]+\]|[^:/]+)(?::(?P<port>\d+))?", u.strip())
                if not m:
                    continue
                host = m.group("host").strip("[]")
                port = int(m.group("port") or (443 if u.startswith("https") else 80))
                addr = None if host in ("*", "+", "0.0.0.0", "::") else ("127.0.0.1" if host == "localhost" else host)
                sf.ports.append(
                    Port(
                        port,
                        "tcp",
                        addr,
                        evidence=(Evidence(ev.kind, ev.path, ev.line, excerpt=f"ASPNETCORE_URLS={urls}"),),
                    )
                )
            return
        ports = env_value(sf.env, "ASPNETCORE_HTTP_PORTS")
        if ports:
            for spec in ports.split(";"):
                bound = bind_port(
                    spec.strip(), (Evidence(ev.kind, ev.path, ev.line, excerpt=f"ASPNETCORE_HTTP_PORTS={ports}"),)
                )
                if bound:
                    sf.ports.append(bound)
            return
        if sf.framework == "aspnetcore":
            sf.ports.append(
                default_port(5000, "127.0.0.1", "Kestrel listens on http://localhost:5000 when no URLS/ports are set")
            )
