"""Table tests for the host detectors, on real files from the fixtures where possible."""

from __future__ import annotations

import subprocess

import pytest

from detectors.accounts import AccountsDetector
from detectors.apk import ApkDetector
from detectors.cron import CronDetector
from detectors.dpkg import DpkgDetector
from detectors.host_coupling import HostCouplingDetector
from detectors.os import OSDetector
from detectors.rpm import RpmDetector
from detectors.runtime import RuntimeDetector
from detectors.supervisord import SupervisordDetector
from detectors.systemd import SystemdDetector
from detectors.sysv import SysvDetector
from detectors.unpackaged import UnpackagedDetector
from modernize.secrets import redact_argv, redact_command
from modernize.snapshot.memory import File, Link
from tests.helpers import FIXTURES, inventory


def real(scenario: str, path: str) -> bytes:
    return (FIXTURES / scenario / "root" / path.lstrip("/")).read_bytes()


# -- os --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "files, want",
    [
        (
            {
                "/etc/os-release": Link("../usr/lib/os-release"),
                "/usr/lib/os-release": real("debian-minbase", "/usr/lib/os-release"),
            },
            ("debian", "12", "bookworm", "debian"),
        ),
        ({"/etc/os-release": real("rhel9", "/etc/os-release")}, ("rocky", "9.3", None, "rhel")),
        ({"/etc/os-release": real("alpine", "/etc/os-release")}, ("alpine", "3.19.1", None, "alpine")),
        ({"/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n"}, ("centos", "7.9.2009", None, "rhel")),
        ({"/etc/debian_version": "10.13\n"}, ("debian", "10", "buster", "debian")),
        ({}, (None, None, None, None)),
    ],
)
def test_os(files: dict[str, object], want: tuple[object, ...]) -> None:
    inv = inventory([OSDetector], files)  # type: ignore[arg-type]
    o = inv.host.os
    assert (o.id, o.version_id, o.codename, o.family) == want


def test_arch_from_the_elf_header_of_sh_through_links() -> None:
    files = {
        "/bin": Link("usr/bin"),
        "/usr/bin/sh": Link("dash"),
        "/usr/bin/dash": real("debian-minbase", "/usr/bin/dash"),
        "/etc/hostname": "# set by cloud-init\nweb01\n",
    }
    inv = inventory([OSDetector], files)
    assert inv.host.arch == "amd64" and inv.host.hostname == "web01"


# -- packages ----------------------------------------------------------------------------
def test_dpkg_counts_installed_packages_like_dpkg_query() -> None:
    status = real("debian-minbase", "/var/lib/dpkg/status")
    out = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={FIXTURES / 'debian-minbase/root/var/lib/dpkg'}",
            "-W",
            "-f",
            "${db:Status-Abbrev}\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    want = sum(1 for line in out.splitlines() if line.startswith("ii"))
    removed = b"\n\nPackage: oldpkg\nStatus: deinstall ok config-files\nVersion: 1.0\n"
    inv = inventory([DpkgDetector], {"/var/lib/dpkg/status": status + removed})
    assert len(inv.packages) == want
    assert "oldpkg" not in {p.name for p in inv.packages}
    bash = next(p for p in inv.packages if p.name == "bash")
    assert bash.version.raw.startswith("5.2.15") and bash.version.upstream == "5.2.15" and bash.version.series == "5.2"


