"""Signed webhooks end to end: outbox row -> worker -> a real local receiver, verified with the published
standardwebhooks package."""

from __future__ import annotations

import base64
import json
import time

import pytest
from standardwebhooks import Webhook

from quizapp.store.models import DeliveryAttempt, DestinationState
from tests.delivery.support import SECRET, rows, webhook, worker_for
from tests.fakes.receiver import always, sequence
from tests.fakes.server import Reply


def attempts(app, delivery_id):
    from sqlalchemy import select

    from quizapp.store import get_session

    with app.app_context():
        s = get_session()
        out = list(
            s.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.id)
            )
        )
        s.close()
        return out


def state(app, name):
    from quizapp.store import get_session

    with app.app_context():
        s = get_session()
        out = s.get(DestinationState, name)
        s.close()
        return out


def test_lead_reaches_the_receiver_signed_and_verifiable(delivery_app, leads_for, receiver):
    app = delivery_app(
        [
            webhook(
                receiver.hook_url,
                mapping={
                    "tags": {
                        "add": ["quizapp"],
                        "rules": [{"when": {"lead_score": {"min": 40}}, "add": ["hot-lead"]}],
                    },
                    "fields": {"quiz_outcome": "outcome", "first_answer": "answers.q1"},
                },
            )
        ]
    )
    leads = leads_for(app)
    leads(
        1,
        email="Ann.One@Example.COM",
        source={
            "utm_source": "newsletter",
            "referrer": "https://blog.example/",
            "page_url": "https://blog.example/quiz",
        },
    )
    stats = worker_for(app).drain(timeout=10)
    assert stats.delivered == 1

    [req] = receiver.calls("POST", "/hook")
    row = rows(app)[0]
    assert req.body == row.payload
    assert req.headers["webhook-id"] == row.message_id and row.message_id.startswith("msg_")
    assert req.headers["content-type"] == "application/json"
    assert abs(int(req.headers["webhook-timestamp"]) - time.time()) < 10
    event = Webhook(SECRET).verify(req.body, req.headers)  # raises if the signature is wrong
    assert event["type"] == "lead.created"
    assert event["timestamp"] == "2026-05-01T12:00:01.250Z"
    data = event["data"]
    assert data["email"] == "ann.one@example.com" and data["email_display"] == "Ann.One@Example.COM"
    assert (data["first_name"], data["quiz"], data["quiz_title"], data["outcome"], data["outcome_title"]) == (
        "Ann",
        "mini",
        "Mini",
        "high",
        "High",
    )
    assert (data["score"], data["max_score"], data["percent"], data["lead_score"]) == (4, 5, 80, 45)
    assert data["tags"] == ["quiz:mini", "tier:high", "quizapp", "hot-lead"]
    assert data["fields"] == {"quiz_outcome": "high", "first_answer": "b"}
    assert data["answers"] == [
        {"question": "q1", "text": "One?", "type": "single", "value": "b", "label": "B"}
    ]
    assert (data["consent"], data["consent_text"], data["consent_at"]) == (
        True,
        "Yes, email me",
        "2026-05-01T12:00:00.000Z",
    )
    assert (data["utm_source"], data["referrer"], data["page_url"]) == (
        "newsletter",
        "https://blog.example/",
        "https://blog.example/quiz",
    )
    assert data["is_new_lead"] is True

    row = rows(app)[0]
    assert (row.status, row.attempts, row.failures, row.lease_until) == ("delivered", 1, 0, None)
    [attempt] = attempts(app, row.id)
    assert (attempt.outcome, attempt.status_code) == ("delivered", 200)
    assert json.loads(attempt.response_excerpt) == {"ok": True}


def test_a_wrong_secret_fails_verification(delivery_app, leads_for, receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    app = delivery_app([webhook(receiver.hook_url)])
    leads_for(app)(1)
    worker_for(app).drain(timeout=10)
    [req] = receiver.calls()
    other = "whsec_" + base64.b64encode(bytes(32)).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(req.body, req.headers)
    tampered = req.body.replace(b'"Ann"', b'"Bob"')
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, req.headers)


def test_known_lead_from_another_quiz_is_lead_updated(delivery_app, leads_for, receiver):
    app = delivery_app([webhook(receiver.hook_url)])
    leads = leads_for(app)
    leads(1, email="ann@example.com")
    leads(1, email="ann@example.com", updated=True, tags=["quiz:mini", "tier:low"], outcome="low", score="1")
    worker_for(app).drain(timeout=10)
    events = [Webhook(SECRET).verify(r.body, r.headers) for r in receiver.calls()]
    assert [e["type"] for e in events] == ["lead.created", "lead.updated"]
    assert events[1]["data"]["lead_tags"] == ["quiz:mini", "tier:high", "tier:low"]
    assert events[1]["data"]["is_new_lead"] is False


