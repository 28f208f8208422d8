"""Evaluating calculators: the guide's figures, fallbacks, tags, lead score, stored values."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from quizapp.definitions import load_data, load_file
from quizapp.definitions.question_types import ParseError
from quizapp.engine import calculator as engine

QUIZZES = Path(__file__).resolve().parents[2] / "quizzes"


def shipped(name: str):
    item = load_file(QUIZZES / f"{name}.json")
    assert item.problems == []
    return item.definition


def run(calc, **typed):
    form = {i.id: engine.input_text(calc, i, v) for i, v in
            ((calc.input(k), v) for k, v in engine.default_inputs(calc).items())}
    form.update({k: str(v) for k, v in typed.items()})
    values, errors = engine.read_inputs(calc, form)
    assert errors == {}
    return engine.evaluate(calc, values)


def shown(outcome, name):
    return outcome.figures[name].display


@pytest.mark.parametrize(("customers", "rate", "leads"), [("10", "5", "200 leads"), ("10", "2", "500 leads")])
def test_leads_needed_from_the_guide(customers, rate, leads):
    out = run(shipped("leads-needed"), customers=customers, close_rate=rate)
    assert shown(out, "leads_needed") == leads
    assert out.figures["leads_needed"].figure == Decimal(leads.split()[0])
    assert shown(out, "visitors_needed") == "Add your opt-in rate to see this"
    assert out.figures["visitors_needed"].message == ("Needs \u201cOpt-in rate of your landing page "
                                                      "(optional)\u201d.")


def test_leads_needed_with_an_opt_in_rate():
    out = run(shipped("leads-needed"), customers="10", close_rate="5", optin_rate="25")
    assert shown(out, "visitors_needed") == "800 visitors"
    out = run(shipped("leads-needed"), customers="7", close_rate="3%", optin_rate="2.5")
    assert (shown(out, "leads_needed"), shown(out, "visitors_needed")) == ("234 leads", "9,360 visitors")


@pytest.mark.parametrize(("a", "b", "a_cost", "b_cost"), [
    (("200", "20"), ("10", "0.5"), "$1,000.00", "$2,000.00"),
    (("5", "0.3"), ("40", "6"), "$1,666.67", "$666.67"),
])
def test_customer_cost_from_the_guide(a, b, a_cost, b_cost):
    out = run(shipped("customer-cost"), a_cost_per_lead=a[0], a_close_rate=a[1], b_cost_per_lead=b[0],
              b_close_rate=b[1])
    assert (shown(out, "a_cost_per_customer"), shown(out, "b_cost_per_customer")) == (a_cost, b_cost)
    assert shown(out, "difference") == "$1,000.00"
    assert [a.id for a in out.advice] == ["trap"]
    assert out.tags == ("calculator:customer-cost", "cost-per-customer:over-1000", "cheap-leads-cost-more",
                        "hot-lead")
    assert out.lead_score == Decimal(50)
    assert out.lead_labels == ("Hot lead",)


def test_customer_cost_division_by_zero_shows_the_fallback():
    out = run(shipped("customer-cost"), b_close_rate="0")
    fig = out.figures["b_cost_per_customer"]
    assert (fig.value, fig.figure, fig.display) == (None, None, "No customers yet: needs a rate above 0%")
    assert fig.message == "Can't be worked out: it divides by zero with these numbers."
    # a value built on an undefined value is undefined too, and says why
    assert shown(out, "difference") == "Needs a rate above 0% on both channels"
    assert out.figures["difference"].message == fig.message
    assert "channel-without-customers" in out.tags
    assert [a.id for a in out.advice] == ["no_customers"]


def test_cost_per_lead():
    out = run(shipped("cost-per-lead"))
    assert (shown(out, "cost_per_lead"), shown(out, "total_investment"), shown(out, "time_share")) == (
        "$20.00", "$1,000.00", "50%")
    assert shown(out, "vs_facebook_ads") == "-$7.00"
    out = run(shipped("cost-per-lead"), leads="0")
    assert shown(out, "cost_per_lead") == "No leads in this period yet"
    out = run(shipped("cost-per-lead"), hours="0", tools="0", ad_spend="0", leads="0")
    assert shown(out, "time_share") == "Nothing invested yet"
    assert shown(out, "total_investment") == "$0.00"


def test_every_shipped_example_passes():
    for name in ("leads-needed", "customer-cost", "cost-per-lead"):
        calc = shipped(name)
        for example in calc.examples:
            assert engine.run_example(calc, example) == [], (name, example.name)


def test_stored_values_are_plain_json_without_nan_or_infinity():
    calc = shipped("customer-cost")
    out = run(calc, b_close_rate="0", customer_value="1,500")
    values = engine.stored_values(calc, out)
    text = json.dumps(values, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    assert values["a_cost_per_customer"] == {"kind": "result", "label": "Channel A: cost per customer",
                                             "value": "1000", "display": "$1,000.00", "show": "free"}
    assert values["b_cost_per_customer"]["value"] is None
    assert values["b_cost_per_customer"]["display"] == "No customers yet: needs a rate above 0%"
    assert values["a_close_rate"] == {"kind": "input", "label": "Channel A: lead-to-customer rate",
                                      "value": "0.2", "display": "20%"}
    assert values["customer_value"]["display"] == "$1,500"
    assert values["a_profit_per_customer"]["value"] == "500"


def test_labelled_inputs_look_like_quiz_answers():
    calc = shipped("leads-needed")
    out = run(calc, optin_rate="2.5")
    assert engine.labelled_inputs(calc, out) == [
        {"question": "customers", "text": "Customers you want to win", "type": "integer", "value": "10",
         "label": "10 customers"},
        {"question": "close_rate", "text": "Lead-to-customer conversion rate", "type": "percent",
         "value": "0.05", "label": "5%"},
        {"question": "optin_rate", "text": "Opt-in rate of your landing page (optional)", "type": "percent",
         "value": "0.025", "label": "2.5%"},
    ]


SELECTS = {
    "kind": "calculator", "slug": "s", "title": "S", "headline": "H", "locale": "de_DE", "currency": "EUR",
    "inputs": [
        {"id": "price", "type": "currency", "label": "Preis", "min": 0, "max": 10000},
        {"id": "qty", "type": "integer", "label": "Menge", "min": 1},
        {"id": "plan", "type": "select", "label": "Plan", "default": 12,
         "options": [{"label": "Monatlich", "value": 1, "tags": ["plan:monthly"]},
                     {"label": "J\u00e4hrlich", "value": 12, "tags": ["plan:yearly"]}]},
        {"id": "vat", "type": "yesno", "label": "Mit MwSt.", "default": True},
        {"id": "share", "type": "slider", "label": "Anteil", "min": 0, "max": 100, "step": 0.5,
         "default": 50},
    ],
    "values": [
        {"id": "total", "label": "Summe", "format": "currency",
         "formula": "price * qty * plan * if(vat, 1.19, 1) * share / 100", "show": "free"},
    ],
}


def test_select_yesno_slider_and_a_comma_locale():
    calc = load_data(copy.deepcopy(SELECTS)).definition
    typed = {"price": "1.234,50 \u20ac", "qty": "2", "plan": "12", "vat": "yes", "share": "12.5"}
    values, errors = engine.read_inputs(calc, typed)
    assert errors == {}
    assert values == {"price": Decimal("1234.50"), "qty": Decimal(2), "plan": Decimal(12), "vat": Decimal(1),
                      "share": Decimal("12.5")}
    out = engine.evaluate(calc, values)
    # 1234.50 * 2 * 12 * 1.19 * 0.125 = 4407.165 exactly: half-up gives .17 (half-even would give .16)
    assert out.figures["total"].display == "4.407,17\u00a0\u20ac"
    assert out.tags == ("plan:yearly",)
    assert engine.input_text(calc, calc.input("price"), values["price"]) == "1234,5"
    assert engine.input_text(calc, calc.input("share"), values["share"]) == "12.5"
    assert engine.input_text(calc, calc.input("vat"), values["vat"]) == "yes"


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("price", "1.5", "\u201c1.5\u201d is not a number we can read: use a comma for decimals"),
    ("price", "", "Please enter a number."),
    ("price", "10001", "Please enter 10.000\u00a0\u20ac or less."),
    ("price", "-1", "Please enter 0\u00a0\u20ac or more."),
    ("qty", "1,5", "Please enter a whole number."),
    ("qty", "0", "Please enter 1 or more."),
    ("qty", "10000000000000000", "Please enter a smaller number."),
    ("plan", "6", "Please choose one of the options shown."),
    ("plan", "", "Please choose an answer."),
    ("vat", "maybe", "Please answer yes or no."),
    ("share", "12,5", "is not a number we can read"),
    ("share", "101", "Please enter 100 or less."),
])
def test_input_messages(field, typed, message):
    calc = load_data(copy.deepcopy(SELECTS)).definition
    form = {"price": "10", "qty": "2", "plan": "1", "vat": "no", "share": "50", field: typed}
    values, errors = engine.read_inputs(calc, form)
    assert list(errors) == [field]
    assert message in errors[field]
    assert values[field] is None
    # the other inputs still count, and the result falls back instead of failing
    assert engine.evaluate(calc, values).figures["total"].display == "\u2014"


def test_percent_limits_are_written_as_typed():
    calc = shipped("leads-needed")
    _, errors = engine.read_inputs(calc, {"customers": "10", "close_rate": "0", "optin_rate": "101"})
    assert errors == {"close_rate": "Please enter 0.01% or more.", "optin_rate": "Please enter 100% or less."}


def test_a_currency_value_with_three_decimals_is_written_back_so_it_reads_the_same():
    data = copy.deepcopy(SELECTS)
    data.update(locale="en_US", currency="USD")
    data["inputs"][0]["default"] = 1.125
    calc = load_data(data).definition
    price = calc.input("price")
    assert engine.input_text(calc, price, Decimal("1.125")) == "1.1250"
    assert engine.input_text(calc, price, Decimal("0.125")) == "0.125"
    assert engine.read_input(calc, price, engine.input_text(calc, price, Decimal("1.125"))) == Decimal("1.125")
    form = {i.id: engine.input_text(calc, i, v) for i, v in
            ((calc.input(k), v) for k, v in engine.default_inputs(calc).items())}
    assert engine.read_inputs(calc, dict(form, qty="2"))[1] == {}


@pytest.mark.parametrize(("field", "typed"), [
    ("share", "5" + " " * 40 + "0"), ("price", "1" + "\u00a0" * 40 + "0"), ("qty", "0" * 31), ("price", "x" * 1000),
])
def test_a_typed_number_longer_than_30_characters_is_refused_before_it_is_read(field, typed):
    calc = load_data(copy.deepcopy(SELECTS)).definition
    with pytest.raises(ParseError) as info:
        engine.read_input(calc, calc.input(field), typed)
    assert str(info.value) == "Please enter a number of at most 30 characters."
    # 30 characters, sign and spaces included, are read
    assert engine.read_input(calc, calc.input("price"), "0,00000000000000000000000001 \u20ac") == Decimal("1e-26")
