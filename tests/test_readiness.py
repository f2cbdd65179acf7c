"""Readiness rules, grades and the report, on scans of the fixture servers.

Every rule fires on a fixture server (or on a copy of one with the one thing the
rule is about added), with evidence, and the clean minimal Debian stays silent."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from modernize.detector import Registry
from modernize.readiness.assess import HostGrade, ServiceGrade, assess, grade_of
from modernize.readiness.rule import SEVERITIES, Hit, RuleSet
from modernize.report.build import build
from modernize.report.schema import report_schema
from modernize.scan import scan
from modernize.snapshot import open_snapshot
from tests.fixture_tree import materialize, scenarios
from tests.helpers import FIXTURES, REPO

AS_OF = date(2026, 12, 6)
RULES = RuleSet.installed()


def _scan(root: Path) -> object:
    return scan(open_snapshot(str(root)), Registry.from_entry_points(autoload=False)).inventory


@functools.cache
def _root(scenario: str) -> Path:
    return materialize(scenario, Path(tempfile.mkdtemp(prefix="modernize-ready-")))


def _plan(inv: object) -> object:
    from modernize.plan.images import load_images
    from modernize.plan.planner import plan

    return plan(inv, load_images())  # type: ignore[arg-type]


@functools.cache
def graded(scenario: str, as_of: date = AS_OF) -> HostGrade:
    """The scan of a fixture, graded with its plan (so the plan's rules run too)."""
    inv = _scan(_root(scenario))
    return assess(inv, RULES, _plan(inv), as_of)  # type: ignore[arg-type]


def fired(host: HostGrade) -> dict[str, list[Hit]]:
    out: dict[str, list[Hit]] = {}
    for f in [*host.host_findings, *(f for s in host.services for f in s.findings)]:
        out.setdefault(f.rule.id, []).append(f.hit)
    return out


def _with(
    scenario: str, files: dict[str, str | bytes], tmp: Path, *, sparse: dict[str, int] | None = None, plan: bool = False
) -> HostGrade:
    """A copy of a fixture server with FILES added (text, bytes, or `->target` for a
    symlink) and SPARSE files of so many bytes (nothing written: sizes come from
    metadata), scanned and graded, with its plan when PLAN."""
    root = tmp / scenario
    shutil.copytree(_root(scenario), root, symlinks=True)
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        elif text.startswith("->"):
            target.symlink_to(text[2:].strip())
        else:
            target.write_text(text)
    for path, size in (sparse or {}).items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as f:
            f.truncate(size)
    inv = _scan(root)
    return assess(inv, RULES, _plan(inv) if plan else None, AS_OF)  # type: ignore[arg-type]


# rule -> a fixture server it fires on, as read in the fixture's files
FIRES_ON = {
    "HC010": "mail-dns-files", "HC011": "mail-dns-files", "HC012": "rhel9", "PM009": "php-fpm",
    "CF001": "python-web", "CF002": "java-tomcat", "CF003": "python-web", "CF004": "python-web",
    "CF005": "lamp", "HC001": "python-web", "HC002": "mail-dns-files", "HC003": "python-web",
    "HC004": "mail-dns-files", "HC005": "rhel9", "HC006": "python-web", "HC007": "mail-dns-files",
    "IA001": "mail-dns-files", "IA003": "java-tomcat", "IA004": "python-web", "IA005": "python-web",
    "OP001": "python-web", "OP003": "java-tomcat", "OP004": "mail-dns-files", "OP005": "mail-dns-files",
    "PM001": "mail-dns-files", "PM002": "alpine", "PM003": "lamp", "PM005": "mail-dns-files",
    "SW008": "python-web", "SW010": "node-app",
    "PM004": "mail-dns-files", "PM006": "python-web", "ST001": "python-web", "ST002": "python-web", "ST004": "mail-dns-files",
    "SW001": "alpine", "SW003": "python-web", "SW004": "php-fpm", "SW005": "python-web",
    "PL001": "mail-dns-files", "PL002": "python-web", "PL003": "java-tomcat", "PL005": "java-tomcat",
    "ST008": "python-web", "ST009": "mail-dns-files", "IA007": "python-web", "PM007": "python-web",
    "CF006": "python-web", "HC008": "mail-dns-files", "HC009": "python-web", "PM008": "python-web",
    "CF007": "python-web", "IA009": "python-web", "ST010": "python-web", "OP006": "java-tomcat",
    "SW006": "php-fpm", "IA010": "python-web", "IA011": "mail-dns-files", "CF008": "lamp",
}  # fmt: skip
# rules no fixture has the facts for yet: each gets a test on a fixture copy below, or
# waits for the inventory fact it needs (listed, so that a new firing is noticed)
ADDED = {"ST003", "IA006", "IA008", "SW002", "OP002", "IA002", "ST005", "ST006", "ST007", "PL004", "PL006"}
ADDED |= {"SW007", "SW009"}  # tests/test_readiness_provenance.py
NOT_YET: set[str] = set()


def test_every_rule_is_a_complete_record() -> None:
    assert len(RULES) >= 60
    for r in RULES:
        assert r.id[:2].isalpha() and r.id[2:].isdigit() and len(r.id) == 5, r.id
        assert r.severity in SEVERITIES and r.effort_hours > 0 and r.title and r.remediation and r.assumptions
    assert set(FIRES_ON) | ADDED | NOT_YET == {r.id for r in RULES}


@pytest.mark.parametrize("rule_id", sorted(FIRES_ON))
def test_rule_fires_on_a_fixture_with_evidence(rule_id: str) -> None:
    hits = fired(graded(FIRES_ON[rule_id])).get(rule_id)
    assert hits, f"{rule_id} did not fire on {FIRES_ON[rule_id]}"
    assert any(h.evidence for h in hits), f"{rule_id} fired without evidence"


def test_plan_rules_need_the_plan() -> None:
    inv = _scan(_root("mail-dns-files"))
    without = assess(inv, RULES, None, AS_OF)  # type: ignore[arg-type]
    assert "PL001" in fired(graded("mail-dns-files")) and not any(r.startswith("PL") for r in fired(without))


def test_rules_no_fixture_fires_are_the_listed_ones() -> None:
    seen = {rid for s in scenarios() for rid in fired(graded(s))}
    assert {r.id for r in RULES} - seen == ADDED | NOT_YET


def test_a_clean_minimal_debian_is_silent() -> None:
    """debian-minbase before bookworm's regular support ended: nothing to say."""
    host = graded("debian-minbase", date(2026, 1, 1))
    assert fired(host) == {} and host.score == 100 and host.failed_rules == []
    assert "SW005" in fired(graded("debian-minbase"))  # and after it, only that


def test_local_backups(tmp_path: Path) -> None:
    host = _with(
        "python-web", {"/etc/cron.d/db-dump": "15 1 * * * postgres pg_dump intranet > /var/backups/i.sql\n"}, tmp_path
    )
    (hit,) = fired(host)["ST003"]
    assert "pg_dump" in hit.message and hit.evidence == ("/etc/cron.d/db-dump:1",)


def test_socket_activation(tmp_path: Path) -> None:
    unit = "[Socket]\nListenStream=8000\n\n[Install]\nWantedBy=sockets.target\n"
    host = _with(
        "python-web",
        {
            "/etc/systemd/system/intranet.socket": unit,
            "/etc/systemd/system/sockets.target.wants/intranet.socket": "->/etc/systemd/system/intranet.socket",
        },
        tmp_path,
    )
    hits = fired(host)["PM004"]
    assert hits and hits[0].evidence == ("/etc/systemd/system/intranet.socket",)


def test_a_licence_dongle_daemon(tmp_path: Path) -> None:
    # a CodeMeter runtime as Wibu's Linux package installs it (unit text hand-written after it)
    unit = (
        "[Unit]\nDescription=CodeMeter Runtime Server\nAfter=network.target\n\n[Service]\nType=forking\n"
        "ExecStart=/usr/sbin/CodeMeterLin -f\nUser=daemon\n\n[Install]\nWantedBy=multi-user.target\n"
    )
    host = _with(
        "python-web",
        {
            "/usr/lib/systemd/system/codemeter.service": unit,
            "/etc/systemd/system/multi-user.target.wants/codemeter.service": "->/lib/systemd/system/codemeter.service",
            "/etc/wibu/CodeMeter/Server.ini": "[Backup]\nInterval=24\n",
        },
        tmp_path,
    )
    (hit,) = fired(host)["HC011"]
    assert "CodeMeter" in hit.message
    assert hit.evidence[:2] == ("/usr/lib/systemd/system/codemeter.service:7", "/etc/wibu/CodeMeter/Server.ini")


def test_forking_and_notify_come_from_the_units_type() -> None:
    hits = fired(graded("lamp"))
    (forking,) = [h for h in hits["PM006"] if h.service == "apache2"]
    assert "apache2.service says Type=forking" in forking.message
    assert forking.evidence[0] == "/usr/lib/systemd/system/apache2.service:9"
    notify = {h.service: h.evidence[0] for h in fired(graded("php-fpm"))["PM009"]}
    assert notify["php-fpm:8.2"] == "/usr/lib/systemd/system/php8.2-fpm.service:8"


def test_a_management_interface(tmp_path: Path) -> None:
    web = '<?xml version="1.0"?>\n<web-app><display-name>Tomcat Manager Application</display-name></web-app>\n'
    host = _with("java-tomcat", {"/var/lib/tomcat10/webapps/manager/WEB-INF/web.xml": web}, tmp_path)
    assert [s for s in host.services if any(f.rule.id == "IA006" for f in s.findings)]


def test_scores_are_monotonic() -> None:
    """A finding more never raises a score, for a service or its host."""
    host = graded("mail-dns-files")
    findings = [f for s in host.services for f in s.findings]
    assert len(findings) > 5
    svc = ServiceGrade("x", "x", "app", "x", None, None, [])
    last = svc.score
    for f in findings:
        svc.findings.append(f)
        assert svc.score <= last
        last = svc.score
    assert grade_of(100) == "A" and grade_of(39) == "E" and grade_of(0) == "F"


def test_the_mail_dns_file_server_grades_worse_than_the_web_servers() -> None:
    infra = graded("mail-dns-files")
    assert infra.score < graded("python-web").score < graded("node-app").score
    blockers = [f for s in infra.services for f in s.findings if f.rule.severity == "blocker"]
    assert blockers and all(f.hit.evidence for f in blockers)
    assert infra.score <= 39  # a blocker anywhere caps the host


def test_report_fits_its_schema_and_holds_no_secret() -> None:
    from tests.test_generate import _secret_values

    hosts = [graded(s) for s in scenarios()]
    report = build(hosts, RULES, AS_OF)
    jsonschema.validate(report, report_schema())
    assert report["summary"]["hosts"] == len(hosts)
    text = json.dumps(report)
    for s in scenarios():
        for value in _secret_values(s):
            assert value not in text, f"a secret value of {s} is in the report"


def test_report_command_writes_every_view(tmp_path: Path) -> None:
    invs = []
    for s in ("python-web", "mail-dns-files"):
        out = tmp_path / f"{s}.json"
        assert _modernize("scan", str(_root(s)), "-o", str(out), "-q").returncode == 0
        invs.append(str(out))
    res = _modernize("report", *invs, "-o", str(tmp_path / "rep"), "--as-of", "2026-12-06")
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in (tmp_path / "rep").iterdir())
    assert names == [".modernize", "findings.csv", "report.csv", "report.html", "report.json", "report.md"]
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert [h["hostname"] for h in report["hosts"]] == ["infra01", "web01"]
    from tests.test_generate import _secret_values

    secrets = _secret_values("python-web") | _secret_values("mail-dns-files")
    assert secrets
    for view in (tmp_path / "rep").iterdir():
        if view.is_file():
            text = view.read_text()
            assert not [v for v in secrets if v in text], f"a secret value is in {view.name}"
    csv_rows = (tmp_path / "rep" / "report.csv").read_text().splitlines()
    assert csv_rows[0].startswith("host,app,service") and len(csv_rows) == 1 + report["summary"]["services"]
    only = _modernize("report", invs[0], "-o", str(tmp_path / "r2"), "--rules", "state", "--skip-rules", "ST001")
    rules = json.loads((tmp_path / "r2" / "report.json").read_text())["rules"]
    state = sorted(r.id for r in RULES if r.category == "state" and r.id != "ST001")
    assert only.returncode == 0 and sorted(rules) == state and len(state) >= 8
    bad = _modernize("report", invs[0], "-o", str(tmp_path / "r3"), "--as-of", "soon")
    assert bad.returncode == 2 and "--as-of" in bad.stderr
    bad = _modernize("report", invs[0], "-o", str(tmp_path / "r3"), "--rules", "XX999")
    assert bad.returncode == 2 and "XX999" in bad.stderr


