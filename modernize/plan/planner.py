"""plan(inventory) -> Plan: a pure function from facts to decisions.

The planner does what holds for every software (names, strategy, base image,
packages, files, secrets, ports, volumes, environment, dependencies, jobs) and
asks the software's knowledge module for the rest (start command, user,
healthcheck, hardening). Every decision is recorded with its reason.
"""

from __future__ import annotations

import posixpath as P
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from modernize.generate.collect import excluded
from modernize.model import CronJob, Dependency, Evidence, Inventory, Secret, Service, cite
from modernize.plan.draft import Context, Draft
from modernize.plan.images import ImageEntry, ImageMap
from modernize.plan.model import (
    API_VERSION,
    KIND,
    EnvPlan,
    FileCopy,
    HostInfo,
    Job,
    LiftPlan,
    Link,
    MemberRedaction,
    PackagePin,
    Plan,
    PortPlan,
    Probe,
    Rewrite,
    ServicePlan,
    Source,
    VolumePlan,
)
from modernize.plan.software import LOOPBACK, Knowledge, load_knowledge, tcp_healthcheck
from modernize.plan.values import env_variable, pin_version

# What replaces host plumbing in a container world (strategy skip).
REPLACEMENTS = {
    "sshd": "no SSH into containers: `docker compose exec SERVICE sh` for a shell",
    "cron": "each job runs in its service's image, started by the host's scheduler: see the jobs in plan.yaml",
    "rsyslog": "containers log to stdout/stderr; the engine collects the logs",
    "syslog-ng": "containers log to stdout/stderr; the engine collects the logs",
    "logrotate": "the engine rotates container logs (json-file max-size, journald)",
    "getty": "no consoles in containers",
    "chrony": "containers use the host's clock",
    "ntp": "containers use the host's clock",
    "systemd-timesyncd": "containers use the host's clock",
    "nfs-server": "an in-kernel NFS server stays on a host or a NAS; containers mount its exports as volumes",
}
REPLACEMENT_OTHER = "host maintenance (package updates, filesystem checks, TRIM): the container host does it"
BASE_SIZE_MB = {"debian": 75, "ubuntu": 78, "alpine": 8, "rhel": 95}
APP_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "*.pyc",
    "node_modules",
    "venv",
    ".venv",
    "*.log",
    ".env",
    ".cache",
    "tmp",
    ".pytest_cache",
)
START_MECHANICS = ("/etc/systemd/", "/usr/lib/systemd/", "/lib/systemd/", "/etc/init.d/", "/etc/supervisor/")
_NAME_BAD = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class Options:
    strategy: str | None = None  # official, distro, lift
    services: tuple[str, ...] = ()  # only these (ids or names)
    skip_services: tuple[str, ...] = ()
    source: str = ""
    inventory_path: str | None = None


def plan(
    inventory: Inventory,
    images: ImageMap,
    options: Options | None = None,
    previous: Plan | None = None,
    knowledge: dict[str, Knowledge] | None = None,
) -> Plan:
    opts = options or Options()
    know = load_knowledge() if knowledge is None else knowledge
    names = compose_names(inventory.services, previous)
    ctx = Context(inventory, images, names, opts.strategy, knowledge=know)
    ctx.inside = hosted_apps(list(inventory.services), inventory.dependencies)
    chosen = [s for s in inventory.services if _selected(s, names[s.id], opts)]
    hosted = hosted_apps(chosen, inventory.dependencies)
    drafts: list[Draft] = []
    for svc in sorted(chosen, key=lambda s: names[s.id]):
        drafts.append(_draft(svc, ctx, hosted))
    _share_images(drafts)
    _socket_links(drafts, ctx)
    _proxy_hosted(drafts, ctx)
    _assign_jobs(inventory, drafts, ctx)
    unassigned = _unassigned_jobs(inventory, drafts, ctx)
    services = tuple(d.freeze() for d in drafts)
    lift = _lift(inventory, services)
    os_info = inventory.host.os
    os_text = " ".join(x for x in (os_info.id, os_info.version_id) if x) or None
    if os_text and os_info.codename:
        os_text += f" ({os_info.codename})"
    return Plan(
        apiVersion=API_VERSION,
        kind=KIND,
        source=Source(opts.source or inventory.source.get("location", ""), opts.inventory_path),
        host=HostInfo(inventory.host.hostname, os_text, inventory.host.arch),
        services=services,
        lift=lift,
        unassigned_jobs=unassigned,
        findings=tuple(sorted(set(ctx.findings), key=lambda f: (f.service or "", f.code, f.message))),
    )


def _selected(svc: Service, name: str, opts: Options) -> bool:
    if opts.services and svc.id not in opts.services and name not in opts.services:
        return False
    return not (svc.id in opts.skip_services or name in opts.skip_services)


# -- names ----------------------------------------------------------------------------
def compose_names(services: Iterable[Service], previous: Plan | None) -> dict[str, str]:
    """Each service's compose name, given once and kept across re-plans."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    if previous is not None:
        for sp in previous.services:
            out[sp.id] = sp.name
            taken.add(sp.name)
    for svc in sorted(services, key=lambda s: (s.plumbing, s.id)):
        if svc.id in out:
            continue
        base = _NAME_BAD.sub("-", (svc.name or svc.software).lower()).strip("-_") or "service"
        if svc.kind == "worker" and not base.endswith("worker"):
            base = f"{_owner_name(svc, services) or base}-worker"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        out[svc.id] = name
        taken.add(name)
    return out


def _owner_name(worker: Service, services: Iterable[Service]) -> str | None:
    """A worker sharing an app's code is named after the app (intranet-worker)."""
    for svc in services:
        if svc.kind == "app" and svc.instance and svc.instance == worker.instance:
            return _NAME_BAD.sub("-", svc.name.lower()).strip("-_")
    return None


# -- apps inside a web server -----------------------------------------------------------
def hosted_apps(services: list[Service], deps: Iterable[Dependency] = ()) -> dict[str, str]:
    """app id -> id of the service its code runs in, for apps with no port and no
    command of their own, whose code is among a web server's content: the web server
    itself (mod_php, Passenger), or the FastCGI server it hands PHP to (PHP-FPM)."""
    out: dict[str, str] = {}
    webs = [s for s in services if s.kind == "web-server"]
    fpm = {s.id: s for s in services if s.software == "php-fpm"}
    hands_to = {d.source: d.target for d in deps if d.target in fpm}
    for svc in services:
        if svc.kind != "app" or svc.ports or svc.command or not svc.instance:
            continue
        for web in webs:
            if any(c.path == svc.instance for c in web.content_paths):
                php = (svc.runtime or "").startswith("php")
                out[svc.id] = hands_to[web.id] if php and web.id in hands_to else web.id
                break
    return out


