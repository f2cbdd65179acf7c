"""ruby-apps: puma/unicorn units, config files, database.yml, Gemfile.lock, negatives."""

from __future__ import annotations

from detectors.ruby_apps import RubyAppsDetector
from detectors.systemd import SystemdDetector
from modernize.snapshot.memory import Content
from tests.helpers import inventory, ports

DETS = [SystemdDetector, RubyAppsDetector]
UNIT = """[Service]
User=rails
WorkingDirectory=/srv/store
Environment=RAILS_ENV=production
{env}
ExecStart={cmd}

[Install]
WantedBy=multi-user.target
"""
LOCK = """GEM
  remote: https://rubygems.org/
  specs:
    puma (6.4.2)
      nio4r (~> 2.0)
    rails (7.1.3)
    unicorn (6.1.0)

PLATFORMS
  x86_64-linux

RUBY VERSION
   ruby 3.2.2p53
"""
PUMA = """# bind "tcp://0.0.0.0:9999"
max_threads_count = ENV.fetch("RAILS_MAX_THREADS") { 5 }
port ENV.fetch("PORT") { 3000 }
workers 2
stdout_redirect "log/puma.out", "log/puma.err", true
"""
DB = """default: &default
  adapter: postgresql
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
production:
  <<: *default
  host: db.internal
  database: store
  password: <%= ENV["STORE_DB_PASSWORD"] %>
development:
  <<: *default
  host: localhost
  password: devpw
"""


def files(cmd: str, env: str = "", extra: dict[str, Content] | None = None) -> dict[str, Content]:
    out: dict[str, Content] = {
        "/etc/systemd/system/store.service": UNIT.format(cmd=cmd, env=env),
        "/srv/store/Gemfile": "source 'https://rubygems.org'\n",
        "/srv/store/Gemfile.lock": LOCK,
        "/srv/store/config/puma.rb": PUMA,
        "/srv/store/config/database.yml": DB,
    }
    out.update(extra or {})
    return out


def test_puma_with_config_and_database_yml() -> None:
    inv = inventory(DETS, files("/usr/local/bin/bundle exec puma -C config/puma.rb"))
    (svc,) = inv.services
    assert svc.id == "ruby-app:/srv/store"
    assert ports(svc) == {("0.0.0.0", 3000)}  # ENV.fetch default; the commented bind is not one
    assert svc.version is not None and svc.version.upstream == "6.4.2"
    assert (svc.framework, svc.runtime, svc.user) == ("rails", "ruby3.2", "rails")
    assert dict(svc.attributes)["workers"] == "2"
    assert {r.path for r in svc.log_paths} == {"/srv/store/log/puma.out", "/srv/store/log/puma.err"}
    # production section: the password is ERB (unknown), the development one is not read
    assert svc.secrets == ()
    (dep,) = inv.dependencies
    assert (dep.host, dep.port, dep.scheme) == ("db.internal", 5432, "postgresql")


def test_cli_bind_and_port_env() -> None:
    (svc,) = inventory(DETS, files("/usr/bin/bundle exec puma -b unix:///run/store.sock")).services
    assert {p.socket for p in svc.ports} == {"/run/store.sock"}
    (svc,) = inventory(DETS, files("/usr/bin/bundle exec puma", env="Environment=PORT=4100")).services
    assert ports(svc) == {("0.0.0.0", 4100)}


def test_database_url_wins_and_dev_secret() -> None:
    env = "Environment=RAILS_ENV=development\nEnvironment=DATABASE_URL=postgres://u:p@pg.example.com/store"
    inv = inventory(DETS, files("/usr/bin/bundle exec rails server -p 3100", env=env))
    (svc,) = inv.services
    assert {s.key for s in svc.secrets} == {"development.password", "DATABASE_URL"}
    assert {(d.via, d.host) for d in inv.dependencies} == {("DATABASE_URL", "pg.example.com")}


