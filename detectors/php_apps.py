"""PHP applications: WordPress, Drupal, Laravel, and plain PHP document roots.

Service id `<software>:<app dir>`. Debian's packaged WordPress (`/usr/share/wordpress`) serves
one site per `/etc/wordpress/config-<host>.php`: with one such file the id is the plain app
dir, with several each is `/usr/share/wordpress#<host>`.

Rules followed:
- Config files are read with `modernize.parsers.php` (PHP's own comment and quoting rules;
  the first `define` of a constant wins, as PHP refuses a redefinition). A literal
  `require`/`include` of an existing file is followed in place (a second-order read).
- Debian's wp-config.php picks `/etc/wordpress/config-<HTTP_HOST>.php` at run time, then sets
  defaults with `if (!defined(...))`: each host file is read first, the master after it.
- WordPress version: `$wp_version` in `wp-includes/version.php`; Drupal: `const VERSION` in
  `core/lib/Drupal.php` (8+) or `define('VERSION')` in `includes/bootstrap.inc` (7); Laravel:
  `const VERSION` in `vendor/laravel/framework/src/Illuminate/Foundation/Application.php`.
- DB host forms (wpdb::parse_db_host / mysqli / PDO): `localhost` (with or without a port)
  means the Unix socket (`mysqli.default_socket` from php.ini, else the distribution's
  compiled-in path), `localhost:/path.sock` that socket, `host[:port]`/`[v6]:port` TCP (3306).
- Drupal: `$databases['default']['default']` (array() or [] syntax); Laravel: `.env`
  (DB_CONNECTION/DB_HOST/DB_PORT/DB_SOCKET, REDIS_*, MAIL_*), `APP_KEY` a secret.
- Plain PHP: a document root the web server detectors report (content_paths) holding an
  index.php and no framework; never a directory merely found on disk. A root named
  public/web/htdocs/... has its code one level up (the project root, content too); a `.env`
  there or in its `config/` (Laravel's syntax) gives its settings, secrets, database and
  upload directory (`*_DIR`/`*_PATH` settings); `APP_URL` is its own address, not a dependency.
- The user is the web server's (mod_php) or the PHP-FPM pool's that serves it: the pool whose
  `chdir` is the app's directory, else the pool listening where the site's `fastcgi_pass`
  (in the file that sets the app's root) points, else the only php-fpm user.
"""

from __future__ import annotations

import re
from typing import Any

from detectors.php_fpm import PhpFpmDetector, Pool, layouts, pools_of
from modernize.detector import Detector
from modernize.endpoints import DEFAULT_PORTS, classify_setting, endpoints_of_env
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import EnvVar, Evidence, FileRef, file_ref
from modernize.parsers import php
from modernize.parsers.apprun import basename, data_dirs_of_env
from modernize.parsers.routes import health_route
from modernize.parsers.shell import assignments
from modernize.secrets import MASK, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole
from modernize.versions import make_version

ROOTS = ("/var/www", "/srv", "/usr/share/wordpress", "/usr/share/drupal*", "/opt")
_X = ("node_modules", ".git", "vendor", "wp-content", "cache")
WEB_SERVERS = ("apache2", "httpd", "nginx", "lighttpd", "php-fpm", "caddy")
PLACEHOLDERS = ("put your unique phrase here", "")
DRUPAL_VERSION = ("core/lib/Drupal.php", "includes/bootstrap.inc")
LARAVEL_SECRETS = ("APP_KEY", "APP_PREVIOUS_KEYS", "PUSHER_APP_SECRET")
LARAVEL_VERSION = "vendor/laravel/framework/src/Illuminate/Foundation/Application.php"
PHP_INI = (
    "/etc/php/*/*/php.ini",
    "/etc/php/*/mods-available/*.ini",
    "/etc/php.ini",
    "/etc/php.d/*.ini",
    "/etc/php*/php.ini",
    "/etc/php*/conf.d/*.ini",
)


