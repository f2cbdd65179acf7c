"""The inventory: typed, frozen facts about one server, each with its evidence.

Everything later stages need (Dockerfiles, volumes, readiness rules, fleet
diffs) is settled here: stable service ids, versions in three forms, file
owners resolved through the server's own passwd, what changed from package
defaults, sizes, secrets as fingerprints only, and the evidence behind each
fact. `schema_version` is MAJOR.MINOR (see SCHEMA_VERSION).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# MAJOR.MINOR: adding an optional field bumps MINOR, and every reader accepts any
# MINOR of its MAJOR; retyping or removing a field bumps MAJOR.
SCHEMA_VERSION = "1.2"


# -- evidence ---------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """Why we say something. `kind` is one of:
    config (a line of a config file), file (a file's existence or metadata),
    symlink, package (a package database record), binary (an executable's header),
    runtime (observed on a live host), default (the software's documented default),
    unit (an init system's unit or script)."""

    kind: str
    path: str | None = None
    line: int | None = None
    excerpt: str | None = None  # never holds a secret: those lines are masked
    detail: str | None = None
    via: tuple[str, ...] = ()  # include chain that led to `path`, outermost first


@dataclass(frozen=True)
class Version:
    raw: str  # as the package manager or binary says: 1:10.11.6-0+deb12u1
    upstream: str  # 10.11.6
    series: str  # what a base-image tag needs: 10.11


# -- host -----------------------------------------------------------------------------
@dataclass(frozen=True)
class OSInfo:
    id: str | None = None
    name: str | None = None
    version_id: str | None = None
    pretty_name: str | None = None
    codename: str | None = None
    id_like: tuple[str, ...] = ()
    family: str | None = None  # debian, rhel, alpine, suse, arch
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Host:
    hostname: str | None = None
    arch: str | None = None
    os: OSInfo = field(default_factory=OSInfo)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Package:
    manager: str  # dpkg, rpm, apk, none (found outside any package manager)
    name: str
    version: Version
    arch: str | None = None
    source: str | None = None
    summary: str | None = None
    modified_conffiles: tuple[str, ...] = ()  # conffiles whose md5 differs from the package's
    missing_conffiles: tuple[str, ...] = ()
    location: str | None = None  # for software outside a package manager: where it lives
    evidence: tuple[Evidence, ...] = ()
    installed_size: int | None = None  # since 1.1: bytes on disk, as the package database says
    depends: tuple[str, ...] = ()  # since 1.1: names of the packages it needs (an alternative's first)
    # since 1.2: where it can be installed from again, as apt would say: "archive" (a list of the
    # distribution's archive has it), "third-party:<uri>" (only that source's list), "local" (no
    # configured source has it, or it was installed from a .deb file); None: cannot be told
    origin: str | None = None


@dataclass(frozen=True)
class PackageSource:
    """Where the package manager installs from (since 1.1): an apt line or deb822
    stanza, a yum/dnf repository, an apk repository."""

    manager: str  # apt, rpm, apk
    uri: str
    suite: str | None = None  # apt suite, rpm repo id
    components: tuple[str, ...] = ()
    official: bool = False  # the distribution's own archive
    enabled: bool = True
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str
    shell: str
    human: bool
    groups: tuple[str, ...] = ()
    locked: bool | None = None  # None: shadow not readable
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class SudoRule:
    subject: str  # user, %group or alias
    rule: str
    nopasswd: bool
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None  # None when the value is a secret
    secret: bool = False
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Secret:
    """A secret's name and where it is; the value is never stored. `fingerprint` is
    an HMAC keyed per installation, to tell that two places share one secret."""

    key: str
    path: str
    line: int | None
    kind: str  # password, token, key, private-key, credentials
    fingerprint: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class InitUnit:
    """One thing an init system starts: a systemd unit, a SysV script, a supervisord
    program, an OpenRC service or a pm2 app."""

    name: str
    system: str  # systemd, sysv, supervisord, openrc, pm2
    type: str  # service, socket, timer, target, program, script, app
    path: str
    enabled: bool | None  # None: cannot be told (static units, no install info)
    state: str  # enabled, disabled, static, masked, indirect, unknown
    description: str | None = None
    exec_start: tuple[tuple[str, ...], ...] = ()
    user: str | None = None
    group: str | None = None
    working_dir: str | None = None
    environment: tuple[EnvVar, ...] = ()  # Environment= and the EnvironmentFile= contents
    env_files: tuple[str, ...] = ()
    secrets: tuple[Secret, ...] = ()
    dropins: tuple[str, ...] = ()
    wanted_by: tuple[str, ...] = ()
    triggers: str | None = None  # a timer's or socket's service
    schedule: tuple[str, ...] = ()  # timer OnCalendar / OnBootSec ...
    listen: tuple[str, ...] = ()  # socket units' ListenStream= etc.
    aliases: tuple[str, ...] = ()  # other names of the same unit (Alias=, alias links)
    log_paths: tuple[str, ...] = ()  # where the init system sends its output, when a file
    package: str | None = None
    evidence: tuple[Evidence, ...] = ()
    # since 1.2: a systemd service's Type= (simple, exec, forking, oneshot, dbus, notify,
    # notify-reload, idle); None when the unit does not say (systemd's default is simple)
    service_type: str | None = None


@dataclass(frozen=True)
class CronJob:
    schedule: str  # five fields, @reboot, @daily, or a systemd OnCalendar
    user: str
    command: str
    source: str  # crontab, cron.d, user-crontab, periodic, systemd-timer, anacron
    path: str
    line: int | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    fstype: str
    options: tuple[str, ...]
    kind: str  # local, network, bind, swap, tmpfs, pseudo
    secrets: tuple[Secret, ...] = ()  # a credentials= file's entries (values never kept)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class HostSetting:
    """Host coupling a container cannot carry by itself: a kernel module to load, a
    sysctl, a hosts entry, a firewall rule set, the MAC (SELinux/AppArmor) state, a
    hardware device a service uses, a licence dongle's daemon, a huge-page reservation."""

    # kernel-module, sysctl, hosts-entry, firewall, selinux, apparmor; since 1.2: device
    # (a device node or udev rule), licence-dongle (its daemon), hugepages
    category: str
    name: str
    value: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class NetworkInterface:
    """A network interface the host's own configuration sets up (since 1.2): a bond,
    a VLAN, a bridge or a plain ethernet port, as ifupdown, netplan, NetworkManager,
    systemd-networkd or RHEL's ifcfg files declare it. Wi-Fi keys and other secrets
    are never kept."""

    name: str  # bond0, bond0.20, br0, eth0, or the connection's id when it names no device
    kind: str  # ethernet, bond, vlan, bridge, wifi, loopback, other
    source: str  # ifupdown, netplan, networkmanager, networkd, ifcfg
    members: tuple[str, ...] = ()  # a bond's slaves or a bridge's ports
    parent: str | None = None  # a VLAN's raw device, or the bond/bridge this one belongs to
    vlan_id: int | None = None
    mode: str | None = None  # a bond's mode (802.3ad, active-backup ...)
    method: str | None = None  # static, dhcp, manual, auto, disabled ...
    addresses: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


# -- services ------------------------------------------------------------------------
@dataclass(frozen=True)
class Port:
    port: int | None
    proto: str = "tcp"  # tcp, udp, unix
    address: str | None = None  # bind address; None = all addresses
    socket: str | None = None  # unix socket path
    source: str = "configured"  # configured, default, observed
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class FileRef:
    """A config file, data directory or log path, with its metadata resolved through
    the server's own /etc/passwd and /etc/group (for COPY --chown and USER)."""

    path: str
    role: str  # config, unit (how it is started), env, certs, data, uploads, logs, content, socket
    kind: str | None = None  # file, dir, missing
    owner: str | None = None
    group: str | None = None
    mode: str | None = None  # octal, e.g. "0640"
    size_bytes: int | None = None
    package: str | None = None  # the package that owns it, when known
    modified: bool | None = None  # differs from the package's conffile (None: not a conffile)
    evidence: tuple[Evidence, ...] = ()


def cite(evidence: Iterable[Evidence]) -> tuple[str, ...]:
    """Evidence as short references, each once: `path:line`, `path`, or `kind: detail`
    (a line that holds a secret is never quoted: only its place)."""
    out: list[str] = []
    for ev in evidence:
        if ev.path:
            ref = f"{ev.path}:{ev.line}" if ev.line else ev.path
        elif ev.detail:
            ref = f"{ev.kind}: {ev.detail}"
        else:
            continue
        if ref not in out:
            out.append(ref)
    return tuple(out)


def file_ref(path: str, role: str) -> FileRef:
    """A FileRef whose evidence is the file itself (found where it was looked for)."""
    return FileRef(path, role, evidence=(Evidence("file", path),))


@dataclass(frozen=True)
class StartMethod:
    system: str  # systemd, sysv, supervisord, openrc, pm2, cron, manual
    name: str
    enabled: bool | None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Program:
    """What a service's init unit runs (since 1.2), as its command line and the files say:
    the executable after the wrappers (env, sudo, nice ...), and when that is an
    interpreter, the script it runs. Set where no detector recognised the software."""

    path: str  # the executable the unit starts: /opt/acme/bin/acmed, /usr/bin/perl
    interpreter: str | None = None  # perl, sh, python3, java ...: the executable, or the script's #! line
    script: str | None = None  # the script or jar the interpreter runs (a module: `-m name`)
    kind: str | None = None  # elf, script (a #! file), jar, missing (not in the snapshot)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Dependency:
    source: str  # service id
    target: str | None  # service id on this host, None when external
    host: str | None
    port: int | None
    socket: str | None = None
    scheme: str | None = None  # postgresql, redis, http, jdbc:mysql, smtp ...
    via: str | None = None  # the setting that says so: DATABASE_URL, proxy_pass ...
    external: bool = False
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Library:
    """A library an app runs with, as installed (a venv's distribution, a locked
    npm package, a locked gem): what a rebuilt image must install, at this version."""

    ecosystem: str  # pypi, npm, gem, maven
    name: str
    version: str
    evidence: tuple[Evidence, ...] = ()
    # since 1.2: where it was installed from: registry (the package index), vcs (a git/hg/svn
    # repository), url (an archive at a URL or a local archive file), directory (a local
    # directory); None: not told
    source: str | None = None
    # since 1.2: for vcs/url/directory, what the package manager was given, credentials masked:
    # pip `git+https://host/repo@commit`, npm `git+ssh://host/repo#commit` or `file:vendor/x.tgz`,
    # bundler `https://host/repo.git@revision`
    url: str | None = None


@dataclass(frozen=True)
class VendoredBinaries:
    """Native code carried inside an app's own directories (since 1.2): ELF executables
    and shared objects among its files (outside its venv and node_modules), and prebuilt
    native addons (`.node`) in its node_modules. An image for another CPU or C library
    cannot run them; they are rebuilt or fetched for the target, not copied."""

    count: int  # ELF files among the app's own files (up to the search's bound)
    examples: tuple[str, ...] = ()  # the first few paths, sorted
    addons: int = 0  # native addons (*.node ELF files) in node_modules
    bounded: bool = False  # the search stopped at its bound: there may be more
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class IdentityStore:
    """Where a service checks its users' passwords (since 1.2): a dovecot passdb, Samba's
    passdb backend, an Apache auth provider, saslauthd's mechanism. `host_accounts`: the
    users are the host's own Unix accounts (PAM, /etc/shadow, NSS passwd), so they and
    their password hashes cannot move into a container with the service."""

    store: str  # pam, shadow, passwd, tdbsam, smbpasswd, passwd-file, sql, ldap, htpasswd, tomcat-users, ...
    host_accounts: bool
    via: str  # the setting that says so: passdb driver, passdb backend, AuthBasicProvider ...
    path: str | None = None  # the store's own file or config, when it names one
    evidence: tuple[Evidence, ...] = ()
    # since 1.2: the account names the store holds, when the file lists them (tomcat-users.xml,
    # an htpasswd file, RabbitMQ's definitions); never their passwords or hashes
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    id: str  # stable, from content: nginx, postgresql:15/main, app:/srv/intranet
    name: str
    kind: str  # web-server app worker database cache broker search mail dns file-share
    # scheduler remote-access logging monitoring other
    software: str
    version: Version | None = None
    instance: str | None = None
    plumbing: bool = False  # host plumbing (sshd, cron, syslog...): not part of an app
    classified: bool = True  # False: something runs here that no detector recognised
    enabled: bool | None = None
    started_by: tuple[StartMethod, ...] = ()
    user: str | None = None
    group: str | None = None
    command: tuple[str, ...] = ()
    working_dir: str | None = None
    program: Program | None = None  # since 1.2: what runs, for a service no detector recognised
    ports: tuple[Port, ...] = ()
    config_files: tuple[FileRef, ...] = ()
    data_dirs: tuple[FileRef, ...] = ()
    log_paths: tuple[FileRef, ...] = ()
    content_paths: tuple[FileRef, ...] = ()  # document roots, aliases, app code
    env: tuple[EnvVar, ...] = ()
    env_files: tuple[str, ...] = ()
    secrets: tuple[Secret, ...] = ()
    packages: tuple[str, ...] = ()
    runtime: str | None = None  # python3.11, node, java17, php8.2 ...
    framework: str | None = None  # flask, django, express, spring-boot, wordpress ...
    attributes: tuple[tuple[str, str], ...] = ()  # detector-specific extras, sorted
    app: str | None = None
    libraries: tuple[Library, ...] = ()  # since 1.1: what the app runs with, sorted by name
    vendored_binaries: VendoredBinaries | None = None  # since 1.2
    identity_stores: tuple[IdentityStore, ...] = ()  # since 1.2: where it checks users' passwords
    found_by: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    # since 1.2: the id of the service whose processes run this app's code (the web server
    # for mod_wsgi, Passenger, mod_php; php-fpm for a pool's app); None: it runs on its own
    hosted_by: str | None = None


@dataclass(frozen=True)
class SharedPath:
    """A directory one service writes and another reads: a shared volume to be."""

    path: str
    services: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class App:
    """Services that depend on each other (host plumbing left out)."""

    id: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class ConfigChange:
    """A file an image must carry: a conffile changed from its package's version,
    or a file under /etc that no package owns."""

    path: str
    status: str  # modified, unowned, missing
    package: str | None = None


@dataclass(frozen=True)
class Finding:
    level: str  # error, warning, info
    code: str
    message: str
    detector: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class SkippedPath:
    path: str
    reason: str  # too-large, special-file, denied, unparsable, unsafe-member, unreadable ...


@dataclass(frozen=True)
class Coverage:
    complete: bool
    detectors_run: tuple[str, ...]
    detectors_failed: tuple[str, ...]
    skipped: tuple[SkippedPath, ...] = ()
    unclassified: tuple[str, ...] = ()  # service ids nobody recognised


@dataclass(frozen=True)
class Inventory:
    schema_version: str
    tool_version: str
    source: dict[str, str]
    host: Host
    packages: tuple[Package, ...] = ()
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    sudoers: tuple[SudoRule, ...] = ()
    services: tuple[Service, ...] = ()
    units: tuple[InitUnit, ...] = ()
    cron_jobs: tuple[CronJob, ...] = ()
    mounts: tuple[Mount, ...] = ()
    host_settings: tuple[HostSetting, ...] = ()
    host_secrets: tuple[Secret, ...] = ()  # private keys and the like that no service claims
    config_changes: tuple[ConfigChange, ...] = ()
    package_sources: tuple[PackageSource, ...] = ()  # since 1.1
    network_interfaces: tuple[NetworkInterface, ...] = ()  # since 1.2
    dependencies: tuple[Dependency, ...] = ()
    shared_paths: tuple[SharedPath, ...] = ()
    apps: tuple[App, ...] = ()
    findings: tuple[Finding, ...] = ()
    coverage: Coverage = field(default_factory=lambda: Coverage(True, (), ()))
