"""Helpers for the delivery tests: leads stored the way the gate stores them, destination entries."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from quizapp.definitions.loader import load_data
from quizapp.delivery import destinations_for
from quizapp.delivery.outbox import enqueue_lead
from quizapp.delivery.worker import make_worker
from quizapp.store.models import Delivery, Lead, QuizVersion, Response, Submission
from tests.helpers import minimal_quiz

SECRET = "whsec_" + base64.b64encode(bytes(range(1, 33))).decode()
SECRET_ENV = "QUIZAPP_TEST_HOOK_SECRET"

# Fast retries: the real schedule spans three days.
FAST = {
    "DELIVERY_RETRY_SCHEDULE": [0.05, 0.05, 0.1, 0.1, 0.2],
    "DELIVERY_RETRY_JITTER": 0.0,
    "DELIVERY_POLL_SECONDS": 0.05,
    "DELIVERY_LEASE_SECONDS": 30,
    "DELIVERY_MAX_WAIT_SECONDS": 2.0,
}


def quiz_definition(slug: str = "mini", destinations: list | None = None, **overrides):
    data = minimal_quiz(slug=slug, tags=["quiz:" + slug], **overrides)
    data["outcomes"] = [
        {"id": "low", "title": "Low", "tags": ["tier:low"]},
        {"id": "high", "title": "High", "tags": ["tier:high"]},
    ]
    if destinations is not None:
        data["destinations"] = destinations
    loaded = load_data(data, f"{slug}.json")
    assert loaded.definition is not None, loaded.problems
    return loaded.definition, data


def webhook(url: str, name: str = "hook", **extra) -> dict:
    dest = {
        "name": name,
        "type": "webhook",
        "quizzes": "all",
        "settings": {"url": url, "secret_env": SECRET_ENV},
        "timeout": 2,
    }
    dest.update(extra)
    return dest


class Leads:
    """Stores leads as the gate does (Lead, Response, Submission, then the outbox) in one transaction."""

    def __init__(self, app, definition, raw):
        self.app = app
        self.definition = definition
        self.raw = raw
        self.count = 0

    def __call__(
        self,
        n: int = 1,
        *,
        email: str | None = None,
        updated: bool = False,
        answers: dict | None = None,
        outcome: str = "high",
        score: str = "4",
        lead_score: str | None = "45",
        source: dict | None = None,
        values: dict | None = None,
        tags: list[str] | None = None,
        consent: bool = True,
    ) -> list[int]:
        from quizapp.store import get_session

        ids = []
        with self.app.app_context():
            session = get_session()
            version = session.scalar(select(QuizVersion).where(QuizVersion.slug == self.definition.slug))
            if version is None:
                version = QuizVersion(
                    slug=self.definition.slug, kind="quiz", content_hash="c" * 64, definition=self.raw
                )
                session.add(version)
                session.flush()
            for _ in range(n):
                self.count += 1
                address = email or f"lead{self.count}@example.com"
                lead = session.scalar(select(Lead).where(Lead.email == address.lower()))
                if lead is None:
                    lead = Lead(email=address.lower(), email_display=address, first_name="Ann", tags=[])
                    session.add(lead)
                the_tags = tags if tags is not None else ["quiz:mini", "tier:high"]
                lead.tags = list(dict.fromkeys([*lead.tags, *the_tags]))
                response = Response(
                    quiz_slug=self.definition.slug,
                    quiz_version=version,
                    content_hash="c" * 64,
                    answers=answers or {"q1": "b", "q2": "a"},
                    status="complete",
                    source=source if source is not None else {"utm_source": "newsletter"},
                )
                session.add(response)
                session.flush()
                sub = Submission(
                    response=response,
                    lead=lead,
                    quiz_slug=self.definition.slug,
                    quiz_version=version,
                    content_hash="c" * 64,
                    first_name="Ann",
                    outcome=outcome,
                    score=Decimal(score),
                    max_score=Decimal(5),
                    percent=(Decimal(score) * 20).quantize(Decimal("0.01")),
                    tier=outcome,
                    lead_score=Decimal(lead_score) if lead_score is not None else None,
                    sub_scores={},
                    tags=the_tags,
                    answers=[
                        {"question": "q1", "text": "One?", "type": "single", "value": "b", "label": "B"}
                    ],
                    values=values or {},
                    consent_text="Yes, email me" if consent else None,
                    consent_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC) if consent else None,
                    is_new_lead=not updated,
                    created_at=datetime(2026, 5, 1, 12, 0, 1, 250000, tzinfo=UTC),
                )
                session.add(sub)
                session.flush()
                enqueue_lead(
                    session, sub, self.definition, updated=updated, config=destinations_for(self.app)
                )
                ids.append(sub.id)
            session.commit()
        return ids


def worker_for(app, **overrides):
    return make_worker(app, **overrides)


def rows(app) -> list[Delivery]:
    from quizapp.store import get_session

    with app.app_context():
        session = get_session()
        out = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        session.close()
        return out
