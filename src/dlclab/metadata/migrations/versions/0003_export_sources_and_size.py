"""export requests record their sources (storages, releases) and their size

The service re-checks at status and download that an export's owner may still read every
storage and release it was made from, and counts finished exports' bytes against the
per-user quota. Requests made before this revision keep NULL (the service refuses to
serve them: their sources are unknown).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('export_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sources', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('size_bytes', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('export_request', schema=None) as batch_op:
        batch_op.drop_column('size_bytes')
        batch_op.drop_column('sources')
