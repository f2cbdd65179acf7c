"""Health routes read from app code: the fixtures' real apps and the common frameworks'
spellings, and what must not count (comments, other routes, Rails' `up` outside Rails)."""

from __future__ import annotations

import pytest

from modernize.parsers.routes import health_route
from tests.helpers import FIXTURES


def test_the_fixture_apps_health_routes() -> None:
    php = (FIXTURES / "php-fpm/root/var/www/shop/public/index.php").read_text()
    django = (FIXTURES / "apache-wsgi/root/srv/wiki/src/wiki/urls.py").read_text()
    assert health_route(php) == ("/health", php.splitlines().index("if ($path === '/health') {") + 1)
    assert (health_route(django) or ("",))[0] == "/admin/login/"
    flask = (FIXTURES / "python-web/root/srv/intranet/app/wsgi.py").read_text()
    express = (FIXTURES / "node-app/root/srv/shop/server.js").read_text()
    assert health_route(flask) == ("/healthz", flask.splitlines().index('@app.get("/healthz")') + 1)
    path, line = health_route(express) or ("", 0)
    assert path == "/healthz" and "'/healthz'" in express.splitlines()[line - 1]


@pytest.mark.parametrize(
    ("code", "found"),
    [
        ('@app.route("/health")\ndef h(): ...', "/health"),
        ("@router.get('/api/v1/status')", "/api/v1/status"),
        ('urlpatterns = [path("healthz/", views.health)]', "/healthz"),
        ("router.get('/ping', ctx => { ctx.body = 'pong' })", "/ping"),
        ('  get "up" => "rails/health#show", as: :rails_health_check', "/up"),
        ("Route::get('/health', fn () => 'ok');", "/health"),  # Laravel
        ("if ($path === '/health') {", "/health"),  # a plain PHP front controller
        ('urlpatterns = [\n    path("admin/", admin.site.urls),\n]', "/admin/login/"),  # Django's admin
        ('urlpatterns = [\n    # path("admin/", admin.site.urls),\n]', None),
        ('# @app.get("/healthz")\n@app.get("/news")', None),
        ("// app.get('/health', h)\napp.get('/', index)", None),
        ('@app.get("/healthy-recipes")', None),
        ("", None),
    ],
)
def test_health_route_spellings(code: str, found: str | None) -> None:
    got = health_route(code, rails="rails" in code)
    assert (got[0] if got else None) == found


def test_up_counts_only_in_rails() -> None:
    assert health_route('get "up" => "status#show"') is None
    assert health_route('get "up" => "status#show"', rails=True) == ("/up", 1)
