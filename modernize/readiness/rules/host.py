"""Host coupling: what ties a service to this machine's kernel, network and disks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from modernize.model import HostSetting, cite
from modernize.readiness.rule import Check, Context, Hit, Rule
from modernize.readiness.rules._util import under


def _network_mounts(ctx: Context) -> Iterator[Hit]:
    for m in ctx.inventory.mounts:
        if m.kind != "network":
            continue
        users: list[str | None] = [
            s.id for s in ctx.services() if any(under(r.path, m.target) for r in (*s.data_dirs, *s.content_paths))
        ]
        for sid in users or [None]:
            yield Hit(
                sid,
                f"{m.target} is a {m.fstype} mount of {m.source}",
                cite(m.evidence),
            )


def _settings(category: str, what: str, keep: Callable[[HostSetting, Context], bool] | None = None) -> Check:
    """One host-level hit listing the host settings of CATEGORY (those KEEP accepts)."""

    def check(ctx: Context) -> Iterator[Hit]:
        found = [h for h in ctx.inventory.host_settings if h.category == category and (keep is None or keep(h, ctx))]
        if found:
            names = ", ".join(sorted({h.name for h in found})[:8])
            yield Hit(None, f"{len(found)} {what}: {names}", tuple(e for h in found for e in cite(h.evidence))[:8])

    return check


_STOCK_HOSTS = ("localhost", "ip6-localhost", "ip6-loopback", "ip6-allnodes", "ip6-allrouters", "ip6-localnet",
                "ip6-mcastprefix")  # fmt: skip


def _not_stock_or_own(h: HostSetting, ctx: Context) -> bool:
    """An /etc/hosts name a container would miss: not Debian's stock ones, not the host's own."""
    hostname = ctx.inventory.host.hostname or ""
    return h.name not in _STOCK_HOSTS and h.name.split(".")[0] not in {hostname, hostname.split(".")[0]}


def _kernel_services(ctx: Context) -> Iterator[Hit]:
    for s in ctx.inventory.services:
        if s.software in ("nfs-server", "nfs-kernel-server"):
            yield Hit(s.id, f"{s.name} runs in the kernel: a container cannot run it", cite(s.evidence)[:3])


RULES = [
    Rule(
        "HC001", "Data on a network mount", "host coupling", "major", 8,
        "one mount, mounted the same way in the container host or through a volume driver",
        "Mount the share on the container host and hand it in as a volume (or use a CSI/volume driver); "
        "keep the mount options and credentials out of the image.",
        _network_mounts,
        ("https://docs.docker.com/engine/storage/volumes/#create-a-service-which-creates-an-nfs-volume",),
    ),
    Rule(
        "HC002", "Kernel modules loaded for the host", "host coupling", "major", 4,
        "the modules exist on the container host's kernel",
        "Load the modules on the container host (containers share its kernel); check each one is needed.",
        _settings("kernel-module", "kernel modules configured"),
    ),
    Rule(
        "HC003", "Changed kernel settings (sysctl)", "host coupling", "minor", 2,
        "namespaced sysctls can move to the container's settings; the rest to the host",
        "Set namespaced ones (net.*) per container (`sysctls:` in compose); set the others on the container host.",
        _settings("sysctl", "sysctl settings"),
        ("https://docs.docker.com/reference/compose-file/services/#sysctls",),
    ),
    Rule(
        "HC004", "Host firewall rules", "host coupling", "minor", 3,
        "the rules translate to published ports and network policies",
        "Publish only the ports users reach; express the rest as network segmentation or policies.",
        _settings("firewall", "firewall rule sets"),
    ),
    Rule(
        "HC005", "SELinux or AppArmor policy", "host coupling", "minor", 3,
        "the container engine's default profiles replace the host's",
        "Check the service runs under the engine's default SELinux/AppArmor profile; write a profile where it "
        "does not.",
        lambda ctx: (
            Hit(None, f"{h.category}: {h.name} {h.value or ''}".strip(), cite(h.evidence))
            for h in ctx.inventory.host_settings
            if h.category in ("selinux", "apparmor") and (h.value or "").lower() not in ("disabled", "0", "")
        ),
    ),
    Rule(
        "HC006", "Names resolved from /etc/hosts", "host coupling", "minor", 1,
        "each entry becomes a DNS name or an extra_hosts line",
        "Move the entries to DNS, or to `extra_hosts:` of the services that use them.",
        _settings("hosts-entry", "names from /etc/hosts", _not_stock_or_own),
        ("https://docs.docker.com/reference/compose-file/services/#extra_hosts",),
    ),
    Rule(
        "HC007", "A service that runs in the kernel", "host coupling", "blocker", 16,
        "the service moves to a host, an appliance or a managed service",
        "Keep the kernel server (an in-kernel NFS server) on a host or a NAS, or replace it with a managed "
        "file service; containers mount its exports.",
        _kernel_services,
    ),
]  # fmt: skip


def _bind_mounts(ctx: Context) -> Iterator[Hit]:
    for m in ctx.inventory.mounts:
        if m.kind == "bind":
            users: list[str | None] = [
                s.id for s in ctx.services() if any(under(r.path, m.target) for r in s.data_dirs)
            ]
            for sid in users or [None]:
                yield Hit(sid, f"{m.source} is bind-mounted at {m.target}", cite(m.evidence))


def _swap(ctx: Context) -> Iterator[Hit]:
    swaps = [m for m in ctx.inventory.mounts if m.kind == "swap"]
    if swaps:
        yield Hit(None, f"the host swaps to {', '.join(m.source for m in swaps)}", cite(swaps[0].evidence))


RULES += [
    Rule(
        "HC008", "Bind mounts between host directories", "host coupling", "minor", 2,
        "the same tree becomes one volume mounted where each service expects it",
        "Replace the bind mount with one named volume mounted at both paths.", _bind_mounts,
    ),
    Rule(
        "HC009", "The host relies on swap", "host coupling", "info", 1,
        "the containers get memory limits sized from what the services used",
        "Size each container's memory limit from the service's real use; containers usually run without swap.",
        _swap, ("https://docs.docker.com/engine/containers/resource_constraints/",),
    ),
]  # fmt: skip


def _networking(ctx: Context) -> Iterator[Hit]:
    """One hit per bond, VLAN or bridge the host's own network configuration sets up."""
    for n in ctx.inventory.network_interfaces:
        if n.kind not in ("bond", "vlan", "bridge"):
            continue
        if n.kind == "vlan":
            what = f"VLAN {n.vlan_id if n.vlan_id is not None else '?'} on {n.parent or 'an unnamed device'}"
        else:
            what = f"{n.kind} of {', '.join(n.members) or 'no named ports'}"
            what += f" (mode {n.mode})" if n.mode else ""
        addr = f", {', '.join(n.addresses)}" if n.addresses else ""
        yield Hit(None, f"{n.name}: {what}{addr} ({n.source})", cite(n.evidence)[:4])


