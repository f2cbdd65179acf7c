"""package-sources: apt one-line and deb822 sources, yum/dnf repositories, apk
repositories; the distribution's archives told from third-party ones."""

from __future__ import annotations

from detectors.package_sources import PackageSourcesDetector
from tests.helpers import inventory

# Debian 12's own deb822 file as the installer writes it, and a third-party one-line list
DEBIAN_SOURCES = """Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# an old mirror, switched off
Enabled: no
Types: deb
URIs: http://old-mirror.example.com/debian
Suites: bookworm
Components: main
"""
SURY = "deb [signed-by=/usr/share/keyrings/deb.sury.org-php.gpg] https://packages.sury.org/php/ bookworm main\n"
LIST = "# deb cdrom:[Debian GNU/Linux 12]/ bookworm main\ndeb http://ftp.de.debian.org/debian bookworm main contrib\n"
REPO = """[baseos]
name=Rocky Linux $releasever - BaseOS
mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=BaseOS-$releasever
enabled=1

[pgdg15]
name=PostgreSQL 15
baseurl=https://download.postgresql.org/pub/repos/yum/15/redhat/rhel-$releasever-$basearch
enabled=1

[pgdg-debug]
baseurl=https://download.postgresql.org/pub/repos/yum/debug/15/
enabled=0
"""


def test_apt_sources_in_both_formats() -> None:
    inv = inventory(
        [PackageSourcesDetector],
        {
            "/etc/apt/sources.list": LIST,
            "/etc/apt/sources.list.d/debian.sources": DEBIAN_SOURCES,
            "/etc/apt/sources.list.d/php.list": SURY,
        },
    )
    got = {(p.uri, p.suite, p.official, p.enabled) for p in inv.package_sources}
    assert got == {
        ("http://ftp.de.debian.org/debian", "bookworm", True, True),
        ("http://deb.debian.org/debian", "bookworm", True, True),
        ("http://deb.debian.org/debian", "bookworm-updates", True, True),
        ("http://deb.debian.org/debian-security", "bookworm-security", True, True),
        ("http://old-mirror.example.com/debian", "bookworm", False, False),
        ("https://packages.sury.org/php/", "bookworm", False, True),
    }
    sury = next(p for p in inv.package_sources if "sury" in p.uri)
    assert sury.components == ("main",) and sury.evidence[0].path == "/etc/apt/sources.list.d/php.list"
    assert sury.evidence[0].line == 1


def test_yum_and_apk_repositories() -> None:
    inv = inventory(
        [PackageSourcesDetector],
        {
            "/etc/yum.repos.d/rocky.repo": REPO,
            "/etc/apk/repositories": "https://dl-cdn.alpinelinux.org/alpine/v3.19/main\n@edge https://dl-cdn.alpinelinux.org/alpine/edge/testing\n",
        },
    )
    got = {(p.manager, p.suite, p.official, p.enabled) for p in inv.package_sources}
    assert ("rpm", "baseos", True, True) in got and ("rpm", "pgdg15", False, True) in got
    assert ("rpm", "pgdg-debug", False, False) in got
    assert {p.uri for p in inv.package_sources if p.manager == "apk"} == {
        "https://dl-cdn.alpinelinux.org/alpine/v3.19/main",
        "https://dl-cdn.alpinelinux.org/alpine/edge/testing",
    }


def test_no_sources_no_facts() -> None:
    inv = inventory([PackageSourcesDetector], {"/etc/apt/sources.list": "# nothing here\n\n"})
    assert inv.package_sources == ()
