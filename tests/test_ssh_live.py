"""`modernize scan ssh://...` against a real sshd in a network namespace (tests/ssh_rig.py).

Slow: the first run debootstraps the rig's tree (cached afterwards). Every
connection goes to the rig's own namespace, never further.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_tree import materialize
from tests.ssh_rig import Rig, RigUnavailable, User, link_behind, make_rig
from tests.test_capture import generated

pytestmark = pytest.mark.slow

USERS = [
    User("mzscan", 2001),
    User("mzhang", 2002, "/usr/local/bin/rig-hang"),
    User("mzdrop", 2003, "/usr/local/bin/rig-drop"),
]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    work = tmp_path_factory.mktemp("rig")
    fixture = materialize("python-web", work / "fixture")
    try:
        made = make_rig(1, fixture, work / "rig", USERS)
    except RigUnavailable as exc:
        pytest.skip(str(exc))
    # a file only root may read, for the unprivileged scan
    conf = made.merged / "etc/redis/redis.conf"
    conf.chmod(0o600)
    try:
        yield made
    finally:
        made.teardown()


@pytest.fixture()
def client(rig: Rig, tmp_path: Path) -> tuple[Path, Path]:
    """An SSH config naming the rig, and a known_hosts that knows its key."""
    known = tmp_path / "known_hosts"
    known.write_text(rig.known_hosts_line())
    return rig.ssh_config(tmp_path / "ssh_config", known), known


def scan(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "MODERNIZE_SSH_PASSWORD")}
    return subprocess.run(
        [sys.executable, "-m", "modernize", "scan", "-q", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def services(inv: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in inv["services"]}


def test_ssh_scan_is_the_directory_scan_plus_runtime_facts(rig: Rig, client: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = client
    started = time.monotonic()
    over_ssh = scan("ssh://rig", "--ssh-config", str(config), "-o", str(tmp_path / "ssh.json"))
    took = time.monotonic() - started
    assert over_ssh.returncode == 0, over_ssh.stderr
    from_dir = scan(str(rig.merged), "-o", str(tmp_path / "dir.json"))
    assert from_dir.returncode == 0, from_dir.stderr
    live = json.loads((tmp_path / "ssh.json").read_text())
    disk = json.loads((tmp_path / "dir.json").read_text())
    assert live["source"]["kind"] == "ssh" and live["source"]["location"] == "ssh://rig"
    for key in ("host", "packages", "users", "groups", "config_changes", "cron_jobs"):
        assert live.get(key) == disk.get(key), key
    # every service found on disk is found over SSH; what is new comes from the runtime facts
    assert set(services(disk)) <= set(services(live))
    for sid in set(services(live)) - set(services(disk)):
        assert services(live)[sid].get("classified") is False, sid
    # observed: sshd and redis are running and listening (no ss or netstat in the rig: /proc/net)
    observed = {
        (sid, p["port"])
        for sid, s in services(live).items()
        for p in s.get("ports", [])
        if p.get("source") == "observed"
    }
    assert ("sshd", 22) in {(sid.split(":")[0], port) for sid, port in observed}, observed
    assert any(port == 6379 for _sid, port in observed), observed
    assert took < 120


def test_a_target_without_ss_or_netstat_is_read_from_proc_net(
    rig: Rig, client: tuple[Path, Path], tmp_path: Path
) -> None:
    # the rig is Debian minbase: no iproute2 (ss), no net-tools (netstat)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin"):
        for tool in ("ss", "netstat"):
            assert not (rig.merged / d / tool).exists(), f"/{d}/{tool}"
    out = tmp_path / "x.json"
    done = scan("ssh://rig", "--ssh-config", str(client[0]), "-o", str(out))
    assert done.returncode == 0, done.stderr
    inv = json.loads(out.read_text())
    notes = {s["path"]: s["reason"] for s in inv["coverage"]["skipped"]}
    assert "neither ss nor netstat" in notes["/.modernize/runtime/listening.jsonl"]
    # and the fallback found the listener's owner (through /proc/PID/fd): the service is named by
    # redis-server's executable (Debian links it to redis-check-rdb)
    redis = [s for s in inv["services"] if any(p["port"] == 6379 and p.get("source") == "observed" for p in s["ports"])]
    assert [s["id"] for s in redis] == ["process:/usr/bin/redis-check-rdb"]


def test_unknown_host_key_stops_unless_accepted(rig: Rig, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    config = rig.ssh_config(tmp_path / "ssh_config", known)
    refused = scan("ssh://rig", "--ssh-config", str(config), "--only", "os", "-o", str(tmp_path / "a.json"))
    assert refused.returncode == 2
    assert "not in" in refused.stderr and "--accept-new-host-key" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "a.json").exists()
    accepted = scan(
        "ssh://rig",
        "--ssh-config",
        str(config),
        "--accept-new-host-key",
        "--only",
        "os",
        "-o",
        str(tmp_path / "b.json"),
    )
    assert accepted.returncode in (0, 1), accepted.stderr
    assert rig.known_hosts_line().split()[2] in known.read_text()


def test_changed_host_key_always_stops(rig: Rig, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    known.write_text(
        f"{rig.address} {(tmp_path / 'other.pub').read_text().split()[0]} {(tmp_path / 'other.pub').read_text().split()[1]}\n"
    )
    config = rig.ssh_config(tmp_path / "ssh_config", known)
    for extra in ([], ["--accept-new-host-key"]):
        done = scan("ssh://rig", "--ssh-config", str(config), *extra, "--only", "os", "-o", str(tmp_path / "x.json"))
        assert done.returncode == 2
        assert "CHANGED" in done.stderr and "ssh-keygen -R" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_wrong_key_is_refused_clearly(rig: Rig, client: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = client
    wrong = tmp_path / "wrong"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    config.write_text(config.read_text().replace(str(rig.client_key), str(wrong)))
    done = scan("ssh://rig", "--ssh-config", str(config), "--only", "os", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert "login as 'root' refused" in done.stderr and str(wrong) in done.stderr
    assert "Traceback" not in done.stderr


def test_unprivileged_login_says_what_it_could_not_read(rig: Rig, client: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = client
    out = tmp_path / "mzscan.json"
    done = scan("ssh://mzscan@rig", "--ssh-config", str(config), "-o", str(out))
    assert done.returncode == 0, done.stderr
    inv = json.loads(out.read_text())
    skipped = {s["path"]: s["reason"] for s in inv["coverage"]["skipped"]}
    assert skipped.get("/etc/redis/redis.conf") == "denied", skipped
    assert skipped.get("/root") == "denied", skipped  # a directory mzscan may not enter
    assert inv["host"]["hostname"] == "web01"  # what mzscan may read is read


def test_sudo_refused_is_reported(rig: Rig, client: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = client
    done = scan("ssh://mzscan@rig", "--ssh-config", str(config), "--sudo", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert "sudo" in done.stderr and "Traceback" not in done.stderr


def test_a_command_that_hangs_times_out(rig: Rig, client: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = client
    started = time.monotonic()
    done = scan(
        "ssh://mzhang@rig",
        "--ssh-config",
        str(config),
        "--command-timeout",
        "2",
        "-o",
        str(tmp_path / "x.json"),
        timeout=90,
    )
    assert done.returncode == 2
    assert "no data for 2 s" in done.stderr and "tried 3 times" in done.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "x.json").exists()


def test_a_connection_dropped_mid_stream_is_retried_then_reported(
    rig: Rig, client: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = client
    out = tmp_path / "x.json"
    done = scan("ssh://mzdrop@rig", "--ssh-config", str(config), "--command-timeout", "10", "-o", str(out), timeout=120)
    # the login shell cuts every reply after 100 kB: the listing comes whole, the files do not
    assert "tried 3 times" in done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr
    inv = json.loads(out.read_text())
    assert inv["coverage"]["complete"] is False  # marked incomplete: what was read, and no more


# -- through a bastion ----------------------------------------------------------------
@pytest.fixture(scope="module")
def bastion(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Rig, str]]:
    """A second sshd (its own namespace, its own key), and the target's address behind it."""
    try:
        made = make_rig(2, None, tmp_path_factory.mktemp("bastion"), [User("mzjump", 2101)])
    except RigUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield made, link_behind(rig, made, 1)
    finally:
        made.teardown()


