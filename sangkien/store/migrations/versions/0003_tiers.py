"""tiers: unit successors, count history, child nodes and their tokens, submissions received, pushes sent

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COUNTS = ('records', 'initiatives', 'valid', 'pending', 'rejected', 'ineligible', 'registrants')


def _count_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS] + [
        sa.Column('benefit_vnd', sa.Float(), nullable=False)]


def upgrade() -> None:
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('successor_code', sa.String(length=64), nullable=True))
    op.create_table('count_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    *_count_columns(),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_count_history_unit_phase', 'count_history', ['unit_code', 'phase', 'as_of'])
    op.create_table('child_nodes',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('token_hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key', name='uq_submission_idempotency_key')
    )
    op.create_index('ix_submissions_node_as_of', 'submissions', ['node', 'as_of'])
    op.create_table('submission_units',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    *_count_columns(),
    sa.Column('duplicates_removed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'unit_code', 'phase')
    )
    op.create_table('submission_entries',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('entry_no', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('benefit_vnd', sa.Float(), nullable=True),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('keys', sa.Text(), nullable=False),
    sa.Column('people', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'entry_no')
    )
    op.create_table('submission_ineligible',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'unit_code', 'phase')
    )
    op.create_table('pushes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('upstream', sa.Text(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('pushes')
    op.drop_table('submission_ineligible')
    op.drop_table('submission_entries')
    op.drop_table('submission_units')
    op.drop_index('ix_submissions_node_as_of', table_name='submissions')
    op.drop_table('submissions')
    op.drop_table('child_nodes')
    op.drop_index('ix_count_history_unit_phase', table_name='count_history')
    op.drop_table('count_history')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_column('successor_code')
