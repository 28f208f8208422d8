"""The yardstick: a bare Flask app with one tiny page, served by gunicorn the way `quizapp serve` serves
quizapp (same worker class, workers and threads), so the ratio shows what quizapp adds per request."""

from __future__ import annotations

from flask import Flask

PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bare</title></head>"
        "<body><p>Hello from a bare Flask page.</p></body></html>")


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def page() -> str:
        return PAGE

    return app
