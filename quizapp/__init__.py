"""quizapp: a self-hosted server for quiz and calculator lead magnets."""

from __future__ import annotations

from flask import Flask

from quizapp.config import PROJECT_ROOT, load_config


def configured(test_config: dict | None = None) -> Flask:
    """The Flask object with its configuration read, and nothing started (no database, no catalog)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    load_config(app, test_config)
    return app


def create_app(test_config: dict | None = None) -> Flask:
    app = configured(test_config)

    from quizapp import store

    store.init_app(app)

    from quizapp.definitions import Catalog

    app.extensions["quizapp.catalog"] = Catalog(app.config["QUIZZES_DIR"],
                                               interval=app.config.get("CATALOG_RELOAD_SECONDS", 2.0))

    from quizapp import delivery

    delivery.init_app(app)  # a broken destinations file stops start-up with its problems listed

    from quizapp import web

    web.init_app(app)
    return app


__all__ = ["create_app"]