def project_root(path: str) -> str:
    """The app's own directory for a document root: /var/www/shop for
    /var/www/shop/public (the code beside a public/ root is the app's too)."""
    return P.dirname(path) if P.basename(path) in ("public", "web", "htdocs", "public_html", "www") else path


# -- one service --------------------------------------------------------------------------
def official_tag(svc: Service, ctx: Context, know: Knowledge | None) -> tuple[ImageEntry, str, str] | None:
    """(images.yaml entry, tag, why) of the official image for SVC, or None."""
    key = (know or Knowledge()).image_key(svc, ctx)
    if key is None:
        return None
    software, series, extra = key
    entry = ctx.images.get(software)
    if entry is None or series is None:
        return None
    found = entry.tag_for(series, _codename(ctx), **extra)
    if found is None:
        return None
    return entry, found[0], found[1]


def _strategy(svc: Service, ctx: Context, know: Knowledge | None) -> tuple[str, str]:
    if svc.plumbing:
        return "skip", "host plumbing: it has no place in a container"
    if svc.software == "nfs-server":
        return "skip", "an in-kernel server: containers cannot run it"
    official = official_tag(svc, ctx, know)
    can_distro = ctx.family in BASE_SIZE_MB and (svc.classified and (know is not None or bool(svc.packages)))
    wanted = ctx.strategy
    if wanted == "lift":
        return "lift", "--strategy lift: the whole host as one image"
    if wanted == "distro" and can_distro:
        return "distro", "--strategy distro: the server's own distribution and packages"
    if wanted in (None, "official") and official is not None:
        return "official", f"images.yaml has an official image for it ({official[0].image}:{official[1]})"
    if can_distro:
        why = (know or Knowledge()).no_official_reason(svc, ctx)
        return "distro", f"{why}: the server's own distribution and packages"
    if not svc.classified:
        return "lift", "no detector knows this software: the whole host image carries it as it is"
    return "lift", f"no image and no {ctx.family or 'known'} packages to rebuild it from"


def image_series(svc: Service) -> str | None:
    """The series an image tag needs: an app's runtime (python3.11 -> 3.11, node18 -> 18),
    else the software's own version series."""
    if svc.kind in ("app", "worker") and svc.runtime and svc.software != "tomcat":
        m = re.search(r"\d+(?:\.\d+)?", svc.runtime)
        return m.group(0) if m else None
    return svc.version.series if svc.version else None


def _codename(ctx: Context) -> str | None:
    return ctx.inventory.host.os.codename


def know_of(ctx: Context, svc: Service) -> Knowledge | None:
    return ctx.knowledge.get(svc.software)


def _draft(svc: Service, ctx: Context, hosted: dict[str, str]) -> Draft:
    know = know_of(ctx, svc)
    name = ctx.names[svc.id]
    strategy, why = _strategy(svc, ctx, know)
    if svc.id in hosted:
        strategy, why = "skip", f"runs inside {ctx.names[hosted[svc.id]]}: its files are in that image"
    d = Draft(svc, name, strategy)
    d.decide("strategy", why, cite(svc.evidence)[:3])
    if strategy == "skip":
        d.replacement = _replacement(svc, hosted, ctx)
        return d
    _ports(d, ctx)
    if svc.enabled is False:
        d.profiles.append("disabled")
        d.decide(
            "profiles",
            "disabled on the server: generated, but started only with `docker compose --profile disabled up`",
            tuple(f"{m.system}: {m.name}" for m in svc.started_by),
        )
    if strategy == "lift":
        return d
    _base_image(d, ctx)
    _files(d, ctx)
    for app_id, web_id in sorted(hosted.items()):
        if web_id == svc.id:
            app = next(s for s in ctx.inventory.services if s.id == app_id)
            _hosted_files(d, app, ctx)
    _volumes(d, ctx)
    _drop_installed(d)
    _env(d, ctx)
    _depends(d, ctx)
    knowledge = know or Knowledge()
    if strategy == "official":
        knowledge.official(d, ctx)
    else:
        knowledge.distro(d, ctx)
    drops = d.strategy == "official" and d.entry is not None and d.entry.drops_root
    if d.user is None and not knowledge.starts_as_root and not drops:
        ctx.finding("warning", "runs-as-root", f"{name} runs as root in its container", name, cite(svc.evidence)[:1])
    _open_binds(d)
    _image_owners(d)
    _archives(d, ctx)
    _exclude_secrets(d, ctx)
    _volume_owners(d)
    _probes(d, ctx)
    _size(d, ctx)
    return d


_OPEN = {"127.0.0.1": "0.0.0.0", "localhost": "0.0.0.0", "[::1]": "[::]", "::1": "::"}


def _open_binds(d: Draft) -> None:
    """A listen address on loopback, set on a line of a file the image carries, is
    opened on that line: other containers reach the service by its name."""
    for p in d.svc.ports:
        if p.address not in ("127.0.0.1", "::1", "localhost"):
            continue
        for ev in p.evidence:
            if ev.kind != "config" or not ev.path or not ev.line or not ev.excerpt:
                continue
            old = next((a for a in ("[::1]", "127.0.0.1", "localhost", "::1") if a in ev.excerpt), None)
            if old is None:
                continue
            for i, f in enumerate(d.files):
                if f.source == ev.path and not any(r.line == ev.line and r.old == old for r in f.rewrites):
                    why = f"listened on {old} only: opened for the other containers"
                    rewrite = Rewrite(old, _OPEN[old], why, ev.line, cite((ev,)))
                    d.files[i] = replace(f, rewrites=(*f.rewrites, rewrite))
                    d.decide(f"file {f.source}", f"{old} -> {_OPEN[old]}: {why}", cite((ev,)))


# The accounts every official image's base system has (Debian's base-passwd, which
# Ubuntu's matches, and Alpine's alpine-baselayout): users and groups.
BASE_ACCOUNTS = frozenset(
    [
        "root",
        "daemon",
        "bin",
        "sys",
        "sync",
        "games",
        "man",
        "lp",
        "mail",
        "news",
        "uucp",
        "proxy",
        "www-data",
        "backup",
        "list",
        "irc",
        "gnats",
        "nobody",
        "nogroup",
        "adm",
        "tty",
        "disk",
        "kmem",
        "dialout",
        "fax",
        "voice",
        "cdrom",
        "floppy",
        "tape",
        "sudo",
        "audio",
        "dip",
        "operator",
        "src",
        "shadow",
        "utmp",
        "video",
        "sasl",
        "plugdev",
        "staff",
        "users",
        "wheel",
    ]
)
_CREATED = re.compile(r"\b(?:useradd|groupadd|adduser|addgroup)\b[^)&;]*?\s([a-z_][a-z0-9_.-]*)\s*(?:\)|$|&&|;)")


