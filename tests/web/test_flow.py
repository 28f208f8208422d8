"""The visitor flow, taken by a client that never sends a cookie back."""

import html
import re
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from quizapp.store.models import Event, Lead, Response, Submission
from tests.helpers import FUNNEL_PATH

ORDER = ["channels", "visitors", "intent", "magnet", "form", "sequence", "segments", "close_rate", "thank_you",
         "paid_tracking"]


def start(client, slug="funnel-leak", query=""):
    page = client.get(f"/q/{slug}{query}")
    assert page.status_code == 200
    hidden = {k: html.unescape(v) for k, v in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    r = client.post(f"/q/{slug}/start", data=hidden)
    assert r.status_code == 303
    return r.location


def take_funnel(client, path=FUNNEL_PATH, query=""):
    url = start(client, query=query)
    for qid in ORDER:
        if qid not in path:
            continue
        r = client.post(url, data={"answer": path[qid]})
        assert r.status_code == 303, (qid, r.text)
        url = r.location
    assert url.endswith("/gate")
    return url


def submit_gate(client, gate_url, name="Ann", email="ann@example.com", consent="y"):
    data = {"first_name": name, "email": email}
    if consent:
        data["consent"] = consent
    return client.post(gate_url, data=data)


def test_funnel_leak_without_cookies_stores_the_lead(client, db):
    gate = take_funnel(client, query="?utm_source=newsletter&utm_campaign=spring")
    r = submit_gate(client, gate, name="  Ann  ", email=" Ann.One@Example.COM ")
    assert r.status_code == 303 and r.location.endswith("/result")
    result = client.get(r.location)
    assert result.status_code == 200
    assert "Your leak is nurture" in result.text
    assert "Ann, nurture scored <strong>0%</strong>" in result.text

    lead = db.scalars(select(Lead)).one()
    assert (lead.email, lead.email_display, lead.first_name) == ("ann.one@example.com", "Ann.One@example.com", "Ann")
    assert lead.tags == ["quiz:funnel-leak", "channel:owned", "channel:paid", "leak:nurture"]
    sub = db.scalars(select(Submission)).one()
    assert (sub.outcome, sub.score, sub.max_score, sub.percent) == ("nurture", Decimal(16), Decimal(28),
                                                                    Decimal("57.14"))
    assert sub.sub_scores["nurture"] == {"label": "Nurture", "score": "0", "max": "6", "percent": "0"}
    assert sub.sub_scores["convert"]["percent"] == "66.67"
    assert sub.tags == lead.tags
    assert sub.consent_text.startswith("Yes, email me the plan")
    assert sub.consent_at is not None and sub.consent_at <= datetime.now(UTC)
    assert sub.answers[0] == {"question": "channels", "text": "Where do most of your visitors come from?",
                              "type": "multiple", "value": ["seo", "google_ads"],
                              "label": "Search and my blog (SEO), Google Search ads"}
    assert len(sub.answers) == 10
    response = db.scalars(select(Response)).one()
    assert response.source == {"utm_source": "newsletter", "utm_campaign": "spring"}
    assert response.status == "complete"
    assert sub.content_hash == response.content_hash == response.quiz_version.content_hash


def test_no_response_ever_sets_a_cookie(client):
    gate = take_funnel(client)
    r = submit_gate(client, gate)
    for resp in (r, client.get(r.location), client.get("/q/funnel-leak")):
        assert "Set-Cookie" not in resp.headers


def test_same_person_in_any_case_is_one_lead_and_tags_accumulate(client, db):
    submit_gate(client, take_funnel(client), email="Lead.One@Example.COM ")
    other = dict(FUNNEL_PATH, channels=["referrals"], sequence=["sequence"], segments=["tags"])
    other.pop("paid_tracking")
    r = submit_gate(client, take_funnel(client, other), name="Lea", email="lead.one@example.com")
    assert r.status_code == 303
    lead = db.scalars(select(Lead)).one()
    assert lead.email == "lead.one@example.com"
    assert lead.first_name == "Lea"
    assert lead.tags == ["quiz:funnel-leak", "channel:owned", "channel:paid", "leak:nurture", "channel:earned",
                         "leak:traffic"]
    subs = db.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(s.outcome, s.is_new_lead) for s in subs] == [("nurture", True), ("traffic", False)]


