"""nginx and Apache: the master starts as root, binds port 80/443 and drops to
www-data; logs go to stdout/stderr."""

from __future__ import annotations

import posixpath as P
import re
from dataclasses import replace

from modernize.model import Service, cite
from modernize.plan.draft import Context, Draft
from modernize.plan.model import FileCopy, Hardening, PackagePin
from modernize.plan.software import Knowledge, tcp_healthcheck
from modernize.plan.values import pin_version

# PHP extensions the official php image builds with docker-php-ext-install without
# extra system libraries, by the Debian package that provides them
_PHP_EXT = {
    "mysql": ("mysqli", "pdo_mysql"),
    "pgsql": ("pgsql", "pdo_pgsql"),
    "bcmath": ("bcmath",),
    "opcache": ("opcache",),
    "soap": ("soap",),
    "intl": ("intl",),
    "calendar": ("calendar",),
    "exif": ("exif",),
    "sockets": ("sockets",),
}

# what a root master that drops to a worker user needs (checked by starting it)
# what the nginx.org package in the official image ships under /etc/nginx, and the
# logs it already sends to stdout/stderr
_IMAGE_NGINX_FILES = {
    "nginx.conf",
    "mime.types",
    "fastcgi_params",
    "scgi_params",
    "uwsgi_params",
    "conf.d/default.conf",
}
_IMAGE_LOGS = ("/var/log/nginx/access.log", "/var/log/nginx/error.log")
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
        """The image's own nginx.conf (it includes conf.d/*.conf inside http{}): the
        server's sites go to conf.d/, with the files they include that only a
        distribution ships (Debian's proxy_params, snippets/); the distribution's
        nginx.conf is not carried over (its user, paths and includes differ)."""
        d.command = ("nginx", "-g", "daemon off;")
        sites = {link.target for link in d.links if "/sites-enabled/" in link.path}
        kept: list[FileCopy] = []
        for f in d.files:
            site = f.source in sites or "/http.d/" in f.source or "/conf.d/" in f.source
            if f.source == "/etc/nginx/nginx.conf":
                ctx.finding(
                    "warning",
                    "nginx-conf-not-carried",
                    f"{d.name}: the server changed /etc/nginx/nginx.conf; the image runs its own: carry the "
                    "http{} settings you need into a conf.d/ file, or use --strategy distro",
                    d.name,
                    (f.source,),
                )
                continue
            if site and not f.secret:
                kept.append(replace(f, target=_conf_d(f.source)))
                d.decide(f"file {f.source}", "a site goes to conf.d/, which the image's nginx.conf includes")
            else:
                kept.append(f)
        for ref in d.svc.config_files:
            rel = ref.path.removeprefix("/etc/nginx/")
            wanted = ref.kind == "file" and ref.path.startswith("/etc/nginx/") and rel not in _IMAGE_NGINX_FILES
            if not wanted or any(f.source == ref.path for f in kept):
                continue
            if any(ev.path and "/sites-enabled/" in ev.path for ev in ref.evidence):
                # an enabled site the package shipped (Debian's default): unchanged, but it served
                kept.append(FileCopy(ref.path, _conf_d(ref.path), ref.owner, ref.group, ref.mode))
                d.decide(f"file {ref.path}", "an enabled site: it goes to conf.d/ as the server's other sites")
            else:
                kept.append(FileCopy(ref.path, ref.path, ref.owner, ref.group, ref.mode))
                d.decide(f"file {ref.path}", "a site includes it and the image does not ship it")
        d.files = kept
        d.links = []
        d.setup.append("rm -f /etc/nginx/conf.d/default.conf")
        d.decide("setup", "the image's default site gives way to the server's sites")
        d.logs_to_stdout = [
            x.path for x in d.svc.log_paths if x.path.endswith(".log") and not x.path.endswith(_IMAGE_LOGS)
        ]
        tcp_healthcheck(d)
        _hardening(d)


def _conf_d(site: str) -> str:
    """Where a site goes in the image: conf.d/NAME.conf; a site named default takes another
    name, as the image's own conf.d/default.conf is removed after the copy."""
    name = P.basename(site).removesuffix(".conf")
    return f"/etc/nginx/conf.d/{'server-default' if name == 'default' else name}.conf"


