"""Calculator definitions (``"kind": "calculator"``): inputs, named computed values with formulas, what is
free and what is behind the gate, rules that add tags and lead points, advice, and worked examples.

Formulas are checked when the file loads: a syntax error, an unknown name or a cycle between computed
values is a validation error naming the JSON path. The evaluation order of computed values is worked out
here, once. (The formula language itself lives in ``quizapp.engine.formula``, a module with no imports of
ours, so the loader can check formulas without pulling in the rest of the engine.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from marshmallow import ValidationError, fields, post_load, validate, validates, validates_schema

from quizapp.definitions.contrast import check_theme
from quizapp.definitions.loader import register_checks
from quizapp.definitions.model import CallToAction, Threshold, freeze
from quizapp.definitions.schemas import (
    CommonSchema,
    CtaSchema,
    Strict,
    Tags,
    ThresholdSchema,
    register_kind,
)
from quizapp.engine.formula import Formula, FormulaError, is_reserved, parse

INPUT_TYPES = ("number", "integer", "currency", "percent", "slider", "select", "yesno")
NUMERIC_TYPES = ("number", "integer", "currency", "percent", "slider")
STYLES = ("number", "integer", "currency", "percent")
SHOW = ("free", "gated", "hidden")
DEFAULT_PLACES = {"number": 2, "integer": 0, "currency": 2, "percent": 1}
# Names in formulas: no '-' (it would read as a minus), so stricter than other ids.
NAME = validate.Regexp(r"^[A-Za-z][A-Za-z0-9_]{0,63}$",
                       error="use letters, digits and '_', starting with a letter (at most 64)")
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
# Form fields the calculator pages post beside the inputs (the gate's, and the visit's source).
FORM_FIELDS = frozenset({"first_name", "email", "consent", "utm_source", "utm_medium", "utm_campaign",
                         "utm_term", "utm_content", "referrer", "page", "embed"})
MAX_INPUTS = 40
MAX_VALUES = 60


@dataclass(frozen=True)
class InputOption:
    value: Decimal
    label: str
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The option as a form posts it."""
        return plain(self.value)


@dataclass(frozen=True)
class CalcInput:
    """A field the visitor fills in. Percent inputs are typed as percentages (5 means 5%) and hold the
    fraction (0.05) in formulas; min, max, step and default are written as typed."""

    id: str
    type: str
    label: str
    help: str = ""
    unit: str = ""
    placeholder: str = ""
    required: bool = True
    min: Decimal | None = None
    max: Decimal | None = None
    step: Decimal | None = None
    default: Decimal | None = None
    options: tuple[InputOption, ...] = ()
    yes_label: str = "Yes"
    no_label: str = "No"

    def option(self, key: str) -> InputOption | None:
        for opt in self.options:
            if opt.key == key:
                return opt
        return None


@dataclass(frozen=True)
class ComputedValue:
    id: str
    formula: Formula
    label: str = ""
    help: str = ""
    format: str = "number"
    places: int = 2
    unit: str = ""
    show: str = "gated"  # "free", "gated" (behind the email gate) or "hidden" (stored, never shown)
    fallback: str = ""  # shown instead of a value that can't be worked out; empty means a dash
    depends_on: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """When `when` holds, the lead gets `tags` and `lead_points`."""

    when: Formula
    tags: tuple[str, ...] = ()
    lead_points: Decimal = Decimal(0)


@dataclass(frozen=True)
class Advice:
    """A block of Markdown shown with the result when `when` holds (always, without `when`)."""

    id: str
    title: str
    body: str = ""
    when: Formula | None = None
    show: str = "gated"
    tags: tuple[str, ...] = ()
    cta: CallToAction | None = None
    summary: str = ""


@dataclass(frozen=True)
class Example:
    """A creator's test case: inputs as a visitor types them, and the figures the calculator must show."""

    name: str
    inputs: MappingProxyType = field(default_factory=lambda: freeze({}))
    expect: MappingProxyType = field(default_factory=lambda: freeze({}))
    tags: tuple[str, ...] | None = None  # when given, the exact tag list expected


