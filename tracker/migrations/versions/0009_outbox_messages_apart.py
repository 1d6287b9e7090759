"""outbox messages apart

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

The rendered bytes of each outbox message move from ``outbox.message`` to a table of their
own, ``outbox_messages`` (one row per outbox row, same id): claiming and marking a message
rewrote its whole row, ~30 KB of message included, three times per message sent.

Existing messages are copied over before the column is dropped. The column is dropped with a
plain ``ALTER TABLE ... DROP COLUMN`` on SQLite too (3.35 or later, which the outbox's
``RETURNING`` needs already), not by batch mode's copy-and-rename: dropping the old ``outbox``
table there would cascade to ``outbox_messages`` and delete every message just copied.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COPY_OVER = "INSERT INTO outbox_messages (outbox_id, message) SELECT id, message FROM outbox"
COPY_BACK = """
UPDATE outbox SET message = COALESCE(
    (SELECT m.message FROM outbox_messages m WHERE m.outbox_id = outbox.id), :empty)
"""


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("outbox_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"],
                                name=op.f("fk_outbox_messages_outbox_id_outbox"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_outbox_messages")),
    )
    op.execute(COPY_OVER)
    op.execute("ALTER TABLE outbox DROP COLUMN message")


def downgrade() -> None:
    op.add_column("outbox", sa.Column("message", sa.LargeBinary(), nullable=True))
    op.execute(sa.text(COPY_BACK).bindparams(sa.bindparam("empty", b"", sa.LargeBinary())))
    # Dropped before the column is made NOT NULL: on SQLite that recreates ``outbox``, and the
    # cascade would empty outbox_messages anyway.
    op.drop_table("outbox_messages")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("message", existing_type=sa.LargeBinary(), nullable=False)
