"""The readiness report's templates (templates/report/report.html.j2 and report.md.j2),
rendered from a sample report dict: structure, escaping of what servers wrote, nothing
loaded from the network, details collapsed; and (slow) the HTML page in a real headless
Chromium: no console errors, no requests but the file itself, no horizontal scroll at
1280 px, print layout, and a screenshot of the summary (also copied to
/tmp/report-summary.png)."""

from __future__ import annotations

import base64
import copy
import html
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import pytest

from tests.helpers import REPO

TEMPLATES = REPO / "templates"
DEPS_SCRIPT = REPO / "scripts" / "browser-deps.sh"
XSS = "<script>alert(1)</script>"
ATTR_BREAK = '/etc/motd" onmouseover="alert(2)'
LONG_PATH = (
    "/opt/billing/webapps/ROOT/WEB-INF/classes/"
    + "com/example/billing/" * 12
    + "ApplicationContextConfiguration.xml:42"
)


def esc(text: str) -> str:
    """HTML-escaped as Jinja escapes it."""
    return str(markupsafe.escape(text))


RULE_LINKS = {
    "HC001": ["https://docs.docker.com/engine/storage/volumes/"],
    "HC003": ["https://docs.docker.com/engine/network/"],
    "HC007": ["https://kubernetes.io/docs/concepts/storage/persistent-volumes/"],
    "ST003": ["https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/"],
    "RT002": ["https://endoflife.date/python", "https://docs.python.org/3/whatsnew/"],
    "RT005": ["https://endoflife.date/php"],
    "NW002": ["https://docs.docker.com/compose/how-tos/networking/"],
    "SC001": ["https://docs.docker.com/engine/swarm/secrets/"],
    "OS004": ["https://www.debian.org/releases/"],
    "LG001": ["https://12factor.net/logs"],
}


def _rule(
    rid: str, title: str, category: str, severity: str, weight: int, effort: float, assumptions: str
) -> dict[str, Any]:
    return {
        "id": rid,
        "title": title,
        "category": category,
        "severity": severity,
        "weight": weight,
        "effort_hours": effort,
        "assumptions": assumptions,
        "remediation": f"See {rid}.",
        "links": RULE_LINKS[rid],
    }


RULES = {
    r["id"]: r
    for r in (
        _rule(
            "HC001",
            "Writes to local disk outside a volume",
            "host coupling",
            "major",
            15,
            8,
            "one data directory, no shared writers",
        ),
        _rule(
            "HC003", "Binds to a host IP address", "host coupling", "minor", 5, 1, "the address is in one config file"
        ),
        _rule(
            "HC007",
            "Mounts an NFS share from another host",
            "host coupling",
            "blocker",
            30,
            16,
            "the share can be reached from the cluster network",
        ),
        _rule(
            "ST003", "Backups run from host cron", "state", "major", 10, 6, "the backup is a pg_dump | gzip pipeline"
        ),
        _rule(
            "RT002", "Runtime past end of life", "runtime", "major", 15, 12, "the app has tests; a minor-version jump"
        ),
        _rule(
            "RT005", "PHP extension built from source", "runtime", "minor", 5, 4, "the extension builds on Debian 12"
        ),
        _rule(
            "NW002", "Talks to a service on another host by IP", "network", "minor", 5, 2, "the peer keeps its address"
        ),
        _rule("SC001", "Secret in a world-readable file", "security", "blocker", 25, 3, "the secret can be rotated"),
        _rule("OS004", "Operating system past end of life", "platform", "info", 0, 0, "informational only"),
        _rule("LG001", "Logs only to files", "operations", "info", 2, 1, "the app can log to stdout"),
    )
}


def finding(rid: str, message: str, evidence: list[str], remediation: str | None = None) -> dict[str, Any]:
    rule = RULES[rid]
    return {
        "rule": rid,
        "severity": rule["severity"],
        "title": rule["title"],
        "message": message,
        "evidence": evidence,
        "remediation": remediation or rule["remediation"],
        "links": rule["links"],
    }


