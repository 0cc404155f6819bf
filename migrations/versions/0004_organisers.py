"""organisers: login sessions and failures, text revisions, paper entries, export log, hourly
activity; outbox rows for organisers; petition closing, submission and retention dates

Revision ID: 0004_organisers
Revises: 0003_partners
Create Date: 2026-11-26 17:06:44.954757

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_organisers'
down_revision = '0003_partners'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_key_failed_at', ['key', 'failed_at'], unique=False)

    op.create_table('export_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('organiser_email', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_export_records_organiser_id_organisers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_export_records_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_records'))
    )
    with op.batch_alter_table('export_records', schema=None) as batch_op:
        batch_op.create_index('ix_export_records_petition_started', ['petition_id', 'started_at'], unique=False)

    op.create_table('organiser_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_organiser_sessions_organiser_id_organisers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_organiser_sessions'))
    )
    with op.batch_alter_table('organiser_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organiser_sessions_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('paper_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('tally', 'statements', name='paper_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind = 'tally' OR count > 0", name=op.f('ck_paper_entries_statements_positive')),
    sa.CheckConstraint('count <> 0', name=op.f('ck_paper_entries_count_not_zero')),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_paper_entries_organiser_id_organisers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_paper_entries_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_entries'))
    )
    with op.batch_alter_table('paper_entries', schema=None) as batch_op:
        batch_op.create_index('ix_paper_entries_petition_country', ['petition_id', 'country'], unique=False)

    op.create_table('petition_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=1000), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organisers.id'], name=op.f('fk_petition_revisions_organiser_id_organisers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_petition_revisions_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_revisions'))
    )
    with op.batch_alter_table('petition_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_petition_revisions_petition_created', ['petition_id', 'created_at'], unique=False)

    op.create_table('signature_activity',
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('signed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('confirmed', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_signature_activity_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('petition_id', 'hour', 'source', 'shard', name=op.f('pk_signature_activity'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organiser_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('detail', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_organiser_id_organisers'), 'organisers', ['organiser_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('submitted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('personal_data_purged_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('personal_data_purged_at')
        batch_op.drop_column('retention_months')
        batch_op.drop_column('submitted_on')
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_organiser_id_organisers'), type_='foreignkey')
        batch_op.drop_column('detail')
        batch_op.drop_column('organiser_id')

    op.drop_table('signature_activity')
    with op.batch_alter_table('petition_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_revisions_petition_created')

    op.drop_table('petition_revisions')
    with op.batch_alter_table('paper_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_paper_entries_petition_country')

    op.drop_table('paper_entries')
    with op.batch_alter_table('organiser_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organiser_sessions_organiser_id'))

    op.drop_table('organiser_sessions')
    with op.batch_alter_table('export_records', schema=None) as batch_op:
        batch_op.drop_index('ix_export_records_petition_started')

    op.drop_table('export_records')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_key_failed_at')

    op.drop_table('login_failures')
