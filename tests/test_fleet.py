"""A fleet at once: sources from arguments, @lists and Ansible inventories, scanned concurrently."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from modernize.errors import UserError
from modernize.fleet import ansible
from modernize.fleet.targets import Target, expand, file_names, is_fleet
from tests.fixture_tree import materialize

ENV = {**os.environ, "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1"}
ENV.pop("SSH_AUTH_SOCK", None)


def modernize(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modernize", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_fleet_goes_on_when_a_host_is_down(tmp_path: Path) -> None:
    web = materialize("python-web", tmp_path / "hosts")
    cms = materialize("lamp", tmp_path / "hosts")
    down = f"ssh://127.0.0.1:{closed_port()}"
    out = tmp_path / "fleet"
    done = modernize("scan", str(web), down, str(cms), "-o", str(out), "-j", "3", "--connect-timeout", "2")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads((out / "fleet.json").read_text())
    hosts = {h["name"]: h for h in summary["hosts"]}
    assert [h["name"] for h in summary["hosts"]] == ["python-web", "127.0.0.1", "lamp"]  # the order given
    assert hosts["python-web"]["status"] == "ok" and hosts["python-web"]["hostname"] == "web01"
    assert hosts["lamp"]["status"] == "ok" and hosts["lamp"]["inventory"] == "lamp.json"
    failed = hosts["127.0.0.1"]
    assert failed["status"] == "failed" and failed["inventory"] is None and failed["exit_code"] == 2
    assert "cannot connect" in failed["error"]
    assert sorted(p.name for p in out.iterdir()) == ["fleet.json", "lamp.json", "python-web.json"]
    assert json.loads((out / "python-web.json").read_text())["host"]["hostname"] == "web01"
    # the per-host summary at the end names the failure; progress lines came per host
    assert "127.0.0.1" in done.stdout and "failed" in done.stdout and "cannot connect" in done.stdout
    assert done.stderr.count("] ok ") == 2 and "FAILED" in done.stderr
    # the fleet report from the folder, by its summary or by its files
    by_summary = modernize("report", str(out / "fleet.json"), "-o", str(tmp_path / "r1"))
    assert by_summary.returncode == 0, by_summary.stderr
    files = sorted(str(p) for p in out.glob("*.json"))
    by_files = modernize("report", *files, "-o", str(tmp_path / "r2"))
    assert by_files.returncode == 0, by_files.stderr
    r1 = json.loads((tmp_path / "r1/report.json").read_text())
    assert sorted(h["hostname"] for h in r1["hosts"]) == ["cms01", "web01"]
    assert (tmp_path / "r1/report.json").read_bytes() == (tmp_path / "r2/report.json").read_bytes()


def test_a_host_that_fails_on_a_later_run_leaves_no_inventory_passing_for_this_one(tmp_path: Path) -> None:
    web = materialize("python-web", tmp_path / "hosts")
    cms = materialize("lamp", tmp_path / "hosts")
    out = tmp_path / "fleet"
    assert modernize("scan", str(web), str(cms), "-o", str(out)).returncode == 0
    earlier = (out / "lamp.json").read_bytes()
    shutil.rmtree(cms)  # the source is gone: exit 2, nothing written
    again = modernize("scan", str(web), str(cms), "-o", str(out))
    assert again.returncode == 1, again.stderr
    hosts = {h["name"]: h for h in json.loads((out / "fleet.json").read_text())["hosts"]}
    assert hosts["lamp"]["status"] == "failed" and hosts["lamp"]["inventory"] is None
    assert "an earlier run's inventory is now lamp.json.previous" in hosts["lamp"]["error"]
    assert sorted(p.name for p in out.iterdir()) == ["fleet.json", "lamp.json.previous", "python-web.json"]
    assert (out / "lamp.json.previous").read_bytes() == earlier  # kept, not lost
    report = modernize("report", *sorted(str(p) for p in out.glob("*.json")), "-o", str(tmp_path / "r"))
    assert report.returncode == 0, report.stderr
    assert [h["hostname"] for h in json.loads((tmp_path / "r/report.json").read_text())["hosts"]] == ["web01"]


def test_an_at_list_names_sources_relative_to_itself_and_names_stay_unique(tmp_path: Path) -> None:
    a = materialize("alpine", tmp_path / "a")
    b = materialize("alpine", tmp_path / "b")
    (tmp_path / "a/alpine").rename(tmp_path / "a/root")
    (tmp_path / "b/alpine").rename(tmp_path / "b/root")
    del a, b
    listing = tmp_path / "hosts.txt"
    listing.write_text("# two hosts whose folders share a name\na/root\n\nb/root\n")
    out = tmp_path / "out"
    done = modernize("scan", "-q", f"@{listing}", "-o", str(out), "--only", "os")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "fleet.json").read_text())
    assert [h["inventory"] for h in summary["hosts"]] == ["root.json", "root-2.json"]
    assert done.stdout == ""  # -q: no progress, no summary


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["@nope.txt"], "no such file"),
        (["a", "b", "-o", "-"], "writes a folder"),
        (["a", "b", "-j", "0"], "0"),
        (["bad.ini"], "bad.ini:2"),
        (["ssh://bad host", "x"], "not a host name"),
    ],
)
def test_bad_fleet_input_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "bad.ini").write_text("[web]\nweb01 ansible_port\n")
    done = modernize("scan", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "inventories").exists()


INI = """\
# the example of Ansible's docs, and then some
mail.example.com

