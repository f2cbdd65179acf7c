"""The detector plugin system: entry points, duplicates, selection, failures."""

from __future__ import annotations

import pytest

from modernize.detector import Detector, Registry
from modernize.errors import RegistryError, UserError
from modernize.facts import Found, ServiceFacts
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole
from tests.helpers import run


class Hello(Detector):
    name = "hello"
    tags = ("test",)
    reads = whole("/etc/hello")

    def detect(self, snap: Snapshot, found: Found) -> None:
        if snap.text("/etc/hello"):
            found.add(ServiceFacts(software="hello", kind="other"))


class Boom(Detector):
    name = "boom"
    reads = whole("/etc/hello")

    def detect(self, snap: Snapshot, found: Found) -> None:
        found.add(ServiceFacts(software="half-done", kind="other"))
        raise ValueError("parser fell over")


class Sneaky(Detector):
    name = "sneaky"
    reads = whole("/etc/hello")

    def detect(self, snap: Snapshot, found: Found) -> None:
        snap.text("/etc/undeclared")


def test_builtins_register_through_entry_points() -> None:
    reg = Registry.from_entry_points(autoload=False)
    names = {r.name for r in reg}
    assert {"os", "dpkg", "rpm", "apk", "systemd", "sysv", "supervisord", "cron", "accounts", "host-coupling"} <= names
    assert all(r.origin == "builtin" for r in reg)


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(RegistryError, match="taken"):
        Registry([Hello, Hello])


def test_select_by_name_and_tag() -> None:
    reg = Registry([Hello, Boom])
    assert [r.name for r in reg.select(only=["test"])] == ["hello"]
    assert [r.name for r in reg.select(skip=["hello"])] == ["boom"]
    with pytest.raises(UserError):
        reg.select(only=["nope"])


def test_requires_orders_detectors() -> None:
    class After(Detector):
        name = "after"
        requires = ("hello",)

    assert [d.name for d in Registry([After, Hello]).ordered()] == ["hello", "after"]


def test_a_failing_detector_becomes_an_error_finding_and_the_scan_goes_on() -> None:
    result = run([Hello, Boom], {"/etc/hello": "hi"})
    inv = result.inventory
    assert [s.software for s in inv.services] == ["hello"]  # nothing half-done from boom
    errors = [f for f in inv.findings if f.code == "detector-failed"]
    assert len(errors) == 1 and "parser fell over" in errors[0].message and errors[0].detector == "boom"
    assert inv.coverage.detectors_failed == ("boom",)
    assert result.failed == ["boom"]


def test_undeclared_read_fails_the_detector_test() -> None:
    from modernize.snapshot import UndeclaredRead

    with pytest.raises(UndeclaredRead):
        run([Sneaky], {"/etc/hello": "hi", "/etc/undeclared": "x"})


class Needy(Detector):
    name = "needy"
    requires = ("middle",)


class Middle(Detector):
    name = "middle"
    tags = ("init",)
    requires = ("hello",)


def test_only_pulls_in_what_the_chosen_detectors_require_transitively() -> None:
    reg = Registry([Needy, Middle, Hello, Boom]).select(only=["needy"])
    assert [r.name for r in reg] == ["hello", "middle", "needy"]
    assert reg.added == {"middle": ["needy"], "hello": ["middle"]}
    assert reg.notes() == ["also running hello (required by middle); middle (required by needy)"]
    assert [d.name for d in reg.ordered()] == ["hello", "middle", "needy"]
    # nothing added, nothing said, when the choice is complete already
    assert Registry([Needy, Middle, Hello]).select(only=["needy", "middle", "hello"]).notes() == []


def test_skip_wins_over_requires_and_says_whose_facts_go_missing() -> None:
    reg = Registry([Needy, Middle, Hello]).select(only=["needy"], skip=["init"])  # by tag
    assert [r.name for r in reg] == ["needy"]
    assert reg.notes() == ["needy requires middle, which --skip leaves out: its facts are missing"]


# What a detector reads from `found`, and the detectors that put it there.
_PRODUCERS = {
    r"found\.units\b": {"systemd"},
    r"\brunnable\(": {"systemd", "sysv", "supervisord", "cron"},  # app launches: every init system's units
    r"found\.packages?\b": {"dpkg", "rpm", "apk"},
    r"found\.users?\b": {"accounts"},
    r"found\.owners\b": {"dpkg"},
    r"found\.cron_jobs\b": {"cron"},
    r"found\.host\.os\b": {"os"},
}


def test_every_detector_requires_the_detectors_whose_facts_it_reads() -> None:
    import inspect
    import re

    missing = {}
    for r in Registry.from_entry_points(autoload=False):
        det = r.detector
        source = inspect.getsource(type(det))
        module = inspect.getsource(inspect.getmodule(type(det)))  # type: ignore[arg-type]
        for pattern, producers in _PRODUCERS.items():
            if re.search(pattern, module) and det.name not in producers:
                lacking = producers - set(det.requires) - {det.name}
                if lacking:
                    missing[f"{det.name} ({pattern})"] = sorted(lacking)
        assert source
    assert not missing, missing


def test_only_python_apps_finds_the_python_app() -> None:
    from modernize.scan import scan
    from modernize.snapshot import open_snapshot
    from tests.helpers import FIXTURES

    reg = Registry.from_entry_points(autoload=False).select(only=["python-apps"])
    assert {"systemd", "sysv", "supervisord", "cron", "dpkg"} <= {r.name for r in reg}
    snap = open_snapshot(str(FIXTURES / "python-web" / "root"))
    try:
        inv = scan(snap, reg).inventory
    finally:
        snap.close()
    app = next(s for s in inv.services if s.software == "python-app")
    assert app.runtime and app.runtime.startswith("python3")  # the python3 package's version: dpkg ran
