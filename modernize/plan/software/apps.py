"""App runtimes: Python (gunicorn, uWSGI, celery ...), Node.js, Java. The code is
copied, the libraries the server ran are installed at those versions, and the
app runs as the server's user, created in the image with the same ids."""

from __future__ import annotations

import posixpath as P
import re
from dataclasses import replace

from modernize.model import Library, Service, cite
from modernize.plan.draft import Context, Draft
from modernize.plan.model import EnvPlan, FileCopy, Hardening, PackagePin, PortPlan, VolumePlan
from modernize.plan.software import Knowledge, keep_command, python_tcp_healthcheck, tcp_healthcheck
from modernize.plan.values import pin_version
from modernize.secrets import MASK

# the WSGI server a hosted app (mod_wsgi, Passenger) gets in its own container
GUNICORN = "23.0.0"

# installed in every venv; pinning them to the server's old versions helps nobody
_VENV_TOOLS = {"pip", "setuptools", "wheel", "distribute"}


def app_user(d: Draft, ctx: Context) -> None:
    """Run as the server's user, created with the server's uid and gid."""
    user = d.svc.user
    if not user or user == "root":
        return
    ids = create_user(d, ctx, user)
    d.user = f"{ids[0]}:{ids[1]}" if ids else user  # numeric: the same on every host and in every volume
    if ids:
        d.decide("user", f"the server's user {user} ({ids[0]}:{ids[1]}), so files in volumes keep their owner")
    else:
        d.decide("user", f"the server's user {user}; its ids are unknown (no /etc/passwd entry)")


def create_user(d: Draft, ctx: Context, user: str) -> tuple[int, int] | None:
    """A setup line that creates the server's USER in the image with its ids, unless
    the image has them (node's image has uid 1000). Returns (uid, gid) when known."""
    ids = ctx.user_ids(user)
    if ids is None:
        d.setup.append(
            f"id -u {user} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin {user}"
        )
        return None
    uid, gid, group = ids
    home = d.svc.working_dir or "/nonexistent"
    line = (
        f"(getent group {gid} >/dev/null || groupadd --system --gid {gid} {group}) && "
        f"(getent passwd {uid} >/dev/null || useradd --system --uid {uid} --gid {gid} "
        f"--home-dir {home} --no-create-home --shell /usr/sbin/nologin {user})"
    )
    if line not in d.setup:
        d.setup.insert(0, line)  # before anything that chowns to it
    return uid, gid


def runtime_packages(d: Draft, ctx: Context, names: tuple[str, ...]) -> None:
    """The distribution's packages of a runtime, pinned to the server's versions where
    the server had them (unpinned, and so marked in the Dockerfile, where it did not)."""
    for name in names:
        raw = ctx.package_version(name)
        d.packages.append(PackagePin(name, raw or "", pin_version(raw, ctx.family)[0] if raw else ""))


def _stateless(d: Draft) -> None:
    d.hardening = Hardening(read_only=True, tmpfs=("/tmp",), cap_drop=("ALL",), no_new_privileges=True)
    d.decide("hardening", "an app user with its data in volumes: read-only root, /tmp in memory, no capabilities")


def _requirement(lib: Library) -> str:
    """`name==version`, or PEP 508's `name @ URL` for a distribution pip installed from a VCS
    or a URL (the index may not have it): not for a local path or a URL whose credentials
    were masked, which the image build cannot use (rule SW008 says so)."""
    url = lib.url or ""
    if lib.source in ("vcs", "url") and url and not url.startswith("file:") and MASK not in url:
        return f"{lib.name} @ {url}"
    return f"{lib.name}=={lib.version}"


