"""The `modernize` console command, kept light on purpose.

Loading the CLI framework and the detector plugins takes a fifth of a second
or more (typer 0.29 and later bring pydantic along, hence the pin below it in
pyproject.toml); a scan of a compressed tarball starts inflating before that,
on its helper thread, and the snapshot takes the running stream over.
Everything else is `modernize.cli`.
"""

from __future__ import annotations

import gc
import sys

from modernize import inflate

# The options of `modernize scan` that take a value (tests/test_launch.py checks
# this against the real command).
SCAN_VALUE_OPTIONS = frozenset({"-o", "--output", "--only", "--skip", "--max-file-size"})


def scan_source(argv: list[str]) -> str | None:
    """The SOURCE of a `modernize scan` command line, or None. A guess ahead of
    the real parser: a wrong guess only costs a head start nobody claims."""
    if not argv or argv[0] != "scan":
        return None
    args = iter(argv[1:])
    for arg in args:
        if arg == "--":
            return next(args, None)
        if arg in SCAN_VALUE_OPTIONS or (
            # a cluster of short flags ending in one that takes a value: -qo FILE
            arg.startswith("-") and not arg.startswith("--") and f"-{arg[-1]}" in SCAN_VALUE_OPTIONS
        ):
            next(args, None)
        elif not arg.startswith("-") or arg == "-":
            return arg
    return None


def entry() -> None:
    """`main`, with a head start for a tarball scan, then a quick exit: at exit
    the interpreter collects every generation but the permanent one, and after a
    scan that is half a million live objects and nothing worth finding, so they
    are moved there first."""
    source = scan_source(sys.argv[1:])
    if source is not None:
        inflate.head_start(source)
    try:
        from modernize.cli import main

        main()
    finally:
        inflate.drop_head_starts()
        gc.freeze()
