"""dpkg: where each installed package can come from again (Package.origin), from apt's
package lists, else dpkg's and apt's logs; unknown when nothing tells."""

from __future__ import annotations

import gzip

from detectors.dpkg import DpkgDetector
from detectors.package_sources import PackageSourcesDetector
from modernize.model import Inventory
from tests.helpers import inventory

STATUS = """Package: nginx
Status: install ok installed
Architecture: amd64
Version: 1.22.1-9+deb12u1
Description: small, powerful, scalable web/proxy server

Package: php8.3-fpm
Status: install ok installed
Architecture: amd64
Version: 8.3.8-1+0~20240607.23+debian12~1.gbp7a0e4b
Description: server-side, HTML-embedded scripting language (FPM-CGI binary)

Package: wkhtmltox
Status: install ok installed
Architecture: amd64
Version: 1:0.12.6.1-3.bookworm
Description: convert html to pdf using webkit (qtwebkit)

Package: libssl3
Status: install ok installed
Architecture: amd64
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries
"""
SOURCES = (
    "deb http://deb.debian.org/debian bookworm main\n"
    "deb http://deb.debian.org/debian-security bookworm-security main\n"
    "deb https://packages.sury.org/php/ bookworm main\n"
)
MAIN = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"
SECURITY = "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages"
SURY = "/var/lib/apt/lists/packages.sury.org_php_dists_bookworm_main_binary-amd64_Packages"


def _stanza(name: str, version: str) -> str:
    return f"Package: {name}\nVersion: {version}\nArchitecture: amd64\nFilename: pool/{name}_{version}.deb\n\n"


def _origins(files: dict[str, str | bytes]) -> dict[str, str | None]:
    inv = inventory([DpkgDetector, PackageSourcesDetector], {"/var/lib/dpkg/status": STATUS, **files})
    return {p.name: p.origin for p in inv.packages}


def _pkg(inv: Inventory, name: str) -> object:
    return next(p for p in inv.packages if p.name == name)


def test_from_the_lists_archive_third_party_and_local() -> None:
    got = _origins(
        {
            "/etc/apt/sources.list": SOURCES,
            MAIN: _stanza("nginx", "1.22.1-9+deb12u1") + _stanza("libssl3", "3.0.11-1~deb12u1"),
            SECURITY: _stanza("libssl3", "3.0.15-1~deb12u1"),  # the archive moved on: still the archive
            SURY + ".gz": gzip.compress(_stanza("php8.3-fpm", "8.3.8-1+0~20240607.23+debian12~1.gbp7a0e4b").encode()),
        }
    )
    assert got == {
        "nginx": "archive",
        "libssl3": "archive",
        "php8.3-fpm": "third-party:https://packages.sury.org/php/",
        "wkhtmltox": "local",  # in no list: `apt list --installed` says [installed,local]
    }


def test_a_full_archive_list_is_read_past_the_default_size_bound() -> None:
    """bookworm's main list is ~50 MB: over the 8 MiB bound on whole reads, so only its
    Package and Version lines are read (a live host sends just those)."""
    filler = "".join(_stanza(f"lib{i:06d}", "1.0") for i in range(110_000))  # ~9 MB, as a real list
    got = _origins(
        {
            "/etc/apt/sources.list": SOURCES,
            MAIN: filler + _stanza("nginx", "1.22.1-9+deb12u1") + _stanza("libssl3", "3.0.11-1~deb12u2"),
        }
    )
    assert len(filler) > 8 * 1024 * 1024
    assert got["nginx"] == got["libssl3"] == "archive"
    assert got["wkhtmltox"] == "local"


def test_local_from_the_lists_names_them_as_evidence() -> None:
    inv = inventory(
        [DpkgDetector, PackageSourcesDetector],
        {"/var/lib/dpkg/status": STATUS, "/etc/apt/sources.list": SOURCES, MAIN: _stanza("nginx", "1")},
    )
    ev = _pkg(inv, "wkhtmltox").evidence  # type: ignore[attr-defined]
    assert ev[0].path == "/var/lib/dpkg/status" and ev[0].line == 13
    assert ev[-1].path == "/var/lib/apt/lists" and "none of apt's 1 package lists" in (ev[-1].detail or "")


