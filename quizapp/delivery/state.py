"""Per-destination state shared by every worker through the database: paused/disabled, the rate-limit clock,
the cache of platform ids. Each change is one short transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from quizapp.delivery.http import Deferred
from quizapp.store.models import DestinationState, utcnow

log = logging.getLogger("quizapp.delivery")

ACTIVE, PAUSED, DISABLED = "active", "paused", "disabled"
META = "_meta"  # cache section for our own bookkeeping (fingerprints)


def ensure_states(session: Session, names: Iterable[str]) -> None:
    """A state row for each destination; concurrent workers may race to insert, so conflicts are ignored."""
    names = sorted(set(names))
    if not names:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    stmt = insert(DestinationState).values(
        [{"name": n, "status": ACTIVE, "cache": {}, "changed_at": now} for n in names]
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))


def _locked(session: Session, name: str) -> DestinationState:
    state = session.scalars(
        select(DestinationState).where(DestinationState.name == name).with_for_update()
    ).one_or_none()
    if state is None:
        ensure_states(session, [name])
        state = session.scalars(
            select(DestinationState).where(DestinationState.name == name).with_for_update()
        ).one()
    return state


def reserve_slot(engine: Engine, name: str, interval: float, max_wait: float) -> None:
    """Take the next request slot of a rate-limited destination, shared by all workers: sleep until it when it
    is near, raise ``Deferred`` when it is further away than ``max_wait``."""
    with Session(engine) as session, session.begin():
        state = _locked(session, name)
        now = utcnow()
        slot = max(now, state.next_allowed_at or now)
        if (slot - now).total_seconds() > max_wait:
            raise Deferred(slot)
        state.next_allowed_at = slot + timedelta(seconds=interval)
    wait = (slot - utcnow()).total_seconds()
    if wait > 0:
        time.sleep(wait)


THROTTLED_IN_A_ROW = "throttled_in_a_row"


def hold_until(session: Session, name: str, until: datetime) -> dict[str, Any]:
    """After a throttled answer: nobody sends to this destination before ``until``, and the run of throttled
    answers grows by one (the least wait after the next one doubles). Returns the new cache."""
    state = _locked(session, name)
    if state.next_allowed_at is None or state.next_allowed_at < until:
        state.next_allowed_at = until
    return _set_meta(state, THROTTLED_IN_A_ROW, throttled_in_a_row(state) + 1)


def end_throttling(session: Session, name: str) -> dict[str, Any]:
    """The destination answered without throttling: the next throttled answer starts from the least wait."""
    return _set_meta(_locked(session, name), THROTTLED_IN_A_ROW, 0)


def throttled_in_a_row(state: DestinationState | None) -> int:
    if state is None:
        return 0
    value = ((state.cache or {}).get(META) or {}).get(THROTTLED_IN_A_ROW)
    return value if isinstance(value, int) and value > 0 else 0


def _set_meta(state: DestinationState, key: str, value: Any) -> dict[str, Any]:
    cache = dict(state.cache or {})
    cache[META] = {**(cache.get(META) or {}), key: value}
    state.cache = cache
    return cache


def set_status(
    session: Session, name: str, status: str, reason: str | None, fingerprint: str | None = None
) -> None:
    state = _locked(session, name)
    if state.status != status or state.reason != reason:
        state.status = status
        state.reason = reason
        state.changed_at = utcnow()
    cache = dict(state.cache or {})
    meta = dict(cache.get(META) or {})
    meta["fingerprint_when_stopped"] = fingerprint if status != ACTIVE else None
    cache[META] = meta
    state.cache = cache
    if status == ACTIVE:
        log.info("destination %s is active again: %s", name, reason)
    else:
        log.error("destination %s is %s: %s", name, status, reason)


def stopped_fingerprint(state: DestinationState) -> str | None:
    return ((state.cache or {}).get(META) or {}).get("fingerprint_when_stopped")


def merge_cache(
    session: Session, name: str, changes: list[tuple[str, str, Any]], fingerprint: str
) -> dict[str, Any]:
    """Apply an attempt's cache changes on top of what other workers stored meanwhile. The cache belongs to
    one configuration (account, key): when the fingerprint changed, it starts again from empty."""
    state = _locked(session, name)
    cache = {k: dict(v) for k, v in (state.cache or {}).items() if isinstance(v, dict)}
    meta = dict(cache.get(META) or {})
    if meta.get("fingerprint") != fingerprint:
        cache = {META: {**meta, "fingerprint": fingerprint}}
    for section, key, value in changes:
        if value is None:
            cache.get(section, {}).pop(key, None)
        else:
            cache.setdefault(section, {})[key] = value
    state.cache = cache
    return cache


def cache_for(state: DestinationState | None, fingerprint: str) -> dict[str, Any]:
    cache = dict((state.cache if state is not None else None) or {})
    if (cache.get(META) or {}).get("fingerprint") != fingerprint:
        return {}
    return {k: v for k, v in cache.items() if k != META}
