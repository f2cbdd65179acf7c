"""The matcher that picks, for each tarball member, the declaration that wins."""

from __future__ import annotations

import os
import re

import pytest

from modernize.detector import Registry
from modernize.snapshot.declarations import Declaration, Matcher, ReadMode, _one
from tests.helpers import FIXTURES

WHOLE, HEAD, TAIL, META = ReadMode.WHOLE, ReadMode.HEAD, ReadMode.TAIL, ReadMode.META


class Reference:
    """The slow, obvious answer: the first declaration, in the matcher's priority
    order, whose whole pattern matches the whole path."""

    def __init__(self, declarations: list[Declaration]) -> None:
        self.each = [(d, re.compile(_one(d) + r"\Z", re.DOTALL)) for d in Matcher(declarations).declarations]

    def match(self, path: str) -> Declaration | None:
        return next((d for d, rx in self.each if rx.match(path)), None)


def reference(declarations: list[Declaration], path: str) -> Declaration | None:
    return Reference(declarations).match(path)


def fixture_paths() -> list[str]:
    out = []
    for scenario in sorted(p for p in FIXTURES.iterdir() if (p / "root").is_dir()):
        root = scenario / "root"
        for top, dirs, files in os.walk(root):
            for name in dirs + files:
                out.append("/" + os.path.relpath(os.path.join(top, name), root))
    return out


TRICKY = [
    "/etc/nginx/nginx.conf.bak",  # a declared name followed by more
    "/etc/hosts.allow",
    "/etc/hostsX",
    "/etc/mysql/conf.d/x.cnfx",
    "/usr/lib/systemd/system/sockets.target.wants/systemd-journald.socket",
    "/usr/lib/systemd/system/nginx.service.d/override.conf",
    "/srv/app/node_modules/express/package.json",
    "/srv/app/node_modules/@types/node/package.json",
    "/srv/app/package.json",
    "/srv/app/package.json.orig",
    "/srv/app/venv/lib/python3.11/site-packages/flask-3.0.dist-info/METADATA",
    "/opt/tomcat9/conf/server.xml",
    "/opt/app/bin/run",
    "/home/alice/.ssh/id_ed25519",
    "/home/alice/.ssh/id_ed25519.pub",
    "/var/lib/tomcat9/webapps/app.war",
    "/x/y/webapps/ROOT/META-INF/context.xml",
    "/etc",
    "/nowhere",
]


def test_every_builtin_declaration_picks_what_the_slow_reference_picks() -> None:
    """Grouping by first component, the file-name index and the prefix and suffix
    filters must never change the answer, on real fixture paths and tricky ones."""
    decls = [d for det in Registry.from_entry_points().ordered() for d in det.reads]
    matcher, slow = Matcher(decls), Reference(decls)
    paths = fixture_paths() + TRICKY
    assert len(paths) > 500
    mismatches = [(p, matcher.match(p), slow.match(p)) for p in paths if matcher.match(p) != slow.match(p)]
    assert mismatches == []
    assert sum(1 for p in paths if matcher.match(p) is not None) > 100  # the check saw real matches


@pytest.mark.parametrize(
    ("declarations", "path", "want"),
    [
        # a pattern that matches only the start of the path does not match it
        ([Declaration("/etc/foo"), Declaration("/etc/foo/*", HEAD, 64)], "/etc/foo/bar", 1),
        ([Declaration("/etc/hosts")], "/etc/hosts.allow", None),
        ([Declaration("/etc/*.conf")], "/etc/a.confx", None),
        ([Declaration("/etc/*.conf")], "/etc/a.conf", 0),
        # WHOLE beats TAIL beats HEAD; then the larger size bound
        ([Declaration("/opt/**/*.jar", HEAD, 64), Declaration("/opt/**/*.jar", TAIL, 65536)], "/opt/a/x.jar", 1),
        ([Declaration("/srv/**", HEAD, 64), Declaration("/srv/**/app.py")], "/srv/a/app.py", 1),
        ([Declaration("/srv/**", HEAD, 64), Declaration("/srv/**/app.py")], "/srv/a/other.py", 0),
        ([Declaration("/a/*", HEAD, 10), Declaration("/a/*", HEAD, 20)], "/a/x", 1),
        # a literal file name and a wildcard one in the same group
        ([Declaration("/etc/x/**/id_*", HEAD, 8), Declaration("/etc/x/**/id_rsa")], "/etc/x/k/id_rsa", 1),
        ([Declaration("/etc/x/**/id_*", HEAD, 8), Declaration("/etc/x/**/id_rsa")], "/etc/x/k/id_dsa", 0),
        # patterns that may match anywhere, and excluded directories
        ([Declaration("**/webapps/*.war", TAIL, 1024)], "/var/lib/tomcat9/webapps/a.war", 0),
        ([Declaration("/srv/**/package.json", exclude=("node_modules",))], "/srv/a/node_modules/b/package.json", None),
        ([Declaration("/srv/**/package.json", exclude=("node_modules",))], "/srv/a/package.json", 0),
    ],
)
def test_winning_declaration(declarations: list[Declaration], path: str, want: int | None) -> None:
    got = Matcher(declarations).match(path)
    assert got == (None if want is None else declarations[want])
    assert got == reference(declarations, path)