def test_refresh_or_double_submit_stores_one_lead_and_lands_on_the_same_result(client, db):
    gate = take_funnel(client)
    first = submit_gate(client, gate)
    second = submit_gate(client, gate, name="Someone Else", email="else@example.com")
    assert first.location == second.location
    assert db.scalar(select(func.count()).select_from(Submission)) == 1
    assert db.scalar(select(func.count()).select_from(Lead)) == 1
    assert client.get(gate).location == first.location  # the gate now forwards to the result


def test_bad_email_shows_the_form_again_with_what_was_typed(client, db):
    gate = take_funnel(client)
    r = submit_gate(client, gate, name="Ann", email="ann@@example", consent="")
    assert r.status_code == 422
    assert 'value="ann@@example"' in r.text and 'value="Ann"' in r.text
    errors = re.findall(r'role="alert">([^<]*)<', r.text)
    assert errors[0].startswith("The email address is not valid") or "@" in errors[0]
    assert errors[1] == "Please tick the box to continue."
    assert db.scalar(select(func.count()).select_from(Lead)) == 0


def test_missing_required_answer_and_foreign_option(client):
    url = start(client)
    r = client.post(url, data={})
    assert r.status_code == 422
    assert "Please choose at least one answer." in r.text
    r = client.post(url, data={"answer": ["seo", "hacked"]})
    assert r.status_code == 422
    assert "Please choose among the answers shown." in r.text
    r = client.post(url, data={"answer": ["seo", "email", "press", "referrals"]})
    assert "Please choose at most 3." in r.text
    assert re.search(r'value="seo" checked', r.text)  # what was ticked stays ticked


def test_back_link_shows_the_stored_answer(client):
    url = start(client)
    step2 = client.post(url, data={"answer": ["seo", "press"]}).location
    page = client.get(step2)
    back = re.search(r'<a class="back" href="([^"]+)"', page.text).group(1)
    assert back.endswith("/step/1")
    again = client.get(back)
    assert 'value="seo" checked' in again.text and 'value="press" checked' in again.text


def test_steps_cannot_be_skipped(client):
    url = start(client)
    r = client.get(url.replace("/step/1", "/step/5"))
    assert r.status_code == 303 and r.location.endswith("/step/1")
    gate = url.replace("/step/1", "/gate")
    assert client.get(gate).location.endswith("/step/1")
    assert client.get(gate.replace("/gate", "/result")).location.endswith("/gate")


def test_conditional_question_is_skipped_without_a_paid_channel(client):
    path = dict(FUNNEL_PATH, channels=["seo"])
    path.pop("paid_tracking")
    gate = take_funnel(client, path)
    assert gate.endswith("/gate")


def test_tampered_token_gets_a_friendly_restart_page(client):
    url = start(client)
    token = url.split("/r/")[1].split("/")[0]
    tampered = url.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))
    r = client.get(tampered)
    assert r.status_code == 400
    assert "We couldn" in r.text and 'href="/q/funnel-leak"' in r.text
    r = client.post(tampered, data={"answer": "x"})
    assert r.status_code == 400
    r = client.get("/q/funnel-leak/r/not-a-token/result")
    assert r.status_code == 400


def test_token_of_another_quiz_is_refused(client):
    url = start(client)
    r = client.get(url.replace("/q/funnel-leak/", "/q/lead-magnet-readiness/"))
    assert r.status_code == 400


def test_expired_token(make_app):
    app = make_app(RESPONSE_TOKEN_MAX_AGE=-1)
    client = app.test_client(use_cookies=False)
    url = start(client)
    r = client.get(url)
    assert r.status_code == 410
    assert "This link has expired" in r.text


def test_unknown_quiz_is_a_404_page(client):
    r = client.get("/q/no-such-quiz")
    assert r.status_code == 404
    assert "We can't find that page" in r.text
    assert client.post("/q/no-such-quiz/start").status_code == 404


def test_htmx_gets_the_partial_and_history_restore_the_full_page(client):
    url = start(client)
    full = client.get(url)
    partial = client.get(url, headers={"HX-Request": "true"})
    restore = client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert full.text.startswith("<!doctype html>") and "<html" in full.text
    assert "<html" not in partial.text and 'data-quiz-step="question"' in partial.text
    assert partial.headers["HX-Push-Url"] == url
    assert "<html" in restore.text
    for r in (full, partial, restore):
        assert "HX-Request" in r.headers["Vary"]


