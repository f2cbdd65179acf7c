"""Plan and generate, end to end on every fixture server: golden files (refresh with
`pytest tests/test_generate.py --update-golden`), hadolint, the Compose
Specification schema, build contexts, .env coverage, secrets that never leak,
the writer's promise never to overwrite an edit, and bad input."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from modernize.detector import Registry
from modernize.generate.collect import collect
from modernize.generate.render import check_compose, render
from modernize.plan.images import load_images
from modernize.plan.io import dump_plan, load_plan
from modernize.plan.planner import Options, plan
from modernize.scan import scan
from modernize.snapshot import open_snapshot
from tests.fixture_tree import materialize
from tests.helpers import FIXTURES, REPO

SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if (p / "root").is_dir())
GOLDEN = REPO / "tests" / "golden"
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


@functools.cache
def _tree(scenario: str) -> Path:
    """The fixture as git cannot keep it: modes and owners from its manifest.tsv (a
    clean clone has other modes, which the plan records)."""
    return materialize(scenario, Path(tempfile.mkdtemp(prefix="modernize-gen-")))


def generated(scenario: str, strategy: str | None = None, root: Path | None = None) -> dict[str, bytes]:
    """plan.yaml and every generated file, in process, as `run` makes them."""
    source = root or _tree(scenario)
    snap = open_snapshot(str(source))
    inv = scan(snap, Registry.from_entry_points(autoload=False)).inventory
    p = plan(inv, load_images(), Options(strategy=strategy, source=f"fixtures/{scenario}/root"))
    text = dump_plan(p)
    assert load_plan(text) == p  # what is written reads back the same
    got = collect(p, snap)
    out = render(p, got.files, missing=tuple(got.missing)).files
    out["plan.yaml"] = text.encode()
    return out


def _write(files: dict[str, bytes], root: Path) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture(scope="module", params=SCENARIOS)
def output(request: pytest.FixtureRequest) -> tuple[str, dict[str, bytes]]:
    return request.param, generated(request.param)


def test_golden_files(output: tuple[str, dict[str, bytes]], request: pytest.FixtureRequest) -> None:
    """Everything generated but the copies of the server's own files matches the golden set."""
    scenario, files = output
    kept = {k: v for k, v in files.items() if "/rootfs/" not in k}
    golden = GOLDEN / scenario / "generated"
    if request.config.getoption("--update-golden"):
        shutil.rmtree(golden, ignore_errors=True)
        _write(kept, golden)
    assert golden.is_dir(), f"no golden files: run pytest {__file__} --update-golden"
    want = {str(p.relative_to(golden)): p.read_bytes() for p in golden.rglob("*") if p.is_file()}
    assert sorted(kept) == sorted(want)
    for rel in kept:
        assert kept[rel] == want[rel], f"{scenario}/{rel} differs from its golden file"


def test_output_is_deterministic() -> None:
    assert generated("python-web", "distro") == generated("python-web", "distro")


@pytest.mark.parametrize("strategy", [None, "distro"])
def test_dockerfiles_pass_hadolint_and_copy_only_what_their_context_has(strategy: str | None, tmp_path: Path) -> None:
    for scenario in SCENARIOS:
        root = tmp_path / scenario / (strategy or "default")
        _write(generated(scenario, strategy), root)
        for dockerfile in sorted(root.glob("services/*/Dockerfile")):
            lint = subprocess.run([HADOLINT, str(dockerfile)], capture_output=True, text=True)
            assert lint.returncode == 0, f"{dockerfile.relative_to(tmp_path)}:\n{lint.stdout}{lint.stderr}"
            context = dockerfile.parent
            for m in re.finditer(r"^(?:COPY|ADD)\s+(?:--\S+\s+)*(\S+)\s+\S+$", dockerfile.read_text(), re.M):
                if m.group(1) == "rootfs.tar.gz":
                    continue  # lift.sh makes it on the server
                assert (context / m.group(1)).exists(), f"{dockerfile}: COPY source {m.group(1)} is not in the context"


