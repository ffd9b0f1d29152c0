"""time span and composite indexes for file-level queries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 06:57:31.876650
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('data_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('span_s', sa.Float(), nullable=True))
        batch_op.create_index('ix_data_file_cluster_start', ['cluster', 'start_utc'], unique=False)
        batch_op.create_index('ix_data_file_facility_start', ['facility_id', 'start_utc'], unique=False)
        batch_op.create_index('ix_data_file_release_start', ['release_id', 'start_utc'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_file_span_s'), ['span_s'], unique=False)
        batch_op.create_index('ix_data_file_station_start', ['station', 'start_utc'], unique=False)
        batch_op.create_index('ix_data_file_storage_start', ['storage_id', 'start_utc'], unique=False)
    # fill the new column for files catalogued before this revision
    if op.get_bind().dialect.name == "sqlite":
        span = "(julianday(end_utc) - julianday(start_utc)) * 86400.0"
    else:
        span = "EXTRACT(EPOCH FROM end_utc - start_utc)"
    op.execute(f"UPDATE data_file SET span_s = {span} "
               "WHERE start_utc IS NOT NULL AND end_utc IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('data_file', schema=None) as batch_op:
        batch_op.drop_index('ix_data_file_storage_start')
        batch_op.drop_index('ix_data_file_station_start')
        batch_op.drop_index(batch_op.f('ix_data_file_span_s'))
        batch_op.drop_index('ix_data_file_release_start')
        batch_op.drop_index('ix_data_file_facility_start')
        batch_op.drop_index('ix_data_file_cluster_start')
        batch_op.drop_column('span_s')

