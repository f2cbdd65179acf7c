"""render(plan, files) -> {relative path: bytes}: a pure function.

Same plan and files, same bytes (sorted, no timestamps). Secret files are never
copied into a build context: OUT/secrets/ gets a redacted `.example` of each.
"""

from __future__ import annotations

import json
import posixpath as P
import re
import shlex
from dataclasses import dataclass, field
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

import yaml

from modernize.generate.collect import ServerFile, excluded
from modernize.plan.model import FileCopy, Plan, ServicePlan
from modernize.render import environment
from modernize.secrets import MASK, is_secret_name

BUILD_SECRET = "ca_bundle"
CA_VARIABLE = "MODERNIZE_CA_BUNDLE"
# what pip, npm, bundler, curl and OpenSSL read for a CA bundle, set only in the installing step
CA_VARIABLES = ("PIP_CERT", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "CURL_CA_BUNDLE")
PLACEHOLDER = "CHANGE-ME"


@dataclass
class Rendered:
    files: dict[str, bytes] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    modes: dict[str, int] = field(default_factory=dict)  # copied files with an exec bit: the writer sets it

    def text(self, path: str, content: str) -> None:
        self.files[path] = content.encode("utf-8")


def project_name(plan: Plan) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", (plan.host.hostname or "server").lower()).strip("-") or "server"


def built(plan: Plan) -> list[ServicePlan]:
    """Services that get a Dockerfile of their own."""
    return [s for s in plan.services if s.strategy in ("official", "distro") and not s.build_from]


def running(plan: Plan) -> list[ServicePlan]:
    return [s for s in plan.services if s.strategy in ("official", "distro")]


def render(
    plan: Plan, server_files: dict[str, ServerFile], *, templates: Path | None = None, missing: tuple[str, ...] = ()
) -> Rendered:
    env = environment(templates)
    out = Rendered()
    project = project_name(plan)
    for path in missing:
        out.findings.append(f"{path}: named by the plan but not in the source; left out")
    for svc in built(plan):
        _service(env, plan, svc, server_files, out)
    for svc in running(plan):
        for f in svc.files:
            if f.secret:
                out.text(f"secrets/{f.secret_name}.example", _redacted(f, server_files))
    if plan.lift is not None:
        lift_dir = f"services/{plan.lift.name}"
        out.text(f"{lift_dir}/Dockerfile", env.get_template("dockerfile/lift.Dockerfile.j2").render(plan=plan))
        out.text(f"{lift_dir}/.dockerignore", "*\n!rootfs.tar.gz\n")
        out.text("lift.sh", env.get_template("lift.sh.j2").render(plan=plan, dir=lift_dir))
    compose = compose_data(plan, project)
    out.text("compose.yaml", _compose_text(compose))
    out.text(".env.example", env.get_template("env.example.j2").render(plan=plan, variables=variables(plan)))
    out.text("MIGRATION.md", env.get_template("MIGRATION.md.j2").render(plan=plan, project=project, run=running(plan)))
    out.text("smoke.sh", env.get_template("smoke.sh.j2").render(plan=plan, run=running(plan)))
    return out


