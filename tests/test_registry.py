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