def _image_accounts(d: Draft) -> frozenset[str] | None:
    """The accounts an official image will have (None: not known, or not an official image)."""
    if d.strategy != "official" or d.entry is None or d.entry.accounts is None:
        return None
    made = {m.group(1) for line in d.setup for m in _CREATED.finditer(line)}
    return BASE_ACCOUNTS | set(d.entry.accounts) | made


def _image_owners(d: Draft) -> None:
    """An official image has only its base system's accounts, the ones it adds (images.yaml
    `accounts`) and those the draft creates: a copied file owned by any other (Debian's
    tomcat, whose image runs as root with no tomcat account) is left root's, since a
    `chown` to a name the image lacks fails the build."""
    known = _image_accounts(d)
    if known is None:
        return
    for i, f in enumerate(d.files):
        lost = [x for x in (f.owner, f.group) if x and x not in known and not x.isdigit()]
        if lost:
            d.files[i] = replace(
                f,
                owner=f.owner if f.owner in known else None,
                group=f.group if f.group in known else None,
            )
            image = d.image or (d.entry.image if d.entry else "the image")
            d.decide(f"file {f.source}", f"owned by {' and '.join(sorted(set(lost)))} on the server, "
                     f"an account {image} does not have: left root's")  # fmt: skip


def _volume_owners(d: Draft) -> None:
    """An empty named volume takes the owner of its directory in the image: make it
    the service's user (the image's own data path is its entrypoint's business)."""
    owner = d.user or (d.svc.user if d.svc.user != "root" else None)
    known = _image_accounts(d)
    if owner is None or (known is not None and not owner[0].isdigit() and owner.split(":")[0] not in known):
        return  # (the server's tomcat, in an image that runs Tomcat as root and has no such account)
    for i, v in enumerate(d.volumes):
        if d.strategy == "official" and d.entry is not None and v.target == d.entry.data:
            continue
        if not v.read_only:
            d.volumes[i] = replace(v, owner=owner)


def _exclude_secrets(d: Draft, ctx: Context) -> None:
    """No copied directory carries a file the inventory knows holds a secret, nor a
    data directory (uploads, caches), whichever service they belong to: two services
    may share one app directory, and a document root may hold another app's uploads."""
    inv = ctx.inventory
    secrets = {x.path for s in inv.services for x in s.secrets} | {x.path for x in inv.host_secrets}
    data = {r.path for s in inv.services for r in s.data_dirs if not r.path.startswith("~")}
    for i, f in enumerate(d.files):
        if f.secret:
            continue
        top = f.source.rstrip("/") + "/"
        hidden = sorted(P.relpath(p, f.source) for p in secrets if p.startswith(top) and "!/" not in p)
        stored = sorted(P.relpath(p, f.source) for p in data if p.startswith(top))
        new = [p for p in (*hidden, *stored) if p not in f.exclude]
        if new:
            d.files[i] = replace(f, exclude=tuple(sorted(set(f.exclude) | set(new))))
            if hidden:
                d.decide(f"files {f.source}", "files holding secrets are left out: " + ", ".join(hidden))
            if stored:
                d.decide(f"files {f.source}", "data directories are left out (volumes): " + ", ".join(stored))


def _archives(d: Draft, ctx: Context) -> None:
    """An archive the image carries that holds a secret is repacked without it; where
    the software reads an override from the environment (Spring Boot), the plan sets it."""
    by_archive: dict[str, list[Secret]] = {}
    for svc in ctx.inventory.services:
        for sec in svc.secrets:
            archive, sep, _member = sec.path.partition("!/")
            if sep:
                by_archive.setdefault(archive, []).append(sec)
    for i, f in enumerate(d.files):
        secrets = by_archive.get(f.source)
        if f.secret or not secrets:
            continue
        members: dict[str, set[int]] = {}
        for sec in secrets:
            members.setdefault(sec.path.partition("!/")[2], set()).update([sec.line] if sec.line else [])
        f = replace(f, redact_members=tuple(MemberRedaction(m, tuple(sorted(ls))) for m, ls in sorted(members.items())))
        d.files[i] = f
        where = tuple(f"{sec.path}:{sec.line}" if sec.line else sec.path for sec in secrets)
        d.decide(f"file {f.source}", "holds secrets: the image gets it repacked with their values left out", where)
        for sec in secrets:
            if "." in sec.key and sec.path.endswith(".properties"):
                name = re.sub(r"[^A-Z0-9]+", "_", sec.key.upper())
                var = env_variable(d.name, name)
                if not any(e.name == name for e in d.env):
                    d.env.append(EnvPlan(name, "${" + var + "}", True, (var,)))
                    d.decide(f"env {name}", f"Spring Boot reads it over {sec.key} in the archive", where)
        ctx.finding(
            "warning",
            "secret-in-archive",
            f"{f.source} holds secrets ({', '.join(sorted(m for m in members))}): the image carries a copy "
            "with them left out; supply them at run time",
            d.name,
            where,
        )


def _replacement(svc: Service, hosted: dict[str, str], ctx: Context) -> str:
    if svc.id in hosted:
        return f"served by {ctx.names[hosted[svc.id]]} (its files are copied into that image)"
    return REPLACEMENTS.get(svc.software) or REPLACEMENTS.get(svc.name) or REPLACEMENT_OTHER


def _ports(d: Draft, ctx: Context) -> None:
    svc = d.svc
    entry = svc.kind in ("web-server",) or (svc.kind == "app" and not _proxied(svc, ctx))
    for p in svc.ports:
        if p.port is None or p.proto not in ("tcp", "udp"):
            continue
        publish = p.port if entry else None
        if not any(x.port == p.port and x.proto == p.proto for x in d.ports):
            d.ports.append(PortPlan(p.port, p.proto, publish))
            where = "published: users reach it" if publish else "not published: only other services use it"
            d.decide(f"port {p.port}/{p.proto}", where, cite(p.evidence))


def _proxied(svc: Service, ctx: Context) -> bool:
    return any(dep.target == svc.id for dep in ctx.inventory.dependencies if dep.source != svc.id)


def _base_image(d: Draft, ctx: Context) -> None:
    svc = d.svc
    if d.strategy == "official":
        found = official_tag(svc, ctx, know_of(ctx, svc))
        assert found is not None
        entry, tag, why = found
        d.entry = entry
        d.image = ctx.images.rewrite(f"{entry.image}:{tag}")
        seen = " ".join(x for x in (svc.software, svc.version.upstream if svc.version else None, svc.runtime) if x)
        d.decide("image", f"{why} (found {seen})", cite(svc.evidence[:1]))
        return
    osi = ctx.inventory.host.os
    image = distro_image(osi.id, osi.version_id, osi.family)
    d.image = ctx.images.rewrite(image)
    d.decide("image", f"the server's own distribution: {osi.pretty_name or osi.id}", cite(osi.evidence))
    for pkg in svc.packages:
        raw = ctx.package_version(pkg)
        if raw is None:
            continue
        pin, why = pin_version(raw, ctx.family)
        d.packages.append(PackagePin(pkg, raw, pin))
        d.decide(f"package {pkg}", why)