def jump_config(rig: Rig, bastion: Rig, inner: str, tmp_path: Path, *, jump_user: str = "mzjump") -> Path:
    (tmp_path / "jump").mkdir()
    known = tmp_path / "jump/known_hosts"
    target_key = (rig.merged / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
    known.write_text(f"{bastion.known_hosts_line()}{inner} {target_key[0]} {target_key[1]}\n")
    config = tmp_path / "jump/ssh_config"
    config.write_text(
        f"Host bastion\n  HostName {bastion.address}\n  User {jump_user}\n  IdentityFile {bastion.client_key}\n"
        f"Host target\n  HostName {inner}\n  User root\n  IdentityFile {rig.client_key}\n  ProxyJump bastion\n"
        f"Host *\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  ConnectTimeout 5\n"
    )
    return config


def test_proxyjump_through_a_bastion_gives_the_direct_scan(
    rig: Rig, bastion: tuple[Rig, str], client: tuple[Path, Path], tmp_path: Path
) -> None:
    jump, inner = bastion
    # the host has no route of its own to the inner address: only the bastion reaches it
    route = subprocess.run(["ip", "-o", "route", "get", inner], capture_output=True, text=True).stdout
    assert rig.host_veth not in route and jump.host_veth not in route, route
    config = jump_config(rig, jump, inner, tmp_path)
    through = scan("ssh://target", "--ssh-config", str(config), "-o", str(tmp_path / "jump.json"))
    assert through.returncode == 0, through.stderr
    direct = scan("ssh://rig", "--ssh-config", str(client[0]), "-o", str(tmp_path / "direct.json"))
    assert direct.returncode == 0, direct.stderr
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("jump.json", "direct.json"))
    assert a["source"]["location"] == "ssh://target"
    assert {k: v for k, v in a.items() if k != "source"} == {k: v for k, v in b.items() if k != "source"}
    assert any(p.get("source") == "observed" and p["port"] == 6379 for s in a["services"] for p in s["ports"])


