"""Calculator figures in mappings and payloads: what `values.<name>` and number answers send."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quizapp.delivery.mapping import resolve
from quizapp.delivery.payload import encode
from tests.delivery.support import rows, webhook

# 20 customers at a 1.5% close rate need 1,334 leads (the leads-needed calculator's own example).
LEADS_NEEDED = {"customers": "20", "close_rate": "1.5", "optin_rate": ""}


def calculator_lead(app, slug: str, inputs: dict, email: str = "ann@example.com") -> None:
    """A visitor fills the calculator in and unlocks it through the gate, as in a browser."""
    client = app.test_client(use_cookies=False)
    url = client.post(f"/q/{slug}/start", data=inputs).location
    gate = {"first_name": "Ann", "email": email, "_action": "unlock"}
    assert client.post(url, data={**inputs, **gate}).status_code == 303


def payloads(app) -> list[dict]:
    return [json.loads(bytes(r.payload))["data"] for r in rows(app)]


def test_a_value_path_stands_for_the_number_and_its_parts_stay_addressable():
    facts = {"values": {"leads_needed": {"kind": "result", "label": "Leads you need", "value": "1334",
                                         "display": "1,334 leads", "show": "free"}}}
    assert resolve(facts, "values.leads_needed") == "1334"
    assert resolve(facts, "values.leads_needed.value") == "1334"
    assert resolve(facts, "values.leads_needed.display") == "1,334 leads"
    assert resolve(facts, "values.leads_needed.label") == "Leads you need"
    assert resolve(facts, "values.missing") is None
    assert resolve(facts, "values") == facts["values"]


def test_documented_value_paths_fill_fields_and_match_rules(delivery_app):
    mapping = {
        "tags": {"include": "none", "rules": [
            {"when": {"values.leads_needed": {"min": 1000}}, "add": ["volume-1000-plus"]},
            {"when": {"values.leads_needed": {"max": 999}}, "add": ["never"]},
            {"when": {"values.close_rate": {"max": 0.02}}, "add": ["below-2-percent"]},
        ]},
        "fields": {"needed": "values.leads_needed", "needed_text": "values.leads_needed.display",
                   "visitors": "values.visitors_needed"},
    }
    app = delivery_app([webhook("http://127.0.0.1:9/hook", mapping=mapping)])
    calculator_lead(app, "leads-needed", LEADS_NEEDED)
    [data] = payloads(app)
    assert data["tags"] == ["volume-1000-plus", "below-2-percent"]
    # visitors_needed is undefined without an opt-in rate: the field is left out, not sent empty.
    assert data["fields"] == {"needed": 1334, "needed_text": "1,334 leads"}


NUMBER_QUIZ = {
    "kind": "quiz", "slug": "traffic", "title": "Traffic", "headline": "Traffic check",
    "questions": [
        {"id": "channel", "type": "single", "text": "Main channel?", "options": [
            {"value": "seo", "label": "SEO", "points": 1}, {"value": "ads", "label": "Ads", "points": 2}]},
        {"id": "visitors", "type": "number", "text": "Visitors a month?", "unit": "visitors"},
    ],
    "outcomes": [{"id": "low", "title": "Low"}, {"id": "high", "title": "High"}],
    "scoring": {"model": "tiers", "tiers": [{"min": 0, "max": 1, "outcome": "low"},
                                            {"min": 2, "max": 5, "outcome": "high"}]},
}


def test_calculator_figures_and_inputs_are_json_numbers_in_the_exact_bytes(delivery_app):
    mapping = {"fields": {"needed": "values.leads_needed", "rate": "values.close_rate",
                          "customers": "answers.customers"}}
    app = delivery_app([webhook("http://127.0.0.1:9/hook", mapping=mapping)])
    calculator_lead(app, "leads-needed", LEADS_NEEDED)
    body = bytes(rows(app)[0].payload)
    assert (b'"leads_needed":{"kind":"result","label":"Leads you need","value":1334,"display":"1,334 leads"'
            in body)
    # 1.5% is the fraction 0.015, written with its own digits; an undefined figure is null.
    assert b'"close_rate":{"kind":"input","label":"Lead-to-customer conversion rate","value":0.015,' in body
    assert b'"visitors_needed":{"kind":"result","label":"Visitors you need","value":null,' in body
    assert (b'{"question":"customers","text":"Customers you want to win","type":"integer","value":20,'
            b'"label":"20 customers"}') in body
    assert b'"optin_rate","text":"Opt-in rate of your landing page (optional)","type":"percent","value":null' in body
    data = json.loads(body)["data"]
    assert data["fields"] == {"needed": 1334, "rate": 0.015, "customers": 20}
    assert b"NaN" not in body and b"Infinity" not in body


def test_a_quiz_number_answer_is_a_json_number(delivery_app, quizzes_dir):
    (quizzes_dir / "traffic.json").write_text(json.dumps(NUMBER_QUIZ))
    mapping = {"fields": {"VISITORS": "answers.visitors"},
               "tags": {"include": "none", "rules": [{"when": {"answers.visitors": {"min": 1000}}, "add": ["busy"]}]}}
    app = delivery_app([webhook("http://127.0.0.1:9/hook", mapping=mapping)])
    client = app.test_client(use_cookies=False)
    url = client.post("/q/traffic/start").location
    url = client.post(url, data={"answer": "ads"}).location
    gate = client.post(url, data={"answer": "1,250.50"}).location
    assert client.post(gate, data={"first_name": "Ann", "email": "ann@example.com"}).status_code == 303
    body = bytes(rows(app)[0].payload)
    assert (b'{"question":"visitors","text":"Visitors a month?","type":"number","value":1250.5,'
            b'"label":"1250.5 visitors"}') in body
    assert b'{"question":"channel","text":"Main channel?","type":"single","value":"ads","label":"Ads"}' in body
    data = json.loads(body)["data"]
    assert (data["fields"], data["tags"]) == ({"VISITORS": 1250.5}, ["busy"])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.3"), "0.3"),
        (Decimal("0.30"), "0.3"),
        (Decimal("1666.6700"), "1666.67"),
        (Decimal("-0"), "0"),
        (Decimal("0E-8"), "0"),
        (Decimal("1334"), "1334"),
        (Decimal("1E+3"), "1000"),
        # more digits than a double keeps: sent as they are, not rounded through a float
        (Decimal("1234567.123456789012"), "1234567.123456789012"),
        (Decimal("0.1000000000000000055511151231257827"), "0.1000000000000000055511151231257827"),
        (Decimal("1E+25"), "1E+25"),
        (Decimal("1.5E-9"), "1.5E-9"),
        (Decimal("NaN"), "null"),
        (Decimal("-Infinity"), "null"),
        (Decimal("1E+400"), "null"),  # read as Infinity by every receiver
        (float("nan"), "null"),
        (float("inf"), "null"),
        (0.25, "0.25"),
    ],
)
def test_numbers_are_written_exactly_and_never_as_nan_or_infinity(value, text):
    assert encode({"n": value}) == '{"n":' + text + "}"
    assert json.loads(encode([value])) == [json.loads(text)]


def test_the_payload_encoding_matches_compact_json_for_everything_else():
    sample = {"tags": ["café", "a\"b", "\u2028"], "n": 3, "ok": True, "none": None, "nested": {"1": [1.5, {}]},
              "at": datetime(2026, 5, 1, 12, 0, 1, 250000, tzinfo=UTC)}
    expected = json.dumps({**sample, "at": "2026-05-01T12:00:01.250Z"}, ensure_ascii=False, separators=(",", ":"))
    assert encode(sample) == expected