[webservers]
foo.example.com
bar.example.com ansible_host=10.0.0.7 ansible_user=deploy
web[01:03].example.com

[dbservers]
one.example.com ansible_port=2222
db-[a:b].example.com:5309

[dbservers:vars]
ansible_user=postgres
ansible_ssh_private_key_file=~/keys/db.pem

[atlanta:children]
webservers

[atlanta:vars]
ansible_user=atl

[all:vars]
ansible_user=ops
ansible_port=22
"""

YAML = """\
all:
  vars:
    ansible_user: ops
  hosts:
    mail.example.com:
  children:
    webservers:
      hosts:
        foo.example.com:
        bar.example.com:
          ansible_host: 10.0.0.7
          ansible_user: deploy
        web[01:03].example.com:
    dbservers:
      vars:
        ansible_user: postgres
        ansible_ssh_private_key_file: ~/keys/db.pem
      hosts:
        one.example.com:
          ansible_port: 2222
        db-[a:b].example.com:5309:
    atlanta:
      vars:
        ansible_user: atl
      children:
        webservers:
"""


def _by_name(targets: list[Target]) -> dict[str, Target]:
    return {t.name: t for t in targets}


@pytest.mark.parametrize("form", ["ini", "yaml"])
def test_an_ansible_inventory_becomes_ssh_targets(form: str, tmp_path: Path) -> None:
    path = tmp_path / f"hosts.{form}"
    path.write_text(INI if form == "ini" else YAML)
    assert is_fleet([str(path)])
    targets = expand([str(path)])
    got = _by_name(targets)
    key = os.path.expanduser("~/keys/db.pem")
    port = ":22" if form == "ini" else ""  # the INI sets ansible_port for all
    assert got["mail.example.com"] == Target("mail.example.com", f"ssh://ops@mail.example.com{port}")
    # a child group's vars win over its parent's, the host's own over both
    assert got["foo.example.com"].source == f"ssh://atl@foo.example.com{port}"
    assert got["bar.example.com"].source == f"ssh://deploy@10.0.0.7{port}"
    assert [n for n in got if n.startswith("web")] == ["web01.example.com", "web02.example.com", "web03.example.com"]
    assert got["one.example.com"] == Target("one.example.com", "ssh://postgres@one.example.com:2222", key)
    assert got["db-a.example.com"] == Target("db-a.example.com", "ssh://postgres@db-a.example.com:5309", key)
    assert "db-b.example.com" in got
    assert len(targets) == 9


def test_ansible_details() -> None:
    assert ansible.expand_range("n[8:10]", "x") == ["n8", "n9", "n10"]
    assert ansible.expand_range("n[08:10]", "x") == ["n08", "n09", "n10"]
    assert ansible.expand_range("n[0:10:5]", "x") == ["n0", "n5", "n10"]
    with pytest.raises(UserError, match="more than"):
        ansible.expand_range("n[0:99999999]", "x")
    hosts = ansible.parse("[g]\nh1 ansible_host='10.1.1.1' # the first\nh2:2200\n", "inv")
    assert [(h.name, h.vars) for h in hosts] == [("h1", {"host": "10.1.1.1"}), ("h2", {"port": "2200"})]
    with pytest.raises(UserError, match="no hosts"):
        ansible.parse("[empty]\n", "inv")
    # a plain text file that is no inventory is not taken for one
    assert not is_fleet([__file__])
    local = expand_yaml_local()
    assert local == [Target("me", "local")]


def expand_yaml_local() -> list[Target]:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write("all:\n  hosts:\n    me:\n      ansible_connection: local\n")
    try:
        return expand([f.name])
    finally:
        os.unlink(f.name)


def test_file_names_are_safe_and_unique() -> None:
    targets = [Target(n, n) for n in ("web01", "WEB01", "../etc/passwd", "fleet", "a b:c", "", "web01")]
    assert file_names(targets) == ["web01", "WEB01-2", "etc_passwd", "fleet-2", "a_b_c", "host", "web01-3"]