def _devices(ctx: Context) -> Iterator[Hit]:
    for h in ctx.inventory.host_settings:
        if h.category == "device":
            yield Hit(None, f"{h.name}: {h.value or 'a device'}", cite(h.evidence)[:4])
        elif h.category == "licence-dongle":
            yield Hit(None, f"{h.value or h.name}: a licence dongle on the host's USB", cite(h.evidence)[:4])


def _hugepages(ctx: Context) -> Iterator[Hit]:
    for h in ctx.inventory.host_settings:
        if h.category == "hugepages":
            yield Hit(None, f"{h.name} = {h.value}" if h.value else h.name, cite(h.evidence))
    for m in ctx.inventory.mounts:
        if m.fstype == "hugetlbfs":
            yield Hit(None, f"hugetlbfs mounted at {m.target}", cite(m.evidence))


RULES += [
    Rule(
        "HC010", "Bonded, VLAN or bridged networking", "host coupling", "major", 4,
        "the container host or platform provides the same networks (the bond and VLANs move to its NICs, "
        "a bridge becomes a container network); about an hour per interface to agree and set up",
        "Do not carry the bond, VLAN or bridge into the container: containers get their network from the "
        "engine. Have the container host (or the platform team) terminate the VLANs and bonds on its own NICs, "
        "then attach the services to a network that reaches the same segment (a macvlan/ipvlan network for an "
        "address on that VLAN, or a routed bridge network with published ports).",
        _networking,
        ("https://docs.docker.com/engine/network/drivers/macvlan/",
         "https://docs.docker.com/engine/network/drivers/ipvlan/",
         "https://www.kernel.org/doc/html/latest/networking/bonding.html"),
    ),
    Rule(
        "HC011", "Hardware devices or licence dongles", "host coupling", "major", 8,
        "the device (or the dongle) stays plugged into one container host, which the service is pinned to; "
        "a day to pass it through, pin the service and test it",
        "Pass each device into the one container that needs it (`devices:` in compose, `--device`; a GPU "
        "through the NVIDIA Container Toolkit), pin that container to the host the hardware is attached to, and "
        "move the udev rule to that host. A licence dongle's daemon (Sentinel aksusbd/hasplmd, CodeMeter) runs "
        "on the host or as its own container with the USB bus; better, ask the vendor for a network or "
        "software licence.",
        _devices,
        ("https://docs.docker.com/reference/compose-file/services/#devices",
         "https://docs.docker.com/reference/cli/docker/container/run/#device",
         "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/index.html"),
    ),
    Rule(
        "HC012", "Huge pages reserved on the host", "host coupling", "minor", 2,
        "the container host reserves the same pages at boot; the service's memory limit accounts for them",
        "Reserve the huge pages on the container host (kernel command line or `vm.nr_hugepages`), not in the "
        "image; give the container the hugetlbfs it needs (Kubernetes: `hugepages-2Mi` resources; Docker: "
        "mount the host's hugetlbfs) and set transparent huge pages on the host as the software asks.",
        _hugepages,
        ("https://docs.kernel.org/admin-guide/mm/hugetlbpage.html",
         "https://kubernetes.io/docs/tasks/manage-hugepages/scheduling-hugepages/"),
    ),
]  # fmt: skip
