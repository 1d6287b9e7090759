"""topic matches

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "topic_matches",
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column(
            "matched",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["bills.id"],
            name=op.f("fk_topic_matches_bill_id_bills"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bill_id", "topic", name=op.f("pk_topic_matches")),
    )
    with op.batch_alter_table("topic_matches", schema=None) as batch_op:
        batch_op.create_index("ix_topic_matches_topic", ["topic"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("topic_matches", schema=None) as batch_op:
        batch_op.drop_index("ix_topic_matches_topic")

    op.drop_table("topic_matches")
