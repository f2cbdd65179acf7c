"""A checked SSH connection with paramiko: host keys, logins, jumps, timeouts, retries.

Host keys are checked against known_hosts as OpenSSH's StrictHostKeyChecking=yes
does (an unknown key stops unless the user accepts new keys, as `accept-new`;
a changed key always stops). Passwords come only from the caller (asked on the
terminal or read from an environment variable) and are never logged.
"""

from __future__ import annotations

import base64
import io
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO, cast

import paramiko

from modernize.errors import SourceError
from modernize.live.settings import Options
from modernize.live.target import Endpoint

RETRY_PAUSE = 1.0


class HostKeyError(SourceError):
    """The host's key is unknown (and not accepted) or does not match known_hosts."""


class LoginError(SourceError):
    """The host refused every way of logging in that was tried."""


class ConnectFailed(SourceError):
    """The host could not be reached (after the bounded retries)."""


class StreamLost(SourceError):
    """The connection dropped, or the host went quiet longer than the command timeout."""


def fingerprint(key: paramiko.PKey) -> str:
    """SHA256:... as `ssh-keygen -l` prints it."""
    import hashlib

    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _known_name(ep: Endpoint) -> str:
    return ep.hostname if ep.port == 22 else f"[{ep.hostname}]:{ep.port}"


class _Unknown(paramiko.MissingHostKeyPolicy):
    """No key for this host in known_hosts: stop, or (accept-new) record it and go on."""

    def __init__(self, ep: Endpoint, accept: bool) -> None:
        self.ep = ep
        self.accept = accept

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        files = self.ep.known_hosts or (os.path.expanduser("~/.ssh/known_hosts"),)
        if not self.accept:
            raise HostKeyError(
                f"{self.ep.url()}: the host's key is not in {files[0]} ({key.get_name()} {fingerprint(key)}). "
                "Check the fingerprint with the host's owner, then scan again with --accept-new-host-key "
                "(or add it with ssh-keyscan)"
            )
        client.get_host_keys().add(hostname, key.get_name(), key)
        path = files[0]
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        with open(path, "a", encoding="ascii") as fh:
            fh.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


def _load_known(client: paramiko.SSHClient, ep: Endpoint) -> None:
    for path in ep.known_hosts:
        if os.path.isfile(path):
            try:
                client.load_host_keys(path)
            except (OSError, paramiko.SSHException, UnicodeDecodeError) as exc:
                raise HostKeyError(f"{path}: cannot read known hosts ({exc})") from exc


