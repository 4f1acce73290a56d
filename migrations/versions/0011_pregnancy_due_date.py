"""pregnancy dates: the expected term of the holder's current pregnancy

Revision ID: 0011engine01
Revises: 0a1e7c5d9b10
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011engine01'
down_revision = '0a1e7c5d9b10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("carnet") as batch:
        batch.add_column(sa.Column("pregnancy_due_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("carnet") as batch:
        batch.drop_column("pregnancy_due_on")
