"""Live sources without a live host: URLs, ~/.ssh/config, the collector run locally with
sh against a temporary tree, and the parsers of tool output."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import paramiko
import pytest

from modernize.errors import UserError
from modernize.live import runtime_facts as R
from modernize.live.collector import fetch_script, survey_script
from modernize.live.frames import parse_survey
from modernize.live.target import Target, parse_url, resolve
from modernize.snapshot.base import DIR, FILE, SYMLINK, ReadStatus
from modernize.snapshot.declarations import Declaration, ReadMode, keep_lines
from modernize.snapshot.live import LiveSnapshot, parse_listing
from modernize.snapshot.ssh import FetchReply, read_fetch_reply


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("ssh://web01", Target("web01")),
        ("ssh://deploy@web01.example.com:2222", Target("web01.example.com", "deploy", 2222)),
        ("ssh://[2001:db8::1]:22", Target("2001:db8::1", None, 22)),
        ("ssh://ops@10.0.0.5/", Target("10.0.0.5", "ops")),
    ],
)
def test_urls(url: str, target: Target) -> None:
    assert parse_url(url) == target


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ssh://u:secret@h", "no passwords in URLs"),
        ("ssh://h/etc", "no path"),
        ("ssh://h:99999", "port"),
        ("ssh://h:0", "port"),
        ("ssh://", "no host"),
        ("ssh://bad host", "not a host"),
        ("http://h", "not an ssh:// URL"),
    ],
)
def test_bad_urls_say_why(url: str, says: str) -> None:
    with pytest.raises(UserError, match=says) as err:
        parse_url(url)
    assert "secret" not in str(err.value)


def _config(text: str) -> paramiko.SSHConfig:
    return paramiko.SSHConfig.from_text(text)


def test_ssh_config_alias_user_port_key_and_jump(tmp_path: Path) -> None:
    cfg = _config(
        f"""
Host bastion
  HostName 192.0.2.10
  User jump
  Port 2200
Host app
  HostName 10.1.2.3
  User deploy
  Port 2222
  IdentityFile {tmp_path}/id_app
  IdentitiesOnly yes
  ProxyJump bastion
  UserKnownHostsFile {tmp_path}/kh