def distro_image(os_id: str | None, version: str | None, family: str | None) -> str:
    major = (version or "").split(".")[0]
    if os_id == "debian" and major:
        return f"debian:{major}-slim"
    if os_id == "ubuntu" and version:
        return f"ubuntu:{version}"
    if os_id == "alpine" and version:
        return "alpine:" + ".".join(version.split(".")[:2])
    if family == "rhel" and major:
        return f"rockylinux:{major}" if os_id == "rocky" else f"registry.access.redhat.com/ubi{major}/ubi"
    return f"{os_id or 'debian'}:{major or 'latest'}"


# -- files -----------------------------------------------------------------------------------
def secret_paths(svc: Service) -> dict[str, list[Secret]]:
    out: dict[str, list[Secret]] = {}
    for s in svc.secrets:
        out.setdefault(s.path, []).append(s)
    return out


def _files(d: Draft, ctx: Context) -> None:
    svc = d.svc
    secrets = secret_paths(svc)
    data_roots = [r.path for r in svc.data_dirs]
    for ref in svc.config_files:
        if ref.role in ("unit", "env") or ref.path.startswith(START_MECHANICS):
            continue  # how the host starts it: the container's command replaces it
        if any(ref.path.startswith(r.rstrip("/") + "/") for r in data_roots):
            continue
        if _snakeoil(ref.path):
            continue
        secret = ref.path in secrets or (
            ref.role == "certs" and ref.path.endswith((".key", ".pem")) and _private(ref.path)
        )
        if ref.role == "certs" and (ref.kind == "missing" or secret):
            _mount_secret(d, ref.path, ref.owner, ref.group, ctx, missing=ref.kind == "missing")
            continue
        if ref.kind != "file":
            continue
        changed = ref.modified is True or (ref.package is None and (ref.path in ctx.changed or ref.modified is None))
        if not changed:
            continue
        if secret:
            _mount_secret(d, ref.path, ref.owner, ref.group, ctx)
            continue
        d.files.append(FileCopy(ref.path, ref.path, ref.owner, ref.group, ref.mode))
        d.decide(f"file {ref.path}", _file_reason(ref.modified, ref.package), cite(ref.evidence)[:2])
        for ev in ref.evidence:
            if ev.kind == "file" and ev.path and ev.path != ref.path and "-enabled/" in ev.path:
                d.links.append(Link(ev.path, ref.path))
    handled = {f.source for f in d.files}
    for path in sorted(secrets):
        inside = any(path.startswith(c.path.rstrip("/") + "/") for c in svc.content_paths)
        if path not in handled and "!/" not in path and not inside and path.startswith("/etc/") and not _snakeoil(path):
            _mount_secret(d, path, None, None, ctx)  # a credentials file the config names (sasl_passwd)
    if d.svc.kind in ("app", "worker"):
        _app_code(d, ctx)


def _snakeoil(path: str) -> bool:
    """Debian's self-signed pair: ssl-cert makes its own at install; an official image has no use for it."""
    return "snakeoil" in path


def _private(path: str) -> bool:
    return "/private/" in path or path.endswith(".key")


def _file_reason(modified: bool | None, package: str | None) -> str:
    if modified:
        return f"changed from {package or 'its package'}'s version"
    return "no package owns it: the server's own file"


def _only_feeds_env(svc: Service, path: str) -> bool:
    """True when every secret in PATH is also an environment variable of SVC (a pm2
    dump, an ecosystem file): the container gets them from .env, not from the file."""
    here = [s for s in svc.secrets if s.path == path]
    names = {e.name for e in svc.env if e.secret}
    return bool(here) and all(s.key in names for s in here)


# kinds of Secret recorded for a whole file (no line): its .example carries none of it
WHOLE_FILE_SECRETS = ("credentials-store", "key", "private-key")


def _mount_secret(
    d: Draft, path: str, owner: str | None, group: str | None, ctx: Context, missing: bool = False
) -> None:
    if _only_feeds_env(d.svc, path):
        d.decide(f"file {path}", "its secrets reach the container as environment variables: not mounted")
        return
    secret_name = f"{d.name}-{P.basename(path)}"
    here = [s for svc in ctx.inventory.services for s in svc.secrets if s.path == path]
    lines = sorted({s.line for s in here if s.line})
    if any(s.line is None and s.kind in WHOLE_FILE_SECRETS for s in here):
        lines = [0]  # the file is a secret as a whole (an htpasswd file, a Rails key): nothing of it in the .example
    mode = "0640" if _private(path) else None
    d.files.append(FileCopy(path, path, owner, group, mode, True, secret_name, redact=tuple(lines)))
    d.decide(f"file {path}", f"holds a secret: never copied; mounted at run time from secrets/{secret_name}")
    if missing:
        ctx.finding(
            "warning",
            "secret-file-missing",
            f"{path} is named by {d.name}'s config but is not in the snapshot: supply secrets/{secret_name}",
            d.name,
        )


def _app_code(d: Draft, ctx: Context) -> None:
    svc = d.svc
    code = [c for c in svc.content_paths if c.role == "content" and c.kind == "dir"]
    if not code:
        return
    root = code[0]
    excludes = list(APP_EXCLUDES)
    for r in (*svc.data_dirs, *svc.log_paths):
        if r.path.startswith(root.path.rstrip("/") + "/"):
            excludes.append(P.relpath(r.path, root.path))
    for path in secret_paths(svc):
        if path.startswith(root.path.rstrip("/") + "/"):
            excludes.append(P.relpath(path, root.path))
            _mount_secret(d, path, None, None, ctx)
    d.files.append(FileCopy(root.path, root.path, root.owner, root.group, None, exclude=tuple(sorted(set(excludes)))))
    d.decide(f"files {root.path}", "the app's code, without venvs, dependencies, VCS, logs, data or secrets")


