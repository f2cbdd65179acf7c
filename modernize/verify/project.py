"""What verify runs: a temporary copy of the generated OUT with throwaway secrets, and
compose.yaml's services turned into engine commands.

OUT holds no real secrets (`.env.example`, `secrets/*.example`), so the copy gets
fresh ones: one random password for every variable and every CHANGE-ME (so that a
redis.conf's requirepass and the app's REDIS_URL agree), a self-signed pair where a
TLS key is mounted, DH parameters where a dhparam file is. The user's own `.env` and
secret files are never read or copied: verify must not depend on, or leak, them."""

from __future__ import annotations

import re
import secrets as random
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modernize.errors import UserError
from modernize.plan.images import load_images
from modernize.plan.io import load_plan
from modernize.plan.model import Plan

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")
_FROM = re.compile(r"^(\s*FROM\s+)((?:--\S+\s+)*)(\S+)(.*)$", re.I | re.M)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def substitute(value: object, env: Mapping[str, str]) -> str:
    """Compose's ${VAR} and ${VAR:-default} interpolation."""
    return _VAR.sub(lambda m: env.get(m[1]) or (m[2] or ""), str(value))


@dataclass
class Project:
    out: Path  # the user's OUT: only OUT/verify is written
    work: Path  # the temporary copy everything runs from
    compose: dict[str, Any]
    plan: Plan
    password: str
    env: dict[str, str]
    prefix: str  # every container, volume, network and image verify makes starts with it
    engine_name: str = "podman"
    skipped: dict[str, str] = field(default_factory=dict)  # service -> why it is not started

    @property
    def services(self) -> dict[str, Any]:
        """The compose services `docker compose up` starts: none in a profile."""
        return {
            k: v
            for k, v in (self.compose.get("services") or {}).items()
            if not v.get("profiles") and k not in self.skipped
        }

    def name(self, what: str) -> str:
        return f"{self.prefix}{what}"

    def order(self) -> list[str]:
        """Services so that each comes after what it depends on."""
        services, done = self.services, []

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in path:
                raise UserError(f"compose.yaml: depends_on cycle {' -> '.join((*path, name))}")
            if name in done or name not in services:
                return
            for dep in deps_of(services[name]):
                visit(dep, (*path, name))
            done.append(name)

        for name in sorted(services):
            visit(name, ())
        return done


def deps_of(spec: Mapping[str, Any]) -> list[str]:
    deps = spec.get("depends_on") or []
    return list(deps) if isinstance(deps, list | dict) else []


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: not found (is this a folder `modernize generate` wrote?)") from None
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping")
    return data


def prepare(out: Path, work: Path, engine: str, image_map: list[str], ca_cert: str | None) -> Project:
    """Copy what generation left in OUT into WORK and give it throwaway secrets."""
    if not out.is_dir():
        raise UserError(f"{out}: not a folder")
    compose = _read_yaml(out / "compose.yaml")
    try:
        plan = load_plan((out / "plan.yaml").read_text(encoding="utf-8"), str(out / "plan.yaml"))
    except FileNotFoundError:
        raise UserError(f"{out / 'plan.yaml'}: not found (verify reads the probes from the plan)") from None
    if ca_cert is not None and not Path(ca_cert).is_file():
        raise UserError(f"--ca-cert {ca_cert}: not a file")
    work.mkdir(parents=True, exist_ok=True)
    for item in ("compose.yaml", "plan.yaml", ".env.example", "services"):
        src = out / item
        if src.is_dir():
            shutil.copytree(src, work / item, symlinks=True)
        elif src.is_file():
            shutil.copy2(src, work / item)
    (work / "secrets").mkdir()
    for example in sorted((out / "secrets").glob("*.example")):
        shutil.copy2(example, work / "secrets" / example.name)
    password = random.token_hex(16)
    prefix = "mzv-" + random.token_hex(3) + "-"
    project = Project(out, work, compose, plan, password, _env(work, password, ca_cert), prefix, engine)
    _map_images(project, image_map)
    for name, spec in (compose.get("services") or {}).items():
        if "build" not in spec and spec.get("image") == (plan.lift.name if plan.lift else None):
            project.skipped[name] = "the lift image: lift.sh makes it on the server"
    _write_secrets(project)
    return project


