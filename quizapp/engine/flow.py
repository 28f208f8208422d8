"""Which questions a visitor sees, in what order, given the answers so far."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from quizapp.definitions.model import Condition, Question, Quiz


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, list | bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def holds(cond: Condition, answers: dict[str, Any]) -> bool:
    if cond.op == "all":
        return all(holds(c, answers) for c in cond.children)
    if cond.op == "any":
        return any(holds(c, answers) for c in cond.children)
    answer = answers.get(cond.question)
    if cond.op == "answered":
        given = answer not in (None, "", [])
        return given is cond.value
    chosen = {str(a) for a in answer} if isinstance(answer, list) else (
        set() if answer is None else {str(answer)})
    if cond.op == "equals":
        return cond.value in chosen
    if cond.op == "not_equals":
        return cond.value not in chosen
    if cond.op == "in":
        return bool(chosen & set(cond.value))
    if cond.op == "not_in":
        return not (chosen & set(cond.value))
    number = _as_decimal(answer)
    if number is None:
        return False
    return {"gt": number > cond.value, "gte": number >= cond.value,
            "lt": number < cond.value, "lte": number <= cond.value}[cond.op]


def visible_questions(quiz: Quiz, answers: dict[str, Any]) -> list[Question]:
    """Questions in order, skipping those whose condition fails. A condition only looks at earlier
    questions, and a hidden question's answer counts as no answer for the questions after it."""
    shown: list[Question] = []
    effective: dict[str, Any] = {}
    for q in quiz.questions:
        if q.show_if is None or holds(q.show_if, effective):
            shown.append(q)
            if q.id in answers:
                effective[q.id] = answers[q.id]
    return shown


def effective_answers(quiz: Quiz, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers that count: those of visible questions."""
    return {q.id: answers[q.id] for q in visible_questions(quiz, answers) if q.id in answers}


def is_answered(q: Question, answers: dict[str, Any]) -> bool:
    return q.id in answers and (answers[q.id] not in (None, "", []) or not q.required)


def first_open_step(quiz: Quiz, answers: dict[str, Any]) -> int | None:
    """1-based position of the first visible question not yet answered; None when all are."""
    for i, q in enumerate(visible_questions(quiz, answers), start=1):
        if not is_answered(q, answers):
            return i
    return None


def fixed_steps(quiz: Quiz) -> dict[int, Question]:
    """Step positions that always show the same question: those before the first conditional one
    (after it, a position depends on the answers)."""
    out: dict[int, Question] = {}
    for position, q in enumerate(quiz.questions, start=1):
        if q.show_if is not None:
            break
        out[position] = q
    return out
