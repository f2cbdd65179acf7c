"""Account files an app checks its own users against: an htpasswd file named by Apache's
`AuthUserFile` or nginx's `auth_basic_user_file`.

Such a file is one identity store (its user names: the file's first fields) and one secret
file (kind `credentials-store`, an HMAC fingerprint of the whole file): the password hashes
never reach the inventory. By htpasswd(1): one `user:hash` per line; blank lines and `#`
comments are skipped (Apache's ap_pcfg reader and nginx both do); a line without `:` makes
the file unparsable (a finding), never a traceback.
"""

from __future__ import annotations

from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, IdentityStore, Secret
from modernize.secrets import fingerprint
from modernize.snapshot import Snapshot


def htpasswd_users(text: str) -> list[str] | None:
    """The user names of an htpasswd file, in file order; None when a line is not `user:hash`."""
    out: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        user, sep, _hash = s.partition(":")
        if not sep or not user:
            return None
        if user not in out:
            out.append(user)
    return out


def add_user_files(snap: Snapshot, found: Found, sf: ServiceFacts, files: dict[str, list[Evidence]], via: str) -> None:
    """For each htpasswd file (path -> the directives naming it): a config file of SF, its
    secret and its identity store. A file the snapshot lacks is a store with no names."""
    if not files:
        return
    snap.want(sorted(p for p in files if snap.is_file(p)))
    for path, evs in sorted(files.items()):
        ev = tuple(evs)
        text = snap.text(path) if snap.is_file(path) else None
        if text is None:
            detail = "named by the config; not in the snapshot" if not snap.exists(path) else "not readable"
            sf.identity_stores.append(
                IdentityStore("htpasswd", False, via, path, (*ev, Evidence("file", path, detail=detail)))
            )
            continue
        sf.config_files.append(FileRef(path, "config", evidence=ev))
        users = htpasswd_users(text)
        if users is None:
            found.unparsable(path, "not an htpasswd file: a line is not user:hash")
            users = []
        sf.secrets.append(
            Secret("htpasswd", path, None, "credentials-store", fingerprint(text),
                   (Evidence("file", path, detail="user names and password hashes (only the names are kept)"),))
        )  # fmt: skip
        sf.identity_stores.append(IdentityStore("htpasswd", False, via, path, ev, users=tuple(users)))
