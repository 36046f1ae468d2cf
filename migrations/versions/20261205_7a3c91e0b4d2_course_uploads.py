"""course uploads and authors

Revision ID: 7a3c91e0b4d2
Revises: 52669e7f23f2
Create Date: 2026-12-05 22:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7a3c91e0b4d2'
down_revision = '52669e7f23f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_course_upload_published_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_course_upload_uploaded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_upload'))
    )
    with op.batch_alter_table('course_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_upload_course_slug'), ['course_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_upload_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('course_author',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_author_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user.id'], name=op.f('fk_course_author_granted_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_course_author_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_author')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_course_author_course_id_user_id'))
    )
    with op.batch_alter_table('course_author', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_author_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_author_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upload_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('upload_id')
    with op.batch_alter_table('course_author', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_author_user_id'))
        batch_op.drop_index(batch_op.f('ix_course_author_course_id'))
    op.drop_table('course_author')
    with op.batch_alter_table('course_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_upload_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_course_upload_course_slug'))
    op.drop_table('course_upload')
