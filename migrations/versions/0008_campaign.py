"""campaign: who runs a petition (organiser name and contact), and for an ECI its registration number
and the address of its page on the Commission's central online collection system

Revision ID: 0008_campaign
Revises: 0006_moderation
Create Date: 2026-12-03 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_campaign'
down_revision = '0007_signature_details'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organiser_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('organiser_contact', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('eci_registration_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('eci_signing_url', sa.String(length=500), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_petitions_eci_number_only_for_eci'), "eci_registration_number IS NULL OR rules = 'eci'"
        )
        batch_op.create_check_constraint(
            op.f('ck_petitions_eci_signing_url_only_for_eci'), "eci_signing_url IS NULL OR rules = 'eci'"
        )


def downgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_petitions_eci_signing_url_only_for_eci'), type_='check')
        batch_op.drop_constraint(op.f('ck_petitions_eci_number_only_for_eci'), type_='check')
        batch_op.drop_column('eci_signing_url')
        batch_op.drop_column('eci_registration_number')
        batch_op.drop_column('organiser_contact')
        batch_op.drop_column('organiser_name')
