"""A lead from the funnel-leak quiz, taken through the web flow, reaches a local receiver signed and tagged;
the in-process worker sends it without being asked."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from standardwebhooks import Webhook

from quizapp.delivery.worker import start_inprocess_worker, stop_inprocess_worker
from tests.delivery.support import SECRET, rows, webhook, worker_for
from tests.web.test_flow import submit_gate, take_funnel

MAPPING = {
    "tags": {
        "rules": [
            {"when": {"outcome": "nurture"}, "add": ["sequence:nurture-fix"]},
            {"when": {"sub_scores.convert.percent": {"min": 50}}, "add": ["converts-well"]},
            {"when": {"answers.channels": "google_ads"}, "add": ["runs-ads"]},
        ]
    },
    "fields": {"leak": "outcome", "score_percent": "percent", "source": "utm_source"},
}


def test_funnel_leak_lead_reaches_the_webhook_signed_and_tagged(delivery_app, receiver):
    app = delivery_app([webhook(receiver.hook_url, mapping=MAPPING)])
    client = app.test_client(use_cookies=False)
    gate = take_funnel(client, query="?utm_source=newsletter&utm_campaign=spring")
    assert submit_gate(client, gate, name="Ann", email=" Ann.One@Example.COM ").status_code == 303
    assert worker_for(app).drain(timeout=10).delivered == 1

    [req] = receiver.calls()
    event = Webhook(SECRET).verify(req.body, req.headers)
    data = event["data"]
    assert event["type"] == "lead.created"
    assert (data["email"], data["first_name"], data["quiz"], data["outcome"]) == (
        "ann.one@example.com",
        "Ann",
        "funnel-leak",
        "nurture",
    )
    assert (data["score"], data["max_score"], data["percent"]) == (16, 28, 57.14)
    assert data["tags"] == [
        "quiz:funnel-leak",
        "channel:owned",
        "channel:paid",
        "leak:nurture",
        "sequence:nurture-fix",
        "converts-well",
        "runs-ads",
    ]
    assert data["fields"] == {"leak": "nurture", "score_percent": 57.14, "source": "newsletter"}
    assert data["sub_scores"]["nurture"] == {"label": "Nurture", "score": 0, "max": 6, "percent": 0}
    assert (data["utm_source"], data["utm_campaign"]) == ("newsletter", "spring")
    assert data["consent"] is True and data["consent_text"].startswith("Yes, email me the plan")
    assert len(data["answers"]) == 10 and data["answers"][0]["label"].startswith("Search and my blog")
    assert rows(app)[0].payload == req.body


def test_inprocess_worker_sends_as_soon_as_the_lead_is_committed(delivery_app, receiver):
    app = delivery_app([webhook(receiver.hook_url)], DELIVERY_POLL_SECONDS=30)
    thread = start_inprocess_worker(app)
    try:
        assert thread.daemon and thread.is_alive()
        client = app.test_client(use_cookies=False)
        gate = take_funnel(client)
        started = time.monotonic()
        submit_gate(client, gate)
        deadline = started + 10
        while not receiver.calls() and time.monotonic() < deadline:
            time.sleep(0.01)
        # Woken by the commit, not by its 30 s poll.
        assert receiver.calls() and time.monotonic() - started < 5
    finally:
        stop_inprocess_worker(app)
    assert not thread.is_alive()
    assert json.loads(receiver.calls()[0].body)["data"]["quiz"] == "funnel-leak"
    deadline = time.monotonic() + 5
    while rows(app)[0].status != "delivered" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rows(app)[0].status == "delivered"


def _rewrite(path, text: str) -> None:
    """Rewrite the destinations file so the running app sees a change (a new size and modification time)."""
    before = path.stat()
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))


def test_a_broken_edit_of_the_destinations_file_never_costs_a_lead(delivery_app, receiver, caplog):
    """Each broken edit is logged, the previous destinations stay in use, and every gate stores its lead."""
    app = delivery_app([webhook(receiver.hook_url)])
    path = Path(app.config["DESTINATIONS_FILE"])
    good = path.read_text()
    broken = {
        "huge number": good.replace('"timeout": 2', '"timeout": ' + "9" * 5000),
        "deep nesting": '{"destinations": ' + "[" * 50_000,
        "not a list": '{"destinations": {"name": "hook"}}',
    }
    client = app.test_client(use_cookies=False)
    statuses = []
    for i, (what, text) in enumerate(broken.items()):
        _rewrite(path, text)
        caplog.clear()
        gate = take_funnel(client)
        statuses.append(submit_gate(client, gate, email=f"lead{i}@example.com").status_code)
        [record] = [r for r in caplog.records if r.name == "quizapp.delivery" and r.levelname == "ERROR"]
        assert f"still using the previous version:\n{path}: $" in record.getMessage(), what
    assert statuses == [303, 303, 303]
    assert [(r.destination, r.status) for r in rows(app)] == [("hook", "pending")] * 3
    assert worker_for(app).drain(timeout=10).delivered == 3
    assert sorted(json.loads(c.body)["data"]["email"] for c in receiver.calls()) == [
        "lead0@example.com",
        "lead1@example.com",
        "lead2@example.com",
    ]
