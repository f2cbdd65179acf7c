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
