"""initial catalogue schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 06:32:56.454684
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('export_request',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=False),
    sa.Column('created_utc', sa.DateTime(), nullable=False),
    sa.Column('updated_utc', sa.DateTime(), nullable=False),
    sa.Column('expires_utc', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('result_name', sa.Text(), nullable=True),
    sa.Column('n_events', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_request_owner'), ['owner'], unique=False)

    op.create_table('facility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('experiment', sa.String(length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description_file', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('thesaurus_term',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('facility_id', 'kind', 'number')
    )
    op.create_table('run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('facility_id', 'name')
    )
    op.create_table('storage_instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('experiment', sa.String(length=32), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_group.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('term_synonym',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('experiment', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('conversion', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['term_id'], ['thesaurus_term.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('term_id', 'experiment', 'name')
    )
    with op.batch_alter_table('term_synonym', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_term_synonym_name'), ['name'], unique=False)

    op.create_table('release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('experiment', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('doi', sa.String(length=128), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('licence', sa.String(length=64), nullable=False),
    sa.Column('publisher', sa.Text(), nullable=False),
    sa.Column('provenance', sa.Text(), nullable=False),
    sa.Column('access_group_id', sa.Integer(), nullable=False),
    sa.Column('storage_id', sa.Integer(), nullable=True),
    sa.Column('created_utc', sa.DateTime(), nullable=False),
    sa.Column('updated_utc', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['access_group_id'], ['access_group.id'], ),
    sa.ForeignKeyConstraint(['storage_id'], ['storage_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('experiment', 'name'),
    sa.UniqueConstraint('uuid')
    )
    with op.batch_alter_table('release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_updated_utc'), ['updated_utc'], unique=False)

    op.create_table('data_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('storage_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('sequence_number', sa.Integer(), nullable=True),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('start_utc', sa.DateTime(), nullable=True),
    sa.Column('end_utc', sa.DateTime(), nullable=True),
    sa.Column('cluster', sa.Integer(), nullable=True),
    sa.Column('station', sa.Integer(), nullable=True),
    sa.Column('n_events', sa.BigInteger(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.ForeignKeyConstraint(['release_id'], ['release.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], ),
    sa.ForeignKeyConstraint(['storage_id'], ['storage_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_id', 'path'),
    sa.UniqueConstraint('uuid')
    )
    with op.batch_alter_table('data_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_file_cluster'), ['cluster'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_file_end_utc'), ['end_utc'], unique=False)
        batch_op.create_index('ix_data_file_facility_date', ['facility_id', 'date'], unique=False)
        batch_op.create_index('ix_data_file_release', ['release_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_file_start_utc'), ['start_utc'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_file_station'), ['station'], unique=False)

    op.create_table('file_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('path_kind', sa.String(length=2), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('extracted_utc', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('parse_error', sa.Text(), nullable=True),
    sa.Column('n_packages', sa.BigInteger(), nullable=True),
    sa.Column('n_events', sa.BigInteger(), nullable=True),
    sa.Column('first_event', sa.BigInteger(), nullable=True),
    sa.Column('last_event', sa.BigInteger(), nullable=True),
    sa.Column('first_time_ns', sa.BigInteger(), nullable=True),
    sa.Column('last_time_ns', sa.BigInteger(), nullable=True),
    sa.Column('start_utc', sa.DateTime(), nullable=True),
    sa.Column('end_utc', sa.DateTime(), nullable=True),
    sa.Column('cluster', sa.Integer(), nullable=True),
    sa.Column('station', sa.Integer(), nullable=True),
    sa.Column('optical_line_length', sa.Integer(), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['data_file.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_id', 'version')
    )
    with op.batch_alter_table('file_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_version_sha256'), ['sha256'], unique=False)

    op.create_table('event_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('min_value', sa.Float(), nullable=True),
    sa.Column('max_value', sa.Float(), nullable=True),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['data_file.id'], ),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_version.id'], ),
    sa.ForeignKeyConstraint(['term_id'], ['thesaurus_term.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_version_id', 'term_id')
    )
    with op.batch_alter_table('event_summary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_summary_file_id'), ['file_id'], unique=False)
        batch_op.create_index('ix_event_summary_term_range', ['term_id', 'min_value', 'max_value'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('event_summary', schema=None) as batch_op:
        batch_op.drop_index('ix_event_summary_term_range')
        batch_op.drop_index(batch_op.f('ix_event_summary_file_id'))

    op.drop_table('event_summary')
    with op.batch_alter_table('file_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_version_sha256'))

    op.drop_table('file_version')
    with op.batch_alter_table('data_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_file_station'))
        batch_op.drop_index(batch_op.f('ix_data_file_start_utc'))
        batch_op.drop_index('ix_data_file_release')
        batch_op.drop_index('ix_data_file_facility_date')
        batch_op.drop_index(batch_op.f('ix_data_file_end_utc'))
        batch_op.drop_index(batch_op.f('ix_data_file_cluster'))

    op.drop_table('data_file')
    with op.batch_alter_table('release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_updated_utc'))

    op.drop_table('release')
    with op.batch_alter_table('term_synonym', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_term_synonym_name'))

    op.drop_table('term_synonym')
    op.drop_table('storage_instance')
    op.drop_table('run')
    op.drop_table('equipment')
    op.drop_table('thesaurus_term')
    op.drop_table('facility')
    with op.batch_alter_table('export_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_request_owner'))

    op.drop_table('export_request')
    op.drop_table('access_group')
