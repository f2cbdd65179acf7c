"""modernize.toml: what a team sets once (rules on or off, extra images.yaml entries,
image-map rewrites). Looked for in the output folder, then the current directory, or
named with --config. Command-line options win over it.

    [rules]
    skip = ["IA005", "operations"]    # ids or categories
    only = []

    [images]
    files = ["our-images.yaml"]       # like --images, relative to this file
    map = ["docker.io=registry.example.com/mirror"]   # like --image-map
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from modernize.errors import UserError

NAME = "modernize.toml"


@dataclass(frozen=True)
class Settings:
    path: Path | None = None
    rules_only: list[str] = field(default_factory=list)
    rules_skip: list[str] = field(default_factory=list)
    image_files: list[str] = field(default_factory=list)
    image_map: list[str] = field(default_factory=list)

    def rules(self, only: list[str], skip: list[str]) -> tuple[list[str], list[str]]:
        """The command line's rule choices where it made any, else these."""
        return (only or self.rules_only), (skip or self.rules_skip)


def _strings(data: dict[str, object], key: str, where: Path) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise UserError(f"{where}: `{key}` must be a list of strings")
    return list(value)


def load(config: str | None, out: Path | None = None) -> Settings:
    if config is not None:
        path: Path | None = Path(config)
        if not path.is_file():  # type: ignore[union-attr]
            raise UserError(f"--config {config}: no such file")
    else:
        path = next((p for p in ((out / NAME) if out else None, Path(NAME)) if p is not None and p.is_file()), None)
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"rules", "images"})
    if unknown:
        raise UserError(f"{path}: unknown sections {', '.join(unknown)} (known: rules, images)")
    rules = data.get("rules", {})
    images = data.get("images", {})
    if not isinstance(rules, dict) or not isinstance(images, dict):
        raise UserError(f"{path}: [rules] and [images] must be tables")
    files = [str(path.parent / f) for f in _strings(images, "files", path)]
    return Settings(
        path,
        _strings(rules, "only", path),
        _strings(rules, "skip", path),
        files,
        _strings(images, "map", path),
    )
