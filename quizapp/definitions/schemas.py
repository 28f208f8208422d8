"""marshmallow schemas, one per JSON shape; unknown keys are refused. They load into the frozen
dataclasses of ``model.py``."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from quizapp.definitions import question_types
from quizapp.definitions.model import (
    Band,
    CallToAction,
    Category,
    Condition,
    Consent,
    DestinationRef,
    Gate,
    LeadScore,
    Option,
    Outcome,
    Question,
    Quiz,
    Scoring,
    Theme,
    Threshold,
    Tier,
    freeze,
)

IDENT = validate.Regexp(r"^[A-Za-z][A-Za-z0-9_-]{0,63}\Z",
                        error="use letters, digits, '-' or '_', starting with a letter (at most 64)")
SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,79}\Z", error="use lower-case letters, digits and '-'")
TAG = validate.Regexp(r"^[^,\n\r]{1,80}\Z", error="a tag is 1 to 80 characters, without commas or new lines")
COLOUR = validate.Regexp(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z", error="use a colour like #2754c5")
URL = validate.URL(schemes={"http", "https"}, require_tld=False)


class Strict(Schema):
    class Meta:
        unknown = RAISE


def Tags(**kw):  # noqa: N802 - reads like a field type
    return fields.List(fields.String(validate=TAG), **kw)


Weights = fields.Dict(keys=fields.String(validate=IDENT), values=fields.Decimal())


class OptionSchema(Strict):
    value = fields.String(required=True, validate=validate.Length(min=1, max=100))
    label = fields.String(required=True, validate=validate.Length(min=1))
    points = fields.Decimal(load_default=Decimal(0))
    weights = fields.Dict(keys=fields.String(validate=IDENT), values=fields.Decimal(), load_default=dict)
    tags = Tags(load_default=list)
    lead_points = fields.Decimal(load_default=Decimal(0))

    @post_load
    def make(self, d, **kwargs):
        return Option(d["value"], d["label"], d["points"], freeze(d["weights"]), tuple(d["tags"]),
                      d["lead_points"])


class BandSchema(Strict):
    min = fields.Decimal(allow_none=True, load_default=None)
    max = fields.Decimal(allow_none=True, load_default=None)
    points = fields.Decimal(load_default=Decimal(0))
    weights = fields.Dict(keys=fields.String(validate=IDENT), values=fields.Decimal(), load_default=dict)
    tags = Tags(load_default=list)
    lead_points = fields.Decimal(load_default=Decimal(0))

    @validates_schema
    def _order(self, d, **kwargs):
        if d.get("min") is not None and d.get("max") is not None and d["min"] > d["max"]:
            raise ValidationError("max is smaller than min", "max")

    @post_load
    def make(self, d, **kwargs):
        return Band(d["min"], d["max"], d["points"], freeze(d["weights"]), tuple(d["tags"]), d["lead_points"])


CONDITION_OPS = {"equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "answered"}


class ConditionField(fields.Field):
    """`{"question": "q1", "equals": "yes"}`, `{"question": "q2", "gte": 3}`, `{"all": [...]}`, `{"any": [...]}`."""

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_condition(value)


def parse_condition(value: Any) -> Condition:
    if not isinstance(value, dict):
        raise ValidationError("a condition is an object such as {\"question\": \"q1\", \"equals\": \"yes\"}")
    for combinator in ("all", "any"):
        if combinator in value:
            if set(value) != {combinator} or not isinstance(value[combinator], list) or not value[combinator]:
                raise ValidationError(f"'{combinator}' takes a non-empty list of conditions and nothing beside it")
            children, errors = [], {}
            for i, child in enumerate(value[combinator]):
                try:
                    children.append(parse_condition(child))
                except ValidationError as err:
                    errors[i] = err.messages
            if errors:
                raise ValidationError({combinator: errors})
            return Condition(combinator, children=tuple(children))
    ops = set(value) - {"question"}
    if "question" not in value or not isinstance(value["question"], str):
        raise ValidationError("a condition names the 'question' it looks at")
    if len(ops) != 1 or not ops <= CONDITION_OPS:
        raise ValidationError("a condition has exactly one of: " + ", ".join(sorted(CONDITION_OPS))
                              + (f" (found: {', '.join(sorted(ops))})" if ops else ""))
    op = ops.pop()
    arg = value[op]
    if op in {"in", "not_in"}:
        if not isinstance(arg, list) or not arg:
            raise ValidationError({op: [f"'{op}' takes a non-empty list of answers"]})
        arg = tuple(str(a) for a in arg)
    elif op in {"gt", "gte", "lt", "lte"}:
        if isinstance(arg, bool) or not isinstance(arg, int | float | str):
            raise ValidationError({op: [f"'{op}' takes a number"]})
        try:
            arg = Decimal(str(arg))
        except ArithmeticError:
            raise ValidationError({op: [f"'{op}' takes a number"]}) from None
    elif op == "answered":
        if not isinstance(arg, bool):
            raise ValidationError({op: ["'answered' takes true or false"]})
    else:
        arg = str(arg) if not isinstance(arg, bool) else ("yes" if arg else "no")
    return Condition(op, value["question"], arg)


class QuestionField(fields.Field):
    """Loads a question with the schema of its type, so each type accepts only its own keys."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("a question is an object")
        qtype = value.get("type")
        if qtype not in question_types.REGISTRY:
            raise ValidationError({"type": [f"unknown question type {qtype!r}; use one of: "
                                            + ", ".join(sorted(question_types.REGISTRY))]})
        return question_schema(qtype)().load(value)


