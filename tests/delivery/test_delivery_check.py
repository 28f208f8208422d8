"""`quizapp deliveries check`: what it reports before anything is sent."""

from __future__ import annotations

import base64

from click.testing import CliRunner

from quizapp.delivery.commands import deliveries, worker
from tests.delivery.support import SECRET, rows, webhook


def check(app) -> tuple[int, list[str]]:
    with app.app_context():
        result = CliRunner().invoke(deliveries, ["check"], catch_exceptions=False)
    return result.exit_code, result.output.splitlines()


def own_hook(name: str, env: str, settings: dict | None = None, **extra) -> dict:
    dest = webhook("http://127.0.0.1:9/hook", name=name, **extra)
    dest["settings"] = {**dest["settings"], "secret_env": env, **(settings or {})}
    return dest


def test_a_malformed_signing_secret_is_reported_as_the_worker_would_pause_on_it(delivery_app, monkeypatch):
    monkeypatch.setenv("MYHOOK_SECRET", "x")
    monkeypatch.setenv("SHORT_SECRET", "whsec_" + base64.b64encode(bytes(10)).decode())
    monkeypatch.setenv("GOOD_SECRET", SECRET)
    monkeypatch.setenv("OLD_SECRET", "whsec_not base64!")
    monkeypatch.setenv("MC_KEY", "0123456789abcdef")  # a Mailchimp key ends in its data center: ...-us14
    app = delivery_app([
        own_hook("myhook", "MYHOOK_SECRET"),
        own_hook("short", "SHORT_SECRET"),
        own_hook("rotating", "GOOD_SECRET", settings={"previous_secret_env": "OLD_SECRET"}),
        own_hook("good", "GOOD_SECRET"),
        own_hook("resting", "MYHOOK_SECRET", enabled=False),
        {"name": "mc", "type": "mailchimp", "settings": {"api_key_env": "MC_KEY", "list_id": "abc123"}},
    ])
    code, lines = check(app)
    assert code == 1
    assert lines == [
        "myhook: webhook, for all quizzes: BAD: MYHOOK_SECRET: the secret is not base64 after its whsec_ prefix "
        "(the destination would be paused)",
        "short: webhook, for all quizzes: BAD: SHORT_SECRET: the secret holds 10 bytes; use 24 to 64 random "
        "bytes (`quizapp deliveries new-secret` makes one) (the destination would be paused)",
        "rotating: webhook, for all quizzes: BAD: OLD_SECRET: the secret is not base64 after its whsec_ prefix "
        "(the destination would be paused)",
        "good: webhook, for all quizzes: ok",
        "resting: webhook, for all quizzes: off",
        "mc: mailchimp, for quizzes that name it: BAD: the key in MC_KEY does not end in its data center "
        "(like ...-us14) (the destination would be paused)",
    ]


def test_the_reported_problem_is_the_one_that_pauses_the_destination(delivery_app, leads_for, monkeypatch):
    monkeypatch.setenv("MYHOOK_SECRET", "x")
    app = delivery_app([own_hook("myhook", "MYHOOK_SECRET")])
    leads_for(app)(1)
    with app.app_context():
        CliRunner().invoke(worker, ["--drain", "--timeout", "5"], catch_exceptions=False)
        listed = CliRunner().invoke(deliveries, ["list"], catch_exceptions=False).output
    assert ("! destination myhook: paused (1 waiting, 0 dead): MYHOOK_SECRET: the secret is not base64 after its "
            "whsec_ prefix") in listed
    assert [r.status for r in rows(app)] == ["pending"]


def test_a_good_configuration_is_ok(delivery_app):
    code, lines = check(delivery_app([webhook("http://127.0.0.1:9/hook")]))
    assert (code, lines) == (0, ["hook: webhook, for all quizzes: ok"])
