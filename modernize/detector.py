"""Detector plugins and the registry that holds them.

A detector declares its name, tags and the files it reads (as data), and adds
facts to `found`. Built-in detectors register through the `modernize.detectors`
entry-point group exactly like third-party ones. A `Registry` is passed into
`scan()`: there is no global state.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

from modernize.errors import RegistryError, UserError
from modernize.facts import Found
from modernize.snapshot import Declaration, Snapshot

ENTRY_POINT_GROUP = "modernize.detectors"
# Like pytest's PYTEST_DISABLE_PLUGIN_AUTOLOAD: load only modernize's own detectors.
DISABLE_AUTOLOAD_ENV = "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD"
BUILTIN_DIST = "modernize"


class Detector:
    """Subclass, set the class attributes, implement `detect`."""

    name: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()
    reads: ClassVar[tuple[Declaration, ...]] = ()
    # detectors whose facts this one reads from `found` (they run first when selected)
    requires: ClassVar[tuple[str, ...]] = ()

    def detect(self, snap: Snapshot, found: Found) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Registered:
    detector: Detector
    origin: str  # "builtin" or the distribution that provides it

    @property
    def name(self) -> str:
        return self.detector.name


class Registry:
    def __init__(self, detectors: Iterable[Detector | type[Detector]] = (), *, origin: str = "builtin") -> None:
        self._items: dict[str, Registered] = {}
        self.load_errors: list[str] = []  # plugins that could not be loaded
        self.added: dict[str, list[str]] = {}  # by select(): detector -> the chosen ones requiring it
        self.left_out: dict[str, list[str]] = {}  # by select(): required but skipped -> who requires it
        for det in detectors:
            self.register(det, origin=origin)

    def register(self, det: Detector | type[Detector], *, origin: str = "builtin") -> None:
        inst = det() if isinstance(det, type) else det
        if not isinstance(inst, Detector) or not inst.name:
            raise RegistryError(f"{det!r} is not a named Detector")
        if inst.name in self._items:
            other = self._items[inst.name].origin
            raise RegistryError(f"detector name {inst.name!r} is taken (by {other}; again by {origin})")
        self._items[inst.name] = Registered(inst, origin)

    def __iter__(self) -> Iterator[Registered]:
        return iter(self._items[k] for k in sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def get(self, name: str) -> Detector:
        return self._items[name].detector

    def select(self, only: Iterable[str] = (), skip: Iterable[str] = ()) -> Registry:
        """A registry with only some detectors: by name or by tag."""
        only, skip = list(only), list(skip)
        known = set(self._items) | {t for r in self._items.values() for t in r.detector.tags}
        for word in only + skip:
            if word not in known:
                raise UserError(f"no detector or tag named {word!r} (see `modernize detectors list`)")
        out = Registry()
        out.load_errors = list(self.load_errors)

        def hits(r: Registered, words: list[str]) -> bool:
            return r.name in words or any(t in words for t in r.detector.tags)

        for r in self:
            if only and not hits(r, only):
                continue
            if hits(r, skip):
                continue
            out._items[r.name] = r
        # what the chosen detectors read from others comes along (transitively), unless
        # skipped by name or tag: then the note says whose facts will be missing
        todo = sorted(out._items)
        while todo:
            name = todo.pop(0)
            for dep in sorted(self._items[name].detector.requires):
                if dep in out.added:
                    out.added[dep].append(name)
                if dep not in self._items or dep in out._items:
                    continue
                if hits(self._items[dep], skip):
                    out.left_out.setdefault(dep, []).append(name)
                    continue
                out._items[dep] = self._items[dep]
                out.added.setdefault(dep, []).append(name)
                todo.append(dep)
        return out

    def notes(self) -> list[str]:
        """What `select` did beyond what was asked: detectors it added because a chosen
        one requires them, and required ones that --skip left out."""
        out = []
        if self.added:
            why = "; ".join(f"{d} (required by {', '.join(sorted(by))})" for d, by in sorted(self.added.items()))
            out.append(f"also running {why}")
        for dep, by in sorted(self.left_out.items()):
            who, verb = ", ".join(sorted(by)), "requires" if len(by) == 1 else "require"
            out.append(f"{who} {verb} {dep}, which --skip leaves out: its facts are missing")
        return out

    def ordered(self) -> list[Detector]:
        """Detectors in an order where each runs after the ones it requires."""
        order: list[Detector] = []
        state: dict[str, int] = {}

        def visit(name: str) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise RegistryError(f"detectors require each other in a cycle at {name!r}")
            state[name] = 1
            det = self._items[name].detector
            for dep in sorted(det.requires):
                if dep in self._items:
                    visit(dep)
            state[name] = 2
            order.append(det)

        for name in sorted(self._items):
            visit(name)
        return order

    @classmethod
    def from_entry_points(cls, *, autoload: bool | None = None) -> Registry:
        """Every installed detector. With autoload off (or MODERNIZE_DISABLE_PLUGIN_AUTOLOAD
        set), only modernize's own."""
        if autoload is None:
            autoload = not os.environ.get(DISABLE_AUTOLOAD_ENV)
        reg = cls()
        eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value))
        names: dict[object, str | None] = {}  # each access to a dist's metadata parses it again
        for ep in eps:
            key = getattr(ep, "dist", None)
            if key not in names:
                names[key] = _dist_name(ep)
            dist = names[key]
            if not autoload and dist != BUILTIN_DIST:
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop a scan
                reg.load_errors.append(f"detector plugin {ep.name!r} ({ep.value}) failed to load: {exc}")
                continue
            origin = "builtin" if dist == BUILTIN_DIST else f"plugin:{dist or ep.value}"
            if not (isinstance(obj, Detector) or (isinstance(obj, type) and issubclass(obj, Detector))):
                reg.load_errors.append(f"entry point {ep.name!r} ({ep.value}) is not a Detector")
                continue
            if obj.name != ep.name:
                reg.load_errors.append(f"entry point {ep.name!r} names a detector called {obj.name!r}")
                continue
            reg.register(obj, origin=origin)  # a duplicate name is refused (RegistryError)
        return reg


def _dist_name(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"].lower() if dist is not None else None
