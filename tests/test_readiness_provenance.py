"""The provenance rules on fixture servers: SW008 (a dependency from a URL or a local
archive) and SW010 (jQuery 1.x, end-of-life) on the fixtures as built, SW007 (a package
installed with dpkg -i) and SW009 (a binary carried with the app code) on copies with
that one thing added."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from modernize.readiness.assess import HostGrade, assess
from tests.helpers import FIXTURES
from tests.test_readiness import AS_OF, RULES, _root, _scan, fired, graded


def _copy_with(
    scenario: str, files: dict[str, str | bytes], tmp: Path, modes: dict[str, int] | None = None
) -> HostGrade:
    root = tmp / scenario
    shutil.copytree(_root(scenario), root, symlinks=True)
    for path, content in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    for path, mode in (modes or {}).items():
        (root / path.lstrip("/")).chmod(mode)
    return assess(_scan(root), RULES, None, AS_OF)  # type: ignore[arg-type]


def test_dependencies_from_a_url_and_a_local_archive() -> None:
    web = {h.message: h.evidence for h in fired(graded("python-web"))["SW008"]}
    where = "/srv/intranet/venv/lib/python3.11/site-packages/humanize-4.9.0.dist-info/direct_url.json:1"
    assert any("pypi humanize 4.9.0 comes from an archive at a URL: https://files." in m for m in web)
    assert set(web.values()) == {(where,)}
    shop = [h for h in fired(graded("node-app"))["SW008"] if h.service == "node-app:/srv/shop"]
    (hit,) = shop
    assert hit.message == "npm jquery 1.12.4 comes from a local archive file: file:vendor/jquery-1.12.4.tgz"
    assert hit.evidence == ("/srv/shop/package-lock.json:454",)


def test_end_of_life_libraries_with_their_dates() -> None:
    hits = [h for h in fired(graded("node-app"))["SW010"] if h.service == "node-app:/srv/shop"]
    (hit,) = hits
    assert "npm jquery 1.12.4: the 1 series is end-of-life" in hit.message
    assert hit.evidence == ("/srv/shop/package-lock.json:454",)
    # the date matters: express 5 on this fixture is supported, whatever the day
    assert not any("express" in h.message for h in fired(graded("node-app"))["SW010"])


def test_an_end_of_life_date_is_as_of_aware(tmp_path: Path) -> None:
    # Django 4.2 LTS: supported until 2026-04-07 (endoflife.date), as the venv's METADATA says
    meta = "/srv/intranet/venv/lib/python3.11/site-packages/django-4.2.16.dist-info/METADATA"
    root = tmp_path / "python-web"
    shutil.copytree(_root("python-web"), root, symlinks=True)
    (root / meta.lstrip("/")).parent.mkdir(parents=True)
    (root / meta.lstrip("/")).write_text("Metadata-Version: 2.1\nName: Django\nVersion: 4.2.16\n")
    inv = _scan(root)
    before = assess(inv, RULES, None, date(2026, 1, 1))  # type: ignore[arg-type]
    after = assess(inv, RULES, None, date(2026, 4, 7))  # type: ignore[arg-type]
    assert "SW010" not in fired(before)
    msgs = {h.message for h in fired(after)["SW010"]}
    assert "pypi Django 4.2.16: the 4.2 series is end-of-life, its support ended on 2026-04-07" in msgs


# dpkg's and apt's own log formats (dpkg/src/main/main.c, apt-pkg/history); the package is one
# the fixture's dpkg database has
DPKG_LOG = """2025-02-11 10:02:11 startup archives unpack
2025-02-11 10:02:12 install sudo:amd64 <none> 1.9.13p3-1+deb12u1
2025-02-11 10:02:13 status installed sudo:amd64 1.9.13p3-1+deb12u1
"""
HISTORY = """
Start-Date: 2025-01-20  09:00:01
Commandline: apt-get install -y nginx
Install: nginx:amd64 (1.22.1-9+deb12u1)
End-Date: 2025-01-20  09:00:20
"""


def test_a_package_installed_with_dpkg_i(tmp_path: Path) -> None:
    status = (FIXTURES / "python-web/root/var/lib/dpkg/status").read_text()
    (version,) = [
        s.split("Version: ")[1].split("\n")[0] for s in status.split("\n\n") if s.startswith("Package: sudo\n")
    ]
    host = _copy_with(
        "python-web",
        {"/var/log/dpkg.log": DPKG_LOG.replace("1.9.13p3-1+deb12u1", version), "/var/log/apt/history.log": HISTORY},
        tmp_path,
    )
    (hit,) = fired(host)["SW007"]
    assert hit.message.startswith(f"sudo {version} is installed from no configured package source (unpacked by dpkg")
    assert hit.evidence[1] == "/var/log/dpkg.log:2" and hit.evidence[0].startswith("/var/lib/dpkg/status:")


def test_a_binary_carried_with_the_app_code(tmp_path: Path) -> None:
    elf = (FIXTURES / "debian-minbase/root/usr/bin/dash").read_bytes()  # a real ELF executable
    host = _copy_with(
        "python-web",
        {"/srv/intranet/bin/wkhtmltopdf": elf},
        tmp_path,
        modes={"/srv/intranet/bin/wkhtmltopdf": 0o755},
    )
    hits = fired(host)["SW009"]
    assert {h.service for h in hits} >= {"python-app:/srv/intranet"}
    hit = next(h for h in hits if h.service == "python-app:/srv/intranet")
    assert "1 ELF executable(s) or shared object(s)" in hit.message
    assert hit.evidence == ("/srv/intranet/bin/wkhtmltopdf",)
