"""web app: staff, sign-in links, analysts' views

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Adds what the web app (``tracker serve``, :mod:`tracker.web`) stores:

* ``staff``: who sees ``/admin`` besides ``TRACKER_STAFF`` (``tracker staff add EMAIL``);
* ``sign_in_links``: emailed one-time sign-in links (a hash of each link's nonce, when it was
  asked for and by which client, when it was used), counted for rate limiting;

and two read-only SQL views for analysts (Datasette, psql, sqlite3, any SQL client):

* ``v_bill_history``: every bill's actions and change events in one timeline (one row per
  action, removed ones included and flagged, and one row per event);
* ``v_stage_changes``: every stage change with the days the bill spent in the stage it left.

The views are one SQL text for both stores: JSON fields are read with ``->>`` (PostgreSQL's
JSONB operator, and SQLite's since 3.38), dates with ``date(...)`` (a function in SQLite, a
function-style cast in PostgreSQL). The one difference is day arithmetic, which SQLite has only
through ``julianday``; it is filled in per dialect below.
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Whole days from ``{start}`` to ``{end}`` (both dates), per dialect.
_DAYS = {
    "sqlite": "CAST(julianday({end}) - julianday({start}) AS INTEGER)",
    "postgresql": "({end} - {start})",
}

BILL_HISTORY = """
CREATE VIEW v_bill_history AS
SELECT b.key AS bill, b.jurisdiction AS jurisdiction, b.session AS session,
       b.identifier AS identifier,
       'action' AS entry,
       a.id AS entry_id,
       date(a.date) AS happened_on,
       a.position AS position,
       a.first_seen_at AS recorded_at,
       'action' AS kind,
       a.actor AS actor,
       a.description AS description,
       a.classification AS classification,
       a.removed_at IS NOT NULL AS removed,
       a.removed_at AS removed_at,
       NULL AS baseline,
       a.uid AS action_uid
FROM actions a JOIN bills b ON b.id = a.bill_id
UNION ALL
SELECT b.key, b.jurisdiction, b.session, b.identifier,
       'event',
       e.id,
       COALESCE(date(e.details ->> 'date'), date(e.detected_at)),
       NULL,
       e.detected_at,
       e.kind,
       e.details ->> 'actor',
       CASE e.kind
         WHEN 'new-bill' THEN e.details ->> 'title'
         WHEN 'stage-change' THEN (e.details ->> 'from') || ' -> ' || (e.details ->> 'to')
         WHEN 'title-change' THEN e.details ->> 'to'
         WHEN 'new-version' THEN e.details ->> 'name'
         ELSE e.details ->> 'description'
       END,
       e.details -> 'classification',
       e.kind = 'action-removed',
       NULL,
       e.baseline,
       e.action_uid
FROM events e JOIN bills b ON b.id = e.bill_id
"""

# A stage is entered by the new-bill event (the stage the bill was first seen at, dated by its
# last action then: it was entered on or before that day) or by a stage-change event (dated by
# the newest action stored with it, as the upsert writes a change's events with one detected_at;
# else by the day it was detected). The time spent in the stage left is the gap to the entry
# before, per bill; ``since_first_seen`` marks a gap counted from the first sighting, which is
# therefore a lower bound.
STAGE_CHANGES = """
CREATE VIEW v_stage_changes AS
WITH entries AS (
  SELECT e.id AS event_id, e.bill_id AS bill_id, e.kind AS kind, e.detected_at AS detected_at,
         e.baseline AS baseline,
         e.details ->> 'from' AS from_stage,
         CASE WHEN e.kind = 'new-bill' THEN e.details ->> 'stage' ELSE e.details ->> 'to' END
           AS to_stage,
         COALESCE(
           CASE WHEN e.kind = 'new-bill' THEN date(e.details ->> 'last_action_date') END,
           (SELECT max(date(n.details ->> 'date')) FROM events n
             WHERE n.bill_id = e.bill_id AND n.kind = 'new-action'
               AND n.detected_at = e.detected_at),
           date(e.detected_at)
         ) AS entered_on
  FROM events e
  WHERE e.kind IN ('new-bill', 'stage-change')
),
ordered AS (
  SELECT event_id, bill_id, kind, detected_at, baseline, from_stage, to_stage, entered_on,
         LAG(entered_on) OVER (PARTITION BY bill_id ORDER BY event_id) AS previous_entered_on,
         LAG(kind) OVER (PARTITION BY bill_id ORDER BY event_id) AS previous_kind
  FROM entries
)
SELECT o.event_id AS event_id, b.key AS bill, b.jurisdiction AS jurisdiction,
       b.session AS session, b.identifier AS identifier,
       o.from_stage AS from_stage, o.to_stage AS to_stage,
       o.entered_on AS changed_on, o.detected_at AS detected_at, o.baseline AS baseline,
       o.previous_entered_on AS from_stage_since,
       {days} AS days_in_from_stage,
       o.previous_kind = 'new-bill' AS since_first_seen
FROM ordered o JOIN bills b ON b.id = o.bill_id
WHERE o.kind = 'stage-change'
"""


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("affiliate", sa.String(length=100), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_staff")),
    )
    op.create_table(
        "sign_in_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_links")),
    )
    op.create_index("ix_sign_in_links_email_requested_at", "sign_in_links",
                    ["email", "requested_at"])
    op.create_index("ix_sign_in_links_client_requested_at", "sign_in_links",
                    ["client", "requested_at"])
    dialect = op.get_bind().dialect.name
    days = _DAYS.get(dialect)
    if days is None:
        raise RuntimeError(f"v_stage_changes: no day arithmetic for the {dialect} dialect")
    op.execute(BILL_HISTORY)
    op.execute(STAGE_CHANGES.format(
        days=days.format(start="o.previous_entered_on", end="o.entered_on")
    ))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_stage_changes")
    op.execute("DROP VIEW IF EXISTS v_bill_history")
    op.drop_index("ix_sign_in_links_client_requested_at", table_name="sign_in_links")
    op.drop_index("ix_sign_in_links_email_requested_at", table_name="sign_in_links")
    op.drop_table("sign_in_links")
    op.drop_table("staff")