def _env(work: Path, password: str, ca_cert: str | None) -> dict[str, str]:
    """Every .env.example variable: its value when the file fills one in, else the
    throwaway password."""
    env: dict[str, str] = {}
    example = work / ".env.example"
    for line in example.read_text(encoding="utf-8").splitlines() if example.is_file() else ():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        env[key.strip()] = value.strip() or password
    if ca_cert is not None:
        env["MODERNIZE_CA_BUNDLE"] = str(Path(ca_cert).resolve())
    return env


def _map_images(project: Project, image_map: list[str]) -> None:
    """--image-map on the copy: Dockerfiles' FROM and compose's image-only services."""
    images = load_images(image_map=image_map)
    if not images.rewrites:
        return
    for dockerfile in sorted(project.work.glob("services/*/Dockerfile")):
        text = dockerfile.read_text(encoding="utf-8")
        new = _FROM.sub(lambda m: m[1] + m[2] + images.rewrite(m[3]) + m[4], text)
        if new != text:
            dockerfile.write_text(new, encoding="utf-8")
    for spec in (project.compose.get("services") or {}).values():
        if "build" not in spec and isinstance(spec.get("image"), str):
            spec["image"] = images.rewrite(spec["image"])


def _openssl(*args: str) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise UserError(f"openssl {args[0]} failed making a throwaway secret: {proc.stderr.strip()[-500:]}")


def _write_secrets(project: Project) -> None:
    write_secrets(project.compose, project.env, project.work, project.password)


def write_secrets(compose: Mapping[str, Any], env: Mapping[str, str], base: Path, password: str) -> list[Path]:
    """The secret files compose mounts, under BASE: from their .example with CHANGE-ME
    replaced by PASSWORD, a fresh self-signed pair for a *.key and its certificate, DH
    parameters for a dhparam file. Readable by all: the containers run as other users.
    Returns the files that had no .example (written empty)."""
    targets: list[Path] = []
    for spec in (compose.get("secrets") or {}).values():
        src = substitute(spec.get("file", ""), env) if isinstance(spec, dict) else ""
        if src.startswith("./secrets/"):  # not ca_bundle: a build secret from the host
            targets.append(base / src)
    keys = [t for t in targets if t.suffix == ".key"]
    if keys and shutil.which("openssl") is None:
        raise UserError("verify makes throwaway TLS certificates with openssl: install it (apt-get install openssl)")
    for key in keys:
        certs = [t for t in targets if t.suffix in (".crt", ".pem") and t.stem == key.stem]
        crt = certs[0] if certs else key.with_suffix(".crt")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=verify", "-days", "2",
                 "-keyout", str(key), "-out", str(crt))  # fmt: skip
    missing = []
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            pass
        elif target.suffix == ".pem" and "dh" in target.stem.rsplit("-", 1)[-1]:
            _openssl("dhparam", "-dsaparam", "-out", str(target), "2048")
        else:
            example = target.with_name(target.name + ".example")
            if not example.is_file():
                missing.append(target)
            text = example.read_text(encoding="utf-8") if example.is_file() else ""
            target.write_text(text.replace("CHANGE-ME", password), encoding="utf-8")
        target.chmod(0o644)
    return missing


def build_secrets(project: Project, spec: Mapping[str, Any]) -> dict[str, str]:
    build = spec.get("build")
    found: dict[str, str] = {}
    for sec in build.get("secrets", []) if isinstance(build, dict) else []:
        name = sec if isinstance(sec, str) else sec.get("source", "")
        decl = (project.compose.get("secrets") or {}).get(name) or {}
        src = substitute(decl.get("file", ""), project.env)
        path = (project.work / src).resolve() if src else None
        if path is not None and path.is_file():
            found[name] = str(path)
    return found


