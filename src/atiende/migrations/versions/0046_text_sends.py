"""outbound: the text of a send on a Telegram or API channel

Revision ID: 0046_text_sends
Revises: 0045_notifications
Create Date: 2026-12-10 10:00:00

Sends on Telegram and API channels carry plain text with {column} placeholders instead of a
WhatsApp template; existing sends (all on WhatsApp) keep it empty.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0046_text_sends'
down_revision: str | None = '0045_notifications'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_sends') as batch:
        batch.add_column(sa.Column('text', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_sends') as batch:
        batch.drop_column('text')