DPKG_LOG = """2024-03-02 09:14:01 startup archives unpack
2024-03-02 09:14:02 install nginx:amd64 <none> 1.22.1-9+deb12u1
2024-03-02 09:14:02 status half-installed nginx:amd64 1.22.1-9+deb12u1
2024-03-02 09:14:03 status installed nginx:amd64 1.22.1-9+deb12u1
2024-05-17 16:40:12 startup archives unpack
2024-05-17 16:40:12 install wkhtmltox:amd64 <none> 1:0.12.6.1-3.bookworm
2024-05-17 16:40:13 status installed wkhtmltox:amd64 1:0.12.6.1-3.bookworm
2024-06-10 08:00:05 upgrade libssl3:amd64 3.0.11-1~deb12u1 3.0.11-1~deb12u2
"""
HISTORY = """
Start-Date: 2024-03-02  09:13:58
Commandline: apt-get install -y nginx
Install: nginx:amd64 (1.22.1-9+deb12u1), nginx-common:amd64 (1.22.1-9+deb12u1, automatic)
End-Date: 2024-03-02  09:14:05

Start-Date: 2024-06-10  08:00:01
Commandline: apt install ./libssl3_3.0.11-1~deb12u2_amd64.deb
Upgrade: libssl3:amd64 (3.0.11-1~deb12u1, 3.0.11-1~deb12u2)
End-Date: 2024-06-10  08:00:09
"""


def test_from_the_logs_when_the_lists_are_cleaned() -> None:
    files: dict[str, str | bytes] = {
        "/etc/apt/sources.list": SOURCES,
        "/var/log/dpkg.log": DPKG_LOG,
        "/var/log/apt/history.log.1.gz": gzip.compress(HISTORY.encode()),
    }
    got = _origins(files)
    # apt installed nginx, but a third-party source is configured: which one cannot be told
    assert got == {"nginx": None, "wkhtmltox": "local", "libssl3": "local", "php8.3-fpm": None}
    inv = inventory([DpkgDetector, PackageSourcesDetector], {"/var/lib/dpkg/status": STATUS, **files})
    ev = _pkg(inv, "wkhtmltox").evidence[-1]  # type: ignore[attr-defined]
    assert (ev.path, ev.line) == ("/var/log/dpkg.log", 6) and "dpkg -i" in (ev.detail or "")
    ev = _pkg(inv, "libssl3").evidence[-1]  # type: ignore[attr-defined]
    assert ev.path == "/var/log/apt/history.log.1.gz" and ".deb file" in (ev.detail or "")
    # with only the distribution's archive configured, what apt installed came from it
    only_debian = {**files, "/etc/apt/sources.list": SOURCES.rsplit("deb https", 1)[0]}
    assert _origins(only_debian)["nginx"] == "archive"


def test_unknown_without_lists_or_before_apt_history_begins() -> None:
    assert set(_origins({"/etc/apt/sources.list": SOURCES}).values()) == {None}
    # debootstrap's dpkg run predates apt's first: nothing can be said of it
    early = "2024-01-01 00:00:01 install wkhtmltox:amd64 <none> 1:0.12.6.1-3.bookworm\n"
    got = _origins({"/var/log/dpkg.log": early, "/var/log/apt/history.log": HISTORY})
    assert got["wkhtmltox"] is None
    # dpkg's log alone (no apt history at all): unknown too
    assert _origins({"/var/log/dpkg.log": DPKG_LOG})["wkhtmltox"] is None


def test_damaged_logs_and_lists_are_no_traceback() -> None:
    got = _origins(
        {
            "/var/log/dpkg.log.2.gz": b"not gzip",
            "/var/log/dpkg.log": "2024-13-45 99:99:99 install x:amd64 <none> 1\ngarbage\n",
            "/var/log/apt/history.log": "Start-Date: yesterday\nInstall: (((\n",
            MAIN + ".lz4": b"\x04\x22\x4d\x18",
        }
    )
    assert set(got.values()) == {None}
