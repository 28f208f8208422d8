"""Capturing a lead at the gate: one transaction stores the lead, the submission and the outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quizapp.definitions.question_types import plain_text
from quizapp.delivery import outbox
from quizapp.services import events
from quizapp.services.facts import facts_for
from quizapp.store.models import Lead, Response, Submission


class InvalidEmail(ValueError):
    pass


def normalise_email(raw: str) -> tuple[str, str]:
    """(identity, display). Syntax only: no DNS lookup may hold up or lose a lead. Identity is the
    trimmed address lower-cased whole, so `Lead.One@Example.COM ` and `lead.one@example.com` match."""
    display = (raw or "").strip()
    if not display:
        raise InvalidEmail("Please enter your email address.")
    try:
        checked = validate_email(display, check_deliverability=False)
    except EmailNotValidError as err:
        raise InvalidEmail(str(err)) from None
    return checked.normalized.lower(), checked.normalized


def clean_name(raw: str) -> str:
    return plain_text(raw)[:100]


@dataclass
class Captured:
    submission: Submission
    lead: Lead
    created: bool  # False when the response already had its submission (refresh, double click)


def _upsert_lead(session: Session, email: str, display: str, first_name: str, tags: list[str]) -> tuple[Lead, bool]:
    lead = session.scalar(select(Lead).where(Lead.email == email))
    new = lead is None
    if new:
        try:
            with session.begin_nested():
                lead = Lead(email=email, email_display=display, first_name=first_name, tags=[])
                session.add(lead)
        except IntegrityError:  # the same person submitted in another request a moment ago
            lead = session.scalar(select(Lead).where(Lead.email == email))
            new = False
    lead.first_name = first_name
    lead.email_display = display
    lead.tags = list(dict.fromkeys([*lead.tags, *tags]))
    return lead, new


def capture(session: Session, response: Response, definition, *, first_name: str, email: str,
            consent: bool = False, now: datetime | None = None) -> Captured:
    """Store the lead for a finished response. Idempotent per response: a second call returns the
    first submission. Raises InvalidEmail. Flushes; the caller commits."""
    if response.submission is not None:
        return Captured(response.submission, response.submission.lead, False)
    identity, display = normalise_email(email)
    name = clean_name(first_name)
    now = now or datetime.now(UTC)
    facts = facts_for(definition, response.answers)
    lead, new_lead = _upsert_lead(session, identity, display, name, list(facts.tags))
    consent_text = definition.gate.consent.text if (definition.gate.consent and consent) else None
    submission = Submission(
        response_id=response.id, lead=lead, quiz_slug=definition.slug,
        quiz_version_id=response.quiz_version_id, content_hash=response.content_hash, first_name=name,
        outcome=facts.outcome, score=facts.score, max_score=facts.max_score, percent=facts.percent,
        tier=facts.tier, lead_score=facts.lead_score, sub_scores=facts.sub_scores, tags=list(facts.tags),
        answers=facts.answers, values=facts.values, consent_text=consent_text,
        consent_at=now if consent_text else None, is_new_lead=new_lead, created_at=now,
    )
    session.add(submission)
    response.status = "complete"
    session.flush()
    events.record(session, definition.slug, "lead", response.id)
    outbox.enqueue_lead(session, submission, definition, updated=not new_lead)
    return Captured(submission, lead, True)