@dataclass(frozen=True)
class Calculator:
    slug: str
    title: str
    headline: str
    inputs: tuple[CalcInput, ...]
    values: tuple[ComputedValue, ...]
    order: tuple[str, ...]  # computed values in an order where each comes after what it uses
    headline_value: str
    kind: str = "calculator"
    promise: str = ""
    description: str = ""
    start_button: str = "Calculate"
    unlock_button: str = "See the full breakdown"
    currency: str = "USD"
    rules: tuple[Rule, ...] = ()
    advice: tuple[Advice, ...] = ()
    examples: tuple[Example, ...] = ()
    lead_thresholds: tuple[Threshold, ...] = ()
    cta: CallToAction | None = None
    gate: Any = None
    tags: tuple[str, ...] = ()
    theme: Any = None
    locale: str = "en"
    embed_origins: tuple[str, ...] = ()
    destinations: tuple[Any, ...] = ()
    content_hash: str = ""
    source_file: str = ""

    def input(self, name: str) -> CalcInput | None:
        return next((i for i in self.inputs if i.id == name), None)

    def value(self, name: str) -> ComputedValue | None:
        return next((v for v in self.values if v.id == name), None)

    def outcome(self, oid: str | None) -> Advice | None:
        """The advice a submission was filed under (the first that applied); quiz-compatible name."""
        return next((a for a in self.advice if a.id == oid), None) if oid else None

    @property
    def has_lead_score(self) -> bool:
        return bool(self.lead_thresholds) or any(r.lead_points for r in self.rules)


def known_locale(name: str) -> bool:
    """A locale CLDR has data for, as written: Babel maps an unknown region onto a likely one ("en_ZZ"
    reads as en_US), so the language and region it finds must be the ones asked for."""
    language, _, region = name.replace("-", "_").partition("_")
    try:
        found = Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return found.language == language and (not region or found.territory == region)


def known_currency(code: str) -> bool:
    return code in list_currencies()


def plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


class FormulaField(fields.Field):
    """A formula string, parsed and checked against the allow-list when the file loads."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("a formula is a string, such as \"customers / close_rate\"")
        try:
            return parse(value)
        except FormulaError as err:
            raise ValidationError(str(err)) from None


class OptionSchema(Strict):
    label = fields.String(required=True, validate=validate.Length(min=1))
    value = fields.Decimal(required=True)
    tags = Tags(load_default=list)

    @post_load
    def make(self, d, **kwargs):
        return InputOption(d["value"], d["label"], tuple(d["tags"]))


class DefaultField(fields.Field):
    """A number, or true/false for a yes/no input."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return Decimal(1) if value else Decimal(0)
        if isinstance(value, int | float | str):
            try:
                number = Decimal(str(value))
            except ArithmeticError:
                raise ValidationError("the default is a number") from None
            if number.is_finite():
                return number
        raise ValidationError("the default is a number (true or false for a yes/no input)")


