"""PostgreSQL and MariaDB/MySQL: data in a volume, listening beyond localhost."""

from __future__ import annotations

import posixpath as P

from modernize.plan.draft import Context, Draft
from modernize.plan.model import EnvPlan, Hardening, Healthcheck
from modernize.plan.software import Knowledge, first_port, tcp_healthcheck
from modernize.plan.values import env_variable


def _config(d: Draft, name: str) -> str | None:
    return next((c.path for c in d.svc.config_files if P.basename(c.path) == name), None)


class PostgresqlKnowledge(Knowledge):
    name = "postgresql"
    software = ("postgresql",)

    def distro(self, d: Draft, ctx: Context) -> None:
        series = d.svc.version.series if d.svc.version else ""
        data = d.svc.data_dirs[0].path if d.svc.data_dirs else f"/var/lib/postgresql/{series}/main"
        conf = _config(d, "postgresql.conf") or f"/etc/postgresql/{series}/main/postgresql.conf"
        hba = _config(d, "pg_hba.conf") or P.join(P.dirname(conf), "pg_hba.conf")
        d.command = (
            f"/usr/lib/postgresql/{series}/bin/postgres",
            "-D",
            data,
            "-c",
            f"config_file={conf}",
            "-c",
            "listen_addresses=*",
        )
        d.decide("command", "the server binary in the foreground (the unit's /bin/true wrapper does not run here)")
        d.decide("command", "listen_addresses=*: the apps connect from other containers", ("default: localhost",))
        d.user = "postgres"
        d.setup.append("install -d -o postgres -g postgres -m 2775 /var/run/postgresql")
        d.setup.append(f"echo 'host all all all scram-sha-256' >> {hba}")
        d.decide("setup", f"{hba} admits password logins from the container network, as the apps connect by name")
        port = first_port(d) or 5432
        d.healthcheck = Healthcheck(("CMD", "pg_isready", "-h", "127.0.0.1", "-p", str(port)))
        d.hardening = Hardening(cap_drop=("ALL",), no_new_privileges=True)
        d.decide("hardening", "runs as postgres from the start: no capabilities needed")

    def official(self, d: Draft, ctx: Context) -> None:
        dropped = [f.source for f in d.files if not f.secret and P.basename(f.source).endswith(".conf")]
        dropped += [c.path for c in d.svc.config_files if c.path.endswith("postgresql.conf") and c.kind == "file"]
        dropped = sorted(set(dropped))
        carried, left = _settings(d)
        if carried:
            d.command = ("postgres", *(x for name, value in carried for x in ("-c", f"{name}={value}")))
            d.decide(
                "command",
                "the server's own settings as -c flags: the image runs its own postgresql.conf",
                tuple(_cite(d, name) for name, _ in carried),
            )
        if dropped:
            d.files = [f for f in d.files if f.source not in dropped]
            gone = {f"file {path}" for path in dropped}
            d.why = [w for w in d.why if w.field not in gone]  # decided before the image was known
            for path in dropped:
                d.decide(f"file {path}", "not carried: the image runs its own postgresql.conf and pg_hba.conf")
            if left:
                ctx.finding(
                    "warning",
                    "postgresql-config-not-carried",
                    f"{d.name}: the image runs its own postgresql.conf; the server's settings are carried as "
                    f"-c flags except {', '.join(f'{n} = {v}' for n, v in left)}: add what the image needs "
                    "(its extensions installed first), or use --strategy distro",
                    d.name,
                    tuple(_cite(d, name) for name, _ in left),
                )
        d.env.append(_var_env(d, "POSTGRES_PASSWORD"))
        d.decide("env POSTGRES_PASSWORD", "the image creates the superuser on first start; restore the dump after")
        port = first_port(d) or 5432
        if port != 5432:
            d.env.append(EnvPlan("PGPORT", str(port), image=True))
            d.decide(
                "env PGPORT", f"the server listened on {port}: the server, the image's init and pg_isready read it"
            )
        # TCP, not the socket: the image's init-time server listens on the socket only,
        # so a socket check would call it ready before the real server is up
        d.healthcheck = Healthcheck(("CMD", "pg_isready", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"))
        d.hardening = Hardening(no_new_privileges=True)


# extensions every official postgres image ships (contrib) that a server may preload
CONTRIB_PRELOAD = frozenset({"pg_stat_statements", "auto_explain", "pg_prewarm", "auth_delay", "passwordcheck"})


def _settings(d: Draft) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The server's settings the detector recorded (`setting.NAME`): those the image can
    take as they are, and those it cannot (a library to preload that it does not ship)."""
    carried, left = [], []
    for key, value in d.svc.attributes:
        if not key.startswith("setting."):
            continue
        name = key.removeprefix("setting.")
        libs = [x.strip().strip('"') for x in value.split(",") if x.strip()]
        if name == "shared_preload_libraries" and not set(libs) <= CONTRIB_PRELOAD:
            left.append((name, value))
        else:
            carried.append((name, value))
    certs = [c.path for c in d.svc.config_files if c.role == "certs" and "snakeoil" not in c.path]
    if certs:  # the image's postgres refuses a key the secret mount leaves group- or world-readable
        left.append(("ssl", f"on with {', '.join(certs)}"))
    return carried, left


def _cite(d: Draft, name: str) -> str:
    """path:line of the line that set NAME (on its config file's evidence), else the name."""
    for ref in d.svc.config_files:
        for ev in ref.evidence:
            if ev.kind == "config" and ev.path and ev.line and (ev.excerpt or "").lstrip().lower().startswith(name):
                return f"{ev.path}:{ev.line}"
    return name


class MysqlKnowledge(Knowledge):
    name = "mysql"
    software = ("mariadb", "mysql")
    starts_as_root = False

    def distro(self, d: Draft, ctx: Context) -> None:
        binary = "/usr/sbin/mariadbd" if d.svc.software == "mariadb" else "/usr/sbin/mysqld"
        d.command = (binary, "--bind-address=0.0.0.0")
        d.decide("command", "the server in the foreground, listening beyond localhost for the other containers")
        d.user = "mysql"
        d.setup.append("install -d -o mysql -g mysql /run/mysqld")
        port = first_port(d) or 3306
        d.healthcheck = Healthcheck(
            (
                "CMD",
                "mariadb-admin" if d.svc.software == "mariadb" else "mysqladmin",
                "ping",
                "-h",
                "127.0.0.1",
                "-P",
                str(port),
                "--silent",
            )
        )
        d.hardening = Hardening(cap_drop=("ALL",), no_new_privileges=True)
        d.decide("hardening", "runs as mysql from the start: no capabilities needed")

    def official(self, d: Draft, ctx: Context) -> None:
        server = "mariadbd" if d.svc.software == "mariadb" else "mysqld"
        d.command = (server, "--bind-address=0.0.0.0")
        d.decide("command", "the image's server, listening beyond localhost whatever the server's my.cnf says")
        var = "MARIADB_ROOT_PASSWORD" if d.svc.software == "mariadb" else "MYSQL_ROOT_PASSWORD"
        d.env.append(_var_env(d, var))
        d.decide(f"env {var}", "the image sets the root password on first start; restore the dump after")
        if d.svc.software == "mariadb":
            # --connect only: --innodb_initialized logs in as a user the image makes on its
            # first start, which a restore of the server's mysql schema replaces
            d.healthcheck = Healthcheck(("CMD", "healthcheck.sh", "--connect"))
        else:
            tcp_healthcheck(d)
        d.hardening = Hardening(no_new_privileges=True)


def _var_env(d: Draft, name: str) -> EnvPlan:
    var = env_variable(d.name, name)
    return EnvPlan(name, "${" + var + "}", True, (var,))
