"""The funnel a creator reads: views, starts, how many answered each step, gate, opt-ins, clicks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from quizapp.engine.flow import fixed_steps
from quizapp.store.models import Event


@dataclass
class Funnel:
    slug: str
    views: int = 0
    starts: int = 0
    steps: dict[int, int] = field(default_factory=dict)  # step -> responses that answered it
    gate_views: int = 0
    leads: int = 0
    result_views: int = 0
    cta_clicks: int = 0
    step_labels: dict[int, str] = field(default_factory=dict)  # step -> the question always asked there

    @staticmethod
    def rate(part: int, whole: int) -> Decimal | None:
        if not whole:
            return None
        return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def rows(self) -> list[tuple[str, int, Decimal | None]]:
        """(stage, count, percent of the stage before)."""
        out: list[tuple[str, int, Decimal | None]] = [("views", self.views, None),
                                                      ("starts", self.starts, self.rate(self.starts, self.views))]
        before = self.starts
        for step in sorted(self.steps):
            label = self.step_labels.get(step)
            if label and len(label) > 48:
                label = label[:47].rstrip() + "\u2026"
            name = f"answered step {step}" + (f": {label}" if label else "")
            out.append((name, self.steps[step], self.rate(self.steps[step], before)))
            before = self.steps[step]
        out.append(("reached the gate", self.gate_views, self.rate(self.gate_views, before)))
        out.append(("opted in", self.leads, self.rate(self.leads, self.gate_views)))
        out.append(("clicked the offer", self.cta_clicks, self.rate(self.cta_clicks, self.leads)))
        return out


def funnel(session: Session, slug: str, since: datetime | None = None, definition=None) -> Funnel:
    """Counts distinct responses per stage (views have no response, so they count events). With the
    quiz's definition, steps that always ask the same question are labelled with it."""
    f = Funnel(slug)
    if definition is not None and getattr(definition, "kind", None) == "quiz":
        f.step_labels = {n: q.text for n, q in fixed_steps(definition).items()}
    where = [Event.quiz_slug == slug]
    if since is not None:
        where.append(Event.created_at >= since)
    f.views = session.scalar(select(func.count()).where(*where, Event.kind == "view")) or 0
    per_kind = dict(session.execute(
        select(Event.kind, func.count(distinct(Event.response_id))).where(*where, Event.kind != "view")
        .group_by(Event.kind)).all())
    f.starts = per_kind.get("start", 0)
    f.gate_views = per_kind.get("gate_view", 0)
    f.leads = per_kind.get("lead", 0)
    f.result_views = per_kind.get("result_view", 0)
    f.cta_clicks = per_kind.get("cta_click", 0)
    f.steps = dict(session.execute(
        select(Event.step, func.count(distinct(Event.response_id))).where(*where, Event.kind == "answer")
        .group_by(Event.step)).all())
    return f
