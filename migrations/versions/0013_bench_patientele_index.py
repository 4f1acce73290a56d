"""patientèle driven from the professional's open accesses: a covering partial index

Revision ID: 0013bench001
Revises: 0011engine01
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013bench001'
down_revision = '0011engine01'
branch_labels = None
depends_on = None


def upgrade():
    # A professional's open accesses and their carnet ids in one index (index-only scan),
    # the start of the patientèle's nested loop into carnet's primary key.
    op.create_index('ix_carnet_access_open_professional', 'carnet_access', ['professional_id', 'carnet_id'],
                    unique=False, sqlite_where=sa.text('ended_at IS NULL'),
                    postgresql_where=sa.text('ended_at IS NULL'))


def downgrade():
    op.drop_index('ix_carnet_access_open_professional', table_name='carnet_access')