def test_dpkg_sizes_and_dependencies_as_dpkg_query_reports_them() -> None:
    """Installed-Size (KiB) and the names in Pre-Depends/Depends, checked against
    dpkg-query on the real status file (an alternative counts by its first name)."""
    status = real("debian-minbase", "/var/lib/dpkg/status")
    inv = inventory([DpkgDetector], {"/var/lib/dpkg/status": status})
    out = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={FIXTURES / 'debian-minbase/root/var/lib/dpkg'}",
            "-W",
            "-f",
            "${Package}\t${Installed-Size}\t${Pre-Depends}, ${Depends}\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_name = {p.name: p for p in inv.packages}
    checked = 0
    for line in out.splitlines():
        name, size, deps = line.split("\t")
        if name not in by_name:
            continue
        pkg = by_name[name]
        assert pkg.installed_size == (int(size) * 1024 if size else None), name
        want = [d.split("|")[0].strip().split(" ")[0].split(":")[0] for d in deps.split(",")]
        assert list(pkg.depends) == list(dict.fromkeys(w for w in want if w)), name
        checked += 1
    assert checked == len(inv.packages) > 50
    assert "libc6" in by_name["bash"].depends or "base-files" in by_name["bash"].depends


def test_dpkg_changed_and_unowned_config() -> None:
    status = (
        "Package: demo\nStatus: install ok installed\nVersion: 1:2.0-1\nArchitecture: amd64\n"
        "Conffiles:\n /etc/demo.conf 3858f62230ac3c915f300c664312c63f\n /etc/demo-gone.conf 0123\n"
        "Description: demo\n"
    )
    inv = inventory(
        [DpkgDetector],
        {
            "/var/lib/dpkg/status": status,
            "/var/lib/dpkg/info/demo.list": "/etc\n/etc/demo.conf\n/etc/demo-gone.conf\n",
            "/etc/demo.conf": "foobar",  # md5 3858f622... is "foobar": unchanged
            "/etc/admin.conf": "mine\n",
        },
    )
    changes = {(c.path, c.status) for c in inv.config_changes}
    assert changes == {("/etc/demo-gone.conf", "missing"), ("/etc/admin.conf", "unowned")}
    inv2 = inventory(
        [DpkgDetector],
        {
            "/var/lib/dpkg/status": status,
            "/var/lib/dpkg/info/demo.list": "/etc/demo.conf\n",
            "/etc/demo.conf": "edited",
        },
    )
    assert ("/etc/demo.conf", "modified") in {(c.path, c.status) for c in inv2.config_changes}
    assert inv2.packages[0].version.upstream == "2.0"


def test_rpm_sqlite_database_made_by_rpm() -> None:
    inv = inventory([RpmDetector], {"/var/lib/rpm/rpmdb.sqlite": File(real("rhel9", "/var/lib/rpm/rpmdb.sqlite"))})
    pkgs = {p.name: p for p in inv.packages}
    assert pkgs["httpd"].version.raw == "2.4.57-5.el9" and pkgs["httpd"].version.upstream == "2.4.57"
    assert pkgs["postgresql-server"].version.series == "15"
    assert pkgs["bash"].arch == "x86_64" and inv.host.arch == "x86_64"


def test_rpm_garbage_is_a_finding_not_a_crash() -> None:
    inv = inventory([RpmDetector], {"/var/lib/rpm/rpmdb.sqlite": b"SQLite format 3\x00" + b"\x00" * 200})
    assert inv.packages == () and any(f.code == "unparsable" for f in inv.findings)


def test_apk_installed_db() -> None:
    inv = inventory([ApkDetector], {"/lib/apk/db/installed": real("alpine", "/lib/apk/db/installed")})
    pkgs = {p.name: p for p in inv.packages}
    assert pkgs["nginx"].version.raw == "1.24.0-r15" and pkgs["nginx"].version.upstream == "1.24.0"
    assert pkgs["redis"].version.series == "7.2"


def test_software_outside_package_managers() -> None:
    files = {
        "/opt/jdk-17.0.2/release": 'JAVA_VERSION="17.0.2"\n',
        "/opt/tool-1.4.0/bin/tool": File("#!/bin/sh\n", mode=0o755),
        "/usr/local/bin/backup.sh": File("#!/bin/sh\n", mode=0o755),
        "/usr/local/bin/notes.txt": "not a program",
    }
    inv = inventory([UnpackagedDetector], files)
    got = {(p.name, p.version.raw, p.location) for p in inv.packages}
    assert got == {
        ("jdk-17.0.2", "17.0.2", "/opt/jdk-17.0.2"),
        ("tool", "1.4.0", "/opt/tool-1.4.0"),
        ("backup.sh", "", "/usr/local/bin/backup.sh"),
    }


