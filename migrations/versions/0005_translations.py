"""petition translations, and the language of each petition's own text

Revision ID: 0005_translations
Revises: 0004_organisers
Create Date: 2026-11-26 17:11:11.800899

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_translations'
down_revision = '0004_organisers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), server_default='en', nullable=False))
    op.create_table('petition_translations',
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=1000), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_petition_translations_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('petition_id', 'locale', name=op.f('pk_petition_translations'))
    )


def downgrade():
    op.drop_table('petition_translations')
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('locale')