def service(
    sid: str,
    name: str,
    kind: str,
    software: str,
    version: str | None,
    app: str | None,
    score: int,
    grade: str,
    effort: float,
    findings: list[dict[str, Any]],
    plumbing: bool = False,
) -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "kind": kind,
        "software": software,
        "version": version,
        "app": app,
        "plumbing": plumbing,
        "score": score,
        "grade": grade,
        "effort_hours": effort,
        "findings": findings,
    }


INTRANET = "app:python-app:/srv/intranet"
WIKI = "app:php-app:/var/www/wiki"
BILLING = "app:java-app:/opt/billing"


def sample_report() -> dict[str, Any]:
    """Two hosts (db02's inventory incomplete), three apps, eight services, every
    severity and grade, and server text that must stay inert."""
    web01_services = [
        service(
            "nginx:main",
            "nginx",
            "web server",
            "nginx",
            "1.22.1",
            INTRANET,
            100,
            "A",
            0.0,
            [],
        ),
        service(
            "postgresql:15/main",
            "postgresql",
            "database",
            "postgresql",
            "15.20",
            INTRANET,
            92,
            "A",
            6.0,
            [
                finding(
                    "ST003",
                    "Nightly pg_dump runs from the host's crontab",
                    ["/etc/cron.d/intranet-backup:5: pg_dump intranet | gzip > /backup/intranet.sql.gz"],
                ),
                finding(
                    "LG001", "PostgreSQL logs to /var/log/postgresql", ["/etc/postgresql/15/main/postgresql.conf:431"]
                ),
            ],
        ),
        service(
            "systemd:intranet.service",
            "intranet",
            "app server",
            "gunicorn",
            "21.2.0",
            INTRANET,
            81,
            "B",
            5.0,
            [
                finding(
                    "RT002",
                    "Python 3.7 is past end of life (2023-06-27)",
                    ["/srv/intranet/venv/bin/python3.7", "/srv/intranet/runtime.txt:1"],
                    "Move to Python 3.11 first, on the server, and run the tests.\nThen build the image from python:3.11-slim.",
                ),
                finding("HC001", "Uploads are written to /srv/intranet/media", ["/srv/intranet/settings.py:88"]),
                finding("HC003", "gunicorn binds 10.0.4.11:8000 only", ["/etc/systemd/system/intranet.service:9"]),
            ],
        ),
        service(
            "php-fpm:8.2/wiki",
            "php-fpm",
            "app server",
            "php-fpm",
            "8.2.26",
            WIKI,
            66,
            "C",
            14.0,
            [
                finding("RT005", "The imagick extension was built with pecl", ["/usr/lib/php/20220829/imagick.so"]),
                finding(
                    "HC001",
                    "Attachments live in /var/www/wiki/data",
                    ["/var/www/wiki/conf/local.php:12", "/var/www/wiki/data/attic"],
                ),
                finding(
                    "NW002", "LDAP login talks to 10.0.1.5 by address", ["/var/www/wiki/conf/local.protected.php:7"]
                ),
            ],
        ),
        service(
            "cron:root",
            "cron-jobs",
            "scheduled jobs",
            "cron",
            None,
            None,
            62,
            "C",
            4.0,
            [
                finding(
                    "ST003",
                    "Log rotation and a cleanup job run from root's crontab",
                    ["/var/spool/cron/crontabs/root:2", "/var/spool/cron/crontabs/root:9"],
                ),
            ],
            plumbing=True,
        ),
    ]
    db02_services = [
        service(
            "systemd:tomcat9.service",
            "billing",
            "app server",
            "tomcat",
            "9.0.70",
            BILLING,
            12,
            "F",
            46.0,
            [
                finding(
                    "HC007",
                    "Invoices are written to an NFS share from fs01",
                    ["/etc/fstab:14: fs01:/export/invoices /srv/invoices nfs4 rw 0 0", LONG_PATH],
                ),
                finding(
                    "SC001",
                    "The database password is in a world-readable file",
                    ["/opt/billing/conf/db.properties:3 (mode 0644)"],
                ),
                finding("RT002", "Java 8 with a vendor JDK", ["/opt/jdk1.8.0_202/bin/java"]),
                finding("HC001", f"A report template says {XSS}", [XSS, ATTR_BREAK]),
            ],
        ),
        service(
            "mysql:default",
            "mysql",
            "database",
            "mysql",
            "5.7.44",
            BILLING,
            48,
            "D",
            20.0,
            [
                finding("RT002", "MySQL 5.7 is past end of life (2023-10-31)", ["/usr/sbin/mysqld --version: 5.7.44"]),
                finding("HC007", "Binary logs are shipped to fs01 over NFS", ["/etc/mysql/mysql.conf.d/binlog.cnf:4"]),
                finding("ST003", "mysqldump | gzip runs from /etc/cron.daily", ["/etc/cron.daily/mysql-backup:6"]),
            ],
        ),
        service(
            "postfix:main",
            "postfix",
            "mail",
            "postfix",
            "3.4.14",
            None,
            15,
            "F",
            8.0,
            [
                finding("HC007", "The mail spool is on the NFS share", ["/etc/postfix/main.cf:41"]),
            ],
            plumbing=True,
        ),
    ]
    hosts = [
        {
            "hostname": "web01",
            "os": "debian 12 (bookworm)",
            "complete": True,
            "failed_rules": [],
            "score": 74,
            "grade": "C",
            "effort_hours": 40.0,
            "apps": [
                {
                    "id": INTRANET,
                    "services": ["intranet", "postgresql", "nginx"],
                    "score": 81,
                    "grade": "B",
                    "effort_hours": 12.0,
                },
                {"id": WIKI, "services": ["php-fpm"], "score": 64, "grade": "C", "effort_hours": 14.0},
            ],
            "services": web01_services,
            "host_findings": [
                finding("LG001", "rsyslog forwards to 10.0.1.20", ["/etc/rsyslog.d/50-forward.conf:1"]),
            ],
        },
        {
            "hostname": "db02",
            "os": "centos 7 (core)",
            "complete": False,
            "failed_rules": ["PM004"],
            "score": 25,
            "grade": "E",
            "effort_hours": 83.5,
            "apps": [
                {"id": BILLING, "services": ["billing", "mysql"], "score": 12, "grade": "F", "effort_hours": 66.0},
            ],
            "services": db02_services,
            "host_findings": [
                finding(
                    "OS004",
                    "CentOS 7 reached end of life on 2024-06-30",
                    ["/etc/os-release:1", "/etc/redhat-release:1"],
                ),
                finding("SC001", "A private key is readable by everyone", ["/root/.ssh/id_rsa (mode 0644)"]),
                finding(
                    "NW002",
                    "The billing app reaches the payment gateway at 192.0.2.10",
                    ["/opt/billing/conf/gateway.properties:2"],
                ),
            ],
        },
    ]
    grades = [
        {"grade": "A", "min_score": 90, "label": "ready: move now"},
        {"grade": "B", "min_score": 75, "label": "ready with small changes"},
        {"grade": "C", "min_score": 60, "label": "needs work"},
        {"grade": "D", "min_score": 40, "label": "major work"},
        {"grade": "E", "min_score": 20, "label": "hard: rearchitect parts"},
        {"grade": "F", "min_score": 0, "label": "not a container candidate: rehost or rebuild"},
    ]
    return {
        "schema_version": "1.0",
        "tool_version": "0.1.0",
        "as_of": "2026-12-06",
        "grades": grades,
        "scoring": (
            "Every service starts at 100 and loses each finding's rule weight; an app scores as its weakest "
            "service, a host as the mean of its apps and services. Effort adds up each rule's estimate for "
            "every finding; hours are for planning, not quotes."
        ),
        "summary": {
            "hosts": 2,
            "apps": 3,
            "services": 8,
            "incomplete_hosts": ["db02"],
            "grade_counts": {"A": 2, "B": 1, "C": 2, "D": 1, "E": 0, "F": 2},
            "effort_hours": 123.5,
            "top_blockers": [
                {"rule": "HC007", "title": RULES["HC007"]["title"], "severity": "blocker", "count": 3},
                {"rule": "SC001", "title": RULES["SC001"]["title"], "severity": "blocker", "count": 2},
                {"rule": "RT002", "title": RULES["RT002"]["title"], "severity": "major", "count": 3},
                {"rule": "ST003", "title": "Backups run from host cron | pg_dump", "severity": "major", "count": 3},
            ],
            "move_first": [
                {"host": "web01", "app": INTRANET, "grade": "B", "score": 81, "effort_hours": 12.0},
                {"host": "web01", "app": WIKI, "grade": "C", "score": 64, "effort_hours": 14.0},
            ],
        },
        "rules": copy.deepcopy(RULES),
        "hosts": hosts,
    }


