"""Rules that read the plan (`modernize report --plan`, `modernize run`): what the
generated containers will still lack or carry."""

from __future__ import annotations

from collections.abc import Iterator

from modernize.readiness.rule import Check, Context, Hit, Rule


def _plan_findings(code: str) -> Check:
    def check(ctx: Context) -> Iterator[Hit]:
        if ctx.plan is None:
            return
        ids = {s.name: s.id for s in ctx.plan.services}
        for f in ctx.plan.findings:
            if f.code == code:
                yield Hit(ids.get(f.service or ""), f.message, f.evidence or ("plan.yaml",))

    return check


def _lift(ctx: Context) -> Iterator[Hit]:
    if ctx.plan is None:
        return
    for s in ctx.plan.services:
        if s.strategy == "lift":
            yield Hit(s.id, f"{s.name} can only move as part of the whole-host image (strategy lift)", ("plan.yaml",))


RULES = [
    Rule(
        "PL001", "Moves only with the whole host (lift)", "process model", "major", 8,
        "someone learns how the software runs to give it an image of its own",
        "Start from the lift image to move now; then find how the program is installed and run and give it "
        "its own image (the plan's strategy distro).", _lift, needs_plan=True,
    ),
    Rule(
        "PL002", "A secret file the containers need is not in the snapshot", "configuration", "minor", 1,
        "the file is on the server or in a vault",
        "Copy the file from the server into secrets/ (MIGRATION.md names each); never into an image.",
        _plan_findings("secret-file-missing"), needs_plan=True,
    ),
    Rule(
        "PL003", "Runs as root in its container", "identity and access", "minor", 2,
        "the software can run as a user given its files",
        "Give the process a user (USER in the Dockerfile, `user:` in compose) and the files it writes to that user.",
        _plan_findings("runs-as-root"), needs_plan=True,
    ),
    Rule(
        "PL004", "A localhost connection the plan could not rewrite", "configuration", "minor", 1,
        "the setting lives in a file or place the plan does not carry",
        "Change the setting to the other service's name by hand; the finding says where it is.",
        _plan_findings("localhost-not-rewritten"), needs_plan=True,
    ),
    Rule(
        "PL005", "Secrets inside an archive the image carries", "configuration", "major", 2,
        "the software reads the value from the environment or a mounted file",
        "The image carries the archive with the secrets left out: supply them at run time (the plan sets "
        "SPRING_* variables where Spring Boot reads them), and rebuild the archive without them.",
        _plan_findings("secret-in-archive"), needs_plan=True,
    ),
    Rule(
        "PL006", "A large image", "operations", "minor", 2,
        "the image can be slimmed (multi-stage build, fewer packages)",
        "Trim what the image installs; move build tools to a build stage.",
        _plan_findings("large-image"), needs_plan=True,
    ),
]  # fmt: skip