# -- accounts -------------------------------------------------------------------------
def test_accounts_humans_system_and_sudo() -> None:
    files = {
        "/etc/passwd": real("python-web", "/etc/passwd"),
        "/etc/group": real("python-web", "/etc/group"),
        "/etc/login.defs": "UID_MIN 1000\nUID_MAX 60000\n",
        "/etc/sudoers": "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
        "/etc/sudoers.d/alice": "alice ALL=(ALL) NOPASSWD: /usr/bin/systemctl\n",
        "/etc/sudoers.d/README": "# a README is skipped by sudo? no: only names with a dot or ~\n",
        "/etc/sudoers.d/old.bak": "mallory ALL=(ALL) ALL\n",
    }
    inv = inventory([AccountsDetector], files)
    assert [u.name for u in inv.users if u.human] == ["alice"]
    postgres = next(u for u in inv.users if u.name == "postgres")
    assert not postgres.human  # a bash shell does not make a system account human
    subjects = {r.subject for r in inv.sudoers}
    assert {"root", "%sudo", "alice"} <= subjects and "mallory" not in subjects
    assert next(r for r in inv.sudoers if r.subject == "alice").nopasswd


# -- systemd ---------------------------------------------------------------------------
UNIT = """[Unit]
Description=Intranet
[Service]
User=intranet
WorkingDirectory=/srv/intranet/app
EnvironmentFile=-/etc/intranet/intranet.env
Environment="MODE=prod" API_TOKEN=abc123
ExecStart=/srv/intranet/venv/bin/gunicorn --workers 3 \\
    --bind 127.0.0.1:8000 wsgi:app
[Install]
WantedBy=multi-user.target
"""


def test_systemd_dropin_reset_enablement_env_and_templates() -> None:
    files = {
        "/lib": Link("usr/lib"),
        "/etc/systemd/system/intranet.service": UNIT,
        "/etc/systemd/system/intranet.service.d/override.conf": "[Service]\nExecStart=\nExecStart=/srv/intranet/venv/bin/gunicorn --workers 5 wsgi:app\n",
        "/etc/systemd/system/multi-user.target.wants/intranet.service": Link("/etc/systemd/system/intranet.service"),
        "/etc/intranet/intranet.env": "DATABASE_URL=postgresql://app:pw-Secret1@127.0.0.1/app\nDEBUG=0\n",
        "/usr/lib/systemd/system/postgresql@.service": "[Service]\nExecStart=/usr/bin/pg_ctlcluster --skip-systemctl-redirect %i start\n[Install]\nWantedBy=multi-user.target\n",
        "/etc/systemd/system/multi-user.target.wants/postgresql@15-main.service": Link(
            "/lib/systemd/system/postgresql@.service"
        ),
        "/usr/lib/systemd/system/redis-server.service": "[Service]\nExecStart=/usr/bin/redis-server /etc/redis/redis.conf\n[Install]\nWantedBy=multi-user.target\n",
        "/usr/lib/systemd/system/masked.service": "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        "/etc/systemd/system/masked.service": Link("/dev/null"),
        "/usr/lib/systemd/system/journal.service": "[Service]\nExecStart=/lib/systemd/journal\n",
    }
    inv = inventory([SystemdDetector], files)
    units = {u.name: u for u in inv.units}
    app = units["intranet.service"]
    assert app.exec_start == (("/srv/intranet/venv/bin/gunicorn", "--workers", "5", "wsgi:app"),)
    assert (app.state, app.enabled, app.user) == ("enabled", True, "intranet")
    env = {e.name: e for e in app.environment}
    assert env["MODE"].value == "prod" and env["DEBUG"].value == "0"
    assert env["API_TOKEN"].value is None and env["API_TOKEN"].secret
    assert env["DATABASE_URL"].value == "postgresql://app:<redacted>@127.0.0.1/app"
    assert {s.key for s in app.secrets} == {"API_TOKEN", "DATABASE_URL"}
    assert "pw-Secret1" not in repr(inv) and "abc123" not in repr(inv)
    pg = units["postgresql@15-main.service"]
    assert pg.exec_start[0][-2:] == ("15-main", "start") and pg.enabled
    assert units["redis-server.service"].state == "disabled"
    assert units["masked.service"].state == "masked"
    assert "journal.service" not in units  # static vendor unit, not wanted by anything


