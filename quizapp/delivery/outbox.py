"""Transactional outbox: delivery rows are added in the same transaction as the lead."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from quizapp.delivery.config import DestinationsConfig, MappingSchema, check_quiz_options
from quizapp.delivery.mapping import map_fields, map_tags, merge
from quizapp.delivery.payload import build_payload, facts_for
from quizapp.delivery.policy import PENDING
from quizapp.store.models import Delivery, Submission, utcnow

log = logging.getLogger("quizapp.delivery")


def new_message_id() -> str:
    """The Standard Webhooks ``webhook-id``: unique per message, the same on every retry."""
    return "msg_" + secrets.token_hex(16)


def _config() -> DestinationsConfig:
    from flask import current_app, has_app_context

    if not has_app_context():
        return DestinationsConfig()
    from quizapp.delivery import destinations_for

    return destinations_for(current_app)


def _quiz_mapping(name: str, slug: str, options: Mapping[str, Any]) -> dict[str, Any]:
    problems = check_quiz_options(options)
    if problems:
        # The lead must not be refused for a mapping typo; the destination's own mapping still applies and
        # `quizapp validate` reports the same problems to the creator.
        log.error(
            "quiz %s: options for destination %s ignored: %s",
            slug,
            name,
            "; ".join(f"{path}: {message}" for path, message in problems),
        )
        return {}
    return MappingSchema().load(dict(options))


def enqueue_lead(
    session: Session,
    submission: Submission,
    definition: Any,
    *,
    updated: bool,
    config: DestinationsConfig | None = None,
) -> list[Delivery]:
    """Add one Delivery row per destination of this submission's quiz (the quiz's own plus those configured
    for all quizzes or for it). Each payload is built here, once, and never changes. Flushes; the caller
    commits (in the lead's transaction)."""
    config = config if config is not None else _config()
    targets = config.for_quiz(submission.quiz_slug, tuple(getattr(definition, "destinations", ()) or ()))
    if not targets:
        return []
    facts = facts_for(submission, definition, updated=updated)
    rows: list[Delivery] = []
    for name, options in targets:
        destination = config.get(name)
        if destination is not None and destination.require_consent and not facts["consent"]:
            continue  # the creator sends this platform only leads who ticked the consent box
        if destination is None:
            log.warning(
                "quiz %s names destination %s, which is not configured; its deliveries wait for it",
                submission.quiz_slug,
                name,
            )
        mapping = merge(
            destination.mapping if destination else {}, _quiz_mapping(name, submission.quiz_slug, options)
        )
        payload = build_payload(facts, map_tags(facts, mapping), map_fields(facts, mapping))
        row = Delivery(
            message_id=new_message_id(),
            submission_id=submission.id,
            destination=name,
            event_type=facts["event"],
            payload=payload,
            status=PENDING,
            attempts=0,
            failures=0,
            next_attempt_at=utcnow(),
            steps_done={},
        )
        session.add(row)
        rows.append(row)
    session.flush()
    _wake_worker_after_commit(session)
    return rows


def _wake_worker_after_commit(session: Session) -> None:
    if not isinstance(session, Session) or session.info.get("quizapp.wake_worker"):
        return
    session.info["quizapp.wake_worker"] = True

    def _after_commit(sess: Session) -> None:
        from quizapp.delivery.worker import notify

        sess.info.pop("quizapp.wake_worker", None)
        notify()

    event.listen(session, "after_commit", _after_commit, once=True)