class PythonKnowledge(Knowledge):
    name = "python"
    software = ("python-app", "celery", "celery-beat", "celery-flower", "gunicorn", "uwsgi", "django", "flask")

    def _common(self, d: Draft, ctx: Context, python: str) -> None:
        attrs = dict(d.svc.attributes)
        venv = attrs.get("venv")
        keep_command(d)
        app_user(d, ctx)
        libs = sorted(
            {
                _requirement(lib)
                for lib in d.svc.libraries
                if lib.ecosystem == "pypi" and lib.name.lower() not in _VENV_TOOLS
            },
            key=str.lower,
        )
        if d.build_from is None and venv:
            d.libraries = libs
            d.install.append(
                f"{python} -m venv {venv} && {venv}/bin/pip install --no-cache-dir -r /tmp/requirements.txt"
            )
            d.decide(
                "libraries",
                f"the {len(libs)} distributions installed in the server's venv, at the versions that ran "
                "(requirements.txt generated from them)",
                (venv,),
            )
        if d.svc.hosted_by and not d.command:
            self._wsgi_server(d, ctx, venv)
        d.env.append(_env("PYTHONUNBUFFERED", "1"))
        if d.ports:
            python_tcp_healthcheck(d, f"{venv}/bin/python" if venv else python)
        _stateless(d)

    @staticmethod
    def _wsgi_server(d: Draft, ctx: Context, venv: str | None) -> None:
        """An app the web server ran (mod_wsgi, Passenger) gets a WSGI server of its own:
        gunicorn on port 8000, importing the WSGI file the web server loaded, with the
        processes and threads it had; the web server then proxies to it."""
        attrs = dict(d.svc.attributes)
        script = attrs.get("wsgi_script") or attrs.get("startup_file")
        host = ctx.names.get(d.svc.hosted_by or "", d.svc.hosted_by)
        if not script or not script.endswith(".py") or venv is None:
            ctx.finding(
                "warning",
                "hosted-app-command",
                f"{d.name} ran inside {host} ({attrs.get('server', 'a web server module')}); give it a command "
                "that serves it (a WSGI server) in plan.yaml",
                d.name,
                cite(d.svc.evidence)[:1],
            )
            return
        paths = [x for x in attrs.get("python_path", "").split(":") if x]
        top = next((p for p in paths if script.startswith(p.rstrip("/") + "/")), None)
        chdir = top or P.dirname(script)
        module = P.relpath(script, chdir).removesuffix(".py").replace("/", ".")
        d.libraries = sorted({*d.libraries, f"gunicorn=={GUNICORN}"}, key=str.lower)
        cmd = [f"{venv}/bin/gunicorn", "--chdir", chdir, "--bind", "0.0.0.0:8000"]
        for opt in ("processes", "threads"):
            if attrs.get(opt, "").isdigit():
                cmd += ["--workers" if opt == "processes" else "--threads", attrs[opt]]
        d.command = (*cmd, f"{module}:application")
        d.workdir = chdir
        d.ports.append(PortPlan(8000))
        d.decide(
            "command",
            f"{host} ran it through {attrs.get('server', 'a module')} ({script}); in a container gunicorn "
            f"{GUNICORN} serves the same WSGI application on port 8000, with the daemon's processes and threads",
            cite(d.svc.evidence)[:2],
        )
        ctx.finding(
            "warning",
            "hosted-app-proxy",
            f"{host} ran {d.name} in its own processes ({attrs.get('server')}, mounted at {attrs.get('mount', '/')}); "
            f"in containers {d.name} serves it on port 8000: replace {host}'s WSGIScriptAlias/Passenger lines "
            f"with a proxy to http://{d.name}:8000/ (e.g. ProxyPass {attrs.get('mount', '/')} http://{d.name}:8000/)",
            d.name,
            cite(d.svc.evidence)[:1],
        )

    def distro(self, d: Draft, ctx: Context) -> None:
        if d.build_from is None:
            d.runtime = d.svc.runtime
            runtime_packages(d, ctx, ("python3", "python3-venv"))
            d.decide("packages", f"the distribution's Python ({d.svc.runtime or 'python3'}), as on the server")
        self._common(d, ctx, "python3")

    def official(self, d: Draft, ctx: Context) -> None:
        d.runtime = d.svc.runtime
        self._common(d, ctx, "python3")


