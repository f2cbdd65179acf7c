"""What detectors report, before the merge step joins it into an inventory.

Detectors add facts to a `Found`. Host facts (packages, users, units ...) go in
as inventory records. A service is reported as `ServiceFacts`, a partial view
keyed by software and instance; several detectors may describe one service (the
nginx config detector, the systemd unit, the dpkg record) and `merge.py` joins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modernize.model import (
    ConfigChange,
    CronJob,
    EnvVar,
    Evidence,
    FileRef,
    Finding,
    Group,
    HostSetting,
    IdentityStore,
    InitUnit,
    Library,
    Mount,
    NetworkInterface,
    OSInfo,
    Package,
    PackageSource,
    Port,
    Program,
    Secret,
    StartMethod,
    SudoRule,
    User,
    VendoredBinaries,
    Version,
)


@dataclass
class Endpoint:
    """Something a service talks to, as its config says: a URL, host:port or socket."""

    via: str  # the setting: DATABASE_URL, proxy_pass, DB_HOST ...
    host: str | None
    port: int | None
    scheme: str | None = None
    socket: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass
class Listener:
    """A socket a live host was seen listening on (from /.modernize/runtime/)."""

    proto: str  # tcp, udp, unix
    address: str | None
    port: int | None
    path: str | None  # unix socket
    pid: int | None
    exe: str | None
    cmdline: tuple[str, ...]
    user: str | None
    unit: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass
class ServiceFacts:
    software: str
    kind: str
    instance: str | None = None
    name: str | None = None
    version: Version | None = None
    plumbing: bool = False
    ports: list[Port] = field(default_factory=list)
    config_files: list[FileRef] = field(default_factory=list)
    data_dirs: list[FileRef] = field(default_factory=list)
    log_paths: list[FileRef] = field(default_factory=list)
    content_paths: list[FileRef] = field(default_factory=list)
    env: list[EnvVar] = field(default_factory=list)
    env_files: list[str] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)  # package names that may provide it
    binaries: list[str] = field(default_factory=list)  # executables that run it
    units: list[str] = field(default_factory=list)  # init unit names that start it
    started_by: list[StartMethod] = field(default_factory=list)
    enabled: bool | None = None
    user: str | None = None
    group: str | None = None
    command: tuple[str, ...] = ()
    working_dir: str | None = None
    program: Program | None = None
    runtime: str | None = None
    framework: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    libraries: list[Library] = field(default_factory=list)
    vendored_binaries: VendoredBinaries | None = None
    identity_stores: list[IdentityStore] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    found_by: str = ""
    hosted_by: str | None = None  # the id of the service that runs this app's code (apache2, php-fpm:8.2)

    @property
    def key(self) -> tuple[str, str]:
        return (self.software, self.instance or "")


@dataclass
class DaemonFacts(ServiceFacts):
    """What runs behind one init unit, read from its command line and the config files it
    names (the `daemons` detector): the program, ports, endpoints, config files. Merge gives
    them to that unit's service only where no detector recognised the software (an
    unclassified service, or a bare native binary): one that did knows better."""

    unit_system: str = ""
    unit_name: str = ""


@dataclass
class HostFacts:
    os: OSInfo | None = None
    hostname: str | None = None
    hostname_evidence: tuple[Evidence, ...] = ()
    arch: str | None = None
    arch_evidence: tuple[Evidence, ...] = ()


Fact = (
    Package
    | User
    | Group
    | SudoRule
    | InitUnit
    | CronJob
    | Mount
    | HostSetting
    | ServiceFacts
    | Finding
    | OSInfo
    | ConfigChange
    | PackageSource
    | NetworkInterface
    | Listener
    | Secret
)


class Found:
    """The facts found so far. A detector sees what the detectors it `requires`
    found, and adds its own; the scanner commits them only if it finishes."""

    def __init__(self) -> None:
        self.host = HostFacts()
        self.packages: list[Package] = []
        self.users: list[User] = []
        self.groups: list[Group] = []
        self.sudoers: list[SudoRule] = []
        self.units: list[InitUnit] = []
        self.cron_jobs: list[CronJob] = []
        self.mounts: list[Mount] = []
        self.host_settings: list[HostSetting] = []
        self.services: list[ServiceFacts] = []
        self.findings: list[Finding] = []
        self.config_changes: list[ConfigChange] = []
        self.package_sources: list[PackageSource] = []
        self.network_interfaces: list[NetworkInterface] = []
        self.listeners: list[Listener] = []
        self.secrets: list[Secret] = []  # found on the host; merge gives them to the services using them
        # path -> package, for conffiles and package-owned files under /etc
        self.owners: dict[str, str] = {}
        self.detector = ""

    def add(self, *facts: Fact) -> None:
        for fact in facts:
            if isinstance(fact, ServiceFacts):
                if not fact.found_by:
                    fact.found_by = self.detector
                self.services.append(fact)
            elif isinstance(fact, Package):
                self.packages.append(fact)
            elif isinstance(fact, PackageSource):
                self.package_sources.append(fact)
            elif isinstance(fact, NetworkInterface):
                self.network_interfaces.append(fact)
            elif isinstance(fact, User):
                self.users.append(fact)
            elif isinstance(fact, Group):
                self.groups.append(fact)
            elif isinstance(fact, SudoRule):
                self.sudoers.append(fact)
            elif isinstance(fact, InitUnit):
                self.units.append(fact)
            elif isinstance(fact, CronJob):
                self.cron_jobs.append(fact)
            elif isinstance(fact, Mount):
                self.mounts.append(fact)
            elif isinstance(fact, HostSetting):
                self.host_settings.append(fact)
            elif isinstance(fact, Secret):
                self.secrets.append(fact)
            elif isinstance(fact, Listener):
                self.listeners.append(fact)
            elif isinstance(fact, ConfigChange):
                self.config_changes.append(fact)
            elif isinstance(fact, Finding):
                self.findings.append(fact)
            elif isinstance(fact, OSInfo):
                self.host.os = fact
            else:  # pragma: no cover - a typing error in a plugin
                raise TypeError(f"not a fact: {fact!r}")

    def finding(self, level: str, code: str, message: str, path: str | None = None) -> None:
        self.findings.append(Finding(level, code, message, self.detector or None, path))

    def unparsable(self, path: str, why: str) -> None:
        self.finding("warning", "unparsable", f"{path}: {why}", path)

    # -- look-ups detectors use -------------------------------------------------------
    def package(self, *names: str) -> Package | None:
        want = set(names)
        for pkg in self.packages:
            if pkg.name in want:
                return pkg
        return None

    def user(self, name: str) -> User | None:
        return next((u for u in self.users if u.name == name), None)

    _LISTS = (
        "packages",
        "users",
        "groups",
        "sudoers",
        "units",
        "cron_jobs",
        "mounts",
        "host_settings",
        "services",
        "findings",
        "config_changes",
        "package_sources",
        "network_interfaces",
        "listeners",
        "secrets",
    )

    def child(self, detector: str) -> Found:
        """A scratch copy for one detector: it sees everything found so far, and what
        it adds reaches this collector only through `commit` (a detector that must
        wait for more files, or fails, leaves nothing half done)."""
        scratch = Found()
        scratch.detector = detector
        scratch.host = HostFacts(**vars(self.host))
        scratch.owners = self.owners  # filled by the package detectors, read by others
        for name in self._LISTS:
            setattr(scratch, name, list(getattr(self, name)))
        return scratch

    def commit(self, scratch: Found) -> None:
        for name in self._LISTS:
            mine = getattr(self, name)
            mine.extend(getattr(scratch, name)[len(mine) :])
        self.host = scratch.host