class InputSchema(Strict):
    id = fields.String(required=True, validate=NAME)
    type = fields.String(required=True, validate=validate.OneOf(INPUT_TYPES))
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))
    help = fields.String(load_default="")
    unit = fields.String(load_default="", validate=validate.Length(max=30))
    placeholder = fields.String(load_default="", validate=validate.Length(max=100))
    required = fields.Boolean(load_default=True)
    min = fields.Decimal(load_default=None, allow_none=True)
    max = fields.Decimal(load_default=None, allow_none=True)
    step = fields.Decimal(load_default=None, allow_none=True,
                          validate=validate.Range(min=0, min_inclusive=False))
    default = DefaultField(load_default=None, allow_none=True)
    options = fields.List(fields.Nested(OptionSchema), load_default=list)
    yes_label = fields.String(load_default="Yes")
    no_label = fields.String(load_default="No")

    @validates_schema
    def _by_type(self, d, **kwargs):
        kind = d.get("type")
        errors: dict[str, list[str]] = {}
        if kind == "select":
            if len(d.get("options", [])) < 2:
                errors["options"] = ["a select input needs at least two options"]
            else:
                keys = [plain(o.value) for o in d["options"]]
                for i, key in enumerate(keys):
                    if key in keys[:i]:
                        errors.setdefault("options", []).append(f"option {i + 1} repeats the value {key}")
            for key in ("min", "max", "step"):
                if d.get(key) is not None:
                    errors[key] = [f"'{key}' does not apply to a select input"]
        elif d.get("options"):
            errors["options"] = [f"'options' only apply to a select input, not {kind}"]
        if kind == "slider" and (d.get("min") is None or d.get("max") is None):
            errors["max" if d.get("min") is not None else "min"] = ["a slider needs both min and max"]
        if kind == "yesno":
            for key in ("min", "max", "step"):
                if d.get(key) is not None:
                    errors[key] = [f"'{key}' does not apply to a yes/no input"]
        low, high = d.get("min"), d.get("max")
        if low is not None and high is not None and low >= high:
            errors["max"] = ["max must be larger than min"]
        default = d.get("default")
        if default is not None:
            if kind == "yesno" and default not in (0, 1):
                errors["default"] = ["a yes/no default is true or false"]
            elif kind == "select" and plain(default) not in {plain(o.value) for o in d.get("options", [])}:
                errors["default"] = [f"the default {plain(default)} is not one of the options' values"]
            elif kind == "integer" and default != default.to_integral_value():
                errors["default"] = ["the default of an integer input is a whole number"]
            elif (low is not None and default < low) or (high is not None and default > high):
                errors["default"] = ["the default lies outside min..max"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, d, **kwargs):
        d = dict(d)
        d["options"] = tuple(d["options"])
        return CalcInput(**d)


class ValueSchema(Strict):
    id = fields.String(required=True, validate=NAME)
    formula = FormulaField(required=True)
    label = fields.String(load_default="", validate=validate.Length(max=200))
    help = fields.String(load_default="")
    format = fields.String(load_default="number", validate=validate.OneOf(STYLES))
    places = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=6))
    unit = fields.String(load_default="", validate=validate.Length(max=30))
    show = fields.String(load_default="gated", validate=validate.OneOf(SHOW))
    fallback = fields.String(load_default="", validate=validate.Length(max=200))

    @validates_schema
    def _label(self, d, **kwargs):
        if d.get("show", "gated") != "hidden" and not d.get("label"):
            raise ValidationError("a value that is shown needs a label", "label")

    @post_load
    def make(self, d, **kwargs):
        d = dict(d)
        if d["places"] is None:
            d["places"] = DEFAULT_PLACES[d["format"]]
        if d["format"] == "integer":
            d["places"] = 0
        return ComputedValue(depends_on=d["formula"].names, **d)


class RuleSchema(Strict):
    when = FormulaField(required=True)
    tags = Tags(load_default=list)
    lead_points = fields.Decimal(load_default=Decimal(0))

    @validates_schema
    def _does_something(self, d, **kwargs):
        if not d.get("tags") and not d.get("lead_points"):
            raise ValidationError("a rule adds tags, lead_points or both")

    @post_load
    def make(self, d, **kwargs):
        return Rule(d["when"], tuple(d["tags"]), d["lead_points"])


class AdviceSchema(Strict):
    id = fields.String(required=True, validate=NAME)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    summary = fields.String(load_default="")
    body = fields.String(load_default="")
    when = FormulaField(load_default=None, allow_none=True)
    show = fields.String(load_default="gated", validate=validate.OneOf(("free", "gated")))
    tags = Tags(load_default=list)
    cta = fields.Nested(CtaSchema, load_default=None, allow_none=True)

    @post_load
    def make(self, d, **kwargs):
        d = dict(d)
        d["tags"] = tuple(d["tags"])
        return Advice(**d)


