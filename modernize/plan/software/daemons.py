"""Daemons whose foreground switch is all the planner must know: mail, DNS, file
shares. Their config comes from the server; their data from volumes."""

from __future__ import annotations

from typing import ClassVar

from modernize.plan.draft import Context, Draft
from modernize.plan.software import Knowledge, tcp_healthcheck


class ForegroundKnowledge(Knowledge):
    """software -> the command that runs it in the foreground on its own distribution."""

    name = "daemons"
    commands: ClassVar[dict[str, tuple[str, ...]]] = {
        "bind9": ("named", "-f", "-u", "bind"),
        "postfix": ("postfix", "start-fg"),
        "dovecot": ("dovecot", "-F"),
        "samba": ("smbd", "--foreground", "--no-process-group", "--debug-stdout"),
        "vsftpd": ("vsftpd",),
        "haproxy": ("haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"),
        "mongodb": ("mongod", "--config", "/etc/mongod.conf", "--bind_ip_all"),
        "rabbitmq": ("rabbitmq-server",),
    }
    software = tuple(commands)
    starts_as_root = True

    def distro(self, d: Draft, ctx: Context) -> None:
        d.command = self.commands[d.svc.software]
        d.decide("command", f"{d.svc.software} in the foreground; the server's own switches are in its config")
        tcp_healthcheck(d)