class Connection:
    """Clients for each hop (jumps first) and the target; `run` opens one exec channel."""

    def __init__(self, endpoint: Endpoint, options: Options) -> None:
        self.endpoint = endpoint
        self.options = options
        self.clients: list[paramiko.SSHClient] = []
        self.round_trips = 0

    # -- connecting ------------------------------------------------------------------
    def open(self) -> None:
        """Connect, retrying what may pass (refused, timed out, reset) a bounded number of times."""
        last: Exception | None = None
        for attempt in range(max(1, self.options.attempts)):
            if attempt:
                time.sleep(RETRY_PAUSE * attempt)
            try:
                self._open_once()
                return
            except (HostKeyError, LoginError):
                self.close()
                raise
            except (OSError, EOFError, paramiko.SSHException) as exc:
                self.close()
                last = exc
        raise ConnectFailed(f"{self.endpoint.url()}: cannot connect ({_why(last)})")

    def _open_once(self) -> None:
        sock: paramiko.Channel | None = None
        hops = [*self.endpoint.jumps, self.endpoint]
        for i, ep in enumerate(hops):
            if sock is None and i:
                raise ConnectFailed(f"{ep.url()}: the jump host gave no channel")
            try:
                client = self._client(ep, sock)
            except (HostKeyError, LoginError) as exc:
                if i + 1 == len(hops):
                    raise
                # say which hop refused: the user asked for the target, not the bastion
                raise type(exc)(f"{self.endpoint.url()}: the jump host refused: {exc}") from None
            self.clients.append(client)
            if i + 1 < len(hops):
                nxt = hops[i + 1]
                transport = client.get_transport()
                assert transport is not None
                try:
                    sock = transport.open_channel(
                        "direct-tcpip", (nxt.hostname, nxt.port), ("127.0.0.1", 0), timeout=self._timeout(nxt)
                    )
                except paramiko.ChannelException as exc:
                    raise ConnectFailed(
                        f"{nxt.url()}: the jump host {ep.url()} cannot reach it ({exc.text or exc})"
                    ) from exc

    def _timeout(self, ep: Endpoint) -> float:
        return ep.connect_timeout or self.options.connect_timeout

    def _client(self, ep: Endpoint, sock: paramiko.Channel | None) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        _load_known(client, ep)
        client.set_missing_host_key_policy(_Unknown(ep, self.options.accept_new_host_key))
        keys = [f for f in ep.identity_files if os.path.isfile(f)]
        timeout = self._timeout(ep)
        try:
            client.connect(
                ep.hostname,
                port=ep.port,
                username=ep.user,
                password=self.options.password,
                key_filename=cast(str, keys) if keys else None,  # a list works (stubs say str)
                allow_agent=self.options.use_agent and not ep.identities_only,
                look_for_keys=not ep.identities_only and not keys,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
                sock=sock,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                f"{ep.url()}: the host's key has CHANGED: known_hosts has {exc.expected_key.get_name()} "
                f"{fingerprint(exc.expected_key)}, the host offers {fingerprint(exc.key)}. This can be an attack "
                f"(someone in the middle). If the host was rebuilt, confirm the new key with its owner and remove "
                f"the old one with: ssh-keygen -R {_known_name(ep)!r}"
            ) from None
        except paramiko.PasswordRequiredException:
            client.close()
            raise LoginError(
                f"{ep.url()}: the key file is protected by a passphrase: add it to ssh-agent (ssh-add) and scan again"
            ) from None
        except paramiko.AuthenticationException as exc:
            client.close()
            tried = [f"key {k}" for k in keys] + (["the ssh agent"] if self.options.use_agent else [])
            tried += ["a password"] if self.options.password else []
            raise LoginError(
                f"{ep.url()}: login as {ep.user!r} refused ({exc}); tried {', '.join(tried) or 'the default keys'}. "
                "Check the user, the key (-i or IdentityFile in ~/.ssh/config) or use --ask-pass"
            ) from None
        except HostKeyError:
            client.close()
            raise
        except Exception:
            client.close()
            raise
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(15)
        return client

    def close(self) -> None:
        for client in reversed(self.clients):
            client.close()
        self.clients = []

    # -- commands -------------------------------------------------------------------
    def run(self, script: bytes) -> Run:
        """Start the collector: `sh -s` (or `sudo -n sh -s`) reading SCRIPT from standard input."""
        if not self.clients:
            self.open()
        transport = self.clients[-1].get_transport()
        if transport is None or not transport.is_active():
            raise StreamLost(f"{self.endpoint.url()}: the connection is closed")
        self.round_trips += 1
        try:
            chan = transport.open_session(timeout=self.options.connect_timeout)
            chan.settimeout(self.options.command_timeout)
            chan.exec_command("sudo -n sh -s" if self.options.sudo else "sh -s")
            chan.sendall(script)
            chan.shutdown_write()
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise StreamLost(f"{self.endpoint.url()}: the command could not start ({_why(exc)})") from exc
        return Run(chan, self.endpoint.url(), self.options.command_timeout)


class ChannelReader(io.RawIOBase):
    """A channel's stdout for io.BufferedReader. paramiko's own file grows its buffer
    by `bytes +=` until a read's size is met (quadratic: a 50 MB member took 10 s) and
    reads lines in Python; the buffered reader does both in C."""

    def __init__(self, chan: paramiko.Channel) -> None:
        self.chan = chan

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.chan.recv(len(buffer))  # the channel's timeout applies: socket.timeout is a TimeoutError
        n = len(data)
        buffer[:n] = data
        return n


class Run:
    """One running collector: read `stdout`, then `finish()` for the exit status and stderr."""

    def __init__(self, chan: paramiko.Channel, where: str, timeout: float) -> None:
        self.chan = chan
        self.where = where
        self.timeout = timeout
        self.stdout: BinaryIO = io.BufferedReader(ChannelReader(chan), 1 << 20)
        self._err = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        # stderr shares the channel's window with stdout: read it as it comes
        while True:
            try:
                data = self.chan.recv_stderr(65536)
            except (OSError, EOFError, paramiko.SSHException):
                return
            if not data:
                return
            self._err += data

    def read(self, fn: Callable[[BinaryIO], object]) -> object:
        """Call FN on stdout, turning a silent host or a dropped link into StreamLost."""
        try:
            return fn(self.stdout)
        except TimeoutError as exc:
            raise StreamLost(f"{self.where}: no data for {self.timeout:g} s (command timeout); gave up") from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise StreamLost(f"{self.where}: the connection dropped ({_why(exc)})") from exc

    def finish(self) -> tuple[int, bytes]:
        """Exit status (-1: none came, the link dropped) and what the host wrote on stderr."""
        deadline = time.monotonic() + self.timeout
        while not self.chan.exit_status_ready():
            if self.chan.closed or not (t := self.chan.get_transport()) or not t.is_active():
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        status = self.chan.recv_exit_status() if self.chan.exit_status_ready() else -1
        self._reader.join(timeout=2)
        self.chan.close()
        return status, bytes(self._err)


def _why(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown reason"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"unknown host name ({exc.strerror or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
