"""Where app libraries came from (Library.source/url) in venvs, npm and yarn lock files and
Gemfile.lock, and native binaries carried with app code (Service.vendored_binaries).
Damaged records give a finding, never a traceback."""

from __future__ import annotations

import json

import pytest

from detectors.node_apps import NodeAppsDetector
from detectors.python_apps import PythonAppsDetector
from detectors.systemd import SystemdDetector
from detectors.vendored_binaries import MAX_CANDIDATES, VendoredBinariesDetector
from modernize.parsers import provenance
from modernize.snapshot.memory import Content, File
from tests.helpers import FIXTURES, inventory, service

SP = "/srv/api/venv/lib/python3.11/site-packages"
UNIT = """[Service]
User=api
WorkingDirectory=/srv/api
ExecStart=/srv/api/venv/bin/gunicorn --bind 127.0.0.1:8000 app:app
[Install]
WantedBy=multi-user.target
"""
# a real ELF header (Debian's dash, from the debian-minbase fixture)
ELF = (FIXTURES / "debian-minbase/root/usr/bin/dash").read_bytes()[:4096]


def _dist(name: str, version: str, direct: str | None = None) -> dict[str, Content]:
    files: dict[str, Content] = {f"{SP}/{name}-{version}.dist-info/METADATA": f"Name: {name}\nVersion: {version}\n"}
    if direct is not None:
        files[f"{SP}/{name}-{version}.dist-info/direct_url.json"] = direct
    return files


def _venv(*dists: dict[str, Content], extra: dict[str, Content] | None = None) -> dict[str, Content]:
    files: dict[str, Content] = {
        "/etc/systemd/system/api.service": UNIT,
        "/srv/api/venv/pyvenv.cfg": "home = /usr/bin\nversion = 3.11.2\n",
    }
    for d in dists:
        files.update(d)
    files.update(extra or {})
    return files


def test_pep610_direct_urls_in_a_venv() -> None:
    # the PEP 610 / packaging.python.org examples, as pip writes them
    vcs = json.dumps(
        {
            "url": "https://deploy:s3cretTok@git.example.com/team/billing.git",
            "vcs_info": {
                "vcs": "git",
                "requested_revision": "v2.1",
                "commit_id": "7921be1537eac1e97bc40179a57f0349c2aee67d",
            },
        }
    )
    archive = json.dumps(
        {"archive_info": {}, "url": "https://files.pythonhosted.org/packages/x/humanize-4.9.0-py3-none-any.whl"}
    )
    local = json.dumps({"url": "file:///srv/api/vendor/reports", "dir_info": {"editable": True}})
    files = _venv(
        _dist("gunicorn", "21.2.0"),
        _dist("billing", "2.1.0", vcs),
        _dist("humanize", "4.9.0", archive),
        _dist("reports", "0.3", local),
        _dist("broken", "1.0", "{not json"),
        _dist("odd", "1.0", json.dumps({"url": "https://x.example/odd.zip"})),
    )
    inv = inventory([SystemdDetector, PythonAppsDetector], files)
    libs = {lib.name: lib for lib in service(inv, "python-app").libraries}
    assert (libs["gunicorn"].source, libs["gunicorn"].url) == ("registry", None)
    assert libs["billing"].source == "vcs"
    assert (
        libs["billing"].url
        == "git+https://deploy:<redacted>@git.example.com/team/billing.git@7921be1537eac1e97bc40179a57f0349c2aee67d"
    )
    assert "s3cretTok" not in json.dumps([vars(x) for x in libs.values()], default=str)
    assert (libs["humanize"].source, libs["reports"].source) == ("url", "directory")
    assert libs["reports"].url == "file:///srv/api/vendor/reports"
    assert libs["billing"].evidence[0].path == f"{SP}/billing-2.1.0.dist-info/direct_url.json"
    assert libs["broken"].source is None and libs["odd"].source is None
    bad = sorted(f.path or "" for f in inv.findings if f.code == "unparsable")
    assert bad == [f"{SP}/broken-1.0.dist-info/direct_url.json", f"{SP}/odd-1.0.dist-info/direct_url.json"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ghp_AbC123@github.com/o/r.git", "https://<redacted>@github.com/o/r.git"),
        ("https://user:pw@host/x", "https://user:<redacted>@host/x"),
        ("git+ssh://git@github.com/o/r.git", "git+ssh://git@github.com/o/r.git"),
        ("https://host/x", "https://host/x"),
    ],
)
def test_credentials_in_urls_are_masked(url: str, shown: str) -> None:
    assert provenance.redact(url) == shown


