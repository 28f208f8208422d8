"""Starting a response and recording answers, one question per step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from quizapp.definitions import question_types
from quizapp.definitions.question_types import ParseError, plain_text
from quizapp.engine.flow import first_open_step, visible_questions
from quizapp.services import events, versions
from quizapp.store.models import Response

SOURCE_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def clean_source(values: dict[str, Any]) -> dict[str, str]:
    """Keep the attribution a lead records: utm_*, referrer, the page it was taken on, embed mode."""
    out: dict[str, str] = {}
    for key in (*SOURCE_KEYS, "referrer", "page"):
        value = values.get(key)
        if isinstance(value, str) and plain_text(value):
            value = plain_text(value)[:500]
            if key in ("referrer", "page") and urlsplit(value).scheme not in ("http", "https"):
                continue
            out[key] = value
    if values.get("embed") in ("1", "true", True):
        out["embed"] = "1"
    return out


def start(session: Session, definition, raw: dict, source: dict[str, Any]) -> Response:
    response = Response(quiz_slug=definition.slug, quiz_version_id=versions.version_id(session, definition, raw),
                        content_hash=definition.content_hash, source=clean_source(source))
    session.add(response)
    session.flush()
    events.record(session, definition.slug, "start", response.id)
    return response


# Built once: every visitor request runs it, and building the statement costs more than running it.
_BY_PUBLIC_ID = (select(Response).options(joinedload(Response.submission))
                 .where(Response.public_id == bindparam("public_id")))


def find(session: Session, public_id: str) -> Response | None:
    """The response behind a public id, with its submission (every visitor page asks whether the
    response went through the gate) loaded in the same query."""
    return session.scalar(_BY_PUBLIC_ID, {"public_id": public_id})


@dataclass
class StepOutcome:
    ok: bool
    error: str | None = None
    next_step: int | None = None  # None: every question answered, the gate is next


def answer(session: Session, response: Response, quiz, step: int, raw: list[str],
           question_id: str | None = None) -> StepOutcome:
    """Validate and store the answer to the question at 1-based `step` of the visible list. With
    `question_id` (what the form showed), an answer to a question that is no longer at that step (an
    earlier answer changed in another tab) is refused rather than stored against another question."""
    shown = visible_questions(quiz, response.answers)
    if not 1 <= step <= len(shown):
        return StepOutcome(False, "This question is no longer part of the quiz.")
    q = shown[step - 1]
    if question_id is not None and question_id != q.id:
        return StepOutcome(False, "An earlier answer changed, so this is now the question at this step. "
                                  "Please answer it.")
    try:
        value = question_types.get(q.type).parse(q, raw)
    except ParseError as err:
        return StepOutcome(False, str(err))
    answers = dict(response.answers)
    answers[q.id] = value
    response.answers = answers  # a new dict, so the JSON column sees the change
    response.step = step
    events.record(session, quiz.slug, "answer", response.id, step)
    after = visible_questions(quiz, answers)
    index = next(i for i, item in enumerate(after) if item.id == q.id)
    if index + 1 < len(after):
        return StepOutcome(True, next_step=index + 2)
    return StepOutcome(True, next_step=first_open_step(quiz, answers))
