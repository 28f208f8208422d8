"""Calculator figures in mappings and payloads: what `values.<name>` and number answers send."""

from __future__ import annotations

import json

from quizapp.delivery.mapping import resolve
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
    assert set(data["fields"]) == {"needed", "needed_text"}
    assert data["fields"]["needed_text"] == "1,334 leads"
    assert str(data["fields"]["needed"]) == "1334"
