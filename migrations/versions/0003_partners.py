"""partners: sites that collect signatures by widget or API key

Revision ID: 0003_partners
Revises: 0001
Create Date: 2026-11-26 17:05:11.395221

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_partners'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_partners_key_hash')),
    sa.UniqueConstraint('public_id', name=op.f('uq_partners_public_id'))
    )
    op.create_table('partner_origins',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_origins_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partner_id', 'origin', name=op.f('pk_partner_origins'))
    )
    op.create_table('partner_petitions',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_petitions_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_partner_petitions_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partner_id', 'petition_id', name=op.f('pk_partner_petitions'))
    )
    with op.batch_alter_table('partner_petitions', schema=None) as batch_op:
        batch_op.create_index('ix_partner_petitions_petition_id', ['petition_id'], unique=False)

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_petition_source_status', ['petition_id', 'source', 'status'], unique=False)



def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_petition_source_status')

    with op.batch_alter_table('partner_petitions', schema=None) as batch_op:
        batch_op.drop_index('ix_partner_petitions_petition_id')

    op.drop_table('partner_petitions')
    op.drop_table('partner_origins')
    op.drop_table('partners')
