"""The JSON Schema (draft 2020-12) of definition files, generated from the marshmallow schemas.

Editors use it to autocomplete and check a quiz or calculator while it is written. It is built by walking
the marshmallow fields of every registered kind, so a key added to a schema shows up here too; a field or
validator this module can't translate raises ``UnsupportedField`` instead of being left out quietly.

What the JSON Schema cannot say (ids referred to elsewhere, tiers that overlap or leave gaps, min below max)
is checked by the loader and ``quizapp validate``. Numbers are asked for as JSON numbers: the loader also
reads numeric strings such as "2.5", but a number is what a creator should write.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate

from quizapp.definitions import calculator, question_types, schemas
from quizapp.engine.formula import MAX_LENGTH

DRAFT = "https://json-schema.org/draft/2020-12/schema"
FILE_NAME = "quiz.schema.json"
NUMBER = {"type": "number"}
SCALAR = {"type": ["string", "number", "boolean"]}


class UnsupportedField(TypeError):
    """A marshmallow field or validator with no JSON Schema translation here."""


# Hover text for editors, keyed by "<Def>.<key>". A def is a marshmallow schema class without "Schema";
# a key inherited from a base schema (Common, QuestionBase) is described once under the base's name.
# A field's own metadata={"description": ...} wins over this table.
DESCRIPTIONS: dict[str, str] = {
    "Quiz": "A quiz: questions, outcomes and how answers are scored.",
    "Common.$schema": "Where editors find this JSON Schema; ignored by the server.",
    "Common.kind": "What the file defines.",
    "Common.slug": "Address of the page, /q/<slug>; unique across the folder.",
    "Common.title": "Name in the browser tab and in lists; {{quiz}} in result text.",
    "Common.headline": "Main heading of the landing screen.",
    "Common.promise": "Line under the headline: what the visitor gets.",
    "Common.description": "Longer text on the landing screen.",
    "Common.start_button": "Label of the landing screen's start button.",
    "Common.gate": "The email gate between the last question and the result.",
    "Common.tags": "Tags every lead of this definition gets, before any other tag.",
    "Common.theme": "Colours and corner radius of the pages.",
    "Common.locale": "Language and region, like \"en\" or \"en-GB\".",
    "Common.embed_origins": "Sites that may show this page in an iframe: scheme and host "
                            "(https://blog.example.com, https://*.example.com), or \"*\" for any.",
    "Common.destinations": "Email platforms (configured on the server) that receive the leads: a name, or an "
                           "object with \"name\" and this definition's mapping of facts to tags and fields.",
    "Quiz.questions": "The questions, in the order they are asked.",
    "Quiz.outcomes": "The results a visitor can get.",
    "Quiz.scoring": "How answers become a score and an outcome.",
    "Quiz.categories": "Categories for the \"categories\" model (and sub-scores); each leads to an outcome.",
    "Quiz.lead_score": "A lead score whose thresholds add tags, e.g. \"hot-lead\" from 40 points.",
    "QuestionBase.id": "Question id, used by show_if conditions and {{answer.<id>}}; unique in the quiz.",
    "QuestionBase.type": "The question type; each type accepts its own keys.",
    "QuestionBase.text": "The question as the visitor reads it.",
    "QuestionBase.help": "A line of help under the question.",
    "QuestionBase.required": "Whether the visitor must answer.",
    "QuestionBase.show_if": "Ask this question only when the condition on earlier answers holds. A hidden "
                            "question counts neither for the score nor for the maximum.",
    "SingleQuestion": "One answer among the options.",
    "SingleQuestion.options": "The answers to choose from (at least two).",
    "MultipleQuestion": "Any number of answers among the options; each chosen option counts.",
    "MultipleQuestion.options": "The answers to choose from (at least two).",
    "MultipleQuestion.min_choices": "Fewest answers to choose (default: 1 when required, else 0).",
    "MultipleQuestion.max_choices": "Most answers to choose (default: all).",
    "ScaleQuestion": "A whole number from min to max, shown as a row of buttons (at most 21 steps).",
    "ScaleQuestion.min": "Lowest value.",
    "ScaleQuestion.max": "Highest value (at most min + 20).",
    "ScaleQuestion.min_label": "Caption under the lowest value.",
    "ScaleQuestion.max_label": "Caption under the highest value.",
    "ScaleQuestion.points_per_unit": "Points per unit of the value: with 2, an answer of 4 earns 8.",
    "ScaleQuestion.weights_per_unit": "Category weight per unit of the value.",
    "ScaleQuestion.bands": "Ranges of the value that add points, weights and tags (every band that holds "
                           "the value counts).",
    "NumberQuestion": "A number the visitor types; bands turn ranges into points, weights and tags.",
    "NumberQuestion.min": "Smallest accepted answer.",
    "NumberQuestion.max": "Largest accepted answer.",
    "NumberQuestion.step": "Granularity of the answer.",
    "NumberQuestion.unit": "Unit shown beside the field, like \"EUR\" or \"visitors\".",
    "NumberQuestion.placeholder": "Hint inside the empty field.",
    "NumberQuestion.bands": "Ranges of the answer; the first band that holds it counts. Bands must not "
                            "overlap.",
    "TextQuestion": "A short free-text answer; earns no points.",
    "TextQuestion.placeholder": "Hint inside the empty field.",
    "TextQuestion.max_length": "Most characters accepted (default 200).",
    "Option.value": "What is stored and what conditions compare with; unique within the question.",
    "Option.label": "What the visitor reads; {{answer.<question id>}} shows it.",
    "Option.points": "Points added to the score when chosen.",
    "Option.weights": "Weight added to each category when chosen.",
    "Option.tags": "Tags the lead gets when this answer is chosen.",
    "Option.lead_points": "Points added to the lead score when its source is \"lead_points\".",
    "Band.min": "Lowest value in the band, inclusive; leave out for no lower bound.",
    "Band.max": "Highest value in the band, inclusive; leave out for no upper bound.",
    "Band.points": "Points added when the answer is in the band.",
    "Band.weights": "Weight added to each category when the answer is in the band.",
    "Band.tags": "Tags the lead gets when the answer is in the band.",
    "Band.lead_points": "Points added to the lead score when its source is \"lead_points\".",
    "Outcome.id": "Outcome id, named by tiers and categories.",
    "Outcome.title": "Heading of the result; {{outcome}} in result text.",
    "Outcome.summary": "One line under the result's heading.",
    "Outcome.body": "Markdown shown on the result page, with {{variables}}: first_name, score, max_score, "
                    "percent, outcome, tier, lead_score, quiz, score.<category>, percent.<category>, "
                    "answer.<question id>.",
    "Outcome.tags": "Tags the lead gets with this outcome.",
    "Outcome.cta": "The call to action on the result page.",
    "Cta.label": "Button text.",
    "Cta.url": "Where the button leads (the click is counted first).",
    "Cta.text": "A line above the button.",
    "Scoring.model": "\"tiers\": the total points pick a tier. \"categories\": the category with the highest "
                     "(or lowest) weighted sum picks the outcome.",
    "Scoring.tiers": "Tiers model: score ranges, inclusive at both ends, covering every reachable total with "
                     "no overlap and no gap.",
    "Scoring.pick": "Categories model: the outcome of the category with the \"highest\" or \"lowest\" "
                    "measure.",
    "Scoring.compare": "Categories model: compare categories by \"points\" (weighted sums) or by "
                       "\"percent\" of each category's own maximum.",
    "Scoring.tie_break": "Categories model: category ids in order of preference for a tie; the rest follow "
                         "in the order of \"categories\".",
    "Tier.min": "Lowest total in the tier, inclusive.",
    "Tier.max": "Highest total in the tier, inclusive.",
    "Tier.outcome": "Id of the outcome for totals in this tier.",
    "Category.id": "Category id, used in option weights, tie_break and {{score.<id>}}, {{percent.<id>}}.",
    "Category.label": "Name of the category shown with its sub-score.",
    "Category.outcome": "Id of the outcome when this category wins.",
    "LeadScore.source": "\"score\": the quiz score; \"lead_points\": the sum of the chosen answers' "
                        "lead_points.",
    "LeadScore.thresholds": "Ranges of the lead score that add tags; every range that holds it counts.",
    "Threshold.min": "Lowest lead score, inclusive.",
    "Threshold.max": "Highest lead score, inclusive; leave out for no upper bound.",
    "Threshold.tags": "Tags added when the lead score is in range.",
    "Threshold.label": "Name of the range, like \"Hot lead\".",
    "Gate.headline": "Heading of the gate.",
    "Gate.text": "A line under the heading.",
    "Gate.button": "Label of the submit button.",
    "Gate.consent": "A consent checkbox; its text and the time are stored with the lead.",
    "Gate.privacy_url": "Address of the privacy policy, linked under the form.",
    "Consent.text": "The consent text beside the checkbox.",
    "Consent.required": "Whether the box must be ticked to see the result.",
    "Theme.primary": "Colour of buttons and links.",
    "Theme.background": "Page background colour.",
    "Theme.text": "Text colour.",
    "Theme.radius": "Corner radius, like \"10px\".",
    "Calculator": "A calculator: inputs, computed values with formulas, and what is free or behind the gate.",
    "Calculator.unlock_button": "Label of the button that leads from the free figures to the gate.",
    "Calculator.currency": "ISO code of the currency of currency inputs and values.",
    "Calculator.inputs": "The fields the visitor fills in, in order.",
    "Calculator.values": "Computed values, each a formula on inputs and other values (any order).",
    "Calculator.headline_value": "Id of the value shown largest (default: the first value that is shown).",
    "Calculator.rules": "Conditions on inputs and values that add tags and lead points.",
    "Calculator.advice": "Blocks of Markdown shown with the result when their condition holds; the first "
                         "that holds is the submission's outcome.",
    "Calculator.examples": "Worked examples checked on every load: inputs and the figures they must give.",
    "Calculator.lead_score": "Thresholds on the lead score (the sum of the rules' lead_points) that add "
                             "tags.",
    "Calculator.cta": "The call to action on the result page.",
    "CalculatorInput.id": "Name of the input in formulas and {{<id>}} in advice.",
    "CalculatorInput.type": "\"percent\" is typed as a percentage (5 means 5%) and is a fraction (0.05) in "
                            "formulas; \"select\" picks among options; \"yesno\" is 1 or 0.",
    "CalculatorInput.label": "What the visitor reads.",
    "CalculatorInput.help": "A line of help under the field.",
    "CalculatorInput.unit": "Unit shown beside the field.",
    "CalculatorInput.placeholder": "Hint inside the empty field.",
    "CalculatorInput.required": "Whether the visitor must fill it in.",
    "CalculatorInput.min": "Smallest accepted value, as typed (not for select or yes/no).",
    "CalculatorInput.max": "Largest accepted value, as typed; a slider needs min and max.",
    "CalculatorInput.step": "Granularity of the value, as typed.",
    "CalculatorInput.default": "Value filled in at first, as typed; true or false for a yes/no input.",
    "CalculatorInput.options": "Select input: the choices (at least two).",
    "CalculatorInput.yes_label": "Yes/no input: label of yes.",
    "CalculatorInput.no_label": "Yes/no input: label of no.",
    "CalculatorOption.label": "What the visitor reads.",
    "CalculatorOption.value": "The number the choice stands for in formulas.",
    "CalculatorOption.tags": "Tags the lead gets with this choice.",
    "CalculatorValue.id": "Name of the value in formulas and {{<id>}} in advice.",
    "CalculatorValue.formula": "How the value is worked out.",
    "CalculatorValue.label": "What the visitor reads beside the figure (needed unless hidden).",
    "CalculatorValue.help": "A line of help under the figure.",
    "CalculatorValue.format": "How the figure is shown; a percent value is a fraction (0.05 shows 5%).",
    "CalculatorValue.places": "Decimal places shown (default: 2, integer 0, currency 2, percent 1).",
    "CalculatorValue.unit": "Unit shown beside the figure.",
    "CalculatorValue.show": "\"free\": before the gate; \"gated\": after it; \"hidden\": stored, never "
                            "shown.",
    "CalculatorValue.fallback": "Text shown when the value can't be worked out (default: a dash).",
    "CalculatorRule.when": "The condition, as a formula (any non-zero result holds).",
    "CalculatorRule.tags": "Tags the lead gets when it holds.",
    "CalculatorRule.lead_points": "Points added to the lead score when it holds.",
    "CalculatorAdvice.id": "Advice id, stored as the outcome.",
    "CalculatorAdvice.title": "Heading of the block.",
    "CalculatorAdvice.summary": "One line under the heading.",
    "CalculatorAdvice.body": "Markdown with {{first_name}}, {{calculator}} and {{<input or value id>}}.",
    "CalculatorAdvice.when": "The condition, as a formula; without it the advice always shows.",
    "CalculatorAdvice.show": "\"free\": before the gate; \"gated\": after it.",
    "CalculatorAdvice.tags": "Tags the lead gets when the advice shows.",
    "CalculatorAdvice.cta": "A call to action inside the block.",
    "CalculatorExample.name": "What the example shows; named in validation errors.",
    "CalculatorExample.inputs": "Input id -> value as a visitor types it (a number, text such as \"3%\", "
                                "true/false, or null for empty).",
    "CalculatorExample.expect": "Value id -> the figure shown (a number, the exact text shown, or null for "
                                "can't be worked out).",
    "CalculatorExample.tags": "When given, the exact list of tags the lead must get.",
    "CalculatorLeadScore.thresholds": "Ranges of the lead score that add tags; every range that holds it "
                                      "counts.",
    "Condition": "{\"question\": \"<earlier question id>\", \"<operator>\": <value>}, or {\"all\": [...]} / "
                 "{\"any\": [...]} of conditions.",
    "Destination": "A destination's name, or {\"name\": ..., plus this definition's mapping options}.",
}

# Fields whose validator is a plain function the walker can't read; their JSON Schema is given here.
FIELD_OVERRIDES: dict[str, dict[str, Any]] = {
    "Gate.privacy_url": {"type": "string", "anyOf": [{"const": ""}, {"format": "uri", "pattern": "^https?://"}]},
}

# The value each condition operator takes, as parse_condition accepts it.
CONDITION_VALUES: dict[str, dict[str, Any]] = {
    "equals": SCALAR,
    "not_equals": SCALAR,
    "in": {"type": "array", "minItems": 1, "items": SCALAR},
    "not_in": {"type": "array", "minItems": 1, "items": SCALAR},
    "gt": NUMBER,
    "gte": NUMBER,
    "lt": NUMBER,
    "lte": NUMBER,
    "answered": {"type": "boolean"},
}

# Fields of a kind's own module, as their _deserialize accepts them.
CUSTOM_FIELDS: dict[type[fields.Field], dict[str, Any]] = {
    calculator.FormulaField: {
        "type": "string", "minLength": 1, "maxLength": MAX_LENGTH,
        "description": "A formula on inputs and computed values: numbers, + - * / **, comparisons, and, or, "
                       "not, if(cond, a, b), min, max, round, ceil, floor, abs, sqrt, pow.",
    },
    calculator.DefaultField: {"type": ["number", "boolean"]},
    calculator.ExpectedField: {"type": ["number", "string"], "minLength": 1},
    calculator.ExampleInputField: {"type": ["number", "string", "boolean"]},
}

_DEFAULT_REGEXP_ERROR = validate.Regexp.default_message


# Schemas of these modules are shared by every kind and keep their plain names; a kind's own schemas are
# prefixed with their module's name (calculator.InputSchema -> CalculatorInput), so two kinds can each
# have an OptionSchema.
_SHARED_MODULES = {schemas.__name__, question_types.__name__}


def def_name(schema_cls: type[Schema]) -> str:
    name = schema_cls.__name__.removesuffix("Schema") or schema_cls.__name__
    # Schema.from_dict classes (the question types) carry no module of ours: use their base's.
    module = next((k.__module__ for k in schema_cls.__mro__ if k.__module__.startswith("quizapp.")), "")
    if not module or module in _SHARED_MODULES:
        return name
    prefix = module.rsplit(".", 1)[-1].title().replace("_", "")
    return name if name.startswith(prefix) else prefix + name


def _lineage(schema_cls: type[Schema]) -> list[str]:
    """Def names of the schema and its bases, nearest first: where its keys' descriptions may be."""
    return [def_name(k) for k in schema_cls.__mro__ if issubclass(k, Schema) and k is not Schema]


