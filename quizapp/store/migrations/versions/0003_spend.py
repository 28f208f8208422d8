"""spend per quiz, for cost per lead and cost per customer

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import quizapp.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_slug", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", quizapp.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend")),
    )
    with op.batch_alter_table("spend") as batch:
        batch.create_index(batch.f("ix_spend_quiz_slug"), ["quiz_slug"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spend") as batch:
        batch.drop_index(batch.f("ix_spend_quiz_slug"))
    op.drop_table("spend")
