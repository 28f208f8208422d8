"""Benchmark: quizapp served as in production (`quizapp serve`, gunicorn gthread) next to a bare Flask
page served the same way, in the same run. Prints requests/second and p50/p99 latency per visitor step.

    .venv/bin/python -m bench            # see bench/README.md for the options
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import Connection, HTTPError, PhaseResult, PoolEmpty, Reply, run_phase  # noqa: E402
from bench.servers import (  # noqa: E402
    HOST,
    ROOT,
    Server,
    ServerFailed,
    free_port,
    machine_cpu_seconds,
)

SLUG = "funnel-leak"
# A full path through quizzes/funnel-leak.json: paying for Google Ads shows the 10th question.
ANSWERS: list[list[str]] = [
    ["seo", "google_ads"], ["500_2000"], ["searching"], ["specific"], ["name_email"], ["silence"], ["no"],
    ["2_to_5"], ["offer"], ["cpl"],
]
BARE_ROWS = ("bare Flask page GET", "bare Flask page GET again")
# The rows that stand for "quiz steps" in the target.
TARGET_ROWS = ("step GET", "step POST -> 303")
ROW_NAMES = (BARE_ROWS[0], "landing GET", "start POST -> 303", "step POST -> 303", "step GET",
             "gate POST -> 303", "result GET", BARE_ROWS[1])
TOKEN_RE = re.compile(r"/q/[^/]+/r/([^/]+)/step/1$")
OTHER_BENCHES = ("delivery", "weight")


@dataclass
class Row:
    result: PhaseResult
    server_cpu: float  # CPU seconds of the server processes during the measured window
    others_cpu: float  # CPU seconds of every other process on the machine in that window

    def as_dict(self, bare_rps: float) -> dict:
        r = self.result
        return {"row": r.name, "requests": r.count, "errors": r.errors, "first_error": r.first_error,
                "rps": round(r.rps, 1), "p50_ms": round(r.percentile_ms(50), 2),
                "p99_ms": round(r.percentile_ms(99), 2),
                "server_cpu_ms_per_request": round(self.server_ms_per_request, 3),
                "loadgen_cpus": round(self.loadgen_cpus, 3), "others_cpus": round(self.others_cpus, 3),
                "vs_bare": round(r.rps / bare_rps, 3) if bare_rps else None,
                "stopped_early": r.stopped_early}

    @property
    def server_ms_per_request(self) -> float:
        return self.server_cpu * 1000 / self.result.count if self.result.count else float("nan")

    @property
    def loadgen_cpus(self) -> float:
        return self.result.client_cpu / self.result.elapsed if self.result.elapsed else float("nan")

    @property
    def others_cpus(self) -> float:
        return self.others_cpu / self.result.elapsed if self.result.elapsed else float("nan")


@dataclass
class Visitors:
    """Tokens of the visitors the run has made, by how far they got."""

    started: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # every question answered, not yet through the gate
    gated: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per row (default 10)")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each row (default 1)")
    p.add_argument("--connections", type=int, default=None,
                   help="concurrent keep-alive clients (default: workers x threads)")
    p.add_argument("--workers", type=int, default=2,
                   help="gunicorn worker processes, both servers (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker, both servers (default 4)")
    p.add_argument("--database-url", default=None,
                   help="database for quizapp (default: a new SQLite file in a temporary folder)")
    p.add_argument("--deliver", choices=("auto", "yes", "no"), default="auto",
                   help="run the delivery worker inside the web processes like `quizapp serve` does by "
                        "default (auto: when the installed quizapp has one)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (database, server logs)")
    p.add_argument("--all", action="store_true",
                   help="then run the other benchmarks in bench/ (" + ", ".join(OTHER_BENCHES) + ")")
    args = p.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0:
        p.error("--duration must be positive and --warmup not negative")
    if args.workers < 1 or args.threads < 1 or (args.connections is not None and args.connections < 1):
        p.error("--workers, --threads and --connections must be at least 1")
    args.connections = args.connections or args.workers * args.threads
    return args


def base_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZAPP_")}
    # Each gunicorn gets its own control socket instead of the shared one in the home folder.
    env["XDG_RUNTIME_DIR"] = str(workdir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def copy_quizzes(workdir: Path) -> Path:
    """The shipped quizzes with their destinations emptied: benchmark leads must never leave the machine."""
    target = workdir / "quizzes"
    target.mkdir()
    for f in sorted((ROOT / "quizzes").glob("*.json")):
        text = f.read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except ValueError:
            shutil.copy(f, target / f.name)
            continue
        if isinstance(data, dict) and data.get("destinations"):
            data["destinations"] = []
            text = json.dumps(data, indent=2, ensure_ascii=False)
        (target / f.name).write_text(text, encoding="utf-8")
    return target


def deliver_flag(choice: str) -> tuple[str, str]:
    available = importlib.util.find_spec("quizapp.delivery.worker") is not None
    if choice == "yes" or (choice == "auto" and available):
        return "--deliver", "in-process delivery worker on (the `quizapp serve` default)"
    why = "--deliver no" if choice == "no" else "this quizapp has no delivery worker yet"
    return "--no-deliver", f"in-process delivery worker off ({why})"


# --- the visitor steps: each call sends exactly one request and checks its reply --------------------

def expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise HTTPError(f"{what}: expected {status}, got {reply.status}: {reply.text[:200]!r}")
    return reply


def landing_step(conn: Connection, _client: int) -> None:
    reply = expect(conn.get(f"/q/{SLUG}"), 200, "landing")
    if b'data-quiz-step="landing"' not in reply.text and b"<form" not in reply.text:
        raise HTTPError("landing page without its start form")


def start_step(visitors: Visitors):
    def step(conn: Connection, _client: int) -> None:
        reply = expect(conn.post(f"/q/{SLUG}/start", {"utm_source": "bench"}), 303, "start")
        match = TOKEN_RE.search(reply.location)
        if not match:
            raise HTTPError(f"start redirected to {reply.location!r}, not to step 1")
        visitors.started.append(match.group(1))
    return step


def step_post_step(visitors: Visitors, connections: int):
    """Each client walks its own share of the started visitors through every question, in order; when
    its share is used up it starts again from the first question (a visitor changing their answers)."""
    shares = [visitors.started[i::connections] for i in range(connections)]
    state = [[0, 1] for _ in range(connections)]  # index into the share, question number

    def step(conn: Connection, client: int) -> None:
        share = shares[client]
        if not share:
            raise PoolEmpty
        index, n = state[client]
        token = share[index % len(share)]
        form = [("answer", value) for value in ANSWERS[n - 1]]
        state[client] = [index + 1, 1] if n == len(ANSWERS) else [index, n + 1]
        reply = expect(conn.post(f"/q/{SLUG}/r/{token}/step/{n}", form), 303, f"answer to step {n}")
        expected = "/gate" if n == len(ANSWERS) else f"/step/{n + 1}"
        if not reply.location.endswith(expected):
            raise HTTPError(f"step {n} redirected to {reply.location!r}, expected ...{expected}")
        if n == len(ANSWERS) and index < len(share):
            visitors.answered.append(token)
    return step


def step_get_step(visitors: Visitors, connections: int):
    tokens = list(visitors.answered)
    cursors = [itertools.count(i) for i in range(connections)]

    def step(conn: Connection, client: int) -> None:
        if not tokens:
            raise PoolEmpty
        i = next(cursors[client]) * 7  # spread the clients over visitors and questions
        token, n = tokens[i % len(tokens)], i % len(ANSWERS) + 1
        reply = expect(conn.get(f"/q/{SLUG}/r/{token}/step/{n}"), 200, f"step {n}")
        if f'data-step="{n}"'.encode() not in reply.text:
            raise HTTPError(f"step {n} page does not show question {n}")
    return step


def gate_step(visitors: Visitors, pool: list[str], run_id: str):
    counter = itertools.count()

    def step(conn: Connection, _client: int) -> None:
        try:
            token = pool.pop()
        except IndexError:
            raise PoolEmpty from None
        email = f"visitor-{run_id}-{next(counter)}@example.com"
        form = {"first_name": "Bench", "email": email, "consent": "y"}
        reply = expect(conn.post(f"/q/{SLUG}/r/{token}/gate", form), 303, "gate")
        if not reply.location.endswith(f"/r/{token}/result"):
            raise HTTPError(f"gate redirected to {reply.location!r}, not to the result")
        visitors.gated.append(token)
    return step


def result_step(visitors: Visitors, connections: int):
    tokens = list(visitors.gated)
    cursors = [itertools.count(i) for i in range(connections)]

    def step(conn: Connection, client: int) -> None:
        if not tokens:
            raise PoolEmpty
        token = tokens[next(cursors[client]) * 7 % len(tokens)]
        reply = expect(conn.get(f"/q/{SLUG}/r/{token}/result"), 200, "result")
        if b"Bench, your result" not in reply.text:
            raise HTTPError("result page without the visitor's first name")
    return step


def bare_step(conn: Connection, _client: int) -> None:
    reply = expect(conn.get("/"), 200, "bare page")
    if not reply.text.endswith(b"</html>"):
        raise HTTPError("bare page truncated")


# --- preparing visitors for the gate ---------------------------------------------------------------

def prepare_gate_pool(database_url: str, secret: str, template_token: str, count: int) -> list[str]:
    """Copies of a visitor who answered every question over HTTP, written straight to the database, so
    the gate row measures the gate alone and has a fresh visitor for every request."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from quizapp.services.tokens import make_token, read_token
    from quizapp.store.db import make_engine
    from quizapp.store.models import Response

    public_id = read_token(secret, template_token, max_age=3600)
    engine = make_engine(database_url)
    tokens = []
    try:
        with Session(engine) as session:
            model = session.scalar(select(Response).where(Response.public_id == public_id))
            copies = [Response(quiz_slug=model.quiz_slug, quiz_version_id=model.quiz_version_id,
                               content_hash=model.content_hash, answers=dict(model.answers), step=model.step,
                               source=dict(model.source)) for _ in range(count)]
            session.add_all(copies)
            session.commit()
            tokens = [make_token(secret, r.public_id) for r in copies]
    finally:
        engine.dispose()
    return tokens


