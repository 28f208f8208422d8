"""Running a calculator: read the visitor's inputs, evaluate the computed values in their load-time order,
and derive tags, lead score and advice from conditions on the results.

A value that can't be worked out (division by zero, an empty input it needs, a result out of range) is
*undefined*: it shows the creator's fallback text (or a dash) with a short message, and is stored as null.
Values that use an undefined value are undefined too; conditions on undefined values don't hold.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from quizapp.definitions.calculator import Advice, CalcInput, Calculator, ComputedValue, Example, plain
from quizapp.definitions.question_types import MAX_NUMBER_CHARS, ParseError, parse_decimal
from quizapp.engine.formula import LIMIT, Undefined
from quizapp.engine.numbers import WHOLE_OR_MONEY, ambiguous, format_value, parse_number, rounded, separators

HUNDRED = Decimal(100)
DASH = "\u2014"
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Figure:
    """One computed value, ready to show and to store."""

    id: str
    label: str
    value: Decimal | None  # exact; None when undefined
    figure: Decimal | None  # rounded to the declared places (percents as fractions)
    display: str  # formatted for the locale, or the fallback
    message: str | None  # why it is undefined
    show: str
    format: str
    help: str = ""

    @property
    def defined(self) -> bool:
        return self.value is not None

    @property
    def figure_text(self) -> str:
        """The rounded figure as plain digits for data attributes ("1666.67", "0.00000001"): a Decimal's
        own text can have an exponent ("1E-8") or a sign on zero ("-0.00")."""
        return "" if self.figure is None else plain(self.figure)


@dataclass(frozen=True)
class Outcome:
    inputs: dict[str, Decimal | None]
    figures: dict[str, Figure]  # in declared order
    tags: tuple[str, ...]
    lead_score: Decimal | None
    advice: tuple[Advice, ...]
    lead_labels: tuple[str, ...] = ()

    def headline(self, calc: Calculator) -> Figure:
        return self.figures[calc.headline_value]

    def shown(self, gated: bool) -> list[Figure]:
        """The figures to show: the free ones, and the gated ones when the gate is passed."""
        allowed = ("free", "gated") if gated else ("free",)
        return [f for f in self.figures.values() if f.show in allowed]


# --- reading inputs ---------------------------------------------------------------------------------------


def read_inputs(calc: Calculator, form: Mapping[str, Any]) -> tuple[dict[str, Decimal | None],
                                                                    dict[str, str]]:
    """Parse submitted text for every input: (values for formulas, messages per input). The same function
    serves the live preview and the Calculate button, so both read a number the same way."""
    values: dict[str, Decimal | None] = {}
    errors: dict[str, str] = {}
    for item in calc.inputs:
        raw = form.get(item.id)
        text = raw if isinstance(raw, str) else ""
        try:
            values[item.id] = read_input(calc, item, text)
        except ParseError as err:
            values[item.id] = None
            errors[item.id] = str(err)
    return values, errors


def read_input(calc: Calculator, item: CalcInput, text: str) -> Decimal | None:
    """One input's value for formulas (percents as fractions), None when left empty. Raises ParseError."""
    text = text.strip()
    if not text:
        if item.required:
            raise ParseError("Please choose an answer." if item.type in ("select", "yesno")
                             else "Please enter a number.")
        return None
    if len(text) > MAX_NUMBER_CHARS and item.type not in ("select", "yesno"):
        # Checked on the text as typed, spaces and currency sign included, so padding never gets past it
        # and the message never repeats a page of digits.
        raise ParseError(f"Please enter a number of at most {MAX_NUMBER_CHARS} characters.")
    if item.type == "select":
        option = item.option(text)
        if option is None:
            raise ParseError("Please choose one of the options shown.")
        return option.value
    if item.type == "yesno":
        if text not in (YES, NO):
            raise ParseError("Please answer yes or no.")
        return Decimal(1) if text == YES else Decimal(0)
    if item.type == "slider":
        # A range control always posts a plain dot-decimal number, whatever the page's locale.
        value = parse_decimal(text)
    else:
        style = item.type if item.type in ("integer", "currency", "percent") else "number"
        value = parse_number(text, calc.locale, style=style, currency=calc.currency)
    if abs(value) >= LIMIT:
        raise ParseError("Please enter a smaller number.")
    if item.type == "integer" and value != value.to_integral_value():
        raise ParseError("Please enter a whole number.")
    if item.min is not None and value < item.min:
        raise ParseError(f"Please enter {_typed(calc, item, item.min)} or more.")
    if item.max is not None and value > item.max:
        raise ParseError(f"Please enter {_typed(calc, item, item.max)} or less.")
    return value / HUNDRED if item.type == "percent" else value


def _typed(calc: Calculator, item: CalcInput, number: Decimal) -> str:
    if item.type == "percent":
        return format_value(number / HUNDRED, "percent", _places_of(number), calc.locale)
    if item.type == "currency":
        return format_value(number, "currency", max(_places_of(number), 0), calc.locale, calc.currency)
    return format_value(number, "number", _places_of(number), calc.locale)


