"""Tomcat detector: server.xml via an XML parser, webapps and WARs, JNDI, credentials."""

from __future__ import annotations

import io
import zipfile

from detectors.tomcat import TomcatDetector, properties
from modernize.serialize import dumps
from modernize.snapshot.memory import Content
from tests.helpers import fixture_tree, inventory, ports, service


def tree(scenario: str, *tops: str) -> dict[str, Content]:
    return fixture_tree(scenario, *tops)


def _fixture() -> dict[str, Content]:
    return tree("java-tomcat", "/etc/tomcat10", "/var/lib/tomcat10", "/etc/default/tomcat10")


def test_java_tomcat_fixture() -> None:
    inv = inventory([TomcatDetector], _fixture())
    svc = service(inv, "tomcat")
    assert svc.id == "tomcat" and svc.kind == "app"
    # AJP 8009 and TLS 8443 are inside <!-- -->; <Server port="-1"> disables the shutdown port
    assert ports(svc) == {(None, 8080)}
    assert dict(svc.attributes)["shutdown_port"] == "disabled"
    assert dict(svc.attributes)["jvm_memory"] == "-Xmx1024m"
    assert {(s.key, s.path) for s in svc.secrets} == {
        ("password", "/etc/tomcat10/tomcat-users.xml"),  # only tcadmin; sample users are in a comment
        ("password", "/etc/tomcat10/Catalina/localhost/billing.xml"),
        ("password", "/var/lib/tomcat10/webapps/billing.war!/META-INF/context.xml"),
        ("spring.datasource.password", "/var/lib/tomcat10/webapps/billing.war!/WEB-INF/classes/application.properties"),
    }
    assert len([s for s in svc.secrets if s.path.endswith("tomcat-users.xml")]) == 1
    # its accounts as an identity store: names only (the sample users are in a comment)
    assert [(x.store, x.host_accounts, x.path, x.users) for x in svc.identity_stores] == [
        ("tomcat-users", False, "/etc/tomcat10/tomcat-users.xml", ("tcadmin",))
    ]
    text = dumps(inv)
    assert "billingPg-7Hq2xLw9" not in text and "tcAdminPw-3Vn8KrQ" not in text
    ext = {(d.host, d.port, d.external) for d in inv.dependencies}
    assert ext == {("10.20.30.40", 5432, True)}
    # conf is a link to /etc/tomcat10: configs are not reported twice
    cfg = {r.path for r in svc.config_files}
    assert "/etc/tomcat10/server.xml" in cfg and not any(p.startswith("/var/lib/tomcat10/conf/") for p in cfg)
    assert {r.path for r in svc.data_dirs} == {"/var/lib/tomcat10/webapps"}
    assert {r.path for r in svc.log_paths} == {"/var/log/tomcat10"}  # logs -> ../../log/tomcat10
    assert dict(svc.attributes)["webapps"] == "ROOT/, billing.war"
    # the commented jdwp line (address=8000) opens nothing
    assert 8000 not in {p.port for p in svc.ports}


SERVER = """<?xml version="1.0"?>
<Server shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="${http.port}" protocol="HTTP/1.1" address="127.0.0.1"/>
    <Connector port="8009" protocol="AJP/1.3" address="::1" secretRequired="true" secret="ajpSecret-1"/>
    <!-- <Connector port="8443" SSLEnabled="true"/> -->
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps"/>
    </Engine>
  </Service>
</Server>
"""