def test_systemd_dropins_apply_in_file_name_order_across_directories() -> None:
    # systemd.unit(5): drop-ins from every directory are applied in lexicographic
    # order of their file names; of two with one name, /etc beats /usr/lib, and
    # the unit's own directory beats its dash prefix's and its type's
    vendor = "/usr/lib/systemd/system"
    files = {
        "/lib": Link("usr/lib"),
        f"{vendor}/app-web.service": "[Service]\nExecStart=/opt/app/web --v1\n[Install]\nWantedBy=multi-user.target\n",
        "/etc/systemd/system/multi-user.target.wants/app-web.service": Link(f"{vendor}/app-web.service"),
        f"{vendor}/service.d/10-all.conf": "[Service]\nEnvironment=LEVEL=type\n",
        f"{vendor}/app-.service.d/10-all.conf": "[Service]\nEnvironment=LEVEL=prefix\n",
        f"{vendor}/app-web.service.d/20-exec.conf": "[Service]\nExecStart=\nExecStart=/opt/app/web --vendor\n",
        "/etc/systemd/system/app-web.service.d/20-exec.conf": "[Service]\nExecStart=\nExecStart=/opt/app/web --admin\n",
        "/etc/systemd/system/service.d/05-first.conf": "[Service]\nUser=web\n",
        # the type's directory comes after every other, whatever its search directory
        "/etc/systemd/system/service.d/30-late.conf": "[Service]\nEnvironment=LATE=type\n",
        f"{vendor}/app-web.service.d/30-late.conf": "[Service]\nEnvironment=LATE=unit\n",
        # an instance: its own directory, then its template's
        f"{vendor}/worker@.service": "[Service]\nExecStart=/opt/app/worker %i\n[Install]\nWantedBy=multi-user.target\n",
        "/etc/systemd/system/multi-user.target.wants/worker@q1.service": Link(f"{vendor}/worker@.service"),
        f"{vendor}/worker@.service.d/10-mem.conf": "[Service]\nEnvironment=MEM=template\n",
        "/etc/systemd/system/worker@q1.service.d/10-mem.conf": "[Service]\nEnvironment=MEM=instance\n",
        f"{vendor}/worker@.service.d/20-nice.conf": "[Service]\nNice=5\n",
    }
    units = {u.name: u for u in inventory([SystemdDetector], files).units}
    app = units["app-web.service"]
    assert app.dropins == (
        "/etc/systemd/system/service.d/05-first.conf",
        f"{vendor}/app-.service.d/10-all.conf",
        "/etc/systemd/system/app-web.service.d/20-exec.conf",
        f"{vendor}/app-web.service.d/30-late.conf",
    )
    assert app.exec_start == (("/opt/app/web", "--admin"),)
    assert app.user == "web"
    env = {e.name: e.value for e in app.environment}
    assert (env["LEVEL"], env["LATE"]) == ("prefix", "unit")
    worker = units["worker@q1.service"]
    assert worker.dropins == (  # the type's drop-ins are every service's
        "/etc/systemd/system/service.d/05-first.conf",
        f"{vendor}/service.d/10-all.conf",
        "/etc/systemd/system/worker@q1.service.d/10-mem.conf",
        f"{vendor}/worker@.service.d/20-nice.conf",
        "/etc/systemd/system/service.d/30-late.conf",
    )
    assert [e.value for e in worker.environment if e.name == "MEM"] == ["instance"]


