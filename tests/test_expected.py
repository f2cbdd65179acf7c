"""The expected.yaml checker itself: it refuses keys it would not read, and each of
its checks fails when the fact is wrong (run on the golden inventories, no scan)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from modernize.model import Inventory
from modernize.serialize import load_inventory
from tests.expected import UnknownKeys, check, unknown_keys, validate
from tests.fixture_tree import scenarios
from tests.helpers import FIXTURES, REPO


def _golden(name: str) -> Inventory:
    data = json.loads((REPO / "tests" / "golden" / name / "inventory.json").read_text())
    data["source"] = {}
    return load_inventory(json.dumps(data))


def _expected(name: str) -> dict[str, Any]:
    return yaml.safe_load((FIXTURES / name / "expected.yaml").read_text())


def test_unknown_top_level_key_refused() -> None:
    with pytest.raises(UnknownKeys) as err:
        check(_golden("alpine"), {"os": {"id": "alpine"}, "daemons": ["nginx"]}, "fixtures/x/expected.yaml")
    msg = str(err.value)
    assert "fixtures/x/expected.yaml" in msg
    assert "'daemons'" in msg
    assert "known at top level" in msg and "services" in msg and "mounts" in msg


def test_unknown_service_key_refused() -> None:
    spec = {"services": [{"software": "nginx", "kind": "web-server", "listen_backlog": 511}]}
    with pytest.raises(UnknownKeys) as err:
        check(_golden("alpine"), spec, "fixtures/x/expected.yaml")
    msg = str(err.value)
    assert "'services[0].listen_backlog'" in msg
    assert "known at services[0]:" in msg and "config_files" in msg and "software" in msg


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"services": [{"software": "nginx", "ports": [{"port": 80, "backlog": 5}]}]}, "services[0].ports[0].backlog"),
        ({"os": {"id": "alpine", "kernel": "6.1"}}, "os.kernel"),
        ({"packages": {"details": [{"name": "musl", "license": "MIT"}]}}, "packages.details[0].license"),
        ({"cron": [{"schedule": "@daily", "active": False}]}, "cron[0].active"),
        ({"host": {"apparmor_profiles": ["usr.sbin.named"]}}, "host.apparmor_profiles"),
        ({"known_gaps": {"external": [{"from": "x", "proto": "udp"}]}}, "known_gaps.external[0].proto"),
        ({"known_gaps": {"os": [{"id": "x"}]}}, "known_gaps.os"),
    ],
)
def test_unknown_nested_key_refused(spec: dict[str, Any], where: str) -> None:
    assert [m for m in unknown_keys(spec) if f"{where!r}" in m], unknown_keys(spec)
    with pytest.raises(UnknownKeys):
        validate(spec)


def test_free_form_names_are_not_keys() -> None:
    # package names and sysctl names are data, not schema
    assert not unknown_keys({"packages": {"include": {"anything-at-all": "1.0"}}, "host": {"sysctl": {"a.b": "1"}}})


@pytest.mark.parametrize("name", scenarios())
def test_every_fixture_key_is_checked(name: str) -> None:
    assert not unknown_keys(_expected(name)), f"fixtures/{name}/expected.yaml: {unknown_keys(_expected(name))}"


# The checks added for keys that were once ignored: each passes on the fixture's facts
# and fails when one of them is wrong.
@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        (
            "alpine",
            {"services": [{"software": "nginx", "init": "openrc"}]},
            {"services": [{"software": "nginx", "init": "systemd"}]},
        ),
        (
            "mail-dns-files",
            {"services": [{"software": "queue-runner", "managed_by": "supervisor"}]},
            {"services": [{"software": "queue-runner", "managed_by": "sysvinit"}]},
        ),
        (
            "mail-dns-files",
            {"services": [{"software": "samba", "units": ["smbd.service", "nmbd.service"]}]},
            {"services": [{"software": "samba", "units": ["smbd.service", "winbind.service"]}]},
        ),
        (
            "mail-dns-files",
            {"services": [{"software": "legacy-syncd", "command": "/usr/local/sbin/syncd --listen 0.0.0.0:8873"}]},
            {"services": [{"software": "legacy-syncd", "command": "/usr/local/sbin/syncd --listen 0.0.0.0:9999"}]},
        ),
        (
            "mail-dns-files",
            {"services": [{"software": "bind9", "zones": ["corp.example.com"]}]},
            {"services": [{"software": "bind9", "zones": ["example.org"]}]},
        ),
        (
            "mail-dns-files",
            {"services": [{"software": "samba", "shares": ["projects", "print$"]}]},
            {"services": [{"software": "samba", "shares": ["public"]}]},
        ),
        (
            "mail-dns-files",
            {
                "services": [
                    {
                        "software": "nfs-server",
                        "exports": [
                            {"path": "/srv/nfs/home", "clients": "10.0.0.0/24", "options": "rw,sync,no_subtree_check"}
                        ],
                    }
                ]
            },
            {
                "services": [
                    {
                        "software": "nfs-server",
                        "exports": [{"path": "/srv/nfs/home", "clients": "10.0.0.0/24", "options": "ro"}],
                    }
                ]
            },
        ),
        (
            "rhel9",
            {"services": [{"software": "httpd", "vhosts": [{"server_name": "_default_", "port": 443, "tls": True}]}]},
            {"services": [{"software": "httpd", "vhosts": [{"server_name": "orders.corp.example.com", "tls": True}]}]},
        ),
        (
            "rhel9",
            {
                "services": [
                    {
                        "software": "httpd",
                        "vhosts": [
                            {
                                "server_name": "orders.corp.example.com",
                                "port": 80,
                                "proxy_pass": "http://127.0.0.1:8080/",
                            }
                        ],
                    }
                ]
            },
            {
                "services": [
                    {
                        "software": "httpd",
                        "vhosts": [
                            {
                                "server_name": "orders.corp.example.com",
                                "port": 80,
                                "proxy_pass": "http://127.0.0.1:9090/",
                            }
                        ],
                    }
                ]
            },
        ),
        (
            "python-web",
            {"services": [{"software": "redis", "instance": None}]},
            {"services": [{"software": "redis", "instance": "main"}]},
        ),
        (
            "rhel9",
            {
                "packages": {
                    "manager": "rpm",
                    "details": [
                        {"name": "mod_ssl", "epoch": 1, "version": "2.4.57", "release": "5.el9", "arch": "x86_64"}
                    ],
                }
            },
            {
                "packages": {
                    "manager": "rpm",
                    "details": [
                        {"name": "mod_ssl", "epoch": None, "version": "2.4.57", "release": "5.el9", "arch": "x86_64"}
                    ],
                }
            },
        ),
        (
            "rhel9",
            {"packages": {"manager": "rpm", "details": [{"name": "httpd-filesystem", "arch": "noarch"}]}},
            {"packages": {"manager": "rpm", "details": [{"name": "httpd-filesystem", "arch": "x86_64"}]}},
        ),
        (
            "alpine",
            {"cron": [{"schedule": "0 2 * * *", "file": "/etc/crontabs/root"}]},
            {"cron": [{"schedule": "0 2 * * *", "file": "/etc/crontab"}]},
        ),
        (
            "mail-dns-files",
            {"mounts": [{"target": "/mnt/archive", "options": "credentials=/etc/samba/creds"}]},
            {"mounts": [{"target": "/mnt/archive", "options": "credentials=/etc/samba/creds,ro"}]},
        ),
        (
            "mail-dns-files",
            {"secrets": [{"key": "password", "path": "/etc/samba/creds"}]},
            {"secrets": [{"key": "password", "path": "/etc/samba/other"}]},
        ),
        (
            "python-web",
            {"app_packages": [{"service": "python-app", "ecosystem": "pypi", "name": "werkzeug", "version": "3.1.9"}]},
            {"app_packages": [{"service": "python-app", "ecosystem": "pypi", "name": "werkzeug", "version": "3.0.0"}]},
        ),
        (
            "node-app",
            {"app_packages": [{"service": "node-app", "name": "jquery", "source": "url"}]},
            {"app_packages": [{"service": "node-app", "name": "jquery", "source": "registry"}]},
        ),
        (
            "mail-dns-files",
            {"host": {"kernel_modules": ["nfsd"], "sysctl": {"net.ipv4.ip_forward": "1"}}},
            {"host": {"sysctl": {"net.ipv4.ip_forward": "0"}}},
        ),
        (
            "mail-dns-files",
            {"host": {"firewall": {"type": "iptables", "file": "/etc/iptables/rules.v4"}, "selinux": "absent"}},
            {"host": {"firewall": {"type": "iptables", "file": "/etc/iptables/rules.v6"}}},
        ),
        (
            "rhel9",
            {"host": {"selinux": {"state": "enforcing"}}},
            {"host": {"selinux": "absent"}},
        ),
        (
            "mail-dns-files",
            {"network_interfaces": [{"name": "bond0.20", "kind": "vlan", "parent": "bond0", "vlan_id": 20}]},
            {"network_interfaces": [{"name": "bond0.20", "kind": "vlan", "parent": "eth0", "vlan_id": 20}]},
        ),
        (
            "rhel9",
            {"network_interfaces": [{"name": "bond0", "members": ["ens3f0", "ens3f1"], "mode": "active-backup"}]},
            {"network_interfaces": [{"name": "bond0", "members": ["ens3f0"], "file": "/etc/network/interfaces"}]},
        ),
        (
            "rhel9",
            {"host": {"hugepages": {"vm.nr_hugepages": "2100", "kernel transparent_hugepage": "never"}}},
            {"host": {"hugepages": {"vm.nr_hugepages": "1024"}}},
        ),
        (
            "mail-dns-files",
            {"host": {"devices": ["/etc/udev/rules.d/99-gsm-modem.rules"]}},
            {"host": {"devices": ["/dev/ttyUSB0"], "licence_dongles": ["codemeter"]}},
        ),
        (
            "vendor-daemon",
            {"services": [{"software": "acme-relay", "classified": False, "working_dir": "/opt/acme"}]},
            {"services": [{"software": "acme-relay", "classified": True}]},
        ),
        (
            "vendor-daemon",
            {"services": [{"software": "acme-relay", "program": {"interpreter": "perl", "kind": "script"}}]},
            {"services": [{"software": "acme-relay", "program": {"interpreter": "sh"}}]},
        ),
    ],
)
def test_new_checks_pass_and_fail(name: str, good: dict[str, Any], bad: dict[str, Any]) -> None:
    inv = _golden(name)
    assert check(inv, good) == []
    assert check(inv, bad), f"{bad} passed"