def all_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for host in report["hosts"]:
        out += host["host_findings"]
        for svc in host["services"]:
            out += svc["findings"]
    return out


def environment(autoescape: bool | None = None) -> jinja2.Environment:
    """Like modernize.render.environment: FileSystemLoader on templates/, StrictUndefined,
    trim_blocks, lstrip_blocks; autoescape for .html templates unless told otherwise."""
    escape: Any = (lambda name: bool(name) and ".html" in name) if autoescape is None else autoescape
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=escape,
    )


def render(name: str, report: dict[str, Any] | None = None, autoescape: bool | None = None) -> str:
    return environment(autoescape).get_template(f"report/{name}").render(report=report or sample_report())


@pytest.fixture(scope="module")
def page() -> str:
    return render("report.html.j2")


@pytest.fixture(scope="module")
def markdown() -> str:
    return render("report.md.j2")


# -- HTML ---------------------------------------------------------------------


class _Outline(HTMLParser):
    """Headings, tags left open, tables and their header cells, tag attributes."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "wbr", "source", "col", "area", "base", "embed", "track"}
    SVG_EMPTY = {"rect", "line", "path", "circle"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[dict[str, int]] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [tag]
        if tag == "table":
            self.tables.append({"th": 0, "td": 0})
        if tag in ("th", "td") and self.tables:
            self.tables[-1][tag] += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if self._heading is not None and tag == self._heading[0]:
            self.headings.append((int(tag[1]), "".join(self._heading[1:]).strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


def outline(text: str) -> _Outline:
    parser = _Outline()
    parser.feed(text)
    parser.close()
    return parser


def test_html_is_well_formed_and_accessible(page: str) -> None:
    o = outline(page)
    assert o.errors == []
    assert o.stack == []
    assert page.lstrip().startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    # headings start at h1 and never skip a level
    levels = [lvl for lvl, _ in o.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, o.headings
    # every table has header cells
    assert o.tables and all(t["th"] > 0 for t in o.tables)
    # every grade badge says its grade in text, not only in colour
    for m in re.finditer(r'<span class="grade grade-(\w+)[^"]*"[^>]*>([^<]*)</span>', page):
        assert m.group(1) == m.group(2)


def test_html_summary_comes_first_and_covers_the_fleet(page: str) -> None:
    report = sample_report()
    summary = page.index('id="summary"')
    first_host = page.index('<section class="host"')
    assert summary < first_host
    head = page[summary:first_host]
    for text in (
        "Executive summary",
        "Grade distribution",
        "Top blockers",
        "What to move first",
        "What the grades mean",
    ):
        assert text in head
    assert "123.5&nbsp;h" in head
    for b in report["summary"]["top_blockers"]:
        assert b["rule"] in head and esc(b["title"]) in head
    for m in report["summary"]["move_first"]:
        assert m["app"] in head
    for g in report["grades"]:
        assert esc(g["label"]) in head
    assert esc(report["scoring"]) in head
    # the chart: an inline SVG with one bar per non-empty grade, in that grade's colour, labelled with its count
    svg = head[head.index("<svg") : head.index("</svg>")]
    assert svg.count('<rect class="bar"') == sum(1 for n in report["summary"]["grade_counts"].values() if n)
    for grade, n in report["summary"]["grade_counts"].items():
        assert re.search(rf"<title>grade {grade} \([^)]*\): {n}</title>", svg)
    assert len(set(re.findall(r'<rect class="bar" [^>]*fill="(#[0-9a-f]{6})"', svg))) == 5


def test_html_every_host_app_service_and_finding(page: str) -> None:
    report = sample_report()
    hosts = page[page.index('<section class="host"') :]
    positions = []
    for host in report["hosts"]:
        positions.append(hosts.index(f">{host['hostname']}</h2>"))
        for app in host["apps"]:
            assert esc(app["id"]) in hosts
        for svc in host["services"]:
            assert esc(svc["id"]) in hosts
    assert positions == sorted(positions)
    for f in all_findings(report):
        assert f'<span class="rule-id">{f["rule"]}</span>' in hosts
        assert esc(f["message"]) in hosts
        assert esc(f["remediation"]) in hosts
        for e in f["evidence"]:
            assert f"<code>{esc(e)}</code>" in hosts
    assert hosts.count("<details") == len(all_findings(report))
    # the incomplete host says so, in its own section
    db02 = hosts[hosts.index(">db02</h2>") :]
    web01 = hosts[: hosts.index(">db02</h2>")]
    assert "Inventory incomplete: grades cover what was read." in db02
    assert "Some checks could not run on this host" in db02 and "<code>PM004</code>" in db02
    assert "Some checks could not run" not in web01
    assert "Inventory incomplete" not in web01
    assert "Inventory incomplete on db02: grades cover what was read." in page


def test_html_details_are_collapsed(page: str) -> None:
    tags = re.findall(r"<details\b[^>]*>", page)
    assert tags
    assert not [t for t in tags if re.search(r"\sopen\b", t)]


def test_html_loads_nothing(page: str) -> None:
    """Links to rule documentation are allowed as <a href>; nothing is loaded."""
    allowed = {url for links in RULE_LINKS.values() for url in links}
    for tag, attrs in outline(page).tags:
        for name, value in attrs.items():
            if value and re.search(r"(?i)\b(https?:|//|data:|javascript:)", value):
                assert (tag, name) == ("a", "href") and value in allowed, (tag, name, value)
        assert not (tag == "script" and "src" in attrs)
        assert tag not in ("link", "img", "iframe", "object", "embed", "video", "audio", "source")
    assert not re.search(r"(?i)url\s*\(", page)
    assert "@import" not in page
    assert "@font-face" not in page
    # one inline script (opens the details before printing), and it is small
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1 and len(scripts[0]) < 600


def test_html_escapes_what_servers_wrote(page: str) -> None:
    assert XSS not in page
    assert "alert(1)" in page
    assert esc(XSS) in page
    assert ATTR_BREAK not in page
    assert f"<code>{esc(ATTR_BREAK)}</code>" in page
    assert page.count("<script") == 1
    assert not re.search(r"<[^>]+\sonmouseover=", page)


def test_html_escapes_whatever_the_environment_says(page: str) -> None:
    """The template escapes on its own: modernize's generate environment has autoescape off."""
    assert render("report.html.j2", autoescape=False) == page
    assert render("report.html.j2", autoescape=True) == page


