"""Mail servers: postfix, exim4 (Debian), sendmail and dovecot.

Each is read by its own rules (see modernize/parsers/postfix.py and dovecot.py):
* postfix: master.cf `inet` services are the listeners (`smtp` 25, `submission` 587,
  `smtps` 465, `host:port` forms, commented lines are not services), bound to
  main.cf `inet_interfaces` x `inet_protocols`; `relayhost`, `content_filter`,
  `*_transport` and milters are endpoints; `*_maps` lookup tables are config,
  except SASL password maps, whose entries are secrets (never their values);
* exim4: Debian's update-exim4.conf.conf `dc_local_interfaces` (`ip.port` and
  `[ip]:port` forms) and `daemon_smtp_ports` macros, `dc_smarthost` (`host::port`),
  passwd.client entries as secrets;
* sendmail: the compiled sendmail.cf `O DaemonPortOptions=` (what the daemon reads),
  else sendmail.mc `DAEMON_OPTIONS` (with m4's default MSA on 587), `SMART_HOST`;
* dovecot: `protocols` (Debian's default is empty, each `protocols.d/*.protocol`
  adds one), per-service `inet_listener` blocks over the built-in defaults (imap 143,
  imaps 993, pop3 110, pop3s 995, submission 587, sieve 4190; `port = 0` disables),
  `listen` (default `*, ::`), `mail_location` as the mail store; each `passdb` (its
  `driver`, default its name in 2.4) is an identity store, pam/shadow/passwd the host's accounts;
* SMTP AUTH: postfix `smtpd_sasl_auth_enable` with Cyrus SASL's `pwcheck_method: saslauthd`
  and saslauthd's MECHANISMS is an identity store too.
Log files come from the syslog `mail` facility (rsyslog) unless the daemon logs itself.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, IdentityStore, Port, file_ref
from modernize.parsers import dovecot as dv
from modernize.parsers import postfix as pf
from modernize.parsers import rsyslog
from modernize.parsers.shell import assignments
from modernize.secrets import make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

KNOWN_PORTS = {"smtp": 25, "submission": 587, "smtps": 465, "submissions": 465, "lmtp": 24, "ssmtp": 465}
SECRET_MAPS = ("smtp_sasl_password_maps", "lmtp_sasl_password_maps")
FILE_MAPS = {"hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "texthash", "regexp", "pcre", "cidr"}
CONF_MAPS = {"mysql", "pgsql", "ldap", "sqlite", "memcache"}
ENDPOINT_PARAMS = (
    "relayhost",
    "smtp_fallback_relay",
    "content_filter",
    "relay_transport",
    "default_transport",
    "mailbox_transport",
    "virtual_transport",
    "local_transport",
    "smtpd_milters",
    "non_smtpd_milters",
)
# dovecot passdb drivers that check the host's own accounts (bsdauth: OpenBSD's login.conf)
HOST_PASSDBS = {"pam", "shadow", "passwd", "bsdauth"}
DOVECOT_DEFAULTS: dict[str, tuple[str, dict[str, int]]] = {
    "imap-login": ("imap", {"imap": 143, "imaps": 993}),
    "pop3-login": ("pop3", {"pop3": 110, "pop3s": 995}),
    "submission-login": ("submission", {"submission": 587}),
    "managesieve-login": ("sieve", {"sieve": 4190}),
    "lmtp": ("lmtp", {}),
}


def services_port(text: str | None, name: str) -> int | None:
    """services(5): `name port/proto [aliases...]`."""
    if name.isdigit():
        return int(name)
    for line in (text or "").splitlines():
        f = line.split("#", 1)[0].split()
        if len(f) >= 2 and "/" in f[1] and f[1].endswith("/tcp") and name in (f[0], *f[2:]):
            num = f[1].split("/")[0]
            return int(num) if num.isdigit() else None
    return KNOWN_PORTS.get(name)


def exim_list(value: str) -> list[str]:
    """Debian's dc_local_interfaces is `;`-separated; an exim list is `:`-separated with `::`
    standing for a literal colon (so IPv6 addresses double theirs); `<;` changes the separator."""
    v = value.strip().removeprefix("<;")
    if ";" in value:
        return [x.strip() for x in v.split(";") if x.strip()]
    return [x.strip().replace("\0", ":") for x in v.replace("::", "\0").split(":") if x.strip()]


def wildcards(protocols: str) -> list[str]:
    p = set(pf.split_list(protocols.lower()))
    if "all" in p or not p:
        return ["0.0.0.0", "::"]
    return [a for proto, a in (("ipv4", "0.0.0.0"), ("ipv6", "::")) if proto in p]


def nexthop(value: str) -> tuple[str | None, int | None, str | None]:
    """`[host]:port`, `host:port`, `host`, `inet:host:port`, `unix:path` -> (host, port, socket)."""
    v = value.strip()
    if v.startswith("unix:"):
        return None, None, v[5:]
    v = v.removeprefix("inet:")
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", v)
    if m:
        return m.group(1), int(m.group(2)) if m.group(2) else 25, None
    host, sep, port = v.rpartition(":")
    if sep and port.isdigit():
        return host, int(port), None
    return (v, 25, None) if v else (None, None, None)


class MailDetector(Detector):
    name = "mail"
    tags = ("service", "mail")
    requires = ("systemd", "sysv")
    reads = whole(
        "/etc/postfix/main.cf",
        "/etc/postfix/master.cf",
        "/etc/services",
        "/etc/exim4/update-exim4.conf.conf",
        "/etc/exim4/exim4.conf.localmacros",
        "/etc/exim4/conf.d/main/*",
        "/etc/exim4/passwd.client",
        "/etc/default/exim4",
        "/etc/mail/sendmail.mc",
        "/etc/mail/sendmail.cf",
        "/etc/mail/authinfo",
        "/etc/postfix/sasl/*.conf",
        "/etc/sasl2/*.conf",
        "/usr/lib/sasl2/*.conf",
        "/etc/default/saslauthd",
        "/etc/sysconfig/saslauthd",
        "/etc/dovecot/**",
        "/usr/share/dovecot/protocols.d/*",
        "/etc/rsyslog.conf",
        "/etc/rsyslog.d/*",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        self._syslog: rsyslog.RsyslogConfig | None = None
        if snap.is_file("/etc/postfix/main.cf"):
            self._postfix(snap, found)
        if snap.is_file("/etc/exim4/update-exim4.conf.conf"):
            self._exim(snap, found)
        if snap.is_file("/etc/mail/sendmail.cf") or snap.is_file("/etc/mail/sendmail.mc"):
            self._sendmail(snap, found)
        if snap.is_file("/etc/dovecot/dovecot.conf"):
            self._dovecot(snap, found)

    # -- shared ---------------------------------------------------------------------
    def _mail_logs(self, snap: Snapshot) -> list[FileRef]:
        if self._syslog is None:
            self._syslog = rsyslog.parse("/etc/rsyslog.conf", snap.text, snap.glob, snap.want)
        return [
            FileRef(a.target, "logs", evidence=(Evidence("config", a.path, a.line, excerpt=a.text, via=a.via),))
            for a in self._syslog.files_for("mail")
            if a.target
        ]

    # -- postfix --------------------------------------------------------------------
    def _postfix(self, snap: Snapshot, found: Found) -> None:
        main, master = "/etc/postfix/main.cf", "/etc/postfix/master.cf"
        params = pf.parse_main(snap.text(main) or "")
        services = pf.parse_master(snap.text(master) or "")
        etc_services = snap.text("/etc/services")
        sf = ServiceFacts(
            software="postfix",
            kind="mail",
            packages=["postfix"],
            units=["postfix.service", "postfix@-.service", "postfix"],
            binaries=["/usr/lib/postfix/sbin/master", "/usr/libexec/postfix/master"],
            evidence=[Evidence("file", main)],
        )
        sf.config_files += [file_ref(main, "config")]
        if snap.exists(master):
            sf.config_files.append(file_ref(master, "config"))

        def pev(name: str) -> Evidence:
            p = params.get(name)
            if p is None:
                return Evidence("default", detail=f"postfix {name} default: {pf.DEFAULTS.get(name, '')}")
            return Evidence("config", main, p.line, excerpt=p.text)

        interfaces = pf.split_list(pf.get(params, "inet_interfaces").lower())
        protocols = pf.get(params, "inet_protocols")
        for svc in services:
            if svc.type != "inet":
                continue
            host, port_name = svc.host_port
            port = services_port(etc_services, port_name)
            if port is None:
                continue
            ev = Evidence("config", master, svc.line, excerpt=svc.text)
            if host:
                addrs = [host.strip("[]")]
                evs: tuple[Evidence, ...] = (ev,)
            else:
                addrs = self._postfix_addrs(svc.option("inet_interfaces") or " ".join(interfaces), protocols)
                evs = (ev, pev("inet_interfaces"), pev("inet_protocols"))
            sf.ports += [Port(port, "tcp", a, evidence=evs) for a in addrs]
            sf.attributes.setdefault("smtpd_services", "")
            sf.attributes["smtpd_services"] = " ".join(x for x in (sf.attributes["smtpd_services"], svc.service) if x)
        queue = pf.get(params, "queue_directory")
        sf.data_dirs.append(FileRef(queue, "data", evidence=(pev("queue_directory"),)))
        sf.data_dirs.append(FileRef(pf.get(params, "data_directory"), "data", evidence=(pev("data_directory"),)))
        maillog = pf.get(params, "maillog_file")
        if maillog.startswith("/"):
            sf.log_paths.append(FileRef(maillog, "logs", evidence=(pev("maillog_file"),)))
        else:
            sf.log_paths += self._mail_logs(snap)
        for name in ("myhostname", "mydestination", "inet_interfaces", "inet_protocols", "relayhost", "mynetworks"):
            if name in params:
                sf.attributes[name] = pf.get(params, name)
        self._postfix_endpoints(sf, params, queue)
        self._postfix_maps(snap, sf, params)
        sf.identity_stores += self._postfix_sasl(snap, params)
        found.add(sf)

    @staticmethod
    def _postfix_sasl(snap: Snapshot, params: dict[str, pf.Param]) -> list[IdentityStore]:
        """SMTP AUTH through Cyrus SASL (`smtpd_sasl_type` cyrus, the default): the
        `smtpd_sasl_path` application's config (Debian /etc/postfix/sasl/, RHEL /etc/sasl2/)
        says `pwcheck_method: saslauthd`, whose MECHANISMS (Debian /etc/default/saslauthd,
        RHEL MECH= in /etc/sysconfig/saslauthd) say which store: pam or shadow are the host's
        accounts. A dovecot SASL type checks dovecot's passdb, recorded on dovecot."""
        if pf.get(params, "smtpd_sasl_auth_enable").lower() != "yes":
            return []
        if (pf.get(params, "smtpd_sasl_type") or "cyrus") != "cyrus":
            return []
        name = pf.get(params, "smtpd_sasl_path") or "smtpd"
        for conf in (f"/etc/postfix/sasl/{name}.conf", f"/etc/sasl2/{name}.conf", f"/usr/lib/sasl2/{name}.conf"):
            text = snap.text(conf) if snap.is_file(conf) else None
            if text is None:
                continue
            for no, raw in enumerate(text.splitlines(), 1):
                key, sep, value = raw.partition(":")
                if not sep or key.strip() != "pwcheck_method" or "saslauthd" not in value.split():
                    continue
                ev = Evidence("config", conf, no, excerpt=raw.strip())
                for default, var in (("/etc/default/saslauthd", "MECHANISMS"), ("/etc/sysconfig/saslauthd", "MECH")):
                    for mno, k, v in assignments(snap.text(default) or ""):
                        if k == var:
                            mev = Evidence("config", default, mno, excerpt=f"{k}={v}")
                            return [
                                IdentityStore(mech, mech in ("pam", "shadow"), "saslauthd", default, (ev, mev))
                                for mech in v.split()
                            ]
                return [IdentityStore("saslauthd", False, "pwcheck_method", conf, (ev,))]
        return []

    @staticmethod
    def _postfix_addrs(interfaces: str, protocols: str) -> list[str]:
        out: list[str] = []
        for item in pf.split_list(interfaces.lower()):
            if item == "all":
                out += wildcards(protocols)
            elif item in ("loopback-only", "localhost"):
                out += ["127.0.0.1" if a == "0.0.0.0" else "::1" for a in wildcards(protocols)]
            else:
                out.append(item.strip("[]"))
        return list(dict.fromkeys(out))

    @staticmethod
    def _postfix_endpoints(sf: ServiceFacts, params: dict[str, pf.Param], queue: str) -> None:
        for name in ENDPOINT_PARAMS:
            p = params.get(name)
            if p is None:
                continue
            ev = (Evidence("config", "/etc/postfix/main.cf", p.line, excerpt=p.text),)
            for item in pf.split_list(pf.expand(p.value, params)):
                if name == "relayhost" or name == "smtp_fallback_relay":
                    scheme, hop = "smtp", item
                elif name.endswith("milters"):
                    scheme, hop = "milter", item
                else:
                    scheme, _, hop = item.partition(":")
                    if not hop:
                        continue  # a transport name alone: delivered by master.cf, not a host
                host, port, sock = nexthop(hop)
                if sock:
                    path = sock if sock.startswith("/") else P.join(queue, sock)
                    sf.endpoints.append(Endpoint(name, None, None, scheme, path, ev))
                elif host:
                    sf.endpoints.append(Endpoint(name, host, port, scheme, None, ev))

    def _postfix_maps(self, snap: Snapshot, sf: ServiceFacts, params: dict[str, pf.Param]) -> None:
        files: list[tuple[str, str, str, pf.Param]] = []
        for name, p in params.items():
            if not (name.endswith("_maps") or name in ("alias_database", "smtpd_sender_login_maps")):
                continue
            for typ, path in pf.map_refs(pf.expand(p.value, params)):
                if path.startswith("/") and (typ in FILE_MAPS or typ in CONF_MAPS):
                    files.append((name, typ, path, p))
        snap.want(sorted({f[2] for f in files}))
        for name, typ, path, p in files:
            ev = Evidence("config", "/etc/postfix/main.cf", p.line, excerpt=p.text)
            if name in SECRET_MAPS:
                sf.attributes["secret_files"] = " ".join(
                    dict.fromkeys([*sf.attributes.get("secret_files", "").split(), path])
                )
                text = snap.text(path)
                for no, line in enumerate((text or "").splitlines(), 1):
                    f = line.split(None, 1)
                    if not f or f[0].startswith("#") or len(f) < 2:
                        continue
                    password = f[1].strip().partition(":")[2]
                    sf.secrets.append(make_secret(name, password or f[1].strip(), path, no, kind="password"))
                continue
            if typ in CONF_MAPS:
                self._map_conf(snap, sf, path, ev)
            elif not any(r.path == path for r in sf.config_files):
                sf.config_files.append(FileRef(path, "config", evidence=(ev,)))

    @staticmethod
    def _map_conf(snap: Snapshot, sf: ServiceFacts, path: str, ev: Evidence) -> None:
        """mysql:/pgsql:/ldap: table configs: `password = ` is a secret, `hosts =` endpoints."""
        sf.config_files.append(FileRef(path, "config", evidence=(ev,)))
        for no, line in pf.logical_lines(snap.text(path) or ""):
            key, sep, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if not sep:
                continue
            if key in ("password", "bind_pw"):
                sf.secrets.append(make_secret(key, value, path, no, kind="password"))
            elif key in ("hosts", "server_host"):
                for h in pf.split_list(value):
                    host, port, sock = nexthop(h.removeprefix("ldap://").removeprefix("ldaps://"))
                    sf.endpoints.append(
                        Endpoint(
                            key,
                            host if not sock else None,
                            None if sock else port,
                            None,
                            sock,
                            (Evidence("config", path, no, excerpt=f"{key} = {value}"),),
                        )
                    )

    # -- exim4 ----------------------------------------------------------------------
    def _exim(self, snap: Snapshot, found: Found) -> None:
        conf = "/etc/exim4/update-exim4.conf.conf"
        values = {k: (no, v) for no, k, v in assignments(snap.text(conf) or "")}
        sf = ServiceFacts(
            software="exim4",
            kind="mail",
            packages=["exim4-daemon-light", "exim4-daemon-heavy", "exim4-base", "exim4"],
            units=["exim4.service", "exim4"],
            binaries=["/usr/sbin/exim4"],
            config_files=[file_ref(conf, "config")],
            data_dirs=[FileRef("/var/spool/exim4", "data", evidence=(Evidence("default", detail="exim4 spool"),))],
            log_paths=[FileRef("/var/log/exim4/mainlog", "logs", evidence=(Evidence("default", detail="exim4 log"),))],
            evidence=[Evidence("file", conf)],
        )
        ports, port_ev = self._exim_ports(snap)
        no, ifaces = values.get("dc_local_interfaces", (0, ""))
        items = exim_list(ifaces)
        if not items:
            ev = Evidence("default", detail="exim listens on all interfaces when dc_local_interfaces is empty")
            sf.ports = [Port(p, "tcp", a, evidence=(ev, port_ev)) for p in ports for a in ("0.0.0.0", "::")]
        for item in items:
            ev = Evidence("config", conf, no, excerpt=f"dc_local_interfaces='{ifaces}'")
            m = re.fullmatch(r"\[([^\]]+)\]:(\d+)", item) or re.fullmatch(r"(\d+\.\d+\.\d+\.\d+)\.(\d+)", item)
            if m:
                sf.ports.append(Port(int(m.group(2)), "tcp", m.group(1), evidence=(ev,)))
            else:
                sf.ports += [Port(p, "tcp", item.strip("[]"), evidence=(ev, port_ev)) for p in ports]
        no, smarthost = values.get("dc_smarthost", (0, ""))
        for hop in (x for x in smarthost.split(" : ") if x.strip()) if smarthost else ():
            host, _, port = hop.strip().partition("::")
            sf.endpoints.append(
                Endpoint(
                    "dc_smarthost",
                    host.strip("[]"),
                    int(port) if port.isdigit() else 25,
                    "smtp",
                    None,
                    (Evidence("config", conf, no, excerpt=f"dc_smarthost='{smarthost}'"),),
                )
            )
        pw = "/etc/exim4/passwd.client"
        for no2, line in enumerate((snap.text(pw) or "").splitlines(), 1):
            s = line.strip()
            if s and not s.startswith("#") and s.count(":") >= 2:
                sf.secrets.append(make_secret("passwd.client", s.rsplit(":", 1)[1], pw, no2, kind="password"))
        for key in ("dc_eximconfig_configtype", "dc_other_hostnames", "dc_relay_nets"):
            if values.get(key, (0, ""))[1]:
                sf.attributes[key] = values[key][1]
        found.add(sf)

    @staticmethod
    def _exim_ports(snap: Snapshot) -> tuple[list[int], Evidence]:
        """daemon_smtp_ports / DAEMON_SMTP_PORTS macro, `-oX` in SMTPLISTENEROPTIONS; default smtp (25)."""
        for path in ["/etc/default/exim4"]:
            for no, k, v in assignments(snap.text(path) or ""):
                m = re.search(r"-oX\s+(\S+)", v) if k == "SMTPLISTENEROPTIONS" else None
                if m:
                    ports = [int(x) for x in re.split(r"[:,]", m.group(1)) if x.isdigit()]
                    return ports, Evidence("config", path, no, excerpt=f"{k}={v}")
        for path in ["/etc/exim4/exim4.conf.localmacros", *snap.glob("/etc/exim4/conf.d/main/*")]:
            for no, raw in enumerate((snap.text(path) or "").splitlines(), 1):
                m = re.match(r"^\s*(?:daemon_smtp_ports|DAEMON_SMTP_PORTS)\s*=\s*(.+)$", raw)
                if m:
                    etc = snap.text("/etc/services")
                    found_ports = [services_port(etc, x.strip()) for x in m.group(1).split(":")]
                    return [p for p in found_ports if p], Evidence("config", path, no, excerpt=raw.strip())
        return [25], Evidence("default", detail="exim's daemon_smtp_ports default is smtp (25)")

    # -- sendmail -------------------------------------------------------------------
    def _sendmail(self, snap: Snapshot, found: Found) -> None:
        cf, mc = "/etc/mail/sendmail.cf", "/etc/mail/sendmail.mc"
        sf = ServiceFacts(
            software="sendmail",
            kind="mail",
            packages=["sendmail", "sendmail-bin"],
            units=["sendmail.service", "sendmail"],
            binaries=["/usr/sbin/sendmail-mta", "/usr/sbin/sendmail"],
            data_dirs=[FileRef("/var/spool/mqueue", "data", evidence=(Evidence("default", detail="sendmail queue"),))],
            evidence=[Evidence("file", cf if snap.exists(cf) else mc)],
        )
        etc = snap.text("/etc/services")
        options: list[tuple[str, Evidence]] = []
        smart: list[tuple[str, Evidence]] = []
        if snap.is_file(cf):
            sf.config_files.append(file_ref(cf, "config"))
            for no, raw in enumerate((snap.text(cf) or "").splitlines(), 1):
                if raw.startswith("O DaemonPortOptions="):
                    options.append((raw.split("=", 1)[1], Evidence("config", cf, no, excerpt=raw.strip())))
                elif raw.startswith("DS") and len(raw) > 2:
                    smart.append((raw[2:].strip(), Evidence("config", cf, no, excerpt=raw.strip())))
        elif snap.is_file(mc):
            text = snap.text(mc) or ""
            sf.config_files.append(file_ref(mc, "config"))
            live = [(no, re.sub(r"\bdnl\b.*$", "", raw)) for no, raw in enumerate(text.splitlines(), 1)]
            for no, line in live:
                for m in re.finditer(r"DAEMON_OPTIONS\(\s*`([^']*)'", line):
                    options.append((m.group(1), Evidence("config", mc, no, excerpt=line.strip())))
                m2 = re.search(r"define\(\s*`SMART_HOST'\s*,\s*`([^']*)'", line)
                if m2:
                    smart.append((m2.group(1), Evidence("config", mc, no, excerpt=line.strip())))
            if not options:
                ev = Evidence("default", detail="sendmail's MTA listens on smtp (25) without DAEMON_OPTIONS")
                options.append(("Port=smtp, Name=MTA", ev))
            if not any("no_default_msa" in line for _, line in live) and not any("MSA" in o for o, _ in options):
                ev = Evidence("default", detail="sendmail.mc adds an MSA on 587 unless FEATURE(no_default_msa)")
                options.append(("Port=submission, Name=MSA, M=Ea", ev))
        for opt, ev in options:
            kv = {k.strip().lower(): v.strip() for k, _, v in (x.partition("=") for x in opt.split(","))}
            port = services_port(etc, kv.get("port", "smtp")) or 25
            family = kv.get("family", "inet").lower()
            addr = kv.get("addr") or ("::" if family == "inet6" else "0.0.0.0")
            sf.ports.append(Port(port, "tcp", addr, evidence=(ev,)))
        for value, ev in smart:
            host, hop_port, _ = nexthop(
                value.split(":", 1)[-1] if value.startswith(("relay:", "smtp:", "esmtp:")) else value
            )
            if host:
                sf.endpoints.append(Endpoint("SMART_HOST", host, hop_port, "smtp", None, (ev,)))
        auth = "/etc/mail/authinfo"
        for no, line in enumerate((snap.text(auth) or "").splitlines(), 1):
            pm = re.search(r'"P:([^"]*)"', line)
            if pm and not line.lstrip().startswith("#"):
                sf.secrets.append(make_secret("authinfo", pm.group(1), auth, no, kind="password"))
        sf.log_paths += self._mail_logs(snap)
        found.add(sf)

    # -- dovecot --------------------------------------------------------------------
    def _dovecot(self, snap: Snapshot, found: Found) -> None:
        main = "/etc/dovecot/dovecot.conf"
        conf = dv.parse(main, snap.text, snap.glob, snap.want)
        if conf is None:
            return
        for path, where in conf.missing:
            found.unparsable(path, f"!include target missing ({where})")
        sf = ServiceFacts(
            software="dovecot",
            kind="mail",
            packages=["dovecot-core", "dovecot"],
            units=["dovecot.service", "dovecot.socket", "dovecot"],
            binaries=["/usr/sbin/dovecot"],
            evidence=[Evidence("file", main)],
        )
        for path, via in conf.files:
            sf.config_files.append(FileRef(path, "config", evidence=(Evidence("config", path, via=via),)))
        values = self._dovecot_globals(conf, snap.is_dir("/usr/share/dovecot/protocols.d"))
        protocols = set(values["protocols"][0].split())
        # each protocol's server comes in its own package (dovecot-imapd, -pop3d, -lmtpd,
        # -managesieved): an image needs them as much as dovecot-core
        sf.packages.extend(f"dovecot-{'managesieve' if p == 'sieve' else p}d" for p in sorted(protocols))
        sf.attributes["protocols"] = " ".join(sorted(protocols))
        listen, listen_ev = values["listen"]
        self._dovecot_ports(sf, conf, protocols, listen, listen_ev)
        loc, loc_ev = values["mail_location"]
        for d in self._mail_dirs(loc):
            sf.data_dirs.append(FileRef(d, "data", evidence=(loc_ev,)))
        if loc:
            sf.attributes["mail_location"] = loc
        for s in conf.root.settings:
            if s.from_file and s.key in ("ssl_cert", "ssl_key", "ssl_ca", "ssl_dh"):
                sf.config_files.append(FileRef(s.value, "certs", evidence=(self._sev(s),)))
        log, log_ev = values["log_path"]
        if log.startswith("/"):
            sf.log_paths.append(FileRef(log, "logs", evidence=(log_ev,)))
        else:
            sf.log_paths += self._mail_logs(snap)
        sf.identity_stores += self._passdbs(conf.root)
        found.add(sf)

    @classmethod
    def _passdbs(cls, sec: dv.Section) -> list[IdentityStore]:
        """Every `passdb { driver = ... }`, at the top level or inside a `protocol` block
        (Dovecot 2.4 writes `passdb NAME {`, the driver defaulting to the name)."""
        out: list[IdentityStore] = []
        for child in sec.sections:
            if child.type == "protocol":
                out += cls._passdbs(child)
            if child.type != "passdb":
                continue
            driver = child.get("driver")
            name = driver.value if driver else child.name
            if not name:
                continue
            if driver:
                ev = cls._sev(driver)
            else:
                ev = Evidence("config", child.path, child.line, excerpt=f"passdb {child.name} {{", via=child.via)
            args = child.get("args") or child.get("passwd_file_path")
            path = next((w for w in (args.value.split() if args else []) if w.startswith("/")), None)
            out.append(IdentityStore(name, name in HOST_PASSDBS, "passdb driver", path, (ev,)))
        return out

    @staticmethod
    def _sev(s: dv.Setting) -> Evidence:
        return Evidence("config", s.path, s.line, excerpt=f"{s.key} = {'<' if s.from_file else ''}{s.value}", via=s.via)

    def _dovecot_globals(self, conf: dv.DovecotConf, debian: bool) -> dict[str, tuple[str, Evidence]]:
        """Top-level settings in file order, with `$name` expanded from the value so far."""
        values: dict[str, tuple[str, Evidence]] = {
            "protocols": (
                "" if debian else "imap pop3 lmtp",
                Evidence(
                    "default",
                    detail="Debian builds dovecot with empty default protocols"
                    if debian
                    else "dovecot's default protocols",
                ),
            ),
            "listen": ("*, ::", Evidence("default", detail="dovecot listens on `*, ::` unless listen= is set")),
            "mail_location": ("", Evidence("default", detail="no mail_location: dovecot autodetects")),
            "log_path": ("syslog", Evidence("default", detail="dovecot logs to syslog by default")),
        }
        for s in conf.root.settings:
            expanded = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", lambda m: values.get(m.group(1), ("", None))[0], s.value)
            values[s.key] = (expanded.strip(), self._sev(s))
        return values

    def _dovecot_ports(
        self, sf: ServiceFacts, conf: dv.DovecotConf, protocols: set[str], listen: str, listen_ev: Evidence
    ) -> None:
        services: dict[str, list[dv.Section]] = {}
        for sec in conf.root.children("service"):
            services.setdefault(sec.name, []).append(sec)
        for name in sorted(set(services) | set(DOVECOT_DEFAULTS)):
            proto, defaults = DOVECOT_DEFAULTS.get(name, ("", {}))
            secs = services.get(name, [])
            for sec in secs:
                p = sec.get("protocol")
                if p is not None:
                    proto = p.value
            if proto and proto not in protocols:
                continue
            listeners: dict[str, dict[str, tuple[str, Evidence]]] = {
                ln: {"port": (str(port), Evidence("default", detail=f"dovecot {name} listener {ln}: port {port}"))}
                for ln, port in defaults.items()
            }
            for sec in secs:
                for lsec in sec.children("inet_listener"):
                    cur = listeners.setdefault(lsec.name or f"@{lsec.line}", {})
                    cur.setdefault(
                        "_at",
                        (
                            "",
                            Evidence(
                                "config", lsec.path, lsec.line, excerpt=f"inet_listener {lsec.name} {{", via=lsec.via
                            ),
                        ),
                    )
                    for s in lsec.settings:
                        cur[s.key] = (s.value, self._sev(s))
                for usec in sec.children("unix_listener"):
                    if usec.name.startswith("/") or (name == "lmtp" and proto in protocols):
                        path = usec.name if usec.name.startswith("/") else P.join("/run/dovecot", usec.name)
                        ev = Evidence("config", usec.path, usec.line, excerpt=f"unix_listener {usec.name} {{")
                        sf.ports.append(Port(None, "unix", socket=path, evidence=(ev,)))
            for _ln, opts in sorted(listeners.items()):
                port_s, port_ev = opts.get("port", ("", listen_ev))
                if not port_s.isdigit() or int(port_s) == 0:
                    continue
                addr_s, addr_ev = opts.get("address", (listen, listen_ev))
                evs = tuple(e for e in (opts.get("_at", ("", None))[1], port_ev, addr_ev) if e is not None)
                source = "default" if port_ev.kind == "default" else "configured"
                for a in self._addresses(addr_s):
                    sf.ports.append(Port(int(port_s), "tcp", a, source=source, evidence=evs))

    @staticmethod
    def _addresses(value: str) -> list[str]:
        out = []
        for a in re.split(r"[\s,]+", value.strip()):
            if not a:
                continue
            out.append("0.0.0.0" if a == "*" else ("::" if a in ("::", "[::]") else a.strip("[]")))
        return list(dict.fromkeys(out))

    @staticmethod
    def _mail_dirs(location: str) -> list[str]:
        """`maildir:~/Maildir`, `mbox:~/mail:INBOX=/var/mail/%u`: the store and its extra dirs,
        cut before the first per-user `%` part."""
        if not location:
            return []
        parts = location.split(":")
        if len(parts) > 1 and re.fullmatch(r"[a-z0-9]+", parts[0]):
            parts = parts[1:]
        out = []
        for i, part in enumerate(parts):
            value = part.split("=", 1)[1] if "=" in part and i > 0 else part
            if i > 0 and "=" not in part:
                continue
            cut = value.split("%", 1)[0]
            cut = cut.rstrip("/") if "%" in value else value
            if cut and (cut.startswith("/") or cut.startswith("~")):
                out.append(cut)
        return list(dict.fromkeys(out))