def _places_of(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def input_text(calc: Calculator, item: CalcInput, value: Decimal | None) -> str:
    """What to put back in the field for a stored value: percents as percentages, plain digits with a
    dot (or the locale's comma), so reading it again gives the same value."""
    if value is None:
        return ""
    if item.type == "select":
        return plain(value)
    if item.type == "yesno":
        return YES if value else NO
    number = value * HUNDRED if item.type == "percent" else value
    return plain(number) if item.type == "slider" else _typed_plain(calc, item, number)


def _typed_plain(calc: Calculator, item: CalcInput, number: Decimal) -> str:
    """Digits and the locale's decimal mark, no grouping: read back as the same number in any locale."""
    text = plain(number).replace(".", separators(calc.locale)[0])
    if item.type in WHOLE_OR_MONEY and ambiguous(text, calc.locale):
        text += "0"  # 1.125 as "1.1250": three places alone would be refused as a thousands group
    return text


def default_inputs(calc: Calculator) -> dict[str, Decimal | None]:
    out: dict[str, Decimal | None] = {}
    for item in calc.inputs:
        if item.default is None:
            out[item.id] = None
        elif item.type == "percent":
            out[item.id] = item.default / HUNDRED
        else:
            out[item.id] = item.default
    return out


def to_stored(inputs: Mapping[str, Decimal | None]) -> dict[str, str | None]:
    """Inputs as JSON-safe text for the Response row."""
    return {k: (None if v is None else plain(v)) for k, v in inputs.items()}


def from_stored(calc: Calculator, stored: Mapping[str, Any]) -> dict[str, Decimal | None]:
    out: dict[str, Decimal | None] = {}
    for item in calc.inputs:
        raw = stored.get(item.id)
        try:
            value = Decimal(str(raw)) if raw is not None else None
        except ArithmeticError:
            value = None
        out[item.id] = value if value is not None and value.is_finite() else None
    return out


# --- evaluating -------------------------------------------------------------------------------------------


def evaluate(calc: Calculator, inputs: Mapping[str, Decimal | None],
             invalid: Collection[str] = ()) -> Outcome:
    """Every computed value in dependency order, then tags, lead score and advice. `invalid` names inputs
    whose text could not be read: values that need them show a dash (not the creator's fallback, which is
    written for real cases such as "no customers yet") and point at the field."""
    env: dict[str, Decimal | None] = {i.id: inputs.get(i.id) for i in calc.inputs}
    causes: dict[str, str] = {}
    blocked: set[str] = set(invalid)
    for name in calc.order:
        value = calc.value(name)
        try:
            env[name] = value.formula.evaluate(env)
        except Undefined as err:
            env[name] = None
            causes[name] = _cause(calc, err, causes, blocked)
            if err.name in blocked:
                blocked.add(name)
    figures = {v.id: _figure(calc, v, env[v.id], causes.get(v.id), v.id in blocked) for v in calc.values}
    tags: list[str] = list(calc.tags)
    for item in calc.inputs:
        if item.type == "select" and env.get(item.id) is not None:
            option = item.option(plain(env[item.id]))
            if option:
                tags.extend(option.tags)
    points = Decimal(0)
    for rule in calc.rules:
        if _holds(rule.when, env):
            tags.extend(rule.tags)
            points += rule.lead_points
    advice = tuple(a for a in calc.advice if a.when is None or _holds(a.when, env))
    for item in advice:
        tags.extend(item.tags)
    lead_score, labels = None, []
    if calc.has_lead_score:
        lead_score = points
        for threshold in calc.lead_thresholds:
            if threshold.contains(points):
                tags.extend(threshold.tags)
                if threshold.label:
                    labels.append(threshold.label)
    return Outcome(inputs=dict(inputs), figures=figures, tags=tuple(dict.fromkeys(tags)),
                   lead_score=lead_score, advice=advice, lead_labels=tuple(labels))


def _holds(formula, env) -> bool:
    try:
        return formula.holds(env)
    except Undefined:
        return False


def _cause(calc: Calculator, err: Undefined, causes: dict[str, str], blocked: set[str]) -> str:
    """A message a visitor can act on: which input is missing or wrong, or what went wrong."""
    if err.name is not None:
        if err.name in causes:
            return causes[err.name]
        item = calc.input(err.name)
        if item is not None:
            verb = "Check" if err.name in blocked else "Needs"
            return f"{verb} \u201c{item.label}\u201d."
    reason = err.reason
    if reason == "division by zero":
        return "Can't be worked out: it divides by zero with these numbers."
    return f"Can't be worked out: {reason}."


def _figure(calc: Calculator, v: ComputedValue, value: Decimal | None, cause: str | None,
            blocked: bool = False) -> Figure:
    if value is None:
        shown = DASH if blocked or not v.fallback else v.fallback
        return Figure(v.id, v.label, None, None, shown, cause or "Can't be worked out.", v.show, v.format,
                      v.help)
    figure = rounded(value, v.format, v.places)
    display = format_value(value, v.format, v.places, calc.locale, calc.currency)
    if v.unit:
        display = f"{display} {v.unit}"
    return Figure(v.id, v.label, value, figure, display, None, v.show, v.format, v.help)


# --- stored facts -----------------------------------------------------------------------------------------


def input_display(calc: Calculator, item: CalcInput, value: Decimal | None) -> str:
    if value is None:
        return ""
    if item.type == "select":
        option = item.option(plain(value))
        return option.label if option else plain(value)
    if item.type == "yesno":
        return item.yes_label if value else item.no_label
    if item.type == "percent":
        return format_value(value, "percent", _places_of(value * HUNDRED), calc.locale)
    if item.type == "currency":
        return format_value(value, "currency", max(_places_of(value), 2 if _places_of(value) else 0),
                            calc.locale, calc.currency)
    text = format_value(value, "number", _places_of(value), calc.locale)
    return f"{text} {item.unit}".strip()


def stored_values(calc: Calculator, outcome: Outcome) -> dict[str, dict[str, Any]]:
    """Inputs and computed values as plain JSON: {name: {kind, label, value, display}}. `value` is text
    (exact digits, rounded for results) or null; never NaN or Infinity."""
    out: dict[str, dict[str, Any]] = {}
    for item in calc.inputs:
        value = outcome.inputs.get(item.id)
        out[item.id] = {"kind": "input", "label": item.label,
                        "value": None if value is None else plain(value),
                        "display": input_display(calc, item, value)}
    for fig in outcome.figures.values():
        out[fig.id] = {"kind": "result", "label": fig.label, "value": None if fig.figure is None
                       else plain(fig.figure), "display": fig.display, "show": fig.show}
    return out


def labelled_inputs(calc: Calculator, outcome: Outcome) -> list[dict[str, Any]]:
    """Inputs in the shape of a quiz's labelled answers, so exports and payloads treat both alike."""
    out = []
    for item in calc.inputs:
        value = outcome.inputs.get(item.id)
        out.append({"question": item.id, "text": item.label, "type": item.type,
                    "value": None if value is None else plain(value),
                    "label": input_display(calc, item, value)})
    return out


# --- examples ---------------------------------------------------------------------------------------------


def example_inputs(calc: Calculator, example: Example) -> tuple[dict[str, Decimal | None], list]:
    """An example's inputs read like a visitor's (defaults fill what it leaves out)."""
    problems: list[tuple[list[Any], str]] = []
    form: dict[str, str] = {}
    defaults = default_inputs(calc)
    for item in calc.inputs:
        if item.id in example.inputs:
            raw = example.inputs[item.id]
            if raw is None:
                form[item.id] = ""
            elif isinstance(raw, bool):
                form[item.id] = YES if raw else NO
            elif isinstance(raw, Decimal):  # a JSON number: the figure itself, written for the form
                form[item.id] = plain(raw) if item.type in ("select", "slider") else _typed_plain(calc, item, raw)
            else:  # text, exactly as a visitor would type it
                form[item.id] = raw
        else:
            form[item.id] = input_text(calc, item, defaults[item.id])
    for name in example.inputs:
        if calc.input(name) is None:
            problems.append((["inputs", name], f"there is no input {name!r}"))
    values, errors = read_inputs(calc, form)
    for name, message in errors.items():
        problems.append((["inputs", name], f"{message} (the input as given: {form[name]!r})"))
    return values, problems


def run_example(calc: Calculator, example: Example) -> list[tuple[list[Any], str]]:
    """Mismatches between an example's expectations and what the calculator shows, as (path, message)."""
    inputs, problems = example_inputs(calc, example)
    if problems:
        return problems
    outcome = evaluate(calc, inputs)
    for name, expected in example.expect.items():
        fig = outcome.figures.get(name)
        if fig is None:
            problems.append((["expect", name], f"there is no computed value {name!r}"))
            continue
        mismatch = _compare(calc, fig, expected)
        if mismatch:
            problems.append((["expect", name], f"example {example.name!r}: {mismatch}"))
    if example.tags is not None and tuple(example.tags) != outcome.tags:
        problems.append((["tags"], f"example {example.name!r}: expected tags {list(example.tags)}, got "
                         f"{list(outcome.tags)}"))
    return problems


def _compare(calc: Calculator, fig: Figure, expected: Any) -> str | None:
    got = f"got {fig.display}" + (f" ({fig.message})" if fig.message else "")
    if expected is None:
        return None if not fig.defined else f"expected no result (the fallback), {got}"
    if isinstance(expected, str):
        number = _number(expected)
        if number is None:
            return None if fig.display == expected else f"expected {expected!r}, {got}"
        expected = number
    if not fig.defined:
        return f"expected {plain(expected)}, {got}"
    shown = fig.figure * HUNDRED if fig.format == "percent" else fig.figure
    if shown != expected:
        return f"expected {plain(expected)}, {got} (rounded half-up to the declared places)"
    return None


def _number(text: str) -> Decimal | None:
    try:
        return parse_decimal(text)
    except ParseError:
        return None
