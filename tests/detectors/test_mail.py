from __future__ import annotations

from pathlib import Path

from detectors.mail import MailDetector, nexthop
from detectors.systemd import SystemdDetector
from modernize.model import Inventory, Service
from tests.helpers import FIXTURES, inventory, service

MDF = FIXTURES / "mail-dns-files" / "root"


def tree(*rel: str) -> dict[str, str]:
    return {"/" + r: (MDF / r).read_text() for r in rel}


def dovecot_tree() -> dict[str, str]:
    files = {}
    for p in sorted((MDF / "etc/dovecot").rglob("*")):
        if p.is_file():
            files["/" + str(p.relative_to(MDF))] = p.read_text()
    files.update(tree("usr/share/dovecot/protocols.d/imapd.protocol"))
    return files


def run(files: dict[str, str]) -> Inventory:
    return inventory([MailDetector, SystemdDetector], files)


def addr_ports(svc: Service) -> set[tuple[str | None, int | None]]:
    return {(p.address, p.port) for p in svc.ports if p.proto == "tcp"}


POSTFIX = ("etc/postfix/main.cf", "etc/postfix/master.cf", "etc/postfix/sasl_passwd", "etc/services")


def test_postfix_fixture_smtp_only_submission_commented() -> None:
    inv = run(tree(*POSTFIX, "etc/rsyslog.conf", "etc/rsyslog.d/postfix.conf", "etc/rsyslog.d/50-remote.conf"))
    pf = service(inv, "postfix")
    assert addr_ports(pf) == {("0.0.0.0", 25), ("::", 25)}  # `#submission inet ...` is commented: no 587
    assert {f.path for f in pf.config_files} >= {"/etc/postfix/main.cf", "/etc/postfix/master.cf", "/etc/aliases"}
    assert "/var/spool/postfix" in {d.path for d in pf.data_dirs}
    assert [f.path for f in pf.log_paths] == ["/var/log/mail.log"]  # mail.* in rsyslog.conf
    assert [(s.key, s.path, s.line) for s in pf.secrets] == [("smtp_sasl_password_maps", "/etc/postfix/sasl_passwd", 1)]
    assert "RelayPw" not in repr(inv)
    deps = [(d.host, d.port, d.via, d.external) for d in inv.dependencies if d.source == "postfix"]
    assert deps == [("smtp.relay.example.net", 587, "relayhost", True)]


def test_postfix_master_host_port_and_loopback_only() -> None:
    master = (
        "smtp      inet  n       -       y       -       -       smtpd\n"
        "127.0.0.1:10025 inet n  -       n       -       -       smtpd\n"
        "  -o content_filter=\n"
        "submission inet n       -       y       -       -       smtpd\n"
        "#smtps     inet  n       -       y       -       -       smtpd\n"
        "pickup    unix  n       -       y       60      1       pickup\n"
    )
    main = "inet_interfaces = loopback-only\ninet_protocols = ipv4\n# inet_interfaces = all\n"
    pf = service(run({"/etc/postfix/main.cf": main, "/etc/postfix/master.cf": master}), "postfix")
    assert addr_ports(pf) == {("127.0.0.1", 25), ("127.0.0.1", 10025), ("127.0.0.1", 587)}


def test_postfix_continuation_lines_and_last_assignment_wins() -> None:
    main = "inet_interfaces = all\ninet_interfaces =\n    192.0.2.10,\n    192.0.2.11\nvirtual_transport = lmtp:unix:private/dovecot-lmtp\n"
    master = "smtp inet n - y - - smtpd\n"
    pf = service(run({"/etc/postfix/main.cf": main, "/etc/postfix/master.cf": master}), "postfix")
    assert addr_ports(pf) == {("192.0.2.10", 25), ("192.0.2.11", 25)}
    inv = run({"/etc/postfix/main.cf": main, "/etc/postfix/master.cf": master})
    assert [d.socket for d in inv.dependencies] == ["/var/spool/postfix/private/dovecot-lmtp"]


def test_dovecot_fixture_commented_ports_mean_protocol_defaults() -> None:
    dv = service(run(dovecot_tree()), "dovecot")
    # only imap is enabled (protocols.d/imapd.protocol); pop3/submission listeners exist but are off
    assert addr_ports(dv) == {("0.0.0.0", 143), ("::", 143), ("0.0.0.0", 993), ("::", 993)}
    assert all(p.source == "default" for p in dv.ports)
    assert [d.path for d in dv.data_dirs] == ["~/Maildir"]
    paths = {f.path for f in dv.config_files}
    assert {
        "/etc/dovecot/dovecot.conf",
        "/etc/dovecot/conf.d/10-master.conf",
        "/etc/dovecot/conf.d/10-mail.conf",
    } <= paths
    assert ("/etc/dovecot/private/dovecot.key", "certs") in {(f.path, f.role) for f in dv.config_files}


