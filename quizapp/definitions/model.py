"""Immutable objects a definition file loads into. The engine reads these, never raw dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

EMPTY: MappingProxyType = MappingProxyType({})


@dataclass(frozen=True)
class Condition:
    """`question` compared with `op` to `value`; or `all`/`any` of nested conditions."""

    op: str
    question: str | None = None
    value: Any = None
    children: tuple[Condition, ...] = ()

    def questions(self) -> set[str]:
        names = {self.question} if self.question else set()
        for child in self.children:
            names |= child.questions()
        return names


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    points: Decimal = Decimal(0)
    weights: MappingProxyType = field(default_factory=lambda: EMPTY)  # category -> weight
    tags: tuple[str, ...] = ()
    lead_points: Decimal = Decimal(0)


@dataclass(frozen=True)
class Band:
    """A range of a number answer that earns points, weights and tags. min/max inclusive; None is open."""

    min: Decimal | None
    max: Decimal | None
    points: Decimal = Decimal(0)
    weights: MappingProxyType = field(default_factory=lambda: EMPTY)
    tags: tuple[str, ...] = ()
    lead_points: Decimal = Decimal(0)

    def contains(self, value: Decimal) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    help: str = ""
    required: bool = True
    show_if: Condition | None = None
    options: tuple[Option, ...] = ()
    # multiple choice
    min_choices: int | None = None
    max_choices: int | None = None
    # scale and number
    min: Decimal | None = None
    max: Decimal | None = None
    step: Decimal | None = None
    min_label: str = ""
    max_label: str = ""
    unit: str = ""
    points_per_unit: Decimal = Decimal(0)
    weights_per_unit: MappingProxyType = field(default_factory=lambda: EMPTY)
    bands: tuple[Band, ...] = ()
    # short text
    placeholder: str = ""
    max_length: int = 200

    def option(self, value: str) -> Option | None:
        for opt in self.options:
            if opt.value == value:
                return opt
        return None


@dataclass(frozen=True)
class CallToAction:
    label: str
    url: str
    text: str = ""


@dataclass(frozen=True)
class Outcome:
    id: str
    title: str
    summary: str = ""
    body: str = ""  # Markdown with {{ variables }}
    tags: tuple[str, ...] = ()
    cta: CallToAction | None = None


@dataclass(frozen=True)
class Tier:
    min: Decimal
    max: Decimal
    outcome: str


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    outcome: str


@dataclass(frozen=True)
class Scoring:
    model: str  # "tiers" or "categories"
    tiers: tuple[Tier, ...] = ()
    pick: str = "highest"  # categories: "highest" or "lowest"
    compare: str = "points"  # categories: "points" or "percent"
    tie_break: tuple[str, ...] = ()  # categories in order of preference; default: listed order


@dataclass(frozen=True)
class Threshold:
    min: Decimal
    tags: tuple[str, ...]
    label: str = ""
    max: Decimal | None = None

    def contains(self, value: Decimal) -> bool:
        return value >= self.min and (self.max is None or value <= self.max)


@dataclass(frozen=True)
class LeadScore:
    source: str = "score"  # "score" (the quiz score) or "lead_points" (options' lead_points)
    thresholds: tuple[Threshold, ...] = ()


@dataclass(frozen=True)
class Consent:
    text: str
    required: bool = True


@dataclass(frozen=True)
class Gate:
    headline: str = "Where should we send your result?"
    text: str = ""
    button: str = "Show my result"
    consent: Consent | None = None
    privacy_url: str = ""


@dataclass(frozen=True)
class Theme:
    primary: str = "#2754c5"
    background: str = "#ffffff"
    text: str = "#1c1f26"
    radius: str = "10px"


@dataclass(frozen=True)
class DestinationRef:
    """A destination named in a definition, with this quiz's mapping of facts to the platform's tags/fields."""

    name: str
    options: MappingProxyType = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Quiz:
    slug: str
    title: str
    headline: str
    promise: str
    questions: tuple[Question, ...]
    outcomes: tuple[Outcome, ...]
    scoring: Scoring
    kind: str = "quiz"
    description: str = ""
    start_button: str = "Start the quiz"
    categories: tuple[Category, ...] = ()
    lead_score: LeadScore | None = None
    gate: Gate = field(default_factory=Gate)
    tags: tuple[str, ...] = ()
    theme: Theme = field(default_factory=Theme)
    locale: str = "en"
    embed_origins: tuple[str, ...] = ()
    destinations: tuple[DestinationRef, ...] = ()
    content_hash: str = ""
    source_file: str = ""

    def question(self, qid: str) -> Question | None:
        for q in self.questions:
            if q.id == qid:
                return q
        return None

    def outcome(self, oid: str | None) -> Outcome | None:
        for o in self.outcomes:
            if o.id == oid:
                return o
        return None

    def category(self, cid: str) -> Category | None:
        for c in self.categories:
            if c.id == cid:
                return c
        return None


def freeze(mapping: dict | None) -> MappingProxyType:
    return MappingProxyType(dict(mapping or {}))
