"""Configuration: defaults, then ``instance/config.py``, then ``QUIZAPP_*`` environment variables,
then the mapping a test passes to ``create_app``."""

from __future__ import annotations

import json
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    SECRET_KEY: str | None = None  # generated into instance/secret_key when not configured
    DATABASE_URL: str | None = None  # default: sqlite:///<instance>/quizapp.db
    QUIZZES_DIR = str(PROJECT_ROOT / "quizzes")
    DESTINATIONS_FILE: str | None = None  # default: <instance>/destinations.json when present
    # How long a visitor's response token stays valid (seconds).
    RESPONSE_TOKEN_MAX_AGE = 30 * 24 * 3600
    # Run the delivery worker inside the web process (the embedded default of `quizapp serve`).
    INPROCESS_WORKER = False
    # Where the creator reads times.
    TIMEZONE = "UTC"
    # The public base URL (used in webhook payloads and embed snippets). Empty: taken from the request.
    PUBLIC_URL = ""
    # Admin access: a password from the environment; no password means the admin pages are off.
    ADMIN_PASSWORD: str | None = None
    # Bearer token for the JSON API (recording customers); no token means the API is off.
    API_TOKEN: str | None = None
    # Embeds: let the host page's quiz:lead event carry the visitor's email (true for every definition,
    # or a list of slugs). Only ever sent to the sites a definition lists in `embed_origins`.
    EMBED_SHARE_EMAIL: bool | list = False
    # gzip pages and assets; turn off behind a proxy that compresses.
    COMPRESS_RESPONSES = True
    WTF_CSRF_TIME_LIMIT = None
    # Only the admin side has a session; visitors never get a cookie.
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    MAX_CONTENT_LENGTH = 256 * 1024
    SEND_FILE_MAX_AGE_DEFAULT = 3600


# Settings that are always text, whatever they look like: a password of digits stays a string.
TEXT_SETTINGS = {"SECRET_KEY", "DATABASE_URL", "QUIZZES_DIR", "DESTINATIONS_FILE", "TIMEZONE", "PUBLIC_URL",
                 "ADMIN_PASSWORD", "API_TOKEN", "HOST"}
SECRET_SUFFIXES = ("_PASSWORD", "_TOKEN", "_SECRET", "_KEY", "_URL", "_FILE", "_DIR")


def _coerce(key: str, raw: str):
    """Environment values are strings. Settings that are text stay text; others accept JSON literals
    (numbers, booleans, lists), and fall back to the text when it isn't one."""
    if key in TEXT_SETTINGS or key.endswith(SECRET_SUFFIXES):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_config(app, test_config: dict | None = None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for key, raw in os.environ.items():
        if key.startswith("QUIZAPP_"):
            name = key.removeprefix("QUIZAPP_")
            app.config[name] = _coerce(name, raw)
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    if not app.config.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'quizapp.db'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if not app.config.get("DESTINATIONS_FILE"):
        candidate = instance / "destinations.json"
        app.config["DESTINATIONS_FILE"] = str(candidate) if candidate.exists() else None


def _instance_secret(instance: Path) -> str:
    """A stable random secret kept in the instance folder, so tokens survive a restart."""
    import secrets

    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