class _Builder:
    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, type[Schema]] = {}
        self.described: set[str] = set()

    def text(self, key: str) -> str | None:
        """The description under `key`, noting its use so entries for keys that are gone get noticed."""
        if key in DESCRIPTIONS:
            self.described.add(key)
        return DESCRIPTIONS.get(key)

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{name}"}

    def describe(self, schema_cls: type[Schema], key: str) -> str | None:
        for name in _lineage(schema_cls):
            text = self.text(f"{name}.{key}")
            if text:
                return text
        return None

    def schema_def(self, schema_cls: type[Schema], const: dict[str, Any] | None = None) -> str:
        """Add the def of a marshmallow schema (once) and return its name."""
        name = def_name(schema_cls)
        if self.classes.setdefault(name, schema_cls) is not schema_cls:
            raise UnsupportedField(f"two schemas are both named {name!r}: {self.classes[name]!r} and "
                                   f"{schema_cls!r}")
        if name in self.defs:
            return name
        self.defs[name] = {}  # placeholder, so a schema that nests itself stops here
        properties: dict[str, Any] = {}
        required: list[str] = []
        for attr, field in schema_cls._declared_fields.items():
            key = field.data_key or attr
            override = next((FIELD_OVERRIDES[f"{n}.{key}"] for n in _lineage(schema_cls)
                             if f"{n}.{key}" in FIELD_OVERRIDES), None)
            prop = dict(override) if override is not None else self.field(field)
            if const and key in const:
                prop = {"const": const[key]}
            description = field.metadata.get("description") or self.describe(schema_cls, key)
            prop = self.annotate(prop, field, description)
            properties[key] = prop
            if field.required:
                required.append(key)
        body: dict[str, Any] = {}
        if self.text(name):
            body["description"] = self.text(name)
        body["type"] = "object"
        if required:
            body["required"] = required
        body["properties"] = properties
        body["additionalProperties"] = False
        self.defs[name] = body
        return name

    def annotate(self, prop: dict[str, Any], field: fields.Field, description: str | None) -> dict[str, Any]:
        notes = [description] if description else []
        notes += [v.error for v in field.validators
                  if isinstance(v, validate.Regexp) and v.error and v.error != _DEFAULT_REGEXP_ERROR]
        prop = dict(prop)
        if "description" in prop:  # what a custom field says of its values comes after the key's text
            notes.append(prop.pop("description"))
        notes = [n[0].upper() + n[1:] + ("" if n.endswith(".") else ".") for n in notes]
        front: dict[str, Any] = {"description": " ".join(notes)} if notes else {}
        default = _json_default(field.load_default)
        if default is not None:
            front["default"] = default
        return {**front, **prop}

    def field(self, field: fields.Field) -> dict[str, Any]:
        out = self._field_type(field)
        for v in field.validators:
            out.update(self._validator(v, out))
        if field.allow_none:
            out = _nullable(out)
        return out

    def _field_type(self, field: fields.Field) -> dict[str, Any]:
        # Subclasses before their bases: OriginField is a String, Integer is a Number.
        if isinstance(field, schemas.OriginField):
            return {"type": "string", "pattern": schemas.ORIGIN.pattern,
                    "description": "An origin like https://blog.example.com (scheme and host, no path), "
                                   "or \"*\"."}
        if isinstance(field, schemas.QuestionField):
            return self.question()
        if isinstance(field, schemas.ConditionField):
            return self.ref(self.condition())
        if isinstance(field, schemas.DestinationRefField):
            return self.ref(self.destination())
        if type(field) in CUSTOM_FIELDS:
            return dict(CUSTOM_FIELDS[type(field)])
        if type(field) is fields.String:
            return {"type": "string"}
        if type(field) is fields.Integer:
            return {"type": "integer"}
        if type(field) is fields.Decimal:
            return dict(NUMBER)
        if type(field) is fields.Boolean:
            return {"type": "boolean"}
        if type(field) is fields.List:
            return {"type": "array", "items": self.field(field.inner)}
        if type(field) is fields.Nested:
            nested = field.schema
            if nested.many or nested.only or nested.exclude:
                raise UnsupportedField(f"nested schema options are not translated: {field!r}")
            return self.ref(self.schema_def(type(nested)))
        if type(field) is fields.Dict:
            out: dict[str, Any] = {"type": "object"}
            if field.key_field is not None:
                keys = self.field(field.key_field)
                if keys.get("type") != "string":
                    raise UnsupportedField(f"dictionary keys must be strings: {field!r}")
                keys.pop("type")
                if keys:
                    out["propertyNames"] = keys
            if field.value_field is not None:
                out["additionalProperties"] = self.field(field.value_field)
            return out
        raise UnsupportedField(f"no JSON Schema translation for {type(field).__name__}")

    def _validator(self, v: Any, prop: dict[str, Any]) -> dict[str, Any]:
        kind = prop.get("type")
        if isinstance(v, validate.Length):
            low, high = ("minItems", "maxItems") if kind == "array" else (
                ("minProperties", "maxProperties") if kind == "object" else ("minLength", "maxLength"))
            if v.equal is not None:
                return {low: v.equal, high: v.equal}
            return {k: n for k, n in ((low, v.min), (high, v.max)) if n is not None}
        if isinstance(v, validate.Regexp):
            return {"pattern": v.regex.pattern}
        if isinstance(v, validate.OneOf):
            return {"enum": [_json_value(c) for c in v.choices]}
        if isinstance(v, validate.Equal):
            return {"const": _json_value(v.comparable)}
        if isinstance(v, validate.Range):
            out: dict[str, Any] = {}
            if v.min is not None:
                out["minimum" if v.min_inclusive else "exclusiveMinimum"] = _json_value(v.min)
            if v.max is not None:
                out["maximum" if v.max_inclusive else "exclusiveMaximum"] = _json_value(v.max)
            return out
        if isinstance(v, validate.URL):
            if v.relative or not v.schemes:
                raise UnsupportedField("only absolute URLs with listed schemes are translated")
            schemes = "|".join(sorted(v.schemes))
            return {"format": "uri", "pattern": f"^({schemes})://"}
        raise UnsupportedField(f"no JSON Schema translation for the validator {v!r}")

    def question(self) -> dict[str, Any]:
        names = sorted(question_types.REGISTRY)
        branches = [self.ref(self.schema_def(schemas.question_schema(n), const={"type": n})) for n in names]
        return {"type": "object", "required": ["type"],
                "properties": {"type": {"enum": names, "description": self.text("QuestionBase.type")}},
                "oneOf": branches}

    def condition(self) -> str:
        if "Condition" in self.defs:
            return "Condition"
        unknown = schemas.CONDITION_OPS ^ set(CONDITION_VALUES)
        if unknown:
            raise UnsupportedField(f"condition operators without a translation: {', '.join(sorted(unknown))}")
        self.defs["Condition"] = {}
        branches = []
        for combinator in ("all", "any"):
            branches.append({"type": "object", "required": [combinator],
                             "properties": {combinator: {"type": "array", "minItems": 1,
                                                         "items": self.ref("Condition")}},
                             "additionalProperties": False})
        for op in sorted(CONDITION_VALUES):
            branches.append({"type": "object", "required": ["question", op],
                             "properties": {"question": {"type": "string",
                                                         "description": "Id of an earlier question."},
                                            op: CONDITION_VALUES[op]},
                             "additionalProperties": False})
        self.defs["Condition"] = {"description": self.text("Condition"), "oneOf": branches}
        return "Condition"

    def destination(self) -> str:
        self.defs["Destination"] = {
            "description": self.text("Destination"),
            "oneOf": [{"type": "string", "minLength": 1},
                      {"type": "object", "required": ["name"],
                       "properties": {"name": {"type": "string", "minLength": 1}}}],
        }
        return "Destination"


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    if "type" in prop and not {"$ref", "oneOf", "anyOf", "const"} & set(prop):
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        out = {**prop, "type": [*types, "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [prop, {"type": "null"}]}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _json_default(value: Any) -> Any:
    """A load_default an editor can show, or None (missing, callable, None)."""
    if isinstance(value, bool | str | int | Decimal):
        return _json_value(value)
    return None


def build_schema() -> dict[str, Any]:
    """The JSON Schema of every registered definition kind, dispatched on "kind"."""
    return _build(_Builder())


def unused_descriptions() -> set[str]:
    """Entries of DESCRIPTIONS that describe no key any more."""
    builder = _Builder()
    _build(builder)
    return set(DESCRIPTIONS) - builder.described


def _build(builder: _Builder) -> dict[str, Any]:
    kinds = sorted(schemas.KIND_SCHEMAS)
    branches = []
    for kind in kinds:
        name = builder.schema_def(schemas.KIND_SCHEMAS[kind], const={"kind": kind})
        branches.append({"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                         "then": builder.ref(name)})
    return {
        "$schema": DRAFT,
        "title": "quizapp definition",
        "description": "A quiz or calculator lead magnet, one per file in the quizzes folder. "
                       "Check it with `quizapp validate`.",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"description": builder.text("Common.kind"), "enum": kinds}},
        "allOf": branches,
        "$defs": dict(sorted(builder.defs.items())),
    }


def render_schema() -> str:
    """The schema as the committed file holds it: stable key order, two-space indent, final newline."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"
