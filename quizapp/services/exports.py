"""Read models for exports."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from quizapp.definitions.question_types import plain_text
from quizapp.engine.scoring import plain
from quizapp.store.models import Submission

NUMERIC = ("score", "max_score", "percent", "lead_score")
CSV_FIELDS = ["submitted_at", "quiz", "email", "first_name", "outcome", "score", "max_score", "percent", "tier",
              "lead_score", "tags", "answers", "values", "consent", "consent_at", "utm_source", "utm_medium",
              "utm_campaign", "referrer", "page"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """Text safe to open in a spreadsheet: no control characters, and a leading '=', '+', '-', '@' made
    literal with a quote, so a visitor's name can't become a formula."""
    text = plain_text(str(value)) if value is not None else ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(row: dict) -> dict:
    answers = "; ".join(f"{a.get('question')}: {a.get('label') or a.get('value')}" for a in row["answers"] or [])
    values = "; ".join(f"{name}={v.get('display', v.get('value')) if isinstance(v, dict) else v}"
                       for name, v in (row["values"] or {}).items())
    out = {key: csv_cell(row.get(key)) for key in CSV_FIELDS if key not in NUMERIC}
    out.update({key: "" if row.get(key) is None else plain(row[key]) for key in NUMERIC})
    out.update(tags=csv_cell(" ".join(row["tags"])), answers=csv_cell(answers), values=csv_cell(values))
    return out


def submission_rows(session: Session, slug: str | None = None) -> list[dict]:
    """One dict per submission; numbers stay Decimals (write JSON with quizapp.jsontext.encode)."""
    query = (select(Submission).options(joinedload(Submission.lead), joinedload(Submission.response))
             .order_by(Submission.id))
    if slug:
        query = query.where(Submission.quiz_slug == slug)
    rows = []
    for s in session.scalars(query):
        source = s.response.source or {}
        rows.append({
            "submitted_at": s.created_at.isoformat(), "quiz": s.quiz_slug, "email": s.lead.email,
            "first_name": s.first_name, "outcome": s.outcome, "score": s.score,
            "max_score": s.max_score, "percent": s.percent, "tier": s.tier,
            "lead_score": s.lead_score, "tags": list(s.tags), "consent": s.consent_text or "",
            "consent_at": s.consent_at.isoformat() if s.consent_at else None,
            "answers": s.answers, "values": s.values,
            **{k: source.get(k, "") for k in ("utm_source", "utm_medium", "utm_campaign", "referrer", "page")},
        })
    return rows
