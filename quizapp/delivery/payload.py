"""The event a destination receives, built once when the lead is stored and kept as exact bytes.

Envelope (Standard Webhooks): ``{"type": "lead.created" | "lead.updated", "timestamp": ..., "data": {...}}``.
``data`` is flat where it can be (no-code tools handle scalars and a ``tags`` list best): docs/delivery.md."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from quizapp.delivery.mapping import plain_number

SOURCE_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")
PAGE_KEYS = ("page_url", "page", "landing_url", "url")


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """JSON-safe copy: Decimals become numbers, times ISO strings, NaN and infinities null."""
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _numeric_strings(sub_scores: Mapping[str, Any]) -> dict[str, Any]:
    """Sub-scores are stored with numbers as strings ("33.33"); receivers get numbers."""
    out: dict[str, Any] = {}
    for category, parts in (sub_scores or {}).items():
        if isinstance(parts, Mapping):
            out[category] = {
                k: _to_number(v) if k in ("score", "max", "percent") else v for k, v in parts.items()
            }
        else:
            out[category] = _to_number(parts)
    return out


def _to_number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        return plain_number(number) if number.is_finite() else None
    return value


def facts_for(submission: Any, definition: Any, *, updated: bool) -> dict[str, Any]:
    """Everything a mapping rule may look at, from the frozen Submission (and its lead and response)."""
    lead = submission.lead
    response = submission.response
    source = dict(getattr(response, "source", None) or {})
    outcome = definition.outcome(submission.outcome) if hasattr(definition, "outcome") else None
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
        "sub_scores": _numeric_strings(submission.sub_scores or {}),
        "tags": list(submission.tags or []),
        "lead_tags": list(lead.tags or []),
        "answers": dict(getattr(response, "answers", None) or {}),
        "labelled_answers": list(submission.answers or []),
        "values": dict(submission.values or {}),
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
    envelope = {"type": facts["event"], "timestamp": iso(facts["submitted_at"]), "data": _plain(data)}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def parse(payload: bytes) -> dict[str, Any]:
    return json.loads(payload.decode("utf-8"))
