"""Identity and access: who the service runs as, and who may log in to it."""

from __future__ import annotations

from collections.abc import Iterator

from modernize.model import cite
from modernize.readiness.rule import Context, Hit, Rule

_MANAGEMENT = {"tomcat": ("manager", "host-manager"), "rabbitmq": ("management",)}


def _as_root(ctx: Context) -> Iterator[Hit]:
    masters = ("nginx", "apache2", "httpd", "postfix", "dovecot", "bind9", "samba", "php-fpm", "haproxy")
    for s in ctx.services():
        if (s.user in (None, "root")) and s.software not in masters and s.command:
            yield Hit(s.id, f"{s.name} runs as root", cite(s.evidence)[:1])


def _privileged_ports(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        low = sorted({p.port for p in s.ports if p.port is not None and p.port < 1024})
        if low and s.kind not in ("web-server", "mail", "dns", "file-share"):
            yield Hit(
                s.id, f"listens on privileged port(s) {low}", tuple(e for p in s.ports for e in cite(p.evidence))[:2]
            )


def _account_files(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        # an identity store of the app's own that lists its accounts (tomcat-users.xml, an
        # htpasswd file, RabbitMQ's definitions, supervisord's), or a secret in such a file
        own = {x.path for x in s.identity_stores if x.users and x.path and not x.host_accounts}
        files = {x.path for x in s.secrets if x.path.endswith(("tomcat-users.xml", ".htpasswd", "htpasswd"))}
        stores = sorted(own | files)
        if stores:
            yield Hit(s.id, f"keeps its users' passwords in {', '.join(stores)}", tuple(stores))


def _sudo(ctx: Context) -> Iterator[Hit]:
    for r in ctx.inventory.sudoers:
        if r.nopasswd:
            yield Hit(None, f"{r.subject} may run commands as root without a password", cite(r.evidence)[:1])


def _human_accounts(ctx: Context) -> Iterator[Hit]:
    humans = [u for u in ctx.inventory.users if u.human and not u.locked]
    if humans:
        yield Hit(None, f"{len(humans)} people log in to this host: {', '.join(u.name for u in humans[:6])}",
                  tuple(e for u in humans[:3] for e in cite(u.evidence)))  # fmt: skip


def _management(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        attrs = dict(s.attributes)
        apps = attrs.get("webapps", "") + " " + attrs.get("plugins", "")
        for word in _MANAGEMENT.get(s.software, ()):
            if word in apps:
                yield Hit(s.id, f"a management interface ({word}) is deployed", cite(s.evidence)[:1])


RULES = [
    Rule(
        "IA001", "An app that runs as root", "identity and access", "major", 2,
        "the app needs no root privilege once its ports and files are set up",
        "Run it as an unprivileged user (USER in the Dockerfile; the generated plan keeps the server's "
        "user where there was one) and give files to that user.", _as_root,
        ("https://docs.docker.com/build/building/best-practices/#user",),
    ),
    Rule(
        "IA002", "An app on a privileged port", "identity and access", "minor", 1,
        "the port can change behind a published port",
        "Listen on a port above 1024 inside the container and publish the old port, or keep NET_BIND_SERVICE.",
        _privileged_ports,
    ),
    Rule(
        "IA003", "Application accounts in local files", "identity and access", "minor", 2,
        "the file is mounted as a secret",
        "Mount the accounts file as a secret, or move the accounts to the organisation's directory (LDAP/SSO).",
        _account_files,
    ),
    Rule(
        "IA004", "Passwordless sudo", "identity and access", "info", 0.5,
        "nobody needs a shell in the containers",
        "Nothing carries over into containers: administrators use `docker compose exec`; review who had root.",
        _sudo,
    ),
    Rule(
        "IA005", "People log in to the host", "identity and access", "info", 1,
        "what they did by hand is written down",
        "Ask each person what they change on this host by hand: that work needs a home (CI, config, a job).",
        _human_accounts,
    ),
    Rule(
        "IA006", "A management interface is deployed", "identity and access", "major", 2,
        "it is needed, and can be kept off the public port",
        "Remove it, or keep it on an internal network with its own credentials.", _management,
        ("https://tomcat.apache.org/tomcat-10.1-doc/manager-howto.html",),
    ),
]  # fmt: skip


def _shared_secrets(ctx: Context) -> Iterator[Hit]:
    places: dict[str, list[tuple[str, str]]] = {}
    for s in ctx.services():
        for x in s.secrets:
            if not x.fingerprint:  # left out (no fingerprint key): nothing to compare
                continue
            places.setdefault(x.fingerprint, []).append((s.id, f"{x.path}:{x.line}" if x.line else x.path))
    for where in places.values():
        services = sorted({sid for sid, _ in where})
        if len(set(p for _, p in where)) > 1:
            for sid in services:
                yield Hit(
                    sid, f"one secret value is used in {len(where)} places", tuple(sorted({p for _, p in where}))[:4]
                )


def _host_keys(ctx: Context) -> Iterator[Hit]:
    keys = [x for x in ctx.inventory.host_secrets if x.kind == "private-key"]
    if keys:
        yield Hit(None, f"{len(keys)} private key(s) on the host no service claims", tuple(k.path for k in keys)[:6])


RULES += [
    Rule(
        "IA007", "One secret value used in several places", "identity and access", "minor", 1,
        "the services can get separate credentials",
        "Give each service its own credential (the .env gets one variable per value: split it), and rotate.",
        _shared_secrets,
    ),
    Rule(
        "IA008", "Private keys on the host that no service claims", "identity and access", "info", 1,
        "they are host identity (SSH) and stay behind",
        "Leave host keys behind; for any key an app uses, mount it as a secret.", _host_keys,
    ),
]  # fmt: skip


def _service_shells(ctx: Context) -> Iterator[Hit]:
    users = {u.name: u for u in ctx.inventory.users}
    for s in ctx.services():
        u = users.get(s.user or "")
        no_login = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")
        if u and u.name != "root" and not u.human and u.shell not in no_login:
            yield Hit(s.id, f"its account {u.name} has the login shell {u.shell}", cite(u.evidence)[:1])


RULES += [
    Rule(
        "IA009", "A service account that can log in", "identity and access", "info", 0.5,
        "nobody logs in as the service",
        "Nothing to carry: the container's user needs no shell; on the host, set its shell to nologin.",
        _service_shells,
    ),
]  # fmt: skip


def _ssh_access(ctx: Context) -> Iterator[Hit]:
    for s in ctx.inventory.services:
        if s.software != "sshd":
            continue
        attrs = dict(s.attributes)
        config = next((r.path for r in s.config_files if r.path.endswith("sshd_config")), "/etc/ssh/sshd_config")
        password = attrs.get("PasswordAuthentication", "yes (OpenSSH's default)")
        root = attrs.get("PermitRootLogin", "prohibit-password (OpenSSH's default)")
        said = []
        if not password.startswith("no"):
            said.append(f"password logins ({password})")
        if root.startswith("yes"):
            said.append("root logins with a password")
        if said:
            yield Hit(None, "SSH allows " + " and ".join(said), (config,))


RULES += [
    Rule(
        "IA010", "SSH allows password or root logins", "identity and access", "info", 0.5,
        "the way people reached the host is replaced, not carried",
        "Nothing moves into the containers (they have no sshd); keep administrators on key-based access to the "
        "container host, and give each app's operators `docker compose exec` or the platform's console.",
        _ssh_access, ("https://man.openbsd.org/sshd_config#PasswordAuthentication",),
    ),
]  # fmt: skip


def _host_account_logins(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        stores = [x for x in s.identity_stores if x.host_accounts]
        if stores:
            said = ", ".join(dict.fromkeys(f"{x.via} {x.store}" for x in stores))
            yield Hit(s.id, f"its users log in with the host's Unix accounts ({said})",
                      tuple(e for x in stores for e in cite(x.evidence))[:4])  # fmt: skip


RULES += [
    Rule(
        "IA011", "Users log in with the host's Unix accounts", "identity and access", "major", 8,
        "PAM on the host goes to pam_unix (local /etc/passwd and /etc/shadow, not LDAP/SSSD); the "
        "accounts move once to a directory or the software's own user database, and users whose "
        "hashes cannot move reset their passwords",
        "A container has only its image's /etc/passwd: PAM, shadow or passwd lookups inside it do not see the "
        "host's users. Move the accounts out of /etc/passwd and /etc/shadow: point the software at the "
        "organisation's directory (dovecot `passdb ldap`, Samba as an AD member or `passdb backend = ldapsam`, "
        "Apache mod_authnz_ldap, saslauthd `-a ldap`), or at a user database of its own on a volume (a dovecot "
        "passwd-file takes the crypt hashes from /etc/shadow as they are; Samba's tdbsam still needs each user "
        "in the container's passwd). List the accounts that actually log in before choosing.",
        _host_account_logins,
        (
            "https://doc.dovecot.org/2.3/configuration_manual/authentication/pam/",
            "https://doc.dovecot.org/2.3/configuration_manual/authentication/passwd_file/",
            "https://www.samba.org/samba/docs/current/man-html/smb.conf.5.html",
            "https://httpd.apache.org/docs/2.4/howto/auth.html",
            "https://www.postfix.org/SASL_README.html",
        ),
    ),
]  # fmt: skip
