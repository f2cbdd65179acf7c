"""node-apps: pm2 dump + ecosystem, plain units, npm start, code-derived ports, negatives."""

from __future__ import annotations

from detectors.accounts import AccountsDetector
from detectors.node_apps import NodeAppsDetector
from detectors.systemd import SystemdDetector
from modernize.parsers.jsobject import UNKNOWN, parse_exports
from modernize.snapshot.memory import Content, Link
from tests.helpers import FIXTURES, inventory, ports

ROOT = FIXTURES / "node-app" / "root"
DETS = [SystemdDetector, AccountsDetector, NodeAppsDetector]


def fixture_files() -> dict[str, Content]:
    files: dict[str, Content] = {}
    for rel in (
        "etc/systemd/system/pm2-deploy.service",
        "etc/systemd/system/shop-legacy.service",
        "etc/passwd",
        "etc/group",
        "home/deploy/.pm2/dump.pm2",
        "srv/shop/package.json",
        "srv/shop/package-lock.json",
        "srv/shop/server.js",
        "srv/shop/legacy.js",
        "srv/shop/ecosystem.config.js",
        "srv/shop/node_modules/express/package.json",
        "srv/shop/node_modules/pg/package.json",
        "srv/shop/node_modules/memjs/package.json",
    ):
        files["/" + rel] = (ROOT / rel).read_bytes()
    files["/etc/systemd/system/multi-user.target.wants/pm2-deploy.service"] = Link(
        "/etc/systemd/system/pm2-deploy.service"
    )
    return files


def by_id(inv, sid):  # type: ignore[no-untyped-def]
    hits = [s for s in inv.services if s.id == sid]
    assert hits, [s.id for s in inv.services]
    return hits[0]


def test_node_app_fixture() -> None:
    inv = inventory(DETS, fixture_files())
    shop = by_id(inv, "node-app:/srv/shop")
    assert ports(shop) == {("0.0.0.0", 3000)}  # PORT from the dump, HOST fallback in server.js
    assert {(m.system, m.name, m.enabled) for m in shop.started_by} == {
        ("pm2", "shop", True),
        ("systemd", "pm2-deploy.service", True),
    }
    assert (shop.user, shop.enabled, shop.runtime, shop.framework) == ("deploy", True, "node18", "express")
    assert shop.version is not None and shop.version.upstream == "1.4.0"
    assert shop.command == ("node", "/srv/shop/server.js")
    assert {r.path for r in shop.config_files} >= {
        "/srv/shop/ecosystem.config.js",
        "/home/deploy/.pm2/dump.pm2",
        "/etc/systemd/system/pm2-deploy.service",
    }
    assert {r.path for r in shop.log_paths} == {
        "/home/deploy/.pm2/logs/shop-out.log",
        "/home/deploy/.pm2/logs/shop-error.log",
    }
    assert {(s.key, s.path) for s in shop.secrets} == {
        ("DATABASE_URL", "/srv/shop/ecosystem.config.js"),
        ("SESSION_SECRET", "/srv/shop/ecosystem.config.js"),
        ("DATABASE_URL", "/home/deploy/.pm2/dump.pm2"),
        ("SESSION_SECRET", "/home/deploy/.pm2/dump.pm2"),
    }
    # the shell variables pm2 saved are not app settings
    assert {e.name for e in shop.env} == {"PORT", "NODE_ENV", "DATABASE_URL", "MEMCACHED_SERVERS", "SESSION_SECRET"}
    attrs = dict(shop.attributes)
    assert attrs["lockfile"] == "npm" and attrs["npm_packages"] == "express@5.3.0,memjs@1.3.2,pg@8.23.1"
    deps = {(d.via, d.host, d.port, d.external) for d in inv.dependencies if d.source == "node-app:/srv/shop"}
    assert deps == {
        ("DATABASE_URL", "db.corp.example.com", 5432, True),
        ("MEMCACHED_SERVERS", "127.0.0.1", 11211, False),
    }
    legacy = by_id(inv, "node-app:/srv/shop#shop-legacy")
    assert legacy.enabled is False and legacy.user == "deploy"
    assert ports(legacy) == {(None, 8080)}  # Environment=PORT=8080; legacy.js listens on every address
    assert "/etc/systemd/system/shop-legacy.service" in {r.path for r in legacy.config_files}