# -- one service's build context ----------------------------------------------------------
def _service(env: Any, plan: Plan, svc: ServicePlan, server_files: dict[str, ServerFile], out: Rendered) -> None:
    base = f"services/{svc.name}"
    copied: list[str] = []
    chowns: list[tuple[str, str, bool]] = []
    for f in svc.files:
        if f.secret:
            continue
        below = sorted(p for p in server_files if _inside(p, f))
        if not below:
            continue
        for path in below:
            data = server_files[path].data
            target = f.target + path[len(f.source) :] if path != f.source else f.target
            if path == f.source or any(r.line is None for r in f.rewrites):
                data = _rewrite(data, f)
            if path == f.source and f.redact_members:
                data = repack(data, f)
            out.files[f"{base}/rootfs{target}"] = data
            if server_files[path].mode & 0o111:
                out.modes[f"{base}/rootfs{target}"] = 0o755
            copied.append(target)
        owner = ":".join(x for x in (f.owner, f.group) if x)
        if owner and owner not in ("root", "root:root"):
            chowns.append((owner, f.target, below != [f.source]))  # -R for a directory only
    if svc.libraries:
        out.text(f"{base}/requirements.txt", "".join(f"{lib}\n" for lib in svc.libraries))
    dockerfile = env.get_template("dockerfile/Dockerfile.j2").render(
        plan=plan,
        svc=svc,
        family=_family(plan),
        has_rootfs=bool(copied),
        chowns=chowns,
        setup=_setup_lines(svc, chowns),
        build_secret=BUILD_SECRET,
        ca_exports=" ".join(f"{v}=/run/secrets/{BUILD_SECRET}" for v in CA_VARIABLES),
        merge_setup=bool(svc.packages) and not copied and not svc.libraries and not svc.install,
        shell_pipes=any("|" in line for line in (*svc.setup, *svc.install)),
    )
    out.text(f"{base}/Dockerfile", dockerfile)
    out.text(f"{base}/.dockerignore", _dockerignore(svc))


def _inside(path: str, f: FileCopy) -> bool:
    """PATH is F's file, or below F's directory and not excluded from it (another
    copy of the same directory may have read files this one leaves out)."""
    if path == f.source:
        return True
    top = f.source.rstrip("/") + "/"
    return path.startswith(top) and not excluded(path[len(top) :], f.exclude)


def _family(plan: Plan) -> str:
    os_text = (plan.host.os or "").split()
    first = os_text[0] if os_text else "debian"
    if first in ("debian", "ubuntu"):
        return "apt"
    if first == "alpine":
        return "apk"
    return "dnf"


def _setup_lines(svc: ServicePlan, chowns: list[tuple[str, str, bool]]) -> list[str]:
    lines = list(svc.setup)
    for link in svc.links:
        lines.append(f"ln -sfn {shlex.quote(link.target)} {shlex.quote(link.path)}")
    logs = sorted(svc.logs_to_stdout)
    for folder in sorted({P.dirname(log) for log in logs}):
        lines.append(f"install -d {shlex.quote(folder)}")
    for log in logs:
        stream = "/dev/stderr" if "error" in P.basename(log) else "/dev/stdout"
        lines.append(f"ln -sf {stream} {shlex.quote(log)}")
    trees = [(owner, path.rstrip("/") + "/") for owner, path, tree in chowns if tree]
    for owner, path, tree in chowns:
        if any(path.startswith(top) and owner == who for who, top in trees):
            continue  # a chown -R above it already gave it this owner
        lines.append(f"chown {'-R ' if tree else ''}{owner} {shlex.quote(path)}")
    for vol in svc.volumes:
        if vol.owner and vol.target.startswith("/"):
            # mkdir + chown, not install -d: a directory the package made keeps its mode
            # (PostgreSQL refuses a data directory that is not 0700 or 0750)
            q = shlex.quote(vol.target)
            lines.append(f"mkdir -p {q} && chown {vol.owner} {q}")
    return lines


def repack(data: bytes, f: FileCopy) -> bytes:
    """The archive with its secret-holding members redacted; every member keeps its
    order, dates and compression (Spring Boot needs its nested jars stored)."""
    import io
    import zipfile

    wanted = {m.member: m.lines for m in f.redact_members}
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                body = zin.read(info)
                if info.filename in wanted:
                    text = body.decode("utf-8", errors="replace")
                    body = redact_text(text, wanted[info.filename]).encode("utf-8")
                zout.writestr(info, body)
    except zipfile.BadZipFile:
        return b""  # never copy an archive we could not clean
    return out.getvalue()


