"""outbound: the notification API's idempotency keys

Revision ID: 0045_notifications
Revises: 0043_outbound
Create Date: 2026-12-08 10:00:00

One row per ``Idempotency-Key`` of a client: the request's hash and the first answer.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0045_notifications'
down_revision: str | None = '0043_outbound'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbound_notification_keys',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_outbound_notification_keys_client_id_clients'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                            name=op.f('fk_outbound_notification_keys_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_notification_keys')),
    sa.UniqueConstraint('client_id', 'key', name=op.f('uq_outbound_notification_keys_client_id_key'))
    )


def downgrade() -> None:
    op.drop_table('outbound_notification_keys')
