from decimal import Decimal

from click.testing import CliRunner

from quizapp.cli import cli
from quizapp.services.stats import funnel
from tests.helpers import FUNNEL_PATH
from tests.web.test_flow import start, submit_gate, take_funnel


def test_funnel_counts_each_stage_and_the_drop_off(client, db, monkeypatch, database_url, quizzes_dir):
    submit_gate(client, take_funnel(client))           # a lead
    client.get(take_funnel(client))                    # reached the gate, left
    url = start(client)                                # answered two steps, left
    url = client.post(url, data={"answer": FUNNEL_PATH["channels"]}).location
    client.post(url, data={"answer": FUNNEL_PATH["visitors"]})
    client.get("/q/funnel-leak")                       # looked, never started

    f = funnel(db, "funnel-leak", definition=client.application.extensions["quizapp.catalog"].get("funnel-leak"))
    assert (f.views, f.starts, f.gate_views, f.leads) == (4, 3, 1, 1)
    assert f.steps[1] == 3 and f.steps[2] == 3 and f.steps[3] == 2 and f.steps[10] == 2
    rows = {stage: (count, rate) for stage, count, rate in f.rows()}
    assert rows["starts"] == (3, Decimal("75.0"))
    assert rows["answered step 3: How do most visitors find you?"] == (2, Decimal("66.7"))
    assert rows["answered step 10"] == (2, Decimal("100.0"))  # after the conditional question: no label
    assert "answered step 1: Where do most of your visitors come from?" in rows
    assert rows["opted in"] == (1, Decimal("100.0"))

    db.rollback()  # end this session's transaction: SQLite lets one transaction at a time hold the lock
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", database_url)
    monkeypatch.setenv("QUIZAPP_SECRET_KEY", "test-secret")
    monkeypatch.setenv("QUIZAPP_QUIZZES_DIR", str(quizzes_dir))
    out = CliRunner().invoke(cli, ["stats", "funnel-leak"]).output.splitlines()
    assert out[0] == "funnel-leak"
    assert out[2].split() == ["starts", "3", "75.0%"]
