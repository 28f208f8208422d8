"""Funnel events: view, start, answer, gate_view, lead, result_view, cta_click."""

from __future__ import annotations

from sqlalchemy.orm import Session

from quizapp.store.models import Event

KINDS = ("view", "start", "answer", "gate_view", "lead", "result_view", "cta_click")


def record(session: Session, quiz_slug: str, kind: str, response_id: int | None = None,
           step: int | None = None) -> Event:
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = Event(quiz_slug=quiz_slug, kind=kind, response_id=response_id, step=step)
    session.add(event)
    return event