def test_secret_rotation_signs_with_both(delivery_app, leads_for, receiver, monkeypatch):
    old = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
    monkeypatch.setenv("OLD_HOOK_SECRET", old)
    dest = webhook(receiver.hook_url)
    dest["settings"]["previous_secret_env"] = "OLD_HOOK_SECRET"
    app = delivery_app([dest])
    leads_for(app)(1)
    worker_for(app).drain(timeout=10)
    [req] = receiver.calls()
    assert len(req.headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET).verify(req.body, req.headers)
    Webhook(old).verify(req.body, req.headers)


def test_retry_keeps_message_id_and_bytes_and_signs_each_attempt(delivery_app, leads_for):
    from tests.fakes.receiver import WebhookReceiver

    with WebhookReceiver(
        sequence(Reply(500, {"error": "down"}), Reply(503, {}), Reply(200, {"ok": True}))
    ) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(1)
        worker_for(app).drain(timeout=10)
        calls = rcv.calls()
    assert [c.status for c in calls] == [500, 503, 200]
    assert len({c.headers["webhook-id"] for c in calls}) == 1
    assert len({c.body for c in calls}) == 1
    for c in calls:
        Webhook(SECRET).verify(c.body, c.headers)
    row = rows(app)[0]
    assert (row.status, row.attempts, row.failures) == ("delivered", 3, 2)
    assert [a.outcome for a in attempts(app, row.id)] == ["failed", "failed", "delivered"]
    assert [a.status_code for a in attempts(app, row.id)] == [500, 503, 200]


def test_permanent_400_is_dead_lettered_after_one_call(delivery_app, leads_for):
    from tests.fakes.receiver import WebhookReceiver

    with WebhookReceiver(always(400, {"error": "email field missing"})) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(1)
        worker_for(app).drain(timeout=5)
        assert len(rcv.calls()) == 1
    row = rows(app)[0]
    assert (row.status, row.attempts) == ("dead", 1)
    assert "400 from POST" in row.last_error and "email field missing" in row.last_error
    [attempt] = attempts(app, row.id)
    assert (attempt.outcome, attempt.status_code) == ("dead", 400)
    assert "email field missing" in attempt.response_excerpt


def test_429_retry_after_waits_then_delivers(delivery_app, leads_for):
    from tests.fakes.receiver import WebhookReceiver

    script = sequence(Reply(429, {"error": "slow down"}, {"Retry-After": "2"}), Reply(200, {"ok": True}))
    with WebhookReceiver(script) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(1)
        worker_for(app).drain(timeout=10)
        calls = rcv.calls()
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 2.0
    row = rows(app)[0]
    assert (row.status, row.attempts, row.failures) == ("delivered", 2, 0)
    assert [a.outcome for a in attempts(app, row.id)] == ["throttled", "delivered"]


def test_429_with_retry_after_zero_still_waits_a_second(delivery_app, leads_for):
    from tests.fakes.receiver import WebhookReceiver

    script = sequence(Reply(429, {"error": "slow down"}, {"Retry-After": "0"}), Reply(200, {"ok": True}))
    with WebhookReceiver(script) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(1)
        worker_for(app).drain(timeout=10)
        calls = rcv.calls()
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 1.0
    row = rows(app)[0]
    assert (row.status, row.attempts, row.failures) == ("delivered", 2, 0)
    # The delivered answer ends the run of throttled ones: the next 429 starts again from the minimum.
    assert state(app, "hook").cache["_meta"]["throttled_in_a_row"] == 0


def test_a_receiver_that_keeps_throttling_never_dead_letters_the_lead(delivery_app, leads_for):
    from tests.fakes.receiver import WebhookReceiver

    with WebhookReceiver(always(429, {"error": "slow down"}, {"Retry-After": "0"})) as rcv:
        app = delivery_app(
            [webhook(rcv.hook_url)],
            DELIVERY_MAX_ATTEMPTS=3,
            DELIVERY_THROTTLE_MIN_WAIT=0.05,
            DELIVERY_THROTTLE_MIN_WAIT_CAP=0.4,
        )
        leads_for(app)(1)
        worker = worker_for(app)
        worker.drain(timeout=2.5)
        throttled = [c.at for c in rcv.calls()]
        row = rows(app)[0]
        assert (row.status, row.failures) == ("pending", 0)
        assert row.attempts == len(throttled) >= 6  # twice the attempt limit, and still waiting
        assert {a.outcome for a in attempts(app, row.id)} == {"throttled"}
        # Each wait is at least the minimum, doubled after every throttled answer in a row, up to its cap.
        gaps = [b - a for a, b in zip(throttled, throttled[1:], strict=False)]
        for i, gap in enumerate(gaps):
            assert gap >= min(0.05 * 2**i, 0.4), (i, gaps)
        assert state(app, "hook").cache["_meta"]["throttled_in_a_row"] == len(throttled)

        rcv.script = always(200)
        worker.drain(timeout=5)
    row = rows(app)[0]
    assert (row.status, row.attempts, row.failures) == ("delivered", len(throttled) + 1, 0)
    assert state(app, "hook").cache["_meta"]["throttled_in_a_row"] == 0


