"""No lead is ever lost: a flaky receiver, a worker killed mid-batch, two workers draining one outbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from quizapp.store.models import Delivery, DeliveryAttempt
from tests.delivery.support import FAST, SECRET, SECRET_ENV, rows, webhook, worker_for
from tests.fakes.receiver import WebhookReceiver, flaky

ROOT = Path(__file__).resolve().parents[2]


def test_flaky_receiver_gets_every_lead_with_identical_bytes(delivery_app, leads_for):
    with WebhookReceiver(flaky(0.3, slow=0.6, seed=11)) as rcv:
        app = delivery_app(
            [webhook(rcv.hook_url, timeout=0.3)],
            DELIVERY_RETRY_SCHEDULE=[0.02] * 20,
            DELIVERY_MAX_ATTEMPTS=50,
        )
        leads_for(app)(40)
        worker_for(app).drain(timeout=90)
        by_message = rcv.by_message()
        accepted = rcv.accepted()

    stored = {r.message_id: r for r in rows(app)}
    assert [r.status for r in stored.values()] == ["delivered"] * 40
    assert set(by_message) == set(stored)
    for message_id, requests in by_message.items():
        assert {r.body for r in requests} == {bytes(stored[message_id].payload)}
        for r in requests:  # each attempt is signed afresh, and each signature verifies
            Webhook(SECRET).verify(r.body, r.headers)
        assert accepted[message_id], message_id
    statuses = Counter("late" if r.late else r.status for requests in by_message.values() for r in requests)
    # The receiver really failed: some 500s, some answers too late; every retry was counted.
    assert statuses[500] > 0 and statuses["late"] > 0
    assert sum(r.attempts for r in stored.values()) == sum(len(v) for v in by_message.values())


def _worker_env(app, destinations_file: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "QUIZAPP_DATABASE_URL": app.config["DATABASE_URL"],
            "QUIZAPP_DESTINATIONS_FILE": destinations_file,
            "QUIZAPP_SECRET_KEY": "test-secret",
            "QUIZAPP_QUIZZES_DIR": app.config["QUIZZES_DIR"],
            "QUIZAPP_DELIVERY_RETRY_SCHEDULE": json.dumps(FAST["DELIVERY_RETRY_SCHEDULE"]),
            "QUIZAPP_DELIVERY_RETRY_JITTER": "0",
            "QUIZAPP_DELIVERY_POLL_SECONDS": "0.05",
            SECRET_ENV: SECRET,
        }
    )
    env.update({f"QUIZAPP_{k}": str(v) for k, v in extra.items()})
    return env


def _start_worker(env: dict, log: Path, name: str) -> subprocess.Popen:
    with log.open("w") as out:  # the child keeps its own copy of the file
        return subprocess.Popen(
            [sys.executable, "-m", "quizapp.delivery", "--name", name],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _count(app, *conditions) -> int:
    from quizapp.store import get_session

    with app.app_context():
        session = get_session()
        n = session.scalar(select(func.count()).select_from(Delivery).where(*conditions))
        session.close()
        return n


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.mark.slow
def test_worker_killed_mid_batch_loses_nothing(delivery_app, leads_for, tmp_path):
    with WebhookReceiver(delay=0.04) as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(40)
        env = _worker_env(
            app, app.config["DESTINATIONS_FILE"], DELIVERY_LEASE_SECONDS=2, DELIVERY_BATCH_SIZE=10
        )
        first = _start_worker(env, tmp_path / "first.log", "first")
        try:
            _wait(lambda: len(rcv.accepted()) >= 8, 30, "the first worker to deliver a few")
            first.send_signal(signal.SIGKILL)
            first.wait(5)
        finally:
            if first.poll() is None:
                first.kill()
        in_flight = _count(app, Delivery.status == "sending")
        delivered_before = _count(app, Delivery.status == "delivered")
        assert in_flight > 0, "the kill should land in the middle of a claimed batch"
        assert delivered_before < 40

        second = _start_worker(env, tmp_path / "second.log", "second")
        try:
            _wait(lambda: _count(app, Delivery.status == "delivered") == 40, 60, "all 40 delivered")
        finally:
            _stop(second)
        accepted = rcv.accepted()

    stored = rows(app)
    assert {r.message_id for r in stored} == {m for m, reqs in accepted.items() if reqs}
    assert all(r.status == "delivered" and r.lease_until is None for r in stored)
    # Rows the killed worker held were taken over once its lease ran out.
    from quizapp.store import get_session

    with app.app_context():
        workers = Counter(get_session().scalars(select(DeliveryAttempt.worker)))
    assert set(workers) == {"first", "second"}
    # At-least-once: only a message the killed worker was sending at that moment may arrive twice.
    assert sum(len(reqs) for reqs in accepted.values()) <= 41


@pytest.mark.slow
def test_two_workers_drain_a_thousand_leads_once_each(delivery_app, leads_for, tmp_path):
    with WebhookReceiver() as rcv:
        app = delivery_app([webhook(rcv.hook_url)])
        leads_for(app)(1000)
        env = _worker_env(app, app.config["DESTINATIONS_FILE"], DELIVERY_BATCH_SIZE=20)
        started = time.monotonic()
        workers = [_start_worker(env, tmp_path / f"w{i}.log", f"w{i}") for i in (1, 2)]
        try:
            _wait(lambda: _count(app, Delivery.status == "delivered") == 1000, 120, "1000 delivered")
        finally:
            for proc in workers:
                _stop(proc)
        elapsed = time.monotonic() - started
        calls = rcv.calls()

    per_message = Counter(r.headers["webhook-id"] for r in calls)
    assert len(per_message) == 1000
    assert set(per_message.values()) == {1}, "a message was sent twice while both workers were healthy"
    from quizapp.store import get_session

    with app.app_context():
        by_worker = Counter(get_session().scalars(select(DeliveryAttempt.worker)))
    assert set(by_worker) == {"w1", "w2"} and sum(by_worker.values()) == 1000
    assert min(by_worker.values()) > 100, by_worker  # both really worked
    print(f"two workers drained 1000 leads in {elapsed:.1f} s: {dict(by_worker)}")