def test_templates_render_through_modernizes_environment(page: str, markdown: str) -> None:
    """modernize's own template environment (package templates, autoescape off) gives the same pages."""
    from modernize.render import environment

    env = environment(None)
    assert env.get_template("report/report.html.j2").render(report=sample_report()) == page
    assert env.get_template("report/report.md.j2").render(report=sample_report()) == markdown


def test_hosts_without_failed_rules_render() -> None:
    """failed_rules is optional (the builder writes it; older report.json files lack it)."""
    report = sample_report()
    for host in report["hosts"]:
        del host["failed_rules"]
    assert "Some checks could not run" not in render("report.html.j2", report)
    assert "Some checks could not run" not in render("report.md.j2", report)


def test_html_handles_an_empty_fleet() -> None:
    report = sample_report()
    report["hosts"] = []
    report["rules"] = {}
    report["summary"].update(
        hosts=0, apps=0, services=0, incomplete_hosts=[], effort_hours=0.0, top_blockers=[], move_first=[],
        grade_counts={g: 0 for g in "ABCDEF"},
    )  # fmt: skip
    text = render("report.html.j2", report)
    assert "No blockers found." in text and "Nothing is ready to move yet." in text
    assert "Inventory incomplete" not in text
    assert outline(text).errors == []
    md = render("report.md.j2", report)
    assert "No blockers found." in md
    assert "\n\n\n" not in md


