"""SQLAlchemy 2 models. Times are timezone-aware UTC; JSON columns hold plain data only."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores UTC; always hands back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store UTC-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")

naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=naming)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


def new_public_id() -> str:
    return secrets.token_urlsafe(18)


class QuizVersion(Base):
    """One row per distinct content of a definition file; submissions point at the version they used."""

    __tablename__ = "quiz_version"
    __table_args__ = (UniqueConstraint("slug", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="quiz")
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lead(Base):
    """One row per person, keyed by the normalised email; tags accumulate across quizzes."""

    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    email_display: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    customer_at: Mapped[datetime | None]
    revenue: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))

    submissions: Mapped[list[Submission]] = relationship(back_populates="lead")


class Spend(Base):
    """Money spent to bring visitors to a quiz or calculator (ads, tools, time), for cost per lead."""

    __tablename__ = "spend"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_slug: Mapped[str] = mapped_column(String(100), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    spent_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Response(Base):
    """A visitor's progress through one quiz or calculator, addressed by an unguessable public id."""

    __tablename__ = "response"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True, default=new_public_id)
    quiz_slug: Mapped[str] = mapped_column(String(100), index=True)
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_version.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    step: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    quiz_version: Mapped[QuizVersion] = relationship()
    submission: Mapped[Submission | None] = relationship(back_populates="response", uselist=False)


class Submission(Base):
    """A finished response behind the gate: the facts the lead was segmented by, frozen at that moment."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), unique=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    quiz_slug: Mapped[str] = mapped_column(String(100), index=True)
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_version.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_score: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    tier: Mapped[str | None] = mapped_column(String(100))
    lead_score: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    sub_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    answers: Mapped[list[Any]] = mapped_column(default=list)  # labelled answers
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)  # calculator inputs and results
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None]
    is_new_lead: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="submission")
    lead: Mapped[Lead] = relationship(back_populates="submissions")
    quiz_version: Mapped[QuizVersion] = relationship()


class Event(Base):
    """A funnel event: view, start, answer, gate_view, lead, result_view, cta_click."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_quiz_kind_time", "quiz_slug", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    quiz_slug: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"), index=True)
    step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One outbox row per (submission, destination); written in the lead's transaction."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), index=True)
    destination: Mapped[str] = mapped_column(String(100), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the exact bytes, identical on every attempt
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # indexes the retry schedule
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(100))
    steps_done: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.id"
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(30))
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(100))

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")


class DestinationState(Base):
    """Shared per-destination state: paused/disabled, cached platform ids, rate-limit clock."""

    __tablename__ = "destination_state"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    cache: Mapped[dict[str, Any]] = mapped_column(default=dict)
    next_allowed_at: Mapped[datetime | None]
