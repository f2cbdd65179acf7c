"""hardware: device nodes named by units and their settings, the admin's udev rules,
licence-dongle daemons, huge pages (sysctl, kernel command line); and the systemd
detector's Type= fact that the process-model rules read."""

from __future__ import annotations

import hashlib

from detectors.dpkg import DpkgDetector
from detectors.hardware import HardwareDetector
from detectors.systemd import SystemdDetector
from detectors.sysv import SysvDetector
from modernize.model import Inventory
from modernize.snapshot.memory import Link
from tests.helpers import FIXTURES, inventory


def settings(inv: Inventory, category: str) -> dict[str, tuple[str | None, tuple[tuple[str | None, int | None], ...]]]:
    return {
        h.name: (h.value, tuple((e.path, e.line) for e in h.evidence))
        for h in inv.host_settings
        if h.category == category
    }


# a gpsd-style daemon on a USB serial adapter, as an admin writes it
GPS_UNIT = """[Unit]
Description=Position logger for the fleet tracker
After=network.target

[Service]
Type=simple
EnvironmentFile=-/etc/default/poslogd
ExecStart=/usr/local/bin/poslogd --device /dev/ttyUSB0 \\
    --baud 9600
DevicePolicy=closed
DeviceAllow=/dev/ttyUSB0 rw
# DeviceAllow=/dev/ttyS1 rw   (the old built-in port, commented out)

[Install]
WantedBy=multi-user.target
"""
UDEV = """# USB serial adapter of the GPS receiver: a stable name for poslogd
SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", \\
    SYMLINK+="gps0", GROUP="dialout", MODE="0660"
"""


def test_devices_from_units_settings_and_udev_rules() -> None:
    chrony = (FIXTURES / "mail-dns-files/root/usr/lib/systemd/system/chrony.service").read_bytes()
    files = {
        "/etc/systemd/system/poslogd.service": GPS_UNIT,
        "/etc/systemd/system/multi-user.target.wants/poslogd.service": GPS_UNIT,
        "/etc/default/poslogd": "# the receiver's second port\nNMEA_PORT=/dev/ttyACM0\nDEBUG=no\n",
        # Debian's chrony.service: DeviceAllow=char-pps/ptp/rtc narrow its sandbox, no hardware to pass
        "/lib/systemd/system/chrony.service": chrony,
        "/etc/systemd/system/multi-user.target.wants/chrony.service": chrony,
        "/etc/udev/rules.d/99-gps.rules": UDEV,
        "/etc/udev/rules.d/80-net-setup-link.rules": "",  # empty: nothing
    }
    inv = inventory([SystemdDetector, HardwareDetector], files)
    unit = "/etc/systemd/system/poslogd.service"
    assert settings(inv, "device") == {
        "/dev/ttyUSB0": ("used by poslogd.service", ((unit, 8), (unit, 11))),  # ExecStart=, DeviceAllow=
        "/dev/ttyACM0": ("used by poslogd.service", (("/etc/default/poslogd", 2),)),
        "/etc/udev/rules.d/99-gps.rules": (
            '1 udev rule: SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001"',
            (("/etc/udev/rules.d/99-gps.rules", 2),),
        ),
    }


def test_device_allow_in_an_admins_drop_in_and_masked_udev_rules() -> None:
    vendor = "[Service]\nExecStart=/usr/bin/render-worker\n\n[Install]\nWantedBy=multi-user.target\n"
    files = {
        "/lib/systemd/system/render.service": vendor,
        "/etc/systemd/system/multi-user.target.wants/render.service": vendor,
        "/etc/systemd/system/render.service.d/gpu.conf": "[Service]\nDeviceAllow=char-nvidia-frontend rw\n",
        "/etc/udev/rules.d/70-vendor.rules": Link("/dev/null"),  # masks a vendor rule
    }
    inv = inventory([SystemdDetector, HardwareDetector], files)
    assert settings(inv, "device") == {
        "char-nvidia-frontend": (
            "used by render.service",
            (("/etc/systemd/system/render.service.d/gpu.conf", 2),),
        )
    }


def test_a_udev_rule_a_package_ships_as_a_conffile_is_not_the_admins() -> None:
    rule = 'SUBSYSTEM=="usb", ATTR{idVendor}=="0529", MODE="0666"\n'
    md5 = hashlib.md5(rule.encode()).hexdigest()
    status = (
        "Package: aksusbd\nStatus: install ok installed\nArchitecture: amd64\nVersion: 8.53-1\n"
        f"Conffiles:\n /etc/udev/rules.d/80-hasp.rules {md5}\nDescription: Sentinel LDK runtime\n"
    )
    files = {"/var/lib/dpkg/status": status, "/etc/udev/rules.d/80-hasp.rules": rule}
    inv = inventory([DpkgDetector, HardwareDetector], files)
    assert settings(inv, "device") == {}
    # the package itself is a licence-dongle runtime
    assert settings(inv, "licence-dongle") == {
        "sentinel-hasp": ("Thales Sentinel HASP/LDK licence manager", (("/var/lib/dpkg/status", 1),))
    }


