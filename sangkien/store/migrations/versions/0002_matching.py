"""matching: evidence links, the review queue, node settings, members' resolved content

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('initiative_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
    op.create_table('match_links',
    sa.Column('raw_id_a', sa.Integer(), nullable=False),
    sa.Column('raw_id_b', sa.Integer(), nullable=False),
    sa.Column('initiative_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['raw_id_a'], ['raw_records.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['raw_id_b'], ['raw_records.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('raw_id_a', 'raw_id_b')
    )
    with op.batch_alter_table('match_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_links_initiative_id'), ['initiative_id'], unique=False)
    op.create_table('review_pairs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('raw_id_a', sa.Integer(), nullable=False),
    sa.Column('raw_id_b', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('model_merged', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('created_run', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('applied', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['raw_id_a'], ['raw_records.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['raw_id_b'], ['raw_records.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('raw_id_a', 'raw_id_b', name='uq_review_pair')
    )
    op.create_table('node_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('node_settings')
    op.drop_table('review_pairs')
    with op.batch_alter_table('match_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_links_initiative_id'))
    op.drop_table('match_links')
    with op.batch_alter_table('initiative_members', schema=None) as batch_op:
        batch_op.drop_column('content_hash')
