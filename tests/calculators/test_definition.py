"""Calculator files: every problem names the file and the JSON path; formulas are checked at load."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from quizapp.definitions import load_data, load_file
from quizapp.definitions.calculator import Calculator

BASE = {
    "kind": "calculator",
    "slug": "t",
    "title": "T",
    "headline": "H",
    "inputs": [
        {"id": "a", "type": "number", "label": "A", "default": 10},
        {"id": "rate", "type": "percent", "label": "Rate", "default": 5},
    ],
    "values": [
        {"id": "total", "label": "Total", "formula": "a / rate", "format": "integer", "show": "free"},
        {"id": "double", "label": "Double", "formula": "total * 2"},
    ],
}


def make(**changes) -> dict:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return data


def problems(data: dict) -> list[str]:
    return [f"{p.path}: {p.message}" for p in load_data(data, "t.json").problems]


def test_a_minimal_calculator_loads_into_frozen_objects():
    item = load_data(make(), "t.json")
    assert item.problems == []
    calc = item.definition
    assert isinstance(calc, Calculator)
    assert calc.kind == "calculator" and calc.source_file == "t.json" and len(calc.content_hash) == 64
    assert calc.headline_value == "total"  # the first shown value, unless named
    assert calc.order == ("total", "double")
    assert calc.input("rate").default == Decimal(5)
    assert calc.value("double").places == 2 and calc.value("total").places == 0
    with pytest.raises(AttributeError):
        calc.title = "x"


def test_dependency_order_is_worked_out_at_load():
    data = make(values=[
        {"id": "c", "label": "C", "formula": "b + 1"},
        {"id": "b", "label": "B", "formula": "a * 2"},
        {"id": "d", "label": "D", "formula": "c + b + total"},
        {"id": "total", "label": "Total", "formula": "a"},
    ])
    calc = load_data(data).definition
    assert calc.order == ("b", "c", "total", "d")


def test_syntax_error_names_the_path_and_column():
    data = make()
    data["values"][1]["formula"] = "total * (2"
    assert problems(data) == ["$.values[1].formula: the parentheses do not match (at column 9)"]


def test_disallowed_constructs_are_validation_errors():
    data = make()
    data["values"][0]["formula"] = "a.__class__"
    assert problems(data) == ["$.values[0].formula: '.' can only appear inside a number; attribute access is "
                              "not allowed (at column 1)"]


def test_unknown_name_is_a_validation_error():
    data = make()
    data["values"][1]["formula"] = "totl * 2 + rte"
    assert problems(data) == [
        "$.values[1].formula: 'rte', 'totl' are not an input or a computed value; known names: a, double, "
        "rate, total"]


def test_cycle_is_a_validation_error():
    data = make(values=[
        {"id": "x", "label": "X", "formula": "y + a"},
        {"id": "y", "label": "Y", "formula": "z * 2"},
        {"id": "z", "label": "Z", "formula": "x - 1"},
    ])
    assert problems(data) == [
        "$.values[0].formula: these computed values use each other in a circle: x -> y -> z -> x"]


def test_self_reference_is_a_validation_error():
    data = make()
    data["values"][1]["formula"] = "double + 1"
    assert problems(data) == ["$.values[1].formula: 'double' uses itself"]


def test_several_errors_are_reported_together():
    data = make(rules=[{"when": "nope > 1", "tags": ["x"]}],
                advice=[{"id": "a1", "title": "T", "when": "missing"}], headline_value="nothing")
    found = problems(data)
    assert ("$.rules[0].when: 'nope' is not an input or a computed value; known names: a, double, rate, "
            "total") in found
    assert "$.advice[0].when: 'missing' is not an input or a computed value; known names: a, double, rate, " \
           "total" in found
    assert "$.headline_value: there is no computed value 'nothing'; use one of: total, double" in found


@pytest.mark.parametrize(("change", "expected"), [
    ({"inputs": [{"id": "a", "type": "number", "label": "A", "colour": "red"}]},
     "$.inputs[0].colour: Unknown field."),
    ({"inputs": [{"id": "a", "type": "dial", "label": "A"}]},
     "$.inputs[0].type: Must be one of: number, integer, currency, percent, slider, select, yesno."),
    ({"inputs": [{"id": "opt-in", "type": "number", "label": "A"}]},
     "$.inputs[0].id: use letters, digits and '_', starting with a letter (at most 64)"),
    ({"inputs": [{"id": "a", "type": "slider", "label": "A", "min": 1}]},
     "$.inputs[0].max: a slider needs both min and max"),
    ({"inputs": [{"id": "a", "type": "select", "label": "A", "options": [{"label": "x", "value": 1}]}]},
     "$.inputs[0].options: a select input needs at least two options"),
    ({"inputs": [{"id": "a", "type": "select", "label": "A", "default": 3,
                  "options": [{"label": "x", "value": 1}, {"label": "y", "value": 2}]}]},
     "$.inputs[0].default: the default 3 is not one of the options' values"),
    ({"inputs": [{"id": "a", "type": "number", "label": "A", "min": 5, "max": 1}]},
     "$.inputs[0].max: max must be larger than min"),
    ({"inputs": [{"id": "a", "type": "number", "label": "A", "max": 10, "default": 11}]},
     "$.inputs[0].default: the default lies outside min..max"),
    ({"inputs": [{"id": "a", "type": "integer", "label": "A", "default": 1.5}]},
     "$.inputs[0].default: the default of an integer input is a whole number"),
    ({"inputs": [{"id": "a", "type": "number", "label": "A", "options": [{"label": "x", "value": 1}]}]},
     "$.inputs[0].options: 'options' only apply to a select input, not number"),
    ({"inputs": [{"id": "max", "type": "number", "label": "A"}]},
     "$.inputs[0].id: 'max' is a reserved word in formulas; pick another name"),
    ({"inputs": [{"id": "lambda", "type": "number", "label": "A"}]},
     "$.inputs[0].id: 'lambda' is a reserved word in formulas; pick another name"),
    ({"values": [{"id": "a", "label": "A", "formula": "1"}]},
     "$.values[0].id: the name 'a' is already used by inputs[0]"),
    ({"values": [{"id": "v", "formula": "a"}]}, "$.values[0].label: a value that is shown needs a label"),
    ({"values": [{"id": "v", "label": "V", "formula": "a", "format": "money"}]},
     "$.values[0].format: Must be one of: number, integer, currency, percent."),
    ({"values": [{"id": "v", "label": "V", "formula": 12}]},
     "$.values[0].formula: a formula is a string, such as \"customers / close_rate\""),
    ({"values": [{"id": "v", "label": "V", "formula": "a", "show": "hidden"}], "headline_value": "v"},
     "$.headline_value: 'v' is hidden; the headline is shown"),
    ({"rules": [{"when": "a > 1"}]}, "$.rules[0]: a rule adds tags, lead_points or both"),
    ({"currency": "dollars"}, "$.currency: use an ISO code such as USD"),
    ({"examples": [{"name": "e", "inputs": {"a": [1]}, "expect": {"total": 1}}]},
     "$.examples[0].inputs.a.value: an example input is a number, text as a visitor types it, true/false "
     "or null"),
    ({"examples": [{"name": "e", "expect": {}}]},
     "$.examples[0].expect: an example expects at least one figure"),
])
def test_schema_errors_name_the_json_path(change, expected):
    assert expected in problems(make(**change))


def test_advice_variables_are_checked():
    body = "You need {{ total }}, {{ first_name }} {{ totl }}"
    data = make(advice=[{"id": "x", "title": "T", "body": body}])
    assert problems(data) == ["$.advice[0].body: unknown variable {{ totl }}; known: a, calculator, double, "
                              "first_name, rate, total"]


def test_unused_input_is_a_warning_and_the_calculator_still_loads():
    spare = {"id": "spare", "type": "number", "label": "Spare", "required": False}
    data = make(inputs=[*BASE["inputs"], spare])
    item = load_data(data, "t.json")
    assert item.definition is not None
    assert [(p.severity, p.path, p.message) for p in item.problems] == [
        ("warning", "$.inputs[2]", "input 'spare' is used by no formula")]


def test_example_mismatch_is_an_error_with_the_path():
    data = make(examples=[
        {"name": "ok", "inputs": {"a": 10, "rate": 5}, "expect": {"total": 200, "double": "400.00"}},
        {"name": "wrong", "inputs": {"a": 10, "rate": 2}, "expect": {"total": 200, "double": 1000}},
        {"name": "typo", "inputs": {"a": "1,5"}, "expect": {"totl": 1}},
    ])
    assert problems(data) == [
        "$.examples[1].expect.total: example 'wrong': expected 200, got 500 (rounded half-up to the declared "
        "places)",
        "$.examples[2].inputs.a: \u201c1,5\u201d is not a number we can read: use a dot for decimals (1.5), "
        "and commas only between thousands (1,500). (the input as given: '1,5')",
    ]


def test_example_expecting_a_fallback_and_unknown_value():
    data = make(examples=[{"name": "zero", "inputs": {"rate": 0}, "expect": {"total": None, "nothing": 1}}])
    data["inputs"][1]["min"] = 0
    assert problems(data) == ["$.examples[0].expect.nothing: there is no computed value 'nothing'"]
    data["examples"][0]["expect"] = {"total": 3}
    assert problems(data) == ["$.examples[0].expect.total: example 'zero': expected 3, got \u2014 (Can't be "
                              "worked out: it divides by zero with these numbers.)"]


def test_shipped_calculators_load_without_problems(quizzes_dir):
    for name in ("leads-needed.json", "customer-cost.json", "cost-per-lead.json"):
        item = load_file(quizzes_dir / name)
        assert item.problems == [], name
        assert item.definition.kind == "calculator"
        assert len(item.definition.examples) >= 3


def test_a_broken_formula_in_a_shipped_file_is_reported_by_file_and_path(quizzes_dir):
    path = quizzes_dir / "customer-cost.json"
    data = json.loads(path.read_text())
    data["values"][0]["formula"] = "a_cost_per_lead / a_close_rate)"
    path.write_text(json.dumps(data))
    item = load_file(path)
    assert item.definition is None
    assert [str(p) for p in item.problems] == [
        "customer-cost.json: $.values[0].formula: error: the parentheses do not match (at column 31)"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"locale": "xx_YY"}, ["$.locale: unknown locale 'xx_YY': use a language and region known to CLDR, "
                           "such as en_US, en_GB, de_DE or fr_FR"]),
    # CLDR would quietly turn this into en_US: an unknown region is refused, not replaced
    ({"locale": "en_ZZ"}, ["$.locale: unknown locale 'en_ZZ': use a language and region known to CLDR, "
                           "such as en_US, en_GB, de_DE or fr_FR"]),
    ({"currency": "ZZZ"}, ["$.currency: unknown currency 'ZZZ': use an ISO 4217 code such as USD, EUR or "
                           "GBP"]),
    ({"locale": "xx", "currency": "QQQ"},
     ["$.currency: unknown currency 'QQQ': use an ISO 4217 code such as USD, EUR or GBP",
      "$.locale: unknown locale 'xx': use a language and region known to CLDR, such as en_US, en_GB, de_DE "
      "or fr_FR"]),
])
def test_unknown_locale_or_currency_is_a_validation_error(change, expected):
    assert sorted(problems(make(**change))) == expected


@pytest.mark.parametrize(("locale", "currency"), [
    ("en", "USD"), ("en_GB", "GBP"), ("de-DE", "EUR"), ("fr_CH", "CHF"), ("zh_CN", "CNY"), ("ja_JP", "JPY"),
])
def test_known_locales_and_currencies_load(locale, currency):
    calc = load_data(make(locale=locale, currency=currency)).definition
    assert (calc.locale, calc.currency) == (locale, currency)
