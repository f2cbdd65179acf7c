"""Command-line options for live sources, and the settings they make."""

from __future__ import annotations

import functools
import getpass
import inspect
import os
import sys
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from modernize.errors import UserError
from modernize.live.settings import DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, Options
from modernize.snapshot import SshSettings

PASSWORD_ENV = "MODERNIZE_SSH_PASSWORD"

SshConfigOpt = Annotated[
    str | None, typer.Option("--ssh-config", metavar="FILE", help="SSH config to read instead of ~/.ssh/config.")
]
IdentityOpt = Annotated[
    str | None, typer.Option("--identity", "-i", metavar="FILE", help="A private key to try first (ssh:// sources).")
]
AcceptNewOpt = Annotated[
    bool,
    typer.Option(
        "--accept-new-host-key",
        help="Trust a host whose key is not in known_hosts yet, and record it (a changed key always stops).",
    ),
]
AskPassOpt = Annotated[
    bool,
    typer.Option("--ask-pass", help=f"Ask for the SSH password on the terminal (or set {PASSWORD_ENV})."),
]
SudoOpt = Annotated[
    bool, typer.Option("--sudo", help="Run the collector with `sudo -n` (never asks for a password; says if refused).")
]
ConnectTimeoutOpt = Annotated[
    float, typer.Option("--connect-timeout", metavar="S", min=0.1, help="Seconds to wait for a connection and login.")
]
CommandTimeoutOpt = Annotated[
    float,
    typer.Option("--command-timeout", metavar="S", min=0.1, help="Give up on a host silent for this many seconds."),
]
DEFAULT_CONNECT = DEFAULT_CONNECT_TIMEOUT
DEFAULT_COMMAND = DEFAULT_COMMAND_TIMEOUT


def ssh_settings(
    sources: list[str],
    *,
    ssh_config: str | None,
    identity: str | None,
    accept_new_host_key: bool,
    ask_pass: bool,
    sudo: bool,
    connect_timeout: float,
    command_timeout: float,
) -> SshSettings:
    """The settings for ssh:// sources; the password is asked once, only when one is there."""
    live = [s for s in sources if s.startswith("ssh://")]
    password = os.environ.get(PASSWORD_ENV) or None
    if ask_pass and live and password is None:
        if not sys.stdin.isatty():
            raise UserError(f"--ask-pass needs a terminal; set {PASSWORD_ENV} instead")
        password = getpass.getpass(f"SSH password for {live[0]}{' and the others' if len(live) > 1 else ''}: ")
    if identity and not os.path.isfile(os.path.expanduser(identity)):
        raise UserError(f"{identity}: no such key file")
    options = Options(
        password=password,
        accept_new_host_key=accept_new_host_key,
        connect_timeout=connect_timeout,
        command_timeout=command_timeout,
        sudo=sudo,
    )
    return SshSettings(ssh_config=ssh_config, identity=identity, options=options)


def forwarded(settings: SshSettings) -> list[str]:
    """The SSH options of SETTINGS as command-line arguments for a child scan (no password:
    that goes in the child's environment)."""
    o = settings.options
    args = [f"--connect-timeout={o.connect_timeout}", f"--command-timeout={o.command_timeout}"]
    if settings.ssh_config:
        args.append(f"--ssh-config={settings.ssh_config}")
    if o.accept_new_host_key:
        args.append("--accept-new-host-key")
    if o.sudo:
        args.append("--sudo")
    return args


@dataclass(frozen=True)
class SshArgs:
    """The SSH options as given on the command line; `settings(sources)` makes them usable."""

    ssh_config: str | None = None
    identity: str | None = None
    accept_new_host_key: bool = False
    ask_pass: bool = False
    sudo: bool = False
    connect_timeout: float = DEFAULT_CONNECT
    command_timeout: float = DEFAULT_COMMAND

    def settings(self, sources: list[str]) -> SshSettings:
        return ssh_settings(sources, **asdict(self))


NO_SSH_ARGS = SshArgs()  # what a command sees before ssh_options fills it in

_OPTIONS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    for name, annotation, default in (
        ("ssh_config", SshConfigOpt, None),
        ("identity", IdentityOpt, None),
        ("accept_new_host_key", AcceptNewOpt, False),
        ("ask_pass", AskPassOpt, False),
        ("sudo", SudoOpt, False),
        ("connect_timeout", ConnectTimeoutOpt, DEFAULT_CONNECT),
        ("command_timeout", CommandTimeoutOpt, DEFAULT_COMMAND),
    )
]


def ssh_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the SSH options (one declaration for every command that reads a
    live host): typer sees them as the command's own; the command gets `ssh_args: SshArgs`."""
    sig = inspect.signature(command)
    # typer reads option details from each parameter's annotation object: resolve them now
    # (the command's module postpones its annotations), in that module
    hints = typing.get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()]
    own = [p for p in own if p.name != "ssh_args"]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        picked = {p.name: kwargs.pop(p.name) for p in _OPTIONS if p.name in kwargs}
        return command(*args, ssh_args=SshArgs(**picked), **kwargs)

    # typer reads this signature, and the command's annotations (resolved in its module) plus ours
    wrapper.__signature__ = sig.replace(parameters=[*own, *_OPTIONS])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in (*own, *_OPTIONS)}
    return wrapper
