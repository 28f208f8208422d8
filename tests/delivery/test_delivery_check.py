"""`quizapp deliveries check`: what it reports before anything is sent."""

from __future__ import annotations

import base64
import json

from click.testing import CliRunner

from quizapp.delivery.commands import deliveries, worker
from tests.delivery.support import SECRET, rows, webhook
from tests.helpers import minimal_quiz


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


def test_mapping_paths_no_quiz_can_fill_are_warned_about(delivery_app, quizzes_dir, monkeypatch):
    (quizzes_dir / "traffic.json").write_text(json.dumps(minimal_quiz(
        slug="traffic", destinations=[{"name": "crm", "fields": {"NEEDED": "values.leads_needed",
                                                                 "FIRST": "answers.q1"}}])))
    everything = {
        "fields": {
            "needed": "values.leads_needed",  # leads-needed has it
            "cpc": "values.cost_per_customer.display",  # cost-per-lead has it
            "typo": "values.leads_neded",
            "part": "values.leads_needed.colour",
            "leak": "sub_scores.nurture.percent",  # funnel-leak's category
            "channels": "answers.channels",
            "nope": "answers.nope",
            "title": "outcome.title",
        },
        "tags": {"rules": [
            {"when": {"values.cost_per_customer": {"min": 1000}}, "add": ["pricey"]},
            {"when": {"tier": "high", "sub_scores.nowhere.score": {"min": 1}}, "add": ["never"]},
        ]},
    }
    calculators_only = {"fields": {"score": "score", "needed": "values.leads_needed"}}
    app = delivery_app([
        webhook("http://127.0.0.1:9/hook", mapping=everything),
        webhook("http://127.0.0.1:9/hook", name="calc", quizzes=["leads-needed"], mapping=calculators_only),
        webhook("http://127.0.0.1:9/hook", name="crm", quizzes=[]),
        webhook("http://127.0.0.1:9/hook", name="idle", quizzes=[], mapping={"fields": {"x": "values.none"}}),
    ])
    code, lines = check(app)
    everyone = "cost-per-lead, customer-cost, funnel-leak, lead-magnet-readiness, leads-needed, traffic"
    assert lines == [
        "hook: webhook, for all quizzes: ok",
        f"  warning: mapping.fields.typo: 'values.leads_neded' has no value for any quiz that sends to it ({everyone})",
        f"  warning: mapping.fields.part: 'values.leads_needed.colour' has no value for any quiz that sends to it "
        f"({everyone})",
        f"  warning: mapping.fields.nope: 'answers.nope' has no value for any quiz that sends to it ({everyone})",
        f"  warning: mapping.fields.title: 'outcome.title' has no value for any quiz that sends to it ({everyone})",
        f"  warning: mapping.tags.rules[1].when: 'sub_scores.nowhere.score' has no value for any quiz that sends "
        f"to it ({everyone})",
        "calc: webhook, for leads-needed: ok",
        "  warning: mapping.fields.score: 'score' has no value for any quiz that sends to it (leads-needed)",
        "crm: webhook, for quizzes that name it: ok",
        "  warning: traffic adds fields.NEEDED: 'values.leads_needed', which traffic never has",
        # no quiz sends to it: nothing to check its paths against
        "idle: webhook, for quizzes that name it: ok",
    ]
    assert code == 0  # warnings: the destinations work, some fields are simply never sent
