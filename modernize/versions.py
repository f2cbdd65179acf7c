"""Versions in three forms: raw, upstream, and the series a base-image tag needs."""

from __future__ import annotations

import re

from modernize.model import Version

# How many numeric components an image tag series keeps, where it is not two.
# postgres:15, node:20, redis:7.2, mariadb:10.11, python:3.11, tomcat:10.1, nginx:1.22
_SERIES_PARTS = {
    "postgresql": 1,
    "node": 1,
    "nodejs": 1,
    "node-app": 1,
    "openjdk": 1,
    "java": 1,
    "elasticsearch": 1,
}
# compiled once: make_version runs for every installed package
_UPSTREAM = re.compile(r"[0-9][0-9.]*[0-9a-z]*")
_REPACK = re.compile(r"(\+|~).*$")
_APK_RELEASE = re.compile(r"-r\d+$")
_ROLE_SUFFIX = re.compile(r"-(server|core|common|client|headless|jre|jdk)$")
_NUMBER_SUFFIX = re.compile(r"-?\d+(\.\d+)*$")
_DIGITS = re.compile(r"\d+")


def upstream_of(raw: str, manager: str = "dpkg") -> str:
    """`1:10.11.6-0+deb12u1` -> `10.11.6`; `1.24.0-r15` (apk) -> `1.24.0`;
    rpm versions arrive without their release already."""
    v = raw.strip()
    if manager == "dpkg":
        if ":" in v:
            v = v.split(":", 1)[1]
        if "-" in v:
            v = v.rsplit("-", 1)[0]
        # Debian repack suffixes: 1.2.3+dfsg, 1.2.3~rc1 keep the numeric part
        m = _UPSTREAM.match(v)
        v = m.group(0) if m else v
        v = _REPACK.sub("", v)
    elif manager == "apk":
        v = _APK_RELEASE.sub("", v)
    return v


def _software_key(name: str) -> str:
    """`postgresql-15`, `postgresql-server`, `postgresql15-server` -> `postgresql`."""
    key, prev = name, ""
    while key != prev:
        prev = key
        key = _ROLE_SUFFIX.sub("", key)
        key = _NUMBER_SUFFIX.sub("", key)
    return key


def series_of(upstream: str, software: str = "") -> str:
    nums = _DIGITS.findall(upstream.split("+")[0].split("~")[0])
    if not nums:
        return upstream
    parts = _SERIES_PARTS.get(software, _SERIES_PARTS.get(_software_key(software), 2))
    return ".".join(nums[:parts])


def make_version(raw: str, manager: str = "dpkg", software: str = "") -> Version:
    up = upstream_of(raw, manager)
    return Version(raw=raw, upstream=up, series=series_of(up, software))


def reseries(version: Version, software: str) -> Version:
    """The same version with the series rule of `software` applied."""
    return Version(version.raw, version.upstream, series_of(version.upstream, software))