def _hosted_files(d: Draft, app: Service, ctx: Context) -> None:
    """An app inside this web server: its code and config go into this image."""
    secrets = secret_paths(app)
    inside = [c.path for c in app.content_paths if c.kind == "dir" and c.role == "content"]
    if d.svc.software == "php-fpm":
        inside = sorted({project_root(p) for p in inside})  # PHP-FPM runs the code beside public/ too
    data_roots = [r.path for r in app.data_dirs]
    owned = [p for p in ctx.inventory.packages if p.name in app.packages and p.manager in ("dpkg", "rpm")]
    if owned and d.strategy == "distro":
        # the app is a package of the server's distribution (Debian's wordpress): the image
        # installs it, and copies only what is not the package's (config, data, the admin's files)
        for pkg in owned:
            if all(x.name != pkg.name for x in d.packages):
                d.packages.append(PackagePin(pkg.name, pkg.version.raw, pin_version(pkg.version.raw, ctx.family)[0]))
        packaged = [p for p in inside if p.startswith("/usr/")]
        inside = [p for p in inside if p not in packaged]
        d.installed += packaged  # nor copied as the web server's document root (see _drop_installed)
        d.decide("packages", f"{ctx.names[app.id]} is the server's {owned[0].name} package: installed, not copied",
                 cite(owned[0].evidence)[:1])  # fmt: skip
    for path in inside:
        excl = [*APP_EXCLUDES, *(P.relpath(r, path) for r in data_roots if r.startswith(path.rstrip("/") + "/"))]
        excl += [P.relpath(s, path) for s in secrets if s.startswith(path.rstrip("/") + "/")]
        d.files.append(FileCopy(path, path, exclude=tuple(sorted(set(excl)))))
        d.decide(f"files {path}", f"{ctx.names[app.id]} runs inside {d.name}: its code", cite(app.evidence)[:1])
    for ref in app.config_files:
        if ref.kind != "file":
            continue
        if ref.path in secrets:
            _mount_secret(d, ref.path, ref.owner, ref.group, ctx)
        elif not any(ref.path.startswith(p.rstrip("/") + "/") for p in inside):
            d.files.append(FileCopy(ref.path, ref.path, ref.owner, ref.group, ref.mode))
            d.decide(f"file {ref.path}", f"{ctx.names[app.id]}'s config", cite(ref.evidence)[:1])
    for r in app.data_dirs:
        _volume(d, r.path, r.role, r.size_bytes, ctx, r.evidence)
    for dep in ctx.inventory.dependencies:
        if dep.source == app.id and dep.target:
            d.depends_on.append(ctx.names[dep.target])
            _rewrite_dependency(d, dep, ctx)


def _drop_installed(d: Draft) -> None:
    """A directory a package the image installs provides is not copied whole (a changed
    file inside it still is: it differs from the package's)."""
    d.files = [f for f in d.files if f.source not in d.installed]


# -- volumes ----------------------------------------------------------------------------
def _volumes(d: Draft, ctx: Context) -> None:
    svc = d.svc
    for r in svc.data_dirs:
        if r.path.startswith("~"):
            ctx.finding("warning", "home-data", f"{d.name} keeps data in each user's home ({r.path})", d.name)
            continue
        _volume(d, r.path, r.role, r.size_bytes, ctx, r.evidence)
    # content another service writes (static files shared with an app) is baked, not shared
    data = {r.path for s in ctx.inventory.services for r in s.data_dirs}
    if svc.kind == "web-server":
        _document_roots(d, ctx, data)
    for sp in ctx.inventory.shared_paths:
        mine = any(x.path == sp.path for x in svc.content_paths) and sp.path not in {r.path for r in svc.data_dirs}
        if svc.id in sp.services and mine and sp.path in data:
            _volume(d, sp.path, "shared", None, ctx, sp.evidence, read_only=True)
        content = [x for x in svc.content_paths if x.path == sp.path and x.kind == "dir"]
        if svc.id in sp.services and content and sp.path not in data and d.svc.kind == "web-server":
            d.files.append(FileCopy(sp.path, sp.path, exclude=APP_EXCLUDES))
            d.decide(
                f"files {sp.path}", "content this web server serves from another service's files", cite(sp.evidence)[:2]
            )


_ROOT_DIRECTIVES = ("root ", "DocumentRoot ", "docroot ", "server.document-root")


def _document_roots(d: Draft, ctx: Context, data: set[str]) -> None:
    """A web server's document roots (its `root`/`DocumentRoot` lines) are content
    its image carries: static files. Other directories it serves (an `alias` to an
    uploads folder) are data until shown otherwise: not baked, and said so."""
    for ref in d.svc.content_paths:
        if ref.kind != "dir" or ref.package or ref.path in data:
            continue
        lines = [ev.excerpt or "" for ev in ref.evidence]
        if any(line.lstrip().startswith(_ROOT_DIRECTIVES) for line in lines):
            d.files.append(FileCopy(ref.path, ref.path, ref.owner, ref.group, None, exclude=APP_EXCLUDES))
            d.decide(
                f"files {ref.path}", "a document root: the static files this server serves", cite(ref.evidence)[:1]
            )
        elif not any(sp.path == ref.path for sp in ctx.inventory.shared_paths):
            ctx.finding(
                "warning",
                "served-directory-not-carried",
                f"{d.name} serves {ref.path} (not a document root): if it holds data (uploads), make it a volume "
                "shared with the service that writes it; if it is code, copy it in the Dockerfile",
                d.name,
                cite(ref.evidence)[:1],
            )


def _volume(
    d: Draft,
    path: str,
    role: str,
    size: int | None,
    ctx: Context,
    evidence: tuple[Evidence, ...],
    read_only: bool = False,
) -> None:
    shared = next((sp for sp in ctx.inventory.shared_paths if sp.path == path and len(sp.services) > 1), None)
    if shared is not None:
        name = _NAME_BAD.sub("-", P.basename(path.rstrip("/")).lower()).strip("-") or "shared"
        owners = sorted(ctx.names[s] for s in shared.services if s in ctx.names)
        name = f"{owners[0]}-{name}" if owners else name
        role = "shared"
    else:
        name = f"{d.name}-{role}"
        if any(v.name == name for v in d.volumes):
            name = f"{name}-{len(d.volumes) + 1}"
    target = path
    if d.strategy == "official" and d.entry and d.entry.data and role == "data" and not d.volumes:
        target = d.entry.data
    if any(v.target == target for v in d.volumes):
        return
    d.volumes.append(VolumePlan(name, target, path, role, size, read_only))
    why = "a directory several services use: one shared volume" if shared else f"the service's {role}: a named volume"
    if read_only:
        why += ", read-only here: this service serves what another writes"
    if target != path:
        why += f" at the image's data path {target}"
    d.decide(f"volume {name}", why, cite(evidence)[:2])


