from __future__ import annotations

from pathlib import Path

from detectors.cron import CronDetector
from detectors.dpkg import DpkgDetector
from detectors.host_services import HostServicesDetector
from detectors.systemd import SystemdDetector
from detectors.sysv import SysvDetector
from modernize.model import Inventory, Service
from modernize.parsers import rsyslog
from modernize.snapshot.memory import Link
from tests.helpers import FIXTURES, inventory, service

MDF = FIXTURES / "mail-dns-files" / "root"
PW = FIXTURES / "python-web" / "root"
UNITS = MDF / "usr/lib/systemd/system"


def unit(name: str, enabled: bool = True, root: str = str(UNITS), target: str = "multi-user") -> dict[str, str | Link]:
    out: dict[str, str | Link] = {f"/usr/lib/systemd/system/{name}": Path(root, name).read_text()}
    if enabled:
        out[f"/etc/systemd/system/{target}.target.wants/{name}"] = Link(f"/usr/lib/systemd/system/{name}")
    return out


def run(files: dict[str, str | Link]) -> Inventory:
    return inventory([HostServicesDetector, SystemdDetector, SysvDetector, CronDetector, DpkgDetector], files)


def pset(svc: Service) -> set[tuple[str | None, int | None, str]]:
    return {(p.address, p.port, p.proto) for p in svc.ports}


def read(rel: str) -> str:
    return (MDF / rel).read_text()


def test_rsyslog_fixture_commented_inputs_and_forwarding() -> None:
    files = {
        "/etc/rsyslog.conf": read("etc/rsyslog.conf"),
        "/etc/rsyslog.d/50-remote.conf": read("etc/rsyslog.d/50-remote.conf"),
        "/etc/rsyslog.d/postfix.conf": read("etc/rsyslog.d/postfix.conf"),
        **unit("rsyslog.service"),
    }
    inv = run(files)
    rs = service(inv, "rsyslog")
    assert rs.ports == ()  # `#input(type="imudp" port="514")` is commented
    assert {"/var/log/syslog", "/var/log/mail.log", "/var/log/auth.log"} <= {f.path for f in rs.log_paths}
    assert [(d.host, d.port, d.scheme, d.external) for d in inv.dependencies] == [
        ("logs.corp.example.com", 514, "syslog+tcp", True)
    ]
    assert rs.plumbing and rs.kind == "logging" and rs.enabled is True


def test_rsyslog_inputs_need_their_module() -> None:
    files = {
        "/etc/rsyslog.conf": 'input(type="imtcp" port="10514")\n$ModLoad imudp\n$UDPServerAddress 127.0.0.1\n'
        "$UDPServerRun 5514\n# $InputTCPServerRun 514\n"
        'action(type="omfwd"\n       target="10.9.9.9" port="6514" protocol="tcp")\n',
        **unit("rsyslog.service"),
    }
    inv = run(files)
    rs = service(inv, "rsyslog")
    assert pset(rs) == {("127.0.0.1", 5514, "udp")}  # imtcp is never loaded: that input does not listen
    assert [(d.host, d.port) for d in inv.dependencies] == [("10.9.9.9", 6514)]


def test_rsyslog_selector_parsing() -> None:
    text = 'mail.*;mail.none  /var/log/x\n:programname, startswith, "app" /var/log/app.log\n*.* @[::1]:5140\n'
    cfg = rsyslog.parse("/r", lambda p: text if p == "/r" else None, lambda p: [])
    assert [(a.kind, a.target, a.port, a.proto) for a in cfg.actions] == [
        ("file", "/var/log/x", None, None),
        ("file", "/var/log/app.log", None, None),
        ("forward", "::1", 5140, "udp"),
    ]
    assert not rsyslog.selects("mail.*;mail.none", "mail", True)


def test_cron_and_logrotate() -> None:
    files = {
        "/etc/crontab": read("etc/crontab"),
        "/etc/cron.d/backup": read("etc/cron.d/backup"),
        "/etc/logrotate.conf": read("etc/logrotate.conf"),
        "/etc/logrotate.d/rsyslog": read("etc/logrotate.d/rsyslog"),
        **unit("cron.service"),
        **unit("logrotate.timer", target="timers"),
        **unit("logrotate.service", enabled=False),
    }
    inv = run(files)
    cron = service(inv, "cron")
    assert {f.path for f in cron.config_files if f.role == "config"} == {"/etc/crontab", "/etc/cron.d/backup"}
    assert {f.path for f in cron.config_files if f.role == "env"} == {"/etc/default/cron"}  # from the unit
    assert cron.kind == "scheduler" and cron.enabled is True
    lr = service(inv, "logrotate")
    assert lr.enabled is True and lr.plumbing
    assert not [s for s in inv.services if not s.classified]


def test_cron_files_without_a_cron_daemon() -> None:
    inv = run({"/etc/cron.d/e2scrub_all": "30 3 * * 0 root test -e /run/systemd/system || e2scrub_all\n"})
    assert not [s for s in inv.services if s.software == "cron"]


