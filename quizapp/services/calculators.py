"""Calculator use cases: compute from submitted text, start and update a response, and the facts a lead
is stored and delivered with. One `compute` serves the live preview, the Calculate button and the
stored lead, so all three read numbers and round figures the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from quizapp.definitions.calculator import CalcInput, Calculator
from quizapp.engine import calculator as engine
from quizapp.engine.numbers import currency_affix
from quizapp.engine.text import render_markdown
from quizapp.services import facts, responses
from quizapp.store.models import Response


@dataclass(frozen=True)
class Computed:
    inputs: dict[str, Decimal | None]
    texts: dict[str, str]  # what to show in each field: the visitor's own text, kept on errors
    errors: dict[str, str]
    outcome: engine.Outcome

    @property
    def ok(self) -> bool:
        return not self.errors


def compute(calc: Calculator, form: Mapping[str, Any]) -> Computed:
    """Read every input from submitted text and evaluate. Inputs with a problem count as empty."""
    inputs, errors = engine.read_inputs(calc, form)
    texts = {}
    for item in calc.inputs:
        raw = form.get(item.id)
        texts[item.id] = raw if isinstance(raw, str) else engine.input_text(calc, item, inputs[item.id])
    return Computed(inputs, texts, errors, engine.evaluate(calc, inputs, invalid=errors))


def initial(calc: Calculator, prefill: Mapping[str, Any] | None = None) -> Computed:
    """The page before anything is typed: defaults, overridden by prefill values that read cleanly
    (a link such as /q/leads-needed?customers=25 fills the field, and a bad value is just ignored)."""
    defaults = engine.default_inputs(calc)
    form = {i.id: engine.input_text(calc, i, defaults[i.id]) for i in calc.inputs}
    for item in calc.inputs:
        raw = (prefill or {}).get(item.id)
        if isinstance(raw, str) and raw.strip():
            try:
                engine.read_input(calc, item, raw)
            except ValueError:
                continue
            form[item.id] = raw.strip()
    computed = compute(calc, form)
    return Computed(computed.inputs, computed.texts, {}, computed.outcome)


def from_response(calc: Calculator, response: Response) -> Computed:
    inputs = engine.from_stored(calc, response.answers or {})
    texts = {i.id: engine.input_text(calc, i, inputs[i.id]) for i in calc.inputs}
    return Computed(inputs, texts, {}, engine.evaluate(calc, inputs))


def start(session: Session, calc: Calculator, raw: dict, computed: Computed,
          source: Mapping[str, Any]) -> Response:
    """A response holding valid inputs. Flushes; the caller commits."""
    if not computed.ok:
        raise ValueError("only valid inputs start a response")
    response = responses.start(session, calc, raw, dict(source))
    response.answers = engine.to_stored(computed.inputs)
    response.step = 1
    session.flush()
    return response


def update(session: Session, response: Response, calc: Calculator, computed: Computed) -> bool:
    """Store new inputs on a response that has not passed the gate. False when it is already finished
    (its lead keeps the figures it was captured with)."""
    if response.submission is not None or not computed.ok:
        return False
    response.answers = engine.to_stored(computed.inputs)  # a new dict, so the JSON column sees the change
    session.flush()
    return True


def calculator_facts(calc: Calculator, answers: dict) -> facts.Facts:
    """What a calculator lead is stored and delivered with: inputs and every computed value (hidden ones
    too), tags and lead points from the rules, the first advice that applied as the outcome."""
    outcome = engine.evaluate(calc, engine.from_stored(calc, answers or {}))
    return facts.Facts(
        outcome=outcome.advice[0].id if outcome.advice else None,
        lead_score=outcome.lead_score,
        tags=outcome.tags,
        answers=engine.labelled_inputs(calc, outcome),
        values=engine.stored_values(calc, outcome),
    )


facts.register("calculator", calculator_facts)


@dataclass(frozen=True)
class Field:
    """One input as the form shows it."""

    input: CalcInput
    text: str  # the visitor's text, or the stored value written back
    error: str | None
    before: str  # currency symbol in front, for locales that put it there
    after: str  # unit, percent sign or trailing currency symbol
    shown: str  # the value as displayed, for a slider's readout


def fields(calc: Calculator, computed: Computed) -> list[Field]:
    out = []
    for item in calc.inputs:
        before, after = "", item.unit
        if item.type == "currency":
            before, after = currency_affix(calc.currency, calc.locale)
        elif item.type == "percent":
            after = "%"
        value = computed.inputs.get(item.id)
        out.append(Field(item, computed.texts.get(item.id, ""), computed.errors.get(item.id), before, after,
                         engine.input_display(calc, item, value)))
    return out


def your_numbers(calc: Calculator, outcome: engine.Outcome) -> list[tuple[str, str]]:
    """(label, value as shown) for every input, for the breakdown's summary."""
    return [(item.label, engine.input_display(calc, item, outcome.inputs.get(item.id)) or "\u2014")
            for item in calc.inputs]


def variables(calc: Calculator, outcome: engine.Outcome, first_name: str = "") -> dict[str, str]:
    """{{ name }} in advice: inputs and computed values as displayed, the first name, the title."""
    out = {"first_name": first_name, "calculator": calc.title}
    for item in calc.inputs:
        out[item.id] = engine.input_display(calc, item, outcome.inputs.get(item.id))
    for fig in outcome.figures.values():
        out[fig.id] = fig.display
    return out


@dataclass(frozen=True)
class AdviceBlock:
    id: str
    title: str
    summary: str
    html: str
    show: str


def advice_blocks(calc: Calculator, outcome: engine.Outcome, gated: bool,
                  first_name: str = "") -> list[AdviceBlock]:
    """The advice that applies, rendered (Markdown, sanitised); gated advice only once the gate is passed."""
    names = variables(calc, outcome, first_name)
    return [AdviceBlock(a.id, a.title, a.summary, render_markdown(a.body, names) if a.body else "", a.show)
            for a in outcome.advice if gated or a.show == "free"]


def offer(calc: Calculator, outcome: engine.Outcome):
    """The call to action: the first applying advice's own, or the calculator's."""
    for item in outcome.advice:
        if item.cta is not None:
            return item.cta
    return calc.cta
