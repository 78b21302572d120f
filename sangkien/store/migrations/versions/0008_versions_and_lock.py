"""versions and lock: every content of a record kept (record_versions), the source's clock on the
current one, stale rows and notes in a run's totals, and the store's one-writer lock

Numbered 0008 to leave 0007 to the summary tables built beside it (issue 18): whichever of the
two lands second takes the other as its down_revision.

Revision ID: 0008
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('raw_records') as batch:
        batch.add_column(sa.Column('clock', sa.Text(), nullable=True))
    with op.batch_alter_table('sync_run_sources') as batch:
        batch.add_column(sa.Column('stale', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('notes', sa.Text(), nullable=True))
    op.create_table('record_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('raw_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('clock', sa.Text(), nullable=True),
    sa.Column('origin', sa.Text(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('replaced_run', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['raw_id'], ['raw_records.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_record_versions_raw_id', 'record_versions', ['raw_id'])
    op.create_index('ix_record_versions_content_hash', 'record_versions', ['content_hash'])
    op.create_table('store_lock',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('process_start', sa.String(length=96), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('store_lock')
    op.drop_index('ix_record_versions_content_hash', table_name='record_versions')
    op.drop_index('ix_record_versions_raw_id', table_name='record_versions')
    op.drop_table('record_versions')
    with op.batch_alter_table('sync_run_sources') as batch:
        batch.drop_column('notes')
        batch.drop_column('stale')
    with op.batch_alter_table('raw_records') as batch:
        batch.drop_column('clock')
