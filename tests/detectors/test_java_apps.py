"""java-apps: Spring Boot jar settings and their precedence, runtime, negatives."""

from __future__ import annotations

import io
import zipfile

from detectors.java_apps import JavaAppsDetector
from detectors.systemd import SystemdDetector
from modernize.parsers import javaprops
from modernize.snapshot.memory import Content, Link
from tests.helpers import FIXTURES, inventory, ports

ROOT = FIXTURES / "java-tomcat" / "root"
DETS = [SystemdDetector, JavaAppsDetector]


def fixture_files(unit: str | None = None) -> dict[str, Content]:
    return {
        "/etc/systemd/system/reports.service": unit or (ROOT / "etc/systemd/system/reports.service").read_text(),
        "/etc/systemd/system/multi-user.target.wants/reports.service": Link("/etc/systemd/system/reports.service"),
        "/opt/reports/reports.jar": (ROOT / "opt/reports/reports.jar").read_bytes(),
        "/usr/bin/java": Link("/etc/alternatives/java"),
        "/etc/alternatives/java": Link("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"),
        "/usr/lib/jvm/java-17-openjdk-amd64/bin/java": b"\x7fELF",
        "/usr/lib/jvm/java-17-openjdk-amd64/release": (ROOT / "usr/lib/jvm/java-17-openjdk-amd64/release").read_text(),
    }


def test_reports_jar_fixture() -> None:
    inv = inventory(DETS, fixture_files())
    (svc,) = inv.services
    assert svc.id == "java-app:/opt/reports/reports.jar"
    # --server.port=9091 on the command line beats server.port=9090 inside the jar
    assert ports(svc) == {(None, 9091)}
    assert svc.ports[0].evidence[0].excerpt == "--server.port=9091"
    assert svc.version is not None and svc.version.upstream == "1.4.2"
    assert (svc.runtime, svc.framework, svc.user, svc.enabled) == ("java17", "spring-boot", "reports", True)
    attrs = dict(svc.attributes)
    assert attrs["heap_max"] == "512m" and attrs["spring_boot_version"] == "2.7.18"
    assert attrs["start_class"] == "com.example.reports.ReportsApplication"
    assert attrs["drivers"] == "mysql-connector-j-8.0.33"
    assert [(s.key, s.path, s.line) for s in svc.secrets] == [
        ("spring.datasource.password", "/opt/reports/reports.jar!/BOOT-INF/classes/application.properties", 5)
    ]
    (dep,) = inv.dependencies
    assert (dep.host, dep.port, dep.scheme, dep.via) == (
        "db.corp.example.com",
        3306,
        "jdbc:mysql",
        "spring.datasource.url",
    )
    assert dep.evidence[0].path == "/opt/reports/reports.jar!/BOOT-INF/classes/application.properties"


def test_property_file_port_and_sysprop() -> None:
    unit = (ROOT / "etc/systemd/system/reports.service").read_text().replace(" --server.port=9091", "")
    (svc,) = inventory(DETS, fixture_files(unit)).services
    assert ports(svc) == {(None, 9090)}
    unit = unit.replace("-Xmx512m", "-Xmx512m -Dserver.port=9095")
    (svc,) = inventory(DETS, fixture_files(unit)).services
    assert ports(svc) == {(None, 9095)}


def jar(props: str, extra: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "META-INF/MANIFEST.MF",
            "Manifest-Version: 1.0\r\nSpring-Boot-Version: 3.2.1\r\nImplementation-Ti\r\n tle: x\r\n\r\n",
        )
        z.writestr("BOOT-INF/classes/application.yml", props)
        z.writestr("BOOT-INF/lib/tomcat-embed-core-10.1.17.jar", b"")
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    return buf.getvalue()


UNIT = """[Service]
WorkingDirectory=/srv/app
Environment=JAVA_OPTS=-Xmx1g
{env}
ExecStart=/usr/lib/jvm/temurin-21-jre/bin/java $JAVA_OPTS -jar app.jar

[Install]
WantedBy=multi-user.target
"""


def run(props: str, env: str = "", files: dict[str, Content] | None = None):  # type: ignore[no-untyped-def]
    data: dict[str, Content] = {
        "/etc/systemd/system/app.service": UNIT.format(env=env),
        "/srv/app/app.jar": jar(props),
        **(files or {}),
    }
    inv = inventory(DETS, data)
    (svc,) = inv.services
    return inv, svc


YML = """server:
  address: 127.0.0.1
spring:
  datasource:
    url: jdbc:postgresql://pg.internal/app
    password: s3cret
  redis:
    host: localhost
---
spring:
  config:
    activate:
      on-profile: dev
server:
  port: 1111
"""


def test_yaml_defaults_env_and_external_file() -> None:
    inv, svc = run(YML)
    # no server.port: Boot's default 8080 (the dev profile document is not active)
    assert {(p.address, p.port, p.source) for p in svc.ports} == {("127.0.0.1", 8080, "default")}
    assert svc.runtime == "java21" and dict(svc.attributes)["heap_max"] == "1g"  # $JAVA_OPTS expanded
    assert dict(svc.attributes)["title"] == "x"  # manifest continuation line
    eps = {(d.via, d.host, d.port) for d in inv.dependencies}
    assert eps == {("spring.datasource.url", "pg.internal", 5432), ("spring.redis.host", "localhost", 6379)}
    assert [s.key for s in svc.secrets] == ["spring.datasource.password"]
    # OS env (relaxed binding) beats the jar; an application.properties beside the jar too
    _, svc = run(YML, env="Environment=SERVER_PORT=7000")
    assert ports(svc) == {("127.0.0.1", 7000)}
    _, svc = run(YML, files={"/srv/app/config/application.properties": "server.port = 7100\nserver.address=0.0.0.0\n"})
    assert ports(svc) == {("0.0.0.0", 7100)}
    assert "/srv/app/config/application.properties" in {r.path for r in svc.config_files}


def test_tomcat_and_non_java_units_ignored() -> None:
    unit = "[Service]\nExecStart=/usr/bin/java -cp /usr/share/tomcat10/bin/bootstrap.jar org.apache.catalina.startup.Bootstrap start\n"
    inv = inventory(DETS, {"/etc/systemd/system/tomcat.service": unit})
    assert not [s for s in inv.services if s.software == "java-app"]
    inv = inventory(DETS, {"/etc/systemd/system/x.service": "[Service]\nExecStart=/usr/bin/python3 /srv/x.py\n"})
    assert not [s for s in inv.services if s.software == "java-app"]


def test_properties_parser_rules() -> None:
    text = "# server.port=1\n! comment\nkey\\ with\\ space = a\\\n    b\nserver.port:9000\nempty\nurl = jdbc\\:mysql://h/db\n"
    props = javaprops.parse(text)
    assert props["key with space"] == ("ab", 3)
    assert props["server.port"] == ("9000", 5)
    assert props["empty"] == ("", 6)
    assert props["url"][0] == "jdbc:mysql://h/db"
    assert "# server.port" not in props
