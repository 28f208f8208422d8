"""The facts a finished response is segmented by, per kind of definition.

A kind registers one function: (definition, answers) -> Facts. The quiz's is here; calculators add theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from quizapp.definitions import question_types
from quizapp.engine import scoring
from quizapp.engine.flow import visible_questions


@dataclass(frozen=True)
class Facts:
    outcome: str | None
    score: Decimal | None = None
    max_score: Decimal | None = None
    percent: Decimal | None = None
    tier: str | None = None
    lead_score: Decimal | None = None
    sub_scores: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    answers: list[dict[str, Any]] = field(default_factory=list)  # labelled, in the order asked
    values: dict[str, Any] = field(default_factory=dict)


FACTS: dict[str, Callable[[Any, dict], Facts]] = {}


def register(kind: str, fn: Callable[[Any, dict], Facts]) -> None:
    FACTS[kind] = fn


def facts_for(definition, answers: dict) -> Facts:
    return FACTS[definition.kind](definition, answers)


def labelled_answers(quiz, answers: dict) -> list[dict[str, Any]]:
    out = []
    for q in visible_questions(quiz, answers):
        if q.id not in answers:
            continue
        value = answers[q.id]
        out.append({"question": q.id, "text": q.text, "type": q.type, "value": value,
                    "label": question_types.get(q.type).label(q, value)})
    return out


def quiz_facts(quiz, answers: dict) -> Facts:
    r = scoring.score(quiz, answers)
    return Facts(outcome=r.outcome, score=r.score, max_score=r.max_score, percent=r.percent, tier=r.tier,
                 lead_score=r.lead_score, sub_scores=r.sub_scores_dict(), tags=r.tags,
                 answers=labelled_answers(quiz, answers))


register("quiz", quiz_facts)