class PhpAppsDetector(Detector):
    name = "php-apps"
    tags = ("service", "app", "php")
    requires = ("os", "dpkg", "rpm", "apk", *("apache", "nginx", "php-fpm"))
    reads = (
        *whole(*(f"{r}/**/wp-config.php" for r in ROOTS), exclude=_X),
        *whole(*(f"{r}/**/wp-includes/version.php" for r in ROOTS), exclude=("node_modules", ".git", "wp-content")),
        *whole("/etc/wordpress/config-*.php"),
        *whole(*(f"{r}/**/sites/*/settings.php" for r in ROOTS), exclude=_X),
        *whole(*(f"{r}/**/{f}" for r in ROOTS for f in DRUPAL_VERSION), exclude=("node_modules", ".git")),
        *whole(*(f"{r}/**/.env" for r in ROOTS), exclude=_X),
        *whole(*PHP_INI),
        *PhpFpmDetector.reads,
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        served = self._served(found)
        apps: dict[str, str] = {}  # app dir -> software
        for r in ROOTS:
            for cfg in snap.glob(f"{r}/**/wp-config.php"):
                if not any(f"/{x}/" in cfg for x in _X):
                    apps.setdefault(P.parent(cfg), "wordpress")
            for s in snap.glob(f"{r}/**/sites/default/settings.php"):
                if not any(f"/{x}/" in s for x in _X):
                    apps.setdefault(P.parent(P.parent(P.parent(s))), "drupal")
            for art in snap.glob(f"{r}/**/artisan"):
                if "/vendor/" not in art and "/node_modules/" not in art:
                    apps.setdefault(P.parent(art), "laravel")
        socket = self._mysql_socket(snap, found)
        facts: list[ServiceFacts] = []
        for app, software in sorted(apps.items()):
            if software == "wordpress":
                facts += self._wordpress(snap, found, app, socket)
            elif software == "drupal":
                facts += self._drupal(snap, found, app, socket)
            else:
                facts += self._laravel(snap, found, app, socket)
        claimed = [r.path for sf in facts for r in (*sf.content_paths, *sf.data_dirs)]
        # second order, all at once: each plain app's front controller (for its health route)
        unclaimed = [r for r in served if not any(r == c or r.startswith(c.rstrip("/") + "/") for c in claimed)]
        snap.want([f"{root}/index.php" for root in unclaimed if snap.exists(f"{root}/index.php")])
        for root in served:
            if any(root == c or root.startswith(c.rstrip("/") + "/") for c in claimed):
                continue  # Laravel's public/, Drupal's web/, WordPress' wp-content ...
            parent = P.parent(root)
            if snap.exists(f"{parent}/artisan") and parent not in apps:
                facts += self._laravel(snap, found, parent, socket)
                claimed.append(parent)
            elif snap.exists(f"{root}/index.php"):
                facts.append(self._plain(snap, found, root, socket))
                claimed.append(root)
        pools = [pool for lay in layouts(snap) for pool in pools_of(snap, found, lay)[0].values()]
        for sf in facts:
            app = sf.content_paths[0].path if sf.content_paths else ""
            if not self._pool_user(found, sf, app, [p for p in pools if p.name != "global" and p.settings]):
                self._web_user(found, sf, app)
            found.add(sf)

    # -- shared ---------------------------------------------------------------------------
    @staticmethod
    def _served(found: Found) -> list[str]:
        out = []
        for sf in found.services:
            if sf.software in WEB_SERVERS:
                out += [r.path for r in sf.content_paths]
        return sorted(set(out))

    @staticmethod
    def _base(found: Found, software: str, app: str, instance: str) -> ServiceFacts:
        sf = ServiceFacts(software=software, kind="app", instance=instance, name=basename(app))
        sf.framework = software if software != "php-app" else None
        sf.content_paths.append(file_ref(app, "content"))
        php_pkg = next(
            (p for p in found.packages if re.fullmatch(r"php\d+(?:\.\d+)?(?:-common|-cli)?|php", p.name)), None
        )
        if php_pkg is not None:
            m = re.match(r"php(\d+\.\d+)", php_pkg.name)
            sf.runtime = f"php{m.group(1)}" if m else f"php{php_pkg.version.series}"
        return sf

    @staticmethod
    def _pool_user(found: Found, sf: ServiceFacts, app: str, pools: list[Pool]) -> bool:
        """The user of the PHP-FPM pool that runs this app's code (not for mod_php)."""
        roots = {app, project_root(app)}
        for s in found.services:
            served = any(r.path in roots or app.startswith(r.path.rstrip("/") + "/") for r in s.content_paths)
            if s.software in ("apache2", "httpd") and s.attributes.get("mod_php") and served:
                return False
        pool = next((p for p in pools if (c := p.get("chdir")) and c.value.rstrip("/") in roots), None)
        why = "chdir"
        if pool is None:
            pool, why = _pool_of_site(found, app, pools), "listen"
        if pool is None:
            return False
        user = pool.get("user")
        if user is None:
            return False
        sf.user = user.value
        group = pool.get("group")
        sf.group = group.value if group else None
        hit = pool.get(why) or user
        sf.attributes["php_fpm_pool"] = pool.name
        sf.evidence.append(Evidence("config", hit.path, hit.line, excerpt=f"[{pool.name}] {hit.key} = {hit.value}"))
        sf.evidence.append(Evidence("config", user.path, user.line, excerpt=f"user = {user.value}"))
        return True

    def _plain(self, snap: Snapshot, found: Found, root: str, socket: str) -> ServiceFacts:
        """A PHP app with no framework: its document root, the code around it, its .env."""
        sf = self._base(found, "php-app", root, root)
        code = project_root(root)
        if code != root:
            sf.content_paths.append(
                FileRef(code, "content", evidence=(Evidence("file", code, detail=f"the project around {root}"),))
            )
        index = f"{root}/index.php"  # wanted in detect(), with the other apps'
        route = health_route(snap.text(index) or "")
        if route:
            sf.attributes["health_path"] = route[0]
            sf.evidence.append(Evidence("file", index, route[1], detail="health route"))
        env_path = next((f for f in (f"{code}/.env", f"{code}/config/.env") if snap.exists(f)), None)
        if env_path is not None:
            settings = self._dotenv(snap, sf, env_path)
            self._db_endpoint(sf, env_path, settings, socket)
            sf.endpoints.extend(
                endpoints_of_env(e for e in sf.env if not e.name.startswith("DB_") and e.name != "APP_URL")
            )
            sf.data_dirs.extend(data_dirs_of_env(sf.env))
        return sf

    @staticmethod
    def _dotenv(snap: Snapshot, sf: ServiceFacts, env_path: str) -> dict[str, tuple[str, int]]:
        """A `.env` in Laravel's syntax: settings, secrets (APP_KEY whatever its name says)."""
        text = snap.text(env_path)
        settings: dict[str, tuple[str, int]] = {}
        if text is None:
            return settings
        sf.config_files.append(file_ref(env_path, "env"))
        sf.env_files.append(env_path)
        for no, k, v in assignments(text):
            var, sec = classify_setting(k, v, env_path, no)
            if k in LARAVEL_SECRETS and v:  # the app's encryption key, whatever its name says
                var = EnvVar(k, None, True, (Evidence("config", env_path, no, excerpt=f"{k}={MASK}"),))
                sec = make_secret(k, v, env_path, no, kind="key")
            sf.env.append(var)
            settings[k] = (v, no)
            if sec:
                sf.secrets.append(sec)
        return settings

    @staticmethod
    def _db_endpoint(sf: ServiceFacts, env_path: str, settings: dict[str, tuple[str, int]], socket: str) -> None:
        conn = settings.get("DB_CONNECTION", ("mysql", 0))[0]
        if "DB_HOST" not in settings or conn not in ("mysql", "mariadb", "pgsql", "sqlsrv"):
            return
        host, no = settings["DB_HOST"]
        port = settings.get("DB_PORT", ("", 0))[0]
        ev = Evidence("config", env_path, no, excerpt=f"DB_HOST={host}")
        sock = settings.get("DB_SOCKET", ("", 0))[0]
        if sock:
            sf.endpoints.append(Endpoint("DB_SOCKET", host, None, conn, sock, (ev,)))
        elif conn in ("mysql", "mariadb"):
            ep = mysql_endpoint("DB_HOST", f"{host}:{port}" if port else host, socket, ev)
            if ep:
                sf.endpoints.append(ep)
        else:
            scheme = {"pgsql": "postgresql", "sqlsrv": "sqlserver"}[conn]
            num = int(port) if port.isdigit() else DEFAULT_PORTS[scheme]
            sf.endpoints.append(Endpoint("DB_HOST", host, num, scheme, None, (ev,)))

    @staticmethod
    def _web_user(found: Found, sf: ServiceFacts, app: str) -> None:
        """mod_php runs as the web server's user; else PHP-FPM's."""
        for s in found.services:
            covers = any(
                app == r.path or app.startswith(r.path.rstrip("/") + "/") or r.path.startswith(app + "/")
                for r in s.content_paths
            )
            if s.software in ("apache2", "httpd") and covers and s.attributes.get("mod_php") and s.user:
                sf.user = s.user
                return
        fpm = next((s for s in found.services if s.software == "php-fpm" and s.user), None)
        if fpm is not None:
            sf.user = fpm.user
            return
        web = next(
            (
                s
                for s in found.services
                if s.software in WEB_SERVERS
                and s.user
                and any(
                    app == r.path or app.startswith(r.path.rstrip("/") + "/") or r.path.startswith(app + "/")
                    for r in s.content_paths
                )
            ),
            None,
        )
        if web is not None:
            sf.user = web.user

    def _mysql_socket(self, snap: Snapshot, found: Found) -> str:
        for pattern in PHP_INI:
            for ini in snap.glob(pattern):
                text = snap.text(ini) or ""
                for line in text.splitlines():
                    k, sep, v = line.partition("=")
                    if (
                        sep
                        and k.strip() in ("mysqli.default_socket", "pdo_mysql.default_socket")
                        and not k.strip().startswith(";")
                    ):
                        val = v.split(";", 1)[0].strip().strip('"')
                        if val:
                            return val
        family = found.host.os.family if found.host.os else None
        return "/var/lib/mysql/mysql.sock" if family == "rhel" else "/run/mysqld/mysqld.sock"

    def _eval(
        self, snap: Snapshot, path: str, consts: dict[str, Any], depth: int = 0
    ) -> list[tuple[str, Any, Any, int, str]]:
        """Statements of `path` with literal includes followed in place; each tagged with its file."""
        text = snap.text(path)
        if text is None:
            return []
        out: list[tuple[str, Any, Any, int, str]] = []
        for kind, a, b, line in php.statements(text, path, consts):
            out.append((kind, a, b, line, path))
            if kind == "include" and isinstance(a, str) and a.startswith("/") and depth < 4:
                if basename(a) in ("wp-settings.php", "autoload.php", "bootstrap.php") or "/vendor/" in a:
                    continue
                if snap.exists(a):
                    snap.want([a])
                    out += self._eval(snap, a, consts, depth + 1)
        return out

    @staticmethod
    def _secret_defines(
        sf: ServiceFacts, stmts: list[tuple[str, Any, Any, int, str]]
    ) -> dict[str, tuple[Any, int, str]]:
        consts: dict[str, tuple[Any, int, str]] = {}
        for kind, name, value, line, path in stmts:
            if kind == "define" and name not in consts:
                consts[name] = (value, line, path)
        for name, (value, line, path) in consts.items():
            if isinstance(value, str) and value not in PLACEHOLDERS:
                var, sec = classify_setting(name, value, path, line)
                if sec is not None:
                    sf.secrets.append(sec)
                    sf.env.append(var)
        return consts

    # -- WordPress ---------------------------------------------------------------------------
    def _wordpress(self, snap: Snapshot, found: Found, app: str, socket: str) -> list[ServiceFacts]:
        master = f"{app}/wp-config.php"
        text = snap.text(master) or ""
        version = self._wp_version(snap, app)
        sites: list[tuple[str, list[str]]] = []  # (instance suffix, files in run order)
        if "/etc/wordpress/config-" in text:
            hosts = snap.glob("/etc/wordpress/config-*.php")
            for h in hosts:
                name = basename(h)[len("config-") : -len(".php")]
                sites.append((name if len(hosts) > 1 else "", [h, master]))
            if not hosts:
                sites.append(("", [master]))
        else:
            sites.append(("", [master]))
        out = []
        for suffix, files in sites:
            sf = self._base(found, "wordpress", app, f"{app}#{suffix}" if suffix else app)
            if suffix:
                sf.attributes["site"] = suffix
            consts: dict[str, Any] = {"ABSPATH": app + "/"}
            stmts: list[tuple[str, Any, Any, int, str]] = []
            for f in files:
                stmts += self._eval(snap, f, consts)
                sf.config_files.append(file_ref(f, "config"))
            if app.startswith("/usr/share/wordpress"):
                sf.packages.append("wordpress")
            if version:
                sf.version = make_version(version[0], "upstream", "wordpress")
                sf.evidence.append(version[1])
            defs = self._secret_defines(sf, stmts)
            unset = [k for k, (v, _, _) in defs.items() if v == "put your unique phrase here"]
            if unset:
                sf.attributes["unset_salts"] = ",".join(sorted(unset))
            for key in ("DB_NAME", "DB_USER", "DB_HOST"):
                if key in defs and isinstance(defs[key][0], str):
                    sf.env.append(EnvVar(key, defs[key][0], False, (_ev(defs[key], key),)))
            if "DB_HOST" in defs and isinstance(defs["DB_HOST"][0], str):
                ep = mysql_endpoint("DB_HOST", defs["DB_HOST"][0], socket, _ev(defs["DB_HOST"], "DB_HOST"))
                if ep:
                    sf.endpoints.append(ep)
            content = defs.get("WP_CONTENT_DIR")
            if content and isinstance(content[0], str):
                sf.data_dirs.append(
                    FileRef(content[0].rstrip("/"), "uploads", evidence=(_ev(content, "WP_CONTENT_DIR"),))
                )
            else:
                uploads = defs.get("UPLOADS")
                rel = uploads[0] if uploads and isinstance(uploads[0], str) else "wp-content/uploads"
                sf.data_dirs.append(
                    FileRef(
                        P.join(app, rel.strip("/")),
                        "uploads",
                        evidence=(
                            Evidence(
                                "default",
                                detail="WordPress keeps uploads in wp-content/uploads (no UPLOADS/WP_CONTENT_DIR)",
                            ),
                        ),
                    )
                )
            sf.evidence.append(Evidence("file", master))
            out.append(sf)
        return out

    @staticmethod
    def _wp_version(snap: Snapshot, app: str) -> tuple[str, Evidence] | None:
        path = f"{app}/wp-includes/version.php"
        text = snap.text(path) if snap.exists(path) else None
        if not text:
            return None
        for kind, keys, value, line in php.statements(text, path):
            if kind == "assign" and keys == ("wp_version",) and isinstance(value, str):
                return value, Evidence("file", path, line, excerpt=f"$wp_version = '{value}';")
        return None

    # -- Drupal ---------------------------------------------------------------------------------
    def _drupal(self, snap: Snapshot, found: Found, app: str, socket: str) -> list[ServiceFacts]:
        sf = self._base(found, "drupal", app, app)
        settings = f"{app}/sites/default/settings.php"
        consts: dict[str, Any] = {"DRUPAL_ROOT": app}
        stmts = self._eval(snap, settings, consts)
        sf.config_files.append(file_ref(settings, "config"))
        for rel in DRUPAL_VERSION:
            path = f"{app}/{rel}"
            text = snap.text(path) if snap.exists(path) else None
            for kind, name, value, vline in php.statements(text or "", path):
                if kind == "define" and name == "VERSION" and isinstance(value, str):
                    sf.version = make_version(value, "upstream", "drupal")
                    sf.evidence.append(Evidence("file", path, vline, excerpt=f"VERSION = '{value}'"))
                    break
            if sf.version:
                break
        variables = php.variables([(k, a, b, line) for k, a, b, line, _ in stmts])
        lines: dict[tuple[Any, ...], tuple[int | None, str]] = {
            (a if isinstance(a, tuple) else (a,)): (line, path) for k, a, b, line, path in stmts if k == "assign"
        }
        db = variables.get("databases", {})
        db = (
            db.get("default", {}).get("default")
            if isinstance(db, dict) and isinstance(db.get("default"), dict)
            else None
        )
        where: tuple[int | None, str] = (None, settings)
        line, path = lines.get(("databases", "default", "default"), lines.get(("databases",), where))
        if isinstance(db, dict):
            pw = db.get("password")
            if isinstance(pw, str) and pw:
                _, sec = classify_setting("password", pw, path, line)
                if sec:
                    sf.secrets.append(sec)
            host = db.get("host")
            driver = db.get("driver") if isinstance(db.get("driver"), str) else "mysql"
            if isinstance(host, str) and host:
                port = db.get("port")
                spec = f"{host}:{port}" if port not in (None, "", UNKNOWN) and isinstance(port, (str, int)) else host
                ev = Evidence("config", path, line, excerpt=f"'host' => '{host}'")
                if isinstance(db.get("unix_socket"), str) and db["unix_socket"]:
                    sf.endpoints.append(
                        Endpoint("databases.default.host", host, None, driver, db["unix_socket"], (ev,))
                    )
                elif driver == "mysql":
                    ep = mysql_endpoint("databases.default.host", spec, socket, ev)
                    if ep:
                        sf.endpoints.append(ep)
                elif driver == "pgsql":
                    sf.endpoints.append(
                        Endpoint(
                            "databases.default.host",
                            host,
                            int(str(port)) if str(port).isdigit() else 5432,
                            "postgresql",
                            None,
                            (ev,),
                        )
                    )
        settings_vars = variables.get("settings")
        if isinstance(settings_vars, dict):
            salt = settings_vars.get("hash_salt")
            sline, spath = lines.get(("settings", "hash_salt"), (None, settings))
            if isinstance(salt, str) and salt:
                _, sec = classify_setting("hash_salt", salt, spath, sline)
                if sec:
                    sf.secrets.append(sec)
            private = settings_vars.get("file_private_path")
            if isinstance(private, str) and private:
                sf.data_dirs.append(FileRef(P.absolute(private, app), "data", evidence=(Evidence("config", spath),)))
            public = settings_vars.get("file_public_path")
        else:
            public = None
        files = P.absolute(public, app) if isinstance(public, str) and public else f"{app}/sites/default/files"
        sf.data_dirs.append(
            FileRef(
                files,
                "uploads",
                evidence=(
                    Evidence(
                        "default",
                        detail="Drupal's public files live in sites/default/files unless file_public_path is set",
                    ),
                ),
            )
        )
        return [sf]

    # -- Laravel --------------------------------------------------------------------------------
    def _laravel(self, snap: Snapshot, found: Found, app: str, socket: str) -> list[ServiceFacts]:
        sf = self._base(found, "laravel", app, app)
        env_path = f"{app}/.env"
        version_path = f"{app}/{LARAVEL_VERSION}"
        snap.want([p for p in (version_path, f"{app}/artisan") if snap.exists(p)])
        settings = self._dotenv(snap, sf, env_path) if snap.exists(env_path) else {}
        vtext = snap.text(version_path) if snap.exists(version_path) else None
        for kind, name, value, line in php.statements(vtext or "", version_path):
            if kind == "define" and name == "VERSION" and isinstance(value, str):
                sf.attributes["laravel_version"] = value
                sf.evidence.append(Evidence("file", version_path, line, excerpt=f"const VERSION = '{value}';"))
                break
        other = [e for e in sf.env if not e.name.startswith("DB_")]
        sf.endpoints.extend(endpoints_of_env(other))
        self._db_endpoint(sf, env_path, settings, socket)
        sf.data_dirs.append(
            FileRef(
                f"{app}/storage",
                "data",
                evidence=(
                    Evidence("default", detail="Laravel writes logs, cache, sessions and uploads under storage/"),
                ),
            )
        )
        sf.log_paths.append(
            FileRef(
                f"{app}/storage/logs",
                "logs",
                evidence=(Evidence("default", detail="Laravel logs to storage/logs/laravel.log by default"),),
            )
        )
        return [sf]


def project_root(path: str) -> str:
    """The app's own directory for a document root: /var/www/shop for /var/www/shop/public."""
    return P.parent(path) if basename(path) in ("public", "web", "htdocs", "public_html", "www") else path


def _pool_of_site(found: Found, app: str, pools: list[Pool]) -> Pool | None:
    """The pool a web server hands this app's PHP to: the FastCGI target named in the
    config file that sets the app's document root."""
    for s in found.services:
        files = {e.path for r in s.content_paths if r.path == app for e in r.evidence if e.path}
        for ep in s.endpoints:
            if (ep.scheme or "") != "fastcgi" or not any(e.path in files for e in ep.evidence):
                continue
            for pool in pools:
                listen = pool.get("listen")
                if listen is None:
                    continue
                v = listen.value
                if ep.socket and v == ep.socket:
                    return pool
                if ep.port and (v == str(ep.port) or v.endswith(f":{ep.port}")):
                    return pool
    if len(pools) == 1:
        return pools[0]
    return None


def mysql_endpoint(via: str, spec: str, default_socket: str, ev: Evidence) -> Endpoint | None:
    """A MySQL client's idea of a host spec (wpdb::parse_db_host, mysqli): `localhost`
    means the Unix socket even with a port; `host:/path` a socket; else TCP."""
    s = spec.strip()
    if s.startswith("p:"):
        s = s[2:]  # mysqli persistent connection prefix
    if not s:
        return None
    host, port, sock = s, None, None
    m = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$", s)
    if m:
        host, port = m.group(1), m.group(2)
    elif s.count(":") == 1:
        host, rest = s.split(":")
        if rest.startswith("/"):
            sock = rest
        elif rest.isdigit():
            port = rest
    elif s.count(":") > 1:
        host = s  # a bare IPv6 address
    if host == "localhost":
        return Endpoint(via, "localhost", None, "mysql", sock or default_socket, (ev,))
    if sock:
        return Endpoint(via, host, None, "mysql", sock, (ev,))
    return Endpoint(via, host, int(port) if port else 3306, "mysql", None, (ev,))


def _ev(entry: tuple[Any, int, str], name: str) -> Evidence:
    value, line, path = entry
    return Evidence("config", path, line, excerpt=f"define('{name}', '{value}');")


UNKNOWN = php.UNKNOWN
