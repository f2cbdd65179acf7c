"""The host's credential stores: recorded as secret files, claimed by the service that
keeps them, never with their content."""

from __future__ import annotations

from detectors.credential_stores import CredentialStoresDetector, holds_hash
from detectors.file_shares import FileSharesDetector
from detectors.systemd import SystemdDetector
from modernize.snapshot.memory import File, Link
from tests.helpers import FIXTURES, inventory, service

MDF = FIXTURES / "mail-dns-files" / "root"
HASH = "$6$s4ltCan4ry$CANARYshadowHash0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
SHADOW = f"root:*:20000:0:99999:7:::\nwww-data:*:20000:0:99999:7:::\nalice:{HASH}:20000:0:99999:7:::\n"
TDB = b"TDB file\n\x00\x00\x00\x00CANARYtdbContent\x01\x02"


def test_shadow_files_are_host_secrets_without_content() -> None:
    files = {
        "/etc/shadow": SHADOW,
        "/etc/shadow-": SHADOW,
        "/etc/gshadow": "root:*::\nadm:*::\nsudo:*::alice\n",  # no hash: not a secret
        "/etc/security/opasswd": "alice:1000:2:$6$old1$CANARYold,$6$old2$CANARYold2\n",
    }
    inv = inventory([CredentialStoresDetector], files)
    assert [(s.path, s.key, s.kind, s.line) for s in inv.host_secrets] == [
        ("/etc/security/opasswd", "opasswd", "credentials-store", None),
        ("/etc/shadow", "shadow", "credentials-store", None),
        ("/etc/shadow-", "shadow", "credentials-store", None),
    ]
    shadow = inv.host_secrets[1]
    assert shadow.fingerprint.startswith("hmac-sha256:") and shadow.fingerprint == inv.host_secrets[2].fingerprint
    assert shadow.evidence[0].kind == "file" and "password hashes" in (shadow.evidence[0].detail or "")
    text = repr(inv)
    assert "CANARY" not in text and "alice" not in text and "s4lt" not in text


def test_locked_hash_counts_and_placeholders_do_not() -> None:
    assert holds_hash("bob:!$6$x$y:1::::::\n")
    assert not holds_hash("root:*:1::::::\nbob:!:1::::::\nsvc:!!:1::::::\nx:!*:1::::::\n# c:$6$a$b:1\n")
    assert not holds_hash("")
    assert not holds_hash("garbage without colons\n\x00\xff")


def test_unreadable_shadow_is_still_recorded() -> None:
    inv = inventory([CredentialStoresDetector], {"/etc/shadow": File(SHADOW, mode=0o640, size=10**12)})
    (sec,) = inv.host_secrets
    assert sec.path == "/etc/shadow" and sec.fingerprint == ""
    assert "not read" in (sec.evidence[0].detail or "")


def test_samba_private_databases_belong_to_smbd() -> None:
    units = MDF / "usr/lib/systemd/system"
    files = {
        "/etc/samba/smb.conf": (MDF / "etc/samba/smb.conf").read_text(),
        "/usr/lib/systemd/system/smbd.service": (units / "smbd.service").read_text(),
        "/etc/systemd/system/multi-user.target.wants/smbd.service": Link("/usr/lib/systemd/system/smbd.service"),
        "/var/lib/samba/private/passdb.tdb": TDB,
        "/var/lib/samba/private/secrets.tdb": TDB + b"\x03",
        "/var/lib/samba/private/unrelated.tdb": TDB,
        "/etc/shadow": SHADOW,
    }
    inv = inventory([SystemdDetector, FileSharesDetector, CredentialStoresDetector], files)
    smb = service(inv, "samba")
    assert [(s.path, s.key, s.kind) for s in smb.secrets] == [
        ("/var/lib/samba/private/passdb.tdb", "samba-passdb", "credentials-store"),
        ("/var/lib/samba/private/secrets.tdb", "samba-secrets", "credentials-store"),
    ]
    assert [s.path for s in inv.host_secrets] == ["/etc/shadow"]  # no service's state directory holds it
    assert "CANARYtdb" not in repr(inv)


def test_empty_smbpasswd_is_not_a_secret() -> None:
    inv = inventory([CredentialStoresDetector], {"/etc/samba/smbpasswd": "# nothing yet\n"})
    assert inv.host_secrets == ()
