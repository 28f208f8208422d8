"""HTTP layer: blueprints, forms, htmx helpers. Views are thin: parse, call one service, commit, render."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_htmx import HTMX

    HTMX(app)
    from quizapp.web import admin, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
