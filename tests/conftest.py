"""Shared fixtures. The database comes from QUIZAPP_TEST_DATABASE_URL (default: a SQLite file per
test session); the schema is built once with the migrations and emptied between tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from quizapp import create_app
from quizapp.store import migrate
from quizapp.store.db import make_engine
from quizapp.store.models import Base

ROOT = Path(__file__).resolve().parent.parent
QUIZZES = ROOT / "quizzes"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("QUIZAPP_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(engine)
    engine.dispose()
    return url


def empty_tables(url: str) -> None:
    from quizapp.services import versions

    versions.forget_cache()
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def quizzes_dir(tmp_path) -> Path:
    """A private copy of the shipped quizzes; tests may add or break files in it."""
    target = tmp_path / "quizzes"
    shutil.copytree(QUIZZES, target)
    return target


@pytest.fixture
def make_app(database_url, quizzes_dir, tmp_path):
    apps = []

    def _make(**overrides):
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "QUIZZES_DIR": str(quizzes_dir),
            "CATALOG_RELOAD_SECONDS": 0,
            "INPROCESS_WORKER": False,
        }
        config.update(overrides)
        app = create_app(config)
        apps.append(app)
        return app

    empty_tables(database_url)
    yield _make
    for app in apps:
        app.extensions["quizapp.engine"].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client(use_cookies=False)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A session bound to the test app, inside an app context."""
    from quizapp.store import get_session

    with app.app_context():
        session = get_session()
        yield session
        session.rollback()


_skipped_browser: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and "browser" in report.keywords:
        _skipped_browser.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """Where browser tests are required (CI), a skipped one is a failure, not a silent pass."""
    if os.environ.get("QUIZAPP_REQUIRE_BROWSER") == "1" and _skipped_browser:
        print(f"\n{len(_skipped_browser)} browser test(s) skipped while QUIZAPP_REQUIRE_BROWSER=1:")
        for nodeid in _skipped_browser:
            print(f"  {nodeid}")
        session.exitstatus = 1