# -- environment, secrets and localhost coupling ------------------------------------------------
def _env(d: Draft, ctx: Context) -> None:
    svc = d.svc
    by_line: dict[tuple[str, int | None], Secret] = {(s.path, s.line): s for s in svc.secrets}
    for ev in svc.env:
        src = ev.evidence[0] if ev.evidence else None
        secret = by_line.get((src.path or "", src.line)) if src else None
        value = ev.value
        variables: list[str] = []
        if ev.secret or secret is not None:
            embedded = bool(value and "<redacted>" in value)
            var = variable_for(secret, d.name, ev.name + ("_PASSWORD" if embedded else ""), ctx)
            variables.append(var)
            if embedded and value:
                value = value.replace("<redacted>", "${" + var + "}")
            else:
                value = "${" + var + "}"
        if value is None:
            continue
        value = value.replace("$$", "$")
        d.env.append(EnvPlan(ev.name, value, bool(variables), tuple(variables)))
        d.decide(f"env {ev.name}", "a secret: from .env" if variables else "the server's value", cite(ev.evidence)[:1])


def variable_for(secret: Secret | None, service: str, key: str, ctx: Context) -> str:
    """One .env variable per secret value: places sharing a fingerprint share it,
    named after the service that owns the secret (REDIS_REQUIREPASS) where one does."""
    if secret is None:
        return env_variable(service, key)
    suffix = "_PASSWORD" if key.endswith("_PASSWORD") and not secret.key.endswith("PASSWORD") else ""
    holders = []
    for s in ctx.inventory.services:
        for sec in s.secrets:
            # without a fingerprint (no key) a secret is only itself
            if sec == secret or (secret.fingerprint and sec.fingerprint == secret.fingerprint):
                holders.append((s, sec))
    own = [(s, sec) for s, sec in holders if not s.env or all(e.name != sec.key for e in s.env)]
    s, sec = min(own or holders, key=lambda x: (ctx.names.get(x[0].id, x[0].id), x[1].key))
    return env_variable(ctx.names.get(s.id, s.name), sec.key + ("" if own == [(s, sec)] else suffix))


def _depends(d: Draft, ctx: Context) -> None:
    for dep in ctx.inventory.dependencies:
        if dep.source != d.svc.id or not dep.target or dep.target not in ctx.names:
            continue
        d.depends_on.append(ctx.names[dep.target])
        _rewrite_dependency(d, dep, ctx)


# the TCP port a server that listened on a unix socket takes in its container
SOCKET_PORTS = {"php-fpm": 9000, "uwsgi": 3031, "gunicorn": 8000, "python-app": 8000, "postgresql": 5432,
                "mariadb": 3306, "mysql": 3306, "redis": 6379, "memcached": 11211}  # fmt: skip


def _socket_links(drafts: list[Draft], ctx: Context) -> None:
    """A unix socket does not cross containers: where one service reached another
    through a socket, the server listens on a TCP port in its container (the line of
    its config that named the socket is rewritten) and the client's line that named
    the socket names the server's compose name and port."""
    by_id = {d.svc.id: d for d in drafts if d.strategy in ("official", "distro")}
    used: dict[str, int] = {}
    for dep in ctx.inventory.dependencies:
        if not dep.socket or not dep.target or dep.source not in by_id or dep.target not in by_id:
            continue
        client, server = by_id[dep.source], by_id[dep.target]
        listen = next((p for p in server.svc.ports if p.socket == dep.socket), None)
        port = next((p.port for p in server.ports if p.proto == "tcp"), None)
        if port is None or (listen is not None and any(ev.path for ev in listen.evidence)):
            base = SOCKET_PORTS.get(server.svc.software, 9000)
            port = used.get(dep.socket) or base + sum(1 for s in used if used[s] >= base and s != dep.socket)
        used[dep.socket] = port
        if not server.port(port):
            server.ports.append(PortPlan(port, "tcp", None))
            server.decide(f"port {port}/tcp", f"listened on {dep.socket}, which cannot cross containers")
        if listen is not None:
            for ev in listen.evidence:
                if ev.kind == "config" and ev.path and ev.line:
                    _rewrite_line(server, ctx, ev.path, ev.line, dep.socket, str(port), "a unix socket -> a TCP port")
        for ev in dep.evidence:
            if ev.path and ev.line:
                old = f"unix:{dep.socket}" if ev.excerpt and f"unix:{dep.socket}" in ev.excerpt else dep.socket
                new = f"{server.name}:{port}"
                _rewrite_line(client, ctx, ev.path, ev.line, old, new, f"{server.name} is another container")
        if server.name not in client.depends_on:
            client.depends_on.append(server.name)
        if server.healthcheck is None:
            tcp_healthcheck(server)


_WSGI_DAEMON = ("WSGIDaemonProcess", "WSGIProcessGroup")


def _proxy_hosted(drafts: list[Draft], ctx: Context) -> None:
    """A WSGI app Apache ran in its own processes (mod_wsgi) now has a container of its
    own: in Apache's site, WSGIScriptAlias becomes a proxy to it (its Alias'd static and
    media paths excepted, as Apache still serves those) and the daemon lines go."""
    by_id = {d.svc.id: d for d in drafts}
    for app in drafts:
        web = by_id.get(app.svc.hosted_by or "")
        if web is None or web.svc.software != "apache2" or app.strategy == "skip" or not app.port(8000):
            continue
        mount = dict(app.svc.attributes).get("mount", "/")
        mount = mount if mount.endswith("/") else mount + "/"
        url = f"http://{app.name}:8000{mount}"
        kept = [
            tokens[1]
            for ref in web.svc.content_paths
            for ev in ref.evidence
            if (tokens := (ev.excerpt or "").split())[:1] == ["Alias"] and len(tokens) > 2
            and tokens[1].startswith(mount) and ev.path == _site_of(app.svc)
        ]  # fmt: skip
        proxied = False
        for ev in app.svc.evidence:
            words = (ev.excerpt or "").split()
            if not (ev.path and ev.line and words):
                continue
            path = _enabled_source(web, ev.path)
            if words[0] == "WSGIScriptAlias":
                # the app saw the client's Host under mod_wsgi (Django's ALLOWED_HOSTS checks it)
                lines = [f"ProxyPass {k} !" for k in kept] + [
                    "ProxyPreserveHost On",
                    f"ProxyPass {mount} {url}",
                    f"ProxyPassReverse {mount} {url}",
                ]
                why = f"{app.name} serves the app in its own container"
                _rewrite_line(web, ctx, path, ev.line, ev.excerpt or "", "\n\t".join(lines), why)
                proxied = True
            elif words[0] in _WSGI_DAEMON:
                text = ev.excerpt or ""
                _rewrite_line(web, ctx, path, ev.line, text, f"# {text}", f"{app.name} runs the app, not mod_wsgi")
        if proxied:
            web.setup.append("a2enmod -q proxy proxy_http")
            # done here: the finding asking a person to write that proxy goes
            ctx.findings[:] = [f for f in ctx.findings if (f.code, f.service) != ("hosted-app-proxy", app.name)]
            if app.name not in web.depends_on:
                web.depends_on.append(app.name)


