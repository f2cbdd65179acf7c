"""network: bonds, VLANs and bridges from ifupdown, netplan, NetworkManager keyfiles,
systemd-networkd and RHEL ifcfg files; Wi-Fi keys kept only as fingerprints."""

from __future__ import annotations

import json

from detectors.network import NetworkDetector
from modernize.model import Inventory, NetworkInterface
from modernize.serialize import dumps as to_json
from tests.helpers import inventory, run

# ifenslave 2.13's /usr/share/doc/ifenslave/examples/ethernet+hotplug_wifi, the part
# between its 8< markers (the Wi-Fi key is the example's own placeholder)
IFENSLAVE_WIFI = """
auto bond0
iface bond0 inet dhcp
	bond-slaves eth0
	bond-mode 1
	bond-miimon 100
	bond-primary eth0

allow-hotplug wlan0
iface wlan0 inet manual
	bond-master bond0
	bond-mode 1
	bond-miimon 100
	bond-give-a-chance 10
	wpa-bridge bond0
	wpa-key-mgmt WPA-PSK
	wpa-proto WPA
	wpa-group CCMP
	wpa-ssid my-ssid
	wpa-psk "my-secret-password"
"""


def nic(inv: Inventory, name: str, source: str | None = None) -> NetworkInterface:
    hits = [n for n in inv.network_interfaces if n.name == name and (source is None or n.source == source)]
    assert len(hits) == 1, [(n.name, n.source) for n in inv.network_interfaces]
    return hits[0]


def shape(n: NetworkInterface) -> tuple[object, ...]:
    return (n.kind, n.members, n.parent, n.vlan_id, n.mode, n.method, n.addresses)


def test_ifupdown_bond_with_a_wifi_member_from_ifenslaves_example() -> None:
    files = {
        "/etc/network/interfaces": "# interfaces(5) file\nsource-directory interfaces.d\n\nauto lo\niface lo inet loopback\n",
        "/etc/network/interfaces.d/bond": IFENSLAVE_WIFI,
        "/etc/network/interfaces.d/README.txt": "iface ignored0 inet dhcp\n",  # run-parts skips names with a dot
    }
    inv = inventory([NetworkDetector], files)
    assert {n.name for n in inv.network_interfaces} == {"bond0", "wlan0"}  # no lo, nothing from README.txt
    bond = nic(inv, "bond0")
    # the member's bond-master puts wlan0 in the bond beside bond-slaves' eth0
    assert shape(bond) == ("bond", ("eth0", "wlan0"), None, None, "1", "dhcp", ())
    assert [e.line for e in bond.evidence] == [3, 4, 5]  # iface, bond-slaves, bond-mode
    assert bond.evidence[0].via == ("/etc/network/interfaces",)
    wlan = nic(inv, "wlan0")
    assert (wlan.kind, wlan.parent, wlan.mode) == ("wifi", "bond0", None)
    # the Wi-Fi key is a host secret (its place and fingerprint), its value nowhere
    assert [(s.key, s.path, s.line) for s in inv.host_secrets] == [("wpa-psk", "/etc/network/interfaces.d/bond", 20)]
    assert "my-secret-password" not in to_json(inv)


def test_ifupdown_vlans_bridges_comments_and_continuations() -> None:
    text = """# The primary network interface
auto eth0.100
iface eth0.100 inet static
    address 192.0.2.10/24
    # address 192.0.2.99/24 (commented out)

iface vlan20 inet manual
    vlan-raw-device \\
        eth1

auto br0
iface br0 inet dhcp
    bridge_ports eth2 eth3
    bridge_stp off

iface eth4 inet6 auto
"""
    inv = inventory([NetworkDetector], {"/etc/network/interfaces": text})
    assert shape(nic(inv, "eth0.100")) == ("vlan", (), "eth0", 100, None, "static", ("192.0.2.10/24",))
    vlan20 = nic(inv, "vlan20")
    assert shape(vlan20) == ("vlan", (), "eth1", 20, None, "manual", ())
    assert ("/etc/network/interfaces", 8) in {(e.path, e.line) for e in vlan20.evidence}  # the continued line's start
    assert shape(nic(inv, "br0")) == ("bridge", ("eth2", "eth3"), None, None, None, "dhcp", ())
    assert nic(inv, "eth4").kind == "ethernet"