"""
    )
    ep = resolve(parse_url("ssh://app"), cfg)
    assert (ep.hostname, ep.port, ep.user) == ("10.1.2.3", 2222, "deploy")
    assert ep.identity_files == (f"{tmp_path}/id_app",) and ep.identities_only
    assert ep.known_hosts == (f"{tmp_path}/kh",)
    assert [(j.hostname, j.port, j.user) for j in ep.jumps] == [("192.0.2.10", 2200, "jump")]
    # the URL's user and port win over the config
    ep = resolve(parse_url("ssh://root@app:22"), cfg)
    assert (ep.user, ep.port) == ("root", 22)


def test_proxyjump_chains_and_loops() -> None:
    cfg = _config("Host a\n  ProxyJump b\nHost b\n  ProxyJump ops@c:2022\nHost loop\n  ProxyJump loop\n")
    ep = resolve(parse_url("ssh://a"), cfg)
    assert [(j.alias, j.user, j.port) for j in ep.jumps][-1] == ("b", ep.jumps[-1].user, 22)
    assert (ep.jumps[0].alias, ep.jumps[0].user, ep.jumps[0].port) == ("c", "ops", 2022)
    with pytest.raises(UserError, match="ProxyJump hops"):
        resolve(parse_url("ssh://loop"), cfg)


def test_proxycommand_is_refused_clearly() -> None:
    with pytest.raises(UserError, match="ProxyCommand"):
        resolve(parse_url("ssh://x"), _config("Host x\n  ProxyCommand nc %h %p\n"))


# -- the collector, run here with sh against a temporary tree ------------------------------------
@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc/app").mkdir(parents=True)
    (root / "etc/hostname").write_text("box\n")
    (root / "etc/app/app.conf").write_text("port = 8080\n")
    (root / "etc/app/secret.conf").write_text("x\n")
    (root / "srv").mkdir()
    (root / "srv/big.bin").write_bytes(b"\x7fELF" + bytes(range(256)) * 100)
    (root / "srv/link").symlink_to("../etc/hostname")
    (root / "srv/name with space.txt").write_text("ok\n")
    return root


def _run(script: bytes, prefix: bytes = b"") -> bytes:
    done = subprocess.run(["sh", "-s"], input=prefix + script, capture_output=True, check=True, timeout=60)
    return done.stdout


def _entries(root: Path, prefix: bytes = b"") -> dict[str, object]:
    survey = parse_survey(_run(survey_script(str(root)), prefix), "test")
    return {i.path: i for i in parse_listing(survey)}


def test_survey_lists_every_entry_with_its_metadata(tree: Path) -> None:
    entries = _entries(tree)
    assert entries["/etc/hostname"].kind == FILE and entries["/etc/hostname"].size == 4  # type: ignore[attr-defined]
    assert entries["/etc/app"].kind == DIR  # type: ignore[attr-defined]
    link = entries["/srv/link"]
    assert link.kind == SYMLINK and link.linkname == "../etc/hostname"  # type: ignore[attr-defined]
    assert "/srv/name with space.txt" in entries


# a find without -printf (busybox): the collector falls back to stat -c
NO_PRINTF = b'find() { for a; do [ "$a" = -printf ] && return 1; done; command find "$@"; }\n'


def test_survey_without_gnu_find_gives_the_same_listing(tree: Path) -> None:
    gnu = _entries(tree)
    fallback = _entries(tree, NO_PRINTF)
    assert set(fallback) == set(gnu)
    for path, info in gnu.items():
        other = fallback[path]
        assert (other.kind, other.size, other.mode, other.linkname) == (  # type: ignore[attr-defined]
            info.kind,  # type: ignore[attr-defined]
            info.size,  # type: ignore[attr-defined]
            info.mode,  # type: ignore[attr-defined]
            info.linkname,  # type: ignore[attr-defined]
        ), path


def test_survey_holds_runtime_facts(tree: Path) -> None:
    survey = parse_survey(_run(survey_script(str(tree))), "test")
    files = R.runtime_files(survey)
    procs = [line for line in files["processes.jsonl"].decode().splitlines() if line]
    assert procs and any(f'"pid": {os.getpid()}' in p for p in procs)
    assert b'"target": "/"' in files["mounts.jsonl"]


PACKAGES = (
    b"Package: redis-server\nVersion: 5:7.0.15-1~deb12u1\nDescription: Persistent key-value database\n"
    b" Version: not a field, a continuation line\n\nPackage: nginx\nSource: nginx\nVersion: 1.22.1-9\n"
    b"Description-md5: \x1e\xff binary-ish bytes\n\nPackage: last\nVersion: 1.0"  # no newline at the end
)


def test_fetch_sends_files_whole_in_one_tar_and_pieces_exactly(tree: Path) -> None:
    lists = tree / "var/lib/apt/lists"
    lists.mkdir(parents=True)
    (lists / "deb_Packages").write_bytes(PACKAGES)
    filt = "^(Package|Version):"
    script = fetch_script(
        ["/etc/hostname", "/etc/app/app.conf", "/srv/name with space.txt", "/etc/gone"],
        [
            ("head", "4", "/srv/big.bin"),
            ("tail", "3", "/srv/big.bin"),
            ("lines", filt, "/var/lib/apt/lists/deb_Packages"),
            ("lines", filt, "/var/lib/apt/lists/gone_Packages"),
        ],
        root=str(tree),
    )
    reply = FetchReply()
    read_fetch_reply(io.BufferedReader(io.BytesIO(_run(script))), "test", reply)  # type: ignore[arg-type]
    assert reply.errors == []
    got = reply.got
    assert got["/etc/hostname"] == (ReadMode.WHOLE, b"box\n")
    assert got["/srv/name with space.txt"][1] == b"ok\n"
    assert "/etc/gone" not in got and "/etc/gone" in reply.denied
    assert got["/srv/big.bin"] == (ReadMode.TAIL, bytes([253, 254, 255]))
    # the host's grep -E keeps exactly the lines Python's filter keeps (a directory scan's)
    lines = got["/var/lib/apt/lists/deb_Packages"]
    assert lines == (ReadMode.LINES, keep_lines(PACKAGES, filt))
    assert (
        lines[1]
        == b"Package: redis-server\nVersion: 5:7.0.15-1~deb12u1\nPackage: nginx\nVersion: 1.22.1-9\nPackage: last\nVersion: 1.0\n"
    )
    assert "/var/lib/apt/lists/gone_Packages" in reply.denied


def test_the_collector_writes_nothing(tree: Path, tmp_path: Path) -> None:
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    subprocess.run(["sh", "-s"], input=survey_script(str(tree)), capture_output=True, cwd=cwd, check=True)
    subprocess.run(
        ["sh", "-s"],
        input=fetch_script(["/etc/hostname"], [], root=str(tree)),
        capture_output=True,
        cwd=cwd,
        check=True,
    )
    after = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p != cwd)
    assert after == [b for b in before]
    assert list(cwd.iterdir()) == []


# -- denied is not missing -------------------------------------------------------------------------
def test_denied_directories_and_files_read_as_denied(tree: Path) -> None:
    survey = parse_survey(_run(survey_script(str(tree))), "test")
    survey.sections["id"] = b"1000\n1000\n"  # as an unprivileged user
    snap = LiveSnapshot("test")
    (tree / "etc/app").chmod(0o700)
    try:
        survey = parse_survey(_run(survey_script(str(tree))), "test")
    finally:
        (tree / "etc/app").chmod(0o755)
    survey.sections["id"] = b"1000\n1000\n"
    snap.load_survey(survey, {})
    snap.denied.add("/etc/hostname")
    snap.settle()
    assert snap.read("/etc/hostname").status is ReadStatus.DENIED
    assert snap.read("/etc/app/other.conf").status is ReadStatus.DENIED  # below a closed directory
    assert snap.read("/etc/nothing").status is ReadStatus.MISSING
    assert snap.coverage.reads["/etc/hostname"] is ReadStatus.DENIED


def test_plan_fetches_declared_files_and_pieces_of_large_ones(tree: Path) -> None:
    snap = LiveSnapshot("test", max_file_size=1000)
    snap.load_survey(parse_survey(_run(survey_script(str(tree))), "test"), {})
    wanted = snap.plan([Declaration("/etc/app/*.conf"), Declaration("/srv/*.bin", ReadMode.HEAD, 64)])
    files, pieces = snap.split_requests(wanted)
    assert "/etc/app/app.conf" in files and "/etc/hostname" in files  # declared, and kept speculatively
    assert pieces == [("head", "64", "/srv/big.bin")]


# -- tool output ---------------------------------------------------------------------------------------
def test_ss_netstat_and_proc_net_give_the_same_listeners() -> None:
    ss = 'tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=812,fd=6))\ntcp LISTEN 0 128 [::]:22 [::]:* users:(("sshd",pid=90,fd=3))\nudp UNCONN 0 0 127.0.0.1%lo:53 0.0.0.0:*\n'
    assert R.from_ss(ss) == [
        {"proto": "tcp", "address": "0.0.0.0", "port": 80, "pid": 812},
        {"proto": "tcp", "address": "::", "port": 22, "pid": 90},
        {"proto": "udp", "address": "127.0.0.1", "port": 53, "pid": None},
    ]
    netstat = "Proto Recv-Q Send-Q Local Address Foreign Address State PID/Program name\ntcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN 812/nginx\ntcp6 0 0 :::22 :::* LISTEN 90/sshd\n"
    assert R.from_netstat(netstat) == [
        {"proto": "tcp", "address": "0.0.0.0", "port": 80, "pid": 812},
        {"proto": "tcp", "address": "::", "port": 22, "pid": 90},
    ]
    sections = {
        "net_tcp": b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        b"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n"
        b"   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 4343 1\n",
        "net_tcp6": b"  sl  local_address\n"
        b"   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0 9090 1\n",
    }
    owners = R.socket_owners("/proc/812/fd/:\ntotal 0\nlrwx------ 1 root root 64 Jan 1 00:00 6 -> socket:[4242]\n")
    assert owners == {4242: 812}
    assert R.from_proc_net(sections, owners) == [
        {"proto": "tcp", "address": "0.0.0.0", "port": 80, "pid": 812},
        {"proto": "tcp", "address": "::", "port": 22, "pid": None},
    ]


def _path_without(tmp_path: Path, missing: set[str], fake_ss: str | None = None) -> bytes:
    """A PATH of this machine's tools minus MISSING (a host without them), maybe with a fake ss."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        for tool in Path(d).iterdir() if Path(d).is_dir() else ():
            link = bin_dir / tool.name
            if tool.name not in missing and not link.exists() and not link.is_symlink():
                link.symlink_to(tool)
    if fake_ss is not None:
        (bin_dir / "ss").write_text(f"#!/bin/sh\nprintf '%s\\n' '{fake_ss}'\n")
        (bin_dir / "ss").chmod(0o755)
    return f"PATH={bin_dir}\nexport PATH\n".encode()


