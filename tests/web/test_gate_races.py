"""Double clicks and parallel submissions of the gate, from real threads."""

import threading

from sqlalchemy import func, select

from quizapp.store.models import Lead, Submission
from tests.web.test_flow import take_funnel


def post_together(app, url, forms):
    barrier = threading.Barrier(len(forms))
    results = [None] * len(forms)

    def go(i, form):
        client = app.test_client(use_cookies=False)
        barrier.wait()
        results[i] = client.post(url[i] if isinstance(url, list) else url, data=form)

    threads = [threading.Thread(target=go, args=(i, f)) for i, f in enumerate(forms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_double_click_on_the_gate_stores_one_submission(app, client, db):
    gate = take_funnel(client)
    form = {"first_name": "Ann", "email": "ann@example.com", "consent": "y"}
    for _ in range(3):
        results = post_together(app, gate, [form] * 4)
        assert {r.status_code for r in results} == {303}
        assert {r.location for r in results} == {gate.replace("/gate", "/result")}
    assert db.scalar(select(func.count()).select_from(Submission)) == 1
    assert db.scalar(select(func.count()).select_from(Lead)) == 1


def test_same_email_from_two_responses_at_once_is_one_lead(app, client, db):
    gates = [take_funnel(client) for _ in range(4)]
    forms = [{"first_name": f"N{i}", "email": "SAME@example.com ", "consent": "y"} for i in range(4)]
    results = post_together(app, gates, forms)
    assert [r.status_code for r in results] == [303] * 4
    assert db.scalar(select(func.count()).select_from(Lead)) == 1
    assert db.scalar(select(func.count()).select_from(Submission)) == 4
    flags = sorted(s.is_new_lead for s in db.scalars(select(Submission)))
    assert flags == [False, False, False, True]