def test_no_secret_values() -> None:
    from modernize.serialize import dumps

    text = dumps(inventory(DETS, fixture_files()))
    assert "shopDbPass-K8s2Qv5n" not in text and "shopSess-Zp3Wq7Lm2" not in text


UNIT = (
    "[Service]\nUser=web\nWorkingDirectory=/srv/web\n{extra}\nExecStart={cmd}\n[Install]\nWantedBy=multi-user.target\n"
)


def one(cmd: str, files: dict[str, Content], extra: str = "") -> object:
    data: dict[str, Content] = {"/etc/systemd/system/web.service": UNIT.format(cmd=cmd, extra=extra), **files}
    return inventory(DETS, data)


PKG = '{"name": "web", "version": "2.0.1", "main": "index.js", "scripts": {"start": "node index.js"}, "dependencies": {"next": "14.0.0"}, "engines": {"node": ">=20"}}'


def test_npm_start_and_code_port() -> None:
    files: dict[str, Content] = {
        "/srv/web/package.json": PKG,
        "/srv/web/yarn.lock": "",
        "/srv/web/index.js": "// app.listen(1234)\nconst port = process.env.PORT ?? 4000;\nserver.listen(port, '127.0.0.1');\n",
    }
    svc = by_id(one("/usr/bin/npm start", files), "node-app:/srv/web")
    assert ports(svc) == {("127.0.0.1", 4000)}
    assert (svc.framework, dict(svc.attributes)["lockfile"], dict(svc.attributes)["engines_node"]) == (
        "next",
        "yarn",
        ">=20",
    )


def test_no_port_without_evidence() -> None:
    files: dict[str, Content] = {"/srv/web/package.json": PKG, "/srv/web/index.js": "require('./lib/server')\n"}
    svc = by_id(one("/usr/bin/node --max-old-space-size=512 -r dotenv/config index.js", files), "node-app:/srv/web")
    assert svc.ports == ()
    assert dict(svc.attributes)["script"] == "/srv/web/index.js"


def test_nvm_runtime_and_env_file() -> None:
    files: dict[str, Content] = {
        "/srv/web/package.json": PKG,
        "/srv/web/index.js": "app.listen(8081)\n",
        "/srv/web/.env": "REDIS_URL=redis://:pw@cache.internal:6380/0\n",
    }
    cmd = "/home/web/.nvm/versions/node/v20.11.1/bin/node --env-file=.env index.js"
    inv = one(cmd, files)
    svc = by_id(inv, "node-app:/srv/web")
    assert svc.runtime == "node20" and ports(svc) == {(None, 8081)}
    assert [s.key for s in svc.secrets] == ["REDIS_URL"]
    (dep,) = inv.dependencies
    assert (dep.host, dep.port) == ("cache.internal", 6380)


def test_negatives() -> None:
    # a package.json with no process running it is not a service; a non-node unit is ignored
    inv = inventory(DETS, {"/srv/web/package.json": PKG})
    assert not inv.services
    inv = one("/usr/bin/python3 -m http.server", {"/srv/web/package.json": PKG})
    assert not [s for s in inv.services if s.software == "node-app"]


def test_ecosystem_parser() -> None:
    text = """// comment with apps: [{ name: 'fake' }]
const path = require('path');
/* block */
module.exports = {
  apps: [{ name: "api", script: path.join(__dirname, 'x.js'), env: { PORT: 8080, URL: `http://${host}` },
           instances: "max", exec_mode: 'cluster', }],
};
"""
    obj, lines = parse_exports(text)
    assert obj is not None
    app = obj["apps"][0]
    assert app["name"] == "api" and app["script"] is UNKNOWN and app["env"]["PORT"] == 8080
    assert app["env"]["URL"] is UNKNOWN and app["instances"] == "max"
    assert lines["apps[0].env.PORT"] == 5
