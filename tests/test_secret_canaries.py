"""Secrets recognised by their shape, by a URL parameter's name and by an option given as
two arguments: planted on a copy of a fixture server in env files, unit files
(Environment=, ExecStart), a cron command line, a runtime capture and app configs,
none of them may come out of `modernize run`, in any file it writes or anything it prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixture_tree import materialize

# Each canary is distinctive (CANARY...), so a hit cannot be a coincidence, and
# each has the shape its kind is recognised by.
CANARIES = {
    "query": "CANARYqueryPW1x",
    "stripe": "sk_live_CANARYstripe0123456789ab",
    "github": "ghp_CANARYgithub0123456789abcdefghijkl",
    "github_pat": "github_pat_CANARYpat0123456789_abcdefghijklmnop",
    "aws": "AKIACANARY0123456789",
    "slack": "xoxb-CANARYslack-0123456789",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJDQU5BUllqd3QiOjF9.CANARYjwtSignature0123",
    "pem": "MIIEvCANARYpemBodyQIBADANBgkqhkiG9w0BAQEFAASC",
    "unit_slack": "xoxp-CANARYunitSlack-0123456",
    "unit_jwt": "eyJhbGciOiJSUzI1NiJ9.eyJDQU5BUll1bml0IjoxfQ.CANARYunitJwtSig0123",
    "exec_pass": "CANARYexecDbPass",
    "exec_query": "CANARYexecQueryPw",
    "exec_stripe": "rk_live_CANARYexecStripe0123456",
    "exec_short": "CANARYsshpassPw",
    "cron_pass": "CANARYcronDbPass",
    "cron_github": "ghp_CANARYcronGithub0123456789abcdefghij",
    "cron_short": "CANARYcronSshpass",
    "runtime_pass": "CANARYruntimeDbPass",
    "runtime_aws": "AKIACANARYRUNTIME012",
    "app_stripe": "sk_test_CANARYappStripe0123456789",
    "app_query": "CANARYappQueryPw",
}
C = CANARIES
PEM = f"-----BEGIN PRIVATE KEY-----\\n{C['pem']}\\nc2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\\n-----END PRIVATE KEY-----"


def _plant(root: Path) -> None:
    env = root / "etc/intranet/intranet.env"
    env.write_text(
        env.read_text()
        + f"REPORTS_URL=https://reports.example.com/api?user=a&password={C['query']}\n"
        + f"BILLING_CONF={C['stripe']}\n"
        + f"UPLOAD_HOOK={C['github']}\n"
        + f"DEPLOY_REF={C['github_pat']}\n"
        + f"CLOUD_ID={C['aws']}\n"
        + f"CHAT_HOOK={C['slack']}\n"
        + f"SESSION_BLOB={C['jwt']}\n"
        + f'SIGNING="{PEM}"\n'
    )
    dropin = root / "etc/systemd/system/intranet.service.d/canary.conf"
    dropin.write_text(f'[Service]\nEnvironment="NOTIFY={C["unit_slack"]}" "AUDIT_BLOB={C["unit_jwt"]}"\n')
    unit = root / "etc/systemd/system/reporter.service"
    unit.write_text(
        "[Unit]\nDescription=Nightly reporter\n\n[Service]\nUser=intranet\n"
        f"ExecStart=/opt/reporter/bin/reporter --db-pass {C['exec_pass']} --listen 127.0.0.1:9105 "
        f"--feed https://feed.example.com/x?user=r&password={C['exec_query']} --key {C['exec_stripe']}\n"
        f"ExecStartPost=/usr/bin/sshpass -p {C['exec_short']} /usr/bin/ssh backup@example.com true\n"
        "\n[Install]\nWantedBy=multi-user.target\n"
    )
    (root / "etc/systemd/system/multi-user.target.wants/reporter.service").symlink_to(
        "/etc/systemd/system/reporter.service"
    )
    (root / "opt/reporter/bin").mkdir(parents=True)
    (root / "opt/reporter/bin/reporter").write_text("#!/bin/sh\nexec sleep infinity\n")
    (root / "opt/reporter/bin/reporter").chmod(0o755)
    (root / "etc/cron.d/reporter").write_text(
        f"15 2 * * * intranet /usr/local/bin/sync-reports --db-pass {C['cron_pass']} --token-hint {C['cron_github']}\n"
        f"30 3 * * * intranet /usr/bin/sshpass -p {C['cron_short']} /usr/bin/rsync -a /srv/intranet backup:/x\n"
    )
    runtime = root / ".modernize/runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    procs = runtime / "processes.jsonl"
    listening = runtime / "listening.jsonl"
    line = (
        '{"pid": 4242, "user": "intranet", "exe": "/opt/reporter/bin/reporter", "cmdline": '
        f'["/opt/reporter/bin/reporter", "--db-pass", "{C["runtime_pass"]}", "--aws", "{C["runtime_aws"]}"], '
        '"cwd": "/", "unit": "reporter.service"}\n'
    )
    procs.write_text((procs.read_text() if procs.exists() else "") + line)
    listening.write_text(
        (listening.read_text() if listening.exists() else "")
        + '{"proto": "tcp", "address": "127.0.0.1", "port": 9105, "pid": 4242}\n'
    )
    cfg = root / "srv/intranet/app/.env"
    cfg.write_text(f"PAYMENTS={C['app_stripe']}\nPARTNER_API=https://partner.example.com/v2?token={C['app_query']}\n")


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    base = tmp_path_factory.mktemp("canary")
    root = materialize("python-web", base)
    _plant(root)
    out = base / "out"
    env = {**os.environ, "MODERNIZE_FINGERPRINT_KEY": str(base / "key")}
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "run", str(root), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return out, proc


def test_no_canary_in_any_output_file_or_message(planted_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = planted_run
    files = [p for p in out.rglob("*") if p.is_file() and not p.is_symlink()]
    names = {str(p.relative_to(out)) for p in files}
    assert {"inventory.json", "plan.yaml", "compose.yaml", "report/report.html", "report/report.json"} <= names
    leaks = []
    for p in files:
        data = p.read_bytes()
        leaks += [f"{p.relative_to(out)}: {k}" for k, v in CANARIES.items() if v.encode() in data]
    leaks += [f"stdout: {k}" for k, v in CANARIES.items() if v in proc.stdout]
    leaks += [f"stderr: {k}" for k, v in CANARIES.items() if v in proc.stderr]
    assert not leaks, leaks


def test_the_planted_secrets_are_recorded_as_secrets(
    planted_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """Redacted is not forgotten: each planted setting is a secret of its service, the
    command lines keep their shape with the value masked."""
    import json

    inv = json.loads((planted_run[0] / "inventory.json").read_text())
    app = next(s for s in inv["services"] if s["id"].startswith("python-app:"))
    secret_keys = {x["key"] for x in app["secrets"]}
    assert {
        "BILLING_CONF",
        "UPLOAD_HOOK",
        "DEPLOY_REF",
        "CLOUD_ID",
        "CHAT_HOOK",
        "SESSION_BLOB",
        "SIGNING",
    } <= secret_keys
    assert {"REPORTS_URL", "NOTIFY", "AUDIT_BLOB"} <= secret_keys
    kinds = {x["key"]: x["kind"] for x in app["secrets"]}
    assert kinds["SIGNING"] == "private-key" and kinds["CLOUD_ID"] == "key" and kinds["SESSION_BLOB"] == "token"
    env = {e["name"]: e for e in app["env"]}
    assert env["REPORTS_URL"]["value"] == "https://reports.example.com/api?user=a&password=<redacted>"
    assert env["REPORTS_URL"]["secret"] and env["BILLING_CONF"]["value"] is None
    unit = next(u for u in inv["units"] if u["name"] == "reporter.service")
    assert unit["exec_start"][0][:3] == ["/opt/reporter/bin/reporter", "--db-pass", "<redacted>"]
    assert "127.0.0.1:9105" in unit["exec_start"][0]  # what is not secret stays
    assert len(unit["exec_start"]) == 1
    crons = sorted(c["command"] for c in inv["cron_jobs"] if c["path"] == "/etc/cron.d/reporter")
    assert crons[0].startswith("/usr/bin/sshpass -p <redacted> /usr/bin/rsync")
    assert crons[1].startswith("/usr/local/bin/sync-reports --db-pass <redacted>")
