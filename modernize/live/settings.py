"""Options of a live connection (kept apart from paramiko, which is slow to import)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CONNECT_TIMEOUT = 15.0
DEFAULT_COMMAND_TIMEOUT = 300.0  # seconds without a byte from the host
CONNECT_ATTEMPTS = 3


@dataclass(frozen=True)
class Options:
    password: str | None = None  # never logged, never in argv
    accept_new_host_key: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    sudo: bool = False
    attempts: int = CONNECT_ATTEMPTS
    use_agent: bool = True

    def __repr__(self) -> str:  # the password stays out of tracebacks and logs
        return f"Options(password={'***' if self.password else None}, sudo={self.sudo})"