NODE_UNIT = """[Service]
User=shop
WorkingDirectory=/srv/shop
ExecStart=/usr/bin/node /srv/shop/server.js
[Install]
WantedBy=multi-user.target
"""
PKG = json.dumps(
    {"name": "shop", "version": "1.0.0", "dependencies": {"express": "^4.18.2", "left-pad": "github:stevemao/left-pad"}}
)


def _node(lock_name: str, lock: str) -> dict[str, Content]:
    return {
        "/etc/systemd/system/shop.service": NODE_UNIT,
        "/srv/shop/package.json": PKG,
        "/srv/shop/server.js": "require('express')().listen(3000)\n",
        "/srv/shop/node_modules/express/package.json": '{"name": "express", "version": "4.18.2"}',
        "/srv/shop/node_modules/left-pad/package.json": '{"name": "left-pad", "version": "1.3.0"}',
        f"/srv/shop/{lock_name}": lock,
    }


LOCK_V1 = json.dumps(
    {
        "name": "shop",
        "lockfileVersion": 1,
        "dependencies": {
            "express": {"version": "4.18.2", "resolved": "https://registry.npmjs.org/express/-/express-4.18.2.tgz"},
            "left-pad": {
                "version": "github:stevemao/left-pad#8ea8a9e2d4c0fe6b1f6b7e8c3e4b0ab6e86e1b5d",
                "from": "github:stevemao/left-pad",
            },
            "internal-ui": {"version": "file:../ui"},
        },
    },
    indent=2,
)
LOCK_V3 = json.dumps(
    {
        "name": "shop",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "shop"},
            "node_modules/express": {
                "version": "4.18.2",
                "resolved": "https://registry.npmjs.org/express/-/express-4.18.2.tgz",
            },
            "node_modules/left-pad": {
                "version": "1.3.0",
                "resolved": "git+ssh://git@github.com/stevemao/left-pad.git#8ea8a9e2",
            },
            "node_modules/qs": {"version": "6.11.0"},
            "node_modules/charts": {"version": "2.0.0", "resolved": "https://cdn.example.com/charts-2.0.0.tgz"},
            "node_modules/internal-ui": {"resolved": "../ui", "link": True},
        },
    },
    indent=2,
)
YARN_V1 = """# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


express@^4.18.2:
  version "4.18.2"
  resolved "https://registry.yarnpkg.com/express/-/express-4.18.2.tgz#3fabe08296e930c796c19e3c516979386ba9fd59"
  integrity sha512-5/PsL6iGPdfQ/lKM1UuielYgv3BUoJfz1aUwU9vHZ+J7gyvwdQXFEBIEIaxeGf0GIcreATNyBExtalisDbuMqQ==

"left-pad@github:stevemao/left-pad":
  version "1.3.0"
  resolved "https://codeload.github.com/stevemao/left-pad/tar.gz/8ea8a9e2d4c0fe6b1f6b7e8c3e4b0ab6e86e1b5d"
"""
YARN_BERRY = """__metadata:
  version: 6
  cacheKey: 8

"express@npm:^4.18.2":
  version: 4.18.2
  resolution: "express@npm:4.18.2"

"left-pad@https://github.com/stevemao/left-pad.git#commit=8ea8a9e2":
  version: 1.3.0
  resolution: "left-pad@https://github.com/stevemao/left-pad.git#commit=8ea8a9e2"

"shop@workspace:.":
  version: 0.0.0-use.local
  resolution: "shop@workspace:."
"""


@pytest.mark.parametrize(
    ("lock_name", "lock", "extra"),
    [
        ("package-lock.json", LOCK_V1, {"internal-ui": "directory"}),
        ("package-lock.json", LOCK_V3, {"internal-ui": "directory", "charts": "url"}),
        ("npm-shrinkwrap.json", LOCK_V3, {"internal-ui": "directory", "charts": "url"}),
        ("yarn.lock", YARN_V1, {}),
        ("yarn.lock", YARN_BERRY, {}),
    ],
)
def test_npm_and_yarn_lock_files(lock_name: str, lock: str, extra: dict[str, str]) -> None:
    inv = inventory([SystemdDetector, NodeAppsDetector], _node(lock_name, lock))
    libs = {lib.name: lib for lib in service(inv, "node-app").libraries}
    got = {name: lib.source for name, lib in libs.items()}
    assert got == {"express": "registry", "left-pad": "vcs", **extra}  # qs: a registry package, not direct
    assert libs["left-pad"].version == "1.3.0"
    ev = libs["left-pad"].evidence[-1]
    assert ev.path == f"/srv/shop/{lock_name}" and ev.line and "left-pad" in lock.splitlines()[ev.line - 1]


