"""Native code inside apps' own directories: ELF executables and shared objects carried
with the code (a bundled `wkhtmltopdf`, a `lib/libfoo.so`, a prebuilt `.node` addon).

For each app service (not host plumbing) its content paths and working directory under
/srv, /opt, /var/www, /home and /root are walked (names and metadata come with the
snapshot's index; nothing is read for them). Candidates are files named `*.so`, `*.so.N`
or `*.node`, and executable files without a script's extension; only their first 64 bytes
are read, for the ELF magic. The shared-object names are declared reads (a tarball pass
keeps them on the way); executables are asked for second (at most MAX_CANDIDATES per app).

Left out: a venv (a directory holding pyvenv.cfg: pip installed its wheels' .so files and
installs them again), site-packages, .git, and in node_modules everything but native
addons (`*.node`: built or downloaded for the server's CPU and C library at install time).
Trees a package owns (dpkg's /opt/<name>) are the package's. The walk stops after
MAX_ENTRIES entries and the fact says it was bounded.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, VendoredBinaries
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import Declaration, ReadMode

ROOTS = ("/srv/", "/opt/", "/var/www/", "/home/", "/root/")
HEAD = 64
MAX_ENTRIES = 20000  # files and directories walked per app
MAX_CANDIDATES = 64  # files whose head is read per app
EXAMPLES = 5
_SHARED = re.compile(r"\.so(?:\.\d+)*$|\.node$")
_SCRIPT = re.compile(
    r"\.(?:py|pyc|sh|bash|rb|js|cjs|mjs|ts|php|pl|pm|lua|tcl|awk|sed|txt|md|json|ya?ml|toml|ini|cfg|conf|xml|html?|css"
    r"|csv|sql|jar|war|class|properties|env|log|lock|pem|crt|key|gz|tgz|zip|png|jpe?g|gif|svg|ico)$",
    re.IGNORECASE,
)
_SKIP_DIRS = {".git", "__pycache__", "site-packages", "dist-packages", ".svn", ".hg"}
_NOT_APPS = {"native-app", "go-app", "dotnet-app"}  # the binary is the app: native-apps describes it
_DECL_EXCLUDE = ("site-packages", "dist-packages", ".git")
READS = tuple(
    Declaration(f"{root}**/{pattern}", ReadMode.HEAD, size=HEAD, exclude=_DECL_EXCLUDE)
    for root in ROOTS
    for pattern in ("*.so", "*.so.[0-9]*", "*.node")
)


class VendoredBinariesDetector(Detector):
    name = "vendored-binaries"
    tags = ("app", "software")
    requires = (
        "python-apps", "node-apps", "ruby-apps", "php-apps", "java-apps", "native-apps", "dpkg", "tomcat",
    )  # fmt: skip
    reads = READS

    def detect(self, snap: Snapshot, found: Found) -> None:
        plans: list[tuple[ServiceFacts, list[str], bool]] = []
        seen: set[tuple[str, str]] = set()
        for sf in found.services:
            if sf.plumbing or sf.software in _NOT_APPS or sf.key in seen:
                continue
            dirs = self._dirs(sf, found)
            if not dirs:
                continue
            seen.add(sf.key)
            candidates, bounded = self._candidates(snap, dirs)
            plans.append((sf, candidates, bounded))
        # the executables' heads are second-order reads, asked for at once
        snap.want(
            Declaration(p, ReadMode.HEAD, size=HEAD) for _sf, cands, _b in plans for p in cands if not _SHARED.search(p)
        )
        for sf, candidates, bounded in plans:
            elves = [p for p in candidates if (snap.head(p, HEAD) or b"")[:4] == b"\x7fELF"]
            addons = [p for p in elves if "/node_modules/" in p]
            own = sorted(p for p in elves if "/node_modules/" not in p)
            if not elves:
                continue
            examples = (own or addons)[:EXAMPLES]
            fact = VendoredBinaries(
                count=len(own),
                examples=tuple(examples),
                addons=len(addons),
                bounded=bounded,
                evidence=tuple(Evidence("binary", p, detail="ELF header") for p in examples),
            )
            found.add(ServiceFacts(software=sf.software, kind=sf.kind, instance=sf.instance, vendored_binaries=fact))

    @staticmethod
    def _dirs(sf: ServiceFacts, found: Found) -> list[str]:
        paths = [r.path for r in sf.content_paths if r.role == "content"]
        if sf.working_dir:
            paths.append(sf.working_dir)
        out: list[str] = []
        for p in sorted(set(paths)):
            parts = p.split("/")
            if not p.startswith(ROOTS) or len(parts) < 3 or not parts[2]:
                continue  # /srv itself, or outside the app roots
            if parts[1] == "opt" and f"/opt/{parts[2]}" in found.owners:
                continue  # a package's tree
            if not any(p == o or p.startswith(o.rstrip("/") + "/") for o in out):
                out.append(p)
        return out

    @staticmethod
    def _candidates(snap: Snapshot, dirs: list[str]) -> tuple[list[str], bool]:
        """Files that may be ELF (sorted) and whether the search stopped at its bound."""
        cands: list[str] = []
        entries = 0

        def add(path: str) -> bool:
            info = snap.stat(path, follow=False)  # a symlink (libfoo.so -> libfoo.so.1) is not a second copy
            if info is not None and info.kind == "file" and info.size >= HEAD:
                cands.append(path)
            return len(cands) >= MAX_CANDIDATES

        for top in dirs:
            for path, subdirs, files in snap.walk(top):
                entries += len(subdirs) + len(files)
                if entries > MAX_ENTRIES:
                    return sorted(cands), True
                subdirs[:] = [
                    d
                    for d in subdirs
                    if d not in _SKIP_DIRS and d != "node_modules" and not snap.exists(f"{path}/{d}/pyvenv.cfg")
                ]
                for name in files:
                    if _SHARED.search(name) or not _SCRIPT.search(name):
                        info = snap.stat(f"{path}/{name}", follow=False)
                        exe = info is not None and bool(info.mode & 0o111)
                        if (_SHARED.search(name) or exe) and add(f"{path}/{name}"):
                            return sorted(cands), True
            for addon in snap.glob(f"{top}/**/node_modules/**/*.node"):
                if add(addon):
                    return sorted(cands), True
        return sorted(cands), False