def stored_leads(database_url: str, run_id: str) -> dict:
    """What the gate stored for this run's visitors (their emails carry the run's id)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from quizapp.store.db import make_engine
    from quizapp.store.models import Lead, Submission

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            ours = Lead.email.like(f"visitor-{run_id}-%")
            outcomes = dict(session.execute(select(Submission.outcome, func.count()).join(Submission.lead)
                                            .where(ours).group_by(Submission.outcome)).all())
            return {"leads": session.scalar(select(func.count()).select_from(Lead).where(ours)),
                    "submissions": sum(outcomes.values()), "outcomes": outcomes}
    finally:
        engine.dispose()


# --- running -----------------------------------------------------------------------------------------

def measure(server: Server, name: str, step, args) -> Row:
    before = {}

    def opening() -> None:
        before.update(server=server.cpu_seconds(), machine=machine_cpu_seconds(), me=time.process_time())

    result = run_phase(name, HOST, server.port, step, connections=args.connections, duration=args.duration,
                       warmup=args.warmup, on_measure=opening)
    server_cpu = server.cpu_seconds() - before["server"]
    others = (machine_cpu_seconds() - before["machine"]) - server_cpu - (time.process_time() - before["me"])
    row = Row(result, server_cpu, max(0.0, others))
    print(f"  {name:<26} {result.count:>7} requests  {result.rps:>8.1f} req/s"
          + (f"  {result.errors} errors: {result.first_error}" if result.errors else ""), flush=True)
    return row


def bare_server(args, workdir: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(args.workers),
            "--threads", str(args.threads), "--bind", f"{HOST}:{port}", "bench.bare:create_app()"]
    return Server("bare", argv, base_env(workdir), workdir, port)


def quizapp_server(args, workdir: Path, database_url: str, secret: str, deliver: str) -> Server:
    port = free_port()
    env = base_env(workdir)
    env.update({"QUIZAPP_DATABASE_URL": database_url, "QUIZAPP_SECRET_KEY": secret,
                "QUIZAPP_QUIZZES_DIR": str(copy_quizzes(workdir))})
    argv = [sys.executable, "-m", "quizapp.cli", "serve", "--host", HOST, "--port", str(port),
            "--workers", str(args.workers), "--threads", str(args.threads), deliver]
    return Server("quizapp", argv, env, workdir, port)


def run_rows(args, bare: Server, quiz: Server, database_url: str, secret: str) -> tuple[list[Row], dict]:
    """Both servers are up for the whole run (an idle one costs nothing); the bare page is measured
    first and last, so a change in the machine's load during the run shows."""
    visitors = Visitors()
    run_id = secrets.token_hex(4)
    rows = [measure(bare, BARE_ROWS[0], bare_step, args),
            measure(quiz, "landing GET", landing_step, args),
            measure(quiz, "start POST -> 303", start_step(visitors), args)]
    step_post = measure(quiz, "step POST -> 303", step_post_step(visitors, args.connections), args)
    rows += [step_post, measure(quiz, "step GET", step_get_step(visitors, args.connections), args)]
    if not visitors.answered:
        raise ServerFailed("no visitor answered every question; the gate cannot be measured")
    # Enough fresh visitors for the gate to run its whole duration at the step POST rate.
    wanted = math.ceil(step_post.result.rps * (args.duration + args.warmup) * 1.2) + 50
    pool = list(visitors.answered)
    if wanted > len(pool):
        pool += prepare_gate_pool(database_url, secret, visitors.answered[0], wanted - len(pool))
    rows += [measure(quiz, "gate POST -> 303", gate_step(visitors, pool, run_id), args),
             measure(quiz, "result GET", result_step(visitors, args.connections), args),
             measure(bare, BARE_ROWS[1], bare_step, args)]
    stored = stored_leads(database_url, run_id)
    stored["gate_redirects"] = len(visitors.gated)
    return rows, stored