def test_ifupdown_source_outside_interfaces_d_and_a_loop() -> None:
    files = {
        "/etc/network/interfaces": "source /etc/network/local/*.cfg\n",
        "/etc/network/local/bond.cfg": "source /etc/network/interfaces\niface bond1 inet manual\n bond-slaves none\n",
    }
    inv = inventory([NetworkDetector], files)  # a second-order read, and a file that sources its includer
    assert shape(nic(inv, "bond1")) == ("bond", (), None, None, None, "manual", ())


def test_netplan_bonds_vlans_bridges_and_a_wifi_password() -> None:
    text = """# Written by the installer, then edited
network:
  version: 2
  renderer: networkd
  ethernets:
    eno1: {}
    eno2: {}
  bonds:
    bond0:
      interfaces: [eno1, eno2]
      parameters:
        mode: 802.3ad
        lacp-rate: fast
  vlans:
    vlan30:
      id: 30
      link: bond0
      addresses:
        - 10.30.0.5/24
        - "2001:db8::5/64": {lifetime: 0}
  bridges:
    br-kvm:
      interfaces: [vlan30]
      dhcp4: true
  wifis:
    wlp2s0:
      access-points:
        "office":
          password: "wifi-secret-123"
"""
    inv = inventory([NetworkDetector], {"/etc/netplan/50-cloud-init.yaml": text})
    assert shape(nic(inv, "bond0")) == ("bond", ("eno1", "eno2"), None, None, "802.3ad", None, ())
    vlan = nic(inv, "vlan30")
    assert shape(vlan) == ("vlan", (), "bond0", 30, None, "static", ("10.30.0.5/24", "2001:db8::5/64"))
    assert [(e.path, e.line) for e in vlan.evidence] == [("/etc/netplan/50-cloud-init.yaml", 15)]
    assert shape(nic(inv, "br-kvm")) == ("bridge", ("vlan30",), None, None, None, "dhcp", ())
    assert nic(inv, "wlp2s0").kind == "wifi"
    assert [s.key for s in inv.host_secrets] == ["office.password"]
    assert "wifi-secret-123" not in to_json(inv)


def test_netplan_that_is_not_yaml_is_a_finding_not_a_traceback() -> None:
    result = run([NetworkDetector], {"/etc/netplan/01.yaml": "network:\n  bonds: [\n", "/etc/netplan/02.yaml": "- a\n"})
    inv = result.inventory
    assert inv.network_interfaces == ()
    assert [f.code for f in inv.findings] == ["unparsable"]
    assert not [f for f in inv.findings if f.code == "detector-failed"]


def test_networkmanager_keyfiles_bond_members_by_uuid_vlan_and_secrets() -> None:
    bond = """[connection]
id=bond0
uuid=8f1c5c3e-0c2d-4d3f-9a52-3b3a4c1d2e10
type=bond
interface-name=bond0

[bond]
miimon=100
mode=802.3ad

[ipv4]
address1=10.0.0.10/24,10.0.0.1
method=manual
"""
    port = """[connection]
id=bond0-port1
type=ethernet
interface-name=ens1f0
master=8f1c5c3e-0c2d-4d3f-9a52-3b3a4c1d2e10
slave-type=bond
"""
    vlan = """[connection]
id=storage
type=vlan

[vlan]
id=40
parent=bond0

[ipv4]
method=auto
"""
    wifi = """[connection]
id=guest
type=wifi
interface-name=wlp3s0

[wifi-security]
key-mgmt=wpa-psk
psk=guest-psk-value
"""
    inv = inventory(
        [NetworkDetector],
        {
            "/etc/NetworkManager/system-connections/bond0.nmconnection": bond,
            "/etc/NetworkManager/system-connections/bond0-port1.nmconnection": port,
            "/etc/NetworkManager/system-connections/storage.nmconnection": vlan,
            "/etc/NetworkManager/system-connections/guest.nmconnection": wifi,
        },
    )
    assert shape(nic(inv, "bond0")) == ("bond", ("ens1f0",), None, None, "802.3ad", "static", ("10.0.0.10/24",))
    assert nic(inv, "ens1f0").parent == "bond0"
    assert shape(nic(inv, "storage")) == ("vlan", (), "bond0", 40, None, "auto", ())
    assert [(s.key, s.line) for s in inv.host_secrets] == [("wifi-security.psk", 8)]
    assert "guest-psk-value" not in to_json(inv)


