"""Calculator pages. They share the quiz flow's landing URL, response tokens, gate and result URL.

- ``GET /q/<slug>``: the form with its defaults and the free result.
- ``POST /q/<slug>/preview``: the live result (htmx, debounced as the visitor types). Stateless.
- ``POST /q/<slug>/start``: the Calculate button. Valid inputs create a Response and redirect to
  ``/q/<slug>/r/<token>/calculate``; invalid ones show the form again with the messages.
- ``GET/POST /q/<slug>/r/<token>/calculate``: the visitor's figures, editable, with the gate to unlock
  the full breakdown. ``GET /q/<slug>/r/<token>/result`` (shared) then shows everything.
- ``GET /q/<slug>/r/<token>/offer``: counts the click on the call to action and redirects to it.

Every path parses the submitted text with ``services.calculators.compute``, so the live result, the
button and the stored lead agree to the digit.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for

from quizapp.definitions.calculator import Calculator
from quizapp.services import calculators, events
from quizapp.store import get_session
from quizapp.web import public
from quizapp.web.forms import GateForm
from quizapp.web.htmx import wants_partial

bp = Blueprint("calculator", __name__)


def _page(calc: Calculator, computed: calculators.Computed, *, action: str, status: int = 200,
          token: str | None = None, source: dict | None = None, embed: bool = False,
          gate_form: GateForm | None = None):
    """The calculator screen: a full page, or its partial for an htmx swap (same URL, Vary says so)."""
    context = {
        "quiz": calc, "calc": calc, "computed": computed, "outcome": computed.outcome, "action": action,
        "token": token, "source": source or {}, "embed": embed, "gated": False,
        "preview_url": url_for("calculator.preview", slug=calc.slug),
        "fields": calculators.fields(calc, computed),
        "advice": calculators.advice_blocks(calc, computed.outcome, gated=False),
        "gate_form": (gate_form or _gate_form(calc)) if token else None,
    }
    partial = wants_partial()
    resp = make_response(render_template("calculator/_page.html" if partial else "calculator/page.html",
                                         **context), status)
    if partial and request.method == "GET":
        # The address bar follows the screen after a redirect; a POST answered with errors keeps the
        # address it had (a start URL in the history would not reload).
        resp.headers["HX-Push-Url"] = request.full_path.rstrip("?")
    resp.vary.add("HX-Request")
    return resp


def _gate_form(calc: Calculator, formdata=None) -> GateForm:
    consent = calc.gate.consent
    return GateForm(consent_required=bool(consent and consent.required), formdata=formdata)


def landing(calc: Calculator, source: dict):
    computed = calculators.initial(calc, request.args)
    return _page(calc, computed, action=url_for("public.start", slug=calc.slug), source=source,
                 embed=source.get("embed") == "1")


def start(calc: Calculator):
    computed = calculators.compute(calc, request.form)
    source = {k: v for k, v in request.form.items() if k not in {i.id for i in calc.inputs}}
    if not computed.ok:
        from quizapp.services.responses import clean_source

        kept = clean_source(source)
        return _page(calc, computed, action=url_for("public.start", slug=calc.slug), status=422,
                     source=kept, embed=kept.get("embed") == "1")
    session = get_session()
    response = calculators.start(session, calc, public.catalog().raw(calc.content_hash), computed, source)
    session.commit()
    token = public.token_for(response)
    return redirect(url_for("calculator.calculate", slug=calc.slug, token=token), 303)


def flow(calc: Calculator, response, token: str, n: int):
    """Question steps don't exist for a calculator: send the visitor to their figures."""
    return redirect(url_for("calculator.calculate", slug=calc.slug, token=token), 303)


@bp.post("/q/<slug>/preview")
def preview(slug: str):
    calc = public.definition_or_404(slug)
    if calc.kind != "calculator":
        abort(404)
    computed = calculators.compute(calc, request.form)
    if not wants_partial():
        # Not sent by htmx: the same figures as a page (no response is created).
        return _page(calc, computed, action=url_for("public.start", slug=slug),
                     status=422 if not computed.ok else 200)
    context = {"calc": calc, "computed": computed, "outcome": computed.outcome, "gated": False, "oob": True,
               "fields": calculators.fields(calc, computed),
               "advice": calculators.advice_blocks(calc, computed.outcome, gated=False)}
    resp = make_response(render_template("calculator/_live.html", **context), 200)
    resp.vary.add("HX-Request")
    return resp


