"""Delivery benchmark: how many leads per second `quizapp worker` drains to a local webhook receiver, with
one worker process and with four, against a fresh SQLite file (or --database-url).

    .venv/bin/python -m bench.delivery               # 2,000 leads per run, 1 and 4 workers
    .venv/bin/python -m bench.delivery --leads 500 --workers 1,2,4 --database-url postgresql+psycopg://...

Each run stores fresh leads with their outbox rows (as the gate does), starts the workers as separate
processes (`python -m quizapp.delivery --drain`), and times the drain from the first attempt to the last
one recorded in the database (process start-up is shown apart). The receiver is a separate process that
answers 200 at once, so the figure is the worker's own cost: claim, sign, send, record."""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + base64.b64encode(bytes(range(7, 39))).decode()


def _receiver(port_out, count) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with count.get_lock():
                count.value += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


def store_leads(database_url: str, destinations_file: str, n: int, run: str) -> None:
    """N leads with their outbox rows, written the way the gate writes them (one transaction per lead)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from quizapp.definitions.loader import load_file
    from quizapp.delivery.config import load_destinations
    from quizapp.delivery.outbox import enqueue_lead
    from quizapp.store.db import make_engine
    from quizapp.store.models import Lead, QuizVersion, Response, Submission

    definition = load_file(ROOT / "quizzes" / "funnel-leak.json").definition
    config = load_destinations(destinations_file)
    engine = make_engine(database_url)
    with Session(engine) as session:
        version = session.scalar(select(QuizVersion).where(QuizVersion.slug == definition.slug))
        if version is None:
            version = QuizVersion(
                slug=definition.slug, kind="quiz", content_hash=definition.content_hash, definition={}
            )
            session.add(version)
            session.commit()
        for i in range(n):
            lead = Lead(
                email=f"{run}-{i}@example.com",
                email_display=f"{run}-{i}@example.com",
                first_name="Ann",
                tags=["quiz:funnel-leak", "leak:nurture"],
            )
            response = Response(
                quiz_slug=definition.slug,
                quiz_version=version,
                content_hash=version.content_hash,
                answers={"channels": ["seo"]},
                status="complete",
                source={"utm_source": "bench"},
            )
            submission = Submission(
                response=response,
                lead=lead,
                quiz_slug=definition.slug,
                quiz_version=version,
                content_hash=version.content_hash,
                first_name="Ann",
                outcome="nurture",
                score=Decimal(16),
                max_score=Decimal(28),
                percent=Decimal("57.14"),
                tier=None,
                lead_score=None,
                sub_scores={"nurture": {"label": "Nurture", "score": "0", "max": "6", "percent": "0"}},
                tags=["quiz:funnel-leak", "leak:nurture"],
                answers=[],
                values={},
                is_new_lead=True,
                created_at=datetime.now(UTC),
            )
            session.add_all([lead, response, submission])
            session.flush()
            enqueue_lead(session, submission, definition, updated=False, config=config)
            session.commit()
    engine.dispose()


def drain(database_url: str, env: dict, workers: int, n: int, workdir: Path) -> dict:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from quizapp.store.db import make_engine
    from quizapp.store.models import Delivery, DeliveryAttempt

    engine = make_engine(database_url)
    with Session(engine) as session:
        floor = session.scalar(select(func.coalesce(func.max(DeliveryAttempt.id), 0)))
        pending = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
        )
    started = time.monotonic()
    procs = []
    for i in range(workers):
        with (workdir / f"worker{workers}-{i}.log").open("w") as log:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "quizapp.delivery",
                        "--drain",
                        "--timeout",
                        "600",
                        "--name",
                        f"bench-{workers}-{i}",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    for proc in procs:
        proc.wait()
    wall = time.monotonic() - started
    with Session(engine) as session:
        first, last, attempts = session.execute(
            select(
                func.min(DeliveryAttempt.started_at), func.max(DeliveryAttempt.started_at), func.count()
            ).where(DeliveryAttempt.id > floor)
        ).one()
        left = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status != "delivered")
        )
    engine.dispose()
    span = (last - first).total_seconds() if first and last else float("nan")
    return {
        "workers": workers,
        "leads": pending,
        "attempts": attempts,
        "not_delivered": left,
        "drain_s": span,
        "wall_s": wall,
        "leads_per_s": attempts / span if span else float("nan"),
        "failed_workers": sum(1 for p in procs if p.returncode),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=2000, help="leads per run (default 2000)")
    parser.add_argument(
        "--workers", default="1,4", help="worker counts to run, comma-separated (default 1,4)"
    )
    parser.add_argument("--database-url", default=None, help="default: a new temporary SQLite file")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.workers.split(",") if c.strip()]

    workdir = Path(tempfile.mkdtemp(prefix="quizapp-bench-delivery-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'quizapp.db'}"
    from quizapp.store import migrate
    from quizapp.store.db import make_engine

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()

    ctx = multiprocessing.get_context("spawn")
    count = ctx.Value("i", 0)
    parent, child = ctx.Pipe()
    receiver = ctx.Process(target=_receiver, args=(child, count), daemon=True)
    receiver.start()
    port = parent.recv()
    destinations = workdir / "destinations.json"
    destinations.write_text(
        json.dumps(
            {
                "destinations": [
                    {
                        "name": "bench-hook",
                        "type": "webhook",
                        "quizzes": "all",
                        "settings": {
                            "url": f"http://127.0.0.1:{port}/hook",
                            "secret_env": "QUIZAPP_BENCH_HOOK_SECRET",
                        },
                    }
                ]
            }
        )
    )
    env = dict(
        os.environ,
        QUIZAPP_DATABASE_URL=database_url,
        QUIZAPP_DESTINATIONS_FILE=str(destinations),
        QUIZAPP_SECRET_KEY="bench",
        QUIZAPP_BENCH_HOOK_SECRET=SECRET,
    )
    os.environ["QUIZAPP_BENCH_HOOK_SECRET"] = SECRET
    shown_db = database_url.split("@")[-1] if args.database_url else "SQLite (WAL), a new temporary file"
    print(
        f"delivery benchmark: {args.leads} leads per run to a local webhook receiver; database {shown_db}; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    results = []
    try:
        for workers in counts:
            stored = time.monotonic()
            store_leads(database_url, str(destinations), args.leads, f"run{workers}-{int(time.time())}")
            print(
                f"  stored {args.leads} leads with their outbox rows in {time.monotonic() - stored:.1f} s "
                f"({args.leads / (time.monotonic() - stored):.0f} leads/s written)",
                flush=True,
            )
            results.append(drain(database_url, env, workers, args.leads, workdir))
    finally:
        receiver.terminate()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{'workers':>8} {'leads':>7} {'drain s':>8} {'leads/s':>9} {'ms/lead':>8} {'wall s':>7}  note")
    status = 0
    for r in results:
        note = (
            "ok"
            if not r["not_delivered"] and not r["failed_workers"]
            else (f"{r['not_delivered']} not delivered, {r['failed_workers']} worker(s) failed")
        )
        status = status or (1 if note != "ok" else 0)
        print(
            f"{r['workers']:>8} {r['leads']:>7} {r['drain_s']:>8.2f} {r['leads_per_s']:>9.0f} "
            f"{1000 / r['leads_per_s']:>8.2f} {r['wall_s']:>7.2f}  {note}"
        )
    print(
        f"receiver saw {count.value} requests. Compare leads/s with the gate POST row of `python -m bench`: "
        "the worker must drain faster than visitors can become leads."
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
