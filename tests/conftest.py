"""Fixtures: every test that touches the database runs once on SQLite and once on PostgreSQL.

PostgreSQL runs when TEST_DATABASE_URL names a server: the suite creates its own database there (so
parallel runs never meet), migrates it once, and empties every table before each test. Each test
gets its own SQLite file, copied from one migrated template. With REQUIRE_TEST_SERVICES=1 (CI), a
missing service fails the run instead of skipping.

Under pytest-xdist (`make test` runs the suite on several workers) every "once" above is once per
worker: session fixtures live in the worker's process and its own temporary folder, so each worker
has its own PostgreSQL database and SQLite template. What lives outside the process is named per
worker too: Redis keys and channels (RUN_NAMESPACE), each app's instance folder (a per-test one),
server ports (port 0). See also helpers/log_guard.py, which reports the workers' findings at the end.
"""

import os
import re
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from petition import create_app
from petition.extensions import db
from petition.models import Base

pytest_plugins = [
    "tests.helpers.fixtures",
    "tests.helpers.log_guard",
    "tests.helpers.servers",
    "tests.helpers.partners",
    "tests.helpers.organisers",
    "tests.helpers.catalogues",
    "tests.helpers.routes",
]

REQUIRE_SERVICES = os.environ.get("REQUIRE_TEST_SERVICES") == "1"
# This process's names in shared services (Redis): parallel workers, and runs of other checkouts on
# the same server, never count each other's rate-limit hits or hear each other's live updates.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN_NAMESPACE = f"petition-test-{WORKER}-{uuid.uuid4().hex[:8]}"
TEST_KEYS = {
    "SECRET_KEY": "test-secret-key",
    "DATA_KEYS": "q0Tz0bRrp2m5gdGyvCZ_4f0C0hO0b4cCLNAsZ4h7T8c=",
    "HASH_KEY": "test-hash-key",
    # Bursts in tests come from one address; tests of the limits themselves set their own.
    "SIGN_RATE_LIMIT": "100000/minute",
    "CONFIRM_RATE_LIMIT": "100000/minute",
    # Tests of the limiter or of live updates through Redis set their own, narrower names.
    "RATELIMIT_KEY_PREFIX": RUN_NAMESPACE,
    "LIVE_CHANNEL": f"{RUN_NAMESPACE}-live",
}


def missing_service(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_TEST_SERVICES=1)")
    pytest.skip(reason)


def base_config(database_url: str, tmp_path: Path) -> dict:
    return {
        **TEST_KEYS,
        "TESTING": True,
        "DATABASE_URL": database_url,
        "BASE_URL": "http://petitions.test",
        "MAIL_URL": f"file://{tmp_path / 'outbox'}",
        "MAIL_FROM": "petitions@petitions.test",
        "MIN_FILL_SECONDS": 0,
        "ARGON2_CHEAP": True,
        "COUNTER_SHARDS": 4,
        # Tests read their own writes at once; the caching tests turn it back on.
        "PUBLIC_CACHE_SECONDS": 0,
        "PETITION_CACHE_SECONDS": 0,
    }


def migrate(database_url: str, tmp_path: Path) -> None:
    app = create_app(base_config(database_url, tmp_path))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "petition.db"
    migrate(f"sqlite:///{path}", path.parent)
    return path


@pytest.fixture(scope="session")
def postgresql_url(tmp_path_factory):
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        missing_service("PostgreSQL tests need TEST_DATABASE_URL")
    server_url = make_url(server.replace("postgresql+psycopg://", "postgresql://", 1))
    name = f"petition_test_{WORKER}_{uuid.uuid4().hex[:12]}"
    conninfo = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        missing_service(f"PostgreSQL at {server_url.host}:{server_url.port} is unreachable: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = server_url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    migrate(url, tmp_path_factory.mktemp("pg-migrate"))
    yield url
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_postgresql(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "petition.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgresql_url")
    _empty_postgresql(url)
    return url


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Tests may change this dict before the `app` fixture is first used."""
    return base_config(database_url, tmp_path)


@pytest.fixture
def app(app_config, tmp_path):
    """No application context is left pushed: each request, and each `with app.app_context()` in a
    test, gets its own session, as in production. Its instance folder is the test's own (`demo`
    writes the organiser's password there)."""
    app = create_app(app_config, instance_path=tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def form_token_of(html: str) -> str:
    match = re.search(r'name="form_token" type="hidden" value="([^"]*)"', html)
    assert match, "the page has no signing form"
    return match.group(1)


def pytest_collection_modifyitems(config, items):
    """A postgresql_only test has no SQLite variant to run, a sqlite_only test no PostgreSQL one: drop
    that variant instead of skipping it.

    Browser tests share one xdist worker (under `--dist loadgroup`): one Chromium at a time, not one
    per worker, and their short on-screen timeouts do not race a second browser for the two cores."""
    kept, dropped = [], []
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        callspec = getattr(item, "callspec", None)
        database = callspec.params.get("database_url") if callspec is not None else None
        other = {"sqlite": "postgresql_only", "postgresql": "sqlite_only"}.get(database)
        (dropped if other and item.get_closest_marker(other) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