@pytest.mark.parametrize("lock", ["{", "[]", '{"lockfileVersion": 3}'])
def test_a_damaged_lock_file_is_a_finding(lock: str) -> None:
    inv = inventory([SystemdDetector, NodeAppsDetector], _node("package-lock.json", lock))
    assert {lib.source for lib in service(inv, "node-app").libraries} == {None}
    assert [f.path for f in inv.findings if f.code == "unparsable"] == ["/srv/shop/package-lock.json"]


GEMFILE_LOCK = """GIT
  remote: https://oauth2:glpat-xYz@gitlab.example.com/team/payments.git
  revision: 0f3b1c8d5e9a7b6c4d2e1f0a9b8c7d6e5f4a3b2c
  branch: main
  specs:
    payments (1.4.0)
      activesupport (>= 6.0)

PATH
  remote: vendor/gems/reports
  specs:
    reports (0.2.0)

GEM
  remote: https://rubygems.org/
  specs:
    activesupport (7.1.3)
    nokogiri (1.16.2-x86_64-linux)
    puma (6.4.2)

PLATFORMS
  x86_64-linux

DEPENDENCIES
  payments!
  puma
  reports!
"""


def test_gemfile_lock_sections() -> None:
    got = provenance.gemfile_lock(GEMFILE_LOCK)
    assert {n: o.source for n, (_v, o) in got.items()} == {
        "payments": "vcs", "reports": "directory", "activesupport": "registry", "nokogiri": "registry", "puma": "registry",
    }  # fmt: skip
    assert got["payments"][1].url == (
        "https://oauth2:<redacted>@gitlab.example.com/team/payments.git@0f3b1c8d5e9a7b6c4d2e1f0a9b8c7d6e5f4a3b2c"
    )
    assert got["reports"][1].url == "vendor/gems/reports" and got["nokogiri"][0] == "1.16.2"
    assert got["payments"][1].line == 6 and GEMFILE_LOCK.splitlines()[5].strip() == "payments (1.4.0)"


def _exe(data: bytes) -> File:
    return File(data, mode=0o755)


def test_vendored_binaries_in_app_code() -> None:
    files = _venv(
        _dist("gunicorn", "21.2.0"),
        extra={
            "/srv/api/bin/wkhtmltopdf": _exe(ELF),
            "/srv/api/lib/libpdf.so.1": File(ELF),
            "/srv/api/lib/libpdf.so": File(ELF),  # not a second one when a symlink, but here a copy
            "/srv/api/manage.py": _exe(b"#!/usr/bin/env python3\n" + b"#" * 100),
            "/srv/api/run.sh": _exe(b"#!/bin/sh\n" + b"#" * 100),
            "/srv/api/tools/fake": _exe(b"not an ELF at all, but executable" * 4),
            f"{SP}/numpy/core/_multiarray.cpython-311-x86_64-linux-gnu.so": File(ELF),  # pip's: left out
            "/srv/api/venv/bin/python3.11": _exe(ELF),  # the venv's: left out
        },
    )
    inv = inventory([SystemdDetector, PythonAppsDetector, VendoredBinariesDetector], files)
    vb = service(inv, "python-app").vendored_binaries
    assert vb is not None and vb.count == 3 and not vb.bounded and vb.addons == 0
    assert vb.examples == ("/srv/api/bin/wkhtmltopdf", "/srv/api/lib/libpdf.so", "/srv/api/lib/libpdf.so.1")
    assert vb.evidence[0].kind == "binary" and vb.evidence[0].path == "/srv/api/bin/wkhtmltopdf"


def test_native_addons_and_the_bound() -> None:
    files = _node("package-lock.json", LOCK_V3)
    files["/srv/shop/node_modules/bcrypt/lib/binding/napi-v3/bcrypt_lib.node"] = File(ELF)
    files.update({f"/srv/shop/bin/tool{i:03}": _exe(ELF) for i in range(MAX_CANDIDATES + 5)})
    inv = inventory([SystemdDetector, NodeAppsDetector, VendoredBinariesDetector], files)
    vb = service(inv, "node-app").vendored_binaries
    assert vb is not None and vb.bounded and vb.count == MAX_CANDIDATES and len(vb.examples) == 5


def test_no_binaries_no_fact() -> None:
    inv = inventory([SystemdDetector, PythonAppsDetector, VendoredBinariesDetector], _venv(_dist("gunicorn", "21.2.0")))
    assert service(inv, "python-app").vendored_binaries is None