def test_chrony_fixture_only_command_port() -> None:
    files = {"/etc/chrony/chrony.conf": read("etc/chrony/chrony.conf"), **unit("chrony.service")}
    inv = run(files)
    ch = service(inv, "chrony")
    assert pset(ch) == {("127.0.0.1", 323, "udp"), ("::1", 323, "udp")}  # no `allow`: not an NTP server
    assert [d.path for d in ch.data_dirs] == ["/var/lib/chrony"]
    assert [(d.host, d.port) for d in inv.dependencies] == [("2.debian.pool.ntp.org", 123)]


def test_chrony_allow_opens_ntp_and_cmdport_zero_closes() -> None:
    files = {
        "/etc/chrony.conf": "server 10.0.0.1 iburst port 1123\nallow 10.0.0.0/8\ncmdport 0\n",
        **unit("chrony.service"),
    }
    inv = run(files)
    ch = service(inv, "chrony")
    assert pset(ch) == {("0.0.0.0", 123, "udp"), ("::", 123, "udp")}
    assert [(d.host, d.port) for d in inv.dependencies] == [("10.0.0.1", 1123)]


def test_zabbix_fixture_default_port_and_servers() -> None:
    files = {"/etc/zabbix/zabbix_agentd.conf": read("etc/zabbix/zabbix_agentd.conf"), **unit("zabbix-agent.service")}
    inv = run(files)
    zb = service(inv, "zabbix-agent")
    assert pset(zb) == {("0.0.0.0", 10050, "tcp")}  # `# ListenPort=10050` commented: the default
    assert zb.ports[0].source == "default"
    assert {(d.host, d.port) for d in inv.dependencies} == {("10.0.0.20", None), ("zabbix.corp.example.com", 10051)}
    assert [f.path for f in zb.log_paths] == ["/var/log/zabbix-agent/zabbix_agentd.log"]
    assert zb.user == "zabbix"


def test_zabbix_include_and_start_agents_zero() -> None:
    files = {
        "/etc/zabbix/zabbix_agentd.conf": "Server=zbx\nInclude=/etc/zabbix/zabbix_agentd.conf.d/*.conf\n",
        "/etc/zabbix/zabbix_agentd.conf.d/active.conf": "StartAgents=0\nServerActive=zbx:20051\n",
        **unit("zabbix-agent.service"),
    }
    zb = service(run(files), "zabbix-agent")
    assert zb.ports == ()  # active checks only: no listener
    assert "/etc/zabbix/zabbix_agentd.conf.d/active.conf" in {f.path for f in zb.config_files}


def test_node_exporter_listen_address() -> None:
    base = {**unit("prometheus-node-exporter.service")}
    ne = service(run({**base, "/etc/default/prometheus-node-exporter": read("etc/default/prometheus-node-exporter")}),
                 "prometheus-node-exporter")  # fmt: skip
    assert pset(ne) == {("0.0.0.0", 9100, "tcp")} and ne.user == "prometheus"
    ne2 = service(
        run({**base, "/etc/default/prometheus-node-exporter": 'ARGS="--web.listen-address=127.0.0.1:9200"\n'}),
        "prometheus-node-exporter",
    )
    assert pset(ne2) == {("127.0.0.1", 9200, "tcp")}


def test_os_plumbing_units_are_classified() -> None:
    root = str(PW / "usr/lib/systemd/system")
    files = {
        **unit("e2scrub_reap.service", root=root),
        **unit("systemd-pstore.service", root=root, target="sysinit"),
        **unit("fstrim.timer", root=root, target="timers"),
        "/usr/lib/systemd/system/getty@.service": (PW / "usr/lib/systemd/system/getty@.service").read_text(),
        "/etc/systemd/system/getty.target.wants/getty@tty1.service": Link("/lib/systemd/system/getty@.service"),
        "/lib": Link("usr/lib"),
    }
    inv = run(files)
    assert not [s.id for s in inv.services if not s.classified]
    ids = {s.id for s in inv.services}
    assert {"e2scrub_reap", "systemd-pstore", "fstrim", "getty:tty1"} <= ids
    assert all(s.plumbing for s in inv.services)
    # no systemd here (no /lib/systemd/systemd, no package): flagged as inert
    assert "no init system" in dict(service(inv, "fstrim").attributes)["note"]


def test_disabled_os_unit_is_not_a_service() -> None:
    inv = run(unit("e2scrub_reap.service", enabled=False, root=str(PW / "usr/lib/systemd/system")))
    assert not inv.services


def test_restic_from_cron() -> None:
    files = {"/etc/cron.d/restic": "0 1 * * * root restic -r s3:s3.amazonaws.com/bkt backup /srv\n"}
    inv = run(files)
    r = service(inv, "restic")
    assert dict(r.attributes)["repository"] == "s3:s3.amazonaws.com/bkt" and r.plumbing
