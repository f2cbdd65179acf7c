"""Elasticsearch and OpenSearch nodes, from `/etc/elasticsearch/elasticsearch.yml` and
`/etc/opensearch/opensearch.yml` (package layouts).

The YAML may use nested or flattened keys (`http: {port: 9200}` == `http.port: 9200`).
Defaults (Elasticsearch "Networking" and "Important settings"): `http.port` 9200,
`transport.port` 9300 (older `transport.tcp.port`), `network.host` `_local_` (the
loopback addresses); `http.host` / `transport.host` and `*.bind_host` override it for one
layer. `path.data` (a string or a list) and `path.logs` locate the data and logs.
The heap comes from `jvm.options` and `jvm.options.d/*.options` (`-Xms`/`-Xmx`, with
an optional `N-M:` JDK-version prefix); a `*password*` setting is a secret.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port, file_ref
from modernize.parsers.lines import numbered
from modernize.parsers.yamlflat import Flat, flatten
from modernize.secrets import MASK, is_secret_name, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

FLAVOURS = {
    "elasticsearch": ("/etc/elasticsearch", "elasticsearch.yml"),
    "opensearch": ("/etc/opensearch", "opensearch.yml"),
}
SPECIAL = {
    "_local_": ["127.0.0.1", "::1"],
    "_local:ipv4_": ["127.0.0.1"],
    "_local:ipv6_": ["::1"],
    "0.0.0.0": ["0.0.0.0"],
    "0": ["0.0.0.0"],
    "::": ["::"],
}
_HEAP = re.compile(r"^(?:\d+-?\d*:)?-Xm([sx])(\S+)$")


def addresses(value: str) -> list[str | None]:
    """network.host values as bind addresses; `_site_`, `_global_`, `_eth0_` name
    interfaces whose addresses only the live host knows: kept as written."""
    out: list[str | None] = []
    for item in (v.strip() for v in value.split(",")):
        if item:
            out.extend(SPECIAL.get(item, [item]))
    return list(dict.fromkeys(out))


def heap(text: str) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for no, line in numbered(text):
        m = _HEAP.match(line)
        if m:
            out["Xms" if m.group(1) == "s" else "Xmx"] = (m.group(2), no)
    return out


class ElasticsearchDetector(Detector):
    name = "elasticsearch"
    tags = ("service", "search")
    reads = tuple(
        d
        for etc, yml in FLAVOURS.values()
        for d in whole(f"{etc}/{yml}", f"{etc}/jvm.options", f"{etc}/jvm.options.d/*.options")
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        for software, (etc, yml) in FLAVOURS.items():
            path = f"{etc}/{yml}"
            text = snap.text(path)
            if text is None:
                continue
            settings = flatten(text)
            if settings is None:
                found.unparsable(path, "not a YAML mapping")
                settings = {}
            found.add(self._facts(snap, software, etc, path, settings))

    def _facts(self, snap: Snapshot, software: str, etc: str, path: str, s: dict[str, Flat]) -> ServiceFacts:
        sf = ServiceFacts(
            software=software,
            kind="search",
            packages=[software],
            units=[f"{software}.service", software],
            binaries=[f"/usr/share/{software}/bin/{software}"],
        )
        sf.config_files.append(file_ref(path, "config"))

        def ev(key: str) -> Evidence:
            shown = MASK if is_secret_name(key.rsplit(".", 1)[-1]) else s[key].value
            return Evidence("config", path, s[key].line, excerpt=f"{key}: {shown}")

        def first(*keys: str) -> str | None:
            return next((k for k in keys if k in s and s[k].value), None)

        for layer, default_port, port_keys in (
            ("http", 9200, ("http.port",)),
            ("transport", 9300, ("transport.port", "transport.tcp.port")),
        ):
            pk = first(*port_keys)
            port, src = default_port, "default"
            port_ev = Evidence("default", detail=f"{layer}.port defaults to {default_port}")
            if pk:
                m = re.match(r"\d+", s[pk].value)  # a range `9200-9300` binds its first free port
                if m:
                    port, port_ev, src = int(m.group(0)), ev(pk), "configured"
            hk = first(f"{layer}.bind_host", f"{layer}.host", "network.bind_host", "network.host")
            if hk:
                addrs, addr_ev, src = addresses(s[hk].value), ev(hk), "configured"
            else:
                addrs = ["127.0.0.1", "::1"]
                addr_ev = Evidence("default", detail="network.host defaults to _local_ (the loopback addresses)")
            for a in addrs:
                sf.ports.append(Port(port, "tcp", a, source=src, evidence=(port_ev, addr_ev)))
        pd = s.get("path.data")
        data = [d.strip() for d in pd.value.split(",") if d.strip()] if pd else []
        for d in data:
            sf.data_dirs.append(FileRef(d, "data", evidence=(ev("path.data"),)))
        if not data:
            default = f"/var/lib/{software}"
            sf.data_dirs.append(
                FileRef(
                    default,
                    "data",
                    evidence=(Evidence("default", detail=f"the {software} packages keep data in {default}"),),
                )
            )
        pl = s.get("path.logs")
        logs = pl.value if pl and pl.value else f"/var/log/{software}"
        log_ev = ev("path.logs") if pl and pl.value else Evidence("default", detail=f"package default {logs}")
        sf.log_paths.append(FileRef(logs, "logs", evidence=(log_ev,)))
        for key in ("cluster.name", "node.name", "discovery.type"):
            if key in s:
                sf.attributes[key] = s[key].value
        if s.get("xpack.security.enabled"):
            sf.attributes["xpack.security.enabled"] = s["xpack.security.enabled"].value
        for key, f in s.items():
            if is_secret_name(key.rsplit(".", 1)[-1]) and f.value:
                sf.secrets.append(make_secret(key, f.value, path, f.line))
        for key, f in s.items():
            if key.endswith((".keystore.path", ".truststore.path", ".certificate", ".key")) and f.value:
                p = f.value if f.value.startswith("/") else f"{etc}/{f.value}"
                sf.config_files.append(FileRef(p, "certs", evidence=(ev(key),)))
        if snap.exists(f"{etc}/{software}.keystore"):
            ks = f"{etc}/{software}.keystore"
            sf.config_files.append(FileRef(ks, "certs", evidence=(Evidence("file", ks, detail="secure settings"),)))
        self._heap(snap, sf, etc)
        return sf

    @staticmethod
    def _heap(snap: Snapshot, sf: ServiceFacts, etc: str) -> None:
        files = [f"{etc}/jvm.options", *snap.glob(f"{etc}/jvm.options.d/*.options")]
        for f in files:
            text = snap.text(f)
            if text is None:
                continue
            sf.config_files.append(file_ref(f, "config"))
            for key, (value, no) in heap(text).items():
                sf.attributes[f"heap_{key}"] = value  # jvm.options.d files are read after jvm.options
                sf.evidence.append(Evidence("config", f, no, excerpt=f"-{key}{value}"))
