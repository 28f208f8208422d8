"""A destination with "require_consent": true gets only leads who ticked the gate's consent checkbox."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizapp.delivery.commands import deliveries
from quizapp.delivery.config import DestinationsError, parse_destinations
from tests.delivery.support import rows, webhook, worker_for
from tests.delivery.test_delivery_values import LEADS_NEEDED, calculator_lead
from tests.web.test_flow import submit_gate, take_funnel

HOOK = "http://127.0.0.1:9/hook"


def sent(app) -> list[tuple[str, str, bool]]:
    return [(r.destination, json.loads(bytes(r.payload))["data"]["email"],
             json.loads(bytes(r.payload))["data"]["consent"]) for r in rows(app)]


def test_without_the_setting_every_lead_goes_to_every_destination(delivery_app, leads_for):
    app = delivery_app([webhook(HOOK)])
    add = leads_for(app)
    add(email="yes@example.com", consent=True)
    add(email="no@example.com", consent=False)
    assert sent(app) == [("hook", "yes@example.com", True), ("hook", "no@example.com", False)]


def test_a_lead_without_consent_gets_no_row_for_a_destination_that_requires_it(delivery_app, leads_for):
    app = delivery_app([webhook(HOOK), webhook(HOOK, name="crm", require_consent=True)])
    add = leads_for(app)
    add(email="yes@example.com", consent=True)
    add(email="no@example.com", consent=False)
    assert sent(app) == [
        ("hook", "yes@example.com", True),
        ("crm", "yes@example.com", True),
        ("hook", "no@example.com", False),
    ]


def test_shipped_calculator_leads_have_no_consent_and_quiz_leads_who_tick_it_do(delivery_app):
    app = delivery_app([webhook(HOOK), webhook(HOOK, name="crm", require_consent=True)])
    calculator_lead(app, "leads-needed", LEADS_NEEDED, email="calc@example.com")  # no checkbox to tick
    client = app.test_client(use_cookies=False)
    assert submit_gate(client, take_funnel(client), email="quiz@example.com").status_code == 303
    assert sent(app) == [
        ("hook", "calc@example.com", False),
        ("hook", "quiz@example.com", True),
        ("crm", "quiz@example.com", True),
    ]


def test_rows_queued_before_the_destination_required_consent_are_never_sent(delivery_app, leads_for, receiver):
    app = delivery_app([webhook(receiver.hook_url, name="crm")])
    add = leads_for(app)
    add(email="no@example.com", consent=False)
    add(email="yes@example.com", consent=True)
    path = Path(app.config["DESTINATIONS_FILE"])
    before = path.stat()
    path.write_text(json.dumps({"destinations": [webhook(receiver.hook_url, name="crm", require_consent=True)]}))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    stats = worker_for(app).drain(timeout=10)
    assert (stats.delivered, stats.dead) == (1, 1)
    assert [json.loads(c.body)["data"]["email"] for c in receiver.calls()] == ["yes@example.com"]
    refused, delivered = rows(app)
    assert (refused.status, refused.attempts) == ("dead", 0)
    assert refused.last_error == "not sent: destination 'crm' takes only leads who consented"
    assert delivered.status == "delivered"


def test_check_shows_the_setting_and_a_bad_value_is_refused(delivery_app):
    app = delivery_app([webhook(HOOK, require_consent=True)])
    with app.app_context():
        result = CliRunner().invoke(deliveries, ["check"], catch_exceptions=False)
    assert result.output == "hook: webhook, for all quizzes, leads who consented: ok\n"
    with pytest.raises(DestinationsError) as err:
        parse_destinations({"destinations": [webhook(HOOK, require_consent="maybe")]}, "d.json")
    assert err.value.problems == ["d.json: $.destinations[0].require_consent: Not a valid boolean."]
