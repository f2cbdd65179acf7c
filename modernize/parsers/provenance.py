"""Where an app's libraries were installed from, as their package managers recorded it.

- pip: `*.dist-info/direct_url.json` (PEP 610, written by pip since 20.1 and by uv for
  every install not from an index): `url` plus `vcs_info` (vcs, commit_id), `archive_info`
  or `dir_info`. No such file: from the index (the registry).
- npm: package-lock.json / npm-shrinkwrap.json, lockfileVersion 1 (`dependencies`, a
  git dependency's `version` is its URL) and 2/3 (`packages["node_modules/NAME"]`,
  `resolved`, `link: true` for a local directory); no `resolved` (npm's
  omit-lockfile-registry-resolved) or one on a registry's `NAME/-/NAME-V.tgz` path: the registry.
- yarn.lock: v1 (`"name@spec":` entries with `resolved "URL#hash"`) and berry
  (`resolution: "name@npm:1.2.3"`, `name@git+...`, `name@file:...`, `workspace:`/`link:`/`portal:`).
- Gemfile.lock: `GEM` (remote: a gem server), `GIT` (remote, revision), `PATH` (remote: a directory).

URLs are kept with their credentials masked (a token in the user part too).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from modernize.secrets import MASK

REGISTRY, VCS, URL, DIRECTORY = "registry", "vcs", "url", "directory"
_VCS_PREFIX = ("git+", "git:", "git://", "github:", "gitlab:", "bitbucket:", "gist:", "hg+", "svn+", "bzr+")
_USERINFO = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@\s]+)@", re.IGNORECASE)
# user names that are no secret: ssh's `git@host`, anonymous access
_PLAIN_USERS = {"git", "hg", "anonymous", "ssh"}


def redact(url: str) -> str:
    """The URL with any credentials masked: `https://user:pass@h` -> `https://user:***@h`,
    a token alone in the user part (`https://ghp_x@github.com`) -> `https://***@h`;
    `git+ssh://git@host` stays."""
    m = _USERINFO.match(url)
    if not m:
        return url
    user, _, password = m.group("user").partition(":")
    if password:
        cred = f"{user}:{MASK}"
    elif user.lower() in _PLAIN_USERS:
        return url
    else:
        cred = MASK
    return m.group("scheme") + cred + "@" + url[m.end() :]


@dataclass(frozen=True)
class Origin:
    source: str  # registry, vcs, url, directory
    url: str | None = None  # redacted
    line: int | None = None  # where the lock file says so


def pep610(text: str) -> Origin:
    """A direct_url.json's origin; raises ValueError when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise ValueError("no url")
    url = redact(data["url"])
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict):
        kind = vcs.get("vcs") if isinstance(vcs.get("vcs"), str) else "git"
        commit = vcs.get("commit_id") if isinstance(vcs.get("commit_id"), str) else None
        return Origin(VCS, f"{kind}+{url}" + (f"@{commit}" if commit else ""))
    if isinstance(data.get("dir_info"), dict):
        return Origin(DIRECTORY, url)
    if isinstance(data.get("archive_info"), dict):
        return Origin(URL, url)
    raise ValueError("none of vcs_info, archive_info, dir_info")


def _archive(url: str) -> bool:
    return url.endswith((".tgz", ".tar.gz", ".tar", ".zip", ".whl", ".tar.bz2", ".tar.xz", ".gem"))


def npm_spec(spec: str, *, link: bool = False) -> Origin:
    """What a lock file's `resolved` (or a v1 `version`) says of a package's source."""
    if link:
        return Origin(DIRECTORY, spec)
    s = spec.strip()
    if s.startswith(_VCS_PREFIX) or re.match(r"^[\w.-]+/[\w.-]+(#.*)?$", s):
        return Origin(VCS, redact(s))
    if s.startswith("file:"):
        return Origin(URL if _archive(s) else DIRECTORY, s)
    if s.startswith(("http://", "https://")):
        path = urlsplit(s).path
        if "/-/" in path and path.endswith(".tgz"):
            return Origin(REGISTRY)  # a registry's tarball layout: NAME/-/NAME-VERSION.tgz
        if path.endswith(".git") or "#commit=" in s or re.search(r"(codeload\.github\.com|/archive/|/tarball/)", s):
            return Origin(VCS, redact(s))
        return Origin(URL, redact(s))
    return Origin(REGISTRY)  # a semver range or version: from the registry


