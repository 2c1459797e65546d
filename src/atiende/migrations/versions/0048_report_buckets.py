"""reports: hour counts and day duration buckets, and each fact's local day of opening

Revision ID: 0048_report_buckets
Revises: 0047_webhook_open_indexes
Create Date: 2026-12-07 23:30:00

Every conversation with facts is marked dirty, so the worker (or ``atiende reports rebuild``)
fills the new columns and tables from the facts' own rows.
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0048_report_buckets'
down_revision: str | None = '0047_webhook_open_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ('n', 'first_id', 'within', 'answered', 'closed', 'offered', 'abandoned', 'surveyed', 'responded',
          'bot_started', 'bot_resolved', 'bot_handoff', 'rating_sum', 'rating_count')


def upgrade() -> None:
    with op.batch_alter_table('report_conversation_facts') as batch:
        batch.add_column(sa.Column('opened_day', sa.Integer(), nullable=True))
    op.create_table('report_hour_counts',
    *[sa.Column(name, sa.Integer(), autoincrement=False, nullable=False) for name in (
        'client_id', 'hour', 'campaign_id', 'channel_id', 'typification_id', 'project_id', *COUNTS)],
    sa.PrimaryKeyConstraint('client_id', 'hour', 'campaign_id', 'channel_id', 'typification_id', 'project_id',
                            name=op.f('pk_report_hour_counts'))
    )
    op.create_table('report_day_durations',
    *[sa.Column(name, sa.Integer(), autoincrement=False, nullable=False) for name in (
        'client_id', 'day', 'metric', 'seconds', 'n')],
    sa.Column('total', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'day', 'metric', 'seconds', name=op.f('pk_report_day_durations'))
    )
    conflict = 'ON CONFLICT DO NOTHING' if op.get_bind().dialect.name == 'postgresql' else ''
    verb = 'INSERT' if conflict else 'INSERT OR IGNORE'
    op.get_bind().execute(sa.text(
        f'{verb} INTO report_dirty_conversations (conversation_id, client_id, marked_at) '
        f'SELECT conversation_id, client_id, :now FROM report_conversation_facts {conflict}'),
        {'now': datetime.now(UTC).replace(tzinfo=None)})


def downgrade() -> None:
    op.drop_table('report_day_durations')
    op.drop_table('report_hour_counts')
    with op.batch_alter_table('report_conversation_facts') as batch:
        batch.drop_column('opened_day')
