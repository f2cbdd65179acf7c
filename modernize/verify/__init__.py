"""Prove the generated output: build it, start it, probe it, check where it writes and
that its data survives the container being replaced (`modernize verify OUT`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from modernize.verify.engine import find_engine
from modernize.verify.results import write
from modernize.verify.verifier import verify


def run_verify(
    out: Path,
    *,
    engine: str | None = None,
    keep: bool = False,
    suggest: bool = False,
    image_map: list[str] | None = None,
    ca_cert: str | None = None,
    timeout: float = 120.0,
    echo: Callable[[str], None] = print,
) -> bool:
    """Verify OUT, print the table, write OUT/verify/; True when everything passed."""
    chosen = find_engine(engine)
    outcome, plan, password = verify(
        out, chosen, keep=keep, suggest=suggest, image_map=image_map, ca_cert=ca_cert, timeout=timeout, echo=echo
    )
    folder = write(outcome, out, plan, password)
    echo(outcome.table().replace(password, "********"))
    echo(f"results in {folder / 'verify.json'}")
    return outcome.ok
