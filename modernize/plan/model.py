"""The plan: every decision the generator makes, per service, as data a person edits.

`plan.yaml` is this model written out (empty fields left out). Each service's
`why` lists the decisions with their reason and the inventory evidence behind
them (`path:line`), so a user can see why `postgres:15-bookworm` was chosen and
change it. `API_VERSION` is MAJOR.MINOR like the inventory's schema_version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

API_VERSION = "modernize/1.0"
KIND = "Plan"
STRATEGIES = ("official", "distro", "lift", "skip")


@dataclass(frozen=True)
class Decision:
    """Why one field of a service's plan is what it is."""

    field: str  # strategy, image, command, port 5432, volume pgdata, env DATABASE_URL ...
    why: str
    evidence: tuple[str, ...] = ()  # "path:line" or "path" or "default: ..." from the inventory


@dataclass(frozen=True)
class PackagePin:
    """A distro package to install, and how narrowly it is pinned."""

    name: str
    version: str  # the exact version found on the server
    pin: str  # what apt is asked for: the exact version, or a glob such as 1.22.1-9+deb12u*


@dataclass(frozen=True)
class FileCopy:
    """A file or directory of the server that the image carries (COPY) or, when it
    holds a secret, that the container mounts at run time from OUT/secrets/."""

    source: str  # path on the server
    target: str  # path in the container
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    secret: bool = False  # never copied: mounted from secrets/<secret_name>, redacted .example beside it
    secret_name: str | None = None
    redact: tuple[int, ...] = ()  # lines of a secret file whose values its .example leaves out; 0: all of it
    redact_members: tuple[MemberRedaction, ...] = ()  # an archive's members that hold secrets
    exclude: tuple[str, ...] = ()  # for directories: names and globs left out of the build context
    rewrites: tuple[Rewrite, ...] = ()


@dataclass(frozen=True)
class MemberRedaction:
    """A file inside a copied archive (WAR, JAR, zip) that holds a secret: the image
    gets the archive repacked with these lines' values left out."""

    member: str
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class Rewrite:
    """A text replacement in a copied file or an environment value: a server that
    reached another on localhost now reaches its compose name."""

    old: str
    new: str
    why: str
    line: int | None = None  # only on this line of the file (1-based); None: everywhere
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """A symbolic link the image recreates (an enabled site, an alternative)."""

    path: str
    target: str


@dataclass(frozen=True)
class PortPlan:
    port: int
    proto: str = "tcp"
    publish: int | None = None  # host port in compose; None: reachable only by other services


@dataclass(frozen=True)
class VolumePlan:
    name: str  # compose volume name
    target: str  # path in the container
    server_path: str  # where the data is on the server
    role: str = "data"  # data, uploads, logs, content, shared
    size_bytes: int | None = None
    read_only: bool = False
    owner: str | None = None  # who must own it in the image (an empty volume takes that owner)


@dataclass(frozen=True)
class EnvPlan:
    """An environment variable. A secret's value is `${VARIABLE}` from .env."""

    name: str
    value: str
    secret: bool = False
    variables: tuple[str, ...] = ()  # the .env variables the value uses
    image: bool = False  # set in the image (ENV), not per deployment in compose.yaml


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]  # exec form, CMD first (CMD or CMD-SHELL)
    interval: str = "10s"
    timeout: str = "5s"
    retries: int = 5
    start_period: str = "10s"


@dataclass(frozen=True)
class Probe:
    """What a verifier requests and what a healthy answer is."""

    kind: str  # http, tcp, exec
    port: int | None = None
    path: str | None = None
    host: str | None = None  # Host header (a virtual host the server answered on)
    expect: str | None = None  # http: a status code or range (2xx); exec: exit 0
    command: tuple[str, ...] = ()
    why: str | None = None


@dataclass(frozen=True)
class Hardening:
    read_only: bool = False
    tmpfs: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    no_new_privileges: bool = False


@dataclass(frozen=True)
class Job:
    """A cron job or timer, run in a container of the service it belongs to."""

    schedule: str
    command: str
    user: str
    source: str  # path:line of the crontab, cron.d file or timer


@dataclass(frozen=True)
class ServicePlan:
    id: str  # the inventory's stable service id
    name: str  # compose name: directories, volumes and variables derive from it
    software: str
    kind: str
    strategy: str  # official, distro, lift, skip
    image: str | None = None  # the base image (FROM), pinned
    build_from: str | None = None  # another service's name whose image this one runs
    packages: tuple[PackagePin, ...] = ()
    libraries: tuple[str, ...] = ()  # pinned requirements (pypi: name==version)
    runtime: str | None = None  # python3.11, node18 ...
    files: tuple[FileCopy, ...] = ()
    links: tuple[Link, ...] = ()
    setup: tuple[str, ...] = ()  # shell lines run as root after the files are in place
    install: tuple[str, ...] = ()  # shell lines that fetch from package registries (proxy and CA available)
    user: str | None = None
    workdir: str | None = None
    command: tuple[str, ...] = ()
    ports: tuple[PortPlan, ...] = ()
    volumes: tuple[VolumePlan, ...] = ()
    env: tuple[EnvPlan, ...] = ()
    healthcheck: Healthcheck | None = None
    depends_on: tuple[str, ...] = ()  # compose names
    hardening: Hardening = field(default_factory=Hardening)
    probes: tuple[Probe, ...] = ()
    jobs: tuple[Job, ...] = ()
    logs_to_stdout: tuple[str, ...] = ()  # log files linked to /dev/stdout or /dev/stderr
    size_estimate_mb: int | None = None
    replacement: str | None = None  # skip: what replaces it in a container world
    profiles: tuple[str, ...] = ()  # compose profiles: a service disabled on the server starts only when asked
    why: tuple[Decision, ...] = ()
    # fields the user set in plan.yaml: re-planning keeps them whatever the inventory says
    user_fields: tuple[str, ...] = ()
    gone: bool = False  # no longer in the inventory; kept because plan.yaml still has it


@dataclass(frozen=True)
class Source:
    path: str  # the snapshot, as given (relative paths stay relative)
    inventory: str | None = None


@dataclass(frozen=True)
class HostInfo:
    hostname: str | None = None
    os: str | None = None  # debian 12 (bookworm)
    arch: str | None = None


@dataclass(frozen=True)
class LiftPlan:
    """The whole host as one image, built from a tarball of its root."""

    name: str
    services: tuple[str, ...]  # compose names of the services it carries
    excludes: tuple[str, ...]
    ports: tuple[PortPlan, ...] = ()
    volumes: tuple[VolumePlan, ...] = ()
    command: tuple[str, ...] = ()
    saved_bytes: int | None = None  # what the exclusions leave out


@dataclass(frozen=True)
class PlanFinding:
    level: str  # error, warning, info
    code: str
    message: str
    service: str | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    apiVersion: str  # noqa: N815 (the file's key, as Kubernetes-style files spell it)
    kind: str
    source: Source
    host: HostInfo
    services: tuple[ServicePlan, ...] = ()
    lift: LiftPlan | None = None
    unassigned_jobs: tuple[Job, ...] = ()  # jobs no service claims: listed, never dropped
    findings: tuple[PlanFinding, ...] = ()