class ExpectedField(fields.Field):
    """An expected figure: a number (as shown, percents as percentages), the exact text shown
    (such as "$1,666.67"), or null for "can't be worked out"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or (isinstance(value, str) and value):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
        raise ValidationError("an expected figure is a number, the text shown, or null")


class ExampleInputField(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int | float):
            return Decimal(str(value))
        raise ValidationError("an example input is a number, text as a visitor types it, true/false or null")


class ExampleSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    inputs = fields.Dict(keys=fields.String(), values=ExampleInputField(allow_none=True), load_default=dict)
    expect = fields.Dict(keys=fields.String(), values=ExpectedField(allow_none=True), required=True,
                         validate=validate.Length(min=1, error="an example expects at least one figure"))
    tags = Tags(load_default=None, allow_none=True)

    @post_load
    def make(self, d, **kwargs):
        return Example(d["name"], freeze(d["inputs"]), freeze(d["expect"]),
                       tuple(d["tags"]) if d["tags"] is not None else None)


class LeadScoreSchema(Strict):
    thresholds = fields.List(fields.Nested(ThresholdSchema), required=True)


class CalculatorSchema(CommonSchema):
    kind = fields.String(required=True, validate=validate.Equal("calculator"))
    start_button = fields.String(load_default="Calculate")
    unlock_button = fields.String(load_default="See the full breakdown")
    currency = fields.String(load_default="USD",
                             validate=validate.Regexp(r"^[A-Z]{3}$", error="use an ISO code such as USD"))
    inputs = fields.List(fields.Nested(InputSchema), required=True,
                         validate=validate.Length(min=1, max=MAX_INPUTS))
    values = fields.List(fields.Nested(ValueSchema), required=True,
                         validate=validate.Length(min=1, max=MAX_VALUES))
    headline_value = fields.String(load_default=None, allow_none=True)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)
    advice = fields.List(fields.Nested(AdviceSchema), load_default=list)
    examples = fields.List(fields.Nested(ExampleSchema), load_default=list)
    lead_score = fields.Nested(LeadScoreSchema, load_default=None, allow_none=True)
    cta = fields.Nested(CtaSchema, load_default=None, allow_none=True)

    # Figures are written with the locale's and currency's CLDR data: a name Babel doesn't know would
    # silently show them in another format, so it is refused here.
    @validates("locale")
    def _known_locale(self, value: str, **kwargs) -> None:
        if not known_locale(value):
            raise ValidationError(f"unknown locale {value!r}: use a language and region known to CLDR, such as "
                                  "en_US, en_GB, de_DE or fr_FR")

    @validates("currency")
    def _known_currency(self, value: str, **kwargs) -> None:
        if not known_currency(value):
            raise ValidationError(f"unknown currency {value!r}: use an ISO 4217 code such as USD, EUR or GBP")

    @post_load
    def make(self, d, **kwargs):
        d = dict(d)
        d.pop("_schema", None)
        inputs, values = d["inputs"], d["values"]
        errors = _names(inputs, values)
        order, order_errors = _order(values, {i.id for i in inputs})
        errors = _merge(errors, order_errors)
        known = {i.id for i in inputs} | {v.id for v in values}
        for i, rule in enumerate(d["rules"]):
            errors = _merge(errors, _unknown(rule.when, known, ["rules", i, "when"]))
        seen_advice: set[str] = set()
        for i, item in enumerate(d["advice"]):
            if item.when is not None:
                errors = _merge(errors, _unknown(item.when, known, ["advice", i, "when"]))
            if item.id in seen_advice:
                errors = _merge(errors, _at(["advice", i, "id"], f"advice id {item.id!r} is used twice"))
            seen_advice.add(item.id)
        headline = d["headline_value"]
        if headline is None:
            shown = [v.id for v in values if v.show != "hidden"]
            headline = shown[0] if shown else values[0].id
        elif not any(v.id == headline for v in values):
            errors = _merge(errors, _at(["headline_value"], f"there is no computed value {headline!r}; "
                                        "use one of: " + ", ".join(v.id for v in values)))
        elif next(v for v in values if v.id == headline).show == "hidden":
            errors = _merge(errors, _at(["headline_value"], f"{headline!r} is hidden; the headline is shown"))
        if errors:
            raise ValidationError(errors)
        lead_score = d.pop("lead_score")
        d["lead_thresholds"] = tuple(lead_score["thresholds"]) if lead_score else ()
        d["headline_value"] = headline
        d["order"] = order
        for key in ("inputs", "values", "rules", "advice", "examples", "tags", "embed_origins",
                    "destinations"):
            d[key] = tuple(d[key])
        return Calculator(**d)


def _at(path: list[Any], message: str) -> dict:
    node: Any = [message]
    for part in reversed(path):
        node = {part: node}
    return node


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value)
        elif key in out:
            out[key] = list(out[key]) + list(value)
        else:
            out[key] = value
    return out


def _names(inputs, values) -> dict:
    errors: dict = {}
    seen: dict[str, str] = {}
    for section, items in (("inputs", inputs), ("values", values)):
        for i, item in enumerate(items):
            if section == "inputs" and item.id in FORM_FIELDS:
                errors = _merge(errors, _at([section, i, "id"], f"{item.id!r} is a field of the page itself; "
                                            "pick another name"))
            elif is_reserved(item.id):
                errors = _merge(errors, _at([section, i, "id"], f"{item.id!r} is a reserved word in "
                                            "formulas; pick another name"))
            elif item.id in seen:
                errors = _merge(errors, _at([section, i, "id"], f"the name {item.id!r} is already used by "
                                            f"{seen[item.id]}"))
            seen.setdefault(item.id, f"{section}[{i}]")
    return errors


def _unknown(formula: Formula, known: set[str], path: list[Any]) -> dict:
    missing = sorted(formula.names - known)
    if not missing:
        return {}
    return _at(path, ", ".join(repr(m) for m in missing) + (" is" if len(missing) == 1 else " are")
               + " not an input or a computed value; known names: " + ", ".join(sorted(known)))


def _order(values, input_names: set[str]) -> tuple[tuple[str, ...], dict]:
    """A topological order of computed values (declared order where free), or errors for unknown names
    and cycles."""
    errors: dict = {}
    index = {v.id: i for i, v in enumerate(values)}
    known = input_names | set(index)
    for i, v in enumerate(values):
        errors = _merge(errors, _unknown(v.formula, known, ["values", i, "formula"]))
        if v.id in v.formula.names:
            errors = _merge(errors, _at(["values", i, "formula"], f"{v.id!r} uses itself"))
    if errors:
        return (), errors
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if state.get(name) == 2:
            return None
        if state.get(name) == 1:
            return trail[trail.index(name):] + [name]
        state[name] = 1
        for dep in sorted(values[index[name]].depends_on & set(index), key=index.get):
            cycle = visit(dep, [*trail, name])
            if cycle:
                return cycle
        state[name] = 2
        order.append(name)
        return None

    for v in values:
        cycle = visit(v.id, [])
        if cycle:
            first = min(cycle[:-1], key=index.get)
            return (), _at(["values", index[first], "formula"], "these computed values use each other in a "
                           "circle: " + " -> ".join(cycle))
    return tuple(order), {}


def check_calculator(calc: Calculator) -> list[tuple[list[Any], str, str]]:
    """Checks beyond the schema: variables in advice, unused inputs, and the creator's examples."""
    out: list[tuple[list[Any], str, str]] = []
    known = {"first_name", "calculator"} | {i.id for i in calc.inputs} | {v.id for v in calc.values}
    for i, item in enumerate(calc.advice):
        for name in VARIABLE.findall(item.body):
            if name not in known:
                out.append((["advice", i, "body"], f"unknown variable {{{{ {name} }}}}; known: "
                            + ", ".join(sorted(known)), "error"))
    used = set().union(*(v.formula.names for v in calc.values), *(r.when.names for r in calc.rules),
                       *(a.when.names for a in calc.advice if a.when is not None))
    for i, item in enumerate(calc.inputs):
        if item.id not in used and not (item.type == "select" and any(o.tags for o in item.options)):
            out.append((["inputs", i], f"input {item.id!r} is used by no formula", "warning"))
    for i, threshold in enumerate(calc.lead_thresholds):
        if threshold.max is not None and threshold.max < threshold.min:
            out.append((["lead_score", "thresholds", i, "max"], "max is smaller than min", "error"))
    if calc.lead_thresholds and not any(r.lead_points for r in calc.rules):
        out.append((["lead_score"], "no rule gives lead_points, so the lead score is always 0", "warning"))
    out += check_theme(calc.theme)
    # Late import: the engine builds on these definitions.
    from quizapp.engine.calculator import run_example

    for i, example in enumerate(calc.examples):
        out += [(["examples", i, *path], message, "error") for path, message in run_example(calc, example)]
    return out


register_kind("calculator", CalculatorSchema)
register_checks("calculator", check_calculator)