def test_throttled_answers_do_not_count_toward_the_attempt_limit(delivery_app, leads_for):
    from tests.fakes.receiver import WebhookReceiver

    slow_down = Reply(429, {"error": "slow down"}, {"Retry-After": "0"})
    script = sequence(*[slow_down] * 4, Reply(500, {"error": "down"}))
    with WebhookReceiver(script) as rcv:
        app = delivery_app(
            [webhook(rcv.hook_url)],
            DELIVERY_MAX_ATTEMPTS=3,
            DELIVERY_THROTTLE_MIN_WAIT=0.02,
            DELIVERY_THROTTLE_MIN_WAIT_CAP=0.02,
        )
        leads_for(app)(1)
        worker_for(app).drain(timeout=10)
        assert [c.status for c in rcv.calls()] == [429] * 4 + [500] * 3
    row = rows(app)[0]
    # Four throttled answers, then the limit of three real failures ends it.
    assert (row.status, row.attempts, row.failures) == ("dead", 7, 3)
    assert row.last_error.startswith("gave up after 3 attempts: 500 from POST")
    assert [a.outcome for a in attempts(app, row.id)] == ["throttled"] * 4 + ["failed", "failed", "dead"]


def test_redirect_is_not_followed(delivery_app, leads_for, receiver):
    from tests.fakes.receiver import WebhookReceiver

    target = receiver.hook_url
    with WebhookReceiver(always(302, {}, {"Location": target})) as rcv:
        app = delivery_app([webhook(rcv.hook_url)], DELIVERY_RETRY_SCHEDULE=[0.05])
        leads_for(app)(1)
        worker_for(app).drain(timeout=5)
        assert len(rcv.calls()) == 2  # first try and the one retry of this short schedule
    assert receiver.calls() == []
    row = rows(app)[0]
    assert row.status == "dead" and "redirects are not followed" in row.last_error


@pytest.mark.parametrize("status,expected", [(401, "paused"), (403, "paused"), (410, "disabled")])
def test_auth_failure_pauses_and_gone_disables_without_burning_retries(
    delivery_app, leads_for, status, expected
):
    from tests.fakes.receiver import WebhookReceiver

    with WebhookReceiver(always(status, {"error": "no"})) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(3)
        worker_for(app).drain(timeout=5)
        assert len(rcv.calls()) == 1  # the first answer stops the destination; the other rows wait
    st = state(app, "hook")
    assert st.status == expected and f"{status} from POST" in st.reason
    assert [(r.status, r.failures) for r in rows(app)] == [("pending", 0)] * 3


def test_paused_destination_resumes_when_its_secret_changes(delivery_app, leads_for, receiver, monkeypatch):
    monkeypatch.delenv("QUIZAPP_TEST_HOOK_SECRET")
    app = delivery_app([webhook(receiver.hook_url)])
    leads_for(app)(2)
    worker_for(app).drain(timeout=5)
    st = state(app, "hook")
    assert st.status == "paused" and "QUIZAPP_TEST_HOOK_SECRET" in st.reason and "not set" in st.reason
    assert receiver.calls() == []
    monkeypatch.setenv("QUIZAPP_TEST_HOOK_SECRET", SECRET)
    worker_for(app).drain(timeout=5)
    assert state(app, "hook").status == "active"
    assert [r.status for r in rows(app)] == ["delivered", "delivered"]
    assert len(receiver.calls()) == 2


def test_malformed_secret_pauses_with_a_clear_reason(delivery_app, leads_for, receiver, monkeypatch):
    monkeypatch.setenv("QUIZAPP_TEST_HOOK_SECRET", "whsec_c2hvcnQ=")
    app = delivery_app([webhook(receiver.hook_url)])
    leads_for(app)(1)
    worker_for(app).drain(timeout=5)
    st = state(app, "hook")
    assert st.status == "paused" and "holds 5 bytes; use 24 to 64" in st.reason