def _site_of(app: Service) -> str | None:
    return next((ev.path for ev in app.evidence if (ev.excerpt or "").startswith("WSGIScriptAlias")), None)


def _enabled_source(web: Draft, path: str) -> str:
    """The file the image copies for PATH: an enabled site is its sites-available twin."""
    if "/sites-enabled/" in path:
        twin = path.replace("/sites-enabled/", "/sites-available/")
        if any(f.source == twin for f in web.files):
            return twin
    return path


def _rewrite_line(d: Draft, ctx: Context, path: str, line: int, old: str, new: str, why: str) -> None:
    """Rewrite OLD to NEW on one line of PATH in D's image, copying the file if the
    plan did not copy it yet (a stock file that now differs)."""
    linked = {link.path: link.target for link in d.links}
    path = linked.get(path, path)
    rewrite = Rewrite(old, new, why, line, (f"{path}:{line}",))
    for i, f in enumerate(d.files):
        if f.source == path:
            if rewrite not in f.rewrites:
                d.files[i] = replace(f, rewrites=(*f.rewrites, rewrite))
            break
    else:
        ref = next((c for c in d.svc.config_files if c.path == path and c.kind == "file"), None)
        if ref is None and not ctx.inventory.config_changes:
            return
        owner, group, mode = (ref.owner, ref.group, ref.mode) if ref else (None, None, None)
        d.files.append(FileCopy(path, path, owner, group, mode, rewrites=(rewrite,)))
    d.decide(f"file {path}", f"{old} -> {new}: {why}", (f"{path}:{line}",))


def _rewrite_dependency(d: Draft, dep: Dependency, ctx: Context) -> None:
    if not dep.target:
        return
    target = ctx.names[dep.target]
    host = dep.host
    if not host or host not in LOOPBACK:
        return
    for ev in dep.evidence:
        if not ev.path or not ev.excerpt:
            continue
        old = f"{host}:{dep.port}" if dep.port and f"{host}:{dep.port}" in ev.excerpt else host
        new = f"{target}:{dep.port}" if old != host else target
        rewrite = Rewrite(old, new, f"{dep.via or 'a setting'} reached {target} on {host}", ev.line, cite((ev,)))
        # an environment value
        for i, e in enumerate(d.env):
            if e.name == dep.via and old in e.value:
                d.env[i] = replace(e, value=e.value.replace(old, new))
                d.decide(f"env {e.name}", f"{old} -> {new}: {target} is another container", cite((ev,)))
                break
        else:
            # a copied file (or a mounted secret file, whose .example carries it)
            linked = {link.path: link.target for link in d.links}
            path = linked.get(ev.path, ev.path)
            exact = next((i for i, f in enumerate(d.files) if f.source == path), None)
            holder = next(
                (
                    f
                    for f in d.files
                    if not f.secret
                    and path.startswith(f.source.rstrip("/") + "/")
                    and not excluded(path[len(f.source.rstrip("/")) + 1 :], f.exclude)
                ),
                None,
            )
            if exact is not None:
                f = d.files[exact]
                d.files[exact] = replace(f, rewrites=(*f.rewrites, rewrite))
            elif holder is not None:
                d.files.append(FileCopy(path, path, rewrites=(rewrite,)))
            if exact is not None or holder is not None:
                d.decide(f"file {path}", f"{old} -> {new}: {target} is another container", cite((ev,)))
            else:
                ctx.finding(
                    "warning",
                    "localhost-not-rewritten",
                    f"{d.name} reaches {target} on {host} ({dep.via}); change it to {new} by hand",
                    d.name,
                    cite((ev,)),
                )


# -- probes, size ----------------------------------------------------------------------------
def _probes(d: Draft, ctx: Context) -> None:
    """A web entry point gets an HTTP probe per virtual host it answered on (its first
    names, bounded), at the health path of the app it proxies to when the inventory knows
    one; 401/403 count (the app answered, behind a login), 404 and 5xx do not."""
    svc = d.svc
    names = _vhost_names(svc)
    path, why = _health_path(svc, ctx)
    for p in d.ports:
        if p.proto != "tcp":
            continue
        if svc.kind in ("web-server",) or (svc.kind == "app" and p.publish):
            hosts: list[str | None] = [n for n, ports in names if not ports or p.port in ports]
            for host in list(dict.fromkeys(hosts))[:MAX_VHOST_PROBES] or [None]:
                d.probes.append(Probe("http", p.port, path, host, "2xx,3xx,401,403", why=why))
        elif svc.kind == "app" and path != "/":
            # the name the web server in front answers on: apps often refuse other Host headers
            d.probes.append(Probe("http", p.port, path, _front_name(svc, ctx), "2xx", why=why))
        else:
            d.probes.append(Probe("tcp", p.port, why="the port accepts connections"))


MAX_VHOST_PROBES = 6


def _front_name(app: Service, ctx: Context) -> str | None:
    """The first virtual host name of a web server that proxies to APP or hosts it."""
    fronts = {dep.source for dep in ctx.inventory.dependencies if dep.target == app.id}
    fronts |= {app.hosted_by} if app.hosted_by else set()
    for web in sorted((s for s in ctx.inventory.services if s.id in fronts), key=lambda s: s.id):
        names = _vhost_names(web)
        if names:
            return names[0][0]
    return None


def _vhost_names(svc: Service) -> list[tuple[str, set[int]]]:
    """Virtual host names with the ports they answer on (empty: any): Apache's `vhosts`
    entries ("NAME *:443 tls -> URL; ..."), nginx's `server_names` ("a, b")."""
    attrs = dict(svc.attributes)
    out: list[tuple[str, set[int]]] = []
    for entry in (attrs.get("vhosts") or "").split(";"):
        tokens = entry.split("->", 1)[0].split()
        if tokens and tokens[0] != "(default)":
            ports = {int(t.rsplit(":", 1)[1]) for t in tokens[1:] if t.rsplit(":", 1)[-1].isdigit() and ":" in t}
            out.append((tokens[0], ports))
    for name in re.split(r"[,\s]+", attrs.get("server_names") or ""):
        out.append((name, set()))
    return [(n, ports) for n, ports in out if n and not n.startswith(("*", "~")) and n != "_" and ":" not in n]