def _php(svc: Service) -> str | None:
    return dict(svc.attributes).get("mod_php")


class ApacheKnowledge(Knowledge):
    name = "apache"
    software = ("apache2", "httpd")
    starts_as_root = True

    def image_key(self, svc: Service, ctx: Context) -> tuple[str, str | None, dict[str, str]] | None:
        php = _php(svc)
        if php and ctx.family in ("debian", "ubuntu"):
            return "php", php, {}  # php:X.Y-apache: Debian's /etc/apache2 layout with mod_php built in
        return None  # the httpd image has the upstream layout, which no distribution's config fits

    def no_official_reason(self, svc: Service, ctx: Context) -> str:
        if not (_php(svc) and ctx.family in ("debian", "ubuntu")):
            return "the httpd image's upstream layout fits no distribution's Apache config"
        return super().no_official_reason(svc, ctx)

    def _debian(self, d: Draft, ctx: Context, image_php: bool) -> None:
        # apache2 itself as PID 1 (exec), with Debian's envvars: apache2ctl would stay
        # in between and not pass signals on
        d.command = ("/bin/sh", "-c", ". /etc/apache2/envvars && exec /usr/sbin/apache2 -DFOREGROUND")
        d.setup.append('. /etc/apache2/envvars && install -d "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR"')
        mods = [m.strip() for m in dict(d.svc.attributes).get("modules", "").split(",") if m.strip()]
        mods = [m for m in mods if m != "php" and not m.startswith("mpm_")]
        if mods:
            d.setup.append("a2enmod -q " + " ".join(sorted(mods)))
        sites = sorted(
            {link.target.rsplit("/", 1)[-1].removesuffix(".conf") for link in d.links if "/sites-" in link.path}
        )
        d.links = [link for link in d.links if "/sites-" not in link.path]
        if sites:
            d.setup.append("a2dissite -q 000-default && a2ensite -q " + " ".join(sites))
        d.decide("setup", "the modules and sites the server enabled, enabled the Debian way")
        del image_php

    def distro(self, d: Draft, ctx: Context) -> None:
        php = _php(d.svc)
        if php and ctx.family in ("debian", "ubuntu"):
            for p in ctx.inventory.packages:
                if p.name == f"libapache2-mod-php{php}" or re.fullmatch(rf"php{re.escape(php)}-[a-z0-9-]+", p.name):
                    d.packages.append(PackagePin(p.name, p.version.raw, pin_version(p.version.raw, ctx.family)[0]))
            d.decide("packages", f"mod_php {php} and the PHP extensions the server had installed")
        if ctx.family in ("debian", "ubuntu"):
            # modules packaged apart from apache2 (mod_wsgi, security2, auth_openidc ...):
            # a2enmod of a module whose package is missing stops the build
            extra = [
                p for p in ctx.inventory.packages
                if p.name.startswith("libapache2-mod-") and not p.name.startswith("libapache2-mod-php")
                and p.manager == "dpkg"
            ]  # fmt: skip
            for p in extra:
                d.packages.append(PackagePin(p.name, p.version.raw, pin_version(p.version.raw, ctx.family)[0]))
            if extra:
                d.decide("packages", "the Apache modules the server had installed from their own packages",
                         tuple(cite(p.evidence)[0] for p in extra if p.evidence))  # fmt: skip
        if ctx.family in ("debian", "ubuntu"):
            self._debian(d, ctx, False)
        else:
            d.command = ("httpd", "-DFOREGROUND")
        d.decide("command", "Apache in the foreground (apachectl start would leave the container)")
        _logs(d)
        tcp_healthcheck(d)
        _hardening(d)

    def official(self, d: Draft, ctx: Context) -> None:
        php = _php(d.svc)
        if php:
            self._debian(d, ctx, True)
            exts: list[str] = []
            for p in ctx.inventory.packages:
                m = re.fullmatch(rf"php{re.escape(php)}-([a-z0-9]+)", p.name)
                if m and m.group(1) in _PHP_EXT:
                    exts.extend(_PHP_EXT[m.group(1)])
            if exts:
                d.install.append("docker-php-ext-install " + " ".join(sorted(set(exts))))
                d.decide("install", "the PHP extensions the server's php packages provided", ())
            d.command = ("apache2-foreground",)
        else:
            d.command = ("httpd-foreground",)
        d.decide("command", "the image's own foreground start")
        _logs(d)
        tcp_healthcheck(d)
        _hardening(d)