def test_a_bastion_that_refuses_the_login_is_named(rig: Rig, bastion: tuple[Rig, str], tmp_path: Path) -> None:
    jump, inner = bastion
    config = jump_config(rig, jump, inner, tmp_path, jump_user="nobody-here")
    done = scan("ssh://target", "--ssh-config", str(config), "--only", "os", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert f"ssh://nobody-here@{jump.address}" in done.stderr and "refused" in done.stderr, done.stderr
    assert f"ssh://root@{inner}:22: the jump host refused" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.json").exists()


# -- capture bundles -------------------------------------------------------------------
def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "MODERNIZE_SSH_PASSWORD")}
    return subprocess.run(
        [sys.executable, "-m", "modernize", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


# what sshd itself records of a login (not the collector's doing)
LOGIN_RECORDS = ("var/log/wtmp", "var/log/btmp", "var/log/lastlog", "run/utmp", "run/sshd")


def upper_state(rig: Rig) -> dict[str, tuple[int, int, int]]:
    upper = rig.work / "upper"
    out = {}
    for path in upper.rglob("*"):
        rel = str(path.relative_to(upper))
        if not rel.startswith(LOGIN_RECORDS):
            st = path.lstat()
            out[rel] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("login", ["rig", "mzscan@rig"])
def test_a_capture_of_the_live_host_scans_and_runs_offline_the_same(
    login: str, rig: Rig, client: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = client
    url = f"ssh://{login}"
    bundle = tmp_path / "rig.tar.zst"
    before = upper_state(rig)
    made = cli("capture", url, "--ssh-config", str(config), "-o", str(bundle))
    assert made.returncode == 0, made.stderr
    assert upper_state(rig) == before  # nothing written on the host
    assert scan(url, "--ssh-config", str(config), "-o", str(tmp_path / "live.json")).returncode == 0
    assert scan(str(bundle), "-o", str(tmp_path / "cap.json")).returncode == 0
    live = json.loads((tmp_path / "live.json").read_text())
    cap = json.loads((tmp_path / "cap.json").read_text())
    assert {k: v for k, v in cap.items() if k != "source"} == {k: v for k, v in live.items() if k != "source"}
    assert cap["source"]["captured_from"] == url and cap["source"]["captured_kind"] == "ssh"
    # the runtime facts came along: redis observed listening, offline
    assert any(p.get("source") == "observed" and p["port"] == 6379 for s in cap["services"] for p in s["ports"])
    if login.startswith("mzscan"):
        skipped = {s["path"]: s["reason"] for s in cap["coverage"]["skipped"]}
        assert skipped.get("/etc/redis/redis.conf") == "denied"
        return
    a, b = tmp_path / "a", tmp_path / "b"
    over_ssh = cli("run", "-q", url, "--ssh-config", str(config), "-o", str(a))
    assert over_ssh.returncode == 0, over_ssh.stderr
    offline = cli("run", "-q", str(bundle), "-o", str(b))
    assert offline.returncode == 0, offline.stderr
    assert generated(b) == generated(a)
    assert any(rel.startswith("services/") for rel in generated(a))
    # the plan names the live host: generate connects to it again for the files it copies
    assert "ssh://rig" in (a / "plan.yaml").read_text()
    again = cli("generate", str(a / "plan.yaml"), "-o", str(tmp_path / "c"), "--ssh-config", str(config))
    assert again.returncode == 0, again.stderr
    by_generate = {k: v for k, v in generated(tmp_path / "c").items() if k != "plan.yaml"}
    by_run = generated(a)
    assert any(k.startswith("services/") for k in by_generate)
    assert by_generate == {k: by_run[k] for k in by_generate}  # run also writes the report; the rest is the same


# -- fleets ----------------------------------------------------------------------------
def test_a_fleet_of_two_aliases_and_an_ansible_inventory(rig: Rig, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(rig.known_hosts_line())
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host rig rig-again\n  HostName {rig.address}\n  User root\n  IdentityFile {rig.client_key}\n"
        f"Host *\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  ConnectTimeout 5\n"
    )
    out = tmp_path / "fleet"
    done = cli("scan", "ssh://rig", "ssh://rig-again", "--ssh-config", str(config), "-o", str(out), "-j", "2")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "fleet.json").read_text())
    assert [(h["name"], h["status"], h["inventory"]) for h in summary["hosts"]] == [
        ("rig", "ok", "rig.json"),
        ("rig-again", "ok", "rig-again.json"),
    ]
    one, two = (json.loads((out / f).read_text()) for f in ("rig.json", "rig-again.json"))
    assert one["host"] == two["host"] and {s["id"] for s in one["services"]} == {s["id"] for s in two["services"]}
    # an Ansible inventory: its user and key per host, the SSH config's known_hosts
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        f"[web]\nweb01 ansible_host={rig.address} ansible_user=mzscan "
        f"ansible_ssh_private_key_file={rig.client_key}\n"
        f"[web:vars]\nansible_port=22\n"
    )
    out2 = tmp_path / "fleet2"
    done = cli("scan", str(inventory), "--ssh-config", str(config), "-o", str(out2))
    assert done.returncode == 0, done.stderr
    inv = json.loads((out2 / "web01.json").read_text())
    assert inv["source"]["location"] == f"ssh://mzscan@{rig.address}:22"
    skipped = {s["path"]: s["reason"] for s in inv["coverage"]["skipped"]}
    assert skipped.get("/root") == "denied"  # it logged in as mzscan, not root


