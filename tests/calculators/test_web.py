"""Calculator pages through the Flask test client (no cookies), with and without htmx."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from quizapp.store.models import Event, Lead, Response, Submission

HX = {"HX-Request": "true"}
CUSTOMER_COST = {"a_cost_per_lead": "5", "a_close_rate": "0.3", "b_cost_per_lead": "40", "b_close_rate": "6"}


def text_of(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def live(resp) -> str:
    """The live result panel of a page or partial."""
    body = text_of(resp)
    start = body.index('id="calc-live"')
    return body[start:body.index("</div>\n", body.index("calc-headline", start))]


def figure(resp, name: str) -> str:
    m = re.search(rf'data-value="{name}"[^>]*><dt>[^<]*</dt><dd>([^<]*)', text_of(resp))
    assert m, name
    return m.group(1).strip()


def headline(resp) -> str:
    return re.search(r'<p class="calc-headline[^"]*">([^<]*)</p>', text_of(resp)).group(1)


def start(client, slug: str, data: dict, headers=None):
    r = client.post(f"/q/{slug}/start", data=data, headers=headers or {})
    assert r.status_code == 303, r.get_data(as_text=True)
    assert r.location.endswith("/calculate")
    return r.location


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_landing_shows_defaults_and_the_free_headline_without_cookies(client, db):
    r = client.get("/q/leads-needed?utm_source=blog")
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers
    body = text_of(r)
    assert 'name="customers" inputmode="numeric" autocomplete="off" value="10"' in body
    assert '<input type="hidden" name="utm_source" value="blog">' in body
    assert headline(r) == "200 leads"
    assert "+ 3 more figures and advice in your full results" in body
    assert "Visitors you need" not in body  # gated
    assert "Vary" in r.headers and "HX-Request" in r.headers["Vary"]
    assert count(db, Response) == 0
    assert [e.kind for e in db.scalars(select(Event))] == ["view"]


def test_the_calculated_screen_keeps_the_landing_headline_and_promise(client, db):
    heading = "<h1 tabindex=\"-1\">Work backwards from your sales target: how many leads do you really need?</h1>"
    promise = ('<p class="promise">Enter the customers you want and your lead-to-customer rate. '
               "Get the leads, and the visitors, it takes.</p>")
    landing = text_of(client.get("/q/leads-needed"))
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "5"})
    for screen in (landing, text_of(client.get(url)), text_of(client.get(url, headers=HX))):
        assert heading in screen and promise in screen
        assert "<h1" not in screen.replace(heading, "")


def test_landing_prefill_from_the_link_and_bad_values_ignored(client):
    r = client.get("/q/leads-needed?customers=25&close_rate=2&optin_rate=abc")
    assert headline(r) == "1,250 leads"
    assert 'name="optin_rate" inputmode="decimal" autocomplete="off" value=""' in text_of(r)


@pytest.mark.parametrize(("slug", "data", "expected"), [
    ("leads-needed", {"customers": "10", "close_rate": "5"}, "200 leads"),
    ("leads-needed", {"customers": "10", "close_rate": "2%"}, "500 leads"),
    ("customer-cost", {"a_cost_per_lead": "$200", "a_close_rate": "20", "b_cost_per_lead": "10",
                       "b_close_rate": "0.5"}, "$1,000.00"),
    ("customer-cost", CUSTOMER_COST, "$1,666.67"),
    ("cost-per-lead", {"hours": "10", "hourly_rate": "50", "tools": "100", "ad_spend": "400", "leads": "50"},
     "$20.00"),
])
def test_live_preview_is_server_computed_and_stateless(client, db, slug, data, expected):
    r = client.post(f"/q/{slug}/preview", data=data, headers=HX)
    assert r.status_code == 200
    assert "HX-Request" in r.headers["Vary"]
    assert "HX-Push-Url" not in r.headers
    assert text_of(r).lstrip().startswith('<div id="calc-live"')
    assert headline(r) == expected
    assert count(db, Response) == 0


def test_preview_reports_field_messages_out_of_band(client):
    data = dict(CUSTOMER_COST, b_close_rate="6,5")
    body = text_of(client.post("/q/customer-cost/preview", data=data, headers=HX))
    assert ('<p class="error" id="err-b_close_rate" role="alert" hx-swap-oob="true">\u201c6,5\u201d is not a '
            "number we can read: use a dot for decimals (1.5), and commas only between thousands (1,500).</p>"
            in body)
    assert '<p class="error" id="err-a_close_rate" role="alert" hx-swap-oob="true"></p>' in body
    # a value that needs the unreadable input shows a dash and points at the field, not the fallback
    assert re.search(r'data-value="b_cost_per_customer" class="undefined"><dt>[^<]*</dt><dd>\u2014</dd>'
                     r'<dd class="why muted small">Check \u201cChannel B: lead-to-customer rate\u201d.</dd>',
                     body)


def test_the_three_calculators_give_the_guide_figures_without_javascript(client, db):
    guide = {"a_cost_per_lead": "200", "a_close_rate": "20", "b_cost_per_lead": "10", "b_close_rate": "0.5"}
    url = start(client, "customer-cost", guide)
    page = client.get(url)
    assert (headline(page), figure(page, "b_cost_per_customer")) == ("$1,000.00", "$2,000.00")
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "2"})
    assert headline(client.get(url)) == "500 leads"
    spend = {"hours": "5", "hourly_rate": "40", "tools": "50", "ad_spend": "2,000", "leads": "30"}
    url = start(client, "cost-per-lead", spend)
    page = client.get(url)
    assert (headline(page), figure(page, "total_investment")) == ("$75.00", "$2,250.00")


def take_customer_cost(client, headers=None):
    url = start(client, "customer-cost", dict(CUSTOMER_COST, utm_source="newsletter"), headers)
    page = client.get(url, headers=headers or {})
    assert page.status_code == 200
    r = client.post(url, data=dict(CUSTOMER_COST, first_name="  Ann ", email=" Ann.One@Example.COM ",
                                   _action="unlock"), headers=headers or {})
    assert r.status_code == 303 and r.location.endswith("/result")
    return url, r.location


def test_full_flow_without_javascript_stores_inputs_values_tags_and_score(client, db):
    url, result_url = take_customer_cost(client)
    result = client.get(result_url)
    assert result.status_code == 200
    body = text_of(result)
    assert "Ann, your full results" in body
    assert headline(result) == "$1,666.67"
    assert figure(result, "b_cost_per_customer") == "$666.67"
    assert figure(result, "difference") == "$1,000.00"
    assert figure(result, "a_leads_per_customer") == "334 leads"
    assert "The cheaper leads are the more expensive customers" in body
    assert "a difference of <strong>$1,000.00</strong> per customer" in body
    assert "cheap_lead_trap" not in body  # hidden values are stored, never shown

    lead = db.scalars(select(Lead)).one()
    assert (lead.email, lead.first_name) == ("ann.one@example.com", "Ann")
    assert lead.tags == ["calculator:customer-cost", "cost-per-customer:over-1000", "cheap-leads-cost-more",
                         "hot-lead"]
    sub = db.scalars(select(Submission)).one()
    assert (sub.quiz_slug, sub.outcome, sub.lead_score, sub.score) == ("customer-cost", "trap", Decimal(50),
                                                                      None)
    assert sub.values["a_cost_per_customer"] == {"kind": "result", "label": "Channel A: cost per customer",
                                                 "value": "1666.67", "display": "$1,666.67", "show": "free"}
    assert sub.values["a_close_rate"] == {"kind": "input", "label": "Channel A: lead-to-customer rate",
                                          "value": "0.003", "display": "0.3%"}
    assert sub.values["cheap_lead_trap"]["value"] == "1"
    assert sub.values["a_profit_per_customer"] == {"kind": "result", "label": "Channel A: what a customer "
                                                   "leaves you", "value": None,
                                                   "display": "Needs what a customer is worth and a rate above 0%",
                                                   "show": "gated"}
    assert sub.answers[0] == {"question": "a_cost_per_lead", "text": "Channel A: cost per lead",
                              "type": "currency", "value": "5", "label": "$5"}
    stored = json.dumps([sub.values, sub.answers])
    assert "NaN" not in stored and "Infinity" not in stored
    response = db.scalars(select(Response)).one()
    assert response.answers == {"a_cost_per_lead": "5", "a_close_rate": "0.003", "b_cost_per_lead": "40",
                                "b_close_rate": "0.06", "customer_value": None}
    assert response.source == {"utm_source": "newsletter"}
    assert response.status == "complete"
    kinds = [e.kind for e in db.scalars(select(Event).order_by(Event.id))]
    assert kinds == ["start", "gate_view", "lead", "result_view"]


def test_with_htmx_the_same_requests_give_partials_and_the_same_digits(client, db):
    page = client.get("/q/customer-cost", headers=HX)
    assert text_of(page).lstrip().startswith('<link rel="stylesheet"')
    assert "<html" not in text_of(page)
    url, result_url = take_customer_cost(client, headers=HX)
    result = client.get(result_url, headers=HX)
    assert "<html" not in text_of(result)
    assert result.headers["HX-Push-Url"] == result_url
    assert (headline(result), figure(result, "b_cost_per_customer")) == ("$1,666.67", "$666.67")
    # a history restore gets the whole page
    restore = client.get(result_url, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in text_of(restore)
    sub = db.scalars(select(Submission)).one()
    assert sub.values["b_cost_per_customer"]["display"] == "$666.67"


def test_invalid_input_shows_the_form_again_with_the_typed_text_and_creates_nothing(client, db):
    r = client.post("/q/leads-needed/start", data={"customers": "1,5", "close_rate": "", "optin_rate": "12",
                                                  "utm_source": "x"})
    assert r.status_code == 422
    body = text_of(r)
    assert 'name="customers" inputmode="numeric" autocomplete="off" value="1,5"' in body
    assert 'aria-invalid="true"' in body
    assert ('<p class="error" id="err-customers" role="alert">\u201c1,5\u201d is not a number we can read: '
            "use a dot for decimals (1.5), and commas only between thousands (1,500).</p>") in body
    assert '<p class="error" id="err-close_rate" role="alert">Please enter a number.</p>' in body
    assert 'value="12"' in body
    assert '<input type="hidden" name="utm_source" value="x">' in body
    assert count(db, Response) == 0


def test_division_by_zero_shows_the_fallback_and_stores_null(client, db):
    url = start(client, "customer-cost", dict(CUSTOMER_COST, b_close_rate="0"))
    page = client.get(url)
    assert page.status_code == 200
    assert figure(page, "b_cost_per_customer") == "No customers yet: needs a rate above 0%"
    # the creator's fallback is the explanation: no general reason under it, and the row can wrap
    assert "divides by zero" not in text_of(page)
    assert '<div data-value="b_cost_per_customer" class="undefined">' in text_of(page)
    r = client.post(url, data=dict(CUSTOMER_COST, b_close_rate="0", first_name="Bo", email="bo@example.com",
                                   _action="unlock"))
    result = client.get(r.location)
    assert result.status_code == 200
    assert figure(result, "difference") == "Needs a rate above 0% on both channels"
    assert figure(result, "b_leads_per_customer") == "No customers yet: needs a rate above 0%"
    assert "divides by zero" not in text_of(result)
    sub = db.scalars(select(Submission)).one()
    assert sub.values["b_cost_per_customer"]["value"] is None
    assert "channel-without-customers" in sub.tags
    assert sub.outcome == "no_customers"
    for text in (text_of(page), text_of(result)):
        assert "NaN" not in text and "Infinity" not in text


def test_every_value_divided_by_zero_never_fails(client):
    r = client.post("/q/cost-per-lead/preview", data={"hours": "0", "hourly_rate": "0", "tools": "0",
                                                      "ad_spend": "0", "leads": "0", "customers": "0",
                                                      "visitors": "0"}, headers=HX)
    assert r.status_code == 200
    assert headline(r) == "No leads in this period yet"


def test_recalculate_updates_the_stored_inputs_and_enter_unlocks_only_with_an_email(client, db):
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "5"})
    r = client.post(url, data={"customers": "10", "close_rate": "2", "_action": "calculate"})
    assert r.status_code == 303 and r.location == url
    assert headline(client.get(url)) == "500 leads"
    assert db.scalars(select(Response)).one().answers["close_rate"] == "0.02"
    # Enter in a field ("auto") without an email recalculates
    r = client.post(url, data={"customers": "20", "close_rate": "2", "_action": "auto", "email": ""})
    assert r.location == url
    assert count(db, Submission) == 0
    # ... and with an email unlocks, for the numbers on screen
    r = client.post(url, data={"customers": "20", "close_rate": "1.5", "optin_rate": "20", "_action": "auto",
                               "first_name": "Cy", "email": "cy@example.com"})
    assert r.location.endswith("/result")
    sub = db.scalars(select(Submission)).one()
    assert sub.values["leads_needed"]["display"] == "1,334 leads"
    assert sub.values["visitors_needed"]["display"] == "6,670 visitors"
    assert sub.tags == ["calculator:leads-needed", "conversion:below-2-percent", "volume:1000-plus-leads",
                        "hot-lead"]
    assert sub.lead_score == Decimal(40)
    assert sub.outcome == "magnet_first"
    # once the lead is stored, the figures are final: the page sends the visitor to the result
    again = client.get(url)
    assert again.status_code == 303 and again.location.endswith("/result")
    client.post(url, data={"customers": "99", "close_rate": "50", "_action": "calculate"})
    assert db.scalars(select(Response)).one().answers["customers"] == "20"


def test_gate_errors_keep_the_new_figures_and_what_was_typed(client, db):
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "5"})
    r = client.post(url, data={"customers": "30", "close_rate": "5", "first_name": "Di",
                               "email": "not-an-email", "_action": "unlock"})
    assert r.status_code == 422
    body = text_of(r)
    assert 'id="email-error" role="alert"' in body
    assert 'value="not-an-email"' in body and 'value="Di"' in body
    assert headline(r) == "600 leads"
    assert db.scalars(select(Response)).one().answers["customers"] == "30"
    assert count(db, Lead) == 0
    r = client.post(url, data={"customers": "oops", "close_rate": "5", "first_name": "Di",
                               "email": "di@example.com", "_action": "unlock"})
    assert r.status_code == 422
    assert "\u201coops\u201d is not a number." in text_of(r)
    assert count(db, Lead) == 0


def test_double_submit_stores_one_lead_and_lands_on_the_same_result(client, db):
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "5"})
    data = {"customers": "10", "close_rate": "5", "first_name": "Ed", "email": "ed@example.com",
            "_action": "unlock"}
    first = client.post(url, data=data)
    second = client.post(url, data=data)
    assert first.location == second.location and first.location.endswith("/result")
    assert (count(db, Lead), count(db, Submission)) == (1, 1)


def test_the_shared_gate_page_also_works_for_a_calculator(client, db):
    spend = {"hours": "10", "hourly_rate": "50", "tools": "100", "ad_spend": "400", "leads": "50"}
    url = start(client, "cost-per-lead", spend)
    gate = url.replace("/calculate", "/gate")
    assert client.get(gate).status_code == 200
    r = client.post(gate, data={"first_name": "Fay", "email": "fay@example.com"})
    assert r.status_code == 303 and r.location.endswith("/result")
    result = client.get(r.location)
    assert figure(result, "time_share") == "50%"
    assert figure(result, "vs_facebook_ads") == "-$7.00"
    assert db.scalars(select(Submission)).one().tags == ["calculator:cost-per-lead", "cpl:under-27",
                                                         "time-heavy", "runs-paid-ads"]


def test_question_step_urls_lead_to_the_calculator_page(client):
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "5"})
    r = client.get(url.replace("/calculate", "/step/1"))
    assert r.status_code == 303 and r.location == url


def test_offer_click_is_counted_and_redirects(client, db):
    _, result_url = take_customer_cost(client)
    offer = result_url.replace("/result", "/offer")
    assert f'href="{offer.split("localhost")[-1]}"' in text_of(client.get(result_url))
    r = client.get(offer)
    assert r.status_code == 303 and r.location == "https://example.com/offers/channel-review"
    assert db.scalar(select(func.count()).select_from(Event).where(Event.kind == "cta_click")) == 1


def test_try_other_numbers_links_back_with_the_inputs(client):
    _, result_url = take_customer_cost(client)
    body = text_of(client.get(result_url))
    link = re.search(r'<a href="([^"]+)" hx-boost="false">Try other numbers</a>', body).group(1)
    assert link == "/q/customer-cost?a_cost_per_lead=5&a_close_rate=0.3&b_cost_per_lead=40&b_close_rate=6"
    assert headline(client.get(link)) == "$1,666.67"


def test_tampered_token_is_a_friendly_page(client):
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "5"})
    r = client.get(url.replace("/r/", "/r/x"))
    assert r.status_code == 400
    assert "We couldn't find your answers" in text_of(r)


def test_preview_of_an_unknown_slug_or_a_quiz_is_a_404(client):
    assert client.post("/q/nope/preview", data={}, headers=HX).status_code == 404
    assert client.post("/q/funnel-leak/preview", data={}, headers=HX).status_code == 404


def test_preview_without_htmx_renders_the_page(client, db):
    r = client.post("/q/leads-needed/preview", data={"customers": "10", "close_rate": "2"})
    assert r.status_code == 200 and "<html" in text_of(r)
    assert headline(r) == "500 leads"
    assert count(db, Response) == 0


def test_htmx_address_bar_follows_get_screens_only(client):
    page = client.get("/q/leads-needed?embed=1", headers=HX)
    assert page.headers["HX-Push-Url"] == "/q/leads-needed?embed=1"
    bad = client.post("/q/leads-needed/start", data={"customers": "x", "close_rate": "5"}, headers=HX)
    assert bad.status_code == 422
    assert "HX-Push-Url" not in bad.headers
    assert "<html" not in text_of(bad)


def test_a_european_thousand_in_an_english_integer_input_is_refused_not_read_as_one(client, db):
    r = client.post("/q/leads-needed/start", data={"customers": "1.000", "close_rate": "5"})
    assert r.status_code == 422
    assert ('<p class="error" id="err-customers" role="alert">\u201c1.000\u201d could be read two ways: '
            "please write 1000 or 1,000.</p>") in text_of(r)
    assert count(db, Response) == 0
    live_check = client.post("/q/leads-needed/preview", data={"customers": "1.000", "close_rate": "5"},
                             headers=HX)
    assert headline(live_check) == "\u2014"
    assert "could be read two ways" in text_of(live_check)
    assert headline(client.post("/q/leads-needed/preview", data={"customers": "1,000", "close_rate": "5"},
                                headers=HX)) == "20,000 leads"


def test_an_amount_in_another_currency_gets_a_field_message(client, db):
    data = dict(CUSTOMER_COST, a_cost_per_lead="\u20ac5")
    body = text_of(client.post("/q/customer-cost/preview", data=data, headers=HX))
    assert ('<p class="error" id="err-a_cost_per_lead" role="alert" hx-swap-oob="true">\u201c\u20ac5\u201d '
            "looks like another currency: please enter the amount in USD ($).</p>") in body
    r = client.post("/q/customer-cost/start", data=dict(CUSTOMER_COST, b_cost_per_lead="40 EUR"))
    assert r.status_code == 422
    assert "\u201c40 EUR\u201d looks like another currency" in text_of(r)
    assert count(db, Response) == 0
    assert headline(client.post("/q/customer-cost/preview", data=dict(CUSTOMER_COST, a_cost_per_lead="5 USD"),
                                headers=HX)) == "$1,666.67"


TINY = {
    "kind": "calculator", "slug": "tiny", "title": "Tiny", "headline": "Tiny shares",
    "inputs": [{"id": "rate", "type": "number", "label": "Rate", "default": 1}],
    "values": [{"id": "share", "label": "Share", "formula": "rate", "format": "percent", "places": 6,
                "show": "free"},
               {"id": "amount", "label": "Amount", "formula": "rate", "format": "number", "places": 2,
                "show": "free"}],
}


@pytest.mark.parametrize(("rate", "share", "amount", "data"), [
    ("0.00000001", "0.000001%", "0.00", "0.00000001"),  # the rounded fraction is 1E-8 as a Decimal
    ("-0.0000000001", "0.000000%", "0.00", "0"),
    ("-0.001", "-0.100000%", "0.00", "-0.001"),
])
def test_figures_never_show_an_exponent_or_minus_zero(make_app, quizzes_dir, db, rate, share, amount, data):
    (quizzes_dir / "tiny.json").write_text(json.dumps(TINY))
    client = make_app().test_client()
    r = client.post("/q/tiny/preview", data={"rate": rate}, headers=HX)
    assert (headline(r), figure(r, "amount")) == (share, amount)
    assert f'data-headline="{data}"' in text_of(r)
    url = start(client, "tiny", {"rate": rate})
    r = client.post(url, data={"rate": rate, "first_name": "Ann", "email": "ann@example.com",
                               "_action": "unlock"})
    result = client.get(r.location)
    assert (headline(result), figure(result, "amount")) == (share, amount)
    assert f'data-headline="{data}"' in text_of(result)
    stored = db.scalars(select(Submission)).one().values
    assert (stored["share"]["value"], stored["share"]["display"]) == (data, share)


@pytest.mark.parametrize("typed", ["1" * 100_000, "0." + "0" * 100_000 + "1", "1" + " " * 100_000 + "2",
                                   "x" * 100_000])
def test_a_number_of_absurd_length_gets_a_short_field_message(client, db, typed):
    r = client.post("/q/leads-needed/preview", data={"customers": typed, "close_rate": "5"}, headers=HX)
    assert r.status_code == 200
    assert ('<p class="error" id="err-customers" role="alert" hx-swap-oob="true">Please enter a number of at '
            "most 30 characters.</p>") in text_of(r)
    assert headline(r) == "\u2014"
    r = client.post("/q/leads-needed/start", data={"customers": typed, "close_rate": "5"})
    assert r.status_code == 422
    assert count(db, Response) == 0


def test_only_the_screen_with_the_gate_disables_its_button_while_sending(client):
    landing = text_of(client.get("/q/leads-needed"))
    assert '<form method="post" action="/q/leads-needed/start" novalidate class="calc-form">' in landing
    assert "hx-disabled-elt" not in landing
    url = start(client, "leads-needed", {"customers": "10", "close_rate": "5"})
    page = text_of(client.get(url))
    assert ('novalidate class="calc-form" hx-disabled-elt="find button[value=unlock]" '
            'hx-disinherit="hx-disabled-elt">') in page
