"""Jinja2 environment for modernize's templates (shipped in the `templates` package):
the summary, the generated files and the reports all render through it."""

from __future__ import annotations

import json
import os
import shlex
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the user's cache (compiling them took ~0.1 s of
    every run); none where that folder cannot be written."""
    import jinja2

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "modernize", "jinja")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(folder) if os.access(folder, os.W_OK) else None


def environment(templates: Path | None = None, autoescape: bool = False) -> jinja2.Environment:
    """StrictUndefined templates; a TEMPLATES folder (--templates) overrides the
    built-in ones file by file."""
    import jinja2  # imported when something is rendered, not on every start

    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FileSystemLoader(str(files("templates"))))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=autoescape,
    )
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.filters["sh"] = shlex.quote
    return env


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)