def _env(name: str, value: str) -> EnvPlan:
    return EnvPlan(name, value, image=True)


class NodeKnowledge(Knowledge):
    name = "node"
    software = ("node-app",)

    def _common(self, d: Draft, ctx: Context) -> None:
        keep_command(d)
        if d.command and d.command[0] in ("node", "/usr/bin/node", "/usr/local/bin/node"):
            d.command = ("node", *d.command[1:])
        app_user(d, ctx)
        attrs = dict(d.svc.attributes)
        root = next((c.path for c in d.svc.content_paths if c.role == "content"), d.svc.working_dir)
        if root and d.build_from is None:
            ci = "npm ci --omit=dev" if attrs.get("lockfile") == "npm" else "npm install --omit=dev"
            d.install.append(f"{ci} --prefix {root} && npm cache clean --force")
            d.decide("libraries", f"`{ci.split(' --')[0]}`: the lock file's versions" if "ci" in ci else "no lock file")
        d.env.append(_env("NODE_ENV", "production"))
        tcp_healthcheck(d)
        _stateless(d)

    def distro(self, d: Draft, ctx: Context) -> None:
        runtime_packages(d, ctx, ("nodejs", "npm"))
        d.runtime = d.svc.runtime
        self._common(d, ctx)

    def official(self, d: Draft, ctx: Context) -> None:
        d.runtime = d.svc.runtime
        self._common(d, ctx)


class JavaKnowledge(Knowledge):
    name = "java"
    software = ("java-app", "spring-boot")

    def _jar(self, d: Draft) -> None:
        keep_command(d)
        jar = next((c for c in d.svc.content_paths if c.kind == "file" and c.path.endswith((".jar", ".war"))), None)
        if jar is not None:
            d.files.append(FileCopy(jar.path, jar.path, jar.owner, jar.group, jar.mode))
            d.decide(f"file {jar.path}", "the application archive")
        if d.command and P.basename(d.command[0]) == "java":
            d.command = ("java", *d.command[1:])

    def distro(self, d: Draft, ctx: Context) -> None:
        major = (d.svc.runtime or "java17").removeprefix("java") or "17"

        d.packages.append(PackagePin(f"openjdk-{major}-jre-headless", "", ""))
        d.decide("packages", f"the Java {major} runtime the server ran")
        self._jar(d)
        app_user(d, ctx)
        tcp_healthcheck(d)
        _stateless(d)

    def official(self, d: Draft, ctx: Context) -> None:
        self._jar(d)
        app_user(d, ctx)
        tcp_healthcheck(d)
        _stateless(d)