def baseline(rows: list[Row]) -> float:
    """The bare page's rate: the mean of its first and last row."""
    bare = [row.result.rps for row in rows if row.result.name in BARE_ROWS]
    return sum(bare) / len(bare) if bare else 0.0


def print_report(args, rows: list[Row], stored: dict, notes: list[str]) -> None:
    bare_rps = baseline(rows)
    print()
    print(f"quizapp benchmark: {args.workers} workers x {args.threads} threads (gunicorn gthread) for both "
          f"servers, {args.connections} keep-alive connections, {args.duration:g} s measured per row "
          f"after {args.warmup:g} s warm-up")
    for note in notes:
        print(f"  {note}")
    print(f"  the load generator is 1 process ({args.connections} threads) on the same {os.cpu_count()} "
          "CPUs as the servers: 'loadgen CPUs' is its share, 'other CPUs' what the rest of the machine "
          "used meanwhile")
    print()
    header = (f"{'row':<26} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'server CPU':>10} {'loadgen':>8} {'other':>6} {'x bare':>7}")
    print(header)
    print(f"{'':<26} {'':>8} {'':>8} {'':>7} {'':>7} {'ms/req':>10} {'CPUs':>8} {'CPUs':>6} {'':>7}")
    print("-" * len(header))
    for row in rows:
        r = row.result
        ratio = f"{r.rps / bare_rps:.2f}x" if bare_rps else "-"
        print(f"{r.name:<26} {r.count:>8} {r.rps:>8.1f} {r.percentile_ms(50):>7.2f} "
              f"{r.percentile_ms(99):>7.2f} {row.server_ms_per_request:>10.2f} {row.loadgen_cpus:>8.2f} "
              f"{row.others_cpus:>6.2f} {ratio:>7}")
        if r.errors:
            print(f"{'':<26} {r.errors} error(s), first: {r.first_error}")
        if r.stopped_early:
            print(f"{'':<26} {r.stopped_early}")
    print("-" * len(header))
    print(f"x bare: against {bare_rps:.1f} req/s, the mean of the two bare rows")
    busiest = max(row.others_cpus for row in rows)
    if busiest > 0.2:
        print(f"warning: other processes used up to {busiest:.2f} CPUs during a row; the figures are "
              "noisier and lower than on an idle machine")
    ratios = [row.result.rps / bare_rps for row in rows if row.result.name in TARGET_ROWS and bare_rps]
    worst = min(ratios) if ratios else 0.0
    verdict = "met" if ratios and worst >= 0.6 else "NOT met"
    print(f"target: quiz steps ({', '.join(TARGET_ROWS)}) at 0.60x the bare page or better: {verdict} "
          f"(lowest {worst:.2f}x)")
    bare_cpu = [row.server_ms_per_request for row in rows if row.result.name in BARE_ROWS]
    if bare_cpu:
        cost = sum(bare_cpu) / len(bare_cpu)
        shares = ", ".join(f"{row.result.name} {cost / row.server_ms_per_request:.2f}x" for row in rows
                           if row.result.name in TARGET_ROWS and row.server_ms_per_request > 0)
        print(f"by server CPU per request (what a CPU-bound machine would allow; less sensitive to other "
              f"load): {shares}")
    outcomes = ", ".join(f"{k or 'none'}: {v}" for k, v in sorted(stored["outcomes"].items(), key=str))
    print(f"stored: {stored['submissions']} submissions and {stored['leads']} leads for "
          f"{stored['gate_redirects']} gate redirects (outcomes {outcomes or 'none'})")


