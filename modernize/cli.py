"""The `modernize` command line."""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modernize import __version__
from modernize.errors import ModernizeError, UserError
from modernize.launch import hold
from modernize.live import options as live_opts
from modernize.snapshot import DEFAULT_MAX_FILE_SIZE, SshSettings, open_snapshot

if TYPE_CHECKING:
    from modernize.capture import Captured
    from modernize.detector import Registry
    from modernize.fleet.targets import Target
    from modernize.snapshot.base import Snapshot

# The rest of modernize (detectors, model, merge, output) is imported inside the
# commands: a tarball scan starts inflating first and imports while it runs.

app = typer.Typer(
    help="Inventory legacy Linux servers and plan their move into containers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
detectors_app = typer.Typer(help="The detector plugins installed.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON Schemas of modernize's files.", no_args_is_help=True)
rules_app = typer.Typer(help="The readiness rules installed.", no_args_is_help=True)
app.add_typer(detectors_app, name="detectors")
app.add_typer(rules_app, name="rules")
app.add_typer(schema_app, name="schema")

EXIT_OK, EXIT_DETECTOR_ERRORS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_ANOTHER_ROUND = 10  # `collector --relay`: a round is to run on the host first


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modernize {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Point modernize at a server snapshot (a directory or a tarball of its root)."""


class Progress:
    """Bytes read of the total, with a rate and the time left; only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.lock = threading.Lock()  # bytes are counted on the inflating thread
        self.start = time.monotonic()
        self.last = 0.0
        self.detector = ""

    def bytes(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2 or not self.lock.acquire(blocking=False):
            return
        try:
            self._bytes(done, total, now)
        finally:
            self.lock.release()

    def _bytes(self, done: int, total: int, now: float) -> None:
        self.last = now
        rate = done / max(now - self.start, 1e-6)
        left = (total - done) / rate if rate > 0 else 0
        pct = 100 * done / total if total else 100
        sys.stderr.write(
            f"\rreading {done / 2**20:8.1f} / {total / 2**20:.1f} MiB  {pct:5.1f}%  "
            f"{rate / 2**20:6.1f} MiB/s  {left:5.0f} s left   "
        )
        sys.stderr.flush()

    def step(self, name: str) -> None:
        if self.enabled:
            with self.lock:
                sys.stderr.write(f"\r\033[Kdetector {name}")
                sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            with self.lock:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()


def _registry(only: list[str], skip: list[str]) -> Registry:
    from modernize.detector import Registry

    registry = Registry.from_entry_points().select(_commas(only), _commas(skip))
    for note in registry.notes():
        typer.echo(f"note: {note}", err=True)
    return registry


def _commas(values: list[str]) -> list[str]:
    """`--only a,b` is `--only a --only b`."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str | int) -> int:
    """`--max-file-size`: bytes, or with a suffix (`64M`, `512KiB`, `1g`); more than 0."""
    import re

    if isinstance(text, int):  # the default
        return text
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise typer.BadParameter(f"{text!r} is not a size (bytes, or with a suffix: 512K, 64M, 1G)")
    size = int(float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()])
    if size <= 0:
        raise typer.BadParameter(f"{text!r}: must be more than 0 bytes")
    return size


OnlyOpt = Annotated[
    list[str], typer.Option("--only", help="Run only these detectors (names or tags; repeat or separate by commas).")
]
SkipOpt = Annotated[
    list[str], typer.Option("--skip", help="Do not run these detectors (names or tags; repeat or separate by commas).")
]
MaxFileSizeOpt = Annotated[
    int,
    typer.Option(
        parser=parse_size,
        metavar="SIZE",
        help="Files larger than this (bytes, or 512K, 64M, 1G) are recorded as skipped, not read.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.")]


JobsOpt = Annotated[
    int, typer.Option("--jobs", "-j", min=1, max=256, help="Fleets: how many hosts to scan at once (1-256).")
]


@app.command("scan")
@live_opts.ssh_options
def scan_cmd(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="A directory holding a server's root, a tarball or capture bundle, ssh://[user@]host[:port]; "
            "several, @FILE (one a line) or an Ansible inventory file scan a fleet into the folder -o names.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the inventory ('-' for stdout; default inventory.json); "
            "for a fleet, the folder (default inventories).",
            show_default=False,
        ),
    ] = None,
    jobs: JobsOpt = 8,
    only: OnlyOpt = [],  # noqa: B006
    skip: SkipOpt = [],  # noqa: B006
    max_file_size: MaxFileSizeOpt = DEFAULT_MAX_FILE_SIZE,
    quiet: QuietOpt = False,
    ssh_args: live_opts.SshArgs = live_opts.NO_SSH_ARGS,
) -> None:
    """Scan a server snapshot (a directory, a tarball, or a live host: ssh://[user@]host[:port])
    and write its inventory (inventory.json); or a fleet of them, one inventory per host."""
    from modernize.fleet.targets import expand, is_fleet

    fleet = expand(sources) if is_fleet(sources) else None
    ssh = ssh_args.settings([t.source for t in fleet] if fleet else sources)
    if fleet is not None:
        scan_args = [*(f"--only={o}" for o in only), *(f"--skip={x}" for x in skip)]
        scan_args += [f"--max-file-size={max_file_size}", *live_opts.forwarded(ssh)]
        raise typer.Exit(_scan_fleet(fleet, "inventories" if output is None else output, jobs, scan_args, ssh, quiet))
    # A scan builds hundreds of thousands of objects that live until the process
    # ends (the index); the cyclic collector would rescan them again and again for
    # nothing (about 0.1 s on a real server). The command is one short process.
    gc.disable()
    try:
        _scan(sources[0], "inventory.json" if output is None else output, only, skip, max_file_size, quiet, ssh)
    finally:
        gc.enable()


def _scan_fleet(
    hosts: list[Target],
    output: str,
    jobs: int,
    scan_args: list[str],
    ssh: SshSettings,
    quiet: bool,
) -> int:
    """Scan every target into the folder OUTPUT; a failed host is reported, not fatal."""
    from modernize import outpath
    from modernize.fleet.run import SUMMARY, Display, scan_fleet, summary_json, summary_table

    out = outpath.folder(output, [t.source for t in hosts])
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if ssh.options.password:
        env[live_opts.PASSWORD_ENV] = ssh.options.password  # the children's environment, never argv
    display = Display(len(hosts), tty=sys.stderr.isatty(), quiet=quiet)
    jobs = min(jobs, len(hosts))
    results = scan_fleet(hosts, out, jobs=jobs, scan_args=scan_args, identity=ssh.identity, env=env, display=display)
    outpath.write_atomic(out / SUMMARY, summary_json(results))
    if not quiet:
        typer.echo(summary_table(results, out))
    for r in results:
        if r.status == "failed" and quiet:
            typer.echo(f"error: {r.name}: {r.error}", err=True)
    return EXIT_DETECTOR_ERRORS if any(r.status != "ok" for r in results) else EXIT_OK


def _scan(
    source: str,
    output: str,
    only: list[str],
    skip: list[str],
    max_file_size: int,
    quiet: bool,
    ssh: SshSettings | None = None,
) -> None:
    from modernize import outpath

    target = outpath.single_file(output, "inventory.json", [source])  # before a long scan, not after
    interactive = sys.stderr.isatty() and not quiet
    progress = Progress(interactive)
    snap = open_snapshot(source, max_file_size=max_file_size, progress=progress.bytes, ssh=ssh)
    try:
        snap.begin()  # a tarball inflates while the plugins load
        registry = _registry(only, skip)
        from modernize.scan import scan

        result = scan(snap, registry, on_detector=progress.step)
        _require_os(result.inventory, source, snap)
    finally:
        progress.done()
        snap.close()
    from modernize.serialize import dumps
    from modernize.summary import summary

    inv = result.inventory
    data = dumps(inv).encode("utf-8")
    if target is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
    else:
        outpath.write_atomic(target, data)
    if not quiet and target is not None:
        typer.echo(summary(inv))
        typer.echo(f"inventory written to {target}")
    _warn(inv)
    for err in snap.errors:
        typer.echo(f"error: {err}", err=True)
    hold(snap, result)
    if result.failed or not snap.complete:
        raise typer.Exit(EXIT_DETECTOR_ERRORS)


def _require_os(inv: object, source: str, snap: object) -> None:
    """A source with no operating system in it is the wrong source (an empty folder, the
    parent of a root filesystem): say where a root probably is, and write nothing."""
    from modernize.model import Inventory
    from modernize.rootfs import no_os_message
    from modernize.snapshot.base import Snapshot

    assert isinstance(inv, Inventory) and isinstance(snap, Snapshot)
    message = no_os_message(inv, source, snap)
    if message:
        raise UserError(message)


def _warn(inv: object) -> None:
    """The scan's warnings that concern how it ran, not the server (the inventory records them too)."""
    from modernize.model import Inventory
    from modernize.rootfs import RUN_WARNINGS

    assert isinstance(inv, Inventory)
    for f in inv.findings:
        if f.code in RUN_WARNINGS:
            typer.echo(f"warning: {f.message}", err=True)


@app.command("capture")
@live_opts.ssh_options
def capture_cmd(
    source: Annotated[
        str, typer.Argument(help="A directory holding a server's root, a tarball, or ssh://[user@]host.")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="The bundle to write (.tar.zst; '-' for stdout).")
    ] = "capture.tar.zst",
    only: OnlyOpt = [],  # noqa: B006
    skip: SkipOpt = [],  # noqa: B006
    max_file_size: MaxFileSizeOpt = DEFAULT_MAX_FILE_SIZE,
    quiet: QuietOpt = False,
    ssh_args: live_opts.SshArgs = live_opts.NO_SSH_ARGS,
) -> None:
    """Scan a source and save what the scan read (with a live host's runtime facts) and what
    a plan would copy in one bundle: `modernize scan BUNDLE` and `run BUNDLE` then work offline.
    The bundle holds the server's files as they are, secrets included."""
    from modernize import outpath
    from modernize.capture import capture, to_file

    ssh = ssh_args.settings([source])
    target = outpath.single_file(output, "capture.tar.zst", [source])  # before a long scan, not after
    if target is None and sys.stdout.isatty():
        raise UserError("-o -: the bundle is binary; redirect standard output to a file or a pipe")
    progress = Progress(sys.stderr.isatty() and not quiet)
    gc.disable()  # as in scan: the index lives until the process ends
    snap = open_snapshot(source, max_file_size=max_file_size, progress=progress.bytes, ssh=ssh)
    try:
        snap.begin()
        registry = _registry(only, skip)

        def to_stdout(body: object) -> None:
            assert callable(body)
            sys.stdout.flush()
            body(sys.stdout.buffer)

        got = capture(
            snap,
            registry,
            to_file(target) if target is not None else to_stdout,
            on_detector=progress.step,
            check=lambda inv: _require_os(inv, source, snap),
        )
    finally:
        progress.done()
        snap.close()
        gc.enable()
    if not quiet:
        where = target if target is not None else "standard output"
        typer.echo(
            f"captured {got.result.inventory.host.hostname or source}: {got.files} files read whole, "
            f"{got.pieces} pieces of large files ({got.bytes_kept / 2**20:.1f} MiB), "
            f"metadata of {got.entries} entries, into {where}"
        )
        typer.echo(
            "the bundle holds the server's files as they are, secret values included: "
            "keep it as the customer's data (`modernize scan` and `run` read it offline)"
        )
    _captured_problems(got, snap)


def _captured_problems(got: Captured, snap: Snapshot) -> None:
    """After a capture: its warnings and errors, and exit 1 when anything went wrong."""
    _warn(got.result.inventory)
    for err in snap.errors:
        typer.echo(f"error: {err}", err=True)
    if got.result.failed or not snap.complete or got.errors:
        raise typer.Exit(EXIT_DETECTOR_ERRORS)


@app.command("collector")
def collector_cmd(
    relay: Annotated[
        str | None,
        typer.Option(
            "--relay",
            help="A folder of rounds run by a relay (an Ansible playbook): replay them, then write the "
            "next round's script (exit 10) or, when none is missing, the bundle (-o).",
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="With --relay: the bundle to write (.tar.zst).")
    ] = "capture.tar.zst",
    name: Annotated[str | None, typer.Option("--name", help="With --relay: the host's name, for messages.")] = None,
    max_file_size: MaxFileSizeOpt = DEFAULT_MAX_FILE_SIZE,
    quiet: QuietOpt = False,
) -> None:
    """Print the collector script the SSH source runs on a host (POSIX sh, reads only):
    `sh -s < collect.sh` prints the runtime facts and the file listing. With --relay, take
    a collection round by round through someone else's channel (docs/ansible/)."""
    if relay is None:
        from modernize.live.collector import survey_script

        sys.stdout.buffer.write(survey_script())
        return
    from modernize import outpath
    from modernize.capture import capture, to_file
    from modernize.snapshot.relay import NeedRound, RelaySnapshot

    target = outpath.single_file(output, "capture.tar.zst", [relay])
    if target is None:
        raise UserError("--relay writes its bundle to a file: give -o FILE")
    snap = RelaySnapshot(relay, name=name or "", max_file_size=max_file_size)
    label = name or Path(relay).name
    try:
        got = capture(
            snap, _registry([], []), to_file(target), check=lambda inv: _require_os(inv, f"relay {label}", snap)
        )
    except NeedRound as more:
        typer.echo(f"{label}: round {more.number}: run {more.script} on the host; save what it prints as {more.output}")
        raise typer.Exit(EXIT_ANOTHER_ROUND) from None
    finally:
        snap.close()
    if not quiet:
        typer.echo(
            f"captured {got.result.inventory.host.hostname or label} in {snap.round_trips} rounds: "
            f"{got.files} files read whole, metadata of {got.entries} entries, into {target}"
        )
    _captured_problems(got, snap)


@detectors_app.command("list")
def detectors_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the installed detectors: name, tags, what they read, and where they come from."""
    reg = _registry([], [])
    for err in reg.load_errors:
        typer.echo(f"warning: {err}", err=True)
    rows = [
        {
            "name": r.name,
            "tags": list(r.detector.tags),
            "origin": r.origin,
            "requires": list(r.detector.requires),
            "reads": [d.describe() for d in r.detector.reads],
        }
        for r in reg
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['name']}  [{', '.join(row['tags'])}]  ({row['origin']})")
        for glob in row["reads"]:
            typer.echo(f"    {glob}")


StrategyOpt = Annotated[
    str | None,
    typer.Option("--strategy", help="official, distro or lift for every service (plumbing stays skipped)."),
]
ImagesOpt = Annotated[list[str], typer.Option("--images", help="A YAML file of extra or overriding image-map entries.")]
ImageMapOpt = Annotated[
    list[str], typer.Option("--image-map", help="FROM=TO: rewrite base images (a registry mirror, a local image).")
]
ServicesOpt = Annotated[list[str], typer.Option("--services", help="Plan only these services (ids or names).")]
SkipServicesOpt = Annotated[list[str], typer.Option("--skip-services", help="Leave these services out.")]
TemplatesOpt = Annotated[str | None, typer.Option("--templates", help="Templates overriding the built-in ones.")]


def _report(result: object, quiet: bool = False) -> int:
    from modernize.pipeline import StageResult

    assert isinstance(result, StageResult)
    for note in result.notes if not quiet else ():
        typer.echo(note)
    for problem in result.problems:
        typer.echo(f"warning: {problem}", err=True)
    return EXIT_DETECTOR_ERRORS if result.problems else EXIT_OK


def _grades(report: dict[str, object]) -> str:
    """The terminal's view of the readiness grades: one line per app."""
    lines = ["  readiness"]
    for host in report["hosts"]:  # type: ignore[attr-defined]
        lines.append(
            f"    {host['hostname']}: {host['grade']} ({host['score']}), about {host['effort_hours']} h of work"
        )
        for a in host["apps"]:
            lines.append(f"      {a['grade']} {a['score']:>3}  {a['id']}  ({', '.join(a['services'])})")
    return "\n".join(lines)


@app.command("plan")
def plan_cmd(
    inventory: Annotated[str, typer.Argument(help="inventory.json written by `modernize scan`.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Where to write the plan ('-' for stdout).")
    ] = "plan.yaml",
    strategy: StrategyOpt = None,
    images: ImagesOpt = [],  # noqa: B006
    image_map: ImageMapOpt = [],  # noqa: B006
    services: ServicesOpt = [],  # noqa: B006
    skip_services: SkipServicesOpt = [],  # noqa: B006
    source: Annotated[
        str | None, typer.Option("--source", help="The snapshot generate reads files from (default: the scanned one).")
    ] = None,
) -> None:
    """Decide how each service moves into a container and write plan.yaml."""
    from modernize import outpath
    from modernize.pipeline import load_plan_file, make_plan, read_inventory, write_plan
    from modernize.plan.io import dump_plan

    inv = read_inventory(inventory)
    target = outpath.single_file(output, "plan.yaml", [inventory, source or inv.source.get("location")])
    out = target or Path("plan.yaml")
    previous = load_plan_file(out) if target is not None and out.exists() else None
    plan = make_plan(
        inv,
        strategy=strategy,
        images=images,
        image_map=image_map,
        services=services,
        skip_services=skip_services,
        source=source or inv.source.get("location", ""),
        inventory_path=inventory,
        previous=previous,
    )
    if output == "-":
        sys.stdout.write(dump_plan(plan))
        return
    code = _report(write_plan(plan, out, None, "plan"))
    typer.echo(f"plan written to {out}" if code == EXIT_OK else f"plan kept: {out}; fresh plan in {out}.new")
    raise typer.Exit(code)


@app.command("generate")
@live_opts.ssh_options
def generate_cmd(
    plan_file: Annotated[str, typer.Argument(help="plan.yaml written by `modernize plan` (and edited by you).")],
    output: Annotated[str, typer.Option("--output", "-o", help="The output folder.")] = "out",
    source: Annotated[
        str | None, typer.Option("--source", help="Read the server's files from here instead of the plan's source.")
    ] = None,
    templates: TemplatesOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing: print what would change as a diff; exit 1 if anything would")
    ] = False,
    ssh_args: live_opts.SshArgs = live_opts.NO_SSH_ARGS,
) -> None:
    """Write Dockerfiles, compose.yaml, .env.example, MIGRATION.md and smoke.sh from a plan.
    A plan made from a live host (ssh://, local) reads its files from the host again."""
    from modernize import outpath
    from modernize.pipeline import generate, load_plan_file, open_source

    plan = load_plan_file(Path(plan_file))
    out = outpath.folder(output, [plan_file, source or plan.source.path])
    ssh = ssh_args.settings([source or plan.source.path or ""])
    snap = open_source(plan, source, ssh)
    try:
        from modernize.generate.collect import declarations

        snap.prefetch(declarations(plan))
        result = generate(plan, snap, out, command="generate", templates=templates, dry_run=check)
    finally:
        snap.close()
    for diff in result.diffs:
        sys.stdout.write(diff)
    raise typer.Exit(_report(result))


EngineOpt = Annotated[
    str | None, typer.Option("--engine", help="docker, podman or buildah (builds only); default: the first that works.")
]
CaCertOpt = Annotated[
    str | None, typer.Option("--ca-cert", help="A PEM bundle builds must trust (a TLS-intercepting proxy).")
]


@app.command("run")
@live_opts.ssh_options
def run_cmd(
    source: Annotated[
        str, typer.Argument(help="A directory holding a server's root, a tarball or capture bundle, or ssh://host.")
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="The output folder.")] = "out",
    only: OnlyOpt = [],  # noqa: B006
    skip: SkipOpt = [],  # noqa: B006
    strategy: StrategyOpt = None,
    images: ImagesOpt = [],  # noqa: B006
    image_map: ImageMapOpt = [],  # noqa: B006
    services: ServicesOpt = [],  # noqa: B006
    skip_services: SkipServicesOpt = [],  # noqa: B006
    templates: TemplatesOpt = None,
    max_file_size: MaxFileSizeOpt = DEFAULT_MAX_FILE_SIZE,
    quiet: QuietOpt = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Then build, start and probe what was generated (`modernize verify`).")
    ] = False,
    engine: EngineOpt = None,
    ca_cert: CaCertOpt = None,
    ssh_args: live_opts.SshArgs = live_opts.NO_SSH_ARGS,
) -> None:
    """Scan, plan and generate in one go: OUT/inventory.json, OUT/plan.yaml and the generated files."""
    ssh = ssh_args.settings([source])
    gc.disable()  # as in scan: the index lives until the process ends
    code = EXIT_OK
    try:
        _run(
            source,
            output,
            only,
            skip,
            strategy,
            images,
            image_map,
            services,
            skip_services,
            templates,
            max_file_size,
            quiet,
            ssh,
        )
    except typer.Exit as done:  # warnings: the output is there, verify it all the same
        if not verify or done.exit_code != EXIT_DETECTOR_ERRORS:
            raise
        code = done.exit_code
    finally:
        gc.enable()
    if verify:
        from modernize.verify import run_verify

        ok = run_verify(Path(output), engine=engine, image_map=image_map, ca_cert=ca_cert,
                        echo=(lambda s: None) if quiet else typer.echo)  # fmt: skip
        raise typer.Exit(code if ok else EXIT_DETECTOR_ERRORS)


