"""Read models for exports."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from quizapp.engine.scoring import plain
from quizapp.store.models import Submission


def submission_rows(session: Session, slug: str | None = None) -> list[dict]:
    query = (select(Submission).options(joinedload(Submission.lead), joinedload(Submission.response))
             .order_by(Submission.id))
    if slug:
        query = query.where(Submission.quiz_slug == slug)
    rows = []
    for s in session.scalars(query):
        source = s.response.source or {}
        rows.append({
            "submitted_at": s.created_at.isoformat(), "quiz": s.quiz_slug, "email": s.lead.email,
            "first_name": s.first_name, "outcome": s.outcome, "score": plain(s.score),
            "max_score": plain(s.max_score), "percent": plain(s.percent), "tier": s.tier,
            "lead_score": plain(s.lead_score), "tags": list(s.tags), "consent": s.consent_text or "",
            "consent_at": s.consent_at.isoformat() if s.consent_at else None,
            "answers": s.answers, "values": s.values,
            **{k: source.get(k, "") for k in ("utm_source", "utm_medium", "utm_campaign", "referrer", "page")},
        })
    return rows