def run_flags(project: Project, service: str, volumes: dict[str, str], publish: list[int]) -> list[str]:
    """Engine `run` flags for one compose service, as `docker compose up` would start it;
    ports are published on free loopback ports (the probes use them), never the host
    ports compose names, which may be taken on this machine."""
    flags = ["--network", project.name("net"), "--network-alias", service, "--hostname", service]
    flags += ["--label", f"modernize.verify={project.prefix.rstrip('-')}"]
    for port in publish:
        flags += ["-p", f"127.0.0.1::{port}"]
    spec = project.services[service]
    return flags + compose_flags(project.compose, spec, project.env, project.work, volumes, project.engine_name)


def compose_flags(
    compose: Mapping[str, Any],
    spec: Mapping[str, Any],
    env: Mapping[str, str],
    base: Path,
    volumes: Mapping[str, str],
    engine: str,
) -> list[str]:
    """The `run` flags a compose service's settings make: environment (interpolated from
    ENV), volumes (named ones through VOLUMES, compose name -> engine name; paths under
    BASE), secrets as read-only mounts, read-only root, tmpfs, capabilities, security
    options, user, working directory, healthcheck and entrypoint."""
    flags: list[str] = []
    values = spec.get("environment") or {}
    items = values.items() if isinstance(values, dict) else (str(e).split("=", 1) for e in values)
    for key, value in items:
        flags += ["-e", f"{key}={substitute(value, env)}"]
    for vol in spec.get("volumes") or []:
        src, target = vol.split(":", 1) if isinstance(vol, str) else (vol["source"], vol["target"])
        src = volumes[src] if src in (compose.get("volumes") or {}) else str((base / src).resolve())
        flags += ["-v", f"{src}:{target}"]
    for sec in spec.get("secrets") or []:
        name, target = (sec, None) if isinstance(sec, str) else (sec["source"], sec.get("target"))
        decl = (compose.get("secrets") or {}).get(name) or {}
        src = (base / substitute(decl.get("file", ""), env)).resolve()
        flags += ["-v", f"{src}:{target or '/run/secrets/' + name}:ro"]
    if spec.get("read_only"):
        flags += ["--read-only"]
        # Podman adds tmpfs on /tmp, /var/tmp and /run to a read-only container unless
        # told not to; Docker adds none, so only compose's tmpfs list may count
        flags += ["--read-only-tmpfs=false"] if engine == "podman" else []
    tmpfs = spec.get("tmpfs") or []
    for path in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
        flags += ["--tmpfs", str(path)]
    for cap in spec.get("cap_drop") or []:
        flags += ["--cap-drop", str(cap)]
    for cap in spec.get("cap_add") or []:
        flags += ["--cap-add", str(cap)]
    for opt in spec.get("security_opt") or []:
        flags += ["--security-opt", str(opt)]
    if "user" in spec:
        flags += ["--user", str(spec["user"])]
    if "working_dir" in spec:
        flags += ["--workdir", str(spec["working_dir"])]
    check = spec.get("healthcheck") or {}
    if check.get("disable"):
        flags += ["--no-healthcheck"]
    elif check.get("test"):
        test = check["test"]
        cmd = test if isinstance(test, str) else (test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:]))
        flags += ["--health-cmd", cmd]
    if spec.get("entrypoint"):
        flags += ["--entrypoint", _split(spec["entrypoint"])[0]]
    return flags


def _split(value: object) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(c) for c in value or []]  # type: ignore[attr-defined]


def command_of(spec: Mapping[str, Any]) -> list[str]:
    """The command after the image: an entrypoint's arguments (the engines take only its
    executable in --entrypoint), then compose's command."""
    entry = _split(spec.get("entrypoint"))
    return [*entry[1:], *_split(spec.get("command"))]
