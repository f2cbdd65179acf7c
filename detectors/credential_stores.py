"""The host's own credential stores, as secret files: the shadow password files, Samba's
private databases, the old-password history PAM keeps.

Each is recorded as one `Secret` of kind `credentials-store` for the whole file: its
path, a fingerprint of its content (an HMAC, to tell two copies apart) and evidence
saying what it is. Nothing of its content reaches the inventory: not a user name, not a
hash. Such a file is host identity: it stays behind, and the accounts an app needs are
made anew in its container (readiness IA011 and IA003 say which).

Rules followed:
- shadow(5)/gshadow(5) (and their `-` backups, which `shadow` tools leave beside them):
  a file whose every password field is empty, `*`, `x` or a bare `!`/`!!`/`!*` holds no
  hash and is not a secret; a locked account's `!$6$...` still holds one.
- Samba keeps its tdbsam user database (`passdb.tdb`), its machine and trust secrets
  (`secrets.tdb`) and, as an AD DC, its directory (`sam.ldb`) in its private directory
  (`/var/lib/samba/private` on Debian and RHEL); the smbpasswd backend keeps
  `smbpasswd` there or in `/etc/samba`. Binary databases are not parsed: being there is
  enough. Merge gives such a file to the service whose state directory holds it (smbd).
- A file that cannot be read (a scan without root) is still recorded, with no
  fingerprint and the reason as evidence: denied is not absent.
"""

from __future__ import annotations

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, Secret
from modernize.secrets import fingerprint
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

SAMBA_PRIVATE = ("/var/lib/samba/private", "/etc/samba/private")
# path -> (key, what it holds); shadow-like files are checked for hashes first
SHADOW_FILES = {
    "/etc/shadow": ("shadow", "the host's user password hashes"),
    "/etc/shadow-": ("shadow", "the backup copy of the host's user password hashes"),
    "/etc/gshadow": ("gshadow", "the host's group password hashes"),
    "/etc/gshadow-": ("gshadow", "the backup copy of the host's group password hashes"),
    "/etc/security/opasswd": ("opasswd", "PAM's history of users' old password hashes"),
}
SAMBA_FILES = {
    "passdb.tdb": ("samba-passdb", "Samba's user database (tdbsam: NT password hashes)"),
    "secrets.tdb": ("samba-secrets", "Samba's machine account and trust secrets"),
    "sam.ldb": ("samba-sam", "the Samba AD DC's directory database (users' password hashes)"),
    "smbpasswd": ("smbpasswd", "Samba's smbpasswd user database (NT password hashes)"),
}
FILES = (
    *SHADOW_FILES,
    *(f"{d}/{name}" for d in SAMBA_PRIVATE for name in SAMBA_FILES),
    "/etc/samba/smbpasswd",
)
_NO_HASH = {"", "*", "x", "!", "!!", "!*", "*LK*", "NP"}


def holds_hash(text: str, opasswd: bool = False) -> bool:
    """True when a shadow-like file holds at least one password hash."""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(":")
        if opasswd:  # user:uid:count:hash1,hash2
            if len(fields) >= 4 and fields[3].strip(","):
                return True
            continue
        if len(fields) >= 2 and fields[1] not in _NO_HASH and fields[1].lstrip("!") not in _NO_HASH:
            return True
    return False


class CredentialStoresDetector(Detector):
    name = "credential-stores"
    tags = ("host", "secrets")
    reads = whole(*FILES)

    def detect(self, snap: Snapshot, found: Found) -> None:
        for path in FILES:
            if not snap.is_file(path):
                continue
            name = path.rsplit("/", 1)[1]
            key, what = SHADOW_FILES.get(path) or SAMBA_FILES[name]
            res = snap.read(path)
            if not res.ok:
                found.add(
                    Secret(key, path, None, "credentials-store", "",
                           (Evidence("file", path, detail=f"{what}; not read: {res.status.value}"),))
                )  # fmt: skip
                continue
            text = res.data.decode("latin-1")
            if path in SHADOW_FILES or name == "smbpasswd":
                if not holds_hash(text, opasswd=key == "opasswd") and name != "smbpasswd":
                    continue
                if name == "smbpasswd" and not any(ln.strip() and not ln.startswith("#") for ln in text.splitlines()):
                    continue
            found.add(
                Secret(key, path, None, "credentials-store", fingerprint(text),
                       (Evidence("file", path, detail=f"{what} (its content is never kept)"),))
            )  # fmt: skip
