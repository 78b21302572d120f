"""quotas carry who assigned them (several targets per unit and phase); member counts per unit, dated

A quota without an assigner was assigned by the unit's parent (the unit itself at the top of
the tree): that is what every figure meant before, so the figures stay the same.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE quotas SET assigned_by = (SELECT o.parent_code FROM org_units o "
               "WHERE o.code = quotas.unit_code) WHERE assigned_by IS NULL")
    op.execute("UPDATE quotas SET assigned_by = unit_code WHERE assigned_by IS NULL")
    op.create_table('quotas_assigned',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('basis', sa.String(length=32), server_default='valid', nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'phase', 'assigned_by', 'basis')
    )
    op.execute("INSERT INTO quotas_assigned (unit_code, phase, assigned_by, basis, target) "
               "SELECT unit_code, phase, assigned_by, basis, target FROM quotas")
    op.drop_table('quotas')
    op.rename_table('quotas_assigned', 'quotas')
    op.create_table('unit_members',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('members', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('unit_code', 'as_of')
    )


def downgrade() -> None:
    op.drop_table('unit_members')
    op.create_table('quotas_single',
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('basis', sa.String(length=32), server_default='valid', nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('unit_code', 'phase')
    )
    # one target per unit and phase: the one assigned from above, else any
    op.execute("INSERT INTO quotas_single (unit_code, phase, target, basis, assigned_by) "
               "SELECT q.unit_code, q.phase, q.target, q.basis, q.assigned_by FROM quotas q "
               "WHERE NOT EXISTS (SELECT 1 FROM quotas o WHERE o.unit_code = q.unit_code AND o.phase = q.phase "
               "AND (o.assigned_by <> o.unit_code) > (q.assigned_by <> q.unit_code) "
               "OR (o.unit_code = q.unit_code AND o.phase = q.phase "
               "AND (o.assigned_by <> o.unit_code) = (q.assigned_by <> q.unit_code) "
               "AND (o.assigned_by || o.basis) < (q.assigned_by || q.basis)))")
    op.drop_table('quotas')
    op.rename_table('quotas_single', 'quotas')