class TomcatKnowledge(Knowledge):
    name = "tomcat"
    software = ("tomcat",)

    def image_key(self, svc: Service, ctx: Context) -> tuple[str, str | None, dict[str, str]] | None:
        java = (svc.runtime or "").removeprefix("java")
        series = svc.version.series if svc.version else None
        return "tomcat", series, ({"java": java} if java.isdigit() else {})

    def _logs(self, d: Draft, target: str) -> None:
        """Tomcat's logs are files named by date (catalina.2026-12-06.log, the access log):
        no link to stdout can stand for them, so they keep a volume of their own."""
        logs = next((x for x in d.svc.log_paths if x.kind == "dir"), None)
        if logs is None or any(v.target == target for v in d.volumes):
            return
        d.volumes.append(VolumePlan(f"{d.name}-logs", target, logs.path, "logs"))
        why = "Tomcat writes its logs to dated files: a volume keeps them across redeploys"
        d.decide(f"volume {d.name}-logs", why + " (`docker compose logs` has the console's)", cite(logs.evidence)[:1])

    def _webapps(self, d: Draft, base: str) -> None:

        d.volumes = [v for v in d.volumes if not v.server_path.endswith("/webapps")]
        for c in d.svc.content_paths:
            if "/webapps/" in c.path:
                target = P.join(base, "webapps", P.basename(c.path))
                excl = ("*.log",) if c.kind == "dir" else ()
                d.files.append(FileCopy(c.path, target, c.owner, c.group, c.mode, exclude=excl))
                d.decide(f"file {c.path}", "a web application: code, built into the image (not a volume)")

    def distro(self, d: Draft, ctx: Context) -> None:
        series = d.svc.version.series.split(".")[0] if d.svc.version else "10"
        d.command = (f"/usr/libexec/tomcat{series}/tomcat-start.sh",)
        d.env.extend(
            [
                _env("CATALINA_HOME", f"/usr/share/tomcat{series}"),
                _env("CATALINA_BASE", f"/var/lib/tomcat{series}"),
                _env("CATALINA_TMPDIR", "/tmp"),
            ]
        )
        d.user = "tomcat"
        self._webapps(d, f"/var/lib/tomcat{series}")
        self._logs(d, f"/var/log/tomcat{series}")
        # Tomcat unpacks WARs into webapps/ and writes work/: the image's copies must stay
        # the tomcat user's, as the package made them (a COPY makes them root's)
        d.setup.append(f"chown -R tomcat:tomcat /var/lib/tomcat{series}/webapps /var/lib/tomcat{series}/work")
        d.decide("setup", "webapps/ and work/ belong to tomcat, which unpacks the WARs there")
        d.decide("command", "Debian's tomcat start script in the foreground, as the unit runs it")
        tcp_healthcheck(d)

    def official(self, d: Draft, ctx: Context) -> None:
        """The image reads only CATALINA_HOME=/usr/local/tomcat: the server's conf/
        files (and the secret ones mounted) go there."""
        d.command = ("catalina.sh", "run")
        self._webapps(d, "/usr/local/tomcat")
        self._logs(d, "/usr/local/tomcat/logs")
        conf = re.compile(r"^/etc/tomcat\d*/")
        for i, f in enumerate(d.files):
            if conf.match(f.target):
                d.files[i] = replace(f, target=conf.sub("/usr/local/tomcat/conf/", f.target))
        if any(conf.match(f.source) for f in d.files):
            d.decide("files", "the server's Tomcat conf/ goes to /usr/local/tomcat/conf, the only one the image reads")
        tcp_healthcheck(d)


class RubyKnowledge(Knowledge):
    """Rack apps (puma, unicorn, Rails) and sidekiq: the gems at Gemfile.lock's
    versions with bundler, run as the server's user."""

    name = "ruby"
    software = ("ruby-app", "sidekiq")

    def _common(self, d: Draft, ctx: Context) -> None:
        keep_command(d)
        app_user(d, ctx)
        root = next((c.path for c in d.svc.content_paths if c.role == "content"), d.svc.working_dir)
        if root and d.build_from is None:
            d.install.append(
                f"cd {root} && bundle config set --local deployment true "
                "&& bundle config set --local without 'development test' && bundle install"
            )
            d.decide("libraries", "`bundle install` in deployment mode: Gemfile.lock's versions")
            ctx.finding(
                "info",
                "native-gems",
                f"{d.name}: gems with native extensions need the build tools and -dev packages in the image",
                d.name,
            )
        d.env.append(_env("RAILS_LOG_TO_STDOUT", "1"))
        tcp_healthcheck(d)
        _stateless(d)

    def distro(self, d: Draft, ctx: Context) -> None:
        # ruby-dev and build-essential compile native gems (puma, nio4r, pg) as on the server
        runtime_packages(d, ctx, ("ruby", "ruby-bundler", "ruby-dev", "build-essential"))
        d.runtime = d.svc.runtime
        self._common(d, ctx)

    def official(self, d: Draft, ctx: Context) -> None:
        d.runtime = d.svc.runtime
        self._common(d, ctx)
