"""The retry policy: what an attempt's result does to its delivery row and to the destination."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from quizapp.delivery.config import RetrySettings
from quizapp.delivery.http import (
    AuthFailed,
    ConfigProblem,
    Deferred,
    DeliveryFailure,
    Gone,
    Permanent,
    Throttled,
    Transient,
)

PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"


@dataclass(frozen=True)
class Decision:
    outcome: (
        str  # what the attempt record says: delivered, failed, throttled, dead, paused, disabled, deferred
    )
    status: str  # the row's new status
    next_attempt_at: datetime
    failures: int
    error: str | None = None
    hold_destination_until: datetime | None = None
    destination_status: str | None = None  # "paused" or "disabled"


def retry_delay(settings: RetrySettings, failures: int, rng: random.Random | None = None) -> float | None:
    """Seconds to wait after the n-th transient failure, with jitter; None once the schedule is spent."""
    if failures < 1 or failures > len(settings.schedule):
        return None
    base = settings.schedule[failures - 1]
    factor = (rng or random).uniform(1 - settings.jitter, 1 + settings.jitter) if settings.jitter else 1.0
    return max(0.0, base * factor)


def throttle_wait(settings: RetrySettings, retry_after: float | None, throttled_in_a_row: int) -> float:
    """Seconds to wait after a throttled answer: what the receiver asked for, but never less than a minimum
    that doubles with each throttled answer in a row, so a "Retry-After: 0" cannot make us hammer it."""
    doubled = settings.throttle_min_wait * 2.0 ** min(throttled_in_a_row, 60)
    floor = min(doubled, settings.throttle_min_wait_cap)
    asked = min(retry_after, settings.max_retry_after) if retry_after is not None else 0.0
    return max(asked, floor)


def decide(
    error: BaseException | None,
    *,
    failures: int,
    attempts: int,
    now: datetime,
    settings: RetrySettings,
    made_calls: bool = True,
    throttled_in_a_row: int = 0,
) -> Decision:
    """``failures`` is the row's count before this attempt, ``attempts`` its attempts that were not
    throttled; ``throttled_in_a_row`` counts the destination's throttled answers since its last other one."""
    if error is None:
        return Decision("delivered", DELIVERED, now, failures)
    attempts_after = attempts + (1 if made_calls else 0)
    if isinstance(error, Deferred):
        return Decision("deferred", PENDING, error.until, failures)
    if isinstance(error, Permanent):
        return Decision("dead", DEAD, now, failures, _describe(error))
    if isinstance(error, ConfigProblem | AuthFailed):
        # The message is fine; the destination is not. Hold every row for it without using up retries.
        return Decision("paused", PENDING, now, failures, _describe(error), destination_status="paused")
    if isinstance(error, Gone):
        return Decision("disabled", PENDING, now, failures, _describe(error), destination_status="disabled")
    if isinstance(error, Throttled):
        # The receiver is busy, not failing: the lead waits as long as it takes, using up no retries.
        until = now + timedelta(seconds=throttle_wait(settings, error.retry_after, throttled_in_a_row))
        return Decision("throttled", PENDING, until, failures, _describe(error), hold_destination_until=until)
    # Transient: a network error, a timeout, 5xx, 408, a redirect, or an unexpected error in an adapter
    # (kept and retried rather than lost).
    failures += 1
    delay = retry_delay(settings, failures)
    if delay is None or attempts_after >= settings.max_attempts:
        return Decision(
            "dead", DEAD, now, failures, f"gave up after {attempts_after} attempts: {_describe(error)}"
        )
    return Decision("failed", PENDING, now + timedelta(seconds=delay), failures, _describe(error))


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, DeliveryFailure) and error.body and error.body[:300] not in text:
        text = f"{text}\n{error.body}"
    if not isinstance(error, DeliveryFailure):
        text = f"internal error: {type(error).__name__}: {text}"
    return text[:4000]


__all__ = [
    "Decision",
    "decide",
    "retry_delay",
    "throttle_wait",
    "PENDING",
    "SENDING",
    "DELIVERED",
    "DEAD",
    "Transient",
]
