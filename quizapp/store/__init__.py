"""Persistence: models, engine and session lifecycle, migrations."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from quizapp.store.db import begin_read_only, make_engine, make_session_factory


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    factory = make_session_factory(engine)
    app.extensions["quizapp.engine"] = engine
    app.extensions["quizapp.session"] = factory

    @app.teardown_appcontext
    def _remove_session(_exc):
        factory.remove()


def get_session() -> Session:
    """The session for this request/thread. Services flush; views and commands commit."""
    return current_app.extensions["quizapp.session"]()


def read_only() -> None:
    """Declare that the rest of this request only reads: on SQLite its transaction then neither waits
    for nor holds the write lock. Call it before the request's first query."""
    begin_read_only(get_session())


def get_engine():
    return current_app.extensions["quizapp.engine"]