def _dockerignore(svc: ServicePlan) -> str:
    lines = ["# the build context holds only what the Dockerfile copies", "*", "!Dockerfile"]
    if any(not f.secret for f in svc.files):
        lines.append("!rootfs/")
    if svc.libraries:
        lines.append("!requirements.txt")
    return "\n".join(lines) + "\n"


def _rewrite(data: bytes, f: FileCopy) -> bytes:
    if not f.rewrites:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    lines = text.split("\n")
    for r in f.rewrites:
        if r.line is not None and 0 < r.line <= len(lines):
            lines[r.line - 1] = lines[r.line - 1].replace(r.old, r.new)
        elif r.line is None:
            lines = [line.replace(r.old, r.new) for line in lines]
    return "\n".join(lines).encode("utf-8")


_ASSIGN = re.compile(
    r"""^(?P<pre>\s*(?:export\s+)?(?P<key>[A-Za-z_][\w.-]*)\s*(?:=|:|\s)\s*)(?P<val>.*?)(?P<post>\s*[;,]?\s*)$"""
)
_PHP_DEFINE = re.compile(r"""(?P<pre>define\(\s*['"](?P<key>\w+)['"]\s*,\s*)(?P<q>['"])(?P<val>.*?)(?P=q)""")
_OPENS = re.compile(r"[\[{(]\s*")
_STRING = re.compile(r"""(?P<q>['"])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)""")
_URL_PW = re.compile(r"(?P<k>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<v>[^@\s]+)(?=@)", re.IGNORECASE)
_JSON_PAIR = re.compile(r'"(?P<key>[^"]+)"\s*:\s*"(?P<val>(?:[^"\\]|\\.)*)"')
_XML_TEXT = re.compile(r"<(?P<key>[A-Za-z_][\w.-]*)>(?P<val>[^<]+)</(?P=key)>")
_XML_ATTR = re.compile(r"""(?P<key>[A-Za-z_][\w.-]*)\s*=\s*(?P<q>["'])(?P<val>.*?)(?P=q)""")


def redact_text(text: str, lines: tuple[int, ...]) -> str:
    """Secret values out: the lines the inventory named, and any line whose key
    reads as a secret or that holds a URL with a password."""
    out = []
    named = set(lines)
    for i, line in enumerate(text.split("\n"), 1):
        out.append(_redact_line(line, force=i in named))
    return "\n".join(out)


def _redact_line(line: str, force: bool) -> str:
    stripped = line.lstrip()
    if not stripped or (stripped.startswith(("#", ";", "//")) and not force):
        return line
    m = _JSON_PAIR.search(line)
    if m and (force or is_secret_name(m.group("key"))):
        return line[: m.start("val")] + PLACEHOLDER + line[m.end("val") :]
    m = _PHP_DEFINE.search(line)
    if m and (force or is_secret_name(m.group("key"))):
        return line[: m.start("val")] + PLACEHOLDER + line[m.end("val") :]
    line = _URL_PW.sub(lambda mm: mm.group("k") + PLACEHOLDER, line)
    if "<" in line or '="' in line:
        attrs = list(_XML_ATTR.finditer(line))
        secret_attrs = [a for a in attrs if is_secret_name(a.group("key")) and a.group("val")]
        if secret_attrs:
            for a in reversed(secret_attrs):
                line = line[: a.start("val")] + PLACEHOLDER + line[a.end("val") :]
            return line
        element = _XML_TEXT.search(line)
        if element and is_secret_name(element.group("key")):
            return line[: element.start("val")] + PLACEHOLDER + line[element.end("val") :]
        if attrs:
            return line  # the element's secret attribute is on another of its lines
    m = _ASSIGN.match(line)
    if m and (force or is_secret_name(m.group("key"))) and m.group("val"):
        val = m.group("val")
        if _OPENS.fullmatch(val):
            return line  # `DATABASES = {`: the values are on the lines that follow
        quote = val[0] if val[:1] in "'\"" and val[-1:] == val[:1] and len(val) > 1 else ""
        literals = list(_STRING.finditer(val)) if not quote else []
        if literals:
            # code such as os.environ.get("KEY", "secret") or getenv('K') ?: 'secret': the
            # last string is the value; the expression around it must stay valid
            last = literals[-1]
            return m.group("pre") + val[: last.start("s")] + PLACEHOLDER + val[last.end("s") :] + m.group("post")
        return m.group("pre") + f"{quote}{PLACEHOLDER}{quote}" + m.group("post")
    if force and MASK not in line:
        return f"# {PLACEHOLDER}: a secret was on this line; write it as on the server"
    return line


