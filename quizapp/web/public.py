"""The visitor flow: landing, one question per screen, the gate, the result.

Every step is a plain form POST answered by a 303 redirect, so it works with JavaScript off; htmx
upgrades the same requests to partial swaps. Visitors get no cookies: the signed token in the URL
addresses their server-side Response row."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from quizapp.engine.flow import first_open_step, visible_questions
from quizapp.engine.scoring import plain
from quizapp.engine.text import render_markdown
from quizapp.services import events, leads, responses
from quizapp.services.tokens import TokenError, make_token, read_token
from quizapp.store import get_session, read_only
from quizapp.web.forms import GateForm
from quizapp.web.htmx import render

bp = Blueprint("public", __name__)

# Kinds other than "quiz" register their views here: kind -> {"landing": fn, "flow": fn} and optionally
# "start" (replaces the start POST) and "result" (renders the result after the shared checks).
KIND_VIEWS: dict[str, dict[str, Callable]] = {}


class TokenProblem(Exception):
    def __init__(self, slug: str, reason: str):
        self.slug, self.reason = slug, reason


def catalog():
    return current_app.extensions["quizapp.catalog"]


def definition_or_404(slug: str):
    definition = catalog().get(slug)
    if definition is None:
        abort(404)
    return definition


def token_for(response) -> str:
    return make_token(current_app.config["SECRET_KEY"], response.public_id)


def load_response(slug: str, token: str):
    """The response behind a token, with the definition version it started on."""
    try:
        public_id = read_token(current_app.config["SECRET_KEY"], token,
                               current_app.config["RESPONSE_TOKEN_MAX_AGE"])
    except TokenError as err:
        raise TokenProblem(slug, err.reason) from None
    session = get_session()
    response = responses.find(session, public_id)
    if response is None or response.quiz_slug != slug:
        raise TokenProblem(slug, "invalid")
    definition = catalog().version(response.content_hash, None)
    if definition is None:
        definition = catalog().version(response.content_hash, response.quiz_version.definition)
    if definition is None:
        raise TokenProblem(slug, "gone")
    return response, definition


@bp.app_errorhandler(TokenProblem)
def _token_problem(err: TokenProblem):
    definition = catalog().get(err.slug)
    status = 410 if err.reason in ("expired", "gone") else 400
    return render("errors/token.html", "errors/_token.html", status=status, reason=err.reason,
                  definition=definition, slug=err.slug, embed=request.args.get("embed") == "1")


def step_url(slug: str, response, n: int) -> str:
    return url_for("public.step", slug=slug, token=token_for(response), n=n)


def _source_from_request() -> dict:
    source = {k: v for k, v in request.args.items()}
    if "referrer" not in source and request.referrer:
        source["referrer"] = request.referrer
    return source


@bp.get("/")
def index():
    return render_template("index.html", definitions=catalog().all())


@bp.get("/q/<slug>")
def landing(slug: str):
    definition = definition_or_404(slug)
    session = get_session()
    events.record(session, slug, "view")
    session.commit()
    source = responses.clean_source(_source_from_request())
    if definition.kind in KIND_VIEWS:
        return KIND_VIEWS[definition.kind]["landing"](definition, source)
    return render("quiz/landing.html", "quiz/_landing.html", quiz=definition, source=source,
                  embed=source.get("embed") == "1")


@bp.post("/q/<slug>/start")
def start(slug: str):
    definition = definition_or_404(slug)
    if "start" in KIND_VIEWS.get(definition.kind, {}):
        return KIND_VIEWS[definition.kind]["start"](definition)
    session = get_session()
    response = responses.start(session, definition, catalog().raw(definition.content_hash), request.form)
    session.commit()
    return redirect(step_url(slug, response, 1), 303)


def _furthest(quiz, response) -> tuple[int, int | None]:
    shown = visible_questions(quiz, response.answers)
    return len(shown), first_open_step(quiz, response.answers)


@bp.route("/q/<slug>/r/<token>/step/<int:n>", methods=["GET", "POST"])
def step(slug: str, token: str, n: int):
    current = catalog().get(slug)
    if request.method == "GET" and current is not None and current.kind == "quiz":
        read_only()  # showing a question only reads: no queueing behind SQLite's writers
    response, quiz = load_response(slug, token)
    if quiz.kind in KIND_VIEWS:
        return KIND_VIEWS[quiz.kind]["flow"](quiz, response, token, n)
    if response.submission is not None:
        return redirect(url_for("public.result", slug=slug, token=token), 303)
    count, first_open = _furthest(quiz, response)
    reachable = first_open if first_open is not None else count
    if n < 1 or n > reachable:
        return redirect(url_for("public.step", slug=slug, token=token, n=min(max(n, 1), reachable)), 303)
    question = visible_questions(quiz, response.answers)[n - 1]
    error, typed = None, None
    if request.method == "POST":
        typed = request.form.getlist("answer")
        session = get_session()
        shown_id = request.form.get("question")
        result = responses.answer(session, response, quiz, n, typed, shown_id)
        if shown_id is not None and shown_id != question.id:
            typed = None  # those values answered another question
        if result.ok:
            session.commit()
            if result.next_step is None:
                return redirect(url_for("public.gate", slug=slug, token=token), 303)
            return redirect(url_for("public.step", slug=slug, token=token, n=result.next_step), 303)
        session.rollback()
        error = result.error
    value = typed if typed is not None else response.answers.get(question.id)
    return render("quiz/step.html", "quiz/_step.html", status=422 if error else 200, quiz=quiz,
                  question=question, n=n, count=count, token=token, value=value, error=error,
                  embed=response.source.get("embed") == "1")


def store_lead(session, response, definition, form: GateForm) -> None:
    """Capture the lead from a valid gate form and commit. A double click that lost the race finds the
    other request's lead already stored, and goes on to the same result."""
    try:
        leads.capture(session, response, definition, first_name=form.first_name.data, email=form.email.data,
                      consent=bool(form.consent.data))
        session.commit()
    except IntegrityError:
        session.rollback()


