"""The benchmark runs end to end with tiny numbers: both servers start, every row is measured without a
failed request, and every gate redirect stored exactly one lead with the funnel-leak outcome."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = ["bare Flask page GET", "landing GET", "start POST -> 303", "step POST -> 303", "step GET",
        "gate POST -> 303", "result GET", "bare Flask page GET again"]


@pytest.mark.slow
def test_benchmark_runs_and_reports_every_row(tmp_path, database_url):
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "bench", "--duration", "0.6", "--warmup", "0.2", "--workers", "1",
            "--threads", "2", "--connections", "2", "--deliver", "no", "--json", str(out)]
    if not database_url.startswith("sqlite"):
        argv += ["--database-url", database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZAPP_")}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr

    figures = json.loads(out.read_text())
    rows = {row["row"]: row for row in figures["rows"]}
    assert list(rows) == ROWS
    for row in rows.values():
        assert row["errors"] == 0, row
        assert row["requests"] > 0 and row["rps"] > 0, row
        assert 0 < row["p50_ms"] <= row["p99_ms"], row
        assert row["server_cpu_ms_per_request"] > 0, row
    bare = (rows[ROWS[0]]["rps"] + rows[ROWS[-1]]["rps"]) / 2
    assert figures["bare_rps"] == pytest.approx(bare, abs=0.1)
    assert rows["step GET"]["vs_bare"] == pytest.approx(rows["step GET"]["rps"] / bare, abs=0.001)

    stored = figures["stored"]
    assert stored["submissions"] == stored["leads"] == stored["gate_redirects"] > 0
    assert stored["outcomes"] == {"nurture": stored["submissions"]}

    report = done.stdout
    assert "x bare" in report and "the load generator is 1 process (2 threads)" in report
    assert "target: quiz steps (step GET, step POST -> 303) at 0.60x the bare page or better:" in report
    assert f"stored: {stored['submissions']} submissions and {stored['leads']} leads" in report