def test_networkd_netdev_and_network_files() -> None:
    files = {
        "/etc/systemd/network/10-bond0.netdev": "[NetDev]\nName=bond0\nKind=bond\n\n[Bond]\nMode=active-backup\n",
        "/etc/systemd/network/20-uplinks.network": "[Match]\nName=enp1s0 enp2s0\n\n[Network]\nBond=bond0\n",
        "/etc/systemd/network/30-bond0.network": "[Match]\nName=bond0\n\n[Network]\nVLAN=vlan50\nAddress=10.0.5.2/24\n",
        "/etc/systemd/network/40-vlan50.netdev": "# storage VLAN\n[NetDev]\nName=vlan50\nKind=vlan\n\n[VLAN]\nId=50\n",
        "/etc/systemd/network/99-any.network": "[Match]\nName=en*\n\n[Network]\nDHCP=yes\n",
    }
    inv = inventory([NetworkDetector], files)
    bond = nic(inv, "bond0")
    assert shape(bond) == ("bond", ("enp1s0", "enp2s0"), None, None, "active-backup", "static", ("10.0.5.2/24",))
    assert shape(nic(inv, "vlan50")) == ("vlan", (), "bond0", 50, None, None, ())
    assert ("/etc/systemd/network/40-vlan50.netdev", 4) in {(e.path, e.line) for e in nic(inv, "vlan50").evidence}
    assert "en*" not in {n.name for n in inv.network_interfaces}  # a pattern names no interface


def test_rhel_ifcfg_bond_vlan_and_bridge() -> None:
    d = "/etc/sysconfig/network-scripts"
    files = {
        f"{d}/ifcfg-bond0": 'DEVICE=bond0\nTYPE=Bond\nBONDING_MASTER=yes\nBONDING_OPTS="mode=802.3ad miimon=100"\n'
        "BOOTPROTO=none\nIPADDR=10.1.0.5\nPREFIX=24\nONBOOT=yes\n",
        f"{d}/ifcfg-ens1": "DEVICE=ens1\nTYPE=Ethernet\nMASTER=bond0\nSLAVE=yes\nBOOTPROTO=none\n",
        f"{d}/ifcfg-bond0.60": "DEVICE=bond0.60\nVLAN=yes\nBOOTPROTO=dhcp\nBRIDGE=br60\n",
        f"{d}/ifcfg-br60": "# bridge for the VMs\nDEVICE=br60\nTYPE=Bridge\nBOOTPROTO=none\n",
        f"{d}/ifcfg-bond0.bak": "DEVICE=bond0\nTYPE=Bond\n",
        f"{d}/ifcfg-lo": "DEVICE=lo\nIPADDR=127.0.0.1\n",
    }
    inv = inventory([NetworkDetector], files)
    assert {n.name for n in inv.network_interfaces} == {"bond0", "ens1", "bond0.60", "br60"}
    bond = nic(inv, "bond0")
    assert shape(bond) == ("bond", ("ens1",), None, None, "802.3ad", "static", ("10.1.0.5/24",))
    assert (f"{d}/ifcfg-bond0", 4) in {(e.path, e.line) for e in bond.evidence}
    assert shape(nic(inv, "bond0.60")) == ("vlan", (), "bond0", 60, None, "dhcp", ())
    assert shape(nic(inv, "br60")) == ("bridge", ("bond0.60",), None, None, None, "manual", ())


def test_nothing_configured_and_garbage() -> None:
    assert inventory([NetworkDetector], {}).network_interfaces == ()
    garbage = {
        "/etc/network/interfaces": "iface\nbond-slaves eth0\n\x00\xff iface\n",
        "/etc/netplan/x.yaml": "network:\n  bonds:\n    ? [a, b]\n    : 1\n  vlans: 7\n",
        "/etc/NetworkManager/system-connections/x.nmconnection": "no section=1\n[connection]\n",
        "/etc/systemd/network/x.netdev": "[NetDev]\nKind=bond\n",
        "/etc/sysconfig/network-scripts/ifcfg-x": "VLAN_ID=abc\nVLAN=yes\n",
    }
    inv = inventory([NetworkDetector], garbage)
    assert [(n.name, n.kind, n.vlan_id) for n in inv.network_interfaces] == [("x", "vlan", None)]
    json.loads(to_json(inv))
