"""images.yaml: which official image runs a software at a version series.

Data, not code: the map ships with modernize (modernize/plan/images.yaml) and a
user adds or overrides entries with `--images FILE` (same format, entries
replace whole software keys). `--image-map FROM=TO` rewrites image names
afterwards (a registry mirror, a locally built image).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from modernize.errors import UserError

_KEYS = {
    "image",
    "tags",
    "tag_rule",
    "data",
    "user",
    "uid",
    "gid",
    "port",
    "config",
    "healthcheck",
    "env",
    "runs_as_root_then_drops",
    "notes",
    "variants",
    "accounts",
}


@dataclass(frozen=True)
class ImageEntry:
    software: str
    image: str
    tags: dict[str, str]
    tag_rule: str | None = None
    data: str | None = None
    user: str | None = None
    uid: int | None = None
    gid: int | None = None
    healthcheck: tuple[str, ...] = ()
    variants: dict[str, str] = field(default_factory=dict)
    drops_root: bool = False  # the entrypoint starts as root and switches to the service user
    # the users and groups the image adds to its base system's (None: not known); a copied
    # file owned by another account is left root's: `chown` to a missing name fails the build
    accounts: tuple[str, ...] | None = None

    def tag_for(self, series: str, codename: str | None, **extra: str) -> tuple[str, str] | None:
        """(tag, why) for SERIES: the tag rule where EXTRA facts fill it in (tomcat's
        {java}), else the listed tag, else the rule with series and codename alone."""
        values = {"series": series, "codename": codename or "", **extra}
        if extra and self.tag_rule:
            try:
                tag = self.tag_rule.format(**values)
                return tag, f"images.yaml's tag rule {self.tag_rule!r} with {_facts(values)}"
            except (KeyError, IndexError):
                pass
        if series in self.tags:
            return self.tags[series], f"images.yaml maps {self.software} {series} to this tag"
        if self.tag_rule and codename:
            try:
                tag = self.tag_rule.format(**values)
            except (KeyError, IndexError):
                return None
            return tag, f"images.yaml's tag rule {self.tag_rule!r} for {self.software} {series}"
        return None


def _facts(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items() if v)


@dataclass(frozen=True)
class ImageMap:
    entries: dict[str, ImageEntry]
    rewrites: tuple[tuple[str, str], ...] = ()  # --image-map FROM=TO, in the order given

    def get(self, software: str) -> ImageEntry | None:
        return self.entries.get(software)

    def rewrite(self, image: str) -> str:
        """Apply --image-map: FROM matches a whole image name or a repository prefix."""
        for old, new in self.rewrites:
            if image == old:
                return new
            repo, sep, tag = image.partition(":")
            if repo == old and sep:
                return f"{new}:{tag}" if ":" not in new else new
            if image.startswith(old.rstrip("/") + "/"):
                return new.rstrip("/") + image[len(old.rstrip("/")) :]
        return image


def _entry(software: str, raw: Any, where: str) -> ImageEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("image"), str):
        raise UserError(f"{where}: entry {software!r} needs at least `image: NAME`")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise UserError(f"{where}: entry {software!r} has unknown keys: {', '.join(unknown)}")
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict):
        raise UserError(f"{where}: entry {software!r}: tags must map a series to a tag")
    check = raw.get("healthcheck") or ()
    return ImageEntry(
        software=software,
        image=raw["image"],
        tags={str(k): str(v) for k, v in tags.items()},
        tag_rule=raw.get("tag_rule"),
        data=raw.get("data"),
        user=None if raw.get("user") is None else str(raw["user"]),
        uid=raw.get("uid"),
        gid=raw.get("gid"),
        healthcheck=tuple(str(x) for x in check) if isinstance(check, list) else (),
        variants={str(k): str(v) for k, v in (raw.get("variants") or {}).items()},
        drops_root=bool(raw.get("runs_as_root_then_drops")),
        accounts=_accounts(software, raw.get("accounts"), where),
    )


def _accounts(software: str, raw: Any, where: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise UserError(f"{where}: entry {software!r}: accounts must be a list of user and group names")
    return tuple(raw)


def _read(text: str, where: str) -> dict[str, ImageEntry]:
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping of software names to image entries")
    return {str(k): _entry(str(k), v, where) for k, v in data.items()}


def load_images(extra: list[str] | None = None, image_map: list[str] | None = None) -> ImageMap:
    entries = _read(files("modernize.plan").joinpath("images.yaml").read_text(encoding="utf-8"), "images.yaml")
    for path in extra or ():
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--images {path}: {exc.strerror}") from None
        entries.update(_read(text, path))
    rewrites: list[tuple[str, str]] = []
    for item in image_map or ():
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip() or any(c.isspace() for c in item):
            raise UserError(f"--image-map {item!r}: expected FROM=TO, e.g. debian=registry.example.com/debian")
        rewrites.append((old, new))
    return ImageMap(entries, tuple(rewrites))