def test_the_rule_catalogue_in_docs_is_current() -> None:
    """docs/rules.md is `modernize rules list --markdown`; refresh it with that command."""
    res = _modernize("rules", "list", "--markdown")
    assert res.returncode == 0
    assert (REPO / "docs" / "rules.md").read_text() == res.stdout, (
        "run: modernize rules list --markdown > docs/rules.md"
    )


def _modernize(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modernize", *args], capture_output=True, text=True, cwd=REPO)


def test_an_incomplete_inventory_says_so() -> None:
    from dataclasses import replace

    inv = _scan(_root("python-web"))
    partial = replace(inv, coverage=replace(inv.coverage, complete=False))  # type: ignore[type-var]
    report = build([assess(partial, RULES, None, AS_OF)], RULES, AS_OF)  # type: ignore[arg-type]
    assert report["summary"]["incomplete_hosts"] == ["web01"] and report["hosts"][0]["complete"] is False


def test_modernize_toml_switches_rules_off_and_the_command_line_wins(tmp_path: Path) -> None:
    inv = tmp_path / "inv.json"
    assert _modernize("scan", str(_root("python-web")), "-o", str(inv), "-q").returncode == 0
    out = tmp_path / "rep"
    out.mkdir()
    (out / "modernize.toml").write_text('[rules]\nskip = ["configuration", "IA005"]\n')
    assert _modernize("report", str(inv), "-o", str(out)).returncode == 0
    rules = json.loads((out / "report.json").read_text())["rules"]
    assert "IA005" not in rules and not any(r.startswith("CF") for r in rules) and "ST001" in rules
    assert _modernize("report", str(inv), "-o", str(out), "--skip-rules", "ST001").returncode == 0
    rules = json.loads((out / "report.json").read_text())["rules"]
    assert "ST001" not in rules and "IA005" in rules  # the command line's choice replaces the file's
    (tmp_path / "bad.toml").write_text("[rulez]\n")
    bad = _modernize("report", str(inv), "-o", str(out), "--config", str(tmp_path / "bad.toml"))
    assert bad.returncode == 2 and "rulez" in bad.stderr


def _copy_from(scenario: str, *paths: str) -> dict[str, str]:
    """Files of another fixture server, to add to a copy: `{path: text}`."""
    root = FIXTURES / scenario / "root"
    return {p: (root / p.lstrip("/")).read_text() for p in paths}


def test_an_unclaimed_private_key(tmp_path: Path) -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    host = _with("python-web", {"/root/.ssh/id_ed25519": key}, tmp_path)
    (hit,) = fired(host)["IA008"]
    assert "/root/.ssh/id_ed25519" in hit.evidence and "b3Blbn" not in hit.message


def test_end_of_life_software_outside_the_distribution(tmp_path: Path) -> None:
    """A Tomcat 8.5 unpacked under /opt (upstream support ended 2024-03-31)."""
    conf = _copy_from("java-tomcat", "/etc/tomcat10/server.xml")["/etc/tomcat10/server.xml"]
    notes = "Apache Tomcat Version 8.5.100\nRelease Notes\n"
    host = _with(
        "java-tomcat",
        {
            "/opt/tomcat8/conf/server.xml": conf.replace('port="8080"', 'port="8180"'),
            "/opt/tomcat8/RELEASE-NOTES": notes,
        },
        tmp_path,
    )
    hits = fired(host)["SW002"]
    assert any("tomcat 8.5.100" in h.message and "2024-03-31" in h.message for h in hits), hits


def test_mail_through_a_local_mta(tmp_path: Path) -> None:
    postfix = _copy_from("mail-dns-files", "/etc/postfix/main.cf", "/etc/postfix/master.cf")
    host = _with("python-web", postfix, tmp_path)
    hits = fired(host).get("OP002")
    assert hits and {h.service for h in hits} >= {"python-app:/srv/intranet"}


def test_an_app_on_a_privileged_port(tmp_path: Path) -> None:
    dump = (FIXTURES / "node-app" / "root" / "home/deploy/.pm2/dump.pm2").read_text()
    host = _with("node-app", {"/home/deploy/.pm2/dump.pm2": dump.replace('"PORT": 3000', '"PORT": 80')}, tmp_path)
    hits = fired(host).get("IA002")
    assert hits and any("[80]" in h.message for h in hits), fired(host).keys()


RABBITMQ = REPO / "tests" / "detectors" / "data" / "rabbitmq"


def test_state_keyed_by_the_host_name(tmp_path: Path) -> None:
    """RabbitMQ from Debian's package files on web01: the node is rabbit@web01 and its
    database lives in mnesia/rabbit@web01."""
    unit = "/lib/systemd/system/rabbitmq-server.service"
    host = _with(
        "python-web",
        {
            "/etc/rabbitmq/rabbitmq-env.conf": (RABBITMQ / "rabbitmq-env.conf").read_text(),
            unit: (RABBITMQ / "rabbitmq-server.service").read_text(),
            "/etc/systemd/system/multi-user.target.wants/rabbitmq-server.service": f"->{unit}",
            "/var/lib/rabbitmq/mnesia/rabbit@web01/cluster_nodes.config": "{[rabbit@web01],[rabbit@web01]}.\n",
        },
        tmp_path,
    )
    (hit,) = fired(host)["ST007"]
    assert hit.service == "rabbitmq" and "rabbit@web01" in hit.message
    assert hit.evidence == ("/etc/hostname:1", "/var/lib/rabbitmq/mnesia/rabbit@web01")


def test_state_in_tmp(tmp_path: Path) -> None:
    """Redis told to save its RDB snapshots in /tmp (a common answer to a MISCONF error)."""
    conf = _copy_from("python-web", "/etc/redis/redis.conf")["/etc/redis/redis.conf"]
    assert "\ndir /var/lib/redis\n" in conf
    host = _with(
        "python-web", {"/etc/redis/redis.conf": conf.replace("\ndir /var/lib/redis\n", "\ndir /tmp\n")}, tmp_path
    )
    (hit,) = fired(host)["ST005"]
    assert hit.service == "redis" and "/tmp" in hit.message and hit.evidence[0].startswith("/etc/redis/redis.conf:")


def test_a_lot_of_data(tmp_path: Path) -> None:
    """60 GiB of PostgreSQL tables (1 GiB segment files, sparse: sizes come from metadata)."""
    base = "/var/lib/postgresql/15/main/base/16384/24576"
    segments = {base if i == 0 else f"{base}.{i}": 2**30 for i in range(60)}
    host = _with("python-web", {}, tmp_path, sparse=segments)
    (hit,) = fired(host)["ST006"]
    assert hit.service == "postgresql:15/main" and "60 GiB" in hit.message
    assert "/var/lib/postgresql/15/main" in hit.evidence


def test_a_large_image(tmp_path: Path) -> None:
    """A 1.5 GiB model file in the app's code directory: the image carries it."""
    host = _with("python-web", {}, tmp_path, sparse={"/srv/intranet/models/classifier.onnx": 3 * 2**29}, plan=True)
    hits = fired(host)["PL006"]
    assert any("MB" in h.message and "/srv/intranet" in h.evidence for h in hits), hits


def test_a_localhost_connection_the_plan_cannot_rewrite(tmp_path: Path) -> None:
    """A Spring Boot jar beside PostgreSQL whose packed application.properties says
    localhost: the plan copies the jar but cannot edit inside it."""
    import io
    import zipfile

    jar = _root("java-tomcat") / "opt/reports/reports.jar"
    out = io.BytesIO()
    with zipfile.ZipFile(jar) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "BOOT-INF/classes/application.properties":
                data = data.replace(b"jdbc:mysql://db.corp.example.com:3306/", b"jdbc:postgresql://localhost:5432/")
            dst.writestr(item, data)
    unit = (_root("java-tomcat") / "etc/systemd/system/reports.service").read_text()
    host = _with(
        "python-web",
        {
            "/opt/reports/reports.jar": out.getvalue(),
            "/etc/systemd/system/reports.service": unit,
            "/etc/systemd/system/multi-user.target.wants/reports.service": "->/etc/systemd/system/reports.service",
        },
        tmp_path,
        plan=True,
    )
    hits = fired(host)["PL004"]
    assert any("localhost" in h.message for h in hits), hits
    assert any(e.endswith("reports.jar!/BOOT-INF/classes/application.properties:3") for h in hits for e in h.evidence)


def test_users_who_log_in_with_the_host_accounts() -> None:
    """Debian's dovecot (`!include auth-system.conf.ext` -> passdb pam) and a standalone
    Samba (tdbsam, unix password sync) on the mail/file server."""
    hits = {h.service: h for h in fired(graded("mail-dns-files"))["IA011"]}
    assert set(hits) == {"dovecot", "samba"}
    assert "passdb driver pam" in hits["dovecot"].message
    assert hits["dovecot"].evidence == ("/etc/dovecot/conf.d/auth-system.conf.ext:11",)
    assert "tdbsam" in hits["samba"].message and "/etc/samba/smb.conf:82" in hits["samba"].evidence


def test_apache_basic_auth_against_pam(tmp_path: Path) -> None:
    conf = (
        "<Location /admin>\n"
        "    AuthType Basic\n"
        '    AuthName "Staff"\n'
        "    AuthBasicProvider PAM\n"
        "    AuthPAMService httpd-admin\n"
        "    Require valid-user\n"
        "</Location>\n"
    )
    host = _with(
        "lamp",
        {
            "/etc/apache2/conf-available/admin-pam.conf": conf,
            "/etc/apache2/conf-enabled/admin-pam.conf": "->../conf-available/admin-pam.conf",
            # as Debian's libapache2-mod-authnz-pam ships it, enabled with a2enmod
            "/etc/apache2/mods-available/authnz_pam.load": (
                "LoadModule authnz_pam_module /usr/lib/apache2/modules/mod_authnz_pam.so\n"
            ),
            "/etc/apache2/mods-enabled/authnz_pam.load": "->../mods-available/authnz_pam.load",
        },
        tmp_path,
    )
    (hit,) = fired(host)["IA011"]
    assert hit.service == "apache2" and hit.evidence == ("/etc/apache2/conf-enabled/admin-pam.conf:4",)


def test_connection_settings_with_no_environment_override() -> None:
    """wp-config.php's define('DB_HOST', ...) and a Tomcat Resource url are literals the app
    reads itself; an env file, a unit, a pm2 dump or a Spring property is not reported."""
    lamp = {h.service: h for h in fired(graded("lamp"))["CF008"]}
    assert lamp["wordpress:/var/www/html/shop"].evidence == ("/var/www/html/shop/wp-config.php:32",)
    assert "getenv('DB_HOST')" in lamp["wordpress:/var/www/html/shop"].message
    assert "mariadb:3306" in lamp["wordpress:/var/www/html/shop"].message  # what the plan bakes in instead
    (tomcat,) = fired(graded("java-tomcat"))["CF008"]
    assert tomcat.service == "tomcat" and tomcat.evidence == ("/etc/tomcat10/Catalina/localhost/billing.xml:4",)
    for quiet in ("python-web", "node-app"):
        assert "CF008" not in fired(graded(quiet))


def test_each_rule_carries_konveyors_category_and_labels() -> None:
    records = {r.id: r.record() for r in RULES}
    assert {r["migration"] for r in records.values()} == {"mandatory", "optional", "potential"}
    for r in RULES:
        rec = records[r.id]
        want = {"blocker": "mandatory", "major": "mandatory", "minor": "optional", "info": "potential"}[r.severity]
        assert rec["migration"] == (r.migration or want), r.id
        assert "konveyor.io/target=containers" in rec["labels"]
        assert f"modernize.dev/category={r.category.replace(' ', '-')}" in rec["labels"]
    listed = subprocess.run([sys.executable, "-m", "modernize", "rules", "list", "--json"],
                            capture_output=True, text=True, timeout=60, cwd=REPO, check=True)  # fmt: skip
    assert {r["id"]: r["migration"] for r in json.loads(listed.stdout)} == {
        k: v["migration"] for k, v in records.items()
    }
