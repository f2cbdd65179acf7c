"""Software and provenance: where it came from and whether it is still maintained."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date
from importlib.resources import files

import yaml

from modernize.model import cite
from modernize.readiness.rule import Context, Hit, Rule


@functools.cache  # read once per process: a fleet report asks for every host
def eol_dates() -> dict[str, dict[str, dict[str, str]]]:
    """product -> cycle -> {eol, extended}, from the shipped data file (see
    scripts/refresh_eol.py: endoflife.date's published data, with its commit)."""
    text = files("modernize.readiness").joinpath("eol.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return {str(k): {str(c): dict(d) for c, d in v.items()} for k, v in (data.get("products") or {}).items()}


def _passed(value: str | None, ctx: Context) -> bool:
    return value == "ended" or (value is not None and value != "ended" and date.fromisoformat(value) <= ctx.as_of)


def support(product: str | None, cycle: str | None, ctx: Context) -> tuple[str, str] | None:
    """('ended', date) when all support ended by --as-of, ('extended', date) when only
    extended (LTS) support is left, else None."""
    if not product or not cycle:
        return None
    entry = eol_dates().get(product, {}).get(cycle)
    if not entry:
        return None
    eol, ext = entry.get("eol"), entry.get("extended")
    if _passed(eol, ctx) and (ext is None or _passed(ext, ctx)):
        return "ended", (ext or eol or "")
    if _passed(eol, ctx):
        return "extended", ext or ""
    return None


def _ended(product: str | None, cycle: str | None, ctx: Context) -> str | None:
    state = support(product, cycle, ctx)
    return state[1] if state and state[0] == "ended" else None


_PRODUCTS = {
    "postgresql": "postgresql", "mariadb": "mariadb", "mysql": "mysql", "redis": "redis", "nginx": "nginx",
    "tomcat": "tomcat", "php-fpm": "php", "rabbitmq": "rabbitmq", "mongodb": "mongodb",
    "elasticsearch": "elasticsearch",
}  # fmt: skip
_RUNTIMES = (("python", "python"), ("node", "nodejs"), ("php", "php"), ("ruby", "ruby"), ("java", "java"))


def _os_cycle(ctx: Context) -> tuple[str | None, str | None]:
    osi = ctx.inventory.host.os
    product = {"debian": "debian", "ubuntu": "ubuntu", "rocky": "rocky-linux", "alpine": "alpine"}.get(osi.id or "")
    version = osi.version_id or ""
    if product in ("debian", "rocky-linux"):
        return product, version.split(".")[0]
    if product == "alpine":
        return product, ".".join(version.split(".")[:2])
    return product, version or None


def _eol_os(ctx: Context) -> Iterator[Hit]:
    osi = ctx.inventory.host.os
    end = _ended(*_os_cycle(ctx), ctx)
    if end:
        yield Hit(None, f"{osi.pretty_name or osi.id}: support ended {end}", cite(osi.evidence)[:1])


def _extended_os(ctx: Context) -> Iterator[Hit]:
    osi = ctx.inventory.host.os
    state = support(*_os_cycle(ctx), ctx)
    if state and state[0] == "extended":
        yield Hit(None, f"{osi.pretty_name or osi.id}: only extended (LTS) support is left, until {state[1]}",
                  cite(osi.evidence)[:1])  # fmt: skip


_DISTRO_RUNTIME = {"python": "python3", "node": "nodejs", "php": "php", "ruby": "ruby", "java": "openjdk"}


def _eol_software(ctx: Context) -> Iterator[Hit]:
    """Upstream end of life, for what the distribution does not maintain: software
    from its packages is patched as long as the release is (SW001/SW005 say when)."""
    distro = {p.name for p in ctx.inventory.packages if p.manager != "none"}
    for s in ctx.services():
        product = _PRODUCTS.get(s.software)
        end = _ended(product, s.version.series if s.version else None, ctx) if product and not s.packages else None
        if end:
            yield Hit(s.id, f"{s.software} {s.version.upstream if s.version else ''} reached its end of life on {end}",
                      cite(s.evidence)[:1])  # fmt: skip
        for prefix, prod in _RUNTIMES:
            rt = s.runtime or ""
            if not rt.startswith(prefix) or not rt[len(prefix) :]:
                continue
            if any(name.startswith(_DISTRO_RUNTIME[prefix]) for name in distro):
                continue  # the distribution's runtime: patched with the release
            end = _ended(prod, rt[len(prefix) :], ctx)
            if end:
                yield Hit(s.id, f"runs on {rt}, which reached its end of life on {end}", cite(s.evidence)[:1])


def _unpackaged(ctx: Context) -> Iterator[Hit]:
    for p in ctx.inventory.packages:
        if p.manager == "none" and p.location:
            owners = [s for s in ctx.services() if p.location in " ".join(s.command)]
            yield Hit(owners[0].id if owners else None, f"{p.location} is installed outside any package manager",
                      cite(p.evidence)[:1])  # fmt: skip


def _no_version(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        if s.classified and s.version is None:
            where = cite(s.evidence)[:1] or tuple(r.path for r in (*s.content_paths, *s.config_files))[:1]
            yield Hit(s.id, f"the version of {s.software} is unknown", where)


RULES = [
    Rule(
        "SW001", "End-of-life operating system", "software", "major", 8,
        "the apps run on a supported release of the same distribution",
        "Base the images on a supported release (debian:12-slim or later) and test the apps on it; the "
        "official images are maintained for you.", _eol_os, ("https://endoflife.date/",),
    ),
    Rule(
        "SW002", "End-of-life software or runtime", "software", "major", 8,
        "an upgrade to a supported series is a tested migration",
        "Plan the upgrade to a supported series (the official image of that series), with the data migration "
        "it needs (pg_upgrade, mysql_upgrade).", _eol_software, ("https://endoflife.date/",),
    ),
    Rule(
        "SW003", "Software installed outside any package manager", "software", "minor", 3,
        "its source, version and licence can be found",
        "Find where it came from and how it is built; copy it into the image from a known artifact, not the server.",
        _unpackaged,
    ),
    Rule(
        "SW005", "Operating system in extended support only", "software", "minor", 4,
        "the move is the moment to take a supported release",
        "Base the images on the current release (the official images are); the host's LTS window is for the "
        "host, not for what moves off it.", _extended_os, ("https://endoflife.date/",),
    ),
    Rule(
        "SW004", "Version unknown", "software", "info", 0.5,
        "someone can look it up",
        "Find the version: the image tag and the upgrade path depend on it.", _no_version,
    ),
]  # fmt: skip


def _third_party(ctx: Context) -> Iterator[Hit]:
    for src in ctx.inventory.package_sources:
        if src.enabled and not src.official:
            yield Hit(None, f"packages can come from {src.uri} ({src.manager}, not the distribution's archive)",
                      cite(src.evidence)[:1])  # fmt: skip


RULES += [
    Rule(
        "SW006", "Third-party package sources", "software", "minor", 2,
        "the image build can reach the same repository with its signing key, or the software has an official image",
        "Find which installed packages came from it; give the image build the repository and its key (or use "
        "the vendor's official image), and pin the versions.", _third_party,
    ),
]  # fmt: skip
