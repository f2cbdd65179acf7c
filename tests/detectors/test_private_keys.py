"""Private keys on the host: recognised by their armour, claimed by the service
that names them, never kept in clear."""

from __future__ import annotations

from detectors.private_keys import PrivateKeysDetector
from detectors.sshd import SshdDetector
from detectors.systemd import SystemdDetector
from modernize.snapshot.memory import Link
from tests.helpers import inventory

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n"
TLS = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"


def test_keys_found_claimed_and_never_in_clear() -> None:
    files = {
        "/etc/ssh/sshd_config": "Port 22\n",
        "/etc/ssh/ssh_host_ed25519_key": KEY,
        "/etc/ssh/ssh_host_ed25519_key.pub": "ssh-ed25519 AAAA root@web01\n",
        "/etc/ssl/private/app.key": TLS,
        "/etc/ssl/private/readme.txt": "not a key\n",
        "/etc/ssl/private/same.key": Link("app.key"),
    }
    inv = inventory([SystemdDetector, SshdDetector, PrivateKeysDetector], files)
    sshd = next(s for s in inv.services if s.software == "sshd")
    assert [(s.path, s.kind) for s in sshd.secrets] == [("/etc/ssh/ssh_host_ed25519_key", "private-key")]
    assert [(s.path, s.key) for s in inv.host_secrets] == [("/etc/ssl/private/app.key", "private-key")]
    text = repr(inv)
    assert "b3BlbnNzaC1rZXkt" not in text and "MIIEvQIBADAN" not in text
