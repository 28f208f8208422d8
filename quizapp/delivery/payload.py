"""The event a destination receives, built once when the lead is stored and kept as exact bytes.

Envelope (Standard Webhooks): ``{"type": "lead.created" | "lead.updated", "timestamp": ..., "data": {...}}``.
``data`` is flat where it can be (no-code tools handle scalars and a ``tags`` list best): docs/delivery.md."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from quizapp.jsontext import DOUBLE_MAX, encode, iso, json_number  # noqa: F401 - part of this module's API

SOURCE_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")
PAGE_KEYS = ("page_url", "page", "landing_url", "url")


def _decimal(value: Any) -> Any:
    """A number stored as text ("1334", "0.015") as a Decimal, so it is sent as a JSON number; NaN and
    infinities become None; anything that is not number text is returned as it is."""
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        return number if number.is_finite() else None
    return value


def _numeric_sub_scores(sub_scores: Mapping[str, Any]) -> dict[str, Any]:
    """Sub-scores are stored with numbers as strings ("33.33"); receivers get numbers."""
    out: dict[str, Any] = {}
    for category, parts in (sub_scores or {}).items():
        if isinstance(parts, Mapping):
            out[category] = {k: _decimal(v) if k in ("score", "max", "percent") else v for k, v in parts.items()}
        else:
            out[category] = _decimal(parts)
    return out


def number_questions(definition: Any) -> frozenset[str]:
    """Ids of the questions whose answers are numbers: every calculator input, a quiz's number questions
    (stored as exact text, "1250.5"). A scale's answer is already an integer."""
    if getattr(definition, "kind", None) == "calculator":
        return frozenset(item.id for item in getattr(definition, "inputs", ()))
    return frozenset(q.id for q in getattr(definition, "questions", ()) if q.type == "number")


def _numeric_answers(answers: Mapping[str, Any], numbers: frozenset[str]) -> dict[str, Any]:
    return {k: _decimal(v) if k in numbers else v for k, v in answers.items()}


def _numeric_labelled(answers: list[Any], numbers: frozenset[str]) -> list[Any]:
    return [
        {**a, "value": _decimal(a.get("value"))} if isinstance(a, Mapping) and a.get("question") in numbers else a
        for a in answers
    ]


def _numeric_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Calculator inputs and results, ``{name: {kind, label, value, display}}``, with ``value`` a number."""
    return {
        name: {**entry, "value": _decimal(entry.get("value"))} if isinstance(entry, Mapping) else entry
        for name, entry in values.items()
    }


def facts_for(submission: Any, definition: Any, *, updated: bool) -> dict[str, Any]:
    """Everything a mapping rule may look at, from the frozen Submission (and its lead and response)."""
    lead = submission.lead
    response = submission.response
    source = dict(getattr(response, "source", None) or {})
    outcome = definition.outcome(submission.outcome) if hasattr(definition, "outcome") else None
    numbers = number_questions(definition)
    facts: dict[str, Any] = {
        "event": "lead.updated" if updated else "lead.created",
        "submission_id": submission.id,
        "email": lead.email,
        "email_display": lead.email_display,
        "first_name": submission.first_name,
        "is_new_lead": bool(submission.is_new_lead),
        "quiz": submission.quiz_slug,
        "quiz_title": getattr(definition, "title", None),
        "quiz_kind": getattr(definition, "kind", None),
        "quiz_version": submission.content_hash,
        "outcome": submission.outcome,
        "outcome_title": getattr(outcome, "title", None),
        "score": submission.score,
        "max_score": submission.max_score,
        "percent": submission.percent,
        "tier": submission.tier,
        "lead_score": submission.lead_score,
        "sub_scores": _numeric_sub_scores(submission.sub_scores or {}),
        "tags": list(submission.tags or []),
        "lead_tags": list(lead.tags or []),
        "answers": _numeric_answers(getattr(response, "answers", None) or {}, numbers),
        "labelled_answers": _numeric_labelled(list(submission.answers or []), numbers),
        "values": _numeric_values(submission.values or {}),
        "consent": submission.consent_at is not None,
        "consent_text": submission.consent_text,
        "consent_at": submission.consent_at,
        "submitted_at": submission.created_at,
        "source": {k: v for k, v in source.items() if isinstance(v, str | int | float | bool)},
    }
    for key in SOURCE_KEYS:
        facts[key] = source.get(key) or None
    facts["page_url"] = next((source[k] for k in PAGE_KEYS if source.get(k)), None)
    return facts


def build_payload(facts: Mapping[str, Any], tags: list[str], fields: Mapping[str, Any]) -> bytes:
    """The exact bytes sent to one destination, on every attempt."""
    data = {
        "submission_id": facts["submission_id"],
        "email": facts["email"],
        "email_display": facts["email_display"],
        "first_name": facts["first_name"],
        "is_new_lead": facts["is_new_lead"],
        "quiz": facts["quiz"],
        "quiz_title": facts["quiz_title"],
        "quiz_kind": facts["quiz_kind"],
        "quiz_version": facts["quiz_version"],
        "outcome": facts["outcome"],
        "outcome_title": facts["outcome_title"],
        "score": facts["score"],
        "max_score": facts["max_score"],
        "percent": facts["percent"],
        "tier": facts["tier"],
        "lead_score": facts["lead_score"],
        "sub_scores": facts["sub_scores"],
        "tags": list(tags),
        "lead_tags": facts["lead_tags"],
        "answers": facts["labelled_answers"],
        "values": facts["values"],
        "fields": dict(fields),
        "consent": facts["consent"],
        "consent_text": facts["consent_text"],
        "consent_at": facts["consent_at"],
        **{key: facts[key] for key in SOURCE_KEYS},
        "page_url": facts["page_url"],
        "source": facts["source"],
        "submitted_at": facts["submitted_at"],
    }
    envelope = {"type": facts["event"], "timestamp": iso(facts["submitted_at"]), "data": data}
    return encode(envelope).encode("utf-8")


def parse(payload: bytes) -> dict[str, Any]:
    return json.loads(payload.decode("utf-8"))