def _run(
    source: str,
    output: str,
    only: list[str],
    skip: list[str],
    strategy: str | None,
    images: list[str],
    image_map: list[str],
    services: list[str],
    skip_services: list[str],
    templates: str | None,
    max_file_size: int,
    quiet: bool,
    ssh: SshSettings | None = None,
) -> None:
    from modernize import outpath
    from modernize.generate.writer import OutputWriter
    from modernize.pipeline import generate, load_plan_file, make_plan, user_edited, write_plan

    out = outpath.folder(output, [source])  # before a long scan, not after
    if templates is not None and not Path(templates).is_dir():
        raise UserError(f"--templates {templates}: not a directory")  # before anything is written
    if strategy not in (None, "official", "distro", "lift"):
        raise UserError(f"--strategy {strategy!r}: choose official, distro or lift")
    from modernize import settings

    team = settings.load(None, out)  # OUT's modernize.toml, else the current directory's
    images, image_map = images or team.image_files, image_map or team.image_map
    interactive = sys.stderr.isatty() and not quiet
    progress = Progress(interactive)
    snap = open_snapshot(source, max_file_size=max_file_size, progress=progress.bytes, ssh=ssh)
    try:
        snap.begin()
        registry = _registry(only, skip)
        from modernize.scan import scan

        result = scan(snap, registry, on_detector=progress.step)
        progress.done()
        _require_os(result.inventory, source, snap)
        from modernize.serialize import dumps

        inv = result.inventory
        problems = 0
        inv_res = OutputWriter(out, "run").write({"inventory.json": dumps(inv).encode("utf-8")})
        for rel in inv_res.beside:
            typer.echo(f"warning: {out / rel} is not modernize's: wrote {rel}.new beside it", err=True)
            problems += 1
        plan_path = out / "plan.yaml"
        kept = user_edited(plan_path, out)
        previous = load_plan_file(plan_path) if plan_path.exists() else None
        fresh = make_plan(
            inv,
            strategy=strategy,
            images=images,
            image_map=image_map,
            services=services,
            skip_services=skip_services,
            source=source,
            inventory_path="inventory.json",
            previous=previous,
        )
        problems += _report(write_plan(fresh, plan_path, out, "run"), quiet)
        plan = load_plan_file(plan_path) if kept else fresh
        gen = generate(plan, snap, out, command="run", templates=templates, check=kept)
        problems += _report(gen, quiet)
        from modernize.pipeline import make_report, write_report

        report = make_report(
            [(source, inv)], rules=[], skip_rules=[], as_of=None, plans={plan.host.hostname or "": plan}
        )
        problems += _report(write_report(report, out / "report", "run", templates), quiet)
    finally:
        progress.done()
        snap.close()
    if not quiet:
        from modernize.summary import summary

        typer.echo(summary(inv))
        typer.echo(_grades(report))
        typer.echo(f"inventory, plan, generated files and readiness report in {out}")
    _warn(inv)
    for err in snap.errors:
        typer.echo(f"error: {err}", err=True)
    hold(snap, result)
    if problems or result.failed or not snap.complete:
        raise typer.Exit(EXIT_DETECTOR_ERRORS)


