from __future__ import annotations

from detectors.dpkg import DpkgDetector
from detectors.file_shares import FileSharesDetector, parse_exports
from detectors.systemd import SystemdDetector
from detectors.sysv import SysvDetector
from modernize.model import Inventory, Service
from modernize.snapshot.memory import Link
from tests.helpers import FIXTURES, inventory, service

MDF = FIXTURES / "mail-dns-files" / "root"
UNITS = MDF / "usr/lib/systemd/system"
SMB = (MDF / "etc/samba/smb.conf").read_text()


def unit(name: str, enabled: bool = True) -> dict[str, str | Link]:
    out: dict[str, str | Link] = {f"/usr/lib/systemd/system/{name}": (UNITS / name).read_text()}
    if enabled:
        out[f"/etc/systemd/system/multi-user.target.wants/{name}"] = Link(f"/usr/lib/systemd/system/{name}")
    return out


def run(files: dict[str, str | Link]) -> Inventory:
    return inventory([FileSharesDetector, SystemdDetector, SysvDetector, DpkgDetector], files)


def pset(svc: Service) -> set[tuple[str | None, int | None, str]]:
    return {(p.address, p.port, p.proto) for p in svc.ports}


def test_samba_fixture_with_disabled_ad_dc() -> None:
    files = {
        "/etc/samba/smb.conf": SMB,
        **unit("smbd.service"),
        **unit("nmbd.service"),
        **unit("samba-ad-dc.service", enabled=False),
    }
    inv = run(files)
    smb = service(inv, "samba")
    assert pset(smb) == {
        ("0.0.0.0", 445, "tcp"),
        ("0.0.0.0", 139, "tcp"),
        ("0.0.0.0", 137, "udp"),
        ("0.0.0.0", 138, "udp"),
    }
    assert {"/srv/samba/projects", "/var/lib/samba"} <= {d.path for d in smb.data_dirs}
    assert "/var/tmp" not in {d.path for d in smb.data_dirs}  # [printers] spool, not data
    assert dict(smb.attributes)["shares"] == "homes printers print$ projects"
    assert [f.path for f in smb.log_paths] == ["/var/log/samba/log.%m"]
    dc = service(inv, "samba-ad-dc")
    assert dc.enabled is False and dc.ports == ()


def test_samba_bind_interfaces_only_and_netbios_off() -> None:
    conf = (
        "[global]\n  Bind Interfaces Only = yes\n  interfaces = lo 192.0.2.7/24\n  disable netbios = yes\n"
        "; smb ports = 4455\n[data]\n  directory = /srv/data\n[old]\n  path = /srv/old\n  available = no\n"
    )
    smb = service(run({"/etc/samba/smb.conf": conf, **unit("smbd.service"), **unit("nmbd.service")}), "samba")
    assert pset(smb) == {("127.0.0.1", 445, "tcp"), ("192.0.2.7", 445, "tcp")}
    assert {d.path for d in smb.data_dirs} == {"/srv/data", "/var/lib/samba"}  # `directory` = path; [old] is off


def test_smb_conf_of_a_client_is_not_a_server() -> None:
    inv = run({"/etc/samba/smb.conf": SMB})  # samba-common ships smb.conf; no smbd here
    assert not [s for s in inv.services if s.software == "samba"]


def test_nfs_fixture() -> None:
    files = {
        "/etc/exports": (MDF / "etc/exports").read_text(),
        "/etc/nfs.conf": (MDF / "etc/nfs.conf").read_text(),
        "/etc/default/nfs-kernel-server": (MDF / "etc/default/nfs-kernel-server").read_text(),
        **unit("nfs-server.service"),
    }
    nfs = service(run(files), "nfs-server")
    assert pset(nfs) == {("0.0.0.0", 2049, "tcp"), ("0.0.0.0", 2049, "udp")}  # no rpcbind installed
    assert [d.path for d in nfs.data_dirs] == ["/srv/nfs/home"]  # the commented examples are not exports
    assert dict(nfs.attributes)["exports"] == "/srv/nfs/home 10.0.0.0/24(rw,sync,no_subtree_check)"
    assert nfs.enabled is True


def test_nfs_conf_udp_off_and_mountd_port() -> None:
    files = {
        "/etc/exports": "/srv/a *(ro)\n",
        "/etc/nfs.conf": "[nfsd]\nudp=n\n[mountd]\nport=20048\n",
        **unit("nfs-server.service"),
    }
    nfs = service(run(files), "nfs-server")
    assert pset(nfs) == {("0.0.0.0", 2049, "tcp"), ("0.0.0.0", 20048, "tcp"), ("0.0.0.0", 20048, "udp")}


def test_exports_space_before_options_exports_to_the_world() -> None:
    rows = parse_exports('/srv/x host1 (rw)\n"/srv/with space" -ro 10.0.0.0/8 \\\n  h2(rw)\n# /srv/no *(rw)\n')
    assert rows[0][1:3] == ("/srv/x", [("host1", ""), ("*", "rw")])
    assert rows[1][1:3] == ("/srv/with space", [("10.0.0.0/8", "ro"), ("h2", "rw")])
    assert len(rows) == 2


def test_nfs_utils_without_exports_or_server_is_a_client() -> None:
    inv = run({"/etc/exports": "# nothing\n", **unit("nfs-server.service", enabled=False)})
    assert not [s for s in inv.services if s.software == "nfs-server"]


def test_samba_users_are_the_host_accounts_unless_in_a_domain() -> None:
    (store,) = service(run({"/etc/samba/smb.conf": SMB, **unit("smbd.service")}), "samba").identity_stores
    assert (store.store, store.host_accounts, store.via) == ("tdbsam", True, "passdb backend")
    assert [(e.path, e.line) for e in store.evidence if e.path] == [
        ("/etc/samba/smb.conf", 75),
        ("/etc/samba/smb.conf", 82),
    ]
    ldap = SMB.replace("[global]\n", "[global]\n   passdb backend = ldapsam:ldap://ldap.corp.example.com\n", 1)
    (store,) = service(run({"/etc/samba/smb.conf": ldap, **unit("smbd.service")}), "samba").identity_stores
    assert (store.store, store.host_accounts) == ("ldapsam", False)
    member = SMB.replace("server role = standalone server", "server role = member server\n   security = ads")
    assert service(run({"/etc/samba/smb.conf": member, **unit("smbd.service")}), "samba").identity_stores == ()
