"""What leads cost and earn: spend per quiz, customers and their revenue, and the guide's ratios.

Attribution: a customer counts for every quiz or calculator they finished before they bought (a lead who
took two quizzes, then bought, counts for both). Spend is what the creator records per quiz.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from quizapp.services.leads import normalise_email
from quizapp.store.models import Lead, Spend, Submission

CENT = Decimal("0.01")
# One amount, and a lead's total: what the money columns (14 digits, 2 after the point) hold exactly.
MAX_AMOUNT = Decimal("1000000000")
MAX_TOTAL = Decimal("999999999999.99")


class UnknownLead(LookupError):
    pass


def record_spend(session: Session, slug: str, amount: Decimal, spent_on: date | None = None,
                 note: str = "") -> Spend:
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise ValueError(f"spend is an amount from 0 to {MAX_AMOUNT - CENT:,}")
    row = Spend(quiz_slug=slug, amount=amount.quantize(CENT, rounding=ROUND_HALF_UP),
                spent_on=spent_on or datetime.now(UTC).date(), note=note[:200])
    session.add(row)
    session.flush()
    return row


def mark_customer(session: Session, email: str, revenue: Decimal, when: datetime | None = None) -> Lead:
    """Record a purchase by a known lead: the first one makes them a customer; revenue adds up."""
    if not revenue.is_finite() or revenue < 0 or revenue >= MAX_AMOUNT:
        raise ValueError(f"revenue is an amount from 0 to {MAX_AMOUNT - CENT:,}")
    identity, _ = normalise_email(email)
    lead = session.scalar(select(Lead).where(Lead.email == identity))
    if lead is None:
        raise UnknownLead(f"no lead with the email {identity}")
    total = (lead.revenue or Decimal(0)) + revenue.quantize(CENT, rounding=ROUND_HALF_UP)
    if total > MAX_TOTAL:
        raise ValueError(f"this sale would take the lead's revenue over {MAX_TOTAL:,}")
    lead.customer_at = lead.customer_at or when or datetime.now(UTC)
    lead.revenue = total
    session.flush()
    return lead


def _div(a: Decimal, b: int | Decimal) -> Decimal | None:
    if not b:
        return None
    return (Decimal(a) / Decimal(b)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Economics:
    slug: str
    spend: Decimal
    leads: int
    customers: int
    revenue: Decimal

    @property
    def cost_per_lead(self) -> Decimal | None:
        """None until spend is recorded: a lead with no recorded cost is not a free lead."""
        return _div(self.spend, self.leads) if self.spend else None

    @property
    def cost_per_customer(self) -> Decimal | None:
        return _div(self.spend, self.customers) if self.spend else None

    @property
    def lead_to_customer_percent(self) -> Decimal | None:
        return _div(Decimal(self.customers) * 100, self.leads)

    @property
    def revenue_per_lead(self) -> Decimal | None:
        return _div(self.revenue, self.leads)


def economics(session: Session, slug: str) -> Economics:
    spend = session.scalar(select(func.coalesce(func.sum(Spend.amount), 0)).where(Spend.quiz_slug == slug))
    leads = session.scalar(select(func.count(distinct(Submission.lead_id))).where(Submission.quiz_slug == slug))
    first = (select(Submission.lead_id, func.min(Submission.created_at).label("took"))
             .where(Submission.quiz_slug == slug).group_by(Submission.lead_id).subquery())
    customers, revenue = session.execute(
        select(func.count(Lead.id), func.coalesce(func.sum(Lead.revenue), 0))
        .join(first, first.c.lead_id == Lead.id)
        .where(Lead.customer_at.is_not(None), Lead.customer_at >= first.c.took)).one()
    return Economics(slug, Decimal(spend), int(leads or 0), int(customers or 0), Decimal(revenue))
