"""Definition versions: one QuizVersion row per distinct content, so results stay explainable."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quizapp.store.models import QuizVersion

_known: dict[tuple[str, str, str], int] = {}
_lock = threading.Lock()


def version_id(session: Session, definition, raw: dict) -> int:
    """The id of the QuizVersion row for this content, creating it on first use."""
    engine_key = str(session.get_bind().url)
    key = (engine_key, definition.slug, definition.content_hash)
    with _lock:
        if key in _known:
            return _known[key]
    found = session.scalar(select(QuizVersion.id).where(QuizVersion.slug == definition.slug,
                                                        QuizVersion.content_hash == definition.content_hash))
    if found is not None:
        with _lock:  # only a row seen committed is remembered: one this request inserts may be rolled back
            _known[key] = found
        return found
    try:
        with session.begin_nested():
            row = QuizVersion(slug=definition.slug, kind=definition.kind,
                              content_hash=definition.content_hash, definition=raw)
            session.add(row)
        return row.id
    except IntegrityError:  # another process stored the same version first
        return session.scalar(select(QuizVersion.id).where(
            QuizVersion.slug == definition.slug, QuizVersion.content_hash == definition.content_hash))


def forget_cache() -> None:
    with _lock:
        _known.clear()
