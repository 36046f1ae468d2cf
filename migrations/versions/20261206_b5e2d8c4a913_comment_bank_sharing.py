"""comment bank: comments keep the cohort they were saved in and may be shared with its mentors

Revision ID: b5e2d8c4a913
Revises: 7f3a9c1d2e4b
Create Date: 2026-12-06 01:00:00

Existing comments get no cohort and are not shared: each stays visible to its author.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b5e2d8c4a913'
down_revision = '7f3a9c1d2e4b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_bank_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohort_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shared', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_comment_bank_entry_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comment_bank_entry_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_comment_bank_entry_cohort_id_cohort'), 'cohort',
                                    ['cohort_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('comment_bank_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comment_bank_entry_cohort_id_cohort'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_comment_bank_entry_cohort_id'))
        batch_op.drop_index(batch_op.f('ix_comment_bank_entry_author_id'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('shared')
        batch_op.drop_column('cohort_id')