def test_unicorn_and_sidekiq() -> None:
    conf = {"/srv/store/config/unicorn.rb": 'listen "127.0.0.1:8081"\n# listen 9\nworker_processes 3\n'}
    (svc,) = inventory(
        DETS, files("/usr/bin/bundle exec unicorn -c config/unicorn.rb -E production", extra=conf)
    ).services
    assert ports(svc) == {("127.0.0.1", 8081)} and svc.version is not None and svc.version.upstream == "6.1.0"
    (svc,) = inventory(DETS, files("/usr/bin/bundle exec sidekiq -C config/sidekiq.yml")).services
    assert (svc.software, svc.kind, svc.ports) == ("sidekiq", "worker", ())


def test_negatives() -> None:
    inv = inventory(DETS, files("/usr/bin/bundle exec rake jobs:work"))
    assert not inv.services
    inv = inventory(DETS, {"/srv/store/Gemfile.lock": LOCK})
    assert not inv.services


def test_gems_are_typed_libraries_and_the_plan_bundles_them() -> None:
    from modernize.plan.images import load_images
    from modernize.plan.planner import Options, plan

    inv = inventory(DETS, files("/usr/local/bin/bundle exec puma -C config/puma.rb"))
    (svc,) = inv.services
    assert {(lib.ecosystem, lib.name, lib.version) for lib in svc.libraries} == {
        ("gem", "puma", "6.4.2"),
        ("gem", "rails", "7.1.3"),
        ("gem", "unicorn", "6.1.0"),
    }
    (sp,) = plan(inv, load_images(), Options()).services
    assert sp.strategy == "official" and sp.image == "ruby:3.2-bookworm", sp.image
    assert any("bundle install" in line and "deployment true" in line for line in sp.install)
    assert sp.command == ("/usr/local/bin/bundle", "exec", "puma", "-C", "config/puma.rb")
    assert sp.user == "rails" and sp.workdir == "/srv/store"


# config/secrets.yml as `rails new` wrote it before Rails 5.2 (comments shortened), with a key
# an admin added to production by hand
SECRETS_YML = """# Be sure to restart your server when you modify this file.
shared:
  api_host: https://api.example.com

development:
  secret_key_base: CANARYdevKeyBase0d1e2f

# Do not keep production secrets in the unencrypted secrets file.
production:
  secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>
  stripe_api_key: CANARYstripeProd-7Kq2
  # old_token: CANARYcommented
  empty_one: ""
"""
MASTER = "CANARY0123456789abcdef0123456789\n"


def test_rails_credential_files() -> None:
    extra: dict[str, Content] = {
        "/srv/store/config/master.key": MASTER,
        "/srv/store/config/credentials.yml.enc": "CANARYencrypted--iv--tag\n",
        "/srv/store/config/credentials/production.key": "CANARYprodKey0123456789abcdef012\n",
        "/srv/store/config/credentials/production.yml.enc": "CANARYencProd--iv--tag\n",
        "/srv/store/config/credentials/staging.key": "   \n",  # empty: not a secret
        "/srv/store/config/secrets.yml": SECRETS_YML,
    }
    inv = inventory(DETS, files("/usr/local/bin/bundle exec puma -C config/puma.rb", extra=extra))
    (svc,) = inv.services
    got = sorted((s.key, s.path, s.line, s.kind) for s in svc.secrets)
    assert got == [
        ("master.key", "/srv/store/config/master.key", None, "key"),
        ("production.key", "/srv/store/config/credentials/production.key", None, "key"),
        ("production.stripe_api_key", "/srv/store/config/secrets.yml", 11, "key"),
    ]
    # not secrets: the ERB value, the commented line, the empty string, shared's api_host (not
    # a secret's name), the empty staging key, and the development section
    assert svc.secrets[0].fingerprint != svc.secrets[1].fingerprint
    cfg = {r.path for r in svc.config_files}
    assert {"/srv/store/config/credentials.yml.enc", "/srv/store/config/credentials/production.yml.enc"} <= cfg
    assert "CANARY" not in repr(inv)


def test_secrets_yml_that_does_not_parse_is_a_finding() -> None:
    extra: dict[str, Content] = {"/srv/store/config/secrets.yml": "production:\n  key: [unclosed\n"}
    inv = inventory(DETS, files("/usr/local/bin/bundle exec puma", extra=extra))
    assert any(f.path == "/srv/store/config/secrets.yml" for f in inv.findings)
    (svc,) = inv.services
    assert svc.secrets == ()