# -- Markdown -----------------------------------------------------------------


def _cells(line: str) -> list[str]:
    """A GitHub table row's cells: split on `|` not escaped with a backslash."""
    inner = line.strip()
    assert inner.startswith("|") and inner.endswith("|") and not inner.endswith("\\|"), line
    return re.split(r"(?<!\\)\|", inner[1:-1])


def test_markdown_tables_are_valid(markdown: str) -> None:
    lines = markdown.splitlines()
    tables = 0
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1]):
            tables += 1
            assert i == 0 or lines[i - 1] == "", f"table at line {i + 1} needs a blank line before it"
            width = len(_cells(lines[i]))
            assert len(_cells(lines[i + 1])) == width
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                assert len(_cells(lines[i])) == width, lines[i]
                i += 1
        else:
            assert not lines[i].startswith("|"), f"line {i + 1} looks like a table row outside a table: {lines[i]}"
            i += 1
    assert tables >= 6
    # the title with a pipe in the top blockers table is escaped, not split
    assert "Backups run from host cron \\| pg_dump" in markdown


def test_markdown_content(markdown: str) -> None:
    report = sample_report()
    assert markdown.startswith("# Container readiness report\n")
    summary = markdown.index("## Executive summary")
    first_host = markdown.index("## Host web01")
    assert summary < first_host < markdown.index("## Host db02")
    head = markdown[summary:first_host]
    for text in ("### Grades", "### Top blockers", "### What to move first", "How scoring works", "123.5 h"):
        assert text in head
    for g in report["grades"]:
        assert g["label"] in head
    assert "> **Inventory incomplete on db02: grades cover what was read.**" in markdown
    db02 = markdown[markdown.index("## Host db02") :]
    assert "> **Inventory incomplete: grades cover what was read.**" in db02
    assert "> **Some checks could not run on this host, so its grades may be too good:** `PM004`\n\n" in db02
    assert markdown.count("Some checks could not run") == 1
    hosts = markdown[first_host:]
    for host in report["hosts"]:
        for app in host["apps"]:
            assert f"### App `{app['id']}`" in hosts
        for svc in host["services"]:
            assert f"`{svc['id']}`" in hosts
    for f in all_findings(report):
        assert f"`{f['rule']}`" in hosts
        for e in f["evidence"]:
            assert f"    - `{e}`" in hosts
        assert f["remediation"].splitlines()[0] in hosts
        for url in f["links"]:
            assert f"<{url}>" in hosts
    # a multi-line remediation stays inside its list item
    assert "\n    Then build the image from python:3.11-slim." in hosts
    # no run of more than one blank line
    assert "\n\n\n" not in markdown
    assert markdown.endswith("Estimates are for planning, not quotes.\n")


