"""Redis and memcached: in-memory services, the bind address opened on the command line."""

from __future__ import annotations

from modernize.plan.draft import Context, Draft
from modernize.plan.model import Hardening, Healthcheck
from modernize.plan.software import Knowledge, first_port, tcp_healthcheck


class RedisKnowledge(Knowledge):
    name = "redis"
    software = ("redis",)

    def distro(self, d: Draft, ctx: Context) -> None:
        conf = next((c.path for c in d.svc.config_files if c.path.endswith(".conf")), "/etc/redis/redis.conf")
        d.command = (
            "redis-server",
            conf,
            "--daemonize",
            "no",
            "--supervised",
            "no",
            "--bind",
            "0.0.0.0",
            "--protected-mode",
            "no",
            "--logfile",
            "",
            "--unixsocket",
            "",
            "--pidfile",
            "",
        )
        d.decide(
            "command",
            "the server's config, with command-line overrides: foreground, listening for the other containers "
            "(the compose network is private), logging to stdout",
        )
        d.user = "redis"
        port = first_port(d) or 6379
        d.healthcheck = Healthcheck(("CMD", "redis-cli", "-p", str(port), "ping"))
        d.hardening = Hardening(read_only=True, tmpfs=("/tmp", "/run"), cap_drop=("ALL",), no_new_privileges=True)
        d.decide("hardening", "writes only its data volume: read-only root, no capabilities")

    def official(self, d: Draft, ctx: Context) -> None:
        conf = next((f for f in d.files if f.source.endswith(".conf")), None)
        d.command = ("redis-server", conf.target if conf else "--save", *(() if conf else ("60", "1")))
        data = d.volumes[0].target if d.volumes else "/data"
        d.command = (*d.command, "--bind", "0.0.0.0", "--protected-mode", "no", "--logfile", "", "--daemonize", "no")
        d.command = (*d.command, "--dir", data, "--unixsocket", "", "--pidfile", "")
        d.workdir = data
        d.decide(
            "command",
            "the image reads no config unless named: the server's, with overrides for the container: all "
            "addresses, data in the volume, no unix socket or pid file in /run (the image has no /run/redis)",
        )
        port = first_port(d) or 6379
        d.healthcheck = Healthcheck(("CMD", "redis-cli", "-p", str(port), "ping"))
        d.hardening = Hardening(read_only=True, tmpfs=("/tmp",), no_new_privileges=True)


class MemcachedKnowledge(Knowledge):
    name = "memcached"
    software = ("memcached",)

    def distro(self, d: Draft, ctx: Context) -> None:
        port = first_port(d) or 11211
        mem = dict(d.svc.attributes).get("memory_mb", "64")
        d.command = ("memcached", "-p", str(port), "-l", "0.0.0.0", "-m", mem, "-U", "0")
        d.decide("command", "memcached in the foreground on all addresses of its container")
        d.user = "memcache"
        tcp_healthcheck(d)
        d.hardening = Hardening(read_only=True, tmpfs=("/tmp",), cap_drop=("ALL",), no_new_privileges=True)
        d.decide("hardening", "keeps nothing on disk: read-only root, no capabilities")

    def official(self, d: Draft, ctx: Context) -> None:
        port = first_port(d) or 11211
        mem = dict(d.svc.attributes).get("memory_mb", "64")
        d.command = ("memcached", "-p", str(port), "-m", mem)
        tcp_healthcheck(d)
        d.hardening = Hardening(read_only=True, cap_drop=("ALL",), no_new_privileges=True)