def _war(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in entries.items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_generic_install_properties_default_shutdown_and_war() -> None:
    war = _war(
        {
            "META-INF/context.xml": '<Context><Resource name="jdbc/x" url="jdbc:mysql://db.example.com/app" '
            'username="u" password="warPw-1"/></Context>',
            "WEB-INF/classes/app.properties": "redis.url=redis://:redisPw-2@cache.example.com:6380/0\n",
        }
    )
    inv = inventory(
        [TomcatDetector],
        {
            "/opt/tomcat/conf/server.xml": SERVER,
            "/opt/tomcat/conf/catalina.properties": "# ports\nhttp.port=8081\n",
            "/opt/tomcat/webapps/shop.war": war,
            "/opt/tomcat/webapps/docs/index.html": "<html/>",
            "/opt/tomcat/RELEASE-NOTES": "                     Apache Tomcat Version 9.0.85\n",
        },
    )
    svc = service(inv, "tomcat")
    # Server without port: 8005 on localhost (documented default)
    assert ports(svc) == {("127.0.0.1", 8081), ("::1", 8009), ("127.0.0.1", 8005)}
    shutdown = next(p for p in svc.ports if p.port == 8005)
    assert shutdown.source == "default"
    assert svc.version is not None and svc.version.upstream == "9.0.85"
    assert {(d.host, d.port) for d in inv.dependencies} == {("db.example.com", 3306), ("cache.example.com", 6380)}
    assert {s.key for s in svc.secrets} == {"password", "redis.url", "secret"}  # `secret`: the AJP connector's
    text = dumps(inv)
    assert "warPw-1" not in text and "redisPw-2" not in text and "ajpSecret-1" not in text


def test_two_installs_get_instances_and_bad_war_is_a_finding() -> None:
    inv = inventory(
        [TomcatDetector],
        {
            "/etc/tomcat9/server.xml": '<Server port="-1"><Service><Connector port="8080"/></Service></Server>',
            "/etc/tomcat10/server.xml": '<Server port="-1"><Service><Connector port="8090"/>'
            '<Engine><Host appBase="webapps"/></Engine></Service></Server>',
            "/var/lib/tomcat10/webapps/broken.war": b"not a zip",
        },
    )
    assert sorted(s.id for s in inv.services) == ["tomcat:tomcat10", "tomcat:tomcat9"]
    assert [f for f in inv.findings if f.code == "unparsable" and "broken.war" in (f.path or "")]


def test_properties_parser() -> None:
    text = "# c\n! c\na=1\nb : 2\nc 3\nlong=x\\\n  y\n"
    assert [(k, v) for _n, k, v in properties(text)] == [("a", "1"), ("b", "2"), ("c", "3"), ("long", "xy")]


def test_no_tomcat_no_service() -> None:
    inv = inventory([TomcatDetector], {"/srv/app/webapps/x.war": b"PK"})
    assert not inv.services


def test_the_jvm_tomcat_runs_on() -> None:
    """The Java major is a typed fact (runtime java17): from the `java` alternative
    Debian's start script falls back to, or JAVA_HOME where the defaults file sets it."""
    from modernize.snapshot.memory import Link

    base = tree("java-tomcat", "/etc/tomcat10", "/var/lib/tomcat10")
    alt = {**base, "/etc/alternatives/java": Link("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")}
    assert service(inventory([TomcatDetector], alt), "tomcat").runtime == "java17"
    home = {
        **alt,
        "/etc/default/tomcat10": "JAVA_HOME=/usr/lib/jvm/java-11-openjdk-amd64\n",
    }
    assert service(inventory([TomcatDetector], home), "tomcat").runtime == "java11"
    # neither: the major is not known, and not guessed
    assert service(inventory([TomcatDetector], base), "tomcat").runtime == "java"


def test_tomcat_users_old_attribute_names_and_a_broken_file() -> None:
    files = {
        "/etc/tomcat9/server.xml": '<Server port="-1"><Service name="Catalina">'
        '<Connector port="8080" protocol="HTTP/1.1"/></Service></Server>',
        "/etc/tomcat9/tomcat-users.xml": '<tomcat-users>\n  <user name="deployer" password="CANARYold-9x" roles="x"/>\n'
        '  <user username="viewer" password="" roles="y"/>\n</tomcat-users>\n',
    }
    svc = service(inventory([TomcatDetector], files), "tomcat")
    assert svc.identity_stores[0].users == ("deployer", "viewer")
    assert [s.line for s in svc.secrets] == [2]  # the empty password is not a secret
    assert "CANARYold" not in dumps(inventory([TomcatDetector], files))
    files["/etc/tomcat9/tomcat-users.xml"] = '<tomcat-users><user username="a" password="CANARYbroken"'
    result = inventory([TomcatDetector], files)
    assert service(result, "tomcat").identity_stores == ()
    assert any(f.path == "/etc/tomcat9/tomcat-users.xml" for f in result.findings)
    assert "CANARYbroken" not in dumps(result)