class QuestionBase(Strict):
    id = fields.String(required=True, validate=IDENT)
    type = fields.String(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1))
    help = fields.String(load_default="")
    required = fields.Boolean(load_default=True)
    show_if = ConditionField(load_default=None, allow_none=True)

    @post_load
    def make(self, d, **kwargs):
        d = dict(d)
        for key in ("min", "max", "step", "points_per_unit"):
            if key in d and d[key] is not None:
                d[key] = Decimal(d[key])
        if "weights_per_unit" in d:
            d["weights_per_unit"] = freeze(d["weights_per_unit"])
        for key in ("options", "bands"):
            if key in d:
                d[key] = tuple(d[key])
        return Question(**d)


_question_schemas: dict[str, type[Schema]] = {}


def question_schema(qtype: str) -> type[Schema]:
    if qtype not in _question_schemas:
        extra = {k: v for k, v in question_types.REGISTRY[qtype].schema_fields.items()}
        _question_schemas[qtype] = QuestionBase.from_dict(extra, name=f"{qtype.title()}QuestionSchema")
    return _question_schemas[qtype]


class CtaSchema(Strict):
    label = fields.String(required=True)
    url = fields.String(required=True, validate=URL)
    text = fields.String(load_default="")

    @post_load
    def make(self, d, **kwargs):
        return CallToAction(**d)


class OutcomeSchema(Strict):
    id = fields.String(required=True, validate=IDENT)
    title = fields.String(required=True)
    summary = fields.String(load_default="")
    body = fields.String(load_default="")
    tags = Tags(load_default=list)
    cta = fields.Nested(CtaSchema, load_default=None, allow_none=True)

    @post_load
    def make(self, d, **kwargs):
        return Outcome(d["id"], d["title"], d["summary"], d["body"], tuple(d["tags"]), d["cta"])


class TierSchema(Strict):
    min = fields.Decimal(required=True)
    max = fields.Decimal(required=True)
    outcome = fields.String(required=True)

    @post_load
    def make(self, d, **kwargs):
        return Tier(d["min"], d["max"], d["outcome"])


class CategorySchema(Strict):
    id = fields.String(required=True, validate=IDENT)
    label = fields.String(required=True)
    outcome = fields.String(required=True)

    @post_load
    def make(self, d, **kwargs):
        return Category(**d)


class ScoringSchema(Strict):
    model = fields.String(required=True, validate=validate.OneOf(["tiers", "categories"]))
    tiers = fields.List(fields.Nested(TierSchema), load_default=list)
    pick = fields.String(load_default="highest", validate=validate.OneOf(["highest", "lowest"]))
    compare = fields.String(load_default="points", validate=validate.OneOf(["points", "percent"]))
    tie_break = fields.List(fields.String(), load_default=list)

    @validates_schema
    def _model_needs(self, d, **kwargs):
        if d["model"] == "tiers" and not d.get("tiers"):
            raise ValidationError("the tiers model needs a list of tiers", "tiers")

    @post_load
    def make(self, d, **kwargs):
        return Scoring(d["model"], tuple(d["tiers"]), d["pick"], d["compare"], tuple(d["tie_break"]))