# -- sysv, openrc, supervisord -----------------------------------------------------------
def test_sysv_scripts_and_links() -> None:
    script = real("mail-dns-files", "/etc/init.d/legacy-syncd")
    files = {
        "/etc/init.d/legacy-syncd": script,
        "/etc/rc2.d/S01legacy-syncd": Link("../init.d/legacy-syncd"),
        "/etc/init.d/nginx": "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: nginx\n### END INIT INFO\nDAEMON=/usr/sbin/nginx\n",
        "/etc/rc2.d/S01nginx": Link("../init.d/nginx"),
        "/etc/init.d/off": "#!/bin/sh\nDAEMON=/usr/bin/off\n",
        "/lib/systemd/system/nginx.service": "[Service]\nExecStart=/usr/sbin/nginx\n[Install]\nWantedBy=multi-user.target\n",
    }
    inv = inventory([SystemdDetector, SysvDetector], files)
    sysv = {u.name: u for u in inv.units if u.system == "sysv"}
    assert sysv["legacy-syncd"].enabled and sysv["legacy-syncd"].exec_start
    assert sysv["nginx"].state == "shadowed"  # systemd has a native unit
    assert sysv["off"].enabled is False


def test_openrc_runlevels() -> None:
    files = {
        "/etc/init.d/nginx": real("alpine", "/etc/init.d/nginx"),
        "/etc/init.d/redis-sentinel": real("alpine", "/etc/init.d/redis-sentinel"),
        "/etc/runlevels/default/nginx": Link("/etc/init.d/nginx"),
    }
    inv = inventory([SystemdDetector, SysvDetector], files)
    units = {u.name: u for u in inv.units}
    assert units["nginx"].system == "openrc" and units["nginx"].enabled
    assert units["redis-sentinel"].enabled is False


def test_supervisord_programs_through_includes() -> None:
    files = {
        "/etc/supervisor/supervisord.conf": real("mail-dns-files", "/etc/supervisor/supervisord.conf"),
        "/etc/supervisor/conf.d/queue-runner.conf": real("mail-dns-files", "/etc/supervisor/conf.d/queue-runner.conf"),
        "/etc/supervisor/conf.d/off.conf": "[program:off]\ncommand=/bin/off --password hunter2\nautostart=false\n",
    }
    inv = inventory([SupervisordDetector], files)
    units = {u.name: u for u in inv.units}
    assert units["queue-runner"].enabled and units["queue-runner"].user == "nobody"
    assert units["off"].enabled is False
    assert units["off"].exec_start == (("/bin/off", "--password", "<redacted>"),)


def test_every_secret_option_is_masked_in_an_argv_as_on_a_command_line() -> None:
    """`--pwd x` and `--auth-token x` as separate arguments, as a unit's ExecStart
    splits them, are masked like `--pwd=x` is (they once slipped through)."""
    argv = ("/srv/app/bin/app", "--pwd", "pw-1", "--auth-token", "tok-2", "--api_key", "key-3", "--port", "8080")
    unit = "[Service]\nExecStart=" + " ".join(argv) + "\n[Install]\nWantedBy=multi-user.target\n"
    files = {
        "/etc/systemd/system/app.service": unit,
        "/etc/systemd/system/multi-user.target.wants/app.service": Link("/etc/systemd/system/app.service"),
    }
    inv = inventory([SystemdDetector], files)
    (app,) = [u for u in inv.units if u.name == "app.service"]
    assert app.exec_start == (
        (
            "/srv/app/bin/app",
            "--pwd",
            "<redacted>",
            "--auth-token",
            "<redacted>",
            "--api_key",
            "<redacted>",
            "--port",
            "8080",
        ),
    )
    assert redact_argv(argv) == app.exec_start[0]
    assert redact_command(" ".join(argv)) == " ".join(app.exec_start[0])


