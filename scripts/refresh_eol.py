#!/usr/bin/env python3
"""Refresh modernize/readiness/eol.yaml from a checkout of endoflife.date's public
repository (github.com/endoflife-date/endoflife.date; its products/*.md keep each
release cycle's dates in YAML front matter). Rules never need the network: this
script is run by hand, on a fetched copy, and the result is committed.

    git clone --depth 1 https://github.com/endoflife-date/endoflife.date /tmp/eol
    python3 scripts/refresh_eol.py /tmp/eol
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import yaml

# modernize's name -> endoflife.date's product file
PRODUCTS = {
    "debian": "debian", "ubuntu": "ubuntu", "rocky-linux": "rocky-linux", "alpine": "alpine-linux",
    "postgresql": "postgresql", "mariadb": "mariadb", "mysql": "mysql", "redis": "redis", "nginx": "nginx",
    "tomcat": "tomcat", "php": "php", "rabbitmq": "rabbitmq", "mongodb": "mongodb",
    "elasticsearch": "elasticsearch", "python": "python", "nodejs": "nodejs", "ruby": "ruby",
    "java": "eclipse-temurin",
    # app libraries (rule SW010): PyPI, npm and RubyGems names are mapped in the rule
    "django": "django", "numpy": "numpy", "wagtail": "wagtail", "express": "express", "angular": "angular",
    "angularjs": "angularjs", "jquery": "jquery", "react": "react", "vue": "vue", "nextjs": "nextjs",
    "nuxt": "nuxt", "electron": "electron", "bootstrap": "bootstrap", "emberjs": "emberjs",
    "rails": "ruby-on-rails",
}  # fmt: skip
OUT = Path(__file__).resolve().parent.parent / "modernize" / "readiness" / "eol.yaml"


def front_matter(text: str) -> dict[str, object]:
    _, head, _ = text.split("---", 2)
    data = yaml.safe_load(head)
    return data if isinstance(data, dict) else {}


def when(value: object) -> str | None:
    """A release's eol/eoes: a date, or True/False (ended, or not yet with no date)."""
    if isinstance(value, date):
        return value.isoformat()
    if value is True:
        return "ended"
    return None


def main(checkout: Path) -> None:
    commit = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%H %cs"], capture_output=True, text=True
    ).stdout.strip()
    products: dict[str, dict[str, dict[str, str]]] = {}
    for name, slug in sorted(PRODUCTS.items()):
        meta = front_matter((checkout / "products" / f"{slug}.md").read_text(encoding="utf-8"))
        cycles: dict[str, dict[str, str]] = {}
        for rel in meta.get("releases") or []:  # type: ignore[attr-defined]
            cycle = str(rel.get("releaseCycle"))
            entry = {k: v for k, v in (("eol", when(rel.get("eol"))), ("extended", when(rel.get("eoes")))) if v}
            if entry:
                cycles[cycle] = entry
        products[name] = cycles
    head = (
        "# End-of-life dates by product and release cycle, for the readiness rules SW001/SW002/SW005/SW010.\n"
        f"# Source: endoflife.date's repository (products/*.md), commit {commit or 'unknown'}.\n"
        "# eol: end of (security) support; extended: end of LTS/extended support where there is one;\n"
        "# 'ended' where the source gives no date. Refresh: scripts/refresh_eol.py CHECKOUT.\n"
    )
    OUT.write_text(head + yaml.safe_dump({"products": products}, sort_keys=True, width=100), encoding="utf-8")
    print(f"wrote {OUT} ({sum(len(v) for v in products.values())} release cycles)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