def test_licence_dongle_daemons_by_unit_init_script_and_config() -> None:
    codemeter = (
        "[Unit]\nDescription=CodeMeter Runtime Server\n\n[Service]\nType=forking\n"
        "ExecStart=/usr/sbin/CodeMeterLin -f\n\n[Install]\nWantedBy=multi-user.target\n"
    )
    files = {
        "/lib/systemd/system/codemeter.service": codemeter,
        "/etc/systemd/system/multi-user.target.wants/codemeter.service": codemeter,
        "/etc/wibu/CodeMeter/Server.ini": "[General]\nIsNetworkServer=0\n",
        "/etc/init.d/aksusbd": "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: aksusbd\n### END INIT INFO\n"
        "start-stop-daemon --start --exec /usr/sbin/aksusbd\n",
        "/etc/rc2.d/S01aksusbd": Link("../init.d/aksusbd"),
    }
    inv = inventory([SystemdDetector, SysvDetector, HardwareDetector], files)
    got = settings(inv, "licence-dongle")
    assert set(got) == {"codemeter", "sentinel-hasp"}
    assert got["codemeter"][1] == (
        ("/lib/systemd/system/codemeter.service", 6),
        ("/etc/wibu/CodeMeter/Server.ini", None),
    )
    assert got["sentinel-hasp"][1][0][0] == "/etc/init.d/aksusbd"


def test_hugepages_from_sysctl_the_kernel_command_line_and_zero_is_none() -> None:
    files = {
        "/etc/sysctl.d/10-old.conf": "vm.nr_hugepages = 128\n",
        "/etc/sysctl.d/30-postgresql.conf": "# PostgreSQL shared_buffers 2 GB in 2 MB pages\nvm.nr_hugepages = 1100\n"
        "vm.hugetlb_shm_group=26\n",
        "/etc/sysctl.conf": "; off again\nvm/nr_overcommit_hugepages=0\nvm.swappiness=10\n",
        "/etc/default/grub": 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        'GRUB_CMDLINE_LINUX="crashkernel=auto transparent_hugepage=never"\n',
        "/etc/default/grub.d/hugepages.cfg": 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX default_hugepagesz=1G '
        'hugepagesz=1G hugepages=4"\n',
        "/etc/kernel/cmdline": "root=UUID=abc ro hugepages=8\n",
    }
    inv = inventory([HardwareDetector], files)
    got = sorted(
        (h.name, h.value, *((e.path, e.line) for e in h.evidence))
        for h in inv.host_settings
        if h.category == "hugepages"
    )
    grub_d = ("/etc/default/grub.d/hugepages.cfg", 1)
    assert got == [
        ("kernel default_hugepagesz", "1G", grub_d),
        ("kernel hugepages", "4", grub_d),
        ("kernel hugepages", "8", ("/etc/kernel/cmdline", 1)),
        ("kernel hugepagesz", "1G", grub_d),
        ("kernel transparent_hugepage", "never", ("/etc/default/grub", 3)),
        ("vm.hugetlb_shm_group", "26", ("/etc/sysctl.d/30-postgresql.conf", 3)),
        ("vm.nr_hugepages", "1100", ("/etc/sysctl.d/30-postgresql.conf", 2)),  # the later file wins; 0 is none
    ]


def test_no_hardware_no_settings_and_garbage_is_no_traceback() -> None:
    assert [h for h in inventory([HardwareDetector], {}).host_settings] == []
    files = {
        "/etc/default/grub": 'GRUB_CMDLINE_LINUX="unterminated\n',
        "/etc/sysctl.conf": "vm.nr_hugepages\n=\n\x00\xff\n",
        "/etc/udev/rules.d/1.rules": "\\\n",
        "/etc/kernel/cmdline": "\n",
    }
    inv = inventory([HardwareDetector], files)
    assert [(h.category, h.name) for h in inv.host_settings] == [("device", "/etc/udev/rules.d/1.rules")]


def test_systemd_keeps_a_services_type_with_drop_ins() -> None:
    unit = "[Service]\nType=forking\nExecStart=/usr/sbin/d\n\n[Install]\nWantedBy=multi-user.target\n"
    files = {
        "/lib/systemd/system/d.service": unit,
        "/etc/systemd/system/multi-user.target.wants/d.service": unit,
        "/etc/systemd/system/d.service.d/notify.conf": "[Service]\nType=notify\n",
        "/lib/systemd/system/plain.service": "[Service]\nExecStart=/bin/plain\n[Install]\nWantedBy=x.target\n",
        "/lib/systemd/system/d.socket": "[Socket]\nListenStream=80\n[Install]\nWantedBy=sockets.target\n",
    }
    inv = inventory([SystemdDetector], files)
    types = {u.name: u.service_type for u in inv.units}
    assert types == {"d.service": "notify", "plain.service": None, "d.socket": None}
