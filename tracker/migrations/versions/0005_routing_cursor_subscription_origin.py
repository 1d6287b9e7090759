"""routing cursor subscription origin

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Adds ``routing_cursor`` (the highest event id routed to subscribers) and three columns to
``subscriptions``: ``origin`` (cli or config), ``ended_by`` (who deactivated it) and
``active_since`` (filled from ``created_at`` for existing rows).
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "routing_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_routing_cursor")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="cli", nullable=False)
        )
        batch_op.add_column(sa.Column("ended_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("active_since", sa.DateTime(timezone=True), nullable=True))

    # Existing subscriptions became active when they were created.
    op.execute("UPDATE subscriptions SET active_since = created_at")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.alter_column(
            "active_since", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("active_since")
        batch_op.drop_column("ended_by")
        batch_op.drop_column("origin")

    op.drop_table("routing_cursor")