def test_a_host_without_ss_or_netstat_is_read_from_proc_net(tree: Path, tmp_path: Path) -> None:
    # this process's own listener: found through /proc/net/tcp and its /proc/PID/fd
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        prefix = _path_without(tmp_path, {"ss", "netstat"})
        survey = parse_survey(_run(survey_script(str(tree)), prefix), "test")
    assert "ss" not in survey.sections and "netstat" not in survey.sections
    assert R.socket_source(survey) == "proc"
    assert "neither ss nor netstat" in (R.socket_note(survey) or "")
    assert {"proto": "tcp", "address": "127.0.0.1", "port": port, "pid": os.getpid()} in R.listening(survey)


def test_the_collector_takes_ss_when_the_host_has_it(tree: Path, tmp_path: Path) -> None:
    line = 'tcp LISTEN 0 511 0.0.0.0:8081 0.0.0.0:* users:(("fake",pid=4242,fd=6))'
    survey = parse_survey(_run(survey_script(str(tree)), _path_without(tmp_path, {"ss", "netstat"}, line)), "test")
    assert R.socket_source(survey) == "ss" and R.socket_note(survey) is None
    assert {"proto": "tcp", "address": "0.0.0.0", "port": 8081, "pid": 4242} in R.listening(survey)


def test_process_units_from_cgroups() -> None:
    assert R.unit_of("0::/system.slice/nginx.service\n") == "nginx.service"
    assert R.unit_of("1:name=systemd:/system.slice/redis-server.service\n0::/\n") == "redis-server.service"
    assert R.unit_of("0::/user.slice/user-1000.slice/session-3.scope\n") is None
    assert R.unit_of("0::/\n") is None