# -- cron -------------------------------------------------------------------------------
def test_cron_sources_and_traps() -> None:
    files = {
        "/etc/crontab": real("python-web", "/etc/crontab"),
        "/etc/cron.d/backup": "# m h dom mon dow user command\n#0 1 * * * root /old.sh\nMAILTO=ops\n30 2 * * * postgres /usr/local/bin/pg-backup.sh\n@reboot root /usr/local/bin/warmup --token=s3cr3t\n",
        "/etc/cron.d/skip.dpkg-old": "0 0 * * * root /never\n",
        "/etc/cron.daily/logrotate": "#!/bin/sh\n",
        "/etc/cron.daily/README.txt": "not run by run-parts\n",
        "/var/spool/cron/crontabs/alice": "0 7 * * 1 du -sh /home/alice\n",
    }
    inv = inventory([SystemdDetector, CronDetector], files)
    jobs = {(j.schedule, j.user, j.source): j.command for j in inv.cron_jobs}
    assert jobs[("30 2 * * *", "postgres", "cron.d")] == "/usr/local/bin/pg-backup.sh"
    assert ("@daily", "root", "periodic") in jobs
    assert jobs[("0 7 * * 1", "alice", "user-crontab")] == "du -sh /home/alice"
    assert not any("/never" in c or "/old.sh" in c or "README" in c for c in jobs.values())
    assert jobs[("@reboot", "root", "cron.d")] == "/usr/local/bin/warmup --token=<redacted>"
    assert any(u.system == "cron" and u.enabled for u in inv.units)  # @reboot runs like a service


# -- host coupling ------------------------------------------------------------------------
def test_host_coupling_from_real_files() -> None:
    files = {
        p: real("mail-dns-files", p)
        for p in (
            "/etc/fstab",
            "/etc/modules",
            "/etc/modules-load.d/bonding.conf",
            "/etc/sysctl.conf",
            "/etc/hosts",
            "/etc/iptables/rules.v4",
        )
    }
    files["/etc/selinux/config"] = "SELINUX=enforcing\nSELINUXTYPE=targeted\n"
    inv = inventory([HostCouplingDetector], files)
    kinds = {m.target: m.kind for m in inv.mounts}
    assert kinds["/mnt/archive"] == "network" and kinds["/"] == "local"
    assert "swap" in kinds.values()
    settings = {(h.category, h.name): h.value for h in inv.host_settings}
    assert ("kernel-module", "nfsd") in settings and ("kernel-module", "bonding") in settings
    assert settings[("sysctl", "net.ipv4.ip_forward")] == "1"
    assert settings[("selinux", "mode")] == "enforcing"
    assert ("firewall", "iptables") in settings
    assert not any(name.startswith("#") for _, name in settings)


# -- runtime -------------------------------------------------------------------------------
def test_runtime_capture_files() -> None:
    files = {
        "/.modernize/runtime/processes.jsonl": '{"pid": 7, "user": "www-data", "exe": "/usr/sbin/nginx", "cmdline": ["nginx"], "unit": "nginx.service"}\n',
        "/.modernize/runtime/listening.jsonl": '{"proto": "tcp6", "address": "::", "port": 80, "pid": 7}\nnot json\n',
        "/.modernize/runtime/mounts.jsonl": '{"source": "nas:/x", "target": "/srv/x", "fstype": "nfs4", "options": "rw"}\n{"source": "proc", "target": "/proc", "fstype": "proc", "options": "rw"}\n',
        "/.modernize/runtime/modules.txt": "Module Size Used\nbonding 200 0\n",
    }
    inv = inventory([RuntimeDetector], files)
    svc = inv.services[0]
    assert svc.id == "process:nginx.service" or svc.ports[0].source == "observed"
    assert svc.ports[0].address == "::" and svc.ports[0].port == 80
    assert [m.target for m in inv.mounts] == ["/srv/x"]
    assert ("kernel-module", "bonding") in {(h.category, h.name) for h in inv.host_settings}
    assert any(f.code == "unparsable" for f in inv.findings)
