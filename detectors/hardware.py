"""What ties services to this machine's hardware: device nodes that units and their
settings name (serial ports, USB, SCSI generic, GPUs), the admin's own udev rules,
licence-dongle daemons (Sentinel HASP/LDK, CodeMeter), and huge pages reserved in
sysctl files or on the kernel command line.

These are host settings (`HostSetting`) in three categories, `device`,
`licence-dongle` and `hugepages`: each is a name, a value and its evidence, which
is all a rule or a reader needs, and the inventory's host coupling stays in one list.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, HostSetting
from modernize.parsers.lines import numbered
from modernize.parsers.shell import assignments
from modernize.parsers.systemd import UnitFile, parse_into
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

UNIT_DIRS = ("/etc/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
UDEV_RULES = "/etc/udev/rules.d/*.rules"
SYSCTL = ("/etc/sysctl.d/*.conf", "/etc/sysctl.conf")
GRUB = ("/etc/default/grub", "/etc/default/grub.d/*.cfg")
KERNEL_CMDLINE = "/etc/kernel/cmdline"

# device nodes that mean real hardware a container would need passed through
DEVICE = re.compile(
    r"/dev/(?:tty(?:S|USB|ACM|AMA)\d+|serial/by-(?:id|path)/[\w:.+-]+|bus/usb(?:/[\d/]*)?|sg\d+|"
    r"nvidia[\w-]*|dri(?:/[\w]+)?|kfd|hidraw\d+|vfio/[\w]+|parport\d+|lp\d+|usb/[\w]+)"
)
# licence dongles: the vendor's daemon, as a unit, a package or its config directory
DONGLES = {
    "sentinel-hasp": (
        "Thales Sentinel HASP/LDK licence manager",
        {"aksusbd", "hasplmd", "haspd", "hasplm", "winehasp"},
        ("/etc/hasplm/*",),
    ),
    "codemeter": (
        "Wibu-Systems CodeMeter licence runtime",
        {"codemeter", "codemeter-lite", "codemeter-webadmin"},
        ("/etc/wibu/CodeMeter/*",),
    ),
}
HUGEPAGE_SYSCTLS = (
    "vm.nr_hugepages",
    "vm.nr_overcommit_hugepages",
    "vm.nr_hugepages_mempolicy",
    "vm.hugetlb_shm_group",
)
HUGEPAGE_CMDLINE = ("hugepages", "hugepagesz", "default_hugepagesz", "transparent_hugepage", "hugetlb_cma")


class HardwareDetector(Detector):
    name = "hardware"
    tags = ("host",)
    reads = whole(
        UDEV_RULES,
        *(p for base in UNIT_DIRS for p in (f"{base}/*", f"{base}/*.d/*.conf")),
        *SYSCTL,
        *GRUB,
        KERNEL_CMDLINE,
        *(f for _, _, files in DONGLES.values() for f in files),
    )
    requires = ("systemd", "sysv", "dpkg", "rpm", "apk")

    def detect(self, snap: Snapshot, found: Found) -> None:
        self._udev(snap, found)
        self._units(snap, found)
        self._dongles(snap, found)
        self._hugepages(snap, found)

    # -- devices --------------------------------------------------------------------------
    @staticmethod
    def _udev(snap: Snapshot, found: Found) -> None:
        """The admin's udev rules: /etc/udev/rules.d files no package owns (packages
        ship theirs in /usr/lib/udev/rules.d; a link to /dev/null only masks one)."""
        for path in snap.glob(UDEV_RULES):
            if path in found.owners or snap.readlink(path) is not None or not snap.is_file(path):
                continue
            rules = list(numbered(snap.text(path) or "", continuation=True))
            if not rules:
                continue
            matchers = [m for m in re.findall(r"((?:SUBSYSTEMS?|KERNEL|ATTRS?\{id\w+\})==\"[^\"]*\")", rules[0][1])]
            what = ", ".join(matchers[:3]) or rules[0][1][:60]
            found.add(
                HostSetting(
                    "device",
                    path,
                    f"{len(rules)} udev rule{'s' if len(rules) > 1 else ''}: {what}",
                    tuple(Evidence("config", path, no, excerpt=line[:120]) for no, line in rules[:8]),
                )
            )

    @staticmethod
    def _units(snap: Snapshot, found: Found) -> None:
        """Device nodes a service's unit or its settings name, and DeviceAllow= lines
        an admin wrote (a vendor unit's DeviceAllow=char-rtc only narrows its sandbox)."""
        uses: dict[tuple[str, str], list[Evidence]] = {}  # (device, unit) -> where it says so

        def add(device: str, unit: str, ev: Evidence) -> None:
            evs = uses.setdefault((device, unit), [])
            if ev not in evs:
                evs.append(ev)

        for u in found.units:
            if u.state == "masked" or u.type not in ("service", "script", "program", "app"):
                continue
            if u.system == "systemd":
                unit = UnitFile()
                for path in (u.path, *u.dropins):
                    text = snap.text(path)
                    if text is not None:
                        parse_into(unit, text, path)
                        for no, line in numbered(text, comments="#;"):
                            for dev in DEVICE.findall(line):
                                add(dev, u.name, Evidence("unit", path, no, excerpt=line[:120]))
                for s in unit.values("Service", "DeviceAllow"):
                    spec = s.value.split()[0] if s.value.split() else ""
                    if spec and (s.path.startswith("/etc/") or DEVICE.fullmatch(spec)):
                        add(spec, u.name, Evidence("unit", s.path, s.line, excerpt=f"DeviceAllow={s.value}"))
            for var in u.environment:
                for dev in DEVICE.findall(var.value or ""):
                    add(dev, u.name, var.evidence[0] if var.evidence else Evidence("unit", u.path))
        for (device, unit_name), evs in uses.items():
            found.add(HostSetting("device", device, f"used by {unit_name}", tuple(evs[:8])))

    @staticmethod
    def _dongles(snap: Snapshot, found: Found) -> None:
        for key, (what, names, files) in DONGLES.items():
            ev: list[Evidence] = []
            for u in found.units:
                stem = u.name.rsplit(".", 1)[0] if u.name.endswith(".service") else u.name
                if stem.lower() in names and u.state != "masked":
                    ev.append(u.evidence[0] if u.evidence else Evidence("unit", u.path))
            for p in found.packages:
                if p.name.lower() in names:
                    ev.extend(p.evidence[:1] or (Evidence("package", detail=p.name),))
            for pattern in files:
                ev.extend(Evidence("file", f) for f in snap.glob(pattern) if snap.is_file(f))
            if ev:
                found.add(HostSetting("licence-dongle", key, what, tuple(dict.fromkeys(ev))[:8]))

    # -- huge pages ----------------------------------------------------------------------
    @staticmethod
    def _hugepages(snap: Snapshot, found: Found) -> None:
        # sysctl: later files win, as `sysctl --system` applies them (/etc/sysctl.conf last)
        values: dict[str, tuple[str, Evidence]] = {}
        for path in [*sorted(snap.glob(SYSCTL[0])), SYSCTL[1]]:
            for no, line in numbered(snap.text(path) or "", comments="#;"):
                key, sep, value = line.partition("=")
                k = key.strip().lstrip("-").replace("/", ".")
                if sep and k in HUGEPAGE_SYSCTLS:
                    values[k] = (value.strip(), Evidence("config", path, no, excerpt=line))
        for k, (v, ev) in sorted(values.items()):
            if v not in ("0", ""):
                found.add(HostSetting("hugepages", k, v, (ev,)))
        # the kernel command line: GRUB's defaults (drop-ins after the main file) and kernel-install's
        cmdline: dict[tuple[str, str], Evidence] = {}
        for path in [GRUB[0], *sorted(snap.glob(GRUB[1]))]:
            for no, key, value in assignments(snap.text(path) or ""):
                if key in ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"):
                    for word in value.split():
                        if word.partition("=")[0] in HUGEPAGE_CMDLINE:
                            cmdline[(word, path)] = Evidence("config", path, no, excerpt=f"{key}=... {word}")
        for no, line in numbered(snap.text(KERNEL_CMDLINE) or ""):
            for word in line.split():
                if word.partition("=")[0] in HUGEPAGE_CMDLINE:
                    cmdline[(word, KERNEL_CMDLINE)] = Evidence("config", KERNEL_CMDLINE, no, excerpt=word)
        for (word, _path), ev in cmdline.items():
            name, _, arg = word.partition("=")
            found.add(HostSetting("hugepages", f"kernel {name}", arg or None, (ev,)))
