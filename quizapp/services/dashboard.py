"""Read models for the creator's dashboard: funnel per definition, recent leads, delivery health."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from quizapp.services.economics import Economics, economics
from quizapp.services.stats import Funnel, funnel
from quizapp.store.models import Delivery, DestinationState, Submission


@dataclass
class Overview:
    slug: str
    title: str
    kind: str
    funnel: Funnel
    economics: Economics

    @property
    def optin_rate(self):
        return Funnel.rate(self.funnel.leads, self.funnel.starts)


def overview(session: Session, definitions) -> list[Overview]:
    return [Overview(d.slug, d.title, d.kind, funnel(session, d.slug), economics(session, d.slug))
            for d in definitions]


def recent_submissions(session: Session, slug: str | None = None, limit: int = 50) -> list[Submission]:
    query = select(Submission).options(joinedload(Submission.lead), joinedload(Submission.response))
    if slug:
        query = query.where(Submission.quiz_slug == slug)
    return list(session.scalars(query.order_by(Submission.id.desc()).limit(limit)))


def outcome_counts(session: Session, slug: str) -> list[tuple[str, int]]:
    rows = session.execute(select(Submission.outcome, func.count()).where(Submission.quiz_slug == slug)
                           .group_by(Submission.outcome).order_by(func.count().desc()))
    return [(outcome or "", count) for outcome, count in rows]


@dataclass
class DestinationHealth:
    name: str
    status: str  # active, paused, disabled
    reason: str | None
    counts: dict[str, int]


def delivery_health(session: Session) -> list[DestinationHealth]:
    counts: dict[str, dict[str, int]] = {}
    for name, status, count in session.execute(
            select(Delivery.destination, Delivery.status, func.count())
            .group_by(Delivery.destination, Delivery.status)):
        counts.setdefault(name, {})[status] = count
    states = {s.name: s for s in session.scalars(select(DestinationState))}
    names = sorted(set(counts) | set(states))
    return [DestinationHealth(n, states[n].status if n in states else "active",
                              states[n].reason if n in states else None, counts.get(n, {})) for n in names]