class PhpFpmKnowledge(Knowledge):
    """PHP-FPM runs the PHP code a web server hands it (FastCGI): the pools listen
    on TCP in a container (the planner rewrites a socket), in the foreground, logging
    to stderr."""

    name = "php-fpm"
    software = ("php-fpm",)
    starts_as_root = True  # the master starts as root and runs each pool as its user

    def image_key(self, svc: Service, ctx: Context) -> tuple[str, str | None, dict[str, str]] | None:
        version = (svc.runtime or "").removeprefix("php")
        if ctx.family not in ("debian", "ubuntu") or not version:
            return None  # the image's /usr/local/etc layout takes Debian's pools only
        return "php-fpm", version, {}

    @staticmethod
    def _pools(d: Draft, ctx: Context) -> None:
        """Each pool runs as its user: create those the image lacks with the server's
        ids; pool logs go to stderr with the master's."""
        from modernize.plan.software.apps import create_user

        for key, value in d.svc.attributes:
            m = re.search(r"\buser ([a-z_][a-z0-9_-]*)", value) if key.startswith("pool.") else None
            if m and m.group(1) not in ("root", "www-data", "nobody"):
                create_user(d, ctx, m.group(1))
        _logs(d)

    def distro(self, d: Draft, ctx: Context) -> None:
        self._pools(d, ctx)
        version = (d.svc.runtime or "").removeprefix("php")
        if ctx.family in ("debian", "ubuntu") and version:
            for p in ctx.inventory.packages:
                if re.fullmatch(rf"php{re.escape(version)}-[a-z0-9-]+", p.name) and p.name != f"php{version}-fpm":
                    d.packages.append(PackagePin(p.name, p.version.raw, pin_version(p.version.raw, ctx.family)[0]))
            d.command = (f"php-fpm{version}", "--nodaemonize", "--force-stderr")
            # the master binds each pool's socket here as root, without DAC_OVERRIDE: the
            # package leaves the directory www-data's, which root then may not write
            d.setup.append("install -d -o root -g root -m 0755 /run/php")
            d.decide("packages", f"the PHP {version} extensions the server had installed")
        else:
            d.command = ("php-fpm", "--nodaemonize", "--force-stderr")
        d.decide("command", "the FPM master in the foreground, its log on stderr")
        tcp_healthcheck(d)
        d.hardening = Hardening(
            cap_drop=("ALL",), cap_add=("CHOWN", "SETGID", "SETUID", "KILL"), no_new_privileges=True
        )
        d.decide("hardening", "the master runs each pool as its user: it keeps only what that takes")

    def official(self, d: Draft, ctx: Context) -> None:
        self._pools(d, ctx)
        version = (d.svc.runtime or "").removeprefix("php")
        for i, f in enumerate(d.files):
            m = re.match(rf"^/etc/php/{re.escape(version)}/fpm/pool\.d/(.+)$", f.target)
            if m:
                d.files[i] = replace(f, target=f"/usr/local/etc/php-fpm.d/{m.group(1)}")
            elif f.target == f"/etc/php/{version}/fpm/php.ini":
                d.files[i] = replace(f, target="/usr/local/etc/php/php.ini")
        d.decide(
            "files",
            "pools go to /usr/local/etc/php-fpm.d, where the image's php-fpm.conf includes them; "
            "php.ini to /usr/local/etc/php (the image's PHP_INI_DIR)",
        )
        d.command = ("php-fpm", "--nodaemonize", "--force-stderr")
        d.hardening = Hardening(
            cap_drop=("ALL",), cap_add=("CHOWN", "SETGID", "SETUID", "KILL"), no_new_privileges=True
        )
