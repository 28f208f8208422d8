"""HTTP layer: blueprints, forms, htmx helpers. Views are thin: parse, call one service, commit, render."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from quizapp.web import compress, embed

    compress.init_app(app)  # registered first, so it runs last, on the finished response
    embed.init_app(app)
    from flask_htmx import HTMX

    HTMX(app)
    from quizapp.web import admin, api, public

    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    from quizapp.web import calculator

    app.register_blueprint(calculator.bp)
    app.register_blueprint(api.bp)
