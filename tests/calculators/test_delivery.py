"""A calculator lead pushed to a webhook: inputs and computed values travel with it, rules can look at them,
and the exact bytes hold no NaN or Infinity."""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook

from tests.delivery.support import FAST, SECRET, SECRET_ENV, rows, webhook, worker_for
from tests.fakes.receiver import WebhookReceiver


def test_calculator_lead_reaches_the_webhook_with_its_values(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with WebhookReceiver() as receiver:
        mapping = {
            "tags": {"rules": [{"when": {"values.a_cost_per_customer.value": {"min": 1000}},
                                "add": ["channel-a-over-1000"]}]},
            "fields": {"CPC_A": "values.a_cost_per_customer.display",
                       "CPC_B": "values.b_cost_per_customer.value"},
        }
        path = tmp_path / "destinations.json"
        path.write_text(json.dumps({"destinations": [webhook(receiver.hook_url, mapping=mapping)]}))
        app = make_app(DESTINATIONS_FILE=str(path), **FAST)
        client = app.test_client(use_cookies=False)
        data = {"a_cost_per_lead": "5", "a_close_rate": "0.3", "b_cost_per_lead": "40", "b_close_rate": "0"}
        url = client.post("/q/customer-cost/start", data=data).location
        gate = {"first_name": "Ann", "email": "ann@example.com", "_action": "unlock"}
        r = client.post(url, data={**data, **gate})
        assert r.status_code == 303

        assert worker_for(app).drain(timeout=10).delivered == 1
        [request] = receiver.calls("POST", "/hook")
        assert request.body == rows(app)[0].payload
        assert b"NaN" not in request.body and b"Infinity" not in request.body
        event = Webhook(SECRET).verify(request.body, request.headers)
        payload = event["data"]
        assert (payload["quiz"], payload["quiz_kind"], payload["outcome"]) == ("customer-cost", "calculator",
                                                                               "no_customers")
        assert payload["fields"] == {"CPC_A": "$1,666.67"}  # an undefined value sends no field
        assert payload["tags"] == ["calculator:customer-cost", "cost-per-customer:over-1000",
                                   "channel-without-customers", "warm-lead", "channel-a-over-1000"]
        assert payload["lead_score"] == 20
        assert payload["values"]["a_cost_per_customer"]["value"] == 1666.67
        assert b'"a_close_rate":{"kind":"input","label":' in request.body
        assert b'"value":0.003,"display":"0.3%"' in request.body  # 0.3% as typed: exact digits, a number
        assert payload["values"]["b_cost_per_customer"] == {"kind": "result", "label": "Channel B: cost per "
                                                            "customer", "value": None,
                                                            "display": "No customers yet: needs a rate above 0%",
                                                            "show": "free"}
        assert payload["values"]["b_close_rate"]["value"] == 0
