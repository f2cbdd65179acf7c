"""The operating system, architecture and hostname."""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, OSInfo
from modernize.parsers.shell import assignments
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import head, whole

FAMILIES = {
    "debian": "debian",
    "ubuntu": "debian",
    "rhel": "rhel",
    "fedora": "rhel",
    "centos": "rhel",
    "rocky": "rhel",
    "almalinux": "rhel",
    "ol": "rhel",
    "amzn": "rhel",
    "alpine": "alpine",
    "sles": "suse",
    "opensuse": "suse",
    "suse": "suse",
    "arch": "arch",
}
# ELF e_machine -> the architecture names dpkg uses
ELF_MACHINES = {
    0x3E: "amd64",
    0x03: "i386",
    0xB7: "arm64",
    0x28: "armhf",
    0x15: "ppc64el",
    0x16: "s390x",
    0xF3: "riscv64",
}
DEBIAN_CODENAMES = {"10": "buster", "11": "bullseye", "12": "bookworm", "13": "trixie", "9": "stretch", "8": "jessie"}


def family_of(os_id: str | None, id_like: tuple[str, ...]) -> str | None:
    for name in (os_id, *id_like):
        if name and name in FAMILIES:
            return FAMILIES[name]
    return None


def elf_arch(header: bytes) -> str | None:
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    little = header[5] == 1
    machine = int.from_bytes(header[18:20], "little" if little else "big")
    return ELF_MACHINES.get(machine)


class OSDetector(Detector):
    name = "os"
    tags = ("host",)
    reads = (
        *whole(
            "/etc/os-release",
            "/usr/lib/os-release",
            "/etc/redhat-release",
            "/etc/debian_version",
            "/etc/alpine-release",
            "/etc/hostname",
            "/etc/HOSTNAME",
            "/etc/sysconfig/network",
            "/var/lib/dpkg/arch",
        ),
        # /bin/sh is a link (to dash on Debian, bash on RHEL, busybox on Alpine):
        # declaring the usual targets lets a tarball pass fetch them whatever the order
        *head(64, "/bin/sh", "/usr/bin/sh", "/bin/busybox", "/bin/bash", "/bin/dash", "/usr/bin/dash"),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        found.add(self._os(snap))
        self._hostname(snap, found)
        self._arch(snap, found)

    def _os(self, snap: Snapshot) -> OSInfo:
        for path in ("/etc/os-release", "/usr/lib/os-release"):
            text = snap.text(path)
            if text is None:
                continue
            values = {k: v for _, k, v in assignments(text)}
            line_of = {k: n for n, k, _ in assignments(text)}
            os_id = values.get("ID", "linux").lower()
            id_like = tuple(values.get("ID_LIKE", "").split())
            version_id = values.get("VERSION_ID")
            codename = values.get("VERSION_CODENAME")
            ev = [Evidence("config", path, line_of.get("ID"), excerpt=f"ID={os_id}")]
            if os_id == "debian":
                # os-release of Debian testing has no VERSION_ID; debian_version is finer
                dv = snap.text("/etc/debian_version")
                if dv and not version_id:
                    version_id = dv.strip().split(".")[0]
                    ev.append(Evidence("file", "/etc/debian_version", 1, excerpt=dv.strip()))
                if version_id and not codename:
                    codename = DEBIAN_CODENAMES.get(version_id)
            return OSInfo(
                id=os_id,
                name=values.get("NAME"),
                version_id=version_id,
                pretty_name=values.get("PRETTY_NAME"),
                codename=codename,
                id_like=id_like,
                family=family_of(os_id, id_like),
                evidence=tuple(ev),
            )
        return self._os_fallback(snap)

    def _os_fallback(self, snap: Snapshot) -> OSInfo:
        rh = snap.text("/etc/redhat-release")
        if rh:
            line = rh.strip().splitlines()[0] if rh.strip() else ""
            m = re.search(r"release\s+([\d.]+)", line)
            low = line.lower()
            os_id = (
                "centos" if "centos" in low else "rocky" if "rocky" in low else "fedora" if "fedora" in low else "rhel"
            )
            return OSInfo(
                id=os_id,
                name=line.split(" release")[0] if " release" in line else line,
                version_id=m.group(1) if m else None,
                pretty_name=line,
                family="rhel",
                evidence=(Evidence("file", "/etc/redhat-release", 1, excerpt=line),),
            )
        al = snap.text("/etc/alpine-release")
        if al:
            v = al.strip()
            return OSInfo(
                id="alpine",
                name="Alpine Linux",
                version_id=v,
                pretty_name=f"Alpine Linux v{v}",
                family="alpine",
                evidence=(Evidence("file", "/etc/alpine-release", 1, excerpt=v),),
            )
        dv = snap.text("/etc/debian_version")
        if dv:
            v = dv.strip()
            major = v.split(".")[0]
            return OSInfo(
                id="debian",
                name="Debian GNU/Linux",
                version_id=major if major.isdigit() else None,
                pretty_name=f"Debian GNU/Linux {v}",
                codename=DEBIAN_CODENAMES.get(major),
                family="debian",
                evidence=(Evidence("file", "/etc/debian_version", 1, excerpt=v),),
            )
        return OSInfo()

    def _hostname(self, snap: Snapshot, found: Found) -> None:
        for path in ("/etc/hostname", "/etc/HOSTNAME"):
            text = snap.text(path)
            if text:
                for no, line in enumerate(text.splitlines(), 1):
                    name = line.split("#", 1)[0].strip()
                    if name:
                        found.host.hostname = name
                        found.host.hostname_evidence = (Evidence("file", path, no, excerpt=name),)
                        return
        text = snap.text("/etc/sysconfig/network")
        if text:
            for no, key, value in assignments(text):
                if key == "HOSTNAME" and value:
                    found.host.hostname = value
                    found.host.hostname_evidence = (Evidence("config", "/etc/sysconfig/network", no),)
                    return

    def _arch(self, snap: Snapshot, found: Found) -> None:
        text = snap.text("/var/lib/dpkg/arch")
        if text and text.split():
            found.host.arch = text.split()[0]
            found.host.arch_evidence = (Evidence("file", "/var/lib/dpkg/arch", 1, excerpt=found.host.arch),)
            return
        for path in ("/bin/sh", "/usr/bin/sh", "/bin/bash", "/bin/busybox"):
            data = snap.head(path, 64)
            arch = elf_arch(data or b"")
            if arch:
                found.host.arch = arch
                found.host.arch_evidence = (
                    Evidence("binary", path, detail=f"ELF header of {snap.realpath(path)}: {arch}"),
                )
                return
