"""The `modernize` console command, kept light on purpose.

Loading the CLI framework and the detector plugins takes a fifth of a second
or more (typer 0.29 and later bring pydantic along, hence the pin below it in
pyproject.toml); a scan of a compressed tarball starts inflating before that,
on its helper thread, and the snapshot takes the running stream over.
Everything else is `modernize.cli`.
"""

from __future__ import annotations

import gc
import os
import sys

from modernize import inflate

# The options of `modernize scan` and `modernize run` (the commands that read a
# snapshot first) that take a value; tests/test_launch.py checks these against the
# real commands.
SCAN_VALUE_OPTIONS = frozenset({"-o", "--output", "--only", "--skip", "--max-file-size"})
FLEET_VALUE_OPTIONS = frozenset({"-j", "--jobs"})
SSH_VALUE_OPTIONS = frozenset({"--ssh-config", "-i", "--identity", "--connect-timeout", "--command-timeout"})
VALUE_OPTIONS = {
    "scan": SCAN_VALUE_OPTIONS | SSH_VALUE_OPTIONS | FLEET_VALUE_OPTIONS,
    "capture": SCAN_VALUE_OPTIONS | SSH_VALUE_OPTIONS,
    "run": SCAN_VALUE_OPTIONS
    | SSH_VALUE_OPTIONS
    | {"--strategy", "--images", "--image-map", "--services", "--skip-services", "--templates"}
    | {"--engine", "--ca-cert"},
}

# Set by `console`: this process ends when the command does.
_one_shot = False
_held: list[object] = []


def hold(*objects: object) -> None:
    """In the console process, keep OBJECTS (a scan's snapshot and results) until
    the process ends, out of the cyclic collector's sight: the system takes their
    memory back at once at exit, where freeing a server's index object by object
    and collecting it once more took about 20 ms after the inventory was written.
    Elsewhere (tests, a library caller) nothing is kept."""
    if _one_shot:
        _held.extend(objects)
        gc.freeze()


def scan_source(argv: list[str]) -> str | None:
    """The SOURCE of a `modernize scan` or `run` command line, or None. A guess ahead
    of the real parser: a wrong guess only costs a head start nobody claims."""
    if not argv or argv[0] not in VALUE_OPTIONS:
        return None
    takes_value = VALUE_OPTIONS[argv[0]]
    args = iter(argv[1:])
    found: list[str] = []
    for arg in args:
        if arg == "--":
            found.extend(args)
            break
        if arg in takes_value or (
            # a cluster of short flags ending in one that takes a value: -qo FILE
            arg.startswith("-") and not arg.startswith("--") and f"-{arg[-1]}" in takes_value
        ):
            next(args, None)
        elif not arg.startswith("-") or arg == "-":
            found.append(arg)
    # a fleet (several sources, or @LIST) is scanned by child processes, each its own head start
    if len(found) != 1 or found[0].startswith("@"):
        return None
    return found[0]


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


def console() -> None:
    """The installed `modernize` command: `entry`, then an exit that skips the
    interpreter's teardown once the output is flushed (see `hold`). Errors other
    than an exit status take the normal way out, with their traceback."""
    global _one_shot
    _one_shot = True
    try:
        entry()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)  # as the interpreter does with sys.exit("message")
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the interpreter's own status for it
        code = 120
    os._exit(code)
