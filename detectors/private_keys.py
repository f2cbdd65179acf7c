"""Private keys lying on the host: TLS keys, SSH host keys, keys next to apps.

A key is a secret whatever reads it: it must never be baked into an image, and a
consultant needs the list to plan how each is re-issued or mounted. Only the
first bytes are read to recognise the PEM/OpenSSH armour; the fingerprint is an
HMAC of those bytes (enough to tell two copies of one key apart)."""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, Secret
from modernize.secrets import fingerprint
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import head

HEAD = 4096
PLACES = (
    "/etc/ssl/private/*",
    "/etc/pki/tls/private/*",
    "/etc/ssh/ssh_host_*_key",
    "/etc/letsencrypt/archive/*/privkey*.pem",
    "/etc/*/ssl/*.key",
    "/etc/*/*.key",
    "/srv/**/*.key",
    "/opt/**/*.key",
    "/home/*/.ssh/id_*",
    "/root/.ssh/id_*",
)
_ARMOUR = re.compile(rb"-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |OPENSSH )?PRIVATE KEY)-----")


class PrivateKeysDetector(Detector):
    name = "private-keys"
    tags = ("host", "secrets")
    reads = head(HEAD, *PLACES)

    def detect(self, snap: Snapshot, found: Found) -> None:
        seen: set[str] = set()
        for pattern in PLACES:
            for path in snap.glob(pattern):
                real = snap.realpath(path)
                if real is None or real in seen or not snap.is_file(path):
                    continue
                seen.add(real)
                data = snap.head(path, HEAD)
                m = _ARMOUR.search(data or b"")
                if m is None:
                    continue
                label = m.group(1).decode()
                found.add(
                    Secret(
                        key=label.lower().replace(" ", "-"),
                        path=path,
                        line=None,
                        kind="private-key",
                        fingerprint=fingerprint(data.decode("latin-1") if data else ""),
                        evidence=(Evidence("file", path, detail=f"PEM armour: {label}"),),
                    )
                )
