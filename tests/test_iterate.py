"""Re-running over edited output: nothing a user wrote is lost.

On python-web as a user works with it: `modernize run`, edits (a canary line planted in
every kind of generated file, a decision changed in plan.yaml with a comment, a file
deleted, a file of their own), a change on the server (a new cron job, a new package, a
port moved), `modernize run` again. Every edit stays, the server's change comes in, a
collision gives conflict markers and exit 1, `generate --check` tells when the output
is stale, and a lost `.modernize/` falls back to PATH.new beside each edited file."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from modernize.generate.merge3 import merge3
from modernize.generate.writer import OutputWriter
from tests.fixture_tree import materialize
from tests.helpers import REPO

CANARY = "CANARY-EDIT-7f3a"


def _modernize(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modernize", *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO, stdin=subprocess.DEVNULL)  # fmt: skip


# -- the merge itself ---------------------------------------------------------------


def test_merge3_keeps_both_sides_and_marks_collisions() -> None:
    base = "a\nb\nc\nd\ne\n"
    assert merge3(base, "a\nB\nc\nd\ne\n", "a\nb\nc\nd\nE\n").text == "a\nB\nc\nd\nE\n"
    assert merge3(base, base, "x\n" + base).text == "x\n" + base
    assert merge3(base, "a\nc\nd\ne\n", base).text == "a\nc\nd\ne\n"  # a deleted line stays deleted
    same = merge3(base, "a\nX\nc\nd\ne\n", "a\nX\nc\nd\ne\n")
    assert (same.text, same.conflicts) == ("a\nX\nc\nd\ne\n", 0)
    clash = merge3(base, "a\nmine\nc\nd\ne\n", "a\ntheirs\nc\nd\ne\n")
    assert clash.conflicts == 1
    assert clash.text == "a\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> modernize\nc\nd\ne\n"
    assert merge3("a\n", "a\nb", "a\n").text == "a\nb"  # no newline at the end, kept


@pytest.mark.parametrize("seed", range(40))
def test_merge3_agrees_with_git_merge_file(seed: int, tmp_path: Path) -> None:
    """Random edits on both sides of a Dockerfile-like text, checked against git's own
    three-way merge where git finds no conflict."""
    rng = random.Random(seed)
    base = [f"RUN step {i}\n" for i in range(30)]

    def edit(lines: list[str], tag: str) -> list[str]:
        out = list(lines)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(out))
            op = rng.choice(("change", "insert", "delete"))
            if op == "change":
                out[i] = f"RUN {tag} {i}\n"
            elif op == "insert":
                out.insert(i, f"# {tag} note {i}\n")
            elif len(out) > 1:
                del out[i]
        return out

    ours, theirs = edit(base, "ours"), edit(base, "theirs")
    files = {}
    for name, lines in (("ours", ours), ("base", base), ("theirs", theirs)):
        files[name] = tmp_path / name
        files[name].write_text("".join(lines))
    git = subprocess.run(["git", "merge-file", "-p", str(files["ours"]), str(files["base"]), str(files["theirs"])],
                         capture_output=True, text=True, check=False)  # fmt: skip
    mine = merge3("".join(base), "".join(ours), "".join(theirs))
    if git.returncode == 0:
        assert mine.conflicts == 0 and mine.text == git.stdout
    elif mine.conflicts == 0:  # git saw a conflict where this merge saw none: it must still lose nothing
        added = (set(ours) | set(theirs)) - set(base)
        assert all(line in mine.text.splitlines(keepends=True) for line in added), mine.text


def test_the_writer_never_touches_what_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("my own file\n")
    w = OutputWriter(out, "test")
    first = w.write({"mine.txt": b"generated\n", "a.txt": b"one\ntwo\n"})
    assert first.beside == ["mine.txt"] and (out / "mine.txt").read_text() == "my own file\n"
    assert (out / "mine.txt.new").read_text() == "generated\n"
    (out / "a.txt").unlink()
    again = OutputWriter(out, "test").write({"a.txt": b"one\ntwo\nthree\n"})
    assert again.deleted == ["a.txt"] and not (out / "a.txt").exists()


# -- the whole loop on a fixture server ----------------------------------------------------

# every kind of file generation writes, and where a canary line goes in it
CANARY_IN = {
    "services/intranet/Dockerfile": ("\nEXPOSE ", f"\n# {CANARY} Dockerfile\nEXPOSE "),
    "services/intranet/requirements.txt": ("\n", f"\n# {CANARY} requirements\n"),
    "services/nginx/.dockerignore": ("\n", f"\n# {CANARY} dockerignore\n"),
    "compose.yaml": ("\nvolumes:\n", f"\n# {CANARY} compose\nvolumes:\n"),
    ".env.example": ("\n", f"\n# {CANARY} env\n"),
    "MIGRATION.md": ("\n", f"\n<!-- {CANARY} migration -->\n"),
    "smoke.sh": ("\nfail=0\n", f"\nfail=0\n# {CANARY} smoke\n"),
    "secrets/redis-redis.conf.example": ("\n", f"\n# {CANARY} secret example\n"),
    "services/nginx/rootfs/etc/nginx/conf.d/intranet.conf": ("\n", f"\n# {CANARY} server file\n"),
    "report/report.md": ("\n", f"\n<!-- {CANARY} report -->\n"),
}


def _plant(out: Path) -> None:
    for rel, (after, text) in CANARY_IN.items():
        path = out / rel
        body = path.read_text()
        assert after in body, f"{rel}: no {after!r} to plant the canary after"
        path.write_text(body.replace(after, text, 1))


def _edit_plan(out: Path) -> None:
    """The user pins redis to their mirror, with a comment, and drops memcached-less
    noise: deletes the sshd (skip) entry."""
    text = (out / "plan.yaml").read_text()
    text = text.replace(
        "# Schema: `modernize schema plan`.\n", f"# Schema: `modernize schema plan`.\n# {CANARY} plan note\n"
    )
    i = text.index("\n  name: redis\n")
    j = text.index("  image: ", i)
    k = text.index("\n", j)
    text = text[:j] + "  image: registry.example.com/redis:7.0.15  # our mirror" + text[k:]
    plan = yaml.safe_load(text)
    assert any(s["name"] == "sshd" for s in plan["services"])
    start = text.index("- id: sshd\n")
    end = text.index("\n- id: ", start + 1) + 1
    (out / "plan.yaml").write_text(text[:start] + text[end:])


JQ = """Package: jq
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 102
Maintainer: ChangZhuo Chen <czchen@debian.org>
Architecture: amd64
Version: 1.6-2.1
Depends: libjq1 (= 1.6-2.1), libc6 (>= 2.34)
Description: lightweight and flexible command-line JSON processor
"""


def _change_server(root: Path) -> None:
    """A new cron job and a new package (jq, as dpkg records it)."""
    (root / "etc/cron.d/intranet-digest").write_text(
        "30 6 * * 1 intranet /srv/intranet/venv/bin/flask --app wsgi digest\n"
    )
    status = root / "var/lib/dpkg/status"
    status.write_text(status.read_text().rstrip("\n") + "\n\n" + JQ)


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, Path]:
    root = materialize("python-web", tmp_path)
    out = tmp_path / "out"
    first = _modernize("run", str(root), "-o", str(out), "-q")
    assert first.returncode == 0, first.stderr
    return root, out


def test_every_edit_survives_a_rerun_after_the_server_changed(stack: tuple[Path, Path]) -> None:
    root, out = stack
    _plant(out)
    _edit_plan(out)
    (out / "notes.md").write_text("my notes\n")
    (out / "smoke.sh").chmod(0o700)
    (out / "services/redis/.dockerignore").unlink()
    _change_server(root)
    again = _modernize("run", str(root), "-o", str(out))
    assert again.returncode == 0, again.stdout + again.stderr
    for rel, (_after, text) in CANARY_IN.items():
        assert text.strip() in (out / rel).read_text(), f"{rel}: the edit was lost"
    assert not list(out.rglob("*.new")), "merged, not written beside"
    plan = (out / "plan.yaml").read_text()
    assert f"# {CANARY} plan note" in plan and "registry.example.com/redis:7.0.15  # our mirror" in plan
    data = yaml.safe_load(plan)
    by = {s["name"]: s for s in data["services"]}
    assert "sshd" not in by and by["redis"]["user_fields"] == ["image"]
    assert "FROM registry.example.com/redis:7.0.15" in (out / "services/redis/Dockerfile").read_text()
    # the server's changes came in
    assert any("digest" in j["command"] for j in by["intranet"].get("jobs", []))
    packages = {p["name"]: p["version"]["raw"] for p in json.loads((out / "inventory.json").read_text())["packages"]}
    assert packages["jq"] == "1.6-2.1"
    assert "intranet-digest" in (out / "MIGRATION.md").read_text() or "digest" in plan
    # the user's own file, their chmod and their deletion stand
    assert (out / "notes.md").read_text() == "my notes\n"
    assert (out / "smoke.sh").stat().st_mode & 0o777 == 0o700
    assert not (out / "services/redis/.dockerignore").exists()
    assert "left deleted" in again.stdout


def test_a_collision_gives_markers_and_exit_1(stack: tuple[Path, Path]) -> None:
    root, out = stack
    dockerfile = out / "services/intranet/Dockerfile"
    text = dockerfile.read_text()
    expose = re.search(r"(?m)^EXPOSE .*$", text)
    assert expose
    dockerfile.write_text(text.replace(expose[0], "EXPOSE 9999"))
    # the server moves the app: gunicorn binds another port
    for unit in (root / "etc/systemd/system").glob("intranet.service*/**/*.conf"):  # the drop-in's ExecStart wins
        unit.write_text(unit.read_text().replace("127.0.0.1:8000", "127.0.0.1:8001"))
    again = _modernize("run", str(root), "-o", str(out))
    assert again.returncode == 1
    merged = dockerfile.read_text()
    assert "<<<<<<< yours\nEXPOSE 9999\n=======\nEXPOSE 8001\n>>>>>>> modernize\n" in merged
    assert "resolve the <<<<<<< markers" in again.stderr and "services/intranet/Dockerfile" in again.stderr


def test_check_fails_when_stale_and_passes_after_generate(stack: tuple[Path, Path]) -> None:
    _root, out = stack
    fresh = _modernize("generate", str(out / "plan.yaml"), "-o", str(out), "--check")
    assert fresh.returncode == 0 and fresh.stdout == "", fresh.stdout + fresh.stderr
    plan = out / "plan.yaml"
    plan.write_text(plan.read_text().replace("image: redis:", "image: mirror.example.com/redis:", 1))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    stale = _modernize("generate", str(plan), "-o", str(out), "--check")
    assert stale.returncode == 1
    assert "-FROM redis:" in stale.stdout and "+FROM mirror.example.com/redis:" in stale.stdout
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}, "--check wrote something"
    done = _modernize("generate", str(plan), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert _modernize("generate", str(plan), "-o", str(out), "--check").returncode == 0


def test_a_lost_state_folder_never_overwrites(stack: tuple[Path, Path]) -> None:
    root, out = stack
    _plant(out)
    _edit_plan(out)
    shutil.rmtree(out / ".modernize")
    again = _modernize("run", str(root), "-o", str(out))
    assert again.returncode == 1
    assert "missing or damaged" in again.stdout + again.stderr
    for rel, (_after, text) in CANARY_IN.items():
        if rel.startswith("report/"):
            continue
        assert text.strip() in (out / rel).read_text(), rel
        assert (out / (rel + ".new")).is_file(), rel
    assert (out / "plan.yaml.new").is_file() and f"# {CANARY} plan note" in (out / "plan.yaml").read_text()


def test_a_broken_plan_edit_names_the_line(stack: tuple[Path, Path]) -> None:
    root, out = stack
    plan = out / "plan.yaml"
    lines = plan.read_text().splitlines(keepends=True)
    n = next(i for i, ln in enumerate(lines) if ln.startswith("  strategy: "))
    lines[n] = "  strategy: teleport\n"
    plan.write_text("".join(lines))
    again = _modernize("run", str(root), "-o", str(out))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert f"plan.yaml:{n + 1}" in again.stderr, again.stderr
    assert "teleport" in plan.read_text()  # kept as it was


def test_a_service_gone_from_the_inventory_is_marked_not_dropped(stack: tuple[Path, Path], tmp_path: Path) -> None:
    _root, out = stack
    _edit_plan(out)  # an edited plan is re-planned field by field
    inv = json.loads((out / "inventory.json").read_text())
    inv["services"] = [s for s in inv["services"] if s["software"] != "redis"]
    gone = {s["id"] for s in json.loads((out / "inventory.json").read_text())["services"]} - {
        s["id"] for s in inv["services"]
    }
    inv["dependencies"] = [d for d in inv["dependencies"] if d["target"] not in gone and d["source"] not in gone]
    (tmp_path / "later.json").write_text(json.dumps(inv))
    again = _modernize("plan", str(tmp_path / "later.json"), "-o", str(out / "plan.yaml"))
    assert again.returncode == 1 and "gone: true" in again.stderr, again.stdout + again.stderr
    by = {s["name"]: s for s in yaml.safe_load((out / "plan.yaml").read_text())["services"]}
    assert by["redis"]["gone"] is True and by["redis"]["image"] == "registry.example.com/redis:7.0.15"
    assert "sshd" not in by and not (out / "plan.yaml.new").exists()


# -- modernize diff ------------------------------------------------------------------------


def test_diff_of_two_scans_of_a_changed_server(tmp_path: Path) -> None:
    root = materialize("python-web", tmp_path)
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    assert _modernize("scan", str(root), "-o", str(before), "-q").returncode == 0
    conf = root / "etc/redis/redis.conf"
    conf.write_text(conf.read_text().replace("\nport 6379", "\nport 6380"))
    (root / "etc/cron.d/rotate").write_text("0 3 * * * root /usr/local/bin/rotate-all\n")
    assert _modernize("scan", str(root), "-o", str(after), "-q").returncode == 0
    same = _modernize("diff", str(before), str(before))
    assert same.returncode == 0 and "no differences between the two inventories" in same.stdout
    text = _modernize("diff", str(before), str(after))
    assert text.returncode == 1
    assert "~ service redis\n    ports: +6380/tcp@127.0.0.1" in text.stdout
    assert "+ cron job 0 3 * * * root /usr/local/bin/rotate-all (/etc/cron.d/rotate)" in text.stdout
    # the app still names port 6379: no longer redis's, so the dependency turns external
    assert "- dependency python-app:/srv/intranet -> redis (REDIS_URL)" in text.stdout
    data = json.loads(_modernize("diff", str(before), str(after), "--json").stdout)
    assert data["services"]["changed"]["redis"]["ports"]["removed"] == ["6379/tcp@127.0.0.1", "6379/tcp@::1"]
    assert data["services"]["added"] == [] and data["packages"] == {"added": [], "removed": [], "changed": {}}


def test_diff_of_two_plans(stack: tuple[Path, Path], tmp_path: Path) -> None:
    _root, out = stack
    edited = tmp_path / "edited.yaml"
    edited.write_text((out / "plan.yaml").read_text().replace("image: redis:", "image: mirror.example.com/redis:", 1))
    res = _modernize("diff", str(out / "plan.yaml"), str(edited))
    assert res.returncode == 1 and "~ service redis\n    image: redis:" in res.stdout
    assert "-> mirror.example.com/redis:" in res.stdout
    mixed = _modernize("diff", str(out / "inventory.json"), str(edited))
    assert mixed.returncode == 2 and "compare two of a kind" in mixed.stderr