class ThresholdSchema(Strict):
    min = fields.Decimal(required=True)
    max = fields.Decimal(load_default=None, allow_none=True)
    tags = Tags(required=True, validate=validate.Length(min=1))
    label = fields.String(load_default="")

    @post_load
    def make(self, d, **kwargs):
        return Threshold(d["min"], tuple(d["tags"]), d["label"], d["max"])


class LeadScoreSchema(Strict):
    source = fields.String(load_default="score", validate=validate.OneOf(["score", "lead_points"]))
    thresholds = fields.List(fields.Nested(ThresholdSchema), required=True)

    @post_load
    def make(self, d, **kwargs):
        return LeadScore(d["source"], tuple(d["thresholds"]))


class ConsentSchema(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1))
    required = fields.Boolean(load_default=True)

    @post_load
    def make(self, d, **kwargs):
        return Consent(**d)


class GateSchema(Strict):
    headline = fields.String(load_default=Gate.headline)
    text = fields.String(load_default="")
    button = fields.String(load_default=Gate.button)
    consent = fields.Nested(ConsentSchema, load_default=None, allow_none=True)
    privacy_url = fields.String(load_default="", validate=lambda v: v == "" or URL(v))

    @post_load
    def make(self, d, **kwargs):
        return Gate(**d)


class ThemeSchema(Strict):
    primary = fields.String(load_default=Theme.primary, validate=COLOUR)
    background = fields.String(load_default=Theme.background, validate=COLOUR)
    text = fields.String(load_default=Theme.text, validate=COLOUR)
    radius = fields.String(load_default=Theme.radius, validate=validate.Regexp(r"^\d{1,2}px\Z"))

    @post_load
    def make(self, d, **kwargs):
        return Theme(**d)


class DestinationRefField(fields.Field):
    """A destination's name, or {"name": ..., ...mapping options for this quiz}."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value:
            return DestinationRef(value)
        if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
            return DestinationRef(value["name"], freeze({k: v for k, v in value.items() if k != "name"}))
        raise ValidationError("a destination is a name, or an object with a 'name'")


ORIGIN = re.compile(r"^(\*|https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?)\Z")


class OriginField(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not ORIGIN.match(value):
            raise ValidationError("an origin looks like https://blog.example.com (scheme and host, no path)")
        return value


class CommonSchema(Strict):
    """Keys shared by every kind of definition."""

    _schema = fields.String(data_key="$schema")
    kind = fields.String(required=True)
    slug = fields.String(required=True, validate=SLUG)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    headline = fields.String(required=True)
    promise = fields.String(load_default="")
    description = fields.String(load_default="")
    start_button = fields.String(load_default="Start")
    gate = fields.Nested(GateSchema, load_default=lambda: Gate())
    tags = Tags(load_default=list)
    theme = fields.Nested(ThemeSchema, load_default=lambda: Theme())
    locale = fields.String(load_default="en", validate=validate.Regexp(r"^[a-z]{2}([_-][A-Z]{2})?\Z"))
    embed_origins = fields.List(OriginField(), load_default=list)
    destinations = fields.List(DestinationRefField(), load_default=list)


class QuizSchema(CommonSchema):
    kind = fields.String(required=True, validate=validate.Equal("quiz"))
    start_button = fields.String(load_default="Start the quiz")
    questions = fields.List(QuestionField(), required=True, validate=validate.Length(min=1))
    outcomes = fields.List(fields.Nested(OutcomeSchema), required=True, validate=validate.Length(min=1))
    scoring = fields.Nested(ScoringSchema, required=True)
    categories = fields.List(fields.Nested(CategorySchema), load_default=list)
    lead_score = fields.Nested(LeadScoreSchema, load_default=None, allow_none=True)

    @post_load
    def make(self, d, **kwargs):
        d = dict(d)
        d.pop("_schema", None)
        for key in ("questions", "outcomes", "categories", "tags", "embed_origins", "destinations"):
            d[key] = tuple(d[key])
        return Quiz(**d)


KIND_SCHEMAS: dict[str, type[Schema]] = {"quiz": QuizSchema}


def register_kind(kind: str, schema: type[Schema]) -> None:
    if kind in KIND_SCHEMAS:
        raise RuntimeError(f"definition kind {kind!r} registered twice")
    KIND_SCHEMAS[kind] = schema