@bp.route("/q/<slug>/r/<token>/calculate", methods=["GET", "POST"])
def calculate(slug: str, token: str):
    """The visitor's figures with the gate below them. One form carries the inputs and the gate's fields,
    so the breakdown unlocked is always for the numbers on screen. Two buttons: recalculate, or unlock."""
    response, calc = public.load_response(slug, token)
    if calc.kind != "calculator":
        return redirect(url_for("public.step", slug=slug, token=token, n=1), 303)
    if response.submission is not None:
        return redirect(url_for("public.result", slug=slug, token=token), 303)
    session = get_session()
    action = url_for("calculator.calculate", slug=slug, token=token)
    embed = response.source.get("embed") == "1"
    if request.method == "GET":
        if response.step < 2:
            # The gate is on this screen: count its first showing once per response.
            events.record(session, slug, "gate_view", response.id)
            response.step = 2
            session.commit()
        return _page(calc, calculators.from_response(calc, response), action=action, token=token, embed=embed)
    computed = calculators.compute(calc, request.form)
    choice = request.form.get("_action", "calculate")
    if choice == "auto":  # Enter pressed in a field: unlock once an email is typed, else recalculate
        choice = "unlock" if (request.form.get("email") or "").strip() else "calculate"
    unlock = choice == "unlock"
    gate_form = _gate_form(calc, request.form if unlock else None)
    gate_ok = gate_form.validate() if unlock else True
    if not computed.ok:
        session.rollback()
        return _page(calc, computed, action=action, status=422, token=token, embed=embed, gate_form=gate_form)
    calculators.update(session, response, calc, computed)
    if not unlock:
        session.commit()
        return redirect(action, 303)
    if not gate_ok:
        session.commit()  # the new figures are kept while the visitor fixes the gate
        return _page(calc, computed, action=action, status=422, token=token, embed=embed, gate_form=gate_form)
    public.store_lead(session, response, calc, gate_form)
    return redirect(url_for("public.result", slug=slug, token=token), 303)


def result(calc: Calculator, response, submission, token: str):
    computed = calculators.from_response(calc, response)
    blocks = calculators.advice_blocks(calc, computed.outcome, gated=True, first_name=submission.first_name)
    offer = calculators.offer(calc, computed.outcome)
    again = {k: v for k, v in computed.texts.items() if v}
    if response.source.get("embed") == "1":
        again["embed"] = "1"
    retry = url_for("public.landing", slug=calc.slug) + "?" + urlencode(again)
    context = {"quiz": calc, "calc": calc, "submission": submission, "computed": computed,
               "outcome": computed.outcome, "advice": blocks, "offer": offer, "token": token, "retry": retry,
               "numbers": calculators.your_numbers(calc, computed.outcome),
               "embed": response.source.get("embed") == "1", "gated": True}
    partial = wants_partial()
    resp = make_response(render_template("calculator/_result.html" if partial else "calculator/result.html",
                                         **context))
    if partial:
        resp.headers["HX-Push-Url"] = request.path
    resp.vary.add("HX-Request")
    return resp


@bp.get("/q/<slug>/r/<token>/offer")
def offer(slug: str, token: str):
    response, calc = public.load_response(slug, token)
    if calc.kind != "calculator" or response.submission is None:
        return redirect(url_for("public.landing", slug=slug), 303)
    target = calculators.offer(calc, calculators.from_response(calc, response).outcome)
    if target is None:
        return redirect(url_for("public.result", slug=slug, token=token), 303)
    session = get_session()
    events.record(session, slug, "cta_click", response.id)
    session.commit()
    return redirect(target.url, 303)


public.KIND_VIEWS["calculator"] = {"landing": landing, "start": start, "flow": flow, "result": result}
