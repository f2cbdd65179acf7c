"""Daemons whose foreground switch is all the planner must know: mail, DNS, file
shares. Their config comes from the server; their data from volumes."""

from __future__ import annotations

from typing import ClassVar

from modernize.plan.draft import Context, Draft
from modernize.plan.model import FileCopy
from modernize.plan.software import Knowledge, tcp_healthcheck


class ForegroundKnowledge(Knowledge):
    """software -> the command that runs it in the foreground on its own distribution."""

    name = "daemons"
    commands: ClassVar[dict[str, tuple[str, ...]]] = {
        "bind9": ("named", "-f", "-u", "bind"),
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


class PostfixKnowledge(Knowledge):
    """Postfix in the foreground (`postfix start-fg`, 3.3+), logging to stdout (it
    logs only to syslog otherwise), with the host files main.cf names."""

    name = "postfix"
    software = ("postfix",)
    starts_as_root = True

    def distro(self, d: Draft, ctx: Context) -> None:
        d.command = ("postfix", "start-fg")
        d.setup.append("postconf -e maillog_file=/dev/stdout")
        d.decide("command", "postfix's master in the foreground, its log on stdout instead of syslog")
        for path in ("/etc/mailname",):
            own = any(c.path == path and c.status in ("modified", "unowned") for c in ctx.inventory.config_changes)
            if own and not any(f.source == path for f in d.files):
                d.files.append(FileCopy(path, path, "root", "root", "0644"))
                d.decide(f"file {path}", "Debian's main.cf reads the mail name from it (myorigin = /etc/mailname)")
        maps = [f for f in d.files if f.secret and f.source.startswith("/etc/postfix/")]
        if maps:
            ctx.finding(
                "info",
                "postfix-maps",
                f"{d.name}: run `postmap` on {', '.join(f.target for f in maps)} after mounting them "
                "(the .db files are not carried)",
                d.name,
            )
        tcp_healthcheck(d)