def _health_path(svc: Service, ctx: Context) -> tuple[str, str]:
    """The path to ask for: the service's own health route, else that of an app it
    proxies to, else /."""
    targets = [svc.id] + [dep.target for dep in ctx.inventory.dependencies if dep.source == svc.id and dep.target]
    # and the apps those run inside them (a PHP app behind nginx runs in php-fpm)
    targets += sorted(app for app, host in ctx.inside.items() if host in targets)
    targets += sorted(s.id for s in ctx.inventory.services if s.hosted_by and s.hosted_by in targets)
    for sid in targets:
        other = next((s for s in ctx.inventory.services if s.id == sid), None)
        health = dict(other.attributes).get("health_path") if other else None
        if health and other:
            return health, f"{other.name}'s health route; a 404 or 5xx means the app is down"
    return "/", "a 404 or 5xx means the app behind it is down"


def package_closure_bytes(names: Iterable[str], inv: Inventory) -> int:
    """Installed size of NAMES and everything they depend on, as the server's package
    database says (an upper bound: the base image already has the commonest)."""
    by_name = {p.name: p for p in inv.packages if p.manager != "none"}
    seen: set[str] = set()
    todo = [n for n in names if n in by_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(dep for dep in by_name[name].depends if dep in by_name and dep not in seen)
    return sum(by_name[n].installed_size or 0 for n in seen)


def _size(d: Draft, ctx: Context) -> None:
    """Base + the packages' installed sizes with their dependencies + copied files
    (+ about 2 MB a library: wheels and npm packages vary too much to know here)."""
    base = BASE_SIZE_MB.get(ctx.family or "", 100) if d.strategy == "distro" else 150
    packages = package_closure_bytes((p.name for p in d.packages), ctx.inventory) // 2**20
    copied = sum((c.size_bytes or 0) for c in d.svc.content_paths if any(f.source == c.path for f in d.files)) + sum(
        (c.size_bytes or 0) for c in d.svc.config_files if any(f.source == c.path for f in d.files)
    )
    d.size_estimate_mb = base + packages + 2 * len(d.libraries) + copied // 2**20
    d.decide(
        "size_estimate_mb",
        f"base ~{base} MB + packages {packages} MB (with their dependencies, from the package database) + "
        f"{len(d.libraries)} libraries + copied files {copied // 2**20} MB",
    )
    if d.size_estimate_mb > 1024:
        big = sorted(
            (c for c in (*d.svc.content_paths, *d.svc.config_files) if any(f.source == c.path for f in d.files)),
            key=lambda c: -(c.size_bytes or 0),
        )
        ctx.finding(
            "warning",
            "large-image",
            f"{d.name}'s image is estimated at {d.size_estimate_mb} MB",
            d.name,
            tuple(c.path for c in big[:2] if c.size_bytes),  # what weighs most among the copied files
        )


# -- images shared by services of one app ------------------------------------------------------
def _share_images(drafts: list[Draft]) -> None:
    """A worker running the same code as an app runs the app's image."""
    apps = {d.svc.instance: d for d in drafts if d.svc.kind == "app" and d.strategy in ("official", "distro")}
    for d in drafts:
        if d.svc.kind == "worker" and d.svc.instance in apps and d.strategy == apps[d.svc.instance].strategy:
            app = apps[d.svc.instance]
            d.build_from = app.name
            d.image = app.image
            d.files, d.packages, d.libraries, d.links, d.setup, d.install = [], [], [], [], [], []
            d.decide("image", f"runs {app.name}'s image: the same code with another command")


# -- jobs -----------------------------------------------------------------------------------
def _owner_of_job(job: CronJob, drafts: list[Draft]) -> Draft | None:
    live = [d for d in drafts if d.strategy in ("official", "distro")]
    for d in live:
        if d.svc.kind == "web-server":
            continue  # a web server serves others' files: a job touching them is not the web server's
        data = {r.path for r in d.svc.data_dirs}
        roots = [c.path for c in d.svc.content_paths if c.role == "content" and c.kind == "dir" and c.path not in data]
        roots += [f.source for f in d.files if f.exclude]  # code it carries for an app it hosts
        if any(r in job.command for r in roots) or (d.svc.command and d.svc.command[0] in job.command):
            return d
    for d in live:
        if d.svc.user and d.svc.user == job.user and job.user != "root":
            return d
    return None


def _plumbing_job(job: CronJob, ctx: Context) -> bool:
    return job.source != "user-crontab" and job.path not in ctx.changed


def _assign_jobs(inv: Inventory, drafts: list[Draft], ctx: Context) -> None:
    local = {p.location for p in inv.packages if p.manager == "none" and p.location}
    for job in inv.cron_jobs:
        if _plumbing_job(job, ctx):
            continue
        owner = _owner_of_job(job, drafts)
        if owner is None:
            continue
        src = f"{job.path}:{job.line}" if job.line else job.path
        owner.jobs.append(Job(job.schedule, job.command, job.user, src))
        script = job.command.split()[0] if job.command.split() else ""
        if script in local and not any(f.source == script for f in owner.files):
            owner.files.append(FileCopy(script, script, "root", "root", "0755"))
            owner.decide(f"file {script}", "the script a scheduled job of this service runs", (src,))
        owner.decide("jobs", f"a scheduled job of this service ({job.schedule}): `docker compose run` it", (src,))


def _unassigned_jobs(inv: Inventory, drafts: list[Draft], ctx: Context) -> tuple[Job, ...]:
    taken = {(j.source, j.command) for d in drafts for j in d.jobs}
    out = []
    for job in inv.cron_jobs:
        src = f"{job.path}:{job.line}" if job.line else job.path
        if _plumbing_job(job, ctx) or (src, job.command) in taken:
            continue
        out.append(Job(job.schedule, job.command, job.user, src))
    return tuple(sorted(out, key=lambda j: (j.source, j.command)))


# -- lift -------------------------------------------------------------------------------------
LIFT_EXCLUDES = (
    "./proc/*",
    "./sys/*",
    "./dev/*",
    "./run/*",
    "./tmp/*",
    "./var/tmp/*",
    "./var/cache/*",
    "./swapfile",
    "./swap.img",
    "./var/lib/docker",
    "./var/log/journal/*",
    "./etc/ssh/ssh_host_*_key",
    "./etc/ssl/private/*",
    "./root/.ssh/*",
)


def _lift(inv: Inventory, services: tuple[ServicePlan, ...]) -> LiftPlan | None:
    lifted = [s for s in services if s.strategy == "lift"]
    if not lifted:
        return None
    name = _NAME_BAD.sub("-", (inv.host.hostname or "host").lower()).strip("-") + "-lift"
    ports = tuple(sorted({p for s in lifted for p in s.ports}, key=lambda p: (p.port, p.proto)))
    return LiftPlan(
        name=name,
        services=tuple(s.name for s in lifted),
        excludes=LIFT_EXCLUDES,
        ports=tuple(PortPlan(p.port, p.proto, p.port) for p in ports),
        command=("/sbin/init",),
    )
