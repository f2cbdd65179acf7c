"""Where packages come from: apt's sources (one-line .list files and deb822 .sources
stanzas), yum/dnf repositories and apk repositories, each marked official (the
distribution's own archive) or not: third-party sources are what an image build must
also reach, with their keys."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, PackageSource
from modernize.parsers.lines import numbered
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

# the distributions' own archives and their mirror networks
_OFFICIAL = re.compile(
    r"(^|\.)(debian\.org|ubuntu\.com|canonical\.com|alpinelinux\.org|rockylinux\.org|almalinux\.org|redhat\.com"
    r"|centos\.org|fedoraproject\.org|opensuse\.org)$"
)
_OPTIONS = re.compile(r"^\[[^\]]*\]\s*")


def official(uri: str) -> bool:
    host = urlparse(uri).hostname or ""
    return bool(_OFFICIAL.search(host)) or uri.startswith(("cdrom:", "file:"))


class PackageSourcesDetector(Detector):
    name = "package-sources"
    tags = ("host", "packages")
    reads = whole(
        "/etc/apt/sources.list",
        "/etc/apt/sources.list.d/*.list",
        "/etc/apt/sources.list.d/*.sources",
        "/etc/yum.repos.d/*.repo",
        "/etc/apk/repositories",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        for path in ["/etc/apt/sources.list", *sorted(snap.glob("/etc/apt/sources.list.d/*.list"))]:
            text = snap.text(path)
            if text is not None:
                self._apt_lines(path, text, found)
        for path in sorted(snap.glob("/etc/apt/sources.list.d/*.sources")):
            text = snap.text(path)
            if text is not None:
                self._deb822(path, text, found)
        for path in sorted(snap.glob("/etc/yum.repos.d/*.repo")):
            text = snap.text(path)
            if text is not None:
                self._repo(path, text, found)
        text = snap.text("/etc/apk/repositories")
        if text is not None:
            for no, line in numbered(text):
                uri = line.strip()
                if uri and not uri.startswith("#"):
                    uri = uri.split()[-1]  # "@tag https://..." pins a tagged repository
                    found.add(PackageSource("apk", uri, None, (), official(uri), True,
                                            (Evidence("config", "/etc/apk/repositories", no),)))  # fmt: skip

    @staticmethod
    def _apt_lines(path: str, text: str, found: Found) -> None:
        for no, line in numbered(text):
            words = line.split("#", 1)[0].strip()
            if not words.startswith("deb"):
                continue
            kind, _, rest = words.partition(" ")
            parts = _OPTIONS.sub("", rest.strip()).split()
            if kind not in ("deb", "deb-src") or len(parts) < 2:
                continue
            uri, suite, comps = parts[0], parts[1], tuple(parts[2:])
            found.add(PackageSource("apt", uri, suite, comps, official(uri), kind == "deb",
                                    (Evidence("config", path, no, excerpt=words),)))  # fmt: skip

    @staticmethod
    def _deb822(path: str, text: str, found: Found) -> None:
        """Stanzas separated by blank lines; `Enabled: no` and deb-src-only stanzas are
        recorded as not enabled."""
        stanzas: list[tuple[int, dict[str, str]]] = []
        stanza: dict[str, str] = {}
        start = 1
        for no, line in enumerate([*text.splitlines(), ""], 1):
            if not line.strip():
                if stanza:
                    stanzas.append((start, stanza))
                stanza, start = {}, no + 1
            elif not line.startswith(("#", " ", "\t")):
                key, sep, value = line.partition(":")
                if sep:
                    stanza[key.strip().lower()] = value.strip()
        for start, st in stanzas:
            enabled = st.get("enabled", "yes").lower() != "no" and "deb" in st.get("types", "deb").split()
            suites: list[str | None] = list(st.get("suites", "").split()) or [None]
            for uri in st.get("uris", "").split():
                for suite in suites:
                    ev = (Evidence("config", path, start),)
                    comps = tuple(st.get("components", "").split())
                    found.add(PackageSource("apt", uri, suite, comps, official(uri), enabled, ev))

    @staticmethod
    def _repo(path: str, text: str, found: Found) -> None:
        section: str | None = None
        start = 0
        values: dict[str, str] = {}
        entries: list[tuple[str, int, dict[str, str]]] = []
        for no, line in numbered(text):
            stripped = line.strip()
            if stripped.startswith("[") and stripped.endswith("]"):
                if section:
                    entries.append((section, start, values))
                section, start, values = stripped[1:-1], no, {}
            elif "=" in stripped and not stripped.startswith("#"):
                key, _, value = stripped.partition("=")
                values[key.strip().lower()] = value.strip()
        if section:
            entries.append((section, start, values))
        for repo, at, v in entries:
            uri = (v.get("baseurl") or v.get("mirrorlist") or v.get("metalink") or "").split()
            if uri:
                enabled = v.get("enabled", "1") != "0"
                found.add(
                    PackageSource("rpm", uri[0], repo, (), official(uri[0]), enabled, (Evidence("config", path, at),))
                )
