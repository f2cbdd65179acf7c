"""Apache Tomcat: connectors, webapps, JNDI datasources and credentials.

server.xml, context.xml and tomcat-users.xml are read with an XML parser, so what
sits in `<!-- -->` (Debian's AJP and TLS connectors, sample users) does not count.
`${prop}` in attributes resolves from conf/catalina.properties. The shutdown port
(`<Server port>`) is 8005 on localhost unless set; `-1` disables it. A `Connector`
without `address` binds every address. Apps are `appBase`'s WARs and directories;
a WAR is a zip, read in memory for META-INF/context.xml and WEB-INF/classes/*.properties.
Layouts: Debian (/etc/tomcatN + CATALINA_BASE /var/lib/tomcatN), RHEL (/etc/tomcat,
base /usr/share/tomcat), and unpacked ones (/opt/tomcat*, /usr/local/tomcat).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree as ET
from xml.parsers import expat

from detectors.apache import resolve_loose
from modernize.detector import Detector
from modernize.endpoints import classify_setting, from_settings, parse_url
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import EnvVar, Evidence, FileRef, IdentityStore, Port, file_ref
from modernize.parsers import javaprops
from modernize.parsers.apprun import default_port
from modernize.parsers.shell import assignments, split_command
from modernize.secrets import MASK, is_secret_name, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.base import decode
from modernize.snapshot.declarations import head, whole

WAR_MAX = 64 * 1024 * 1024
_NOT_SECRET_ATTR = ("Required", "Type", "Provider", "Algorithm", "Class", "ClassName", "File", "Name")
_PROP = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Install:
    name: str  # tomcat10, tomcat9, tomcat, or the directory name under /opt
    conf: str
    base: str  # CATALINA_BASE
    home: str  # CATALINA_HOME
    default_file: str | None
    packages: tuple[str, ...]
    units: tuple[str, ...]
    binaries: tuple[str, ...]


# /usr/lib/jvm/java-17-openjdk-amd64, /usr/lib/jvm/jdk-11.0.2, /opt/jre1.8.0_202 (8)
_JVM_MAJOR = re.compile(r"(?:java-|jdk-?|jre-?)(?:1\.)?(\d+)")


def parse_xml(text: str) -> tuple[ET.Element, dict[int, int]]:
    """An ElementTree plus each element's line (keyed by id()); comments are dropped."""
    lines: dict[int, int] = {}
    parser = expat.ParserCreate()
    stack: list[ET.Element] = []
    root: list[ET.Element] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        el = ET.Element(tag, attrs)
        lines[id(el)] = parser.CurrentLineNumber
        if stack:
            stack[-1].append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(_tag: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(text.encode("utf-8"), True)
    if not root:
        raise ValueError("no root element")
    return root[0], lines


def properties(text: str) -> list[tuple[int, str, str]]:
    """(line, key, value) of a Java .properties file (java.util.Properties rules)."""
    return sorted((line, key, value) for key, (value, line) in javaprops.parse(text).items())


def installs(snap: Snapshot) -> list[Install]:
    out: list[Install] = []
    seen: set[str] = set()
    for conf in snap.glob("/etc/tomcat[0-9]*"):
        n = P.split(conf)[-1]
        if snap.is_file(P.join(conf, "server.xml")):
            out.append(
                Install(
                    n,
                    conf,
                    f"/var/lib/{n}",
                    f"/usr/share/{n}",
                    f"/etc/default/{n}",
                    (n,),
                    (f"{n}.service", n),
                    (f"/usr/libexec/{n}/tomcat-start.sh", f"/usr/share/{n}/bin/catalina.sh"),
                )
            )
    if snap.is_file("/etc/tomcat/server.xml"):
        out.append(
            Install(
                "tomcat",
                "/etc/tomcat",
                "/usr/share/tomcat",
                "/usr/share/tomcat",
                "/etc/sysconfig/tomcat",
                ("tomcat",),
                ("tomcat.service", "tomcat"),
                ("/usr/libexec/tomcat/server",),
            )
        )
    for top in [*snap.glob("/opt/tomcat*"), *snap.glob("/opt/apache-tomcat*"), "/usr/local/tomcat"]:
        if snap.is_file(P.join(top, "conf/server.xml")):
            n = P.split(top)[-1]
            out.append(
                Install(
                    n,
                    P.join(top, "conf"),
                    top,
                    top,
                    None,
                    ("tomcat10", "tomcat9", "tomcat"),
                    ("tomcat10.service", "tomcat9.service", "tomcat.service", "tomcat"),
                    (P.join(top, "bin/catalina.sh"), P.join(top, "bin/startup.sh")),
                )
            )
    unique = []
    for inst in out:
        real = snap.realpath(inst.conf) or inst.conf
        if real not in seen:
            seen.add(real)
            unique.append(inst)
    return unique


class TomcatDetector(Detector):
    name = "tomcat"
    tags = ("service", "app")
    reads = (
        *whole(
            "/etc/tomcat*/*.xml",
            "/etc/tomcat*/catalina.properties",
            "/etc/tomcat*/Catalina/*/*.xml",
            "/etc/default/tomcat*",
            "/etc/sysconfig/tomcat",
            "/opt/*tomcat*/conf/*.xml",
            "/opt/*tomcat*/conf/catalina.properties",
            "/opt/*tomcat*/conf/Catalina/*/*.xml",
            "/usr/local/tomcat/conf/*.xml",
            "/usr/local/tomcat/conf/catalina.properties",
            "/usr/local/tomcat/conf/Catalina/*/*.xml",
            "**/webapps/*/META-INF/context.xml",
            "**/webapps/*/WEB-INF/classes/*.properties",
        ),
        *whole("**/webapps/*.war", max_size=WAR_MAX),
        *head(4096, "/opt/*tomcat*/RELEASE-NOTES", "/usr/local/tomcat/RELEASE-NOTES"),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        found_installs = installs(snap)
        several = len(found_installs) > 1
        for inst in found_installs:
            self._one(snap, found, inst, several)

    def _one(self, snap: Snapshot, found: Found, inst: Install, several: bool) -> None:
        server_xml = P.join(inst.conf, "server.xml")
        text = snap.text(server_xml)
        if text is None:
            return
        sf = ServiceFacts(
            software="tomcat",
            kind="app",
            instance=inst.name if several else None,
            packages=list(inst.packages),
            units=list(inst.units),
            binaries=list(inst.binaries),
            runtime="java",
            evidence=[Evidence("file", server_xml)],
        )
        self._version(snap, inst, sf)
        props = self._catalina_properties(snap, inst, sf)
        try:
            root, lines = parse_xml(text)
        except (expat.ExpatError, ValueError) as exc:
            found.unparsable(server_xml, str(exc))
            return
        sf.config_files.append(file_ref(server_xml, "config"))

        def attr(el: ET.Element, name: str) -> str | None:
            v = el.get(name)
            if v is None:
                return None
            return _PROP.sub(lambda m: props.get(m.group(1), m.group(0)), v)

        def ev(el: ET.Element, what: str) -> Evidence:
            return Evidence("config", server_xml, lines.get(id(el)), excerpt=what)

        if root.tag == "Server":
            port = attr(root, "port")
            if port is None:
                sf.ports.append(
                    default_port(
                        8005, "127.0.0.1", "Tomcat's shutdown port is 8005 on localhost when <Server port> is unset"
                    )
                )
            elif port.isdigit():
                addr = attr(root, "address") or "localhost"
                sf.ports.append(
                    Port(
                        int(port),
                        "tcp",
                        "127.0.0.1" if addr == "localhost" else addr,
                        evidence=(ev(root, f'<Server port="{port}"> (shutdown)'),),
                    )
                )
            else:
                sf.attributes["shutdown_port"] = "disabled" if port == "-1" else port
        connectors = []
        for conn in root.iter("Connector"):
            port = attr(conn, "port")
            proto = attr(conn, "protocol") or "HTTP/1.1"
            if not port or not port.isdigit():
                continue
            bind = attr(conn, "address")
            caddr = None if bind in ("", "*") else bind
            sf.ports.append(
                Port(int(port), "tcp", caddr, evidence=(ev(conn, f'<Connector port="{port}" protocol="{proto}">'),))
            )
            tls = (attr(conn, "SSLEnabled") or "").lower() == "true"
            connectors.append(f"{port} {proto}" + (" tls" if tls else ""))
            for key in ("keystoreFile", "certificateFile", "certificateKeyFile", "truststoreFile"):
                for el in (conn, *conn.iter("Certificate"), *conn.iter("SSLHostConfig")):
                    v = attr(el, key)
                    if v:
                        sf.config_files.append(
                            FileRef(P.absolute(v, inst.base), "certs", evidence=(ev(el, f"{key}=..."),))
                        )
        # keystorePass, the AJP `secret`, a Realm's connectionPassword ... (Resources: below)
        for el in root.iter():
            if el.tag == "Resource":
                continue
            for key, value in el.attrib.items():
                if value.lower() in ("", "true", "false") or key.endswith(_NOT_SECRET_ATTR):
                    continue
                if is_secret_name(key) or key in ("keystorePass", "truststorePass"):
                    sf.secrets.append(make_secret(key, value, server_xml, lines.get(id(el))))
        if connectors:
            sf.attributes["connectors"] = "; ".join(connectors)
        self._resources(root, lines, server_xml, sf)
        app_bases = []
        for host in root.iter("Host"):
            app_bases.append(P.absolute(attr(host, "appBase") or "webapps", inst.base))
        logs = P.join(inst.base, "logs")
        sf.log_paths.append(
            FileRef(resolve_loose(snap, logs), "logs", evidence=(Evidence("default", detail="CATALINA_BASE/logs"),))
        )
        for extra in ("context.xml", "tomcat-users.xml"):
            path = P.join(inst.conf, extra)
            if snap.is_file(path):
                self._xml_file(snap, found, path, sf)
        for path in sorted(snap.glob(P.join(inst.conf, "Catalina/*/*.xml"))):
            self._xml_file(snap, found, path, sf)
        apps: list[str] = []
        for base in app_bases:
            self._webapps(snap, found, base, sf, apps)
        if apps:
            sf.attributes["webapps"] = ", ".join(apps)
        if inst.default_file and snap.is_file(inst.default_file):
            self._defaults(snap, inst.default_file, sf)
        self._jvm(snap, sf)
        sf.endpoints = _dedup(sf.endpoints)
        found.add(sf)

    @staticmethod
    def _jvm(snap: Snapshot, sf: ServiceFacts) -> None:
        """The Java major Tomcat runs on (runtime `java17`): JAVA_HOME where the
        defaults file sets it, else the system's `java` alternative, which Debian's
        tomcat start script falls back to."""
        home = next((e for e in sf.env if e.name == "JAVA_HOME" and e.value), None)
        if home is not None and home.value:
            m = _JVM_MAJOR.search(home.value)
            if m:
                sf.runtime = f"java{m.group(1)}"
                sf.evidence.extend(home.evidence)
                return
        target = snap.readlink("/etc/alternatives/java")
        m = _JVM_MAJOR.search(target or "")
        if m:
            sf.runtime = f"java{m.group(1)}"
            sf.evidence.append(Evidence("symlink", "/etc/alternatives/java", detail=f"-> {target}"))

    @staticmethod
    def _version(snap: Snapshot, inst: Install, sf: ServiceFacts) -> None:
        if inst.home.startswith("/usr/share/"):
            return  # packaged: the package gives the version
        raw = snap.head(P.join(inst.home, "RELEASE-NOTES"), 4096)
        m = re.search(rb"Apache Tomcat Version (\d+\.\d+\.\d+)", raw or b"")
        if m:
            from modernize.versions import make_version

            sf.version = make_version(m.group(1).decode(), "none", "tomcat")
            sf.packages = []

    @staticmethod
    def _catalina_properties(snap: Snapshot, inst: Install, sf: ServiceFacts) -> dict[str, str]:
        path = P.join(inst.conf, "catalina.properties")
        text = snap.text(path) if snap.is_file(path) else None
        if text is None:
            return {}
        sf.config_files.append(file_ref(path, "config"))
        return {k: v for _no, k, v in properties(text)}

    @staticmethod
    def _resources(root: ET.Element, lines: dict[int, int], path: str, sf: ServiceFacts) -> None:
        """JNDI `<Resource url= username= password=>`: the URL is an endpoint, the password a secret."""
        for res in root.iter("Resource"):
            line = lines.get(id(res))
            name = res.get("name") or "Resource"
            url = res.get("url")
            if url:
                var, secret = classify_setting("url", url, path, line)
                ev = Evidence("config", path, line, excerpt=f'<Resource name="{name}" url="{var.value or MASK}">')
                ep = parse_url(url, f"Resource {name}", (ev,))
                if ep:
                    sf.endpoints.append(ep)
                if secret:
                    sf.secrets.append(secret)
            for key, value in res.attrib.items():
                if value and key != "url" and is_secret_name(key):
                    sf.secrets.append(make_secret(key, value, path, line))

    def _xml_file(self, snap: Snapshot, found: Found, path: str, sf: ServiceFacts) -> None:
        text = snap.text(path)
        if text is None:
            return
        sf.config_files.append(file_ref(path, "config"))
        self._xml_text(found, text, path, sf)

    def _xml_text(self, found: Found, text: str, path: str, sf: ServiceFacts) -> None:
        try:
            root, lines = parse_xml(text)
        except (expat.ExpatError, ValueError) as exc:
            found.unparsable(path, str(exc))
            return
        self._resources(root, lines, path, sf)
        names: list[str] = []
        for user in root.iter("user"):
            pw = user.get("password")
            if pw:
                sf.secrets.append(make_secret("password", pw, path, lines.get(id(user))))
            name = user.get("username") or user.get("name")  # `name` before Tomcat 7
            if name and root.tag == "tomcat-users":
                names.append(name)
        if names:
            first = next(u for u in root.iter("user") if (u.get("username") or u.get("name")) == names[0])
            ev = Evidence("config", path, lines.get(id(first)), excerpt=f'<user username="{names[0]}" ...>')
            sf.identity_stores.append(
                IdentityStore("tomcat-users", False, "UserDatabaseRealm", path, (ev,), users=tuple(names))
            )

    def _webapps(self, snap: Snapshot, found: Found, base: str, sf: ServiceFacts, apps: list[str]) -> None:
        if not snap.is_dir(base):
            return
        sf.data_dirs.append(FileRef(base, "data", evidence=(Evidence("file", base, detail="Host appBase"),)))
        for name in snap.listdir(base):
            path = P.join(base, name)
            if name.endswith(".war") and snap.is_file(path):
                apps.append(name)
                sf.content_paths.append(file_ref(path, "content"))
                self._war(snap, found, path, sf)
            elif snap.is_dir(path):
                if snap.is_file(P.join(base, name + ".war")):
                    continue  # the WAR's own unpacked copy
                apps.append(name + "/")
                sf.content_paths.append(file_ref(path, "content"))
                ctx = P.join(path, "META-INF/context.xml")
                if snap.is_file(ctx):
                    self._xml_file(snap, found, ctx, sf)
                for props in sorted(snap.glob(P.join(path, "WEB-INF/classes/*.properties"))):
                    text = snap.text(props)
                    if text is not None:
                        self._properties(text, props, sf)

    def _war(self, snap: Snapshot, found: Found, path: str, sf: ServiceFacts) -> None:
        result = snap.read(path)
        if not result.ok:
            return
        try:
            with zipfile.ZipFile(io.BytesIO(result.data)) as zf:
                for info in zf.infolist():
                    n = info.filename
                    inner = f"{path}!/{n}"
                    if info.file_size > 1024 * 1024:
                        continue
                    if n == "META-INF/context.xml":
                        self._xml_text(found, decode(zf.read(info)), inner, sf)
                    elif re.fullmatch(r"WEB-INF/classes/[^/]+\.properties", n):
                        self._properties(decode(zf.read(info)), inner, sf)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            found.unparsable(path, f"not a readable zip: {exc}")

    @staticmethod
    def _properties(text: str, path: str, sf: ServiceFacts) -> None:
        settings = []
        for no, key, value in properties(text):
            var, secret = classify_setting(key, value, path, no)
            if secret:
                sf.secrets.append(secret)
            if var.value is not None:
                settings.append((key, var.value, var.evidence[0]))
        sf.endpoints.extend(from_settings(settings))

    @staticmethod
    def _defaults(snap: Snapshot, path: str, sf: ServiceFacts) -> None:
        text = snap.text(path)
        if text is None:
            return
        sf.config_files.append(file_ref(path, "env"))
        for no, key, value in assignments(text):
            if key not in ("JAVA_OPTS", "CATALINA_OPTS"):
                var, secret = classify_setting(key, value, path, no)
                sf.env.append(var)
                if secret:
                    sf.secrets.append(secret)
                continue
            heap, safe = [], []
            for opt in split_command(value):
                if opt.startswith(("-Xmx", "-Xms", "-Xss", "-XX:MaxRAMPercentage")):
                    heap.append(opt)
                if opt.startswith("-D") and "=" in opt:
                    k, _, v = opt[2:].partition("=")
                    _var, secret = classify_setting(k, v, path, no)
                    if secret:
                        sf.secrets.append(secret)
                        opt = f"-D{k}={MASK}"
                safe.append(opt)
            sf.env.append(
                EnvVar(
                    key,
                    " ".join(safe),
                    len(safe) != len(value.split()) or MASK in " ".join(safe),
                    (Evidence("config", path, no, excerpt=f"{key}={' '.join(safe)}"),),
                )
            )
            if heap:
                sf.attributes["jvm_memory"] = " ".join(heap)


def _dedup(endpoints: list[Endpoint]) -> list[Endpoint]:
    """One endpoint per (setting, target), with the evidence of every place that names it."""
    out: dict[tuple[object, ...], Endpoint] = {}
    for ep in endpoints:
        key = (ep.via, ep.host, ep.port, ep.socket, ep.scheme)
        old = out.get(key)
        out[key] = (
            ep if old is None else Endpoint(ep.via, ep.host, ep.port, ep.scheme, ep.socket, old.evidence + ep.evidence)
        )
    return list(out.values())
