"""Where to connect: an `ssh://[user@]host[:port]` URL resolved through ~/.ssh/config."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlsplit

import paramiko

from modernize.errors import UserError

DEFAULT_CONFIG = "~/.ssh/config"
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
MAX_JUMPS = 8


@dataclass(frozen=True)
class Target:
    """One SSH endpoint, as the user wrote it (`alias` is what ~/.ssh/config is keyed on)."""

    alias: str
    user: str | None = None
    port: int | None = None

    def url(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        host = f"[{self.alias}]" if ":" in self.alias else self.alias
        return f"ssh://{user}{host}{port}"


@dataclass(frozen=True)
class Endpoint:
    """A target with ~/.ssh/config applied: everything `connect` needs for one hop."""

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    known_hosts: tuple[str, ...] = ()
    connect_timeout: float | None = None
    jumps: tuple[Endpoint, ...] = field(default=())  # outermost first

    def url(self) -> str:
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"ssh://{self.user}@{host}:{self.port}"


_HOST = re.compile(r"^[A-Za-z0-9_.%-]+$|^\[[0-9A-Fa-f:.%]+\]$")


def parse_url(text: str) -> Target:
    """`ssh://[user@]host[:port]` (an IPv6 address in brackets); nothing else is accepted."""
    if not text.startswith("ssh://"):
        raise UserError(f"{text}: not an ssh:// URL (ssh://[user@]host[:port])")
    parts = urlsplit(text)
    if parts.password is not None:
        shown = text.replace(f":{parts.password}@", ":***@", 1)
        raise UserError(f"{shown}: no passwords in URLs (they end up in shell history); use --ask-pass")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UserError(f"{text}: an ssh:// URL names a host only (ssh://[user@]host[:port]), no path")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    host = netloc
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
    else:
        host = host.split(":", 1)[0]
    if not host or not _HOST.match(host):
        raise UserError(f"{text}: {host or 'no host'!r} is not a host name or address")
    try:
        port = parts.port
    except ValueError:
        raise UserError(f"{text}: the port must be a number from 1 to 65535") from None
    if port == 0:
        raise UserError(f"{text}: the port must be a number from 1 to 65535")
    user = unquote(parts.username) if parts.username else None
    return Target(host.strip("[]"), user, port)


def parse_jump(text: str) -> Target:
    """One ProxyJump hop: `[user@]host[:port]` or an ssh:// URL."""
    return parse_url(text if text.startswith("ssh://") else f"ssh://{text}")


def load_config(path: str | None) -> paramiko.SSHConfig:
    """~/.ssh/config (or PATH); a missing default file is an empty config, a missing PATH an error."""
    file = os.path.expanduser(path or DEFAULT_CONFIG)
    if not os.path.exists(file):
        if path:
            raise UserError(f"{path}: no such SSH config file")
        return paramiko.SSHConfig()
    try:
        return paramiko.SSHConfig.from_path(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: cannot read the SSH config ({exc})") from exc
    except Exception as exc:
        raise UserError(f"{file}: cannot parse the SSH config ({exc})") from exc


def resolve(target: Target, config: paramiko.SSHConfig, *, identity: str | None = None, depth: int = 0) -> Endpoint:
    """Apply ~/.ssh/config to TARGET as OpenSSH does (the URL's user and port win)."""
    if depth > MAX_JUMPS:
        raise UserError(f"{target.url()}: more than {MAX_JUMPS} ProxyJump hops (a loop in the SSH config?)")
    try:
        opts = config.lookup(target.alias)
    except Exception as exc:
        raise UserError(f"{target.url()}: cannot apply the SSH config ({exc})") from exc
    port_text = str(target.port or opts.get("port", "22"))
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UserError(f"{target.url()}: the SSH config gives port {port_text!r}")
    user = target.user or opts.get("user") or getpass.getuser()
    files = [os.path.expanduser(f) for f in opts.get("identityfile", [])]
    if identity:
        files.insert(0, os.path.expanduser(identity))
    known = tuple(os.path.expanduser(f) for f in (opts.get("userknownhostsfile") or DEFAULT_KNOWN_HOSTS).split())
    timeout_text = opts.get("connecttimeout")
    timeout = float(timeout_text) if timeout_text and timeout_text.isdigit() else None
    jumps: list[Endpoint] = []
    proxy = opts.get("proxyjump")
    if proxy and proxy.lower() != "none":
        for hop in proxy.split(","):
            ep = resolve(parse_jump(hop.strip()), config, depth=depth + 1)
            jumps += [*ep.jumps, replace(ep, jumps=())]  # a hop's own ProxyJump comes before it
    if opts.get("proxycommand"):
        raise UserError(f"{target.url()}: ProxyCommand is not supported; use ProxyJump")
    return Endpoint(
        alias=target.alias,
        hostname=opts.get("hostname", target.alias),
        port=int(port_text),
        user=user,
        identity_files=tuple(dict.fromkeys(files)),
        identities_only=str(opts.get("identitiesonly", "no")).lower() == "yes",
        known_hosts=known,
        connect_timeout=timeout,
        jumps=tuple(jumps),
    )
