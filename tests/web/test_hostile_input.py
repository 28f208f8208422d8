"""Visitor input that once caused a 500 or a poisoned cache."""

from sqlalchemy import select

from quizapp.services import versions
from quizapp.store import get_session
from quizapp.store.models import QuizVersion, Response, Submission
from tests.web.test_flow import start, submit_gate, take_funnel


def test_nul_and_control_characters_are_dropped_everywhere(make_app, quizzes_dir, db):
    import json

    path = quizzes_dir / "funnel-leak.json"
    data = json.loads(path.read_text())
    data["questions"].insert(0, {"id": "why", "type": "text", "text": "Why now?", "required": False})
    path.write_text(json.dumps(data))
    client = make_app().test_client(use_cookies=False)
    page = client.get("/q/funnel-leak?utm_source=a%00b&utm_medium=%01")
    assert page.status_code == 200
    r = client.post("/q/funnel-leak/start", data={"utm_source": "a\x00b", "utm_medium": "\x01"})
    assert r.status_code == 303
    r = client.post(r.location, data={"answer": "fix\x00 it\x1b now"})
    assert r.status_code == 303
    response = db.scalars(select(Response)).one()
    assert response.source == {"utm_source": "ab"}
    assert response.answers == {"why": "fix it now"}


def test_a_name_of_control_characters_only_is_no_name(client, db):
    gate = take_funnel(client)
    r = submit_gate(client, gate, name="\x00\x01 ")
    assert r.status_code == 422 and "Please enter your first name." in r.text
    r = submit_gate(client, gate, name="Ann\x00")
    assert r.status_code == 303
    assert db.scalars(select(Submission)).one().first_name == "Ann"


def test_a_version_row_rolled_back_is_not_remembered(app, client):
    catalog = app.extensions["quizapp.catalog"]
    quiz = catalog.get("funnel-leak")
    with app.app_context():
        session = get_session()
        first = versions.version_id(session, quiz, catalog.raw(quiz.content_hash))
        session.rollback()  # the request that inserted it failed
        again = versions.version_id(session, quiz, catalog.raw(quiz.content_hash))
        session.commit()
        assert session.get(QuizVersion, again) is not None
        assert first is not None
    assert start(client).endswith("/step/1")  # and the next visitor starts fine