@bp.route("/q/<slug>/r/<token>/gate", methods=["GET", "POST"])
def gate(slug: str, token: str):
    response, definition = load_response(slug, token)
    if response.submission is not None:
        return redirect(url_for("public.result", slug=slug, token=token), 303)
    if definition.kind == "quiz":
        first_open = first_open_step(definition, response.answers)
        if first_open is not None:
            return redirect(url_for("public.step", slug=slug, token=token, n=first_open), 303)
    consent = definition.gate.consent
    form = GateForm(consent_required=bool(consent and consent.required), formdata=request.form or None)
    session = get_session()
    if request.method == "POST" and form.validate():
        store_lead(session, response, definition, form)
        return redirect(url_for("public.result", slug=slug, token=token), 303)
    if request.method == "GET":
        events.record(session, definition.slug, "gate_view", response.id)
        session.commit()
    status = 422 if request.method == "POST" else 200
    back = (len(visible_questions(definition, response.answers)) if definition.kind == "quiz" else None)
    return render("quiz/gate.html", "quiz/_gate.html", status=status, quiz=definition, form=form,
                  token=token, back=back, embed=response.source.get("embed") == "1")


def display_number(value: Decimal | None, places: int = 0) -> str:
    if value is None:
        return ""
    q = Decimal(1).scaleb(-places)
    return plain(Decimal(value).quantize(q, rounding=ROUND_HALF_UP))


def result_variables(definition, submission) -> dict:
    outcome = definition.outcome(submission.outcome)
    variables = {
        "first_name": submission.first_name, "score": display_number(submission.score, 2),
        "max_score": display_number(submission.max_score, 2), "percent": display_number(submission.percent),
        "outcome": outcome.title if outcome else "", "tier": submission.tier or "",
        "lead_score": display_number(submission.lead_score, 2), "quiz": definition.title,
    }
    for cat, sub in (submission.sub_scores or {}).items():
        variables[f"score.{cat}"] = sub.get("score")
        variables[f"percent.{cat}"] = display_number(Decimal(sub.get("percent", "0")))
    for item in submission.answers or []:
        variables[f"answer.{item['question']}"] = item.get("label")
    for name, value in (submission.values or {}).items():
        if isinstance(value, dict) and "display" in value:
            variables[name] = value["display"]
    return variables


@bp.get("/q/<slug>/r/<token>/result")
def result(slug: str, token: str):
    response, definition = load_response(slug, token)
    submission = response.submission
    if submission is None:
        return redirect(url_for("public.gate", slug=slug, token=token), 303)
    session = get_session()
    events.record(session, slug, "result_view", response.id)
    session.commit()
    if "result" in KIND_VIEWS.get(definition.kind, {}):
        return KIND_VIEWS[definition.kind]["result"](definition, response, submission, token)
    outcome = definition.outcome(submission.outcome)
    variables = result_variables(definition, submission)
    body = render_markdown(outcome.body, variables) if outcome and outcome.body else ""
    template = "quiz/result.html" if definition.kind == "quiz" else f"{definition.kind}/result.html"
    partial = "quiz/_result.html" if definition.kind == "quiz" else f"{definition.kind}/_result.html"
    return render(template, partial, quiz=definition, submission=submission, outcome=outcome, body=body,
                  token=token, display_number=display_number, Decimal=Decimal,
                  embed=response.source.get("embed") == "1")


@bp.get("/q/<slug>/r/<token>/go")
def cta(slug: str, token: str):
    """Counts the click on the result's call to action, then sends the visitor to the offer."""
    response, definition = load_response(slug, token)
    submission = response.submission
    outcome = definition.outcome(submission.outcome) if submission else None
    if outcome is None or outcome.cta is None:
        return redirect(url_for("public.landing", slug=slug), 303)
    session = get_session()
    events.record(session, slug, "cta_click", response.id)
    session.commit()
    return redirect(outcome.cta.url, 303)


@bp.app_errorhandler(404)
def _not_found(_err):
    return render_template("errors/404.html", embed=request.args.get("embed") == "1"), 404


@bp.app_errorhandler(413)
def _too_large(_err):
    return render_template("errors/413.html", embed=request.args.get("embed") == "1"), 413


@bp.app_errorhandler(500)
def _server_error(_err):
    get_session().rollback()
    return render_template("errors/500.html", embed=request.args.get("embed") == "1"), 500
