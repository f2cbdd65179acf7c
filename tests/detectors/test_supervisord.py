"""supervisord's own HTTP servers: passwords as secrets, the username as an identity store."""

from __future__ import annotations

from pathlib import Path

from detectors.supervisord import SupervisordDetector
from tests.helpers import FIXTURES, inventory, service

SAMPLE = (Path(__file__).parent / "data/supervisor/sample.conf").read_text()
DEBIAN = (FIXTURES / "mail-dns-files/root/etc/supervisor/supervisord.conf").read_text()
WEB = "[inet_http_server]\nport = 127.0.0.1:9001\nusername = ops\npassword = CANARYsupWeb-7Qz\n"


def test_inet_http_server_in_an_included_file() -> None:
    files = {
        "/etc/supervisor/supervisord.conf": DEBIAN,
        "/etc/supervisor/conf.d/web.conf": WEB,
        "/etc/supervisor/conf.d/ctl.conf": "[supervisorctl]\nusername = ops\npassword = CANARYsupWeb-7Qz\n",
    }
    sup = service(inventory([SupervisordDetector], files), "supervisor")
    assert {(p.address, p.port) for p in sup.ports} == {("127.0.0.1", 9001), (None, None)}
    assert [(s.key, s.path, s.line, s.kind) for s in sup.secrets] == [
        ("supervisorctl.password", "/etc/supervisor/conf.d/ctl.conf", 3, "password"),
        ("inet_http_server.password", "/etc/supervisor/conf.d/web.conf", 4, "password"),
    ]
    assert sup.secrets[0].fingerprint == sup.secrets[1].fingerprint
    (store,) = sup.identity_stores
    assert (store.store, store.host_accounts, store.users, store.path) == (
        "supervisord",
        False,
        ("ops",),
        "/etc/supervisor/conf.d/web.conf",
    )
    assert "CANARY" not in repr(sup)


def test_commented_and_empty_passwords_are_not_secrets() -> None:
    files = {
        "/etc/supervisord.conf": SAMPLE,  # every username=/password= commented, as shipped
        "/etc/supervisord.d/empty.conf": "[unix_http_server]\nfile = /run/s.sock\nusername =\npassword =\n",
    }
    sup = service(inventory([SupervisordDetector], files), "supervisor")
    assert sup.secrets == () and sup.identity_stores == ()


def test_unix_password_hashed_and_a_broken_include() -> None:
    files = {
        "/etc/supervisor/supervisord.conf": DEBIAN.replace(
            "chmod=0700", "chmod=0700\nusername=admin\npassword={SHA}CANARY0b9c2625dc21ef05f6ad4ddf47c5f203837aa32c"
        ),
        "/etc/supervisor/conf.d/broken.conf": "[program:x\ncommand=/bin/x\n",
    }
    result_inv = inventory([SupervisordDetector], files)
    sup = service(result_inv, "supervisor")
    assert [s.key for s in sup.secrets] == ["unix_http_server.password"]
    assert sup.identity_stores[0].users == ("admin",)
    assert any(f.path == "/etc/supervisor/conf.d/broken.conf" for f in result_inv.findings)
    assert "CANARY" not in repr(result_inv)