def _redacted(f: FileCopy, server_files: dict[str, ServerFile]) -> str:
    """The secret file with its values left out, under a note in the file's own
    comment syntax, so that the .example, once filled in, is the working file."""
    lines = [
        f"{f.source} from the server, its secret values replaced by {PLACEHOLDER}.",
        f"Copy it to secrets/{f.secret_name}, put the real values in, and keep it out of version control.",
    ]
    sf = server_files.get(f.source)
    if sf is None:
        return _with_note("", [*lines, "(not in the snapshot: write this file from the server's copy)"], f.source)
    try:
        text = sf.data.decode("utf-8")
    except UnicodeDecodeError:
        return _with_note("", [*lines, "(a binary file: copy it from the server)"], f.source)
    if 0 in f.redact:
        return _with_note("", [*lines, "(every line of it is secret: copy it from the server)"], f.source)
    if "PRIVATE KEY" in text:
        return _with_note("", [*lines, "(a private key: copy it from the server; it is never written here)"], f.source)
    return _with_note(redact_text(_rewrite(text.encode(), f).decode("utf-8"), f.redact), lines, f.source)


def _with_note(body: str, lines: list[str], path: str) -> str:
    """BODY with LINES as a comment where the format allows one: after an XML
    declaration, after PHP's opening tag, in // for JavaScript; none in JSON."""
    if path.endswith((".json", ".pm2")) or body.lstrip().startswith(("{", "[")):
        return body  # JSON has no comments: the note would break it
    if path.endswith((".xml", ".xsd", ".xhtml")) or body.lstrip().startswith("<"):
        note = "<!-- " + " ".join(lines).replace("--", "- -") + " -->\n"
        if body.startswith("<?xml"):
            end = body.find("?>") + 2
            return body[:end] + "\n" + note + body[end:].lstrip("\n")
        return note + body
    if path.endswith((".php", ".js", ".ts")):
        note = "".join(f"// {line}\n" for line in lines)
        if body.startswith("<?php"):
            return body.replace("<?php", "<?php\n" + note.rstrip("\n"), 1)
        return note + body
    if path.endswith((".ini", ".cnf")) and body.lstrip().startswith(";"):
        return "".join(f"; {line}\n" for line in lines) + body
    return "".join(f"# {line}\n" for line in lines) + body


# -- compose ---------------------------------------------------------------------------------
def variables(plan: Plan) -> dict[str, list[str]]:
    """.env variable -> where it is used (service.ENV)."""
    out: dict[str, list[str]] = {}
    for svc in running(plan):
        for e in svc.env:
            for var in e.variables:
                out.setdefault(var, []).append(f"{svc.name}: {e.name}")
    return dict(sorted(out.items()))


def image_name(project: str, svc: ServicePlan) -> str:
    return f"{project}-{svc.build_from or svc.name}:latest"