def run_others() -> int:
    status = 0
    for name in OTHER_BENCHES:
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"\nbench/{name}.py is absent: skipped")
            continue
        print(f"\n== bench/{name}.py ==", flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=ROOT)
        if code:
            print(f"bench/{name}.py exited with status {code}")
            status = status or code
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="quizapp-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'quizapp.db'}"
    secret = secrets.token_urlsafe(32)
    deliver, deliver_note = deliver_flag(args.deliver)
    shown_db = database_url.split("@")[-1] if args.database_url else "SQLite (WAL), a new temporary file"
    notes = [f"database: {shown_db}", deliver_note,
             "gate row: visitors who answered every question (over HTTP in the step POST row, plus copies "
             "of one of them written to the database) each give a new email"]
    print(f"benchmark: {len(ROW_NAMES)} rows of {args.duration + args.warmup:g} s"
          + (f"; temporary files in {workdir}" if args.keep else ""), flush=True)
    started = time.monotonic()
    servers = [bare_server(args, workdir), quizapp_server(args, workdir, database_url, secret, deliver)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_until_ready(args.workers)
        rows, stored = run_rows(args, *servers, database_url, secret)
    except ServerFailed as err:
        print(f"benchmark stopped: {err}", file=sys.stderr)
        return 2
    finally:
        for server in servers:
            server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(args, rows, stored, notes)
    print(f"(whole run {time.monotonic() - started:.0f} s)")
    errors = sum(row.result.errors for row in rows)
    mismatch = stored["submissions"] != stored["gate_redirects"]
    if args.json:
        args.json.write_text(json.dumps({
            "workers": args.workers, "threads": args.threads, "connections": args.connections,
            "duration": args.duration, "warmup": args.warmup, "cpus": os.cpu_count(), "notes": notes,
            "bare_rps": round(baseline(rows), 1), "rows": [row.as_dict(baseline(rows)) for row in rows],
            "stored": stored,
        }, indent=2, default=str) + "\n")
    if mismatch:
        print("error: the stored submissions do not match the gate redirects", file=sys.stderr)
    status = 1 if errors or mismatch else 0
    if args.all:
        status = run_others() or status
    return status


if __name__ == "__main__":
    sys.exit(main())
