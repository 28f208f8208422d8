"""Transactional outbox: delivery rows are added in the same transaction as the lead."""

from __future__ import annotations

from sqlalchemy.orm import Session

from quizapp.store.models import Delivery, Submission


def enqueue_lead(session: Session, submission: Submission, definition, *, updated: bool) -> list[Delivery]:
    """Add one Delivery row per destination of this definition. Flushes; the caller commits."""
    return []
