"""Secrets: recognise them, fingerprint them, never keep them.

A fingerprint is an HMAC-SHA256 keyed per installation of modernize, not a bare
hash: a bare hash of a short password is a lookup away from the password. The
key lives in the user's config directory (or where MODERNIZE_FINGERPRINT_KEY
points), never in an inventory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
import secrets as _random
import typing
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from modernize.model import Evidence, Secret

T = typing.TypeVar("T")

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


_problem: list[str] = []  # why fingerprints are left out, once _key() has been asked


@lru_cache(maxsize=1)
def _key() -> bytes | None:
    """The installation's key, made on first use. None when it can be neither read nor
    kept: a key made up for one run would give other fingerprints on every run."""
    _problem.clear()
    path = _key_path()
    try:
        data = path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        return _unkeyed(f"cannot be read ({exc.strerror})", path)
    else:
        return data if data else _unkeyed("is empty", path)
    key = _random.token_hex(32).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
    except FileExistsError:  # made by another scan meanwhile
        try:
            data = path.read_bytes().strip()
        except OSError as exc:
            return _unkeyed(f"cannot be read ({exc.strerror})", path)
        return data if data else _unkeyed("is empty", path)
    except OSError as exc:
        return _unkeyed(f"cannot be written ({exc.strerror})", path)
    return key


def _unkeyed(why: str, path: Path) -> bytes | None:
    _problem[:] = [
        f"secret fingerprints omitted: the fingerprint key {path} {why}; "
        "set MODERNIZE_FINGERPRINT_KEY to a file modernize can read (or create)"
    ]
    return None


def key_problem() -> str | None:
    """Why fingerprints were left out in this process, if they were."""
    return _problem[0] if _problem else None


def fingerprint(value: str) -> str:
    """HMAC-SHA256 of VALUE under the installation's key; "" when there is no key
    (the inventory then says so in its findings, and stays the same run after run)."""
    key = _key()
    if key is None:
        return ""
    return "hmac-sha256:" + hmac.new(key, value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:32]


def make_secret(key: str, value: str, path: str, line: int | None, *, kind: str | None = None) -> Secret:
    ev = Evidence("config", path, line, excerpt=f"{key} = {MASK}")
    return Secret(
        key=key, path=path, line=line, kind=kind or kind_of(key), fingerprint=fingerprint(value), evidence=(ev,)
    )


# -- secrets by shape ------------------------------------------------------------------
# Values whose form gives them away, whatever the setting is called. Each is
# specific enough (a fixed prefix, a fixed length, the key's armour) that an
# ordinary word or path does not look like one.
_SHAPES: tuple[tuple[str, str], ...] = (
    ("token", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}"),  # Stripe
    ("token", r"\bgh[pousr]_[A-Za-z0-9]{30,}"),  # GitHub
    ("token", r"\bgithub_pat_[A-Za-z0-9_]{30,}"),
    ("token", r"\bglpat-[A-Za-z0-9_-]{20,}"),  # GitLab
    ("token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    ("token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    ("key", r"\bAIza[0-9A-Za-z_-]{35}"),  # Google API key
    ("token", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*)",
    ),
)
_SHAPE = re.compile("|".join(f"(?P<s{i}>{rx})" for i, (_, rx) in enumerate(_SHAPES)), re.DOTALL)
_SHAPE_HINT = re.compile(r"_|AKIA|ASIA|AIza|eyJ|xox|glpat|-----BEGIN")  # cheap test before the big one


def shape_of(value: str) -> str | None:
    """The kind of secret VALUE holds by its shape (`token`, `key`, `private-key`), or None."""
    if not _SHAPE_HINT.search(value):
        return None
    m = _SHAPE.search(value)
    if m is None:
        return None
    return _SHAPES[int(next(k for k, v in m.groupdict().items() if v is not None)[1:])][0]


def _shapes(text: str, found: list[str]) -> str:
    if not _SHAPE_HINT.search(text):
        return text

    def mask(m: re.Match[str]) -> str:
        found.append(m.group())
        return MASK

    return _SHAPE.sub(mask, text)


# -- URLs -------------------------------------------------------------------------------
_QUERY_SECRET = re.compile(r"(?P<k>[?&;](?P<n>[A-Za-z0-9_.\[\]-]+)=)(?P<v>[^&;#\s'\"]*)")


def _query_secrets(url: str, found: list[str]) -> str:
    """`?user=a&password=x`: the values of parameters named like a secret."""
    if "=" not in url:
        return url

    def mask(m: re.Match[str]) -> str:
        if m.group("v") and m.group("v") != MASK and _secret_param(m.group("n")):
            found.append(m.group("v"))
            return m.group("k") + MASK
        return m.group()

    return _QUERY_SECRET.sub(mask, url)


_PARAM_WORDS = re.compile(r"pass(?:word|wd)?$|secret|token|api_?key|access_?key|signature", re.IGNORECASE)


def _secret_param(name: str) -> bool:
    """A URL parameter holding a secret: `password`, `sslpassword`, `access_token`, `apiKey`."""
    return is_secret_name(name) or (not _NOT_SECRET.search(name) and bool(_PARAM_WORDS.search(name)))


def url_password(url: str) -> str | None:
    """The password in `scheme://user:pass@host/...`, if any."""
    try:
        parts = urlsplit(url)
        return parts.password
    except ValueError:
        return None


def url_secrets(url: str) -> tuple[str, list[str]]:
    """The URL with its secrets masked (the password in `user:pass@`, parameters such as
    `?password=`, tokens by shape), and the values masked. Host, port and database stay."""
    found: list[str] = []
    pw = url_password(url)
    out = url
    if pw and pw != MASK:
        out = out.replace(":" + pw + "@", ":" + MASK + "@", 1)
        found.append(pw)
    out = _query_secrets(out, found)
    out = _shapes(out, found)
    return out, found


def redact_url(url: str) -> str:
    """The URL with its secrets masked; the rest (host, port, db) is kept as a fact."""
    return url_secrets(url)[0]


def redact_line(line: str, value: str) -> str:
    return line.replace(value, MASK) if value else line


# -- command lines --------------------------------------------------------------------
# Options whose value is a secret, `--password x` and `--db-pass=x` alike (not
# `--password-file`, nor a switch such as `--no-password`).
_SECRET_FLAG = (
    r"--?(?!no-)(?:[A-Za-z0-9]+[-_])*(?:password|passwd|pass|pwd|passphrase|token|secret|"
    r"api[-_]?key|auth[-_]?token|access[-_]?key|secret[-_]?key|requirepass)"
)
_FLAG_SECRET = re.compile(
    rf"(?P<k>(?<![\w-]){_SECRET_FLAG}(?:=|\s+(?!-)))(?P<v>'[^']*'|\"[^\"]*\"|[^\s'\"]+)", re.IGNORECASE
)
_FLAG_ALONE = re.compile(_SECRET_FLAG, re.IGNORECASE)
_ENV_SECRET = re.compile(
    r"(?P<k>(?<![?&;])\b[A-Za-z_]*(?:PASS|PASSWORD|PASSWD|SECRET|TOKEN|API_KEY)[A-Za-z_]*=)(?P<v>'[^']*'|\"[^\"]*\"|\S+)",
    re.IGNORECASE,
)
_MYSQL = re.compile(r"\b(?:mysql|mysqldump|mariadb|mariadb-dump|mysqladmin)\b")
_MYSQL_P = re.compile(r"(?P<k>(?:^|\s)-p)(?P<v>[^\s-]\S*)")
_URL_PW = re.compile(r"(?P<k>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<v>[^@\s]+)(?=@)", re.IGNORECASE)
# programs whose short option takes a secret as the next argument; others' -p is a port
_SHORT_SECRET = {
    "sshpass": "-p",
    "redis-cli": "-a",
    "mongo": "-p",
    "mongosh": "-p",
    "mongodump": "-p",
    "mongorestore": "-p",
    "mongoexport": "-p",
    "mongoimport": "-p",
    "mosquitto_pub": "-P",
    "mosquitto_sub": "-P",
}
_SHORT_IN_LINE = re.compile(
    r"(?P<k>\b(?P<prog>" + "|".join(re.escape(p) for p in _SHORT_SECRET) + r")\b[^|;&]*?\s(?P<flag>-[apP])\s+)"
    r"(?P<v>'[^']*'|\"[^\"]*\"|[^\s'\"]+)"
)


def scrub(text: str, found: list[str] | None = None) -> str:
    """TEXT (a command line, a setting's value, a quoted line) with every secret it
    carries masked: `--password=x` and `--db-pass x`, `-pX` of the mysql tools, `-a x`
    of redis-cli and the like, `PGPASSWORD=x`, URLs with passwords or `?password=`
    parameters, and tokens and private keys by their shape. The masked values are
    appended to FOUND."""
    found = [] if found is None else found

    def mask(m: re.Match[str]) -> str:
        value = m.group("v")
        if value.strip("'\"") in ("", MASK):
            return m.group()
        found.append(value.strip("'\""))
        return m.group("k") + MASK

    out = _FLAG_SECRET.sub(mask, text)
    out = _URL_PW.sub(mask, out)
    out = _query_secrets(out, found)
    out = _ENV_SECRET.sub(mask, out)
    if _MYSQL.search(out):
        out = _MYSQL_P.sub(mask, out)
    out = _SHORT_IN_LINE.sub(lambda m: mask(m) if m.group("flag") == _SHORT_SECRET[m.group("prog")] else m.group(), out)
    return _shapes(out, found)


def redact_command(command: str) -> str:
    """A command line with the secrets it carries masked (see `scrub`)."""
    return scrub(command)


def redact_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The same for an argument vector; a secret in the next argument is masked too
    (`--db-pass VALUE`, `sshpass -p VALUE`), unless that argument is another option."""
    out = list(argv)
    prog = argv[0].rsplit("/", 1)[-1] if argv else ""
    mysql = prog.startswith(("mysql", "mariadb"))
    short = _SHORT_SECRET.get(prog)
    for i, arg in enumerate(out):
        if i > 0 and (_FLAG_ALONE.fullmatch(argv[i - 1]) or argv[i - 1] == short) and not arg.startswith("-"):
            out[i] = MASK
            continue
        red = scrub(arg)
        if mysql and re.fullmatch(r"-p\S+", arg):
            red = "-p" + MASK
        out[i] = red
    return tuple(out)


# -- the inventory, once more ------------------------------------------------------------
# Detectors mask what they recognise as they read. Whatever reaches the inventory
# by another way (a command line a runtime capture recorded, a line quoted as
# evidence, an option whose name no detector knows) passes here on its way out of
# the scan: command lines and quoted text are scrubbed, every other string is
# searched for secrets by their shape. Package records (large, and the package
# manager's, not the admin's) are left as they are.
_TEXT_FIELDS = frozenset({"excerpt", "detail", "message", "command", "value", "description", "uri"})
_ARGV_FIELDS = frozenset({"command", "exec_start", "cmdline", "argv", "args", "arguments", "options"})
_SKIP_FIELDS = frozenset({"packages", "fingerprint", "schema_version", "tool_version"})


def scrub_inventory(obj: T) -> T:
    """OBJ (an Inventory or any part of it) with secrets masked wherever they slipped in,
    and names that are not UTF-8 escaped (so the plan and reports made from it can be written)."""
    return typing.cast(T, _walk(obj, ""))


def escape_surrogates(text: str, *, in_json: bool = False) -> str:
    """TEXT with the bytes of a name that is not UTF-8 (surrogateescape's lone surrogates,
    which UTF-8 cannot encode) written as the four characters `\\xNN`: `caf\\xe9.conf`.
    IN_JSON: TEXT is JSON text, where that backslash is itself escaped."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    slash = "\\\\" if in_json else "\\"
    return _SURROGATE.sub(lambda m: slash + _escaped(ord(m.group())), text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(code: int) -> str:
    return f"x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"u{code:04x}"


def _walk(obj: object, name: str) -> object:
    if isinstance(obj, str):
        if not obj.isascii():
            obj = escape_surrogates(obj)  # a file name that is not UTF-8, as inventory.json writes it
        return scrub(obj) if name in _TEXT_FIELDS else _shapes(obj, [])
    if isinstance(obj, tuple):
        if name in _ARGV_FIELDS and obj and all(isinstance(x, str) for x in obj):
            new: tuple[object, ...] = redact_argv(typing.cast(tuple[str, ...], obj))
        else:
            new = tuple(_walk(x, name) for x in obj)
        return obj if new == obj else new
    if isinstance(obj, dict):
        out = {k: _walk(v, name) for k, v in obj.items()}
        return obj if out == obj else out
    fields = _fields(typing.cast(typing.Hashable, type(obj)))
    if fields is None:
        return obj
    changes = {}
    for f in fields:
        if f in _SKIP_FIELDS:
            continue
        value = getattr(obj, f)
        new_value = _walk(value, f)
        if new_value is not value:
            changes[f] = new_value
    return dataclasses.replace(typing.cast(typing.Any, obj), **changes) if changes else obj


@cache
def _fields(cls: typing.Hashable) -> tuple[str, ...] | None:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))
