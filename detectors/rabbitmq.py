"""RabbitMQ, from `/etc/rabbitmq/` as the broker reads it (rabbitmq.com "Configuration",
"Networking", rabbitmq-env.conf(5)).

- `rabbitmq.conf`: the sysctl-like `key = value` format, `#` comment lines, the last
  value of a key wins; `listeners.tcp.NAME = [ADDR:]PORT` (none at all: 5672 on every
  address; `listeners.tcp = none` turns AMQP off), `listeners.ssl.NAME`,
  `management.tcp.port` (15672 when the management plugin is enabled);
- `rabbitmq-env.conf`: shell assignments, names with or without `RABBITMQ_`
  (NODE_PORT, NODE_IP_ADDRESS, MNESIA_BASE, LOG_BASE); rabbitmq.conf wins over it;
- the distribution port is the AMQP port + 20000 (25672) and epmd listens on 4369;
- `default_pass`, TLS key passwords and the Erlang cookie are secrets;
- `load_definitions` (or `management.load_definitions`) names a JSON file imported at boot:
  its `users` and `default_user` are the broker's own identity store (names only), and
  the file, holding their password hashes, a secret file;
  `advanced.config` (Erlang terms) is recorded as a config file, not interpreted.
- the node name is `NODENAME` (default `rabbit`) with `@` and the short host name appended
  unless it has one; its database lives in `MNESIA_BASE/<node name>`, so the data is
  keyed by the host name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, IdentityStore, Port, Secret, file_ref
from modernize.parsers.lines import numbered
from modernize.parsers.shell import assignments
from modernize.secrets import MASK, fingerprint, is_secret_name, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

ETC = "/etc/rabbitmq"
CONF = f"{ETC}/rabbitmq.conf"
ENV = f"{ETC}/rabbitmq-env.conf"
PLUGINS = f"{ETC}/enabled_plugins"
COOKIE = "/var/lib/rabbitmq/.erlang.cookie"
SECRET_KEYS = ("default_pass", "ssl_options.password", "management.ssl.password")

Conf = dict[str, tuple[str, int]]


def parse_conf(text: str) -> Conf:
    out: Conf = {}
    for no, line in numbered(text):
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = (value.strip(), no)
    return out


def listener(value: str) -> tuple[str | None, int] | None:
    """`5672`, `127.0.0.1:5672`, `::1:5672` -> (address, port)."""
    if value.isdigit():
        return None, int(value)
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and host and not host.startswith(("unix", "local")):
        return host.strip("[]"), int(port)
    return None


class RabbitmqDetector(Detector):
    name = "rabbitmq"
    tags = ("service", "broker")
    requires = ("os", "systemd", "sysv", "dpkg", "rpm", "apk")
    reads = whole(CONF, ENV, PLUGINS, f"{ETC}/advanced.config", f"{ETC}/rabbitmq.config", COOKIE)

    def detect(self, snap: Snapshot, found: Found) -> None:
        pkg = found.package("rabbitmq-server")
        units = [u for u in found.units if u.name in ("rabbitmq-server.service", "rabbitmq-server")]
        if pkg is None and not units and not snap.is_dir(ETC):
            return
        sf = ServiceFacts(
            software="rabbitmq",
            kind="broker",
            packages=["rabbitmq-server"],
            units=["rabbitmq-server.service", "rabbitmq-server"],
            binaries=["/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/sbin/rabbitmq-server"],
        )
        for path in (CONF, ENV, PLUGINS, f"{ETC}/advanced.config", f"{ETC}/rabbitmq.config"):
            if snap.is_file(path):
                sf.config_files.append(file_ref(path, "config"))
        env = self._env(snap)
        text = snap.text(CONF)
        conf = parse_conf(text) if text is not None else {}

        def ev(key: str) -> Evidence:
            value, line = conf[key]
            shown = MASK if key in SECRET_KEYS or is_secret_name(key.rsplit(".", 1)[-1]) else value
            return Evidence("config", CONF, line, excerpt=f"{key} = {shown}")

        amqp = self._amqp(sf, conf, env, ev)
        for key, (value, _line) in conf.items():
            if key.startswith("listeners.ssl.") and (lst := listener(value)):
                sf.ports.append(Port(lst[1], "tcp", lst[0], source="configured", evidence=(ev(key),)))
        dist = conf.get("distribution.listener.port_range.min")
        dist_port = int(dist[0]) if dist and dist[0].isdigit() else amqp + 20000
        dist_ev = (
            ev("distribution.listener.port_range.min")
            if dist
            else Evidence("default", detail="the inter-node (distribution) port is the AMQP port + 20000")
        )
        sf.ports.append(Port(dist_port, "tcp", None, source="configured" if dist else "default", evidence=(dist_ev,)))
        sf.ports.append(
            Port(
                4369,
                "tcp",
                None,
                source="default",
                evidence=(Evidence("default", detail="epmd, the Erlang port mapper, listens on 4369"),),
            )
        )
        self._management(snap, sf, conf, ev)
        mnesia = env.get("MNESIA_BASE")
        data = mnesia[0] if mnesia else "/var/lib/rabbitmq/mnesia"
        data_ev = (
            Evidence("config", ENV, mnesia[1], excerpt=f"MNESIA_BASE={data}")
            if mnesia
            else Evidence("default", detail="MNESIA_BASE defaults to /var/lib/rabbitmq/mnesia")
        )
        sf.data_dirs.append(FileRef(data, "data", evidence=(data_ev,)))
        self._node(snap, found, sf, env, data)
        logs = env.get("LOG_BASE")
        log_dir = logs[0] if logs else "/var/log/rabbitmq"
        log_ev = (
            Evidence("config", ENV, logs[1], excerpt=f"LOG_BASE={log_dir}")
            if logs
            else Evidence("default", detail="LOG_BASE defaults to /var/log/rabbitmq")
        )
        sf.log_paths.append(FileRef(log_dir, "logs", evidence=(log_ev,)))
        if "log.file" in conf and conf["log.file"][0] not in ("false", ""):
            f = conf["log.file"][0]
            sf.log_paths.append(
                FileRef(f if f.startswith("/") else f"{log_dir}/{f}", "logs", evidence=(ev("log.file"),))
            )
        for key, (value, line) in conf.items():
            if (key in SECRET_KEYS or is_secret_name(key.rsplit(".", 1)[-1])) and value:
                sf.secrets.append(make_secret(key, value, CONF, line))
        if "default_user" in conf:
            sf.attributes["default_user"] = conf["default_user"][0]
        self._definitions(snap, found, sf, conf, ev)
        cookie = snap.text(COOKIE)
        if cookie and cookie.strip():
            sf.secrets.append(make_secret("erlang_cookie", cookie.strip(), COOKIE, None, kind="key"))
        found.add(sf)

    @staticmethod
    def _definitions(snap: Snapshot, found: Found, sf: ServiceFacts, conf: Conf, ev: Callable[[str], Evidence]) -> None:
        """The definitions file the broker imports at boot (`load_definitions`, or the
        management plugin's `management.load_definitions`): its `users` are an identity store
        (names only; `password_hash` or a clear `password` makes the file a secret), and
        `default_user` is one more account of the broker's own."""
        names: list[str] = []
        evs: list[Evidence] = []
        path = None
        for key in ("load_definitions", "management.load_definitions"):
            value = conf.get(key, ("", 0))[0]
            if value.startswith("/") and not value.endswith("/"):  # a directory of files: not followed
                path = value
                evs.append(ev(key))
        if path is not None:
            snap.want([path])
            text = snap.text(path) if snap.is_file(path) else None
            if text is None:
                evs.append(Evidence("file", path, detail="named by rabbitmq.conf; not in the snapshot"))
            else:
                sf.config_files.append(file_ref(path, "config"))
                try:
                    data = json.loads(text)
                except ValueError as exc:
                    found.unparsable(path, f"not JSON: {exc}")
                    data = {}
                users = data.get("users") if isinstance(data, dict) else None
                secret = False
                for u in users if isinstance(users, list) else []:
                    if isinstance(u, dict) and isinstance(u.get("name"), str) and u["name"] not in names:
                        names.append(u["name"])
                        secret = secret or bool(u.get("password_hash") or u.get("password"))
                if secret:
                    detail = "users' password hashes (only the names are kept)"
                    sf.secrets.append(
                        Secret("definitions", path, None, "credentials-store", fingerprint(text),
                               (Evidence("file", path, detail=detail),))
                    )  # fmt: skip
        if "default_user" in conf and conf["default_user"][0] not in names:
            names.insert(0, conf["default_user"][0])
            evs.insert(0, ev("default_user"))
        if names or path:
            sf.identity_stores.append(
                IdentityStore("rabbitmq", False, "load_definitions" if path else "default_user", path, tuple(evs),
                              users=tuple(names))
            )  # fmt: skip

    @staticmethod
    def _node(snap: Snapshot, found: Found, sf: ServiceFacts, env: dict[str, tuple[str, int]], data: str) -> None:
        """The node name, `NODENAME@host`: NODENAME (default `rabbit`) gets `@` and the short
        host name unless it has one; the node's database is `MNESIA_BASE/<node name>`."""
        name, line = env.get("NODENAME", ("rabbit", 0))
        evs: list[Evidence] = []
        if "@" not in name:
            host = (found.host.hostname or "").split(".")[0]
            if not host:
                return
            name = f"{name}@{host}"
            detail = f"node name {name}: RabbitMQ appends the short host name to NODENAME"
            evs += [replace(e, detail=detail) for e in found.host.hostname_evidence[:1]]
        if line:
            evs.append(Evidence("config", ENV, line, excerpt=f"NODENAME={env['NODENAME'][0]}", detail=f"node {name}"))
        node_dir = f"{data.rstrip('/')}/{name}"
        if snap.is_dir(node_dir):
            evs.append(Evidence("file", node_dir, detail=f"the database of node {name}"))
        sf.attributes["node_name"] = name
        sf.evidence += evs

    @staticmethod
    def _env(snap: Snapshot) -> dict[str, tuple[str, int]]:
        text = snap.text(ENV)
        if text is None:
            return {}
        return {k.removeprefix("RABBITMQ_"): (v, no) for no, k, v in assignments(text)}

    @staticmethod
    def _amqp(sf: ServiceFacts, conf: Conf, env: dict[str, tuple[str, int]], ev: Callable[[str], Evidence]) -> int:
        if conf.get("listeners.tcp", ("",))[0] == "none":
            sf.attributes["amqp"] = "disabled (listeners.tcp = none)"
            return 5672
        named = [k for k in conf if re.fullmatch(r"listeners\.tcp\.[^.]+", k)]
        first = 5672
        for i, key in enumerate(named):
            lst = listener(conf[key][0])
            if lst:
                first = lst[1] if i == 0 else first
                sf.ports.append(Port(lst[1], "tcp", lst[0], source="configured", evidence=(ev(key),)))
        if named:
            return first
        port, addr = 5672, None
        evs: list[Evidence] = []
        if "NODE_PORT" in env and env["NODE_PORT"][0].isdigit():
            port = int(env["NODE_PORT"][0])
            evs.append(Evidence("config", ENV, env["NODE_PORT"][1], excerpt=f"NODE_PORT={port}"))
        if env.get("NODE_IP_ADDRESS", ("",))[0]:
            addr = env["NODE_IP_ADDRESS"][0]
            evs.append(Evidence("config", ENV, env["NODE_IP_ADDRESS"][1], excerpt=f"NODE_IP_ADDRESS={addr}"))
        if not evs:
            evs.append(Evidence("default", detail="RabbitMQ listens for AMQP on 5672 on every address by default"))
        sf.ports.append(
            Port(
                port,
                "tcp",
                None if addr in ("0.0.0.0", "") else addr,
                source="configured" if evs[0].kind == "config" else "default",
                evidence=tuple(evs),
            )
        )
        return port

    @staticmethod
    def _management(snap: Snapshot, sf: ServiceFacts, conf: Conf, ev: Callable[[str], Evidence]) -> None:
        plugins = snap.text(PLUGINS) or ""
        enabled = bool(re.search(r"\brabbitmq_management\b", plugins))
        if not enabled and "management.tcp.port" not in conf:
            return
        p = conf.get("management.tcp.port")
        port = int(p[0]) if p and p[0].isdigit() else 15672
        evs = (
            [ev("management.tcp.port")]
            if p
            else [
                Evidence("file", PLUGINS, detail="rabbitmq_management enabled"),
                Evidence("default", detail="management UI on 15672"),
            ]
        )
        addr = conf["management.tcp.ip"][0] if "management.tcp.ip" in conf else None
        if addr:
            evs.append(ev("management.tcp.ip"))
        sf.ports.append(Port(port, "tcp", addr, source="configured" if p else "default", evidence=tuple(evs)))