def test_markdown_keeps_server_text_inert(markdown: str) -> None:
    # in prose, not HTML; in a code span, shown as it is
    assert f"A report template says {html.escape(XSS, quote=False)}" in markdown
    assert f"`{XSS}`" in markdown
    outside_code = re.sub(r"`[^`\n]*`", "", markdown)
    assert "<script" not in outside_code
    # autoescaping environments do not touch it
    assert render("report.md.j2", autoescape=True) == markdown


def test_markdown_renders_as_intended(markdown: str) -> None:
    """Through a CommonMark renderer with GitHub's tables (markdown-it-py comes with typer's rich):
    the six tables, the findings as nested lists, no HTML let through."""
    markdown_it = pytest.importorskip("markdown_it")
    out = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert out.count("<table>") == 6
    assert "<td>Backups run from host cron | pg_dump</td>" in out
    assert "<script" not in out
    assert not re.search(r"<[^>]+\sonmouseover=", out)
    assert "<li><code>/srv/intranet/runtime.txt:1</code></li>" in out
    assert out.count("<h2>") == 4  # summary, two hosts, rules
    for f in all_findings(sample_report()):
        assert f"<code>{esc(f['rule'])}</code>" in out


def test_markdown_code_spans_hold_backticks() -> None:
    report = sample_report()
    report["hosts"][0]["host_findings"][0]["evidence"] = ["echo `date` >> /var/log/x", "a``b"]
    md = render("report.md.j2", report)
    assert "`` echo `date` >> /var/log/x ``" in md
    assert "``` a``b ```" in md


