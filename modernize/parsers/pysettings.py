"""A Python settings module (Django's settings.py, a Flask config.py) read with `ast`,
never executed: top-level `NAME = value` assignments whose value can be known from the
text. Literals, containers of them and `+` of strings are values; the environment
look-ups settings modules use (`os.environ.get("X", default)`, `os.getenv`,
`os.environ["X"]`, `env("X", default=...)`, `config("X", default=...)`, wrapped in
`int()`/`str()`/`bool()`) become `EnvRef`s; `dj_database_url.config(default=URL)` and
`.parse(URL)` the URL (`DATABASE_URL` first). Anything else is `UNKNOWN`. A later
assignment replaces an earlier one, as Python does; `X[key] = value` updates a dict.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class EnvRef:
    """A value the process environment gives at run time (`default` when unset)."""

    name: str
    default: Any = None


_ENV_FUNCS = {"get", "getenv", "env", "config", "str", "int", "bool"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def value_of(node: ast.AST) -> Any:
    """The value of an expression as far as the text tells it."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        pass
    if isinstance(node, ast.Dict):
        return {value_of(k): value_of(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [value_of(e) for e in node.elts]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = value_of(node.left), value_of(node.right)
        return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN
    if isinstance(node, ast.Subscript) and _name(node.value) == "os.environ":
        key = value_of(node.slice)
        return EnvRef(key) if isinstance(key, str) else UNKNOWN
    if isinstance(node, ast.Call):
        return _call(node)
    return UNKNOWN


def _call(node: ast.Call) -> Any:
    func = _name(node.func)
    last = func.rsplit(".", 1)[-1]
    kw = {k.arg: k.value for k in node.keywords if k.arg}
    if func.startswith("dj_database_url.") or (func in ("config", "parse") and "conn_max_age" in kw):
        if last == "parse" and node.args:
            return value_of(node.args[0])
        if last == "config":
            env = value_of(kw["env"]) if "env" in kw else "DATABASE_URL"
            default = value_of(kw["default"]) if "default" in kw else None
            name = env if isinstance(env, str) else "DATABASE_URL"
            return {"ENGINE": "dj_database_url", "URL": EnvRef(name, default)}
    if last in ("str", "int", "bool", "float") and len(node.args) == 1 and func == last:
        return value_of(node.args[0])
    if last not in _ENV_FUNCS or not node.args:
        return UNKNOWN
    is_env = (
        func in ("os.environ.get", "os.getenv", "environ.get", "getenv", "env", "config")
        or func.endswith((".env", "env.str", "env.int", "env.bool"))
        or func.startswith("env.")
    )
    if not is_env:
        return UNKNOWN
    key = value_of(node.args[0])
    if not isinstance(key, str):
        return UNKNOWN
    default = value_of(node.args[1]) if len(node.args) > 1 else value_of(kw["default"]) if "default" in kw else None
    return EnvRef(key, None if default is UNKNOWN else default)


def settings(text: str) -> dict[str, tuple[int, Any]]:
    """NAME -> (line, value) of a module's top-level assignments; {} when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    out: dict[str, tuple[int, Any]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for t in targets:
            if isinstance(t, ast.Name):
                out[t.id] = (node.lineno, value_of(value))
            elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in out:
                key = value_of(t.slice)
                base = out[t.value.id][1]
                if isinstance(base, dict) and not isinstance(key, _Unknown):
                    base[key] = value_of(value)
    return out


def module_file(module: str, bases: list[str]) -> list[str]:
    """Candidate files of a dotted module name below each base directory."""
    rel = module.replace(".", "/")
    return [f"{b.rstrip('/')}/{rel}{tail}" for b in bases for tail in (".py", "/__init__.py")]
