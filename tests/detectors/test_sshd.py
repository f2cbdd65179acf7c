from __future__ import annotations

import pytest

from detectors.sshd import SshdDetector, split_listen
from detectors.systemd import SystemdDetector
from detectors.sysv import SysvDetector
from modernize.model import Service
from modernize.snapshot.memory import Link
from tests.helpers import FIXTURES, inventory, service

MDF = FIXTURES / "mail-dns-files" / "root"
DEBIAN_MAIN = (MDF / "etc/ssh/sshd_config").read_text()
UNITS = FIXTURES / "mail-dns-files" / "root" / "usr/lib/systemd/system"


def sshd(files: dict[str, str | Link]) -> Service:
    return service(inventory([SshdDetector, SystemdDetector, SysvDetector], files), "sshd")


def tcp(svc: Service) -> set[tuple[str | None, int | None]]:
    return {(p.address, p.port) for p in svc.ports}


def test_debian_dropin_port_wins_over_commented_default() -> None:
    svc = sshd(
        {
            "/etc/ssh/sshd_config": DEBIAN_MAIN,
            "/etc/ssh/sshd_config.d/port.conf": (MDF / "etc/ssh/sshd_config.d/port.conf").read_text(),
        }
    )
    assert tcp(svc) == {("0.0.0.0", 2222), ("::", 2222)}
    ev = svc.ports[0].evidence[0]
    assert (ev.path, ev.line, ev.via) == ("/etc/ssh/sshd_config.d/port.conf", 2, ("/etc/ssh/sshd_config",))
    assert [f.path for f in svc.config_files] == ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/port.conf"]
    assert svc.plumbing and svc.kind == "remote-access"


def test_default_port_22_when_only_commented() -> None:
    svc = sshd({"/etc/ssh/sshd_config": DEBIAN_MAIN})
    assert tcp(svc) == {("0.0.0.0", 22), ("::", 22)}
    assert all(p.source == "default" for p in svc.ports)


def test_first_value_wins_and_match_blocks_are_not_global() -> None:
    svc = sshd(
        {
            "/etc/ssh/sshd_config": "Include sshd_config.d/*.conf\nPermitRootLogin yes\n"
            "Match User backup\n  PasswordAuthentication yes\n",
            "/etc/ssh/sshd_config.d/10-harden.conf": "permitrootlogin=no\nPasswordAuthentication no\n",
        }
    )
    attrs = dict(svc.attributes)
    assert attrs["PermitRootLogin"] == "no"  # the drop-in came first (relative Include under /etc/ssh)
    assert attrs["PasswordAuthentication"] == "no"


def test_match_inside_included_file_ends_with_that_file() -> None:
    svc = sshd(
        {
            "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n",
            "/etc/ssh/sshd_config.d/a.conf": "Match Address 10.0.0.0/8\n  PasswordAuthentication yes\n",
        }
    )
    assert dict(svc.attributes)["PasswordAuthentication"] == "no"


def test_ports_accumulate_and_listenaddress_pairs_with_them() -> None:
    svc = sshd(
        {
            "/etc/ssh/sshd_config": "Port 22\nPort 2200\nListenAddress 10.0.0.5\n"
            "ListenAddress [::1]:2022\n# ListenAddress 0.0.0.0\n",
        }
    )
    assert tcp(svc) == {("10.0.0.5", 22), ("10.0.0.5", 2200), ("::1", 2022)}


def test_address_family_inet_drops_ipv6_wildcard() -> None:
    svc = sshd({"/etc/ssh/sshd_config": "AddressFamily inet\nPort 2200\n"})
    assert tcp(svc) == {("0.0.0.0", 2200)}


def test_ssh_socket_activation_replaces_config_ports() -> None:
    svc = sshd(
        {
            "/etc/ssh/sshd_config": "Port 2222\n",
            "/usr/lib/systemd/system/ssh.socket": (UNITS / "ssh.socket").read_text(),
            "/usr/lib/systemd/system/ssh.service": (UNITS / "ssh.service").read_text(),
            "/etc/systemd/system/sockets.target.wants/ssh.socket": Link("/usr/lib/systemd/system/ssh.socket"),
        }
    )
    assert tcp(svc) == {("0.0.0.0", 22), ("::", 22)}
    assert dict(svc.attributes)["socket_activated"] == "ssh.socket"
    assert svc.enabled is True


def test_dash_p_in_sshd_opts_overrides_config() -> None:
    svc = sshd(
        {
            "/etc/ssh/sshd_config": "Port 2222\n",
            "/usr/lib/systemd/system/ssh.service": (UNITS / "ssh.service").read_text(),
            "/etc/default/ssh": 'SSHD_OPTS="-p 2200"\n',
        }
    )
    assert tcp(svc) == {("0.0.0.0", 2200), ("::", 2200)}


def test_no_sshd_config_no_service() -> None:
    inv = inventory([SshdDetector, SystemdDetector, SysvDetector], {"/etc/ssh/ssh_config": "Host *\n"})
    assert not [s for s in inv.services if s.software == "sshd"]


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("10.0.0.1", ("10.0.0.1", None)),
        ("10.0.0.1:22", ("10.0.0.1", 22)),
        ("[::1]:22", ("::1", 22)),
        ("::1", ("::1", None)),
    ],
)
def test_split_listen(value: str, want: tuple[str, int | None]) -> None:
    assert split_listen(value) == want
