"""From a submission's facts to one destination's tags and custom fields.

A mapping is plain JSON (validated by ``MappingSchema`` in ``config.py``):

    {"tags": {"include": "all", "prefix": "", "add": ["quiz-lead"], "rename": {"hot-lead": "Hot lead"},
              "rules": [{"when": {"lead_score": {"min": 40}}, "add": ["sales-ready"]}]},
     "fields": {"QUIZ_OUTCOME": "outcome", "CHANNEL": "answers.channel", "SOURCE": {"value": "quiz"}}}

Facts are addressed by dotted paths into ``facts`` (see ``payload.facts_for``): ``outcome``, ``tier``,
``score``, ``percent``, ``lead_score``, ``quiz``, ``answers.<question id>``, ``values.<name>``,
``sub_scores.<category>.percent``, ``utm_source``, ``tags``...
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

# The first part of a fact path must be one of these.
FACT_ROOTS = frozenset(
    {
        "email",
        "email_display",
        "first_name",
        "quiz",
        "quiz_title",
        "quiz_kind",
        "outcome",
        "outcome_title",
        "score",
        "max_score",
        "percent",
        "tier",
        "lead_score",
        "sub_scores",
        "answers",
        "values",
        "tags",
        "lead_tags",
        "is_new_lead",
        "event",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "referrer",
        "page_url",
        "submitted_at",
        "consent",
    }
)


# Facts a calculator never has: it computes figures, not a score.
QUIZ_ONLY = frozenset({"score", "max_score", "percent", "tier", "sub_scores"})
# The parts of one calculator figure (``values.<name>.<part>``) and of one quiz category's sub-score.
VALUE_PARTS = frozenset({"kind", "label", "value", "display", "show"})
SUB_SCORE_PARTS = frozenset({"label", "score", "max", "percent"})


def reaches(path: str, definition: Any) -> bool:
    """Whether a fact path can hold a value for a submission of this quiz or calculator: a question, input,
    figure or category it has, a part such an entry has, or a fact its kind records."""
    root, *rest = path.split(".")
    calculator = getattr(definition, "kind", None) == "calculator"
    if root not in FACT_ROOTS or (calculator and root in QUIZ_ONLY):
        return False
    if root == "answers":
        asked = getattr(definition, "inputs", ()) if calculator else getattr(definition, "questions", ())
        return not rest or (len(rest) == 1 and rest[0] in {q.id for q in asked})
    if root == "values":
        if not calculator:
            return False
        names = {i.id for i in definition.inputs} | {v.id for v in definition.values}
        return not rest or (rest[0] in names and (len(rest) == 1 or (len(rest) == 2 and rest[1] in VALUE_PARTS)))
    if root == "sub_scores":
        categories = {c.id for c in getattr(definition, "categories", ())}
        if not rest:
            return bool(categories)
        return rest[0] in categories and (len(rest) == 1 or (len(rest) == 2 and rest[1] in SUB_SCORE_PARTS))
    return not rest


def mapping_paths(mapping: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where in the mapping, fact path) for every path a loaded mapping reads: its fields and rules."""
    out = [
        (f"fields.{name}", source)
        for name, source in (mapping.get("fields") or {}).items()
        if isinstance(source, str)
    ]
    for i, rule in enumerate((mapping.get("tags") or {}).get("rules", [])):
        out += [(f"tags.rules[{i}].when", path) for path in rule.get("when", {})]
    return out


