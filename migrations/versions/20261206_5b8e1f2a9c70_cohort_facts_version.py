"""cohort facts version: bumped by every change to a fact the dashboard computes per learner,
the key of the cached facts (issue 18)

Revision ID: 5b8e1f2a9c70
Revises: d4e8a1f2c7b5
Create Date: 2026-12-06 01:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b8e1f2a9c70'
down_revision = 'd4e8a1f2c7b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_column('facts_version')
