"""api budget

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Adds ``api_budget``: requests spent per source and calendar month (UTC), so a metered API
(LegiScan's 30,000 queries a month) is stopped before its quota by every process alike.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_budget",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "month", name=op.f("pk_api_budget")),
    )


def downgrade() -> None:
    op.drop_table("api_budget")