# -- Ansible ---------------------------------------------------------------------------
PLAYBOOK = Path(__file__).resolve().parent.parent / "docs/ansible/collect.yml"


def test_the_ansible_playbook_collects_a_bundle_that_scans_as_the_ssh_scan(
    rig: Rig, client: tuple[Path, Path], tmp_path: Path
) -> None:
    """docs/ansible/collect.yml with ansible-core (from PyPI, the dev extras) against the
    rig: its bundle scans to the SSH scan's inventory, and the host keeps nothing of it."""
    config, known = client
    playbook = Path(sys.executable).parent / "ansible-playbook"
    if not playbook.exists():
        pytest.skip("ansible-core is not installed (pip install -e '.[dev]')")
    hosts = tmp_path / "hosts.ini"
    hosts.write_text(
        f"[servers]\nrig ansible_host={rig.address} ansible_user=root ansible_ssh_private_key_file={rig.client_key}\n"
        f"[servers:vars]\nansible_ssh_common_args='-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes'\n"
    )
    out = tmp_path / "bundles"
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK",) and not k.startswith("ANSIBLE_")}
    env |= {"ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PYTHON_INTERPRETER": sys.executable}  # fmt: skip
    before = upper_state(rig)
    done = subprocess.run(
        [str(playbook), "-i", str(hosts), str(PLAYBOOK), "-e", f"modernize_out={out}",
         "-e", f"modernize_cmd={Path(sys.executable).parent / 'modernize'}"],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "rig" in done.stdout and "failed=0" in done.stdout
    # Ansible made its ~/.ansible/tmp (so /root changed) and emptied it; nothing else changed on the host
    ansible = ("root/.ansible", "root")
    after = {k: v for k, v in upper_state(rig).items() if k != "root" and not k.startswith("root/.ansible")}
    assert after == {k: v for k, v in before.items() if k not in ansible}
    leftovers = (
        list((rig.merged / "root/.ansible/tmp").glob("*")) if (rig.merged / "root/.ansible/tmp").exists() else []
    )
    assert leftovers == []
    bundle = out / "rig.tar.zst"
    assert sorted(p.name for p in (out / "rig.rounds").glob("*.sh")) == [
        f"round-{n}.sh" for n in range(1, len(list((out / "rig.rounds").glob("*.sh"))) + 1)
    ]
    assert scan(str(bundle), "-o", str(tmp_path / "relay.json")).returncode == 0
    assert scan("ssh://rig", "--ssh-config", str(config), "-o", str(tmp_path / "live.json")).returncode == 0
    relay = json.loads((tmp_path / "relay.json").read_text())
    live = json.loads((tmp_path / "live.json").read_text())
    assert relay["source"]["captured_kind"] == "relay"
    assert {k: v for k, v in relay.items() if k != "source"} == {k: v for k, v in live.items() if k != "source"}
    assert any(p.get("source") == "observed" and p["port"] == 6379 for s in relay["services"] for p in s["ports"])
