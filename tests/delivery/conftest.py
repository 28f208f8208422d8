"""Delivery fixtures: a destinations file with fast retries, a local webhook receiver, lead factories."""

from __future__ import annotations

import json

import pytest

from tests.delivery.support import FAST, SECRET, SECRET_ENV, Leads, quiz_definition
from tests.fakes.receiver import WebhookReceiver


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


@pytest.fixture
def delivery_app(make_app, tmp_path, secret_env):
    """make(destinations list, **config) -> app with that destinations file and fast retries."""

    def make(destinations: list[dict], **config):
        path = tmp_path / "destinations.json"
        path.write_text(json.dumps({"destinations": destinations}, indent=2))
        return make_app(DESTINATIONS_FILE=str(path), **{**FAST, **config})

    return make


@pytest.fixture
def leads_for():
    def make(app, destinations: list | None = None, slug: str = "mini"):
        definition, raw = quiz_definition(slug, destinations)
        return Leads(app, definition, raw)

    return make
