"""Question types. Each is one class: its JSON config schema, how a submitted value is parsed, what an
answer earns (points, category weights, tags, lead points), and the best answer it allows.

Adding a type means one class here, one partial template ``templates/questions/_<name>.html`` and one test.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from quizapp.definitions.model import Band, Question

ZERO = Decimal(0)


@dataclass
class Contribution:
    points: Decimal = ZERO
    weights: dict[str, Decimal] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    lead_points: Decimal = ZERO

    def add(self, points=ZERO, weights=None, tags=(), lead_points=ZERO) -> None:
        self.points += points
        for cat, w in (weights or {}).items():
            self.weights[cat] = self.weights.get(cat, ZERO) + Decimal(w)
        self.tags.extend(tags)
        self.lead_points += lead_points


class ParseError(ValueError):
    """A visitor's answer that can't be accepted; the message is shown beside the question."""


class QuestionType(ABC):
    name: ClassVar[str]
    schema_fields: ClassVar[dict[str, fields.Field]] = {}

    @abstractmethod
    def parse(self, q: Question, raw: list[str]) -> Any:
        """Turn submitted form values into the stored answer, or raise ParseError."""

    def contribution(self, q: Question, value: Any) -> Contribution:
        return Contribution()

    def best(self, q: Question) -> tuple[Decimal, dict[str, Decimal], Decimal]:
        """(max points, max weight per category, max lead points) a single answer can earn."""
        return ZERO, {}, ZERO

    def least(self, q: Question) -> Decimal:
        """The fewest points an answer (or no answer, when optional) can earn."""
        return ZERO

    def label(self, q: Question, value: Any) -> str:
        return "" if value is None else str(value)

    def problems(self, q: Question) -> list[tuple[list[Any], str]]:
        """Semantic problems in the config as (path below the question, message)."""
        return []


REGISTRY: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    if cls.name in REGISTRY:
        raise RuntimeError(f"question type {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def get(name: str) -> QuestionType:
    return REGISTRY[name]


def _max_weights(candidates: list[dict]) -> dict[str, Decimal]:
    best: dict[str, Decimal] = {}
    for weights in candidates:
        for cat, w in weights.items():
            best[cat] = max(best.get(cat, ZERO), Decimal(w))
    return best


MAX_NUMBER_CHARS = 30
NUMBER = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)?(\.\d+)?$")


def parse_decimal(text: str) -> Decimal:
    """A number as a visitor types it: digits, one optional '.', optional sign; ',' only as a
    thousands separator in groups of three ('1,250.5'). Anything ambiguous ('1,5'), or written in a
    form a person wouldn't ('1e5'), is refused with a message, never guessed or rescaled."""
    s = text.strip().replace(" ", "").replace("\u00a0", "")
    if not s:
        raise ParseError("Please enter a number.")
    if len(s) > MAX_NUMBER_CHARS:
        raise ParseError(f"Please enter a number of at most {MAX_NUMBER_CHARS} characters.")
    if not NUMBER.match(s) or s.lstrip("+-") in ("", "."):
        if re.fullmatch(r"[+-]?\d+,\d{1,2}", s):
            raise ParseError(f"\u201c{text.strip()}\u201d is not a number we can read: use a dot for decimals "
                             "(1.5), and commas only between thousands (1,500).")
        raise ParseError(f"\u201c{text.strip()}\u201d is not a number we can read: use digits, and a dot for "
                         "decimals.")
    return Decimal(s.replace(",", ""))


NUMBER_LIMIT = Decimal("1e15")


