"""The published JSON Schema: it accepts every shipped definition, matches the committed file, and refuses
what the marshmallow loader refuses."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from marshmallow import Schema, fields

from quizapp.cli import cli
from quizapp.definitions import load_data
from quizapp.definitions.jsonschema import (
    DESCRIPTIONS,
    FILE_NAME,
    UnsupportedField,
    _Builder,
    build_schema,
    render_schema,
    unused_descriptions,
)
from quizapp.definitions.schemas import KIND_SCHEMAS

QUIZZES = Path(__file__).resolve().parents[2] / "quizzes"
SCHEMA_FILE = QUIZZES / FILE_NAME


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = build_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


def schema_errors(validator, data) -> list[str]:
    """Every message, including those under anyOf/oneOf, where the precise complaint is."""
    def walk(errors):
        for e in errors:
            yield e.message
            yield from walk(e.context or [])
    return sorted(walk(validator.iter_errors(data)))


def shipped() -> list[Path]:
    return sorted(p for p in QUIZZES.glob("*.json") if not p.name.endswith(".schema.json"))


def readiness() -> dict:
    return json.loads((QUIZZES / "lead-magnet-readiness.json").read_text(encoding="utf-8"))


def test_there_are_shipped_definitions():
    names = {p.name for p in shipped()}
    assert {"funnel-leak.json", "lead-magnet-readiness.json"} <= names


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.name)
def test_every_shipped_definition_validates(validator, path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert schema_errors(validator, data) == []
    assert load_data(data, path.name).errors == []


def test_committed_schema_is_what_the_generator_produces():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), (
        "quizzes/quiz.schema.json is stale: run `quizapp schema`")


def test_schema_covers_every_kind_and_question_type(validator):
    schema = build_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["kind"]["enum"] == sorted(KIND_SCHEMAS)
    assert [b["if"]["properties"]["kind"]["const"] for b in schema["allOf"]] == sorted(KIND_SCHEMAS)
    question = schema["$defs"]["Quiz"]["properties"]["questions"]["items"]
    assert question["properties"]["type"]["enum"] == ["multiple", "number", "scale", "single", "text"]
    assert [b["$ref"] for b in question["oneOf"]] == [
        "#/$defs/MultipleQuestion", "#/$defs/NumberQuestion", "#/$defs/ScaleQuestion",
        "#/$defs/SingleQuestion", "#/$defs/TextQuestion"]
    scale = schema["$defs"]["ScaleQuestion"]
    assert scale["required"] == ["id", "type", "text", "min", "max"]
    assert scale["properties"]["type"]["const"] == "scale"
    assert scale["additionalProperties"] is False
    assert "options" not in scale["properties"]
    assert schema["$defs"]["Option"]["properties"]["points"] == {
        "description": "Points added to the score when chosen.", "default": 0, "type": "number"}
    assert schema["$defs"]["Scoring"]["properties"]["model"]["enum"] == ["tiers", "categories"]
    assert schema["$defs"]["Theme"]["properties"]["primary"]["default"] == "#2754c5"


def test_every_key_has_a_description():
    schema = build_schema()
    defs = schema["$defs"]
    seen: set[str] = set()
    todo = ["Quiz", "Calculator"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        text = json.dumps(defs[name])
        todo += [ref.split('"')[0] for ref in text.split('"$ref": "#/$defs/')[1:]]
    missing = [f"{name}.{key}" for name in sorted(seen)
               for key, prop in defs[name].get("properties", {}).items()
               if not prop.get("description") and key != "type"]
    assert seen >= {"Quiz", "Option", "Band", "Condition", "Gate", "Consent", "Theme", "Outcome", "Cta",
                    "Scoring", "Tier", "Category", "LeadScore", "Threshold", "Destination", "CalculatorInput",
                    "CalculatorOption", "CalculatorValue", "CalculatorRule", "CalculatorAdvice",
                    "CalculatorExample", "CalculatorLeadScore"}
    assert missing == []


def test_no_description_is_left_over():
    assert unused_descriptions() == set()
    assert len(DESCRIPTIONS) > 100


KITCHEN_SINK = {
    "$schema": "quiz.schema.json", "kind": "quiz", "slug": "sink", "title": "Every key", "headline": "All",
    "promise": "p", "description": "d", "start_button": "Go", "tags": ["quiz:sink"], "locale": "en-GB",
    "theme": {"primary": "#123", "background": "#ffffff", "text": "#000000", "radius": "4px"},
    "embed_origins": ["https://blog.example.com", "https://*.example.org:8443", "*"],
    "destinations": ["newsletter", {"name": "crm", "tags": {"add": ["quiz-lead"]}}],
    "gate": {"headline": "Where to?", "text": "t", "button": "Send", "privacy_url": "https://example.com/p",
             "consent": {"text": "I agree", "required": False}},
    "categories": [{"id": "a", "label": "A", "outcome": "one"}, {"id": "b", "label": "B", "outcome": "two"}],
    "scoring": {"model": "categories", "pick": "lowest", "compare": "percent", "tie_break": ["b", "a"],
                "tiers": []},
    "lead_score": {"source": "lead_points",
                   "thresholds": [{"min": 5, "max": None, "tags": ["hot"], "label": "H"}]},
    "questions": [
        {"id": "s", "type": "single", "text": "S?", "help": "h", "required": True, "show_if": None,
         "options": [{"value": "x", "label": "X", "points": 1.5, "weights": {"a": 2}, "tags": ["t"],
                      "lead_points": 5},
                     {"value": "y", "label": "Y", "weights": {"b": 1}}]},
        {"id": "m", "type": "multiple", "text": "M?", "min_choices": 0, "max_choices": 2, "required": False,
         "show_if": {"question": "s", "equals": "x"},
         "options": [{"value": "x", "label": "X", "weights": {"a": 1}}, {"value": "y", "label": "Y"}]},
        {"id": "sc", "type": "scale", "text": "Sc?", "min": 1, "max": 5, "min_label": "lo", "max_label": "hi",
         "points_per_unit": 2, "weights_per_unit": {"b": 1},
         "bands": [{"min": 4, "max": None, "tags": ["fan"], "weights": {"a": 1}}],
         "show_if": {"any": [{"question": "m", "in": ["x", "y"]}, {"question": "m", "answered": False}]}},
        {"id": "n", "type": "number", "text": "N?", "min": 0, "max": 1e6, "step": 0.5, "unit": "EUR",
         "placeholder": "1000", "bands": [{"max": 99}, {"min": 100, "points": 3, "lead_points": 1}],
         "show_if": {"all": [{"question": "sc", "gte": 2}, {"question": "sc", "lt": 5.5},
                             {"question": "s", "not_in": ["y"]}, {"question": "s", "not_equals": "y"},
                             {"question": "sc", "gt": 0}, {"question": "sc", "lte": 5}]}},
        {"id": "t", "type": "text", "text": "T?", "placeholder": "...", "max_length": 80, "required": False},
    ],
    "outcomes": [
        {"id": "one", "title": "One", "summary": "s", "body": "{{first_name}}: {{percent.a}}% {{answer.t}}",
         "tags": ["o:1"], "cta": {"label": "Go", "url": "https://example.com/go", "text": "t"}},
        {"id": "two", "title": "Two", "cta": None},
    ],
}


def test_a_definition_using_every_key_passes_both(validator):
    assert schema_errors(validator, KITCHEN_SINK) == []
    loaded = load_data(copy.deepcopy(KITCHEN_SINK), "sink.json")
    assert loaded.errors == []
    assert [q.type for q in loaded.definition.questions] == ["single", "multiple", "scale", "number", "text"]


def _set(path: list, value):
    def change(doc: dict) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return change


def _drop(path: list):
    def change(doc: dict) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]
    return change


# (change, JSON Schema message, loader path, loader message)
BROKEN = {
    "unknown top-level key": (
        _set(["colour"], "blue"), "Additional properties are not allowed ('colour' was unexpected)",
        "$.colour", "Unknown field."),
    "unknown option key": (
        _set(["questions", 0, "options", 0, "score"], 3),
        "Additional properties are not allowed ('score' was unexpected)",
        "$.questions[0].options[0].score", "Unknown field."),
    "a key of another question type": (
        _set(["questions", 0, "max_choices"], 2), "is not valid under any of the given schemas",
        "$.questions[0].max_choices", "Unknown field."),
    "title of the wrong type": (
        _set(["title"], 42), "42 is not of type 'string'", "$.title", "Not a valid string."),
    "points of the wrong type": (
        _set(["questions", 0, "options", 0, "points"], "many"), "is not valid under any of the given schemas",
        "$.questions[0].options[0].points", "Not a valid number."),
    "unknown question type": (
        _set(["questions", 1, "type"], "dropdown"), "'dropdown' is not one of",
        "$.questions[1].type",
        "unknown question type 'dropdown'; use one of: multiple, number, scale, single, text"),
    "condition with a misspelt operator": (
        _set(["questions", 1, "show_if"], {"question": "profile", "equal": "sharp"}),
        "is not valid under any of the given schemas", "$.questions[1].show_if",
        "a condition has exactly one of: answered, equals, gt, gte, in, lt, lte, not_equals, not_in "
        "(found: equal)"),
    "condition with two operators": (
        _set(["questions", 1, "show_if"], {"question": "profile", "equals": "sharp", "in": ["rough"]}),
        "is not valid under any of the given schemas", "$.questions[1].show_if",
        "a condition has exactly one of: answered, equals, gt, gte, in, lt, lte, not_equals, not_in "
        "(found: equals, in)"),
    "condition comparing with a word": (
        _set(["questions", 5, "show_if"], {"question": "emails", "gte": "high"}),
        "is not valid under any of the given schemas", "$.questions[5].show_if.gte", "'gte' takes a number"),
    "empty all": (
        _set(["questions", 1, "show_if"], {"all": []}), "is not valid under any of the given schemas",
        "$.questions[1].show_if", "'all' takes a non-empty list of conditions and nothing beside it"),
    "condition without a question": (
        _set(["questions", 1, "show_if"], {"equals": "sharp"}), "is not valid under any of the given schemas",
        "$.questions[1].show_if", "a condition names the 'question' it looks at"),
    "missing outcomes": (
        _drop(["outcomes"]), "'outcomes' is a required property", "$.outcomes",
        "Missing data for required field."),
    "unknown scoring model": (
        _set(["scoring", "model"], "points"), "'points' is not one of ['tiers', 'categories']",
        "$.scoring.model", "Must be one of: tiers, categories."),
    "unknown kind": (
        _set(["kind"], "survey"), "'survey' is not one of",
        "$.kind", "'kind' must be one of: "),
    "slug with spaces": (
        _set(["slug"], "Lead Magnet"), "does not match", "$.slug", "use lower-case letters, digits and '-'"),
    "colour by name": (
        _set(["theme"], {"primary": "blue"}), "'blue' does not match", "$.theme.primary",
        "use a colour like #2754c5"),
    "origin with a path": (
        _set(["embed_origins"], ["https://blog.example.com/page"]), "does not match",
        "$.embed_origins[0]", "an origin looks like https://blog.example.com (scheme and host, no path)"),
    "threshold without tags": (
        _set(["lead_score", "thresholds", 0, "tags"], []), "[] should be non-empty",
        "$.lead_score.thresholds[0].tags", "Shorter than minimum length 1."),
    "call to action without url": (
        _drop(["outcomes", 0, "cta", "url"]), "'url' is a required property", "$.outcomes[0].cta.url",
        "Missing data for required field."),
    "privacy policy that is not an address": (
        _set(["gate", "privacy_url"], "our privacy page"), "is not valid under any of the given schemas",
        "$.gate.privacy_url", "Not a valid URL."),
    "single choice with one option": (
        _set(["questions", 0, "options"], [{"value": "only", "label": "Only"}]),
        "is not valid under any of the given schemas", "$.questions[0].options",
        "Shorter than minimum length 2."),
    "destination without a name": (
        _set(["destinations"], [{"tags": {}}]), "is not valid under any of the given schemas",
        "$.destinations[0]", "a destination is a name, or an object with a 'name'"),
    "required as a number": (
        _set(["questions", 0, "required"], 2), "is not valid under any of the given schemas",
        "$.questions[0].required", "Not a valid boolean."),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_documents_are_refused_by_both(validator, case):
    change, schema_message, path, loader_message = BROKEN[case]
    doc = readiness()
    change(doc)
    found = schema_errors(validator, doc)
    assert any(schema_message in m for m in found), found
    loaded = load_data(doc, "broken.json")
    assert loaded.definition is None
    assert any(p.path == path and p.message.startswith(loader_message) for p in loaded.errors), [
        str(p) for p in loaded.errors]


@pytest.mark.parametrize("value", ["", "https://example.com/privacy", "http://localhost:8000/p"])
def test_privacy_url_accepts_what_the_loader_accepts(validator, value):
    doc = readiness()
    doc["gate"]["privacy_url"] = value
    assert schema_errors(validator, doc) == []
    assert load_data(doc, "ok.json").errors == []


@pytest.mark.parametrize("value", ["ftp://example.com/p", "example.com/privacy"])
def test_privacy_url_refuses_what_the_loader_refuses(validator, value):
    doc = readiness()
    doc["gate"]["privacy_url"] = value
    assert schema_errors(validator, doc) != []
    assert [p.path for p in load_data(doc, "bad.json").errors] == ["$.gate.privacy_url"]


def test_nullable_keys_accept_null(validator):
    doc = readiness()
    doc["lead_score"] = None
    doc["outcomes"][0]["cta"] = None
    doc["questions"][0]["show_if"] = None
    doc["gate"]["consent"] = None
    assert schema_errors(validator, doc) == []
    assert load_data(doc, "null.json").errors == []


def test_a_field_without_translation_fails_loudly():
    class Odd(Schema):
        email = fields.Email()

    class Opaque(Schema):
        name = fields.String(validate=lambda v: v.isupper())

    with pytest.raises(UnsupportedField, match="Email"):
        _Builder().schema_def(Odd)
    with pytest.raises(UnsupportedField, match="validator"):
        _Builder().schema_def(Opaque)


def test_cli_writes_the_schema(tmp_path):
    target = tmp_path / FILE_NAME
    result = CliRunner().invoke(cli, ["schema", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == render_schema()
    assert result.output == f"wrote {target}\n"

    result = CliRunner().invoke(cli, ["schema", "--check", "--output", str(target)])
    assert result.exit_code == 0
    assert result.output == f"{target} is up to date\n"


def test_cli_check_reports_a_stale_file(tmp_path):
    target = tmp_path / FILE_NAME
    target.write_text("{}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["schema", "--check", "--output", str(target)])
    assert result.exit_code == 1
    assert "is out of date; run `quizapp schema`" in result.output
    assert target.read_text(encoding="utf-8") == "{}\n"


def test_cli_defaults_to_the_quizzes_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZAPP_QUIZZES_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / FILE_NAME).read_text(encoding="utf-8") == render_schema()


def test_cli_prints_to_standard_output():
    result = CliRunner().invoke(cli, ["schema", "--output", "-"])
    assert result.exit_code == 0
    assert json.loads(result.output) == build_schema()


CALCULATOR = {
    "$schema": "quiz.schema.json", "kind": "calculator", "slug": "calc", "title": "Every key",
    "headline": "H", "currency": "EUR", "locale": "de_DE", "unlock_button": "More", "start_button": "Go",
    "inputs": [
        {"id": "spend", "type": "currency", "label": "Spend", "help": "h", "unit": "/month",
         "placeholder": "500", "required": True, "min": 0, "max": 100000, "step": 0.01, "default": 500},
        {"id": "rate", "type": "percent", "label": "Rate", "default": 5, "min": None, "max": None},
        {"id": "size", "type": "select", "label": "Size", "default": 2,
         "options": [{"label": "Small", "value": 1, "tags": ["size:s"]}, {"label": "Big", "value": 2}]},
        {"id": "paid", "type": "yesno", "label": "Paid?", "default": True, "yes_label": "Ja",
         "no_label": "Nein"},
        {"id": "hours", "type": "slider", "label": "Hours", "min": 0, "max": 40, "required": False},
    ],
    "values": [
        {"id": "leads", "label": "Leads", "formula": "spend * rate * size", "format": "integer",
         "show": "free"},
        {"id": "cost", "label": "Cost per lead", "formula": "spend / leads", "format": "currency",
         "places": 2, "unit": "", "fallback": "n/a", "help": "h"},
        {"id": "secret", "formula": "if(paid, 1, 0) + hours", "show": "hidden"},
    ],
    "headline_value": "leads",
    "rules": [{"when": "leads >= 50", "tags": ["big"], "lead_points": 40}],
    "lead_score": {"thresholds": [{"min": 40, "tags": ["hot-lead"], "label": "Hot"}]},
    "advice": [{"id": "a", "title": "A", "summary": "s", "body": "{{first_name}}: {{leads}}",
                "when": "leads > 0", "show": "free", "tags": ["advised"],
                "cta": {"label": "Go", "url": "https://example.com"}},
               {"id": "b", "title": "B", "when": None, "cta": None}],
    "cta": {"label": "Book", "url": "https://example.com/book"},
    "examples": [{"name": "fifty",
                  "inputs": {"spend": 500, "rate": "5", "size": 2, "paid": False, "hours": None},
                  "expect": {"leads": 50, "cost": "10,00\u00a0\u20ac", "secret": None}, "tags": None}],
}


def test_a_calculator_using_every_key_passes_both(validator):
    assert schema_errors(validator, CALCULATOR) == []
    loaded = load_data(copy.deepcopy(CALCULATOR), "calc.json")
    assert [str(p) for p in loaded.errors] == []
    assert loaded.definition.kind == "calculator"


def _calculator() -> dict:
    return json.loads((QUIZZES / "leads-needed.json").read_text(encoding="utf-8"))


BROKEN_CALCULATORS = {
    "a quiz key in a calculator": (
        _set(["questions"], []), "Additional properties are not allowed ('questions' was unexpected)",
        "$.questions", "Unknown field."),
    "unknown input key": (
        _set(["inputs", 0, "maximum"], 5), "Additional properties are not allowed ('maximum' was unexpected)",
        "$.inputs[0].maximum", "Unknown field."),
    "unknown input type": (
        _set(["inputs", 0, "type"], "date"), "'date' is not one of",
        "$.inputs[0].type", "Must be one of: number, integer, currency, percent, slider, select, yesno."),
    "formula as a number": (
        _set(["values", 0, "formula"], 12), "12 is not of type 'string'",
        "$.values[0].formula", "a formula is a string"),
    "unknown show": (
        _set(["values", 0, "show"], "later"), "'later' is not one of ['free', 'gated', 'hidden']",
        "$.values[0].show", "Must be one of: free, gated, hidden."),
    "currency in words": (
        _set(["currency"], "dollars"), "'dollars' does not match", "$.currency",
        "use an ISO code such as USD"),
    "example without figures": (
        _set(["examples", 0, "expect"], {}), "{} should be non-empty", "$.examples[0].expect",
        "an example expects at least one figure"),
    "expected figure as a list": (
        _set(["examples", 0, "expect", "leads_needed"], [200]), "[200] is not of type",
        "$.examples[0].expect.leads_needed.value", "an expected figure is a number, the text shown, or null"),
    "places out of range": (
        _set(["values", 0, "places"], 9), "9 is greater than the maximum of 6", "$.values[0].places",
        "Must be greater than or equal to 0 and less than or equal to 6."),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CALCULATORS))
def test_broken_calculators_are_refused_by_both(validator, case):
    change, schema_message, path, loader_message = BROKEN_CALCULATORS[case]
    doc = _calculator()
    change(doc)
    found = schema_errors(validator, doc)
    assert any(schema_message in m for m in found), found
    loaded = load_data(doc, "broken.json")
    assert loaded.definition is None
    assert any(p.path == path and p.message.startswith(loader_message) for p in loaded.errors), [
        str(p) for p in loaded.errors]
