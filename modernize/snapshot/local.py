"""The machine modernize runs on (`modernize scan local`): its root as a directory
snapshot, with its runtime facts (psutil) under the virtual /.modernize/runtime/.

Bounded like a tarball of the root: /proc, /sys and /dev are never read (the base
class), and neither is what a network or special file system mounts (NFS, SMB,
sshfs, autofs, cgroup...): a glob over /srv must not walk a file server, nor an
autofs mount point wake one. Such a mount point lists as empty, with a coverage note.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from modernize.snapshot import paths as P
from modernize.snapshot.base import DEFAULT_MAX_FILE_SIZE, DIR, FILE, FileInfo
from modernize.snapshot.declarations import Declaration, ReadMode, keep_lines
from modernize.snapshot.directory import DirectorySnapshot

RUNTIME = "/.modernize/runtime"
# file systems whose contents are another machine's, or the kernel's
NETWORK_FS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "ceph", "glusterfs", "lustre", "9p", "davfs",
     "fuse.sshfs", "sshfs", "fuse.glusterfs", "fuse.s3fs", "fuse.rclone", "fuse.davfs2", "gpfs", "ocfs2"}
)  # fmt: skip
SPECIAL_FS = frozenset(
    {"autofs", "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
     "pstore", "bpf", "configfs", "fusectl", "mqueue", "hugetlbfs", "binfmt_misc", "efivarfs", "nsfs",
     "rpc_pipefs", "selinuxfs", "nfsd"}
)  # fmt: skip


def unread_mounts(mounts: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Mount point -> why it is not read, for (mount point, fstype) pairs."""
    out = {}
    for target, fstype in mounts:
        if target == "/" or P.is_pseudo(target):
            continue
        if fstype in NETWORK_FS:
            out[P.normalize(target)] = f"network file system ({fstype}): not read"
        elif fstype in SPECIAL_FS:
            out[P.normalize(target)] = f"{fstype} file system: not read"
    return out


class LocalSnapshot(DirectorySnapshot):
    kind = "local"

    def __init__(
        self,
        root: str = "/",
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        runtime: dict[str, bytes] | None = None,
        mounts: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(root, max_file_size=max_file_size)
        if runtime is None or mounts is None:
            import psutil

            from modernize.live.local_facts import runtime_files

            runtime = runtime_files() if runtime is None else runtime
            if mounts is None:
                mounts = [(m.mountpoint, m.fstype) for m in psutil.disk_partitions(all=True)]
        self.runtime = runtime
        self.unread = unread_mounts(mounts)
        self.hostname = socket.gethostname()

    def _host(self, cpath: str) -> str:
        if self._root == "/":
            return cpath
        return super()._host(cpath)

    def _below_unread(self, cpath: str) -> bool:
        while cpath != "/":
            cpath = P.parent(cpath)
            if cpath in self.unread:
                return True
        return False

    def _entry(self, cpath: str) -> FileInfo | None:
        if cpath == "/.modernize" or cpath == RUNTIME:
            return FileInfo(cpath, DIR, mode=0o755)
        if cpath.startswith(RUNTIME + "/"):
            data = self.runtime.get(cpath[len(RUNTIME) + 1 :])
            return None if data is None else FileInfo(cpath, FILE, len(data), 0o644)
        if self.unread and self._below_unread(cpath):
            return None
        return super()._entry(cpath)

    def _children(self, cpath: str) -> list[str]:
        if cpath == "/.modernize":
            return ["runtime"]
        if cpath == RUNTIME:
            return sorted(self.runtime)
        if cpath in self.unread:
            self.coverage.note(cpath, self.unread[cpath])
            return []
        names = super()._children(cpath)
        if cpath == "/" and ".modernize" not in names:
            names = sorted([*names, ".modernize"])
        return names

    def _load(self, cpath: str, info: FileInfo, decl: Declaration | None) -> bytes:
        if cpath.startswith(RUNTIME + "/"):
            data = self.runtime[cpath[len(RUNTIME) + 1 :]]
            if decl is not None and decl.mode is ReadMode.HEAD:
                return data[: decl.size]
            if decl is not None and decl.mode is ReadMode.TAIL:
                return data[-decl.size :] if decl.size else b""
            if decl is not None and decl.mode is ReadMode.LINES:
                return keep_lines(data, decl.lines)
            return data
        return super()._load(cpath, info, decl)

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "location": "local", "hostname": self.hostname}