def plain_number(value: Decimal) -> str:
    """A number as text a person reads: no exponent, no trailing zeros, and never '-0'."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def plain_text(value: str) -> str:
    """What a visitor typed, without control characters (PostgreSQL refuses NUL in text, and none of them
    means anything in a name or an answer), with runs of white space folded to one space."""
    return " ".join(_CONTROL.sub("", value or "").split())


def _option_schema():
    from quizapp.definitions.schemas import OptionSchema

    return OptionSchema


@register
class SingleChoice(QuestionType):
    name = "single"
    schema_fields = {
        "options": fields.List(fields.Nested(lambda: _option_schema()()), required=True,
                               validate=validate.Length(min=2)),
    }

    def parse(self, q, raw):
        chosen = [r for r in raw if r != ""]
        if not chosen:
            if q.required:
                raise ParseError("Please choose an answer.")
            return None
        if len(chosen) > 1 or q.option(chosen[0]) is None:
            raise ParseError("Please choose one of the answers shown.")
        return chosen[0]

    def contribution(self, q, value):
        c = Contribution()
        opt = q.option(value) if value is not None else None
        if opt:
            c.add(opt.points, opt.weights, opt.tags, opt.lead_points)
        return c

    def best(self, q):
        return (max(o.points for o in q.options), _max_weights([dict(o.weights) for o in q.options]),
                max(o.lead_points for o in q.options))

    def least(self, q):
        low = min(o.points for o in q.options)
        return min(low, ZERO) if not q.required else low

    def label(self, q, value):
        opt = q.option(value) if value is not None else None
        return opt.label if opt else ""

    def problems(self, q):
        return _duplicate_values(q)


@register
class MultipleChoice(QuestionType):
    name = "multiple"
    schema_fields = {
        "options": fields.List(fields.Nested(lambda: _option_schema()()), required=True,
                               validate=validate.Length(min=2)),
        "min_choices": fields.Integer(validate=validate.Range(min=0)),
        "max_choices": fields.Integer(validate=validate.Range(min=1)),
    }

    def parse(self, q, raw):
        chosen = list(dict.fromkeys(r for r in raw if r != ""))
        if any(q.option(v) is None for v in chosen):
            raise ParseError("Please choose among the answers shown.")
        least = q.min_choices if q.min_choices is not None else (1 if q.required else 0)
        if len(chosen) < least:
            raise ParseError("Please choose at least one answer." if least == 1
                             else f"Please choose at least {least} answers.")
        if q.max_choices is not None and len(chosen) > q.max_choices:
            raise ParseError(f"Please choose at most {q.max_choices}.")
        order = [o.value for o in q.options]
        return sorted(chosen, key=order.index)

    def contribution(self, q, value):
        c = Contribution()
        for v in value or []:
            opt = q.option(v)
            if opt:
                c.add(opt.points, opt.weights, opt.tags, opt.lead_points)
        return c

    def _best_set(self, q, key):
        gains = sorted((key(o) for o in q.options), reverse=True)
        positive = [g for g in gains if g > 0]
        if q.max_choices is not None:
            positive = positive[: q.max_choices]
        least = q.min_choices or (1 if q.required else 0)
        while len(positive) < least and len(positive) < len(gains):
            positive.append(gains[len(positive)])
        return sum(positive, ZERO)

    def best(self, q):
        cats = {c for o in q.options for c in o.weights}
        weights = {c: self._best_set(q, lambda o, c=c: Decimal(o.weights.get(c, 0))) for c in cats}
        return self._best_set(q, lambda o: o.points), weights, self._best_set(q, lambda o: o.lead_points)

    def least(self, q):
        gains = sorted(o.points for o in q.options)
        negative = [g for g in gains if g < 0]
        least = q.min_choices or (1 if q.required else 0)
        while len(negative) < least:
            negative.append(gains[len(negative)])
        return sum(negative, ZERO)

    def label(self, q, value):
        return ", ".join(o.label for o in q.options if o.value in (value or []))

    def problems(self, q):
        out = _duplicate_values(q)
        if q.min_choices is not None and q.max_choices is not None and q.min_choices > q.max_choices:
            out.append((["min_choices"], "min_choices is larger than max_choices"))
        if q.max_choices is not None and q.max_choices > len(q.options):
            out.append((["max_choices"], f"max_choices is {q.max_choices} but there are {len(q.options)} options"))
        return out


@register
class Scale(QuestionType):
    """A whole number from min to max (e.g. 1 to 5); points and weights grow with the value."""

    name = "scale"
    schema_fields = {
        "min": fields.Integer(required=True, validate=validate.Range(min=-1000, max=1000)),
        "max": fields.Integer(required=True, validate=validate.Range(min=-1000, max=1000)),
        "min_label": fields.String(),
        "max_label": fields.String(),
        "points_per_unit": fields.Decimal(),
        "weights_per_unit": fields.Dict(keys=fields.String(), values=fields.Decimal()),
        "bands": fields.List(fields.Nested(lambda: _band_schema()())),
    }

    def parse(self, q, raw):
        chosen = [r for r in raw if r != ""]
        if not chosen:
            if q.required:
                raise ParseError("Please pick a value on the scale.")
            return None
        try:
            value = int(chosen[0])
        except ValueError:
            raise ParseError("Please pick a value on the scale.") from None
        if not (q.min <= value <= q.max):
            raise ParseError(f"Please pick a value from {q.min} to {q.max}.")
        return value

    def contribution(self, q, value):
        c = Contribution()
        if value is None:
            return c
        v = Decimal(value)
        c.add(v * q.points_per_unit, {k: v * Decimal(w) for k, w in q.weights_per_unit.items()})
        for band in q.bands:
            if band.contains(v):
                c.add(band.points, band.weights, band.tags, band.lead_points)
        return c

    def best(self, q):
        return _best_over_values(self, q, range(int(q.min), int(q.max) + 1))

    def least(self, q):
        values = [self.contribution(q, v).points for v in range(int(q.min), int(q.max) + 1)]
        return min(values + ([ZERO] if not q.required else []))

    def problems(self, q):
        if q.min is not None and q.max is not None and q.min >= q.max:
            return [(["max"], "max must be larger than min")]
        if q.max - q.min > 20:
            return [(["max"], "a scale has at most 21 steps; use a number question for wider ranges")]
        return []


def _band_schema():
    from quizapp.definitions.schemas import BandSchema

    return BandSchema


def _best_over_values(qt, q, values):
    contributions = [qt.contribution(q, v) for v in values]
    points = max(c.points for c in contributions)
    lead = max(c.lead_points for c in contributions)
    return points, _max_weights([c.weights for c in contributions]), lead


@register
class Number(QuestionType):
    """A number the visitor types; bands turn ranges into points, weights and tags."""

    name = "number"
    schema_fields = {
        "min": fields.Decimal(),
        "max": fields.Decimal(),
        "step": fields.Decimal(),
        "unit": fields.String(),
        "placeholder": fields.String(),
        "bands": fields.List(fields.Nested(lambda: _band_schema()())),
    }

    def parse(self, q, raw):
        text = (raw[0] if raw else "").strip()
        if not text:
            if q.required:
                raise ParseError("Please enter a number.")
            return None
        value = parse_decimal(text)
        if abs(value) >= NUMBER_LIMIT:
            raise ParseError("That number is too large.")
        if q.min is not None and value < q.min:
            raise ParseError(f"Please enter {q.min} or more.")
        if q.max is not None and value > q.max:
            raise ParseError(f"Please enter {q.max} or less.")
        return plain_number(value)

    def contribution(self, q, value):
        c = Contribution()
        if value is None:
            return c
        v = Decimal(value)
        for band in q.bands:
            if band.contains(v):
                c.add(band.points, band.weights, band.tags, band.lead_points)
                break
        return c

    def best(self, q):
        if not q.bands:
            return ZERO, {}, ZERO
        return (max(b.points for b in q.bands), _max_weights([dict(b.weights) for b in q.bands]),
                max(b.lead_points for b in q.bands))

    def least(self, q):
        return min([b.points for b in q.bands] + [ZERO]) if q.bands else ZERO

    def label(self, q, value):
        if value is None:
            return ""
        return f"{value} {q.unit}".strip()

    def problems(self, q):
        out = []
        if q.min is not None and q.max is not None and q.min > q.max:
            out.append((["max"], "max is smaller than min"))
        bands = sorted(enumerate(q.bands), key=lambda ib: (ib[1].min is not None, ib[1].min or 0))
        for (_, a), (j, b) in zip(bands, bands[1:], strict=False):
            if a.max is None or (b.min is not None and b.min <= a.max):
                out.append((["bands", j], "this band overlaps another band"))
        return out


@register
class ShortText(QuestionType):
    name = "text"
    schema_fields = {
        "placeholder": fields.String(),
        "max_length": fields.Integer(validate=validate.Range(min=1, max=2000)),
    }

    def parse(self, q, raw):
        text = plain_text(raw[0] if raw else "")
        if not text:
            if q.required:
                raise ParseError("Please write an answer.")
            return None
        if len(text) > q.max_length:
            raise ParseError(f"Please keep it under {q.max_length} characters.")
        return text


def _duplicate_values(q: Question) -> list[tuple[list[Any], str]]:
    seen: set[str] = set()
    out = []
    for i, opt in enumerate(q.options):
        if opt.value in seen:
            out.append((["options", i, "value"], f"option value {opt.value!r} is used twice"))
        seen.add(opt.value)
    return out


class _TypeCheck(Schema):
    """Used by the quiz schema to reject unknown question types with the list of known ones."""

    type = fields.String(required=True)

    @validates_schema
    def _known(self, data, **kwargs):
        if data["type"] not in REGISTRY:
            raise ValidationError(f"unknown question type {data['type']!r}; use one of: "
                                  + ", ".join(sorted(REGISTRY)), "type")


__all__ = ["REGISTRY", "Band", "Contribution", "ParseError", "QuestionType", "get", "parse_decimal", "register"]
