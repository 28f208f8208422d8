"""Scoring: total points, percent of the best achievable, category sub-scores, outcome, tags, lead score.

Rules, as documented in the README:
- Only questions the visitor saw count, for the score and for the maximum.
- The maximum takes the best achievable answer of each question (the best option of a single choice,
  the best allowed set of a multiple choice), never the sum of all options.
- Tiers model: the outcome is the tier whose inclusive [min, max] holds the total.
- Categories model: the score is the sum of all category weights earned and its maximum the sum of the
  categories' maxima (an overall health figure); the outcome is the category with the highest (or
  lowest, with "pick": "lowest") weighted sum, or percent of its maximum with "compare": "percent".
  A tie goes to the category listed first in `scoring.tie_break`, or else first in `categories`.
- Tags, in order: the quiz's own, each chosen option's and band's, the outcome's, the lead-score
  thresholds'. Duplicates are dropped, first place kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from quizapp.definitions import question_types
from quizapp.definitions.model import Quiz
from quizapp.engine.flow import visible_questions

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def percent(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return ZERO
    return (part * HUNDRED / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SubScore:
    category: str
    label: str
    score: Decimal
    max: Decimal

    @property
    def percent(self) -> Decimal:
        return percent(self.score, self.max)


@dataclass(frozen=True)
class Result:
    score: Decimal
    max_score: Decimal
    percent: Decimal
    outcome: str
    tier: str | None
    sub_scores: tuple[SubScore, ...]
    tags: tuple[str, ...]
    lead_score: Decimal | None
    lead_labels: tuple[str, ...] = field(default=())

    def sub_scores_dict(self) -> dict[str, dict[str, str]]:
        return {s.category: {"label": s.label, "score": _plain(s.score), "max": _plain(s.max),
                             "percent": _plain(s.percent)} for s in self.sub_scores}


def _plain(d: Decimal) -> str:
    """A Decimal as a plain string with no exponent and no trailing zeros ("12", "33.33")."""
    text = format(d.normalize(), "f")
    return text


def plain(d: Decimal | None) -> str | None:
    return None if d is None else _plain(d)


def score(quiz: Quiz, answers: dict[str, Any]) -> Result:
    shown = visible_questions(quiz, answers)
    total, max_total, lead_points = ZERO, ZERO, ZERO
    weights: dict[str, Decimal] = {}
    max_weights: dict[str, Decimal] = {}
    tags: list[str] = list(quiz.tags)
    for q in shown:
        qt = question_types.get(q.type)
        best_points, best_weights, _ = qt.best(q)
        max_total += best_points
        for cat, w in best_weights.items():
            max_weights[cat] = max_weights.get(cat, ZERO) + w
        if q.id not in answers:
            continue
        c = qt.contribution(q, answers[q.id])
        total += c.points
        lead_points += c.lead_points
        for cat, w in c.weights.items():
            weights[cat] = weights.get(cat, ZERO) + w
        tags.extend(c.tags)

    subs = tuple(SubScore(cat.id, cat.label, weights.get(cat.id, ZERO), max_weights.get(cat.id, ZERO))
                 for cat in quiz.categories)
    tier = None
    if quiz.scoring.model == "categories":
        total = sum((s.score for s in subs), ZERO)
        max_total = sum((s.max for s in subs), ZERO)
    if quiz.scoring.model == "tiers":
        outcome = _tier_outcome(quiz, total)
        tier = outcome
    else:
        outcome = _category_outcome(quiz, subs)
    found = quiz.outcome(outcome)
    if found:
        tags.extend(found.tags)

    lead_score = None
    labels: list[str] = []
    if quiz.lead_score is not None:
        lead_score = total if quiz.lead_score.source == "score" else lead_points
        for th in quiz.lead_score.thresholds:
            if th.contains(lead_score):
                tags.extend(th.tags)
                if th.label:
                    labels.append(th.label)
    return Result(total, max_total, percent(total, max_total), outcome, tier, subs,
                  tuple(dict.fromkeys(tags)), lead_score, tuple(labels))


def _tier_outcome(quiz: Quiz, total: Decimal) -> str:
    tiers = sorted(quiz.scoring.tiers, key=lambda t: t.min)
    for tier in tiers:
        if tier.min <= total <= tier.max:
            return tier.outcome
    # Validation guarantees coverage of every reachable total; hidden questions can only lower the
    # total, so clamp to the nearest tier rather than fail a visitor.
    return tiers[0].outcome if total < tiers[0].min else tiers[-1].outcome


def _category_outcome(quiz: Quiz, subs: tuple[SubScore, ...]) -> str:
    order = list(quiz.scoring.tie_break) + [c.id for c in quiz.categories if c.id not in quiz.scoring.tie_break]
    measure = (lambda s: s.percent) if quiz.scoring.compare == "percent" else (lambda s: s.score)
    by_id = {s.category: s for s in subs}
    sign = 1 if quiz.scoring.pick == "highest" else -1
    # max() keeps the first of equal keys, and `order` puts the preferred category first.
    best = max(order, key=lambda cid: sign * measure(by_id[cid]))
    return quiz.category(best).outcome