def test_funnel_events_are_recorded(client, db):
    gate = take_funnel(client)
    client.get(gate)
    result = submit_gate(client, gate).location
    client.get(result)
    cta = client.get(result.replace("/result", "/go"))
    assert cta.status_code == 303 and cta.location == "https://example.com/offers/nurture-template"
    kinds = db.execute(select(Event.kind, func.count()).group_by(Event.kind)).all()
    assert dict(kinds) == {"view": 1, "start": 1, "answer": 10, "gate_view": 1, "lead": 1, "result_view": 1,
                           "cta_click": 1}


def test_visitor_text_is_escaped_and_creator_markdown_sanitised(client):
    gate = take_funnel(client)
    r = submit_gate(client, gate, name="<script>alert(1)</script>**Bo**")
    page = client.get(r.location).text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;**Bo**, nurture scored" in page


def test_a_response_keeps_the_version_it_started_on(client, quizzes_dir, db):
    url = start(client)
    path = quizzes_dir / "funnel-leak.json"
    path.write_text(path.read_text().replace("Your leak is at the top: traffic", "Traffic (edited)")
                    .replace("Your leak is nurture: leads go cold after they opt in", "Nurture (edited)"))
    for qid in ORDER:
        url = client.post(url, data={"answer": FUNNEL_PATH[qid]}).location
    result = client.get(submit_gate(client, url).location)
    assert "Your leak is nurture: leads go cold" in result.text
    new = take_funnel(client)
    assert "Nurture (edited)" in client.get(submit_gate(client, new, email="b@example.com").location).text
    versions = {s.content_hash for s in db.scalars(select(Submission))}
    assert len(versions) == 2


def test_a_file_broken_mid_response_loses_nothing(client, quizzes_dir, db):
    url = start(client)
    (quizzes_dir / "new.json").write_text('{"kind": "quiz"}')
    assert client.get("/q/new").status_code == 404  # never loaded: not served
    (quizzes_dir / "funnel-leak.json").write_text('{"kind": "quiz", "slug": ')
    assert client.get("/q/funnel-leak").status_code == 200  # the last good version stays live
    assert client.get("/q/lead-magnet-readiness").status_code == 200  # the others still are
    for qid in ORDER:
        url = client.post(url, data={"answer": FUNNEL_PATH[qid]}).location
    result = client.get(submit_gate(client, url).location)
    assert "Your leak is nurture" in result.text
    assert db.scalars(select(Submission)).one().outcome == "nurture"


def test_server_error_page(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    r = app.test_client().get("/boom")
    assert r.status_code == 500
    assert "Something went wrong on our side" in r.text


def test_a_stale_form_never_answers_another_question(client, db):
    url = start(client)
    step2 = client.post(url, data={"answer": ["seo", "google_ads"], "question": "channels"}).location
    # The paid question (step 10) exists only with a paid channel; another tab drops that channel.
    for qid in ORDER[1:9]:
        step2 = client.post(step2, data={"answer": FUNNEL_PATH[qid], "question": qid}).location
    assert step2.endswith("/step/10")
    client.post(url, data={"answer": ["seo"], "question": "channels"})  # other tab: no paid channel now
    r = client.post(step2, data={"answer": ["cpc"], "question": "paid_tracking"})
    assert r.status_code == 303 and r.location.endswith("/step/9")  # step 10 no longer exists
    response = db.scalars(select(Response)).one()
    db.refresh(response)
    assert "paid_tracking" not in response.answers


def test_an_answer_for_the_question_that_moved_is_refused(client, db):
    url = start(client)
    url = client.post(url, data={"answer": ["seo"], "question": "channels"}).location  # step 2: visitors
    r = client.post(url, data={"answer": ["searching"], "question": "intent"})  # form of another question
    assert r.status_code == 422
    assert "An earlier answer changed" in r.text
    assert 'name="question" value="visitors"' in r.text
    response = db.scalars(select(Response)).one()
    db.refresh(response)
    assert response.answers == {"channels": ["seo"]}


def test_too_much_text_gets_a_friendly_page(client):
    url = start(client)
    r = client.post(url, data={"answer": "x" * 300_000})
    assert r.status_code == 413
    assert "That was more text than we can take" in r.text