def test_dovecot_explicit_port_zero_and_listen() -> None:
    files = {
        "/etc/dovecot/dovecot.conf": "protocols = imap pop3\nlisten = 127.0.0.1\n"
        "service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n"
        "  inet_listener imaps {\n    port = 10993 # custom\n  }\n}\n"
        "mail_location = mbox:~/mail:INBOX=/var/mail/%u\n",
    }
    dv = service(run(files), "dovecot")
    assert addr_ports(dv) == {("127.0.0.1", 10993), ("127.0.0.1", 110), ("127.0.0.1", 995)}
    assert {d.path for d in dv.data_dirs} == {"~/mail", "/var/mail"}


def test_dovecot_upstream_default_protocols_without_debian_split() -> None:
    dv = service(run({"/etc/dovecot/dovecot.conf": "#protocols = imap\n"}), "dovecot")
    assert {p for _, p in addr_ports(dv)} == {143, 993, 110, 995}


def test_exim4_debian_interfaces_and_smarthost() -> None:
    conf = (
        "dc_eximconfig_configtype='smarthost'\n"
        "dc_local_interfaces='127.0.0.1 ; ::1'\n"
        "dc_smarthost='relay.example.net::587'\n"
    )
    inv = run(
        {"/etc/exim4/update-exim4.conf.conf": conf, "/etc/exim4/passwd.client": "relay.example.net:me:s3cretPW\n"}
    )
    ex = service(inv, "exim4")
    assert addr_ports(ex) == {("127.0.0.1", 25), ("::1", 25)}
    assert [(d.host, d.port) for d in inv.dependencies] == [("relay.example.net", 587)]
    assert [s.key for s in ex.secrets] == ["passwd.client"] and "s3cretPW" not in repr(inv)


def test_sendmail_mc_daemon_options_and_default_msa() -> None:
    mc = (
        "dnl DAEMON_OPTIONS(`Family=inet6, Name=MTA-v6, Port=smtp, Addr=::1')dnl\n"
        "DAEMON_OPTIONS(`Family=inet,  Name=MTA-v4, Port=smtp, Addr=127.0.0.1')dnl\n"
    )
    sm = service(run({"/etc/mail/sendmail.mc": mc}), "sendmail")
    assert addr_ports(sm) == {("127.0.0.1", 25), ("0.0.0.0", 587)}


def test_no_mail_software_no_service() -> None:
    inv = run({"/etc/services": "smtp 25/tcp mail\n"})
    assert not [s for s in inv.services if s.kind == "mail"]


def test_nexthop_forms() -> None:
    assert nexthop("[smtp.example.net]:587") == ("smtp.example.net", 587, None)
    assert nexthop("smtp.example.net") == ("smtp.example.net", 25, None)
    assert nexthop("inet:127.0.0.1:10024") == ("127.0.0.1", 10024, None)
    assert nexthop("unix:private/x") == (None, None, "private/x")


def test_fixture_files_exist() -> None:
    assert Path(MDF / "etc/postfix/master.cf").is_file()


SASLAUTHD = (Path(__file__).parent / "data" / "sasl2-bin" / "saslauthd").read_text()


def test_dovecot_passdbs_are_identity_stores() -> None:
    """Debian's default (!include auth-system.conf.ext: passdb pam) is the host's accounts;
    a passwd-file added before it is not; 2.4's `passdb NAME {` defaults the driver to NAME."""
    files = dovecot_tree()
    pam = service(run(files), "dovecot").identity_stores
    assert [(x.store, x.host_accounts, x.via) for x in pam] == [("pam", True, "passdb driver")]
    assert (pam[0].evidence[0].path, pam[0].evidence[0].line) == ("/etc/dovecot/conf.d/auth-system.conf.ext", 11)
    files["/etc/dovecot/local.conf"] = (
        "passdb {\n  driver = passwd-file\n  args = scheme=CRYPT /etc/dovecot/users\n}\n"
        "protocol imap {\n  passdb shadow {\n  }\n}\n"
    )
    stores = service(run(files), "dovecot").identity_stores
    assert [(x.store, x.host_accounts, x.path) for x in stores] == [
        ("pam", True, None),
        ("passwd-file", False, "/etc/dovecot/users"),
        ("shadow", True, None),
    ]


def test_postfix_smtp_auth_through_saslauthd_and_pam() -> None:
    files = tree(*POSTFIX)
    files["/etc/postfix/main.cf"] += "smtpd_sasl_auth_enable = yes\n"
    files["/etc/postfix/sasl/smtpd.conf"] = "pwcheck_method: saslauthd\nmech_list: PLAIN LOGIN\n"
    files["/etc/default/saslauthd"] = SASLAUTHD  # as Debian's sasl2-bin ships it: MECHANISMS="pam"
    (store,) = service(run(files), "postfix").identity_stores
    assert (store.store, store.host_accounts, store.via) == ("pam", True, "saslauthd")
    assert [(e.path, e.line) for e in store.evidence] == [
        ("/etc/postfix/sasl/smtpd.conf", 1),
        ("/etc/default/saslauthd", 29),
    ]
    files["/etc/postfix/main.cf"] += "smtpd_sasl_type = dovecot\n"  # dovecot's passdb decides: recorded there
    assert service(run(files), "postfix").identity_stores == ()
    assert service(run(tree(*POSTFIX)), "postfix").identity_stores == ()  # client-side SASL only
