"""The merge step: one service per (software, instance), units and packages attached,
endpoints resolved to local services, apps and shared paths."""

from __future__ import annotations

from modernize.facts import Endpoint, Found, Listener, ServiceFacts
from modernize.merge import build_inventory
from modernize.model import Evidence, FileRef, HostSetting, InitUnit, Package, Port
from modernize.snapshot import MemorySnapshot
from modernize.versions import make_version

EV = (Evidence("config", "/etc/x", 1),)


def _unit(name: str, exe: str, *, state: str = "enabled", enabled: bool | None = True) -> InitUnit:
    return InitUnit(name, "systemd", "service", f"/lib/systemd/system/{name}", enabled, state, exec_start=((exe,),))


def _inventory(found: Found) -> object:
    snap = MemorySnapshot({"/var/lib/intranet/media/a.jpg": "x" * 10, "/srv/app/x": "y"}, strict=False)
    return build_inventory(found, snap, [], [])


def _found() -> Found:
    f = Found()
    f.host.hostname = "web01"
    f.add(HostSetting("hosts-entry", "web01.corp", "127.0.1.1"), HostSetting("hosts-entry", "db.corp", "10.0.0.9"))
    nginx_a = ServiceFacts(
        "nginx", "web-server", ports=[Port(80, address="0.0.0.0", evidence=EV)], binaries=["/usr/sbin/nginx"]
    )
    nginx_a.found_by = "nginx"
    nginx_a.packages = ["nginx", "nginx-core"]
    nginx_a.endpoints = [Endpoint("proxy_pass", "127.0.0.1", 8000, "http")]
    nginx_a.content_paths = [FileRef("/var/lib/intranet/media", "content", evidence=EV)]
    nginx_b = ServiceFacts("nginx", "web-server", ports=[Port(443, address="0.0.0.0")], user="www-data")
    nginx_b.found_by = "other"
    app = ServiceFacts("python-app", "app", instance="/srv/app", units=["app.service"])
    app.ports = [Port(8000, address="127.0.0.1")]
    app.endpoints = [
        Endpoint("DATABASE_URL", "web01.corp", 5432, "postgresql"),
        Endpoint("SMTP_HOST", "smtp.example.com", 587),
        Endpoint("REPORTS_DB", "db.corp", 5432),
    ]
    app.data_dirs = [FileRef("/var/lib/intranet/media", "uploads")]
    pg = ServiceFacts("postgresql", "database", instance="15/main", ports=[Port(5432, address="127.0.0.1")])
    pg.packages = ["postgresql-15"]
    sshd = ServiceFacts("sshd", "remote-access", plumbing=True, ports=[Port(22)], units=["ssh.service"])
    sshd.endpoints = [Endpoint("x", "localhost", 5432)]
    f.add(nginx_a, nginx_b, app, pg, sshd)
    f.add(
        _unit("nginx.service", "/usr/sbin/nginx"),
        _unit("app.service", "/srv/app/venv/bin/gunicorn"),
        _unit("ssh.service", "/usr/sbin/sshd"),
        _unit("mystery.service", "/opt/mystery/run"),
        _unit("systemd-journald.service", "/lib/systemd/systemd-journald", state="static"),
        _unit("old.service", "/opt/old/run", state="disabled", enabled=False),
    )
    f.add(Package("dpkg", "nginx", make_version("1.22.1-9+deb12u1", "dpkg", "nginx"), evidence=EV))
    f.add(Package("dpkg", "postgresql-15", make_version("15.20-0+deb12u1", "dpkg", "postgresql")))
    f.add(
        Listener(
            "tcp", "0.0.0.0", 8080, None, 77, "/opt/mystery/run", ("/opt/mystery/run",), "root", unit="mystery.service"
        )
    )
    f.add(Listener("tcp", "0.0.0.0", 9999, None, 88, "/usr/local/bin/rogue", ("rogue",), "root"))
    return f


def test_one_service_per_software_with_everything_joined() -> None:
    inv = _inventory(_found())
    nginx = next(s for s in inv.services if s.id == "nginx")  # type: ignore[attr-defined]
    assert {p.port for p in nginx.ports} == {80, 443}
    assert nginx.found_by == ("nginx", "other")
    assert nginx.user == "www-data"
    assert nginx.version.upstream == "1.22.1" and nginx.version.series == "1.22"
    assert nginx.packages == ("nginx",)  # only the installed candidate
    assert [m.name for m in nginx.started_by] == ["nginx.service"] and nginx.enabled is True
    pg = next(s for s in inv.services if s.software == "postgresql")  # type: ignore[attr-defined]
    assert pg.id == "postgresql:15/main" and pg.version.series == "15"


def test_units_nobody_claims() -> None:
    inv = _inventory(_found())
    ids = {s.id for s in inv.services}  # type: ignore[attr-defined]
    assert "unit:mystery.service" in ids  # enabled, unrecognised: explicit
    assert "unit:systemd-journald.service" not in ids  # the OS's own static unit
    assert "unit:old.service" not in ids  # disabled
    assert "unit:mystery.service" in inv.coverage.unclassified  # type: ignore[attr-defined]


