"""Java apps started by init units: `java [opts] -jar X.jar [args]`, an executable jar run
directly, or `java -cp ... MainClass`. WARs deployed in Tomcat belong to the tomcat detector.

Service id `java-app:<jar path>` (`java-app:<main class>` without a jar). Paths inside an
archive are written `ARCHIVE!/ENTRY` (JarURLConnection style).

Rules followed:
- `$VAR`/`${VAR}` in ExecStart expand from the unit's environment (systemd's rule).
- The jar is a zip: its `META-INF/MANIFEST.MF` (continuation lines start with one space)
  gives Main-Class, Start-Class, Spring-Boot-Version, Implementation-Title/-Version.
- Spring Boot settings, lowest to highest precedence: the jar's
  `BOOT-INF/classes/application.{yml,properties}` (then the `-PROFILE` variants), the same
  beside the jar in the working directory and in its `config/` subdirectory (or
  `spring.config.location`), OS environment (relaxed binding: SERVER_PORT ->
  server.port), `-Dkey=value` system properties, `--key=value` program arguments. Within
  one location `.properties` beats `.yml`. `server.port` defaults to 8080 on every
  address (`server.address`); `management.server.port` is a second listener.
- Endpoints: `spring.datasource.url` (JDBC URL), `spring.data.mongodb.uri`,
  `spring.{data.,}redis.{host,port,url}`, `spring.rabbitmq.{host,port,addresses}`,
  `spring.kafka.bootstrap-servers`, `spring.mail.{host,port}`, `spring.elasticsearch.uris`.
- The runtime comes from the java binary's real path (`/usr/lib/jvm/java-17-openjdk-amd64`
  -> java17) or that JDK's `release` file (JAVA_VERSION).
- Jars are read whole (second-order, up to 256 MiB) since a Boot jar's settings are
  compressed inside it.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

import yaml

from modernize.detector import Detector
from modernize.endpoints import classify_setting, parse_hostport, parse_url
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Port, file_ref
from modernize.parsers import javaprops
from modernize.parsers.apprun import basename, default_port, expand_env, runnable, unit_evidence, unit_settings, unwrap
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import Declaration, ReadMode, whole
from modernize.versions import make_version

_SERVERS = (
    ("tomcat-embed-core", "tomcat"),
    ("jetty-server", "jetty"),
    ("undertow-core", "undertow"),
    ("reactor-netty", "netty"),
)
MAX_JAR = 256 * 1024 * 1024
_JVM_WITH_VALUE = {
    "-cp",
    "-classpath",
    "--class-path",
    "-p",
    "--module-path",
    "--add-opens",
    "--add-exports",
    "--add-modules",
    "--add-reads",
    "--patch-module",
    "--upgrade-module-path",
    "--limit-modules",
}
_JVM_VERSION = re.compile(r"/(?:java|jdk|jre|openjdk|temurin|zulu|corretto)[-_]?(?:1\.)?(\d+)(?:[.\-_/]|$)", re.I)
_JDBC_DRIVERS = (
    "mysql-connector",
    "mariadb-java-client",
    "postgresql",
    "ojdbc",
    "mssql-jdbc",
    "h2",
    "hsqldb",
    "sqlite-jdbc",
    "jedis",
    "lettuce-core",
    "mongodb-driver",
)


@dataclass
class Setting:
    value: str
    path: str  # where it is written (ARCHIVE!/ENTRY for files inside the jar)
    line: int | None
    kind: str  # config, unit
    origin: str  # jar, file, env, sysprop, arg


@dataclass
class JavaRun:
    unit: InitUnit
    java: str | None
    jar: str | None
    main_class: str | None
    jvm_opts: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    workdir: str | None = None


class JavaAppsDetector(Detector):
    name = "java-apps"
    tags = ("service", "app", "java")
    requires = ("systemd", "supervisord", "sysv", "cron", "dpkg", "rpm", "apk")
    reads = whole("/usr/lib/jvm/*/release", "/opt/java/*/release", "/opt/jdk*/release")

    def detect(self, snap: Snapshot, found: Found) -> None:
        runs = [r for u in found.units if runnable(u) and (r := self._run(u)) is not None]
        runs = [r for r in runs if not self._is_tomcat(r)]
        wants: list[str] = []
        for r in runs:
            if r.jar:
                wants.append(r.jar)
            if r.workdir:
                for base in (r.workdir, f"{r.workdir}/config"):
                    wants += [f"{base}/application{sfx}" for sfx in (".properties", ".yml", ".yaml")]
        snap.want(sorted({w for w in wants if snap.exists(w)}))
        seen: dict[str, int] = {}
        for r in runs:
            sf = self._service(snap, found, r)
            key = sf.instance or ""
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                sf.instance = f"{key}#{r.unit.name.rsplit('.', 1)[0]}"
            found.add(sf)

    # -- the command line ----------------------------------------------------------------
    @staticmethod
    def _run(unit: InitUnit) -> JavaRun | None:
        for argv in unit.exec_start:
            cmd = unwrap(expand_env(argv, unit.environment))
            if not cmd.argv:
                continue
            exe = basename(cmd.argv[0])
            work = cmd.cwd or unit.working_dir
            if exe.endswith(".jar"):
                return JavaRun(unit, None, cmd.argv[0], None, args=list(cmd.argv[1:]), workdir=work)
            if exe not in ("java", "javaw"):
                continue
            run = JavaRun(unit, cmd.argv[0], None, None, workdir=work)
            rest = list(cmd.argv[1:])
            i = 0
            while i < len(rest):
                a = rest[i]
                if a == "-jar" and i + 1 < len(rest):
                    jar = rest[i + 1]
                    run.jar = jar if jar.startswith("/") else P.join(work or "/", jar)
                    run.args = rest[i + 2 :]
                    return run
                if a in ("-m", "--module") and i + 1 < len(rest):
                    run.main_class = rest[i + 1]
                    run.args = rest[i + 2 :]
                    return run
                if a in _JVM_WITH_VALUE:
                    run.jvm_opts += [a, rest[i + 1] if i + 1 < len(rest) else ""]
                    i += 2
                    continue
                if a.startswith("-"):
                    run.jvm_opts.append(a)
                    i += 1
                    continue
                run.main_class = a
                run.args = rest[i + 1 :]
                return run
        return None

    @staticmethod
    def _is_tomcat(run: JavaRun) -> bool:
        return bool(run.main_class and run.main_class.startswith("org.apache.catalina."))

    # -- the service ---------------------------------------------------------------------------
    def _service(self, snap: Snapshot, found: Found, run: JavaRun) -> ServiceFacts:
        unit = run.unit
        instance = run.jar or run.main_class or unit.name
        sf = ServiceFacts(
            software="java-app",
            kind="app",
            instance=instance,
            name=unit.name.rsplit(".", 1)[0] if unit.system == "systemd" else unit.name,
        )
        unit_settings(sf, unit)
        sf.command = unit.exec_start[0] if unit.exec_start else ()
        sf.working_dir = run.workdir
        ev = unit_evidence(unit)
        sf.runtime = self._runtime(snap, found, run, sf)
        for opt in run.jvm_opts:
            if opt.startswith("-Xmx"):
                sf.attributes["heap_max"] = opt[4:]
            elif opt.startswith("-Xms"):
                sf.attributes["heap_min"] = opt[4:]
        if run.main_class:
            sf.attributes["main_class"] = run.main_class
        settings: dict[str, Setting] = {}
        if run.jar:
            sf.content_paths.append(FileRef(run.jar, "content", evidence=(ev,)))
            self._jar(snap, found, sf, run.jar, settings)
        self._external(snap, sf, run, settings)
        for var in sf.env:  # relaxed binding: SERVER_PORT -> server.port
            if var.value is not None and re.fullmatch(r"(SERVER|SPRING|MANAGEMENT)_[A-Z0-9_]+", var.name):
                key = var.name.lower().replace("_", ".")
                settings[key] = Setting(
                    var.value,
                    var.evidence[0].path or unit.path if var.evidence else unit.path,
                    var.evidence[0].line if var.evidence else None,
                    "config",
                    "env",
                )
        for opt in run.jvm_opts:
            if opt.startswith("-D") and "=" in opt:
                k, _, v = opt[2:].partition("=")
                settings[k] = Setting(v, unit.path, ev.line, "unit", "sysprop")
        for a in run.args:
            if a.startswith("--") and "=" in a:
                k, _, v = a[2:].partition("=")
                settings[k] = Setting(v, unit.path, ev.line, "unit", "arg")
        self._apply(sf, settings, ev)
        return sf

    def _runtime(self, snap: Snapshot, found: Found, run: JavaRun, sf: ServiceFacts) -> str | None:
        if run.java:
            real = snap.realpath(run.java) if run.java.startswith("/") else None
            path = real or run.java
            m = _JVM_VERSION.search(path)
            if m:
                sf.evidence.append(Evidence("symlink", run.java, detail=f"{run.java} -> {path}"))
                return f"java{m.group(1)}"
            if path.endswith("/bin/java"):
                release = P.parent(P.parent(path)) + "/release"
                text = snap.text(release) if snap.exists(release) else None
                vm = re.search(r'^JAVA_VERSION="(?:1\.)?(\d+)', text or "", re.M)
                if vm:
                    sf.evidence.append(Evidence("file", release, excerpt=vm.group(0)))
                    return f"java{vm.group(1)}"
        for pkg in found.packages:
            m = re.match(
                r"^(?:openjdk-(\d+)-j(?:re|dk)(?:-headless)?|java-(?:1\.)?(\d+)-openjdk(?:-headless)?|"
                r"openjdk(\d+)(?:-jre)?)$",
                pkg.name,
            )
            if m:
                sf.packages.append(pkg.name)
                return "java" + next(g for g in m.groups() if g)
        return None

    def _jar(self, snap: Snapshot, found: Found, sf: ServiceFacts, jar: str, settings: dict[str, Setting]) -> None:
        res = snap.read(jar, Declaration(jar, ReadMode.WHOLE, max_size=MAX_JAR))
        if not res.ok:
            found.finding(
                "warning", "jar-unreadable", f"{jar}: {res.status.value}; its manifest and settings are unknown", jar
            )
            return
        try:
            zf = zipfile.ZipFile(io.BytesIO(res.data))
            names = set(zf.namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            found.unparsable(jar, f"not a jar: {exc}")
            return
        manifest = _manifest(_read(zf, "META-INF/MANIFEST.MF"))
        mf = f"{jar}!/META-INF/MANIFEST.MF"
        version = manifest.get("Implementation-Version")
        if version:
            sf.version = make_version(version, "maven", "java-app")
            sf.evidence.append(Evidence("file", mf, excerpt=f"Implementation-Version: {version}"))
        for key, attr in (
            ("Implementation-Title", "title"),
            ("Start-Class", "start_class"),
            ("Main-Class", "main_class"),
            ("Spring-Boot-Version", "spring_boot_version"),
        ):
            if manifest.get(key):
                sf.attributes[attr] = manifest[key]
        boot = "Spring-Boot-Version" in manifest or any(n.startswith("BOOT-INF/") for n in names)
        if boot:
            sf.framework = "spring-boot"
        classes = manifest.get("Spring-Boot-Classes", "BOOT-INF/classes/" if boot else "")
        libs = sorted(
            n for n in names if n.startswith(manifest.get("Spring-Boot-Lib", "BOOT-INF/lib/")) and n.endswith(".jar")
        )
        drivers = [basename(n)[:-4] for n in libs if basename(n).startswith(_JDBC_DRIVERS)]
        if drivers:
            sf.attributes["drivers"] = ",".join(drivers)
        if libs:
            sf.attributes["libraries"] = str(len(libs))
        server = next((name for lib, name in _SERVERS for n in libs if basename(n).startswith(lib)), None)
        if server:
            sf.attributes["embedded_server"] = server
        profiles = self._profiles(sf, settings)
        for suffix in ("", *(f"-{p}" for p in profiles)):
            for ext in (".yml", ".yaml", ".properties"):
                entry = f"{classes}application{suffix}{ext}"
                if entry in names:
                    self._load(settings, f"{jar}!/{entry}", _read(zf, entry), "jar", sf)

    def _external(self, snap: Snapshot, sf: ServiceFacts, run: JavaRun, settings: dict[str, Setting]) -> None:
        if not run.workdir:
            return
        for base in (run.workdir, f"{run.workdir}/config"):
            for ext in (".yml", ".yaml", ".properties"):
                path = f"{base}/application{ext}"
                if snap.exists(path):
                    text = snap.text(path)
                    if text is not None:
                        sf.config_files.append(file_ref(path, "config"))
                        self._load(settings, path, text, "file", sf)

    @staticmethod
    def _profiles(sf: ServiceFacts, settings: dict[str, Setting]) -> list[str]:
        for var in sf.env:
            if var.name == "SPRING_PROFILES_ACTIVE" and var.value:
                return [p.strip() for p in var.value.split(",") if p.strip()]
        for a in sf.command:
            for prefix in ("--spring.profiles.active=", "-Dspring.profiles.active="):
                if a.startswith(prefix):
                    return [p.strip() for p in a[len(prefix) :].split(",") if p.strip()]
        s = settings.get("spring.profiles.active")
        return [p.strip() for p in s.value.split(",")] if s else []

    @staticmethod
    def _load(settings: dict[str, Setting], path: str, text: str | None, origin: str, sf: ServiceFacts) -> None:
        if text is None:
            return
        if path.endswith(".properties"):
            for k, (v, line) in javaprops.parse(text).items():
                settings[k] = Setting(v, path, line, "config", origin)
            return
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            sf.evidence.append(Evidence("file", path, detail=f"unparsable YAML: {str(exc).splitlines()[0]}"))
            return
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            flat = dict(_flatten(doc))
            if "spring.config.activate.on-profile" in flat or "spring.profiles" in flat:
                continue  # a profile document: only with that profile active
            for k, v in flat.items():
                settings[k] = Setting(v, path, _yaml_line(text, k), "config", origin)

    # -- settings to facts ---------------------------------------------------------------------
    def _apply(self, sf: ServiceFacts, settings: dict[str, Setting], ev: Evidence) -> None:
        def evidence(key: str) -> Evidence:
            s = settings[key]
            excerpt = (
                f"--{key}={s.value}"
                if s.origin == "arg"
                else (f"-D{key}={s.value}" if s.origin == "sysprop" else f"{key}={s.value}")
            )
            return Evidence(s.kind, s.path, s.line, excerpt=excerpt)

        for key, s in sorted(settings.items()):
            if s.origin in ("jar", "file", "arg", "sysprop"):
                _var, sec = classify_setting(key, s.value, s.path, s.line, kind=s.kind)
                if sec:
                    sf.secrets.append(sec)
        addr = settings.get("server.address")
        address = addr.value if addr and addr.value not in ("", "0.0.0.0", "::") else None
        if addr and addr.value in ("0.0.0.0", "::"):
            address = addr.value
        port = settings.get("server.port")
        if port is not None and port.value.strip().lstrip("-").isdigit():
            n = int(port.value)
            if n > 0:
                sf.ports.append(Port(n, "tcp", address, evidence=(evidence("server.port"),)))
            if port.origin == "arg":
                sf.attributes["port_override"] = f"--server.port={n}"
        elif sf.attributes.get("embedded_server"):
            sf.ports.append(
                default_port(8080, address, "Spring Boot's embedded server listens on 8080 when server.port is not set")
            )
        mgmt = settings.get("management.server.port")
        if mgmt is not None and mgmt.value.isdigit() and int(mgmt.value) > 0:
            sf.ports.append(Port(int(mgmt.value), "tcp", address, evidence=(evidence("management.server.port"),)))
        for key in (
            "spring.datasource.url",
            "spring.data.mongodb.uri",
            "spring.redis.url",
            "spring.data.redis.url",
            "spring.elasticsearch.uris",
            "spring.r2dbc.url",
            "spring.flyway.url",
            "spring.liquibase.url",
        ):
            if key in settings:
                for part in settings[key].value.split(","):
                    ep = parse_url(_safe(part.strip()), key, (evidence(key),))
                    if ep is not None:
                        sf.endpoints.append(ep)
                if key == "spring.datasource.url":
                    sf.attributes["datasource"] = _safe(settings[key].value.split("?", 1)[0])
        for prefix, scheme in (
            ("spring.redis", "redis"),
            ("spring.data.redis", "redis"),
            ("spring.rabbitmq", "amqp"),
            ("spring.mail", "smtp"),
            ("spring.data.mongodb", "mongodb"),
        ):
            host = settings.get(f"{prefix}.host")
            if host is not None and f"{prefix}.url" not in settings and f"{prefix}.uri" not in settings:
                p = settings.get(f"{prefix}.port")
                num = int(p.value) if p and p.value.isdigit() else None
                from modernize.endpoints import DEFAULT_PORTS

                sf.endpoints.append(
                    Endpoint(
                        f"{prefix}.host",
                        host.value,
                        num or DEFAULT_PORTS.get(scheme),
                        scheme,
                        None,
                        (evidence(f"{prefix}.host"),),
                    )
                )
        for key in ("spring.rabbitmq.addresses", "spring.kafka.bootstrap-servers"):
            if key in settings:
                sf.endpoints.extend(parse_hostport(settings[key].value, key, (evidence(key),)))


def _safe(url: str) -> str:
    from modernize.secrets import redact_url

    return redact_url(url)


def _read(zf: zipfile.ZipFile, name: str) -> str | None:
    try:
        data = zf.read(name)
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _manifest(text: str | None) -> dict[str, str]:
    """The main section of a JAR manifest: `Name: value`, continuation lines start with a space."""
    logical: list[str] = []
    for raw in (text or "").splitlines():
        if not raw.strip():
            break  # end of the main section
        if raw.startswith(" ") and logical:
            logical[-1] += raw[1:]  # lines are wrapped at 72 bytes, even inside a name
        else:
            logical.append(raw)
    out: dict[str, str] = {}
    for line in logical:
        k, sep, v = line.partition(":")
        if sep:
            out[k.strip()] = v.strip()
    return out


def _flatten(obj: object, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            out.append((prefix, ",".join(_scalar(x) for x in obj)))
        else:
            for i, v in enumerate(obj):
                out += _flatten(v, f"{prefix}[{i}]")
    else:
        out.append((prefix, _scalar(obj)))
    return out


def _scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _yaml_line(text: str, dotted: str) -> int | None:
    leaf = dotted.rsplit(".", 1)[-1].split("[", 1)[0]
    m = re.search(r"^\s*" + re.escape(leaf) + r"\s*:", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None