def _str(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _line_of(text: str, needle: str) -> int | None:
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else None


def npm_lock(text: str) -> dict[str, tuple[str, Origin]]:
    """name -> (version, origin) of the packages installed at the top of node_modules
    (plus nested ones not at the top) from a package-lock.json; raises ValueError."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    out: dict[str, tuple[str, Origin]] = {}
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if not isinstance(key, str) or "node_modules/" not in key or not isinstance(entry, dict):
                continue
            name = _str(entry, "name") or key.rsplit("node_modules/", 1)[1]
            resolved = _str(entry, "resolved")
            version = _str(entry, "version") or ""
            origin = npm_spec(resolved, link=bool(entry.get("link"))) if resolved else Origin(REGISTRY)
            origin = Origin(origin.source, origin.url, _line_of(text, f'"{key}": {{'))
            top = key == f"node_modules/{name}"
            if top or name not in out:
                out[name] = (version, origin)
        return out
    deps = data.get("dependencies")
    if isinstance(deps, dict):
        _npm_v1(deps, text, out)
        return out
    raise ValueError("neither packages nor dependencies")


def _npm_v1(deps: dict[str, Any], text: str, out: dict[str, tuple[str, Origin]]) -> None:
    for name, entry in deps.items():
        if not isinstance(entry, dict):
            continue
        version = _str(entry, "version") or ""
        resolved = _str(entry, "resolved")
        spec = version if not re.match(r"^\d", version) else (resolved or version)
        origin = npm_spec(spec)
        line = _line_of(text, f'"{name}": {{')
        if name not in out:
            out[name] = ("" if origin.source != REGISTRY and not re.match(r"^\d", version) else version,
                         Origin(origin.source, origin.url, line))  # fmt: skip
        nested = entry.get("dependencies")
        if isinstance(nested, dict):
            _npm_v1(nested, text, out)


_YARN_HEAD = re.compile(r"^(?P<keys>\S.*):\s*$")


def _yarn_name(spec: str) -> str:
    spec = spec.strip().strip('"')
    at = spec.find("@", 1)  # a scoped name starts with @
    return spec[:at] if at > 0 else spec


def yarn_lock(text: str) -> dict[str, tuple[str, Origin]]:
    """name -> (version, origin) from a yarn.lock (v1 or berry); raises ValueError when
    no entry can be read."""
    out: dict[str, tuple[str, Origin]] = {}
    entries: list[tuple[int, list[str], dict[str, str]]] = []
    cur: dict[str, str] | None = None
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            m = _YARN_HEAD.match(line)
            if m and not line.startswith("__metadata"):
                cur = {}
                entries.append((no, [k.strip() for k in m.group("keys").split(",")], cur))
            else:
                cur = None
            continue
        if cur is not None and line.startswith("  ") and not line.startswith("   "):
            key, _, value = line.strip().partition(" ")
            cur[key.rstrip(":")] = value.strip().strip('"')
    if not entries:
        raise ValueError("no entries")
    for no, keys, fields in entries:
        name = _yarn_name(keys[0])
        spec = keys[0].strip().strip('"')[len(name) + 1 :]
        version = fields.get("version", "")
        resolution = fields.get("resolution")
        if resolution is not None:  # berry: name@npm:1.2.3, name@https://..., name@workspace:.
            how = resolution[len(_yarn_name(resolution)) + 1 :]
            if how.startswith("npm:"):
                origin = Origin(REGISTRY)
            elif how.startswith(("workspace:", "link:", "portal:")):
                origin = Origin(DIRECTORY, how)
            else:
                origin = npm_spec(how)
        else:
            resolved = fields.get("resolved")
            origin = npm_spec(resolved) if resolved else npm_spec(spec)
        if origin.source == "directory" and spec.startswith("workspace:"):
            continue  # the project itself and its workspaces
        out.setdefault(name, (version, Origin(origin.source, origin.url, no)))
    return out


def gemfile_lock(text: str) -> dict[str, tuple[str, Origin]]:
    """gem -> (version, origin) of every spec in a Gemfile.lock's GEM/GIT/PATH sections."""
    out: dict[str, tuple[str, Origin]] = {}
    section = None
    remote = revision = None
    pending: list[tuple[str, str, int]] = []

    def flush() -> None:
        for name, version, line in pending:
            if section == "GIT":
                origin = Origin(VCS, redact(remote or "") + (f"@{revision}" if revision else "") or None, line)
            elif section == "PATH":
                origin = Origin(DIRECTORY, remote, line)
            else:
                origin = Origin(REGISTRY, None, line)
            out.setdefault(name, (version, origin))
        pending.clear()

    for no, line in enumerate(text.splitlines(), 1):
        if line and not line.startswith(" "):
            flush()
            section, remote, revision = line.strip(), None, None
            continue
        if section not in ("GEM", "GIT", "PATH"):
            continue
        m = re.match(r"^  (remote|revision): (\S+)", line)
        if m:
            if m.group(1) == "remote":
                remote = m.group(2)
            else:
                revision = m.group(2)
            continue
        m = re.match(r"^    ([A-Za-z0-9_.-]+) \(([^)]+)\)$", line)
        if m:
            pending.append((m.group(1), m.group(2).split("-")[0], no))
    flush()
    return out