def compose_data(plan: Plan, project: str) -> dict[str, Any]:
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    by_name = {s.name: s for s in running(plan)}
    for svc in running(plan):
        spec: dict[str, Any] = {}
        ctx_dir = f"./services/{svc.build_from or svc.name}"
        spec["build"] = {"context": ctx_dir, "secrets": [BUILD_SECRET]}
        spec["image"] = image_name(project, svc)
        if svc.build_from:
            spec["command"] = list(svc.command)
            if svc.workdir:
                spec["working_dir"] = svc.workdir
            if svc.user:
                spec["user"] = svc.user
        if svc.env:
            spec["environment"] = {e.name: e.value for e in svc.env if not e.image}
            if not spec["environment"]:
                del spec["environment"]
        pub = [p for p in svc.ports if p.publish]
        if pub:
            spec["ports"] = [f"{p.publish}:{p.port}" + ("/udp" if p.proto == "udp" else "") for p in pub]
        if svc.volumes:
            spec["volumes"] = [f"{v.name}:{v.target}" + (":ro" if v.read_only else "") for v in svc.volumes]
            for v in svc.volumes:
                volumes[v.name] = {}
        sec = [f for f in svc.files if f.secret and f.secret_name]
        if sec:
            spec["secrets"] = [{"source": f.secret_name, "target": f.target} for f in sec]
            for f in sec:
                secrets[str(f.secret_name)] = {"file": f"./secrets/{f.secret_name}"}
        if svc.build_from and svc.healthcheck is None:
            spec["healthcheck"] = {"disable": True}  # the image's check is for the service that owns it
        if svc.healthcheck is not None:
            hc = svc.healthcheck
            spec["healthcheck"] = {
                "test": list(hc.test),
                "interval": hc.interval,
                "timeout": hc.timeout,
                "retries": hc.retries,
                "start_period": hc.start_period,
            }
        deps = [d for d in svc.depends_on if d in by_name]
        if deps:
            spec["depends_on"] = {
                d: {"condition": "service_healthy" if by_name[d].healthcheck else "service_started"} for d in deps
            }
        h = svc.hardening
        if h.read_only:
            spec["read_only"] = True
        if h.tmpfs:
            spec["tmpfs"] = list(h.tmpfs)
        if h.cap_drop:
            spec["cap_drop"] = list(h.cap_drop)
        if h.cap_add:
            spec["cap_add"] = list(h.cap_add)
        if h.no_new_privileges:
            spec["security_opt"] = ["no-new-privileges:true"]
        spec["restart"] = "unless-stopped"
        if svc.profiles:
            spec["profiles"] = list(svc.profiles)
        services[svc.name] = spec
    if plan.lift is not None:
        lift = plan.lift
        services[lift.name] = {
            "build": {"context": f"./services/{lift.name}"},
            "image": f"{project}-{lift.name}:latest",
            "ports": sorted(
                {f"{p.publish}:{p.port}" + ("/udp" if p.proto == "udp" else "") for p in lift.ports if p.publish}
            ),
            "tmpfs": ["/run", "/run/lock", "/tmp"],
            "stop_signal": "SIGRTMIN+3",
            "restart": "unless-stopped",
        }
        if not services[lift.name]["ports"]:
            del services[lift.name]["ports"]
    data: dict[str, Any] = {"name": project, "services": services}
    if volumes:
        data["volumes"] = dict(sorted(volumes.items()))
    secrets[BUILD_SECRET] = {"file": "${" + CA_VARIABLE + ":-/etc/ssl/certs/ca-certificates.crt}"}
    data["secrets"] = dict(sorted(secrets.items()))
    return data


def _compose_text(data: dict[str, Any]) -> str:
    head = (
        "# Generated by modernize from plan.yaml. Start: cp .env.example .env (fill it in), put the\n"
        "# secret files in secrets/ (see MIGRATION.md), then: docker compose up -d --build\n"
    )
    return head + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True)


def compose_schema() -> dict[str, Any]:
    text = package_files("modernize.generate").joinpath("compose-spec.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def check_compose(text: str) -> list[str]:
    """Problems of a compose file against the Compose Specification schema."""
    import jsonschema

    data = yaml.safe_load(text)
    validator = jsonschema.Draft7Validator(compose_schema())
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(data)]