def test_observed_listeners_join_their_service_or_stand_alone() -> None:
    inv = _inventory(_found())
    mystery = next(s for s in inv.services if s.id == "unit:mystery.service")  # type: ignore[attr-defined]
    assert [(p.port, p.source) for p in mystery.ports] == [(8080, "observed")]
    rogue = next(s for s in inv.services if s.id == "process:/usr/local/bin/rogue")  # type: ignore[attr-defined]
    assert rogue.classified is False and rogue.ports[0].port == 9999


def test_dependencies_resolve_locally_or_are_external() -> None:
    inv = _inventory(_found())
    deps = {(d.source, d.via): d for d in inv.dependencies}  # type: ignore[attr-defined]
    assert deps[("nginx", "proxy_pass")].target == "python-app:/srv/app"
    # web01.corp maps to 127.0.1.1 in /etc/hosts: a name for this host
    assert deps[("python-app:/srv/app", "DATABASE_URL")].target == "postgresql:15/main"
    smtp = deps[("python-app:/srv/app", "SMTP_HOST")]
    assert smtp.external and smtp.target is None and smtp.host == "smtp.example.com"
    assert deps[("python-app:/srv/app", "REPORTS_DB")].external  # db.corp is 10.0.0.9


def test_apps_group_services_that_talk_and_leave_plumbing_out() -> None:
    inv = _inventory(_found())
    apps = {a.id: a.services for a in inv.apps}  # type: ignore[attr-defined]
    assert apps["app:python-app:/srv/app"] == ("nginx", "postgresql:15/main", "python-app:/srv/app")
    assert not any("sshd" in members for members in apps.values())


def test_shared_paths_become_shared_volumes() -> None:
    inv = _inventory(_found())
    shared = {s.path: s.services for s in inv.shared_paths}  # type: ignore[attr-defined]
    assert shared == {"/var/lib/intranet/media": ("nginx", "python-app:/srv/app")}
    app = next(s for s in inv.services if s.software == "python-app")  # type: ignore[attr-defined]
    assert app.data_dirs[0].size_bytes == 10 and app.data_dirs[0].kind == "dir"


def test_a_port_goes_to_the_process_that_opened_it_not_to_any_python() -> None:
    """Two Python apps and a Node one, none started by a unit the listener names: each
    observed port joins the service whose command runs the same script; a python3
    process nobody runs stands alone instead of being credited to either app."""
    f = Found()
    f.host.hostname = "apps01"
    shop = ServiceFacts("python-app", "app", instance="/srv/shop")
    shop.command = ("/usr/bin/python3", "/srv/shop/serve.py", "--port", "8001")
    shop.binaries = ["/usr/bin/python3"]
    blog = ServiceFacts("python-app", "app", instance="/srv/blog")
    blog.command = ("/usr/bin/python3", "/srv/blog/app.py")
    blog.binaries = ["/usr/bin/python3"]
    api = ServiceFacts("node-app", "app", instance="/srv/api")
    api.command = ("/usr/bin/node", "/srv/api/server.js")
    f.add(shop, blog, api)
    py = "/usr/bin/python3"
    f.add(
        Listener("tcp", "0.0.0.0", 8001, None, 10, py, (py, "/srv/shop/serve.py", "--port", "8001"), "shop"),
        Listener("tcp", "0.0.0.0", 8002, None, 11, py, (py, "/srv/blog/app.py"), "blog"),
        Listener("tcp", "127.0.0.1", 3000, None, 12, "/usr/bin/node", ("/usr/bin/node", "/srv/api/server.js"), "api"),
        Listener("tcp", "0.0.0.0", 9000, None, 13, py, (py, "/tmp/adhoc.py"), "root"),
    )
    inv = _inventory(f)
    ports = {s.id: sorted(p.port for p in s.ports) for s in inv.services}  # type: ignore[attr-defined]
    assert ports["python-app:/srv/shop"] == [8001]
    assert ports["python-app:/srv/blog"] == [8002]
    assert ports["node-app:/srv/api"] == [3000]
    (adhoc,) = [s for s in inv.services if 9000 in [p.port for p in s.ports]]  # type: ignore[attr-defined]
    assert adhoc.classified is False and "/tmp/adhoc.py" in adhoc.command


def test_a_listener_started_by_a_link_joins_the_service_named_by_it() -> None:
    """Debian's redis-server is a link to redis-check-rdb: /proc/PID/exe says the latter,
    the command line the former, and the service knows it by the name it was started with."""
    f = Found()
    f.host.hostname = "cache01"
    redis = ServiceFacts("redis", "cache", binaries=["/usr/bin/redis-server"])
    f.add(redis)
    f.add(
        Listener(
            "tcp", "127.0.0.1", 6379, None, 5, "/usr/bin/redis-check-rdb", ("/usr/bin/redis-server", "127.0.0.1:6379"),
            "redis",
        )
    )  # fmt: skip
    inv = _inventory(f)
    (svc,) = [s for s in inv.services if 6379 in [p.port for p in s.ports]]  # type: ignore[attr-defined]
    assert svc.id == "redis" and svc.classified
