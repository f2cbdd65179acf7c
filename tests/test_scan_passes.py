"""Second-order reads on a tarball: asked for with want(), fetched in one batched pass."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from modernize.detector import Detector, Registry
from modernize.facts import Found, ServiceFacts
from modernize.scan import scan
from modernize.snapshot import Snapshot, TarballSnapshot
from modernize.snapshot.declarations import whole


class Chaser(Detector):
    """Reads a list of files named inside a declared file (like EnvironmentFile=)."""

    name = "chaser"
    reads = whole("/etc/chaser/list")

    def detect(self, snap: Snapshot, found: Found) -> None:
        names = (snap.text("/etc/chaser/list") or "").split()
        snap.want(names)
        for name in names:
            if snap.text(name) == "yes\n":
                found.add(ServiceFacts(software=name.rsplit("/", 1)[1], kind="other"))


def _tarball(tmp_path: Path, files: dict[str, str]) -> Path:
    out = tmp_path / "s.tar"
    with tarfile.open(out, "w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_discovered_reads_cost_one_batched_pass(tmp_path: Path) -> None:
    # /var/lib is outside the roots the first pass keeps speculatively
    files = {"etc/chaser/list": "/var/lib/a /var/lib/b /var/lib/c\n"}
    files |= {f"var/lib/{n}": "yes\n" for n in "abc"}
    snap = TarballSnapshot(str(_tarball(tmp_path, files)))
    inv = scan(snap, Registry([Chaser])).inventory
    assert sorted(s.software for s in inv.services) == ["a", "b", "c"]
    assert snap.passes == 2


def test_speculative_keep_makes_config_reads_free(tmp_path: Path) -> None:
    files = {"etc/chaser/list": "/etc/app/a.env /srv/app/b\n", "etc/app/a.env": "yes\n", "srv/app/b": "yes\n"}
    snap = TarballSnapshot(str(_tarball(tmp_path, files)))
    inv = scan(snap, Registry([Chaser])).inventory
    assert sorted(s.software for s in inv.services) == ["a.env", "b"]
    assert snap.passes == 1


def _linked_tree(tmp_path: Path, links_first: bool) -> Path:
    """Files reachable by the declared patterns only through directory symlinks
    (their own names match nothing), next to a link the patterns never name."""
    files = {
        "data/php82/fpm/pool.d/www.conf": "[www]\nlisten = 127.0.0.1:9000\n",
        "data/lib/linked/package.json": '{"name": "linked"}\n',
        "srv/app/venv/lib/python3.11/site-packages/x.py": "",
    }
    links = {
        "etc/php/8.2": "/data/php82",  # a link where `*` names a directory
        "srv/app/node_modules/linked": "../../../data/lib/linked",  # a link below `**`
        "srv/app/venv/lib64": "lib",  # named by no pattern: nothing to chase
    }
    out = tmp_path / "linked.tar"
    with tarfile.open(out, "w") as tar:

        def add_links() -> None:
            for name, target in links.items():
                info = tarfile.TarInfo(name)
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)

        if links_first:
            add_links()
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if not links_first:
            add_links()
    return out


def test_wildcards_reach_files_through_directory_links(tmp_path: Path) -> None:
    for links_first in (True, False):
        snap = TarballSnapshot(str(_linked_tree(tmp_path, links_first)))
        snap.prefetch(list(whole("/etc/php/*/fpm/pool.d/*.conf", "/srv/**/node_modules/*/package.json")))
        # read() raises NotYetRead for a file the passes did not fetch
        assert snap.read_text("/etc/php/8.2/fpm/pool.d/www.conf").startswith("[www]")
        assert snap.read_text("/srv/app/node_modules/linked/package.json") == '{"name": "linked"}\n'
        assert snap.passes == 2, links_first


def test_a_link_replaced_later_in_the_stream_is_not_followed(tmp_path: Path) -> None:
    """Tar keeps the last member of a name: a symlink met early can be gone by the
    end of the pass (here a later member turns its parent into a link)."""
    out = tmp_path / "replaced.tar"
    with tarfile.open(out, "w") as tar:
        data = b"[www]\n"
        info = tarfile.TarInfo("data/php/fpm/pool.d/www.conf")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for name in ("srv/a/link", "srv/a"):  # the second drops /srv/a/link from the tree
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, "/data"
            tar.addfile(info)
    snap = TarballSnapshot(str(out))
    snap.prefetch(list(whole("/srv/*/php/fpm/pool.d/*.conf")))
    assert not snap.exists("/srv/a/link")
    assert snap.read_text("/srv/a/php/fpm/pool.d/www.conf") == "[www]\n"


def test_the_distributions_own_daemons_cost_no_second_pass(tmp_path: Path) -> None:
    """Every server has enabled units whose executables are the distribution's
    (/usr/sbin/cron ...): the daemons detector does not read their heads, which would
    cost a second pass over the whole tarball; an in-house daemon under /opt still gets
    its head read (/opt is kept on the way, so in the same pass) and its #! interpreter."""

    unit = "[Service]\nExecStart={}\n[Install]\nWantedBy=multi-user.target\n"
    files = {
        "etc/systemd/system/cron.service": unit.format("/usr/sbin/cron -f"),
        "etc/systemd/system/multi-user.target.wants/cron.service": "",
        "usr/sbin/cron": "\x7fELF....",
    }
    registry = Registry.from_entry_points(autoload=False).select(only=["daemons"])

    def scanned(extra: dict[str, str]) -> tuple[int, object]:
        out = tmp_path / f"s{len(extra)}.tar"
        with tarfile.open(out, "w") as tar:
            for name, text in {**files, **extra}.items():
                if name.endswith(".service") and "wants" in name:
                    info = tarfile.TarInfo(name)
                    info.type = tarfile.SYMTYPE
                    info.linkname = "/" + name.replace("multi-user.target.wants/", "")
                    tar.addfile(info)
                    continue
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o755
                tar.addfile(info, io.BytesIO(data))
        snap = TarballSnapshot(str(out))
        inv = scan(snap, registry).inventory
        return snap.passes, inv

    passes, inv = scanned({})
    assert passes == 1
    inhouse = {
        "etc/systemd/system/acme.service": unit.format("/opt/acme/bin/acmed --config /opt/acme/etc/acme.ini"),
        "etc/systemd/system/multi-user.target.wants/acme.service": "",
        "opt/acme/bin/acmed": "#!/usr/bin/perl\nprint 1;\n",
        "opt/acme/etc/acme.ini": "[server]\nport = 7070\n",
    }
    passes, inv = scanned(inhouse)
    acme = next(s for s in inv.services if "acme" in s.id)  # type: ignore[attr-defined]
    assert passes == 1 and acme.program.interpreter == "perl" and 7070 in [p.port for p in acme.ports]
