"""The delivery worker: claim due rows with a lease, send outside any transaction, record every attempt.

Claiming: PostgreSQL selects due rows ``FOR UPDATE SKIP LOCKED`` so workers never wait on each other; then
(on both databases) one conditional UPDATE marks them ``sending`` with a lease deadline, re-checking that each
row is still claimable, so a row is never handed to two workers. A row whose lease ran out (its worker was
killed) is claimable again: nothing is lost, and the stable message id lets receivers drop the repeat.
A worker renews its lease before each call and gives a row up if another worker has taken it."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from quizapp.delivery import state as dstate
from quizapp.delivery.adapters import Message, Steps, registry
from quizapp.delivery.adapters.base import Cache
from quizapp.delivery.config import DestinationsConfig, RetrySettings, worker_setting
from quizapp.delivery.http import Deferred, DeliveryFailure, Http, Permanent
from quizapp.delivery.policy import DEAD, DELIVERED, PENDING, SENDING, Decision, decide
from quizapp.store.models import Delivery, DeliveryAttempt, DestinationState, utcnow

log = logging.getLogger("quizapp.delivery")

_wakeup = threading.Event()


def notify() -> None:
    """New rows were committed: wake a sleeping in-process worker now rather than at its next poll."""
    _wakeup.set()


_INSERT_ATTEMPT = insert(DeliveryAttempt)
_FINISH_VALUES = {
    "status": bindparam("status"),
    "attempts": bindparam("attempts"),
    "failures": bindparam("failures"),
    "next_attempt_at": bindparam("next_attempt_at", type_=Delivery.next_attempt_at.type),
    "lease_until": None,
    "leased_by": None,
    "steps_done": bindparam("steps_done", type_=Delivery.steps_done.type),
    "delivered_at": bindparam("delivered_at", type_=Delivery.delivered_at.type),
}
# Only the worker that holds the lease may write the outcome; a row taken over by another is left alone.
_OWNED = (
    Delivery.id == bindparam("b_id"),
    Delivery.leased_by == bindparam("b_worker"),
    Delivery.status == "sending",
)
_FINISH = update(Delivery).where(*_OWNED).values(**_FINISH_VALUES, last_error=bindparam("last_error"))
_FINISH_KEEP_ERROR = update(Delivery).where(*_OWNED).values(**_FINISH_VALUES)


class LeaseLost(Exception):  # noqa: N818 - another worker owns the row now; this one stops touching it
    pass


@dataclass
class Claimed:
    id: int
    message_id: str
    destination: str
    event_type: str
    payload: bytes
    attempts: int
    failures: int
    steps_done: dict[str, Any]
    lease_until: datetime


@dataclass
class Stats:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    other: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == "delivered":
            self.delivered += 1
        elif outcome == "failed":
            self.failed += 1
        elif outcome == "dead":
            self.dead += 1
        else:
            self.other += 1


class Worker:
    def __init__(
        self,
        engine: Engine,
        destinations: Callable[[], DestinationsConfig],
        *,
        retry: RetrySettings | None = None,
        lease_seconds: float = 120.0,
        batch_size: int = 20,
        poll_seconds: float = 1.0,
        max_wait: float = 2.0,
        name: str | None = None,
    ):
        self.engine = engine
        self.destinations = destinations
        self.retry = retry or RetrySettings()
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = max(1, int(batch_size))
        self.poll_seconds = poll_seconds
        self.max_wait = max_wait
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.http = requests.Session()
        if not any(
            k.lower().endswith("_proxy") or k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC")
            for k in os.environ
        ):
            # Nothing to find in the environment; looking on every call costs more than a local call.
            self.http.trust_env = False
        self.http.headers.pop("User-Agent", None)
        self.stats = Stats()
        self._stop = threading.Event()
        self._caches: dict[str, DestinationState] = {}  # detached state rows, read with each claim
        self._holds: dict[str, datetime | None] = {}  # destination -> no call before this (after a 429)
        self._postgres = engine.dialect.name == "postgresql"

    @classmethod
    def from_config(
        cls, engine: Engine, destinations: Callable[[], DestinationsConfig], config: dict, **overrides: Any
    ) -> Worker:
        kwargs: dict[str, Any] = {
            "retry": RetrySettings.from_config(config),
            "lease_seconds": worker_setting(config, "DELIVERY_LEASE_SECONDS"),
            "batch_size": int(worker_setting(config, "DELIVERY_BATCH_SIZE")),
            "poll_seconds": worker_setting(config, "DELIVERY_POLL_SECONDS"),
            "max_wait": worker_setting(config, "DELIVERY_MAX_WAIT_SECONDS"),
        }
        kwargs.update(overrides)
        return cls(engine, destinations, **kwargs)

    # -- loop ---------------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        _wakeup.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Work until ``stop()``; a database hiccup is logged and the loop goes on."""
        log.info("delivery worker %s started", self.name)
        while not self._stop.is_set():
            try:
                handled = self.run_once()
            except Exception:  # keep the worker alive: rows are safe in the database, the next loop retries
                log.exception("delivery worker %s: loop failed; retrying", self.name)
                handled = 0
                self._stop.wait(self.poll_seconds)
            if handled == 0 and not self._stop.is_set():
                _wakeup.wait(self._idle_seconds())
                _wakeup.clear()
        log.info("delivery worker %s stopped", self.name)

    def run_once(self) -> int:
        """Claim one batch and send it; returns how many rows were handled."""
        config = self.destinations()
        batch = self.claim(config)
        blocked: set[str] = set()  # paused, disabled or throttled during this batch: its other rows wait
        for i, row in enumerate(batch):
            if self._stop.is_set():
                self.release(batch[i:])
                return i
            if row.destination in blocked:
                self.release([row])
                continue
            decision = self.process(row, config)
            if decision is not None and (
                decision.destination_status
                or decision.hold_destination_until
                or decision.outcome == "deferred"
            ):
                blocked.add(row.destination)
        return len(batch)

    def drain(self, timeout: float = 30.0, until: Callable[[], bool] | None = None) -> Stats:
        """Send until nothing more will be due before ``timeout`` (or until ``until()`` holds): for tests and
        ``quizapp worker --drain``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stop.is_set():
            if self.run_once():
                continue
            if until is not None:
                if until():
                    break
            elif not self._due_before(deadline):
                break
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return self.stats

    def _soonest(self) -> datetime | None:
        """When the next row for a sendable destination becomes claimable (due, or its lease runs out)."""
        names = self._sendable(self.destinations())
        if not names:
            return None
        with Session(self.engine) as session:
            due = session.scalar(
                select(func.min(Delivery.next_attempt_at)).where(
                    Delivery.destination.in_(names), Delivery.status == PENDING
                )
            )
            lease = session.scalar(
                select(func.min(Delivery.lease_until)).where(
                    Delivery.destination.in_(names), Delivery.status == SENDING
                )
            )
        moments = [m for m in (due, lease) if m is not None]
        return min(moments) if moments else None

    def _due_before(self, deadline: float) -> bool:
        soonest = self._soonest()
        return soonest is not None and (soonest - utcnow()).total_seconds() < deadline - time.monotonic()

    def _idle_seconds(self) -> float:
        try:
            soonest = self._soonest()
        except Exception:
            return self.poll_seconds
        if soonest is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.01, (soonest - utcnow()).total_seconds()))

    # -- claiming -----------------------------------------------------------------------------------------

    def _sendable(self, config: DestinationsConfig) -> list[str]:
        """Destinations rows may be claimed for: configured, enabled, not paused, not held by a 429 for long.
        A paused destination whose configuration changed since it was paused is resumed here."""
        names = [name for name, dest in config.destinations.items() if dest.enabled]
        if not names:
            return []
        with Session(self.engine) as session:
            states = {}
            for st in session.scalars(select(DestinationState).where(DestinationState.name.in_(names))):
                states[st.name] = (st.status, st.next_allowed_at, dstate.stopped_fingerprint(st))
                self._caches[st.name] = st
            session.expunge_all()
        missing = [n for n in names if n not in states]
        if missing:
            with Session(self.engine) as session, session.begin():
                dstate.ensure_states(session, missing)
        horizon = utcnow() + timedelta(seconds=self.max_wait)
        out = []
        for name in names:
            status, next_allowed_at, stopped_with = states.get(name, (dstate.ACTIVE, None, None))
            if status != dstate.ACTIVE:
                if stopped_with in (None, config.destinations[name].fingerprint()):
                    continue
                with Session(self.engine) as session, session.begin():
                    dstate.set_status(session, name, dstate.ACTIVE, "resumed: the configuration changed")
            if next_allowed_at is not None and next_allowed_at > horizon:
                continue
            self._holds[name] = next_allowed_at
            out.append(name)
        return out

    def _claimable(self, now: datetime):
        return or_(
            and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now),
            and_(Delivery.status == SENDING, Delivery.lease_until < now),
        )

    def claim(self, config: DestinationsConfig, limit: int | None = None) -> list[Claimed]:
        names = self._sendable(config)
        if not names:
            return []
        with Session(self.engine) as session:
            with session.begin():
                self._relaxed_commit(session.connection())
                now = utcnow()
                candidates = (
                    select(Delivery.id)
                    .where(Delivery.destination.in_(names), self._claimable(now))
                    .order_by(Delivery.next_attempt_at, Delivery.id)
                    .limit(limit or self.batch_size)
                )
                if self._postgres:
                    candidates = candidates.with_for_update(skip_locked=True)
                ids = list(session.scalars(candidates))
                if not ids:
                    return []
                lease_until = now + self.lease
                claimed = session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(ids), self._claimable(now))
                    .values(status=SENDING, lease_until=lease_until, leased_by=self.name)
                    .returning(
                        Delivery.id,
                        Delivery.message_id,
                        Delivery.destination,
                        Delivery.event_type,
                        Delivery.payload,
                        Delivery.attempts,
                        Delivery.failures,
                        Delivery.steps_done,
                    )
                    .execution_options(synchronize_session=False)
                ).all()
            rows = [
                Claimed(
                    r.id,
                    r.message_id,
                    r.destination,
                    r.event_type,
                    bytes(r.payload),
                    r.attempts,
                    r.failures,
                    dict(r.steps_done or {}),
                    lease_until,
                )
                for r in claimed
            ]
        rows.sort(key=lambda r: r.id)
        return rows

    def _relaxed_commit(self, conn) -> None:
        """PostgreSQL: the worker's own writes need not wait for the disk. A crash may forget the last few
        claims or results; those rows are then sent again (at least once), and the leads themselves were
        committed durably by the request that stored them."""
        if self._postgres:
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def release(self, rows: list[Claimed]) -> None:
        """Give back rows claimed but not sent (the worker is stopping): they are due again at once."""
        if not rows:
            return
        with Session(self.engine) as session, session.begin():
            session.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_([r.id for r in rows]),
                    Delivery.leased_by == self.name,
                    Delivery.status == SENDING,
                )
                .values(status=PENDING, lease_until=None, leased_by=None)
                .execution_options(synchronize_session=False)
            )

    def _renew(self, row: Claimed) -> None:
        """Before each call: keep the lease well ahead, and stop if another worker took the row."""
        now = utcnow()
        if (row.lease_until - now) > self.lease / 2:
            return
        until = now + self.lease
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                update(Delivery)
                .where(Delivery.id == row.id, Delivery.leased_by == self.name, Delivery.status == SENDING)
                .values(lease_until=until)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount != 1:
            raise LeaseLost(f"delivery {row.id} was claimed by another worker")
        row.lease_until = until

    # -- sending ------------------------------------------------------------------------------------------

    def process(self, row: Claimed, config: DestinationsConfig) -> Decision | None:
        destination = config.get(row.destination)
        adapter_cls = registry.get(destination.type) if destination is not None else None
        if destination is None or adapter_cls is None or not destination.enabled:
            self.release([row])  # configuration changed since the claim; the row waits for it
            return None
        fingerprint = destination.fingerprint()
        # The cache as read when this batch was claimed; changes are merged, never overwritten, at the end.
        cache = Cache(dstate.cache_for(self._caches.get(destination.name), fingerprint))
        rate = destination.rate_limit or adapter_cls.default_rate_limit
        # Spaced a little wider than the limit: network timing noise must never push two calls inside it.
        interval = rate[1] / rate[0] * 1.1 if rate else 0.0

        def before_call() -> None:
            self._renew(row)
            if interval:
                dstate.reserve_slot(self.engine, destination.name, interval, self.max_wait)
                return
            hold = self._holds.get(destination.name)
            wait = (hold - utcnow()).total_seconds() if hold is not None else 0.0
            if wait > 0:
                time.sleep(min(wait, self.max_wait))

        http = Http(
            self.http,
            timeout=destination.timeout,
            before_call=before_call,
            reset_headers=adapter_cls.reset_headers,
        )
        steps = Steps(row.steps_done)
        message = Message(row.id, row.message_id, row.event_type, row.payload, row.attempts + 1)
        started = utcnow()
        clock = time.monotonic()
        error: BaseException | None = None
        try:
            self._renew(row)
            if destination.require_consent and message.data.get("consent") is not True:
                # Queued before the destination asked for consent (or before it was configured): never sent.
                raise Permanent(f"not sent: destination {destination.name!r} takes only leads who consented")
            adapter_cls(destination, http, cache).deliver(message, steps)
        except LeaseLost as err:
            self._record_lost(row, http, started, clock, str(err))
            self.stats.add("lease_lost")
            return None
        except Exception as err:  # every failure, even an adapter bug, becomes a recorded, retried attempt
            error = err
            if not isinstance(err, DeliveryFailure | Deferred):
                log.exception("delivery %s to %s: unexpected error", row.message_id, destination.name)
        duration_ms = int((time.monotonic() - clock) * 1000)
        counted = row.attempts
        if error is not None and counted + 1 >= self.retry.max_attempts:
            # Throttled attempts never count toward the limit; only near it is the log worth reading.
            counted -= self._throttled_attempts(row.id)
        decision = decide(
            error,
            failures=row.failures,
            attempts=counted,
            now=utcnow(),
            settings=self.retry,
            made_calls=bool(http.calls),
            throttled_in_a_row=dstate.throttled_in_a_row(self._caches.get(destination.name)),
        )
        self._record(row, decision, http, steps, cache, started, duration_ms, fingerprint)
        self.stats.add(decision.outcome)
        return decision

    def _throttled_attempts(self, delivery_id: int) -> int:
        with Session(self.engine) as session:
            return session.scalar(
                select(func.count())
                .select_from(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id, DeliveryAttempt.outcome == "throttled")
            )

    def _record(
        self,
        row: Claimed,
        decision: Decision,
        http: Http,
        steps: Steps,
        cache: Cache,
        started: datetime,
        duration_ms: int,
        fingerprint: str,
    ) -> None:
        last = http.calls[-1] if http.calls else None
        made_calls = bool(http.calls)
        values: dict[str, Any] = {
            "b_id": row.id,
            "b_worker": self.name,
            "status": decision.status,
            "attempts": row.attempts + (1 if made_calls else 0),
            "failures": decision.failures,
            "next_attempt_at": decision.next_attempt_at,
            "steps_done": steps.done,
            "delivered_at": utcnow() if decision.outcome == "delivered" else None,
            "last_error": None if decision.outcome == "delivered" else decision.error,
        }
        # The common path is two prepared Core statements in one short transaction.
        with self.engine.begin() as conn, Session(bind=conn) as session:
            self._relaxed_commit(conn)
            if made_calls or decision.outcome != "deferred":
                conn.execute(
                    _INSERT_ATTEMPT,
                    {
                        "delivery_id": row.id,
                        "started_at": started,
                        "duration_ms": duration_ms,
                        "status_code": last.status_code if last else None,
                        "outcome": decision.outcome,
                        "response_excerpt": last.excerpt if last else None,
                        "error": self._attempt_error(decision, http),
                        "worker": self.name,
                    },
                )
            if decision.outcome == "delivered" or decision.error:
                conn.execute(_FINISH, values)
            else:  # keep the last error of an earlier attempt
                conn.execute(_FINISH_KEEP_ERROR, values)
            if cache.changes:
                merged = dstate.merge_cache(session, row.destination, cache.changes, fingerprint)
                if row.destination in self._caches:  # the rest of this batch sees the new ids too
                    self._caches[row.destination].cache = merged
            throttling = None
            if decision.hold_destination_until is not None:
                throttling = dstate.hold_until(session, row.destination, decision.hold_destination_until)
            elif (
                last is not None
                and last.status_code is not None
                and dstate.throttled_in_a_row(self._caches.get(row.destination))
            ):
                # An answer that was not a throttle ends the run; the write happens only after a run.
                throttling = dstate.end_throttling(session, row.destination)
            if throttling is not None and row.destination in self._caches:
                self._caches[row.destination].cache = throttling
            if decision.destination_status is not None:
                dstate.set_status(
                    session, row.destination, decision.destination_status, decision.error, fingerprint
                )
            session.flush()

    @staticmethod
    def _attempt_error(decision: Decision, http: Http) -> str | None:
        steps = ", ".join(f"{c.step} {c.status_code or c.error}" for c in http.calls)
        if decision.outcome == "delivered":
            return f"steps: {steps}" if len(http.calls) > 1 else None
        text = decision.error or ""
        return f"{text}\nsteps: {steps}" if steps else text

    def _record_lost(self, row: Claimed, http: Http, started: datetime, clock: float, reason: str) -> None:
        last = http.calls[-1] if http.calls else None
        with Session(self.engine) as session, session.begin():
            session.execute(
                insert(DeliveryAttempt).values(
                    delivery_id=row.id,
                    started_at=started,
                    duration_ms=int((time.monotonic() - clock) * 1000),
                    status_code=last.status_code if last else None,
                    outcome="lease_lost",
                    response_excerpt=last.excerpt if last else None,
                    error=reason,
                    worker=self.name,
                )
            )


def make_worker(app, **overrides: Any) -> Worker:
    """A worker for a Flask app: its engine, its destinations file (re-read when changed), its settings."""
    from quizapp.delivery import destinations_for

    engine = app.extensions["quizapp.engine"]
    return Worker.from_config(engine, lambda: destinations_for(app), app.config, **overrides)


def start_inprocess_worker(app, **overrides: Any) -> threading.Thread:
    """Run a worker in a daemon thread of this process (the embedded default of ``quizapp serve``).
    ``stop_inprocess_worker(app)`` stops it; the thread also carries the worker as ``thread.worker``."""
    worker = make_worker(app, **overrides)
    thread = threading.Thread(target=worker.run, name="quizapp-delivery", daemon=True)
    thread.worker = worker  # type: ignore[attr-defined]
    app.extensions.setdefault("quizapp.workers", []).append(thread)
    thread.start()
    return thread


def stop_inprocess_worker(app, timeout: float = 10.0) -> None:
    threads = app.extensions.get("quizapp.workers", [])
    for thread in threads:
        thread.worker.stop()
    for thread in threads:
        thread.join(timeout)
    threads.clear()


def run_forever(worker: Worker) -> None:
    """The ``quizapp worker`` process: SIGTERM/SIGINT finish the current send, give back the rest, exit."""

    def _stop(signum, _frame):
        log.info("delivery worker %s: signal %s, stopping", worker.name, signum)
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()


__all__ = [
    "Worker",
    "make_worker",
    "start_inprocess_worker",
    "stop_inprocess_worker",
    "notify",
    "DEAD",
    "DELIVERED",
]
