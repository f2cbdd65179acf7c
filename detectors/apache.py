"""Apache httpd: Debian's apache2 layout and RHEL's httpd layout.

The configuration is evaluated as httpd does at start-up (`modernize.parsers.apache`):
includes relative to ServerRoot, `<IfModule>` against the modules `LoadModule`d so
far (so `Listen 443` inside `<IfModule ssl_module>` counts only when mod_ssl is
enabled), `<IfDefine>`, and `${VAR}` from Debian's /etc/apache2/envvars. Ports come
from `Listen` only (a `<VirtualHost *:443>` opens nothing by itself); a Listen
without an address binds every address. Basic auth against the host's accounts
(mod_authnz_pam, mod_auth_pam, mod_authnz_external with pwauth) is an identity store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modernize.detector import Detector
from modernize.endpoints import classify_setting, parse_url
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, IdentityStore, Port, file_ref
from modernize.parsers.apache import ApacheConfig, Effective, load
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole
from modernize.userfiles import add_user_files


@dataclass(frozen=True)
class Layout:
    software: str
    main: str
    server_root: str
    packages: tuple[str, ...]
    binary: str
    unit: str
    envvars: str | None


LAYOUTS = (
    Layout(
        "apache2",
        "/etc/apache2/apache2.conf",
        "/etc/apache2",
        ("apache2", "apache2-bin"),
        "/usr/sbin/apache2",
        "apache2",
        "/etc/apache2/envvars",
    ),
    Layout(
        "httpd", "/etc/httpd/conf/httpd.conf", "/etc/httpd", ("httpd", "httpd-core"), "/usr/sbin/httpd", "httpd", None
    ),
)
_LISTEN = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+)):(\d+)$")
_SHELL_VAR = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_CERTS = ("sslcertificatefile", "sslcertificatekeyfile", "sslcertificatechainfile", "sslcacertificatefile")
_PHP = re.compile(r"libphp(\d+(?:\.\d+)?)?\.so$")


def _ev(d: Effective) -> Evidence:
    return Evidence("config", d.path, d.line, excerpt=d.excerpt(), via=d.via)


def parse_listen(arg: str) -> tuple[str | None, int | None]:
    """`80`, `192.0.2.1:80`, `[2001:db8::1]:80` -> (address or None for all, port)."""
    if arg.isdigit():
        return None, int(arg)
    m = _LISTEN.match(arg)
    if not m:
        return None, None
    addr = m.group(1) or m.group(2)
    return (None if addr == "*" else addr), int(m.group(3))


def envvars(text: str) -> dict[str, str]:
    """Debian's envvars: `export NAME=value` lines in order, `$NAME` expanded from the ones
    above (shell parameter forms like `${X##y}` and unknown names expand to nothing,
    which is what they give for the default /etc/apache2 instance)."""
    from modernize.parsers.shell import assignments

    env: dict[str, str] = {}
    for _no, key, value in assignments(text):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1) if m.group(1) is not None else m.group(2)
            return env.get(name, "") if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else ""

        env[key] = _SHELL_VAR.sub(sub, value)
    return env


def resolve_loose(snap: Snapshot, path: str, hops: int = 0) -> str:
    """`path` with the symlinks in it followed inside the snapshot, even when its last
    parts do not exist (a log file not written yet under `/etc/httpd/logs`)."""
    cur = "/"
    for part in P.split(path):
        cand = P.join(cur, part)
        link = snap.readlink(cand)
        if link is not None and hops < 40:
            target = link if link.startswith("/") else P.join(cur, link)
            cur = resolve_loose(snap, P.normalize(target), hops + 1)
        else:
            cur = cand
    return cur


class ApacheDetector(Detector):
    name = "apache"
    tags = ("service", "web-server")
    reads = whole("/etc/apache2/**", "/etc/httpd/**")

    def detect(self, snap: Snapshot, found: Found) -> None:
        for layout in LAYOUTS:
            if snap.is_file(layout.main):
                self._one(snap, found, layout)

    def _one(self, snap: Snapshot, found: Found, lay: Layout) -> None:
        env: dict[str, str] = {}
        if lay.envvars:
            text = snap.text(lay.envvars)
            if text is not None:
                env = envvars(text)
        env.setdefault("APACHE_CONFDIR", lay.server_root)
        cfg = load(snap, lay.main, lay.server_root, env)
        if cfg is None:
            found.unparsable(lay.main, "cannot be read")
            return
        for path, why in cfg.errors:
            found.unparsable(path, why)
        sf = ServiceFacts(
            software=lay.software,
            kind="web-server",
            packages=list(lay.packages),
            binaries=[lay.binary],
            units=[lay.unit + ".service", lay.unit],
            evidence=[Evidence("file", lay.main)],
        )
        if lay.envvars and snap.is_file(lay.envvars):
            sf.config_files.append(file_ref(lay.envvars, "env"))
        for path, via in cfg.files:
            sf.config_files.append(
                FileRef(snap.realpath(path) or path, "config", evidence=(Evidence("file", path, via=via),))
            )
        self._directives(snap, cfg, sf)
        self._modules(cfg, sf)
        sf.identity_stores += self._host_auth(cfg)
        user_files: dict[str, list[Evidence]] = {}
        for d in cfg.directives:  # AuthUserFile is relative to ServerRoot
            if d.key == "authuserfile" and d.args and "$" not in d.args[0]:
                user_files.setdefault(cfg.abspath(d.args[0]), []).append(_ev(d))
        add_user_files(snap, found, sf, user_files, "AuthUserFile")
        vhosts = self._vhosts(cfg)
        if vhosts:
            sf.attributes["vhosts"] = "; ".join(vhosts)
        found.add(sf)

    def _directives(self, snap: Snapshot, cfg: ApacheConfig, sf: ServiceFacts) -> None:
        balancers = self._balancers(cfg)
        proxied: set[tuple[str | None, int | None, str | None]] = set()
        reverse: list[Endpoint] = []
        for d in cfg.directives:
            key, args = d.key, d.args
            if key == "listen" and args:
                addr, port = parse_listen(args[0])
                if port is not None:
                    sf.ports.append(Port(port, "tcp", addr, evidence=(_ev(d),)))
            elif key == "user" and args:
                sf.user = args[0]
            elif key == "group" and args:
                sf.group = args[0]
            elif key == "pidfile" and args:
                sf.attributes["pid"] = cfg.abspath(args[0])
            elif key in ("errorlog", "customlog", "transferlog") and args:
                value = args[0]
                if value.startswith(("|", "syslog", "/dev/")) or "$" in value:
                    continue
                sf.log_paths.append(FileRef(resolve_loose(snap, cfg.abspath(value)), "logs", evidence=(_ev(d),)))
            elif key == "documentroot" and args:
                sf.content_paths.append(FileRef(cfg.abspath(args[0]).rstrip("/") or "/", "content", evidence=(_ev(d),)))
            elif key in ("alias", "scriptalias") and len(args) >= 2:
                sf.content_paths.append(FileRef(cfg.abspath(args[1]).rstrip("/") or "/", "content", evidence=(_ev(d),)))
            elif key in _CERTS and args:
                # the key file is a secret's location: named, never read
                sf.config_files.append(FileRef(cfg.abspath(args[0]), "certs", evidence=(_ev(d),)))
            elif key == "setenv" and args:
                var, secret = classify_setting(args[0], " ".join(args[1:]), d.path, d.line)
                sf.env.append(var)
                if secret:
                    sf.secrets.append(secret)
            elif key in ("proxypass", "proxypassmatch", "proxypassreverse"):
                eps = self._proxy(d, balancers)
                if key == "proxypassreverse":
                    reverse.extend(eps)
                    continue
                for ep in eps:
                    proxied.add((ep.host, ep.port, ep.socket))
                sf.endpoints.extend(eps)
            elif key == "sethandler" and args and args[0].lower().startswith("proxy:"):
                handler = _target(args[0][6:], "SetHandler", (_ev(d),))
                if handler:
                    sf.endpoints.append(handler)
        # ProxyPassReverse rewrites headers; it adds a target only when no ProxyPass names it
        for ep in reverse:
            if (ep.host, ep.port, ep.socket) not in proxied:
                sf.endpoints.append(ep)

    @staticmethod
    def _host_auth(cfg: ApacheConfig) -> list[IdentityStore]:
        """Basic auth against the host's accounts: mod_authnz_pam (`AuthBasicProvider PAM`),
        the old mod_auth_pam (`AuthPAM_Enabled on`), or mod_authnz_external's
        `AuthExternal NAME` where `DefineExternalAuth NAME pipe|environment /usr/sbin/pwauth`
        (pwauth checks PAM or /etc/shadow)."""
        external = {
            d.args[0]: d
            for d in cfg.directives
            if d.key == "defineexternalauth" and len(d.args) >= 3 and d.args[2].rsplit("/", 1)[-1] == "pwauth"
        }
        out: list[IdentityStore] = []
        for d in cfg.directives:
            if d.key == "authbasicprovider" and any(a.lower() == "pam" for a in d.args):
                out.append(IdentityStore("pam", True, "AuthBasicProvider", None, (_ev(d),)))
            elif d.key == "authpam_enabled" and d.args and d.args[0].lower() == "on":
                out.append(IdentityStore("pam", True, "AuthPAM_Enabled", None, (_ev(d),)))
            elif d.key == "authexternal" and d.args and d.args[0] in external:
                define = external[d.args[0]]
                out.append(IdentityStore("pwauth", True, "AuthExternal", define.args[2], (_ev(d), _ev(define))))
        return out

    @staticmethod
    def _balancers(cfg: ApacheConfig) -> dict[str, list[Effective]]:
        out: dict[str, list[Effective]] = {}
        for d in cfg.directives:
            if d.key != "balancermember" or not d.args:
                continue
            proxy = d.section("proxy")
            if proxy:
                out.setdefault(proxy[0].rstrip("/").lower(), []).append(d)
            elif len(d.args) >= 2:
                out.setdefault(d.args[0].rstrip("/").lower(), []).append(
                    Effective(d.name, d.args[1:], d.path, d.line, d.via, d.sections, d.scope)
                )
        return out

    @staticmethod
    def _proxy(d: Effective, balancers: dict[str, list[Effective]]) -> list[Endpoint]:
        url = next((a for a in d.args if "://" in a or a.startswith("unix:")), None)
        if url is None:
            return []
        if url.lower().startswith("balancer://"):
            name = "balancer://" + url[len("balancer://") :].split("/", 1)[0].lower()
            out = []
            for member in balancers.get(name, []):
                ep = _target(member.args[0], d.name, (_ev(d), _ev(member)))
                if ep:
                    out.append(ep)
            return out
        ep = _target(url, d.name, (_ev(d),))
        return [ep] if ep else []

    @staticmethod
    def _modules(cfg: ApacheConfig, sf: ServiceFacts) -> None:
        names = sorted(m.removesuffix("_module") for m in cfg.modules)
        if names:
            sf.attributes["modules"] = ", ".join(names)
        for ident, path in cfg.modules.items():
            if ident.startswith("mpm_"):
                sf.attributes["mpm"] = ident.removesuffix("_module").removeprefix("mpm_")
            m = _PHP.search(path)
            if m and ident.startswith("php"):
                sf.runtime = "php" + (m.group(1) or "")
                sf.attributes["mod_php"] = m.group(1) or "yes"

    @staticmethod
    def _vhosts(cfg: ApacheConfig) -> list[str]:
        out = []
        for i, sec in enumerate(cfg.sections):
            if sec.key != "virtualhost":
                continue
            inside = [d for d in cfg.directives if i in d.scope]
            name = next((d.args[0] for d in inside if d.key == "servername" and d.args), None)
            addrs = " ".join(sec.args)
            desc = f"{name or '(default)'} {addrs}"
            if any(d.key == "sslengine" and d.args and d.args[0].lower() == "on" for d in inside):
                desc += " tls"
            targets = [a for d in inside if d.key == "proxypass" for a in d.args if "://" in a]
            if targets:
                desc += " -> " + ", ".join(targets)
            out.append(desc)
        return out


def _target(value: str, via: str, evidence: tuple[Evidence, ...]) -> Endpoint | None:
    """`http://h:p/`, `ajp://h:8009/`, `fcgi://h:9000/`, `unix:/run/x.sock|fcgi://localhost/`."""
    if value.startswith("unix:"):
        sock, _, rest = value[5:].partition("|")
        scheme = rest.split("://", 1)[0].lower() if "://" in rest else None
        return Endpoint(via, None, None, scheme, sock, evidence)
    ep = parse_url(value, via, evidence)
    if ep is not None and ep.port is None and ep.host:
        port = {"ajp": 8009, "http": 80, "https": 443, "ws": 80, "wss": 443}.get((ep.scheme or "").lower())
        ep = Endpoint(ep.via, ep.host, port, ep.scheme, None, evidence)
    return ep
