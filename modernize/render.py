"""Jinja2 environment for modernize's templates (shipped in the `templates` package)."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def environment() -> jinja2.Environment:
    import jinja2  # imported when something is rendered, not on every start

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(**context)