# -- the page in a real browser -------------------------------------------------


def _unavailable(reason: str) -> None:
    # CI installs and runs everything: there a missing browser is a failure
    if os.environ.get("CI"):
        pytest.fail(f"headless Chromium unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"headless Chromium unavailable: {reason}")


@pytest.fixture(scope="module")
def chrome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium through chromedriver (Debian's chromium and chromium-driver;
    scripts/browser-deps.sh installs them, and is run here when root lacks them)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install selenium)")
        raise
    if (shutil.which("chromium") is None or shutil.which("chromedriver") is None) and os.geteuid() == 0:
        proc = subprocess.run(["/bin/bash", str(DEPS_SCRIPT)], capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            _unavailable(f"{DEPS_SCRIPT.name} failed: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_bin is None:
        _unavailable("chromium or chromedriver is not installed (run scripts/browser-deps.sh as root)")
        raise AssertionError("unreachable")
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_bin), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _viewport(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


@pytest.mark.slow
def test_html_in_headless_chromium(chrome: Any, tmp_path: Path) -> None:
    driver = chrome
    report_file = tmp_path / "report.html"
    report_file.write_text(render("report.html.j2"), encoding="utf-8")
    url = report_file.as_uri()
    # the browser starts on its own new-tab page: leave it, and drop what it logged
    driver.get("about:blank")
    driver.get_log("browser")
    driver.get_log("performance")
    _viewport(driver, 1280, 1000)
    driver.get(url)
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.execute_script("return window.innerWidth") == 1280

    # no console errors (nor warnings: nothing should complain about this page)
    logs = driver.get_log("browser")
    assert [e for e in logs if e["level"] in ("SEVERE", "WARNING")] == [], logs

    # no request but the file itself
    # (requests of the browser's own new-tab page, which may still come in, are not the report's)
    requested = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            requested.append((params["request"]["url"], params.get("documentURL", "")))
    assert (url, url) in requested, requested
    for request_url, document in requested:
        if not document.startswith(("chrome://", "chrome-untrusted://")):
            assert request_url == url, requested
    # and no resource the page pulled in another way
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []

    # the server's script did not run: it is text (in a message and in evidence)
    assert driver.execute_script("return document.body.textContent").count(XSS) == 2
    assert driver.execute_script("return document.scripts.length") == 1

    # no horizontal scroll at 1280 px, even with every finding open
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 1280
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 1280
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = false)")

    # printing: closed findings still show their remediation, and the page makes a PDF
    remediation_shown = "return document.querySelector('details.finding .remediation').checkVisibility()"
    assert driver.execute_script(remediation_shown) is False
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert driver.execute_script(remediation_shown) is True
        assert driver.execute_script("return getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
    pdf_bytes = base64.b64decode(pdf["data"])
    assert pdf_bytes.startswith(b"%PDF")
    (tmp_path / "report.pdf").write_bytes(pdf_bytes)
    # printing opened no details for good (afterprint closes what beforeprint opened)
    assert driver.execute_script("return document.querySelectorAll('details[open]').length") == 0

    # a screenshot of the executive summary, for people to look at
    height = driver.execute_script(
        "return Math.ceil(document.getElementById('summary').getBoundingClientRect().bottom) + 24"
    )
    _viewport(driver, 1280, int(height))
    shot = tmp_path / "report-summary.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    _viewport(driver, 1280, 1000)
    try:
        shutil.copyfile(shot, Path(tempfile.gettempdir()) / "report-summary.png")
        shutil.copyfile(tmp_path / "report.pdf", Path(tempfile.gettempdir()) / "report-sample.pdf")
    except OSError:
        pass
