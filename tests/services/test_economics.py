"""Cost per lead, lead-to-customer rate and cost per customer, with the guide's figures."""

from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from quizapp.cli import cli
from quizapp.services.economics import UnknownLead, economics, mark_customer, record_spend
from tests.web.test_flow import submit_gate, take_funnel


def five_leads(client):
    for i in range(5):
        submit_gate(client, take_funnel(client), email=f"lead{i}@example.com")


def test_200_dollar_leads_converting_at_20_percent_cost_1000_per_customer(client, db):
    five_leads(client)
    record_spend(db, "funnel-leak", Decimal("600"), date(2026, 11, 2), "Google Search ads")
    record_spend(db, "funnel-leak", Decimal("400"), date(2026, 11, 9))
    mark_customer(db, " LEAD3@example.com", Decimal("497"))
    db.commit()
    e = economics(db, "funnel-leak")
    assert (e.spend, e.leads, e.customers, e.revenue) == (Decimal("1000.00"), 5, 1, Decimal("497.00"))
    assert e.cost_per_lead == Decimal("200.00")
    assert e.lead_to_customer_percent == Decimal("20.00")
    assert e.cost_per_customer == Decimal("1000.00")
    assert e.revenue_per_lead == Decimal("99.40")


def test_a_second_sale_adds_revenue_but_not_a_customer(client, db):
    five_leads(client)
    mark_customer(db, "lead0@example.com", Decimal("97"))
    lead = mark_customer(db, "lead0@example.com", Decimal("47.5"))
    assert lead.revenue == Decimal("144.50")
    e = economics(db, "funnel-leak")
    assert (e.customers, e.cost_per_lead, e.cost_per_customer) == (1, None, None)  # no spend recorded: no figure


def test_unknown_lead_and_bad_amounts(client, db):
    with pytest.raises(UnknownLead):
        mark_customer(db, "nobody@example.com", Decimal("10"))
    with pytest.raises(ValueError):
        record_spend(db, "funnel-leak", Decimal("-5"))
    assert economics(db, "funnel-leak").cost_per_lead is None  # no leads: no figure, never a division by zero


def test_customers_api(make_app):
    app = make_app(API_TOKEN="tok")
    client = app.test_client(use_cookies=False)
    submit_gate(client, take_funnel(client), email="buyer@example.com")
    auth = {"Authorization": "Bearer tok"}
    assert client.post("/api/customers", json={"email": "buyer@example.com"}).status_code == 401
    r = client.post("/api/customers", json={"email": "Buyer@Example.com", "revenue": "97.00"}, headers=auth)
    assert r.status_code == 200
    assert r.json["email"] == "buyer@example.com" and r.json["revenue"] == "97.00"
    assert client.post("/api/customers", json={"email": "x@example.com", "revenue": "1"},
                       headers=auth).status_code == 404
    bad = client.post("/api/customers", json={"email": "buyer@example.com", "revenue": "lots"}, headers=auth)
    assert bad.status_code == 400 and "revenue" in bad.json["error"]
    assert make_app().test_client().post("/api/customers", json={}).status_code == 404  # API off


def test_spend_and_customer_commands(client, db, monkeypatch, database_url, quizzes_dir):
    five_leads(client)
    db.rollback()
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", database_url)
    monkeypatch.setenv("QUIZAPP_SECRET_KEY", "test-secret")
    monkeypatch.setenv("QUIZAPP_QUIZZES_DIR", str(quizzes_dir))
    runner = CliRunner()
    out = runner.invoke(cli, ["spend", "add", "funnel-leak", "50", "--on", "2026-11-30"])
    assert out.exit_code == 0 and out.output == "recorded 50.00 on 2026-11-30 for funnel-leak\n"
    assert runner.invoke(cli, ["spend", "add", "nope", "50"]).exit_code == 2
    assert runner.invoke(cli, ["spend", "add", "funnel-leak", "fifty"]).exit_code == 2
    out = runner.invoke(cli, ["customer", "lead1@example.com", "--revenue", "97"])
    assert out.exit_code == 0 and "revenue 97.00" in out.output
    assert runner.invoke(cli, ["customer", "ghost@example.com", "--revenue", "1"]).exit_code == 1
    stats = runner.invoke(cli, ["stats", "funnel-leak"]).output
    assert ("spend 50.00, cost per lead 10.00, customers 1 (20.00% of leads), cost per customer 50.00, "
            "revenue 97.00 (19.40 per lead)") in stats


@pytest.mark.parametrize("amount", ["1e30", "1000000000", "1" * 1000, "NaN", "-1"])
def test_amounts_outside_what_money_columns_hold_are_refused(client, db, amount):
    submit_gate(client, take_funnel(client), email="big@example.com")
    with pytest.raises(ValueError, match="is an amount from 0 to 999,999,999.99"):
        mark_customer(db, "big@example.com", Decimal(amount))
    with pytest.raises(ValueError, match="is an amount from 0 to 999,999,999.99"):
        record_spend(db, "funnel-leak", Decimal(amount))


def test_a_lead_total_never_overflows(client, db):
    submit_gate(client, take_funnel(client), email="big@example.com")
    lead = mark_customer(db, "big@example.com", Decimal("999999999.99"))
    lead.revenue = Decimal("999999999999.49")
    with pytest.raises(ValueError, match="over 999,999,999,999.99"):
        mark_customer(db, "big@example.com", Decimal("1"))
    assert mark_customer(db, "big@example.com", Decimal("0.50")).revenue == Decimal("999999999999.99")
    db.commit()


def test_numeric_looking_secrets_from_the_environment_stay_text(monkeypatch, make_app):
    monkeypatch.setenv("QUIZAPP_ADMIN_PASSWORD", "123456")
    monkeypatch.setenv("QUIZAPP_API_TOKEN", "1e5")
    monkeypatch.setenv("QUIZAPP_RESPONSE_TOKEN_MAX_AGE", "3600")
    app = make_app()
    assert app.config["ADMIN_PASSWORD"] == "123456" and app.config["API_TOKEN"] == "1e5"
    assert app.config["RESPONSE_TOKEN_MAX_AGE"] == 3600
    client = app.test_client()
    r = client.post("/api/customers", json={"email": "x@example.com", "revenue": "1"},
                    headers={"Authorization": "Bearer 1e5"})
    assert r.status_code == 404 and r.json["error"] == "no lead with the email x@example.com"


def test_api_refuses_huge_revenue_with_json(make_app):
    app = make_app(API_TOKEN="tok")
    client = app.test_client(use_cookies=False)
    submit_gate(client, take_funnel(client), email="buyer@example.com")
    r = client.post("/api/customers", json={"email": "buyer@example.com", "revenue": "1e30"},
                    headers={"Authorization": "Bearer tok"})
    assert r.status_code == 400 and r.json["error"] == "revenue is an amount from 0 to 999,999,999.99"
