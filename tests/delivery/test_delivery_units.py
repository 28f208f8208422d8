"""The pieces on their own: destinations file, mapping rules, retry policy, failure classification, claims."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import requests

from quizapp.definitions.model import DestinationRef
from quizapp.delivery.config import (
    DestinationsError,
    RetrySettings,
    check_definition,
    load_destinations,
    parse_destinations,
)
from quizapp.delivery.http import (
    AuthFailed,
    Deferred,
    Gone,
    Permanent,
    Throttled,
    Transient,
    classify,
    retry_after,
)
from quizapp.delivery.mapping import map_fields, map_tags, matches, merge
from quizapp.delivery.policy import decide, retry_delay
from tests.delivery.support import rows, webhook, worker_for

SAMPLE = {
    "destinations": [
        {
            "name": "zapier",
            "type": "webhook",
            "quizzes": "all",
            "settings": {"url": "https://hooks.example.com/catch/1", "secret_env": "ZAPIER_SECRET"},
        },
        {
            "name": "kit",
            "type": "kit",
            "settings": {"api_key_env": "KIT_API_KEY"},
            "mapping": {"tags": {"prefix": "quiz-"}},
        },
        {
            "name": "brevo",
            "type": "brevo",
            "quizzes": ["lead-magnet-readiness"],
            "enabled": False,
            "settings": {"api_key_env": "BREVO_KEY", "list_ids": [3]},
        },
    ]
}


def test_sample_file_parses_and_picks_destinations_per_quiz(tmp_path):
    path = tmp_path / "destinations.json"
    path.write_text(json.dumps(SAMPLE))
    config = load_destinations(path)
    assert list(config.destinations) == ["zapier", "kit", "brevo"]
    assert config.get("kit").settings == {"api_key_env": "KIT_API_KEY", "base_url": None}
    assert config.get("zapier").secret_names() == ["ZAPIER_SECRET"]
    assert config.for_quiz("funnel-leak") == [("zapier", {})]
    refs = (DestinationRef("kit", {"tags": {"add": ["x"]}}), DestinationRef("typo"))
    assert config.for_quiz("funnel-leak", refs) == [
        ("kit", {"tags": {"add": ["x"]}}),
        ("typo", {}),
        ("zapier", {}),
    ]
    assert config.for_quiz("lead-magnet-readiness") == [("zapier", {})]  # brevo is switched off


def test_file_problems_name_the_json_path():
    bad = {
        "destinations": [
            {"name": "Kit", "type": "kit", "settings": {"api_key": "sk_live_123"}},
            {
                "name": "hook",
                "type": "webhook",
                "settings": {"url": "http://x.example/h", "secret_env": "S"},
                "mapping": {"tags": {"rules": [{"when": {"score": {"over": 3}}, "add": ["a"]}]}},
            },
            {"name": "hook", "type": "nope"},
        ]
    }
    with pytest.raises(DestinationsError) as err:
        parse_destinations(bad, "destinations.json")
    problems = err.value.problems
    assert (
        "destinations.json: $.destinations[0].name: use lower-case letters, digits, '-' or '_' (at most 64)"
        in problems
    )
    assert "destinations.json: $.destinations[0].settings.api_key: Unknown field." in problems
    assert (
        "destinations.json: $.destinations[0].settings.api_key_env: Missing data for required field."
        in problems
    )
    assert any(
        p.startswith(
            "destinations.json: $.destinations[1].mapping.tags.rules[0].when.score.value: a matcher is"
        )
        for p in problems
    )
    assert any(
        "$.destinations[2].type: unknown type 'nope'; use one of: activecampaign, brevo, kit" in p
        for p in problems
    )


def test_unreadable_file_and_bad_json(tmp_path):
    with pytest.raises(DestinationsError, match="cannot read the file"):
        load_destinations(tmp_path / "missing.json")
    path = tmp_path / "d.json"
    path.write_text('{"destinations": [}')
    with pytest.raises(DestinationsError, match="not valid JSON: .* at line 1, column 19"):
        load_destinations(path)


def test_a_broken_destinations_file_stops_start_up(make_app, tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"destinations": [{"name": "k", "type": "kit"}]}))
    with pytest.raises(DestinationsError, match=r"\$.destinations\[0\].settings.api_key_env"):
        make_app(DESTINATIONS_FILE=str(path))


def test_check_definition_reports_unknown_names_and_bad_options():
    config = parse_destinations(SAMPLE)
    quiz = SimpleNamespace(
        destinations=(DestinationRef("kit", {"tags": {"add": "hot"}}), DestinationRef("mailchimp"))
    )
    assert check_definition(quiz, config) == [
        ("$.destinations[0].tags.add", "Not a valid list.", "error"),
        (
            "$.destinations[1].name",
            "destination 'mailchimp' is not configured (<destinations>); its deliveries "
            "will wait until it is",
            "warning",
        ),
    ]


FACTS = {
    "outcome": "nurture",
    "score": Decimal("16"),
    "percent": Decimal("57.14"),
    "lead_score": None,
    "tags": ["quiz:funnel-leak", "leak:nurture"],
    "answers": {"channels": ["seo", "google_ads"]},
    "values": {"cost_per_customer": "1666.67"},
    "sub_scores": {"convert": {"percent": 66.67}},
    "utm_source": "newsletter",
}


@pytest.mark.parametrize(
    "path,matcher,expected",
    [
        ("outcome", "nurture", True),
        ("outcome", ["traffic", "nurture"], True),
        ("outcome", "traffic", False),
        ("score", {"min": 16}, True),
        ("score", {"min": 16.01}, False),
        ("percent", {"max": 57.14}, True),
        ("lead_score", {"min": 0}, False),
        ("lead_score", {"present": False}, True),
        ("answers.channels", "google_ads", True),
        ("answers.channels", {"not": "seo"}, False),
        ("values.cost_per_customer", {"min": 1000}, True),
        ("sub_scores.convert.percent", {"min": 50}, True),
        ("tags", "leak:nurture", True),
        ("utm_source", {"present": True}, True),
        ("score", 16, True),
    ],
)
def test_matchers(path, matcher, expected):
    from quizapp.delivery.mapping import resolve

    assert matches(resolve(FACTS, path), matcher) is expected


def test_tags_and_fields_mapping():
    mapping = merge(
        {
            "tags": {
                "prefix": "q-",
                "add": ["lead"],
                "rename": {"leak:nurture": "needs-nurture"},
                "rules": [{"when": {"values.cost_per_customer": {"min": 1000}}, "add": ["pricey"]}],
            },
            "fields": {"LEAK": "outcome", "CPC": "values.cost_per_customer", "CHANNELS": "answers.channels"},
        },
        {
            "tags": {"add": ["funnel"], "rules": [{"when": {"outcome": "traffic"}, "add": ["never"]}]},
            "fields": {"FROM": {"value": "quiz"}, "NONE": "lead_score"},
        },
    )
    assert map_tags(FACTS, mapping) == [
        "q-quiz:funnel-leak",
        "q-needs-nurture",
        "q-lead",
        "q-funnel",
        "q-pricey",
    ]
    assert map_fields(FACTS, mapping) == {
        "LEAK": "nurture",
        "CPC": "1666.67",
        "CHANNELS": "seo, google_ads",
        "FROM": "quiz",
    }
    assert map_tags(FACTS, {"tags": {"include": "none", "add": ["Hot", "hot"]}}) == ["Hot"]


def test_default_schedule_spans_about_three_days_with_jitter():
    settings = RetrySettings()
    assert len(settings.schedule) + 1 == 10  # attempts: the first, then one after each delay
    assert 3 * 86400 <= sum(settings.schedule) <= 3.3 * 86400
    delays = [retry_delay(settings, 1) for _ in range(200)]
    assert 4.5 <= min(delays) < max(delays) <= 5.5
    assert retry_delay(settings, 10) is None


def test_decisions():
    now = datetime(2026, 5, 1, tzinfo=UTC)
    fast = RetrySettings(schedule=(5, 60), jitter=0)
    d = decide(Transient("boom"), failures=0, attempts=0, now=now, settings=fast)
    assert (d.outcome, d.status, d.failures, d.next_attempt_at) == (
        "failed",
        "pending",
        1,
        now + timedelta(seconds=5),
    )
    d = decide(Transient("boom"), failures=2, attempts=2, now=now, settings=fast)
    assert (d.outcome, d.status) == ("dead", "dead") and d.error.startswith("gave up after 3 attempts: boom")
    d = decide(Throttled("429", 30), failures=1, attempts=5, now=now, settings=fast)
    assert (d.outcome, d.failures, d.hold_destination_until) == ("throttled", 1, now + timedelta(seconds=30))
    d = decide(Throttled("429 without a wait", None), failures=0, attempts=0, now=now, settings=fast)
    assert (d.outcome, d.failures, d.next_attempt_at) == ("throttled", 0, now + timedelta(seconds=1))
    assert (
        decide(AuthFailed("401"), failures=0, attempts=0, now=now, settings=fast).destination_status
        == "paused"
    )
    assert (
        decide(Gone("410"), failures=0, attempts=0, now=now, settings=fast).destination_status == "disabled"
    )
    d = decide(Permanent("400", 400, "body text"), failures=0, attempts=0, now=now, settings=fast)
    assert (d.status, d.error) == ("dead", "400\nbody text")
    d = decide(
        Deferred(now + timedelta(seconds=9)), failures=0, attempts=0, now=now, settings=fast, made_calls=False
    )
    assert (d.status, d.next_attempt_at) == ("pending", now + timedelta(seconds=9))
    d = decide(KeyError("id"), failures=0, attempts=0, now=now, settings=fast)
    assert d.outcome == "failed" and d.error == "internal error: KeyError: 'id'"


def test_throttling_waits_a_doubling_minimum_and_never_uses_up_retries():
    now = datetime(2026, 5, 1, tzinfo=UTC)
    settings = RetrySettings(schedule=(5,), jitter=0, max_attempts=3)
    assert (settings.throttle_min_wait, settings.throttle_min_wait_cap) == (1.0, 300.0)

    def wait(retry_after, in_a_row, failures=1, attempts=1000):
        d = decide(
            Throttled("429", retry_after),
            failures=failures,
            attempts=attempts,
            now=now,
            settings=settings,
            throttled_in_a_row=in_a_row,
        )
        # Far past the attempt limit and the schedule, and still waiting rather than dead.
        assert (d.outcome, d.status, d.failures) == ("throttled", "pending", failures)
        assert d.hold_destination_until == d.next_attempt_at
        return (d.next_attempt_at - now).total_seconds()

    # Retry-After: 0 (or none) waits 1 s, doubling for each throttled answer in a row, up to 5 minutes.
    assert [wait(0, n) for n in (0, 1, 2, 3, 8, 9, 50, 10_000)] == [1, 2, 4, 8, 256, 300, 300, 300]
    assert [wait(None, n, failures=0) for n in (0, 4)] == [1, 16]
    # A longer wait asked for is honoured exactly; a shorter one is raised to the minimum.
    assert (wait(2, 0), wait(30, 0), wait(30, 5), wait(0.5, 0)) == (2, 30, 32, 1)
    assert wait(10**7, 0) == 86400  # DELIVERY_MAX_RETRY_AFTER
    custom = RetrySettings.from_config(
        {"DELIVERY_THROTTLE_MIN_WAIT": "0.25", "DELIVERY_THROTTLE_MIN_WAIT_CAP": 2}
    )
    assert (custom.throttle_min_wait, custom.throttle_min_wait_cap) == (0.25, 2.0)


def _response(status, headers=None, body=b"{}"):
    r = requests.Response()
    r.status_code, r._content, r.encoding = status, body, "utf-8"
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(
    "status,headers,kind",
    [
        (500, {}, Transient),
        (502, {}, Transient),
        (408, {}, Transient),
        (301, {"Location": "/x"}, Transient),
        (503, {}, Transient),
        (503, {"Retry-After": "7"}, Throttled),
        (429, {}, Throttled),
        (401, {}, AuthFailed),
        (403, {}, AuthFailed),
        (410, {}, Gone),
        (400, {}, Permanent),
        (404, {}, Permanent),
        (422, {}, Permanent),
    ],
)
def test_classification(status, headers, kind):
    assert type(classify(_response(status, headers), "POST http://x/")) is kind


def test_retry_after_forms():
    assert retry_after(_response(429, {"Retry-After": "2"})) == 2.0
    in_a_minute = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 55 <= retry_after(_response(429, {"Retry-After": in_a_minute})) <= 61
    assert retry_after(_response(429, {"x-sib-ratelimit-reset": "12"}), ["x-sib-ratelimit-reset"]) == 12.0
    assert retry_after(_response(429, {})) is None


def test_two_workers_never_claim_the_same_row(delivery_app, leads_for, receiver):
    app = delivery_app([webhook(receiver.hook_url)])
    leads_for(app)(30)
    first, second = worker_for(app, name="one"), worker_for(app, name="two")
    config = first.destinations()
    a = first.claim(config, limit=20)
    b = second.claim(config, limit=20)
    assert len(a) == 20 and len(b) == 10 and not {r.id for r in a} & {r.id for r in b}
    assert second.claim(config) == []
    first.release(a)
    assert {r.id for r in second.claim(config)} == {r.id for r in a}


def test_expired_lease_is_claimed_again(delivery_app, leads_for, receiver):
    app = delivery_app([webhook(receiver.hook_url)], DELIVERY_LEASE_SECONDS=0.2)
    leads_for(app)(3)
    dead_worker = worker_for(app, name="gone")
    claimed = dead_worker.claim(dead_worker.destinations())
    assert len(claimed) == 3 and [r.leased_by for r in rows(app)] == ["gone"] * 3
    survivor = worker_for(app, name="survivor")
    assert survivor.claim(survivor.destinations()) == []
    import time

    time.sleep(0.3)
    assert survivor.drain(timeout=5).delivered == 3
    # The old worker wakes up: it no longer owns its rows and sends nothing.
    for row in claimed:
        assert dead_worker.process(row, dead_worker.destinations()) is None
    assert len(receiver.calls()) == 3


def test_the_sample_in_the_docs_is_a_valid_file():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "delivery.md").read_text()
    sample = json.loads(re.search(r"```json\n(\{\n  \"destinations\".*?)\n```", text, re.S).group(1))
    config = parse_destinations(sample, "docs/delivery.md")
    assert [(d.name, d.type) for d in config.destinations.values()] == [
        ("zapier", "webhook"),
        ("systeme", "systemeio"),
        ("kit", "kit"),
        ("mailchimp", "mailchimp"),
        ("brevo", "brevo"),
    ]
    assert [name for name, _ in config.for_quiz("funnel-leak")] == ["zapier", "systeme", "brevo"]
    assert [name for name, _ in config.for_quiz("cost-per-lead")] == ["zapier"]


def test_a_slow_worker_gives_up_rows_another_took_and_nothing_is_sent_twice(delivery_app, leads_for):
    import threading

    from tests.fakes.receiver import WebhookReceiver

    with WebhookReceiver(delay=0.25) as rcv:
        app = delivery_app([webhook(rcv.hook_url)], DELIVERY_LEASE_SECONDS=0.6)
        leads_for(app)(5)
        slow, quick = worker_for(app, name="slow", batch_size=5), worker_for(app, name="quick", batch_size=1)
        batch = slow.claim(slow.destinations())
        assert len(batch) == 5
        other = threading.Thread(target=quick.drain, kwargs={"timeout": 5})
        other.start()
        outcomes = [slow.process(row, slow.destinations()) for row in batch]
        other.join()
        calls = rcv.calls()
    assert sorted(r.headers["webhook-id"] for r in calls) == sorted(r.message_id for r in rows(app))
    assert [r.status for r in rows(app)] == ["delivered"] * 5
    # The slow worker renewed the lease of the row it was sending and let go of the ones taken over.
    assert outcomes[0] is not None and None in outcomes
    assert slow.stats.outcomes["lease_lost"] == outcomes.count(None)


@pytest.mark.parametrize(
    "text,message",
    [
        (
            '{"destinations": [{"name": "k", "type": "kit", "timeout": ' + "9" * 5000 + "}]}",
            "d.json: $: not valid JSON: a number has more than 4300 digits",
        ),
        (
            '{"destinations": ' + "[" * 50_000,
            "d.json: $: not valid JSON: lists and objects nested too deeply",
        ),
    ],
    ids=["huge-number", "deep-nesting"],
)
def test_json_the_parser_refuses_is_a_destinations_error(tmp_path, text, message):
    path = tmp_path / "d.json"
    path.write_text(text)
    with pytest.raises(DestinationsError) as err:
        load_destinations(path)
    [problem] = err.value.problems
    assert problem.startswith(str(tmp_path / message))


def test_an_unexpected_failure_while_checking_is_a_destinations_error(tmp_path, monkeypatch):
    """Whatever goes wrong while checking the file, the caller gets one kind of error with the file named."""
    import quizapp.delivery.config as config_module

    def broken(self, data, **kwargs):
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(config_module.FileSchema, "load", broken)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(SAMPLE))
    with pytest.raises(DestinationsError) as err:
        load_destinations(path)
    assert err.value.problems == [f"{path}: $: cannot check the file: TypeError: unhashable type: 'list'"]


def test_pointing_the_app_at_a_broken_file_keeps_the_destinations_in_use(delivery_app, tmp_path, caplog):
    from quizapp.delivery import destinations_for

    app = delivery_app([webhook("http://127.0.0.1:9/hook")])
    assert list(destinations_for(app).destinations) == ["hook"]
    broken = tmp_path / "other.json"
    broken.write_text('{"destinations": [{"name": "x", "type": "webhook", "timeout": ' + "1" * 5000 + "}]}")
    app.config["DESTINATIONS_FILE"] = str(broken)
    assert list(destinations_for(app).destinations) == ["hook"]
    assert f"{broken}: $: not valid JSON: a number has more than 4300 digits" in caplog.text
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({"destinations": [webhook("http://127.0.0.1:9/hook", name="second")]}))
    app.config["DESTINATIONS_FILE"] = str(fixed)
    assert list(destinations_for(app).destinations) == ["second"]
