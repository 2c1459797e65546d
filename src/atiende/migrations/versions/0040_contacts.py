"""contacts directory: email, document, attributes, erasure; one contact per phone and client;
settings, consent per channel with history, imports with their row report

Revision ID: 0040_contacts
Revises: 0042_badinput
Create Date: 2026-12-07 02:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0040_contacts'
down_revision: str | None = '0044_rollups'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_NULL_PHONE = sa.text('phone IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('document_id', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('attributes', sa.JSON(), nullable=False, server_default='{}'))
        batch.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('contacts') as batch:
        batch.alter_column('attributes', server_default=None)
    # Twins made before the phone was unique keep their conversations; the younger ones lose the
    # phone (the oldest keeps it, as routing always chose the oldest) so the index can be built.
    op.execute(sa.text(
        "UPDATE contacts SET phone = NULL WHERE phone IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM contacts WHERE phone IS NOT NULL GROUP BY client_id, phone)"))
    with op.batch_alter_table('contacts') as batch:
        batch.drop_index('ix_contacts_client_phone')
        batch.create_index('uq_contacts_client_phone', ['client_id', 'phone'], unique=True,
                           postgresql_where=_NOT_NULL_PHONE, sqlite_where=_NOT_NULL_PHONE)
        batch.create_index('ix_contacts_client_document', ['client_id', 'document_id'], unique=False)
        batch.create_index('ix_contacts_client_email', ['client_id', 'email'], unique=False)

    op.create_table(
        'contact_settings',
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('opt_out_keywords', sa.JSON(), nullable=False),
        sa.Column('opt_in_keywords', sa.JSON(), nullable=False),
        sa.Column('opt_out_reply', sa.Text(), nullable=False),
        sa.Column('opt_in_reply', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_contact_settings_client_id_clients'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('client_id', name=op.f('pk_contact_settings')),
    )
    op.create_table(
        'contact_consents',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('channel_kind', sa.String(length=32), nullable=False),
        sa.Column('opted_out', sa.Boolean(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_consents_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_consents')),
        sa.UniqueConstraint('contact_id', 'channel_kind', name=op.f('uq_contact_consents_contact_id_channel_kind')),
    )
    op.create_table(
        'consent_changes',
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('channel_kind', sa.String(length=32), nullable=False),
        sa.Column('opted_out', sa.Boolean(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_consent_changes_client_id_clients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_consent_changes_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'],
                                name=op.f('fk_consent_changes_membership_id_memberships'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_changes')),
    )
    with op.batch_alter_table('consent_changes') as batch:
        batch.create_index(batch.f('ix_consent_changes_client_id'), ['client_id'], unique=False)
        batch.create_index('ix_consent_changes_contact', ['contact_id', 'at'], unique=False)
    op.create_table(
        'contact_imports',
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('stored_path', sa.String(length=500), nullable=False),
        sa.Column('file_format', sa.String(length=8), nullable=False),
        sa.Column('encoding', sa.String(length=20), nullable=True),
        sa.Column('delimiter', sa.String(length=1), nullable=True),
        sa.Column('columns', sa.JSON(), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('default_region', sa.String(length=2), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('total_rows', sa.Integer(), nullable=True),
        sa.Column('processed', sa.Integer(), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('duplicates', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_row', sa.Integer(), nullable=True),
        sa.Column('error_column', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_contact_imports_client_id_clients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'],
                                name=op.f('fk_contact_imports_membership_id_memberships'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_imports')),
    )
    with op.batch_alter_table('contact_imports') as batch:
        batch.create_index(batch.f('ix_contact_imports_client_id'), ['client_id'], unique=False)
    op.create_table(
        'contact_import_rows',
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('column', sa.String(length=120), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['contact_imports.id'],
                                name=op.f('fk_contact_import_rows_import_id_contact_imports'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_import_rows')),
        sa.UniqueConstraint('import_id', 'row_number', name=op.f('uq_contact_import_rows_import_id_row_number')),
    )


def downgrade() -> None:
    op.drop_table('contact_import_rows')
    with op.batch_alter_table('contact_imports') as batch:
        batch.drop_index(batch.f('ix_contact_imports_client_id'))
    op.drop_table('contact_imports')
    with op.batch_alter_table('consent_changes') as batch:
        batch.drop_index('ix_consent_changes_contact')
        batch.drop_index(batch.f('ix_consent_changes_client_id'))
    op.drop_table('consent_changes')
    op.drop_table('contact_consents')
    op.drop_table('contact_settings')
    with op.batch_alter_table('contacts') as batch:
        batch.drop_index('ix_contacts_client_email')
        batch.drop_index('ix_contacts_client_document')
        batch.drop_index('uq_contacts_client_phone')
        batch.create_index('ix_contacts_client_phone', ['client_id', 'phone'], unique=False)
        batch.drop_column('erased_at')
        batch.drop_column('updated_at')
        batch.drop_column('attributes')
        batch.drop_column('document_id')
        batch.drop_column('email')
