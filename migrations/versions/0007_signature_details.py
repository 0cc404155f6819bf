"""signatures: a keyed digest of the details each confirmation link confirms, other details
submitted for a pending signature, and the day the per-signature email budget was last spent

Revision ID: 0007_signature_details
Revises: 0006_moderation
Create Date: 2026-12-03 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_signature_details'
down_revision = '0006_moderation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        # NULL for signatures taken before this revision: links sent for them carry no digest either.
        batch_op.add_column(sa.Column('details_digest', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('emails_sent_on', sa.Date(), nullable=True))
    op.create_table('signature_submissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signature_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('details_digest', sa.String(length=16), nullable=False),
    sa.Column('email_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('first_name_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('last_name_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('keep_informed', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_signature_submissions_signature_id_signatures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_submissions')),
    sa.UniqueConstraint('signature_id', 'details_digest', name=op.f('uq_signature_submissions_signature_id_details_digest'))
    )


def downgrade():
    op.drop_table('signature_submissions')
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('emails_sent_on')
        batch_op.drop_column('details_digest')
