"""jobs: the hours job's function moved from conversations.hours to conversations.dispatch

Revision ID: 0049_hours_tick_in_dispatch
Revises: 0048_report_buckets
Create Date: 2026-12-07 23:40:00

A job row names its function by module path. The campaigns' hours jobs enqueued before the move
would otherwise fail as unknown at the schedule's next change, and the queue would wait for the
next message or presence change to be assigned.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0049_hours_tick_in_dispatch'
down_revision: str | None = '0048_report_buckets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = 'atiende.conversations.hours.hours_tick'
NEW = 'atiende.conversations.dispatch.hours_tick'
_RENAME = sa.text("UPDATE scheduled_jobs SET function = :to WHERE function = :from_")


def upgrade() -> None:
    op.get_bind().execute(_RENAME, {"to": NEW, "from_": OLD})


def downgrade() -> None:
    op.get_bind().execute(_RENAME, {"to": OLD, "from_": NEW})