ConfigOpt = Annotated[
    str | None, typer.Option("--config", help="A modernize.toml (default: OUT's, else the current directory's).")
]
RulesOpt = Annotated[list[str], typer.Option("--rules", help="Run only these rules (ids or categories).")]
SkipRulesOpt = Annotated[list[str], typer.Option("--skip-rules", help="Do not run these rules (ids or categories).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="The date end-of-life rules judge by (YYYY-MM-DD; default today).")
]


@app.command("report")
def report_cmd(
    inventories: Annotated[list[str], typer.Argument(help="inventory.json files: one host or a whole fleet.")],
    output: Annotated[str, typer.Option("--output", "-o", help="The report folder.")] = "report",
    plan_file: Annotated[
        str | None, typer.Option("--plan", help="plan.yaml of a single host: rules that read the plan run too.")
    ] = None,
    rules: RulesOpt = [],  # noqa: B006
    skip_rules: SkipRulesOpt = [],  # noqa: B006
    as_of: AsOfOpt = None,
    templates: TemplatesOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Grade how ready each service, app and host is for containers: report.html, .md, .json and CSVs."""
    from modernize import outpath, settings
    from modernize.pipeline import load_plan_file, make_report, read_inventory, write_report

    out = outpath.folder(output, [*inventories, plan_file])
    rules, skip_rules = settings.load(config, out).rules(rules, skip_rules)

    loaded = [(path, read_inventory(path)) for path in _fleet_inventories(inventories)]
    outpath.folder(output, [inv.source.get("location") for _, inv in loaded])  # nor into a scanned server
    plans = {}
    if plan_file:
        plan = load_plan_file(Path(plan_file))
        plans[plan.host.hostname or ""] = plan
    report = make_report(loaded, rules=rules, skip_rules=skip_rules, as_of=as_of, plans=plans)
    raise typer.Exit(_report(write_report(report, out, "report", templates)))


def _fleet_inventories(paths: list[str]) -> list[str]:
    """PATHS with each fleet summary (fleet.json) replaced by the inventories it lists, each once:
    `report OUT/fleet.json` and `report OUT/*.json` report the same hosts."""
    from modernize.fleet.run import inventories_of

    def read(path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")[: 16 << 20]
        except OSError:
            return ""  # read_inventory says what is wrong with it

    out: dict[str, str] = {}
    for path in paths:
        listed = inventories_of(path, read) if path.endswith(".json") else None
        for p in listed if listed is not None else [path]:
            out.setdefault(os.path.realpath(p), p)
    if not out:
        raise UserError("no inventories to report on (the fleet summary lists none that were written)")
    return list(out.values())


@rules_app.command("list")
def rules_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="The catalogue as Markdown (docs/rules.md).")] = False,
) -> None:
    """List the readiness rules: id, severity, category, title, effort."""
    from modernize.readiness.rule import RuleSet

    rules = RuleSet.installed()
    if markdown:
        from modernize.readiness.catalogue import markdown as catalogue

        sys.stdout.write(catalogue(rules))
        return
    if as_json:
        typer.echo(json.dumps([r.record() for r in rules], indent=2))
        return
    for r in rules:
        typer.echo(f"{r.id}  {r.severity:<7}  {r.category:<19}  {r.effort_hours:>4}h  {r.title}")


@schema_app.command("report")
def schema_report() -> None:
    """Print the JSON Schema of report.json."""
    from modernize.report.schema import report_schema

    typer.echo(json.dumps(report_schema(), indent=2))


@schema_app.command("plan")
def schema_plan() -> None:
    """Print the JSON Schema of plan.yaml."""
    from modernize.plan.io import plan_schema

    typer.echo(json.dumps(plan_schema(), indent=2))


@schema_app.command("inventory")
def schema_inventory() -> None:
    """Print the JSON Schema of inventory.json."""
    from modernize.serialize import inventory_schema

    typer.echo(json.dumps(inventory_schema(), indent=2))


@app.command("verify")
def verify_cmd(
    output: Annotated[str, typer.Argument(help="The folder `modernize generate` or `run` wrote.")],
    engine: EngineOpt = None,
    image_map: ImageMapOpt = [],  # noqa: B006
    ca_cert: CaCertOpt = None,
    keep: Annotated[bool, typer.Option("--keep", help="Leave the containers, volumes and images for a look.")] = False,
    suggest: Annotated[
        bool, typer.Option("--suggest", help="Write OUT/verify/plan.suggested.yaml with volumes for what was written.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each service gets to become healthy.")] = 120,
    quiet: QuietOpt = False,
) -> None:
    """Build and start what was generated, probe every service, check where each container
    writes and that its data survives the container being replaced. Writes only OUT/verify/."""
    from modernize import settings
    from modernize.verify import run_verify

    out = Path(output)
    if timeout <= 0:
        raise UserError("--timeout must be more than 0 seconds")
    image_map = image_map or settings.load(None, out).image_map
    ok = run_verify(
        out,
        engine=engine,
        keep=keep,
        suggest=suggest,
        image_map=image_map,
        ca_cert=ca_cert,
        timeout=timeout,
        echo=(lambda s: None) if quiet else typer.echo,
    )
    raise typer.Exit(EXIT_OK if ok else EXIT_DETECTOR_ERRORS)


@app.command("diff")
def diff_cmd(
    old: Annotated[str, typer.Argument(help="The earlier inventory.json (or plan.yaml).")],
    new: Annotated[str, typer.Argument(help="The later one, of the same kind.")],
    as_json: Annotated[bool, typer.Option("--json", help="The differences as JSON.")] = False,
) -> None:
    """What changed between two scans of a host (services, ports, versions, packages, config
    files, users, cron jobs, dependencies), or between two plans. Exit 0: the same; 1: different."""
    from modernize.diff import as_text, diff_inventories, diff_plans, is_empty
    from modernize.pipeline import load_plan_file, read_inventory

    def kind(path: str) -> str:
        try:
            head = Path(path).read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror}") from None
        return "inventory" if head.lstrip().startswith("{") else "plan"

    kinds = kind(old), kind(new)
    if kinds[0] != kinds[1]:
        raise UserError(f"{old} is a {kinds[0]} and {new} a {kinds[1]}: compare two of a kind")
    if kinds[0] == "inventory":
        result = diff_inventories(read_inventory(old), read_inventory(new))
    else:
        result = diff_plans(load_plan_file(Path(old)), load_plan_file(Path(new)))
    typer.echo(json.dumps(result, indent=2, sort_keys=True) if as_json else as_text(result).rstrip("\n"))
    raise typer.Exit(EXIT_OK if is_empty(result) else EXIT_DETECTOR_ERRORS)


def main() -> None:
    try:
        # without standalone mode, click hands back typer.Exit's code instead of exiting
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else EXIT_OK)
    except ModernizeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT if isinstance(exc, UserError) else EXIT_INTERNAL)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # click's usage errors (typer vendors click in newer releases)
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):
            show()
            sys.exit(EXIT_BAD_INPUT)
        if os.environ.get("MODERNIZE_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (set MODERNIZE_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_INTERNAL)
