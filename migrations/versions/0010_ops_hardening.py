"""ops hardening: sealed outbox bodies and their headers, invitation limits, names cleaned

Revision ID: 0a1e7c5d9b10
Revises: e688e1c7e927
Create Date: 2026-11-30 12:00:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0a1e7c5d9b10'
down_revision = 'e688e1c7e927'
branch_labels = None
depends_on = None


def _strip_invisible(text):
    """Remove format characters (zero-width, bidi), then squash spaces (as cvn.inputs.clean_name)."""
    if text is None or text.isascii():
        return text
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) != "Cf").split())


def _clean_names():
    """Strip invisible characters from names already stored, and recompute the search key."""
    from cvn.carnets.services import search_key

    conn = op.get_bind()
    carnets = sa.table("carnet", sa.column("id", sa.Integer), sa.column("last_name", sa.String),
                       sa.column("first_names", sa.String), sa.column("search_name", sa.String))
    for row in conn.execute(sa.select(carnets)).mappings():
        last, first = _strip_invisible(row["last_name"]), _strip_invisible(row["first_names"])
        key = search_key(last, first)
        if (last, first, key) != (row["last_name"], row["first_names"], row["search_name"]):
            conn.execute(carnets.update().where(carnets.c.id == row["id"])
                         .values(last_name=last, first_names=first, search_name=key))
    users = sa.table("user_account", sa.column("id", sa.Integer), sa.column("first_name", sa.String),
                     sa.column("last_name", sa.String))
    for row in conn.execute(sa.select(users)).mappings():
        first, last = _strip_invisible(row["first_name"]), _strip_invisible(row["last_name"])
        if (first, last) != (row["first_name"], row["last_name"]):
            conn.execute(users.update().where(users.c.id == row["id"]).values(first_name=first, last_name=last))


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_sender', ['created_by_id', 'created_at'], unique=False)
        batch_op.create_index('ix_invitation_email', ['email', 'created_at'], unique=False)

    _clean_names()


def downgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index('ix_invitation_email')
        batch_op.drop_index('ix_invitation_sender')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('headers')
        batch_op.drop_column('sealed')
