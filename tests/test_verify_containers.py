"""`modernize verify` for real, with Podman: python-web (nginx in front of a Flask app
under gunicorn, a Celery worker, PostgreSQL, Redis) through `modernize run --strategy
distro`, then verify as a user runs it. Everything must build, start, answer its
probes and keep its marker when its container is replaced, and nothing verify made
may be left behind.

Then the same output with three mutations, each of which must turn verify red in its
own way: the app's command replaced by one that never serves (the web server's probe
fails, not only the app's), PostgreSQL's data volume taken out of compose.yaml (the
marker is lost and diff names the data directory), and a RUN that fails (a failed build
row with the failing step, not a traceback)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import containers as ct
from tests.containers import container_rig  # noqa: F401  (registers the session fixture here)
from tests.fixture_tree import materialize

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("container_rig")]


def _verify(out: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {**os.environ, "BUILDAH_ISOLATION": "chroot"}  # RUN steps without a runtime, as the rig builds
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "verify", str(out), "--engine", "podman", *extra],
        capture_output=True, text=True, timeout=2400, cwd=ct.REPO, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads((out / "verify" / "verify.json").read_text())
    return proc, report


def _left(prefix: str) -> list[str]:
    assert prefix.startswith("mzv-")
    return ct.resources(prefix)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("verify")
    root = materialize("python-web", work)
    out = work / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "run", str(root), "-o", str(out), "--strategy", "distro", "-q"],
        capture_output=True, text=True, timeout=300, cwd=ct.REPO,
    )  # fmt: skip
    assert proc.returncode == 0, ct.output(proc)
    return out


def test_the_generated_stack_passes_and_nothing_is_left(generated: Path) -> None:
    before = {p: p.read_bytes() for p in generated.rglob("*") if p.is_file()}
    proc, report = _verify(generated)
    assert proc.returncode == 0, ct.output(proc)
    services = {s["name"]: s for s in report["services"]}
    assert set(services) == {"intranet", "intranet-worker", "nginx", "postgresql", "redis"}
    for name, s in services.items():
        assert (s["started"], s["healthy"], s["failed"]) == ("ok", "ok", False), (name, s)
        assert s["build"] == "ok" or s["build"] == "shared with intranet", (name, s)
        assert all(p["ok"] for p in s["probes"]), (name, s["probes"])
        assert not [w for w in s["written_outside_volumes"] if not w["runtime"]], (name, s)
    # nginx answered for the virtual host, over HTTP and HTTPS, with the app's health route
    assert [(p["probe"], p["answer"]) for p in services["nginx"]["probes"]] == [
        ("http :80 /healthz Host: intranet.example.com", "HTTP/1.1 200 OK"),
        ("http :443 /healthz Host: intranet.example.com", "HTTP/1.1 200 OK"),
    ]
    # the app reached the database through the role verify made in it, and the data stayed
    assert "made role intranet and database intranet for intranet" in services["postgresql"]["notes"]
    assert services["postgresql"]["restart"] == {"kept": True, "checks": ["a row through psql: kept"]}
    assert services["redis"]["restart"]["kept"] is True
    assert services["intranet"]["restart"]["checks"] == ["a file in /var/lib/intranet/media: kept"]
    assert "verify: all services passed" in proc.stdout
    # only OUT/verify/ was written, and nothing verify made is left
    after = {
        p: p.read_bytes()
        for p in generated.rglob("*")
        if p.is_file() and "verify" not in p.relative_to(generated).parts
    }
    assert after == before
    assert report["left_behind"] == [] and _left(report["names_prefix"]) == []


def _mutate(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True)
    shutil.rmtree(dst / "verify", ignore_errors=True)
    # the app never serves: its image's command sleeps
    app = dst / "services/intranet/Dockerfile"
    text = re.sub(r"(?m)^CMD .*$", 'CMD ["sleep", "infinity"]', app.read_text())
    app.write_text(text)
    # PostgreSQL's data directory left out of its volumes
    compose = yaml.safe_load((dst / "compose.yaml").read_text())
    compose["services"]["postgresql"].pop("volumes")
    (dst / "compose.yaml").write_text(yaml.safe_dump(compose, sort_keys=False))
    # a RUN that fails
    redis = dst / "services/redis/Dockerfile"
    redis.write_text(redis.read_text().replace("redis-server=", "redis-server-no-such-package="))


def test_each_mutation_turns_verify_red(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "mutated"
    _mutate(generated, out)
    proc, report = _verify(out, "--timeout", "45", "--suggest")
    assert proc.returncode == 1, ct.output(proc)
    services = {s["name"]: s for s in report["services"]}
    # the app is down: its health fails, and so does the web server's probe in front of it
    assert services["intranet"]["healthy"] == "failed"
    nginx = services["nginx"]
    assert nginx["failed"] and not any(p["ok"] for p in nginx["probes"]), nginx["probes"]
    assert all(re.match(r"HTTP/1\.1 50[24]", p["answer"]) for p in nginx["probes"]), nginx["probes"]
    # the data directory outside a volume: the marker is lost and diff names the directory
    pg = services["postgresql"]
    assert pg["restart"]["kept"] is False and "lost after the container was replaced" in pg["restart"]["checks"][0]
    written = {w["path"]: w for w in pg["written_outside_volumes"]}
    assert "/var/lib/postgresql/15/main" in written and not written["/var/lib/postgresql/15/main"]["runtime"]
    suggested = yaml.safe_load((out / "verify/plan.suggested.yaml").read_text())
    (pg_plan,) = [s for s in suggested["services"] if s["name"] == "postgresql"]
    assert "/var/lib/postgresql/15/main" in [v["target"] for v in pg_plan["volumes"]]
    # the failed RUN: a build row that says which step and why, and nothing started for it
    redis = services["redis"]
    assert redis["build"] == "failed" and redis["started"] == "no"
    assert "redis-server-no-such-package" in redis["problems"][0], redis["problems"]
    assert re.search(r"(?m)^redis\s+failed\s", proc.stdout), proc.stdout
    assert (out / "verify/logs/redis.log").is_file()
    assert report["left_behind"] == [] and _left(report["names_prefix"]) == []


def test_a_php_shop_behind_nginx_and_php_fpm_passes(tmp_path: Path) -> None:
    """php-fpm: nginx -> php-fpm (the app's pool on TCP now) -> the PHP app -> MariaDB,
    whose shop login verify makes from the app's mounted .env (DB_HOST, DB_USERNAME ...);
    nginx's probe asks for the app's own /health, which runs a query."""
    root = materialize("php-fpm", tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "run", str(root), "-o", str(out), "--strategy", "distro", "-q"],
        capture_output=True, text=True, timeout=300, cwd=ct.REPO,
    )  # fmt: skip
    assert proc.returncode == 0, ct.output(proc)
    proc, report = _verify(out)
    assert proc.returncode == 0, ct.output(proc)
    services = {s["name"]: s for s in report["services"]}
    assert set(services) == {"mariadb", "nginx", "php-fpm"}
    assert "made role shop and database shop for php-fpm" in services["mariadb"]["notes"]
    assert [p["answer"] for p in services["nginx"]["probes"]] == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]
    assert all(p["probe"].startswith("http :80 /health Host: ") for p in services["nginx"]["probes"])
    assert services["mariadb"]["restart"]["kept"] is True
    assert report["left_behind"] == [] and _left(report["names_prefix"]) == []


def test_lamp_with_debians_wordpress_passes(tmp_path: Path) -> None:
    """lamp: Apache with mod_php serving Debian's wordpress package (installed in the image)
    and a WordPress copy under /var/www, each with its database login from its config's
    define()s; both virtual hosts answer through the app."""
    root = materialize("lamp", tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "run", str(root), "-o", str(out), "--strategy", "distro", "-q"],
        capture_output=True, text=True, timeout=300, cwd=ct.REPO,
    )  # fmt: skip
    assert proc.returncode == 0, ct.output(proc)
    proc, report = _verify(out)
    assert proc.returncode == 0, ct.output(proc)
    services = {s["name"]: s for s in report["services"]}
    notes = " ".join(services["mariadb"]["notes"])
    assert "role wordpress and database wordpress" in notes and "role shopuser and database shop" in notes
    assert all(p["ok"] for p in services["apache2"]["probes"]) and len(services["apache2"]["probes"]) == 2
    assert report["left_behind"] == [] and _left(report["names_prefix"]) == []
