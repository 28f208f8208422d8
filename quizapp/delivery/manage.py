"""Looking at and acting on deliveries by hand: list, retry, replay, resume a paused destination.
Functions flush; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quizapp.delivery import state as dstate
from quizapp.delivery.config import DestinationsConfig
from quizapp.delivery.policy import DEAD, DELIVERED, PENDING, SENDING
from quizapp.store.models import Delivery, DeliveryAttempt, DestinationState, Submission, utcnow

STATUSES = (PENDING, SENDING, DELIVERED, DEAD)


@dataclass(frozen=True)
class DestinationHealth:
    name: str
    type: str | None  # None: named by a quiz or left in the database, but not in the destinations file
    status: str  # active, paused, disabled, not configured, switched off
    reason: str | None
    pending: int
    dead: int


def find(
    session: Session,
    *,
    ids: Sequence[int] = (),
    status: str | None = None,
    destination: str | None = None,
    quiz: str | None = None,
    since: datetime | None = None,
    limit: int | None = 50,
) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.id.desc())
    if ids:
        query = query.where(Delivery.id.in_(list(ids)))
    if status:
        query = query.where(Delivery.status == status)
    if destination:
        query = query.where(Delivery.destination == destination)
    if quiz:
        query = query.join(Submission, Submission.id == Delivery.submission_id).where(
            Submission.quiz_slug == quiz
        )
    if since:
        query = query.where(Delivery.created_at >= since)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def attempts(session: Session, delivery_id: int) -> list[DeliveryAttempt]:
    return list(
        session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id)
        )
    )


def retry(session: Session, rows: Sequence[Delivery]) -> list[Delivery]:
    """Dead or waiting rows become due now with a fresh retry schedule; finished steps stay finished.
    Delivered rows and rows being sent are left alone (use ``replay`` to send a delivered one again)."""
    chosen = [r for r in rows if r.status in (DEAD, PENDING)]
    _reset(session, chosen, keep_steps=True)
    return chosen


def replay(session: Session, rows: Sequence[Delivery]) -> list[Delivery]:
    """Send again from the first step: the same payload bytes and the same message id (receivers that
    dedupe on ``webhook-id`` will treat it as the same message). Rows being sent are left alone."""
    chosen = [r for r in rows if r.status != SENDING]
    _reset(session, chosen, keep_steps=False)
    return chosen


def _reset(session: Session, rows: Sequence[Delivery], *, keep_steps: bool) -> None:
    if not rows:
        return
    values = {
        "status": PENDING,
        "failures": 0,
        "next_attempt_at": utcnow(),
        "lease_until": None,
        "leased_by": None,
    }
    if not keep_steps:
        values["steps_done"] = {}
    # Conditional: a worker may have claimed a row since it was read.
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_([r.id for r in rows]), Delivery.status != SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    for row in rows:
        session.refresh(row)


def resume(session: Session, name: str, reason: str = "resumed by hand") -> bool:
    """Make a paused or disabled destination active again; its waiting rows go out at once."""
    state = session.get(DestinationState, name)
    if state is None:
        return False
    dstate.set_status(session, name, dstate.ACTIVE, reason)
    state.next_allowed_at = None
    session.flush()
    return True


def health(session: Session, config: DestinationsConfig) -> list[DestinationHealth]:
    """Every destination the creator should know about: configured ones, and names that only rows carry."""
    from sqlalchemy import func

    counts: dict[tuple[str, str], int] = {
        (d, s): n
        for d, s, n in session.execute(
            select(Delivery.destination, Delivery.status, func.count())
            .where(Delivery.status.in_([PENDING, DEAD]))
            .group_by(Delivery.destination, Delivery.status)
        )
    }
    states = {s.name: s for s in session.scalars(select(DestinationState))}
    names = sorted(set(config.destinations) | {d for d, _ in counts} | set(states))
    out = []
    for name in names:
        dest = config.get(name)
        st = states.get(name)
        if dest is None:
            status, reason = "not configured", "named by a quiz but missing from the destinations file"
        elif not dest.enabled:
            status, reason = "switched off", '"enabled": false in the destinations file'
        else:
            status = st.status if st is not None else dstate.ACTIVE
            reason = st.reason if st is not None and status != dstate.ACTIVE else None
        out.append(
            DestinationHealth(
                name,
                dest.type if dest else None,
                status,
                reason,
                counts.get((name, PENDING), 0),
                counts.get((name, DEAD), 0),
            )
        )
    return out
