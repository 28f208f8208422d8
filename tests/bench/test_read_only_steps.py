"""The step page only reads: it must not queue behind (or hold) SQLite's write lock, and a request that
declared itself read-only must not be able to write."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from quizapp.store import get_session, read_only
from quizapp.store.db import ReadOnlyTransaction
from quizapp.store.models import Event, Response

FIRST_ANSWERS = {"answer": ["seo", "google_ads"]}


def _start(client) -> str:
    reply = client.post("/q/funnel-leak/start")
    assert reply.status_code == 303
    return reply.headers["Location"].rsplit("/step/", 1)[0]


def test_step_page_is_served_while_another_writer_holds_the_lock(client, database_url):
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's single write lock")
    base = _start(client)
    assert client.post(f"{base}/step/1", data=FIRST_ANSWERS).headers["Location"].endswith("/step/2")

    writer = sqlite3.connect(url.database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    replies = []
    reader = threading.Thread(target=lambda: replies.append(client.get(f"{base}/step/2")))
    try:
        reader.start()
        reader.join(timeout=5)
        served_while_locked = not reader.is_alive()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join()
    assert served_while_locked
    page = replies[0].get_data(as_text=True)
    assert replies[0].status_code == 200
    assert 'data-step="2"' in page and "Question 2 of 10" in page


def test_step_page_reads_answers_a_post_just_wrote(client):
    base = _start(client)
    client.post(f"{base}/step/1", data=FIRST_ANSWERS)
    page = client.get(f"{base}/step/1").get_data(as_text=True)
    assert 'value="seo" checked' in page and 'value="google_ads" checked' in page
    assert 'value="email" checked' not in page


def test_a_read_only_request_refuses_to_write(app, client):
    _start(client)
    with app.test_request_context():
        read_only()
        session = get_session()
        assert session.query(Response).count() == 1
        session.add(Event(quiz_slug="funnel-leak", kind="view"))
        with pytest.raises(ReadOnlyTransaction):
            session.flush()
        session.rollback()
    with app.test_request_context():
        assert get_session().query(Event).filter_by(kind="view").count() == 0


def test_a_step_page_costs_one_query(app, client):
    base = _start(client)
    client.post(f"{base}/step/1", data=FIRST_ANSWERS)
    statements = []
    engine = app.extensions["quizapp.engine"]

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.strip().upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(f"{base}/step/2").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # The response and its submission (if any) in one SELECT; no write lock taken on SQLite.
    assert [s.split()[0] for s in statements if not s.startswith("BEGIN")] == ["SELECT"]
    assert "BEGIN IMMEDIATE" not in statements
