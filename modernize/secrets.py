"""Secrets: recognise them, fingerprint them, never keep them.

A fingerprint is an HMAC-SHA256 keyed per installation of modernize, not a bare
hash: a bare hash of a short password is a lookup away from the password. The
key lives in the user's config directory (or where MODERNIZE_FINGERPRINT_KEY
points), never in an inventory.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets as _random
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from modernize.model import Evidence, Secret

MASK = "<redacted>"

_SECRET_WORDS = re.compile(
    r"(?:^|[^A-Za-z])(?:pass(?:wd|word)?|pwd|secret|token|api[_-]?key|private[_-]?key|"
    r"secret[_-]?key|auth[_-]?key|access[_-]?key|credentials?|salt|signing[_-]?key|"
    r"nonce[_-]?key|logged[_-]?in[_-]?key|app[_-]?key|encryption[_-]?key|jwt(?:[_-]?\w+)?|master[_-]?key)(?:$|[^A-Za-z])",
    re.IGNORECASE,
)
_NOT_SECRET = re.compile(r"(?:_FILE|_PATH|_URL|_HOST|_USER|_USERNAME|_PORT)$", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """`DATABASE_PASSWORD`, `requirepass`, `SECRET_KEY`, `AUTH_KEY` are secrets;
    `PASSWORD_FILE` names where one is, not the secret itself."""
    if _NOT_SECRET.search(name):
        return False
    spaced = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return bool(_SECRET_WORDS.search(spaced)) or name.lower() in {"requirepass", "masterauth", "pass"}


def kind_of(name: str) -> str:
    low = name.lower()
    if "private" in low:
        return "private-key"
    if "token" in low:
        return "token"
    if "key" in low or "salt" in low:
        return "key"
    if "cred" in low:
        return "credentials"
    return "password"


def _key_path() -> Path:
    env = os.environ.get("MODERNIZE_FINGERPRINT_KEY")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "modernize" / "fingerprint.key"


@lru_cache(maxsize=1)
def _key() -> bytes:
    path = _key_path()
    try:
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    except OSError:
        pass
    key = _random.token_hex(32).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
    except FileExistsError:
        return path.read_bytes().strip()
    except OSError:
        pass  # read-only home: fingerprints are still keyed, only not stable across runs
    return key


def fingerprint(value: str) -> str:
    return "hmac-sha256:" + hmac.new(_key(), value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:32]


def make_secret(key: str, value: str, path: str, line: int | None, *, kind: str | None = None) -> Secret:
    ev = Evidence("config", path, line, excerpt=f"{key} = {MASK}")
    return Secret(
        key=key, path=path, line=line, kind=kind or kind_of(key), fingerprint=fingerprint(value), evidence=(ev,)
    )


def url_password(url: str) -> str | None:
    """The password in `scheme://user:pass@host/...`, if any."""
    try:
        parts = urlsplit(url)
        return parts.password
    except ValueError:
        return None


def redact_url(url: str) -> str:
    """The URL with its password masked; the rest (host, port, db) is kept as a fact."""
    pw = url_password(url)
    if not pw:
        return url
    return url.replace(":" + pw + "@", ":" + MASK + "@", 1)


def redact_line(line: str, value: str) -> str:
    return line.replace(value, MASK) if value else line


# Command-line options whose value is a secret: one list for a command line and an argv.
_SECRET_FLAG = r"--?(?:password|passwd|pass|pwd|token|secret|api[-_]?key|auth[-_]?token|requirepass)"
_FLAG_SECRET = re.compile(rf"(?P<k>{_SECRET_FLAG}(?:=|\s+))(?P<v>'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE)
_FLAG_ALONE = re.compile(_SECRET_FLAG, re.IGNORECASE)
_ENV_SECRET = re.compile(
    r"(?P<k>\b[A-Za-z_]*(?:PASS|PASSWORD|PASSWD|SECRET|TOKEN|API_KEY)[A-Za-z_]*=)(?P<v>'[^']*'|\"[^\"]*\"|\S+)",
    re.IGNORECASE,
)
_MYSQL_P = re.compile(r"(?P<k>(?:^|\s)-p)(?P<v>[^\s-]\S*)")
_URL_PW = re.compile(r"(?P<k>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<v>[^@\s]+)(?=@)", re.IGNORECASE)


def redact_command(command: str) -> str:
    """A command line with the secrets it carries masked: `--password=x`, `-pX` of the
    mysql tools, `PGPASSWORD=x`, URLs with passwords."""
    out = _FLAG_SECRET.sub(lambda m: m.group("k") + MASK, command)
    out = _ENV_SECRET.sub(lambda m: m.group("k") + MASK, out)
    out = _URL_PW.sub(lambda m: m.group("k") + MASK, out)
    if re.search(r"\b(?:mysql|mysqldump|mariadb|mariadb-dump|mysqladmin)\b", out):
        out = _MYSQL_P.sub(lambda m: m.group("k") + MASK, out)
    return out


def redact_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The same for an argument vector; a secret in the next argument is masked too."""
    out = list(argv)
    mysql = bool(argv) and argv[0].rsplit("/", 1)[-1].startswith(("mysql", "mariadb"))
    for i, arg in enumerate(out):
        if i > 0 and _FLAG_ALONE.fullmatch(argv[i - 1]):
            out[i] = MASK
            continue
        red = redact_command(arg)
        if mysql and re.fullmatch(r"-p\S+", arg):
            red = "-p" + MASK
        out[i] = red
    return tuple(out)