def resolve(facts: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None when any part is missing.

    A calculator value is an object (``{kind, label, value, display}``); ``values.<name>`` stands for its
    number, so a rule's ``{"min": 1000}`` and a field see the figure, while ``values.<name>.display`` and
    the other parts stay addressable."""
    parts = path.split(".")
    value: Any = facts
    for part in parts:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return None
    if len(parts) == 2 and parts[0] == "values" and isinstance(value, Mapping):
        return value.get("value")
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _equal(fact: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(fact, bool):
        return fact is expected
    if isinstance(expected, int | float | Decimal):
        number = _number(fact)
        return number is not None and number == _number(expected)
    return str(fact) == str(expected) if fact is not None else False


def matches(fact: Any, matcher: Any) -> bool:
    """One fact against one matcher.

    A scalar matcher means equality; a list means "any of these"; ``{"min": a, "max": b}`` is an inclusive
    numeric range; ``{"not": m}`` negates; ``{"present": true}`` tests for a value. A fact that is a list
    (tags, a multiple-choice answer) matches when any of its items does."""
    if isinstance(matcher, Mapping) and "not" in matcher:  # on a list: none of its items matches
        return not matches(fact, matcher["not"])
    if isinstance(fact, list | tuple) and not (isinstance(matcher, Mapping) and "present" in matcher):
        return any(matches(item, matcher) for item in fact)
    if isinstance(matcher, Mapping):
        if "present" in matcher:
            present = fact not in (None, "", [], ())
            return present is bool(matcher["present"])
        number = _number(fact)
        if number is None:
            return False
        low, high = _number(matcher.get("min")), _number(matcher.get("max"))
        return (low is None or number >= low) and (high is None or number <= high)
    if isinstance(matcher, list | tuple):
        return any(_equal(fact, item) for item in matcher)
    return _equal(fact, matcher)


def condition_holds(facts: Mapping[str, Any], when: Mapping[str, Any]) -> bool:
    """Every path in ``when`` must match (an empty condition always holds)."""
    return all(matches(resolve(facts, path), matcher) for path, matcher in when.items())


def merge(base: Mapping[str, Any] | None, override: Mapping[str, Any] | None) -> dict[str, Any]:
    """A destination's mapping with one quiz's options on top: lists add up, single settings are replaced."""
    base, override = dict(base or {}), dict(override or {})
    base_tags, quiz_tags = dict(base.get("tags") or {}), dict(override.get("tags") or {})
    tags = {**base_tags, **{k: v for k, v in quiz_tags.items() if k not in ("add", "rules", "rename")}}
    tags["add"] = [*base_tags.get("add", []), *quiz_tags.get("add", [])]
    tags["rules"] = [*base_tags.get("rules", []), *quiz_tags.get("rules", [])]
    tags["rename"] = {**base_tags.get("rename", {}), **quiz_tags.get("rename", {})}
    fields = {**(base.get("fields") or {}), **(override.get("fields") or {})}
    return {"tags": tags, "fields": fields}


def clean_tag(tag: str) -> str:
    return " ".join(str(tag).split())[:80]


def map_tags(facts: Mapping[str, Any], mapping: Mapping[str, Any]) -> list[str]:
    """The tags this destination receives, in a stable order with duplicates dropped (first place kept)."""
    spec = mapping.get("tags") or {}
    chosen: list[str] = []
    if spec.get("include", "all") == "all":
        chosen += [str(t) for t in facts.get("tags") or []]
    chosen += list(spec.get("add", []))
    for rule in spec.get("rules", []):
        if condition_holds(facts, rule.get("when", {})):
            chosen += list(rule.get("add", []))
    rename = spec.get("rename", {})
    prefix = spec.get("prefix", "")
    out: list[str] = []
    seen: set[str] = set()
    for tag in chosen:
        name = clean_tag(prefix + rename.get(tag, tag))
        if name and name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def _field_value(value: Any) -> Any:
    if isinstance(value, Decimal):  # kept exact: the payload writes it digit for digit
        return value if value.is_finite() else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(_field_value(v)) for v in value)
    if isinstance(value, Mapping):
        return None
    return value


def map_fields(facts: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Custom field name -> scalar value; facts that are missing are left out rather than sent empty."""
    out: dict[str, Any] = {}
    for name, source in (mapping.get("fields") or {}).items():
        value = source["value"] if isinstance(source, Mapping) else resolve(facts, source)
        value = _field_value(value)
        if value is not None and value != "":
            out[name] = value
    return out