# -- the command line -------------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(
        [sys.executable, "-m", "modernize", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_cli_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    done = _cli("scan", "ssh://user:hunter2@host", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2 and "no passwords in URLs" in done.stderr
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr


def test_cli_unreachable_host_stops_after_bounded_retries(tmp_path: Path) -> None:
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused
        done = _cli(
            "scan",
            f"ssh://nobody@127.0.0.1:{port}",
            "--ssh-config",
            str(tmp_path / "none"),
            "-o",
            str(tmp_path / "x.json"),
        )
    assert done.returncode == 2
    assert "no such SSH config file" in done.stderr
    (tmp_path / "cfg").write_text("")
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        done = _cli(
            "scan",
            f"ssh://nobody@127.0.0.1:{port}",
            "--ssh-config",
            str(tmp_path / "cfg"),
            "--connect-timeout",
            "2",
            "-o",
            str(tmp_path / "x.json"),
        )
    assert done.returncode == 2 and "cannot connect" in done.stderr and "refused" in done.stderr.lower()
    assert not (tmp_path / "x.json").exists()


def test_cli_collector_prints_the_script() -> None:
    done = _cli("collector")
    assert done.returncode == 0 and done.stdout.startswith("#!/bin/sh")
    assert "mz_survey" in done.stdout and done.stdout.encode() == survey_script()


# -- a busybox host ----------------------------------------------------------------------------------
@pytest.fixture()
def busybox_path(tmp_path: Path) -> str:
    """A PATH of busybox applets only, as on Alpine or an appliance (Debian's busybox:
    its find has no -printf, its tar no -T)."""
    found = shutil.which("busybox")
    if found is None:
        pytest.skip("busybox is not installed (.ci/run installs it)")
    tools = tmp_path / "busybox-bin"
    tools.mkdir()
    listed = subprocess.run([found, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in listed:
        (tools / applet).symlink_to(found)
    return str(tools)


def test_a_busybox_host_lists_and_sends_what_a_gnu_host_does(tree: Path, busybox_path: str) -> None:
    def run(script: bytes, path: str | None) -> bytes:
        env = {"PATH": path} if path else None
        shell = f"{path}/sh" if path else "sh"
        return subprocess.run([shell, "-s"], input=script, capture_output=True, check=True, timeout=60, env=env).stdout

    gnu = parse_survey(run(survey_script(str(tree)), None), "gnu")
    bb = parse_survey(run(survey_script(str(tree)), busybox_path), "busybox")
    assert (gnu.listing_format, bb.listing_format) == ("gnu", "stat")  # busybox find has no -printf

    def entries(survey: object) -> dict[str, tuple[object, ...]]:
        return {i.path: (i.kind, i.size, i.mode, i.uid, i.gid, i.linkname) for i in parse_listing(survey)}  # type: ignore[arg-type]

    assert entries(bb) == entries(gnu)
    assert bb.processes and "mounts" in bb.sections
    files = ["/etc/hostname", "/etc/app/app.conf", "/srv/name with space.txt", "/etc/gone"]
    pieces = [("head", "4", "/srv/big.bin"), ("lines", "^port", "/etc/app/app.conf")]
    replies = []
    for path in (None, busybox_path):
        reply = FetchReply()
        data = run(fetch_script(files, pieces, root=str(tree)), path)
        read_fetch_reply(io.BufferedReader(io.BytesIO(data)), "test", reply)  # type: ignore[arg-type]
        replies.append(reply)
    gnu_reply, bb_reply = replies
    assert bb_reply.got == gnu_reply.got and bb_reply.denied == gnu_reply.denied == {"/etc/gone"}
    assert bb_reply.got["/srv/name with space.txt"] == (ReadMode.WHOLE, b"ok\n")  # sent as a frame, not a tar
