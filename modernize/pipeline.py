"""The stages behind `plan`, `generate` and `run`: each reads and writes plain files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modernize.errors import UserError
from modernize.generate.writer import OutputWriter, WriteResult
from modernize.model import Inventory
from modernize.plan.model import Plan
from modernize.snapshot import SshSettings, is_live, open_snapshot
from modernize.snapshot.base import Snapshot


@dataclass
class StageResult:
    problems: list[str] = field(default_factory=list)  # recorded problems: exit 1
    notes: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)  # generate --check: what would change


def make_plan(
    inventory: Inventory,
    *,
    strategy: str | None,
    images: list[str],
    image_map: list[str],
    services: list[str],
    skip_services: list[str],
    source: str,
    inventory_path: str | None,
    previous: Plan | None = None,
) -> Plan:
    from modernize.plan.images import load_images
    from modernize.plan.planner import Options, plan

    if strategy not in (None, "official", "distro", "lift"):
        raise UserError(f"--strategy {strategy!r}: choose official, distro or lift")
    opts = Options(strategy, tuple(services), tuple(skip_services), source, inventory_path)
    return plan(inventory, load_images(images, image_map), opts, previous)


def write_plan(plan: Plan, path: Path, out_root: Path | None, command: str) -> StageResult:
    """Write plan.yaml. Over one the user edited, re-plan field by field against what
    modernize wrote last (their changes, comments and order kept, see plan/replan.py);
    without that record, keep theirs and write the fresh plan beside it as plan.yaml.new."""
    from modernize.plan.io import dump_plan
    from modernize.plan.replan import replan

    result = StageResult()
    text = dump_plan(plan).encode("utf-8")
    root = out_root or path.parent
    writer = OutputWriter(root, command)
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
    base = writer.base(rel) if writer.edited(rel) else None
    if base is not None:
        try:
            mine = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: cannot be read: {exc}") from None
        done = replan(base.decode("utf-8"), mine, plan, str(path))
        writer.put_merged(rel, done.text.encode("utf-8"), text)
        kept = sum(len(v) for v in done.kept.values())
        result.notes.append(
            f"{path}: re-planned over your edits: {kept} field(s) of yours kept in {len(done.kept)} service(s)"
            + (f"; new: {', '.join(done.added)}" if done.added else "")
            + (f"; left out as you deleted them: {', '.join(done.dropped)}" if done.dropped else "")
        )
        if done.gone:
            result.problems.append(
                f"{path}: no longer in the inventory, kept and marked `gone: true` (delete them to drop them): "
                + ", ".join(done.gone)
            )
        return result
    res = writer.write({rel: text})
    if res.beside:
        why = "modernize has no record of what it wrote (.modernize/ missing or damaged)"
        result.problems.append(
            f"{path} was edited and {why}: kept it and generated from it; the fresh plan is {path}.new"
        )
    return result


def read_inventory(path: str) -> Inventory:
    """inventory.json from a file; a missing or unreadable one is a UserError."""
    from modernize.serialize import load_inventory

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror}") from None
    return load_inventory(text, path)


def load_plan_file(path: Path) -> Plan:
    from modernize.plan.io import load_plan

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such plan (make one with `modernize plan inventory.json -o {path}`)") from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror}") from None
    return load_plan(text, str(path))


def user_edited(path: Path, root: Path) -> bool:
    """True when PATH exists and is not what modernize last wrote there."""
    return OutputWriter(root, "check").edited(str(path.relative_to(root)))


def open_source(plan: Plan, override: str | None, ssh: SshSettings | None = None) -> Snapshot:
    """The snapshot generate copies files from: --source, else the one the plan was made from
    (a live host is connected to again: its files are read as they are now)."""
    source = override or plan.source.path
    if not source:
        raise UserError("the plan names no source snapshot: pass --source PATH")
    if not is_live(source) and not Path(source).exists():
        raise UserError(f"the plan's source {source!r} is gone: pass --source PATH (a moved tarball, a copy)")
    return open_snapshot(source, ssh=ssh)


def generate(
    plan: Plan,
    snap: Snapshot,
    out: Path,
    *,
    command: str,
    templates: str | None = None,
    check: bool = True,
    dry_run: bool = False,
) -> StageResult:
    """Render the plan into OUT through the writer. SNAP may be a scan's open
    snapshot: files its pass did not keep are read in one more pass."""
    from modernize.errors import ModernizeError
    from modernize.generate.collect import collect
    from modernize.generate.render import check_compose, render

    result = StageResult()
    tdir = Path(templates) if templates else None
    if tdir is not None and not tdir.is_dir():
        raise UserError(f"--templates {templates}: not a directory")
    got = collect(plan, snap)
    rendered = render(plan, got.files, templates=tdir, missing=tuple(got.missing))
    # a plan a person edited may say anything the plan schema allows: check what it
    # renders to (the planner's own plans are checked by the tests, on every fixture)
    problems = check_compose(rendered.files["compose.yaml"].decode()) if check else []
    if problems:
        raise ModernizeError(
            "the generated compose.yaml does not fit the Compose Specification: " + "; ".join(problems)
        )
    writer = OutputWriter(out, command)
    if writer.manifest_lost:
        result.notes.append(f"{out}/.modernize/manifest.json is missing or damaged: every file already there is kept")
    res = writer.write(rendered.files, rendered.modes, owns=_generated_here, dry_run=dry_run)
    result.problems.extend(rendered.findings)
    _account(res, out, result, dry_run)
    return result


def _generated_here(rel: str) -> bool:
    """What `generate` writes (not the inventory, the plan, the report or verify's results)."""
    return rel not in ("inventory.json", "plan.yaml") and not rel.startswith(("report/", "verify/"))


def _account(res: WriteResult, out: Path, result: StageResult, dry_run: bool) -> None:
    if dry_run:
        result.diffs = res.diffs
        if res.changed:
            result.problems.append(f"{out}: {len(res.diffs)} file(s) would change (diff above)")
        return
    for rel in res.conflicts:
        result.problems.append(f"{out / rel}: your edits and the new version conflict: resolve the <<<<<<< markers")
    for rel in res.beside:
        result.problems.append(f"{out / rel} was edited or is not modernize's: wrote {rel}.new beside it")
    for rel in res.orphaned:
        result.problems.append(f"{out / rel}: no longer generated, kept because you edited it")
    for rel in res.deleted:
        result.notes.append(f"{out / rel}: you deleted it: left deleted (restore it from .modernize/base/)")
    for rel in res.merged:
        result.notes.append(f"{out / rel}: your edits kept, the new version merged in")
    result.notes.append(
        f"{len(res.written)} files written, {len(res.merged)} merged, {len(res.conflicts)} in conflict, "
        f"{len(res.unchanged)} unchanged, {len(res.removed)} removed, {len(res.beside)} beside as .new in {out}"
    )


def make_report(
    inventories: list[tuple[str, Inventory]],
    *,
    rules: list[str],
    skip_rules: list[str],
    as_of: str | None,
    plans: dict[str, Plan] | None = None,
) -> dict[str, object]:
    """The readiness report's data for these inventories (and their plans by hostname)."""
    from datetime import date

    from modernize.readiness.assess import assess
    from modernize.readiness.rule import RuleSet
    from modernize.report.build import build

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise UserError(f"--as-of {as_of!r}: expected a date like 2026-12-06") from None
    ruleset = RuleSet.installed().select(rules, skip_rules)
    hosts = []
    for _where, inv in inventories:
        plan = (plans or {}).get(inv.host.hostname or "")
        hosts.append(assess(inv, ruleset, plan, day))
    return build(hosts, ruleset, day)


def write_report(report: dict[str, object], out: Path, command: str, templates: str | None = None) -> StageResult:
    """report.json, report.csv, findings.csv, report.md, report.html into OUT, through
    the writer (a report folder inside a run folder records into the run's manifest)."""
    from modernize.render import environment
    from modernize.report.build import findings_csv, services_csv, to_json

    result = StageResult()
    env = environment(Path(templates) if templates else None)
    files = {
        "report.json": to_json(report).encode(),
        "report.csv": services_csv(report).encode(),
        "findings.csv": findings_csv(report).encode(),
        "report.md": env.get_template("report/report.md.j2").render(report=report).encode(),
    }
    html_env = environment(Path(templates) if templates else None, autoescape=True)
    files["report.html"] = html_env.get_template("report/report.html.j2").render(report=report).encode()
    root = out.parent if (out.parent / ".modernize" / "manifest.json").exists() else out
    prefix = f"{out.name}/" if root != out else ""
    res = OutputWriter(root, command).write({prefix + k: v for k, v in files.items()})
    for rel in res.conflicts:
        result.problems.append(f"{root / rel}: your edits and the new report conflict: resolve the <<<<<<< markers")
    for rel in res.beside:
        result.problems.append(f"{root / rel} was edited or is not modernize's: wrote {rel}.new beside it")
    result.notes.append(f"readiness report in {out} ({len(res.written) + len(res.merged)} files written)")
    return result