@pytest.mark.parametrize("strategy", [None, "distro", "lift"])
def test_compose_fits_the_spec_and_every_variable_is_in_env_example(strategy: str | None) -> None:
    for scenario in SCENARIOS:
        files = generated(scenario, strategy)
        compose = files["compose.yaml"].decode()
        assert check_compose(compose) == [], scenario
        data = yaml.safe_load(compose)
        assert "version" not in data
        used = set(re.findall(r"\$\{([A-Z0-9_]+)", compose))
        declared = set(re.findall(r"^([A-Z0-9_]+)=", files[".env.example"].decode(), re.M))
        assert used <= declared, f"{scenario}: {sorted(used - declared)} missing from .env.example"
        for name, svc in data["services"].items():
            for dep, cond in svc.get("depends_on", {}).items():
                assert dep in data["services"], f"{scenario}: {name} depends on unknown {dep}"
                if cond["condition"] == "service_healthy":
                    assert "healthcheck" in data["services"][dep]


def test_the_python_web_stack_is_wired_by_name() -> None:
    files = generated("python-web", "distro")
    compose = yaml.safe_load(files["compose.yaml"])
    app = compose["services"]["intranet"]
    assert app["environment"]["DATABASE_URL"] == (
        "postgresql://intranet:${INTRANET_DATABASE_URL_PASSWORD}@postgresql:5432/intranet"
    )
    assert app["environment"]["REDIS_URL"] == "redis://:${REDIS_REQUIREPASS}@redis:6379/0"
    assert app["depends_on"] == {
        "postgresql": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert compose["services"]["intranet-worker"]["image"] == app["image"]  # one image, two commands
    # the media directory both write is one shared volume; nginx publishes the entry points
    assert "intranet-media:/var/lib/intranet/media" in app["volumes"]
    assert compose["services"]["nginx"]["ports"] == ["80:80", "443:443"]
    assert "ports" not in compose["services"]["postgresql"]
    site = files["services/nginx/rootfs/etc/nginx/sites-available/intranet"].decode()
    assert "proxy_pass http://intranet:8000;" in site and "127.0.0.1:8000" not in site
    dockerfile = files["services/intranet/Dockerfile"].decode()
    assert '"--bind", "0.0.0.0:8000"' in dockerfile and "USER 103:106" in dockerfile
    assert files["services/intranet/requirements.txt"].decode().splitlines()[:2] == [
        "amqp==5.4.2",
        "async-timeout==5.0.1",
    ]
    assert "venv" not in " ".join(k for k in files if k.startswith("services/intranet/rootfs/"))


SECRET_CANARIES = {
    "etc/intranet/intranet.env": ("SECRET_KEY=", "SECRET_KEY=CANARY-flask-key-7Qx"),
    "etc/redis/redis.conf": ("requirepass redisPass-Vt83kQz1", "requirepass CANARY-redis-pass-9Zt"),
}


def test_no_secret_value_reaches_the_output(tmp_path: Path) -> None:
    """Plant canaries in the server's secret settings; none may appear anywhere under OUT."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "python-web" / "root", root, symlinks=True)
    for rel, (old, new) in SECRET_CANARIES.items():
        path = root / rel
        lines = path.read_text().splitlines(keepends=True)
        lines = [new + "\n" if line.startswith(old) else line for line in lines]
        path.write_text("".join(lines))
        assert "CANARY" in path.read_text()
    for strategy in (None, "distro", "lift"):
        files = generated("python-web", strategy, root)
        leaks = [rel for rel, data in files.items() if b"CANARY" in data]
        assert leaks == [], f"secret values written to {leaks}"
    files = generated("python-web", "distro", root)
    example = files["secrets/redis-redis.conf.example"].decode()
    assert "requirepass CHANGE-ME" in example


def _modernize(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modernize", *args], capture_output=True, text=True, cwd=cwd)


def test_rerun_keeps_edits_and_user_files(tmp_path: Path) -> None:
    """The short version of tests/test_iterate.py: an edit merged, not overwritten; the
    user's .env untouched; an edited plan re-planned with the user's decision kept."""
    out = tmp_path / "out"
    first = _modernize("run", "fixtures/python-web/root", "-o", str(out), "-q")
    assert first.returncode == 0, first.stderr
    manifest = json.loads((out / ".modernize" / "manifest.json").read_text())["files"]
    assert "compose.yaml" in manifest and "services/nginx/Dockerfile" in manifest
    assert (out / ".modernize" / "base" / "services" / "nginx" / "Dockerfile").is_file()
    dockerfile = out / "services" / "nginx" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# my edit\n")
    (out / ".env").write_text("REDIS_REQUIREPASS=mine\n")
    again = _modernize("run", "fixtures/python-web/root", "-o", str(out), "-q")
    assert again.returncode == 0, again.stderr
    assert dockerfile.read_text().endswith("# my edit\n") and not (out / "services/nginx/Dockerfile.new").exists()
    assert (out / ".env").read_text() == "REDIS_REQUIREPASS=mine\n"
    plan_file = out / "plan.yaml"
    edited = plan_file.read_text().replace("image: redis:7.0", "image: redis:7.2", 1)
    assert edited != plan_file.read_text()
    plan_file.write_text(edited)
    third = _modernize("run", "fixtures/python-web/root", "-o", str(out), "-q")
    assert third.returncode == 0 and not (out / "plan.yaml.new").exists(), third.stderr
    assert "image: redis:7.2" in plan_file.read_text() and "user_fields:\n  - image" in plan_file.read_text()
    assert "FROM redis:7.2" in (out / "services" / "redis" / "Dockerfile").read_text()


def test_plan_then_generate_as_separate_steps(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.json"
    assert _modernize("scan", "fixtures/lamp/root", "-o", str(inv), "-q").returncode == 0
    plan_file = tmp_path / "plan.yaml"
    made = _modernize("plan", str(inv), "-o", str(plan_file), "--source", "fixtures/lamp/root")
    assert made.returncode == 0, made.stderr
    gen = _modernize("generate", str(plan_file), "-o", str(tmp_path / "out"))
    assert gen.returncode in (0, 1), gen.stderr
    assert (tmp_path / "out" / "compose.yaml").exists() and not (tmp_path / "out" / "plan.yaml").exists()
    schema = json.loads(_modernize("schema", "plan").stdout)
    import jsonschema

    jsonschema.validate(yaml.safe_load(plan_file.read_text()), schema)


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.json"
    assert _modernize("scan", "fixtures/alpine/root", "-o", str(inv), "-q").returncode == 0
    data = json.loads(inv.read_text())
    data["schema_version"] = "2.0"
    future = tmp_path / "future.json"
    future.write_text(json.dumps(data))
    res = _modernize("plan", str(future), "-o", str(tmp_path / "p.yaml"))
    assert res.returncode == 2 and "schema_version" in res.stderr and "Traceback" not in res.stderr
    res = _modernize("plan", str(inv), "-o", str(tmp_path / "p.yaml"), "--strategy", "magic")
    assert res.returncode == 2 and "--strategy" in res.stderr
    res = _modernize("plan", str(inv), "-o", str(tmp_path / "p.yaml"), "--image-map", "nonsense")
    assert res.returncode == 2 and "--image-map" in res.stderr
    good = tmp_path / "good.yaml"
    assert _modernize("plan", str(inv), "-o", str(good), "--source", "fixtures/alpine/root").returncode == 0
    broken = tmp_path / "broken.yaml"
    text = good.read_text()
    broken.write_text(text.replace("strategy: official", "strategy: teleport", 1))
    line = next(i for i, t in enumerate(broken.read_text().splitlines(), 1) if "teleport" in t)
    res = _modernize("generate", str(broken), "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and f"broken.yaml:{line}:" in res.stderr and "strategy" in res.stderr
    assert not (tmp_path / "o").exists()  # nothing half-written
    typo = tmp_path / "typo.yaml"
    typo.write_text(text.replace("  strategy:", "  stratgy:", 1))
    res = _modernize("generate", str(typo), "-o", str(tmp_path / "o"))
    assert res.returncode == 2 and "stratgy" in res.stderr
    res = _modernize("generate", str(good), "-o", str(tmp_path / "o"), "--source", str(tmp_path / "gone"))
    assert res.returncode == 2 and "gone" in res.stderr


def _secret_values(scenario: str) -> set[str]:
    """The values of every secret the inventory names, read from the fixture's own
    files (independently of modernize's redaction): the token after the key."""
    import io
    import zipfile

    from modernize.serialize import load_inventory

    data = json.loads((GOLDEN / scenario / "inventory.json").read_text())
    data.setdefault("source", {})  # golden inventories leave the source out
    inv = load_inventory(json.dumps(data))
    root = FIXTURES / scenario / "root"
    values: set[str] = set()
    secrets = [x for s in inv.services for x in s.secrets] + list(inv.host_secrets)
    for sec in secrets:
        if not sec.line:
            continue
        archive, sep, member = sec.path.partition("!/")
        try:
            if sep:
                with zipfile.ZipFile(io.BytesIO((root / archive.lstrip("/")).read_bytes())) as z:
                    text = z.read(member).decode("utf-8", "replace")
            else:
                text = (root / sec.path.lstrip("/")).read_text("utf-8", "replace")
        except (OSError, KeyError):
            continue
        lines = text.splitlines()
        window = "\n".join(lines[sec.line - 1 : sec.line + 4])  # an XML element may span lines
        key = sec.key.split("/")[-1]
        for m in re.finditer(re.escape(key) + r"""['"]?\s*(?:=|:|,|\s)\s*['"]?([^'"\s;,)<>]+)""", window):
            if "(" in m.group(1):  # code: os.environ.get("KEY", "value"): the value is the last string
                line = window[m.start() : window.find("\n", m.start()) % (len(window) + 1)]
                values.update(re.findall(r"""['"]([^'"]{6,})['"]""", line)[-1:])
            elif len(m.group(1)) >= 6 and not m.group(1).startswith(("$", "/", "<")):
                values.add(m.group(1))
        for m in re.finditer(r"://[^:/@\s]*:([^@\s]+)@", window):
            values.add(m.group(1))
    return values


def _all_bytes(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """Every output file, and every member of every archive among them."""
    import io
    import zipfile

    out = []
    for rel, data in files.items():
        out.append((rel, data))
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                out.extend((f"{rel}!/{n}", z.read(n)) for n in z.namelist())
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_fixture_secret_reaches_the_output_even_inside_archives(scenario: str) -> None:
    values = _secret_values(scenario)
    expected = yaml.safe_load((FIXTURES / scenario / "expected.yaml").read_text()) or {}
    values |= set(expected.get("secret_values") or ())  # what the fixture's author wrote down
    if scenario in ("python-web", "lamp", "java-tomcat", "node-app"):
        assert values, "the fixture's secrets were not found: the test would prove nothing"
    for strategy in (None, "distro"):
        for rel, data in _all_bytes(generated(scenario, strategy)):
            for value in values:
                assert value.encode() not in data, f"{scenario} ({strategy}): a secret value is in {rel}"


def _files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in ("inventory.json", "manifest.json")
    }


@pytest.mark.parametrize("scenario", ["python-web", "java-tomcat", "node-app"])
def test_run_on_a_tarball_generates_what_the_directory_does(scenario: str, tmp_path: Path) -> None:
    """`run` hands the scan's snapshot to generate: a tarball gives the same files
    (the ones its pass did not keep are read in one more pass), and the plan records
    the source as given."""
    from tests.fixture_tree import tarball

    archive = tarball(FIXTURES / scenario / "root", tmp_path, "zst")
    by_dir = _modernize("run", f"fixtures/{scenario}/root", "-o", str(tmp_path / "dir"), "-q")
    by_tar = _modernize("run", str(archive), "-o", str(tmp_path / "tar"), "-q")
    assert by_dir.returncode == by_tar.returncode, by_tar.stderr
    a, b = _files_of(tmp_path / "dir"), _files_of(tmp_path / "tar")
    for plan_file in ("plan.yaml", ".modernize/base/plan.yaml"):
        assert a.pop(plan_file).replace(f"fixtures/{scenario}/root".encode(), str(archive).encode()) == b.pop(plan_file)
    assert sorted(a) == sorted(b)
    for rel in a:
        assert a[rel] == b[rel], rel
    # generate alone, from the plan, reads the tarball again in one declared pass
    again = _modernize("generate", str(tmp_path / "tar" / "plan.yaml"), "-o", str(tmp_path / "gen"))
    assert again.returncode == by_tar.returncode, again.stderr
    gen = _files_of(tmp_path / "gen")
    for rel in gen:
        assert gen[rel] == b[rel], rel


def test_plan_options_choose_services_and_images(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.json"
    assert _modernize("scan", "fixtures/python-web/root", "-o", str(inv), "-q").returncode == 0

    def plan_of(*args: str) -> dict[str, dict[str, object]]:
        res = _modernize("plan", str(inv), "-o", "-", *args)
        assert res.returncode == 0, res.stderr
        return {s["name"]: s for s in yaml.safe_load(res.stdout)["services"]}

    default = plan_of()
    assert default["postgresql"]["image"] == "postgres:15-bookworm"
    assert default["sshd"]["strategy"] == "skip"
    distro = plan_of("--strategy", "distro")
    assert distro["postgresql"]["image"] == "debian:12-slim" and distro["sshd"]["strategy"] == "skip"
    lift = plan_of("--strategy", "lift")
    assert {s["strategy"] for s in lift.values()} == {"lift", "skip"}
    mapped = plan_of(
        "--image-map", "postgres=registry.example.com/mirror/postgres", "--image-map", "debian=localhost/debian"
    )
    assert mapped["postgresql"]["image"] == "registry.example.com/mirror/postgres:15-bookworm"
    extra = tmp_path / "images.yaml"
    extra.write_text('postgresql:\n  image: example/pg\n  tags: {"15": "15.20-custom"}\n')
    assert plan_of("--images", str(extra))["postgresql"]["image"] == "example/pg:15.20-custom"
    only = plan_of("--services", "redis", "--services", "postgresql:15/main")
    assert sorted(only) == ["postgresql", "redis"]
    assert "redis" not in plan_of("--skip-services", "redis")
    bad = tmp_path / "bad-images.yaml"
    bad.write_text("postgresql:\n  imag: typo\n")
    res = _modernize("plan", str(inv), "-o", "-", "--images", str(bad))
    assert res.returncode == 2 and "bad-images.yaml" in res.stderr


def test_a_file_the_plan_copies_that_is_gone_is_a_finding(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "python-web" / "root", root, symlinks=True)
    inv = tmp_path / "inventory.json"
    assert _modernize("scan", str(root), "-o", str(inv), "-q").returncode == 0
    plan_file = tmp_path / "plan.yaml"
    assert _modernize("plan", str(inv), "-o", str(plan_file), "--strategy", "distro").returncode == 0
    (root / "etc/nginx/sites-available/intranet").unlink()
    res = _modernize("generate", str(plan_file), "-o", str(tmp_path / "out"))
    assert res.returncode == 1 and "/etc/nginx/sites-available/intranet" in res.stderr
    assert (tmp_path / "out" / "compose.yaml").exists()  # the rest is generated


def test_templates_can_be_overridden(tmp_path: Path) -> None:
    """--templates DIR: a template found there replaces the built-in one; the others
    stay the built-in ones."""
    mine = tmp_path / "templates"
    (mine / "dockerfile").mkdir(parents=True)
    builtin = (REPO / "templates" / "dockerfile" / "Dockerfile.j2").read_text()
    (mine / "dockerfile" / "Dockerfile.j2").write_text("# our house style\n" + builtin)
    res = _modernize("run", "fixtures/alpine/root", "-o", str(tmp_path / "out"), "-q", "--templates", str(mine))
    assert res.returncode == 0, res.stderr
    dockerfiles = sorted((tmp_path / "out" / "services").glob("*/Dockerfile"))
    assert dockerfiles and all(p.read_text().startswith("# our house style\n") for p in dockerfiles)
    assert (tmp_path / "out" / "MIGRATION.md").read_text().startswith("# Moving")
    bad = _modernize(
        "run", "fixtures/alpine/root", "-o", str(tmp_path / "o2"), "-q", "--templates", str(tmp_path / "none")
    )
    assert bad.returncode == 2 and "--templates" in bad.stderr
    assert not (tmp_path / "o2").exists()  # refused before anything was written


_CHOWN = re.compile(r"\bchown (?:-R )?([^\s]+) ")
_MADE = re.compile(r"\b(?:useradd|groupadd)\b[^)&;]*?\s([a-z_][a-z0-9_.-]*)\s*(?:\)|\\|$|&&)")


def test_official_images_chown_only_to_accounts_they_have(output: tuple[str, dict[str, bytes]]) -> None:
    """A chown to a name the image lacks fails the build (Debian's tomcat account in the
    tomcat image, which has none): every name is the base system's, the image's own
    (images.yaml `accounts`) or one the Dockerfile creates first."""
    from modernize.plan.planner import BASE_ACCOUNTS

    scenario, files = output
    by_image = {e.image: e for e in load_images().entries.values()}
    checked = 0
    for rel, data in files.items():
        if not rel.endswith("/Dockerfile"):
            continue
        text = data.decode()
        image = re.search(r"^FROM (\S+)", text, re.MULTILINE)
        entry = by_image.get(image.group(1).split(":")[0]) if image else None
        if entry is None or entry.accounts is None or re.search(r"apt-get install|apk add|dnf install", text):
            continue  # not an official image whose accounts are known, or packages that add their own
        known = BASE_ACCOUNTS | set(entry.accounts) | set(_MADE.findall(text))
        for owner in _CHOWN.findall(text):
            names = [n for n in owner.split(":") if n and not n.isdigit()]
            assert set(names) <= known, f"{scenario}/{rel}: chown {owner}: not an account of {image.group(1)}"  # type: ignore[union-attr]
            checked += 1
    if scenario == "java-tomcat":
        assert "chown" not in files["services/tomcat/Dockerfile"].decode()  # it runs as root: files stay root's
    if scenario in ("node-app", "python-web"):
        assert checked  # their app users are created, then chowned to


def test_a_file_inside_a_tree_already_chowned_to_its_owner_gets_no_chown_of_its_own(tmp_path: Path) -> None:
    """The app's package.json is copied on its own (for the npm layer) and inside /srv/shop:
    one `chown -R` of the tree covers it (the bench server's shop had both lines)."""
    if os.geteuid() != 0:
        pytest.skip("owners in the fixture tree need root")
    root = materialize("node-app", tmp_path)
    for rel in ("srv/shop", "srv/shop/package.json", "srv/shop/server.js"):
        os.lchown(root / rel, 1001, 1001)
    dockerfile = generated("node-app", root=root)["services/shop/Dockerfile"].decode()
    chowns = [line.strip() for line in dockerfile.splitlines() if "chown" in line]
    assert chowns == ["&& chown -R deploy:deploy /srv/shop \\"]


def test_no_file_the_image_carries_is_removed_by_its_own_setup(output: tuple[str, dict[str, bytes]]) -> None:
    """A setup line that clears the image's own file (nginx's conf.d/default.conf) must not
    hit one of the server's files copied to the same path: Alpine's http.d/default.conf was
    copied there and then deleted by the RUN after the COPY."""
    scenario, files = output
    for rel, data in files.items():
        if not rel.endswith("/Dockerfile"):
            continue
        base = rel.removesuffix("Dockerfile")
        removed = re.findall(r"\brm -f ((?:/\S+ ?)+)", data.decode())
        carried = {k.removeprefix(base + "rootfs") for k in files if k.startswith(base + "rootfs/")}
        for paths in removed:
            hit = carried & set(paths.replace("\\", "").split())
            assert not hit, f"{scenario}/{rel}: removes {sorted(hit)}, which it copies from the server"


def test_debians_default_site_when_enabled_serves_from_conf_d_in_the_official_image(tmp_path: Path) -> None:
    """The package's own default site, unchanged but enabled (most Debian servers), went to
    sites-available/ in the image, where nothing includes it; now it joins conf.d/."""
    root = materialize("python-web", tmp_path)
    nginx = "services/nginx/rootfs/etc/nginx"
    assert f"{nginx}/conf.d/server-default.conf" not in generated("python-web", root=root)  # not enabled there
    (root / "etc/nginx/sites-enabled/default").symlink_to("/etc/nginx/sites-available/default")
    files = generated("python-web", root=root)
    site = (root / "etc/nginx/sites-available/default").read_bytes()
    assert files[f"{nginx}/conf.d/server-default.conf"] == site
    assert f"{nginx}/sites-available/default" not in files
    assert b"default_server" in site  # it answers the hosts no other site names, as on the server
