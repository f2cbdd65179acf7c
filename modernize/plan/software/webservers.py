"""nginx and Apache: the master starts as root, binds port 80/443 and drops to
www-data; logs go to stdout/stderr."""

from __future__ import annotations

from modernize.plan.draft import Context, Draft
from modernize.plan.model import Hardening
from modernize.plan.software import Knowledge, tcp_healthcheck

# what a root master that drops to a worker user needs (checked by starting it)
ROOT_MASTER_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID")


def _logs(d: Draft) -> None:
    for ref in d.svc.log_paths:
        if ref.path.endswith(".log"):
            d.logs_to_stdout.append(ref.path)
    if d.logs_to_stdout:
        d.decide("logs", "log files are links to /dev/stdout (errors to /dev/stderr): the engine collects them")


def _hardening(d: Draft) -> None:
    d.hardening = Hardening(cap_drop=("ALL",), cap_add=ROOT_MASTER_CAPS, no_new_privileges=True)
    d.decide(
        "hardening",
        "the master starts as root to bind its ports and drops to its worker user: it keeps "
        "only the capabilities for that",
    )


class NginxKnowledge(Knowledge):
    name = "nginx"
    software = ("nginx",)
    starts_as_root = True

    def distro(self, d: Draft, ctx: Context) -> None:
        d.command = ("nginx", "-g", "daemon off;")
        d.decide("command", "nginx in the foreground (the server's `daemon on` would leave the container)")
        if d.links:
            d.setup.append("rm -f /etc/nginx/sites-enabled/default")
            d.decide("setup", "only the sites the server enabled stay enabled")
        _logs(d)
        tcp_healthcheck(d)
        _hardening(d)

    def official(self, d: Draft, ctx: Context) -> None:
        d.command = ("nginx", "-g", "daemon off;")
        _logs(d)
        tcp_healthcheck(d)
        _hardening(d)


class ApacheKnowledge(Knowledge):
    name = "apache"
    software = ("apache2", "httpd")
    starts_as_root = True

    def distro(self, d: Draft, ctx: Context) -> None:
        if ctx.family in ("debian", "ubuntu"):
            d.command = ("apache2ctl", "-D", "FOREGROUND")
            d.setup.append('. /etc/apache2/envvars && install -d "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR"')
            mods = [m.strip() for m in dict(d.svc.attributes).get("modules", "").split(",") if m.strip()]
            mods = [m for m in mods if m != "php"]
            if mods:
                d.setup.append("a2enmod -q " + " ".join(sorted(mods)))
            sites = sorted(
                {link.target.rsplit("/", 1)[-1].removesuffix(".conf") for link in d.links if "/sites-" in link.path}
            )
            if sites:
                d.setup.append("a2dissite -q 000-default && a2ensite -q " + " ".join(sites))
            d.decide("setup", "the modules and sites the server enabled, enabled the Debian way")
        else:
            d.command = ("httpd", "-DFOREGROUND")
        d.decide("command", "Apache in the foreground (apachectl start would leave the container)")
        _logs(d)
        tcp_healthcheck(d)
        _hardening(d)

    def official(self, d: Draft, ctx: Context) -> None:
        d.command = ("httpd-foreground",)
        tcp_healthcheck(d)
        _hardening(d)
