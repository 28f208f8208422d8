"""Checks a schema can't express: references between parts, tier coverage, reachability."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from quizapp.definitions import question_types
from quizapp.definitions.contrast import check_theme
from quizapp.definitions.model import Condition, Quiz

Found = list[tuple[list[Any], str, str]]  # (path, message, severity)

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
BASE_VARIABLES = {"first_name", "score", "max_score", "percent", "outcome", "tier", "lead_score", "quiz"}


def check_quiz(quiz: Quiz) -> Found:
    out: Found = []
    out += _unique(quiz)
    out += _questions(quiz)
    out += _scoring(quiz)
    out += _lead_score(quiz)
    out += _variables(quiz)
    out += check_theme(quiz.theme)
    return out


def _unique(quiz: Quiz) -> Found:
    out: Found = []
    for key, items in (("questions", quiz.questions), ("outcomes", quiz.outcomes),
                       ("categories", quiz.categories)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                out.append(([key, i, "id"], f"id {item.id!r} is used twice", "error"))
            seen.add(item.id)
    return out


def _questions(quiz: Quiz) -> Found:
    out: Found = []
    earlier: dict[str, Any] = {}
    later = {q.id for q in quiz.questions}
    for i, q in enumerate(quiz.questions):
        for sub_path, message in question_types.get(q.type).problems(q):
            out.append((["questions", i, *sub_path], message, "error"))
        if q.show_if is not None:
            out += [(["questions", i, "show_if", *p], m, s) for p, m, s in _condition(q.show_if, earlier, later)]
        for j, opt in enumerate(q.options):
            for cat in opt.weights:
                if quiz.categories and quiz.category(cat) is None:
                    out.append((["questions", i, "options", j, "weights", cat], f"unknown category {cat!r}",
                                "error"))
        for cat in q.weights_per_unit:
            if quiz.categories and quiz.category(cat) is None:
                out.append((["questions", i, "weights_per_unit", cat], f"unknown category {cat!r}", "error"))
        earlier[q.id] = q
    return out


def _condition(cond: Condition, earlier: dict, everywhere: set[str]) -> Found:
    if cond.children:
        out: Found = []
        for i, child in enumerate(cond.children):
            out += [([cond.op, i, *p], m, s) for p, m, s in _condition(child, earlier, everywhere)]
        return out
    if cond.question not in earlier:
        if cond.question in everywhere:
            return [(["question"], f"question {cond.question!r} comes later; a condition can only look at "
                     "questions asked before it", "error")]
        return [(["question"], f"there is no question {cond.question!r}", "error")]
    target = earlier[cond.question]
    if target.options and cond.op in {"equals", "not_equals", "in", "not_in"}:
        values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
        for v in values:
            if target.option(v) is None:
                return [([cond.op], f"question {cond.question!r} has no option {v!r}", "error")]
    if cond.op in {"gt", "gte", "lt", "lte"} and target.type not in {"number", "scale"}:
        return [([cond.op], f"'{cond.op}' compares numbers, but {cond.question!r} is a {target.type} question",
                 "error")]
    return []


def sound(quiz: Quiz) -> list:
    """Questions whose own configuration is valid: only these are walked for best and least answers
    (a scale from -10^18 to 10^18 is reported, never enumerated)."""
    return [q for q in quiz.questions if not question_types.get(q.type).problems(q)]


def score_range(quiz: Quiz) -> tuple[Decimal, Decimal]:
    """The lowest and highest total any path through the quiz can reach (conditions ignored)."""
    questions = sound(quiz)
    low = sum((question_types.get(q.type).least(q) for q in questions), Decimal(0))
    high = sum((question_types.get(q.type).best(q)[0] for q in questions), Decimal(0))
    return low, high


def _granularity(quiz: Quiz) -> Decimal:
    places = 0
    for q in quiz.questions:
        amounts = [o.points for o in q.options] + [b.points for b in q.bands] + [q.points_per_unit]
        for a in amounts:
            exp = a.normalize().as_tuple().exponent
            if isinstance(exp, int):
                places = max(places, -exp)
    return Decimal(1).scaleb(-places)


def _scoring(quiz: Quiz) -> Found:
    out: Found = []
    s = quiz.scoring
    referenced: set[str] = set()
    if s.model == "tiers":
        step = _granularity(quiz)
        order = sorted(range(len(s.tiers)), key=lambda i: s.tiers[i].min)
        for i, tier in enumerate(s.tiers):
            if tier.min > tier.max:
                out.append((["scoring", "tiers", i, "max"], "max is smaller than min", "error"))
            if quiz.outcome(tier.outcome) is None:
                out.append((["scoring", "tiers", i, "outcome"], f"there is no outcome {tier.outcome!r}", "error"))
            referenced.add(tier.outcome)
        for a, b in zip(order, order[1:], strict=False):
            ta, tb = s.tiers[a], s.tiers[b]
            if tb.min <= ta.max:
                out.append((["scoring", "tiers", b], f"tier {tb.min}..{tb.max} overlaps tier {ta.min}..{ta.max}",
                            "error"))
            elif tb.min > ta.max + step:
                out.append((["scoring", "tiers", b], f"scores between {ta.max} and {tb.min} fall in no tier (gap)",
                            "error"))
        low, high = score_range(quiz)
        if s.tiers:
            first, last = s.tiers[order[0]], s.tiers[order[-1]]
            if first.min > low:
                out.append((["scoring", "tiers", order[0], "min"],
                            f"scores from {low} to {first.min - step} fall in no tier (lowest possible is {low})",
                            "error"))
            if last.max < high:
                out.append((["scoring", "tiers", order[-1], "max"],
                            f"scores from {last.max + step} to {high} fall in no tier (highest possible is {high})",
                            "error"))
            for i, tier in enumerate(s.tiers):
                if tier.max < low or tier.min > high:
                    out.append((["scoring", "tiers", i], f"no answer path reaches this tier: totals run from {low} "
                                f"to {high}", "warning"))
    else:
        if not quiz.categories:
            out.append((["categories"], "the categories model needs a list of categories", "error"))
        best: dict[str, Decimal] = {}
        for q in sound(quiz):
            for cat, w in question_types.get(q.type).best(q)[1].items():
                best[cat] = best.get(cat, Decimal(0)) + w
        for i, cat in enumerate(quiz.categories):
            if quiz.outcome(cat.outcome) is None:
                out.append((["categories", i, "outcome"], f"there is no outcome {cat.outcome!r}", "error"))
            referenced.add(cat.outcome)
            if s.pick == "highest" and best.get(cat.id, Decimal(0)) <= 0:
                out.append((["categories", i], f"no answer gives weight to {cat.id!r}, so its outcome "
                            f"{cat.outcome!r} can only win a tie of zeros", "warning"))
        for i, name in enumerate(s.tie_break):
            if quiz.category(name) is None:
                out.append((["scoring", "tie_break", i], f"there is no category {name!r}", "error"))
    for i, outcome in enumerate(quiz.outcomes):
        if outcome.id not in referenced:
            out.append((["outcomes", i], f"outcome {outcome.id!r} is reached by no "
                        + ("tier" if s.model == "tiers" else "category"), "warning"))
    return out


def _lead_score(quiz: Quiz) -> Found:
    ls = quiz.lead_score
    if ls is None:
        return []
    out: Found = []
    if ls.source == "lead_points":
        if not any(o.lead_points for q in quiz.questions for o in q.options) and not any(
                b.lead_points for q in quiz.questions for b in q.bands):
            out.append((["lead_score", "source"], "no option or band gives lead_points", "error"))
    return out


def _variables(quiz: Quiz) -> Found:
    known = set(BASE_VARIABLES)
    for cat in quiz.categories:
        known |= {f"score.{cat.id}", f"percent.{cat.id}"}
    known |= {f"answer.{q.id}" for q in quiz.questions}
    out: Found = []
    for i, outcome in enumerate(quiz.outcomes):
        for name in VARIABLE.findall(outcome.body):
            if name not in known:
                out.append((["outcomes", i, "body"], f"unknown variable {{{{ {name} }}}}; known: "
                            + ", ".join(sorted(known)), "error"))
    return out
