"""Health routes an app declares in its code (Flask, FastAPI, Django, Express, Koa,
Rails, Laravel, a plain PHP front controller comparing the path): the path a verifier
asks for to see the app itself answer, database and all."""

from __future__ import annotations

import re

_HEALTH = r"(?:healthz?|health[-_]?check|_health|livez|readyz|ping|status)"
_ROUTE = re.compile(
    r"""(?:(?:\.|::|->)(?:get|route|api_route|all|use|any|match)\s*\(|\b(?:re_)?path\s*\(|^\s*get\s+|={2,3}\s*)\s*"""
    rf"""['"](/?(?:[\w-]+/)*{_HEALTH}|/?up)/?['"]""",
    re.M,
)
_RAILS_ONLY = "up"


# Django's admin, where a project routes it: its login page answers 200 from the app itself
_DJANGO_ADMIN = re.compile(r"""\bpath\(\s*['"](?P<p>(?:[\w-]+/)*)['"]\s*,\s*admin\.site\.urls""")


def health_route(text: str, rails: bool = False) -> tuple[str, int] | None:
    """The first health route declared in TEXT, as an absolute path, with its line; with
    none, a Django project's admin login page."""
    for m in _ROUTE.finditer(text):
        path = m.group(1).strip("/")
        if path == _RAILS_ONLY and not rails:
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start : m.start()].lstrip().startswith(("#", "//")):
            continue
        return "/" + path, text.count("\n", 0, m.start()) + 1
    for m in _DJANGO_ADMIN.finditer(text):
        if not text[text.rfind("\n", 0, m.start()) + 1 : m.start()].lstrip().startswith("#"):
            return "/" + m["p"] + "login/", text.count("\n", 0, m.start()) + 1
    return None


def module_files(target: str, base: str) -> list[str]:
    """Where a WSGI/ASGI target (`pkg.mod:app`, or a file) is, under BASE, and for a
    Django project the urls.py beside its wsgi/asgi module."""
    module = target.split(":", 1)[0].strip()
    if not module or not base:
        return []
    if module.endswith(".py"):
        rel = module
    else:
        rel = module.replace(".", "/") + ".py"
    path = rel if rel.startswith("/") else f"{base.rstrip('/')}/{rel}"
    files = [path]
    if path.endswith(("/wsgi.py", "/asgi.py")):
        files.append(path.rsplit("/", 1)[0] + "/urls.py")
    return files
