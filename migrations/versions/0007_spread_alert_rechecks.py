"""spread weekly alert re-checks over the seven days

Before: a subscription's weekly re-check fell 7 days after its last check, so
subscriptions made the same day were all re-checked on the same day (a full
pass every seventh day). Now each carnet has its own weekday (id modulo 7).
This moves each existing re-check to the carnet's weekday on or before the
old date, never later, so nothing that was due to be looked at is missed.

Revision ID: c9398a624a83
Revises: 5d7aaea9455c
Create Date: 2026-11-30 10:40:00
"""
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = 'c9398a624a83'
down_revision = '5d7aaea9455c'
branch_labels = None
depends_on = None

subscription = sa.table("alert_subscription", sa.column("id", sa.Integer), sa.column("carnet_id", sa.Integer),
                        sa.column("next_check_on", sa.Date))


def spread(carnet_id: int, next_check: date) -> date:
    """Return the carnet's weekday (id modulo 7) on or before ``next_check``."""
    return next_check - timedelta(days=(next_check.toordinal() - carnet_id) % 7)


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.select(subscription.c.id, subscription.c.carnet_id, subscription.c.next_check_on)
                        .where(subscription.c.next_check_on.isnot(None))).all()
    changes = [{"sid": sid, "next": spread(cid, nxt)} for sid, cid, nxt in rows if spread(cid, nxt) != nxt]
    for start in range(0, len(changes), 5000):
        conn.execute(subscription.update().where(subscription.c.id == sa.bindparam("sid"))
                     .values(next_check_on=sa.bindparam("next")), changes[start:start + 5000])


def downgrade():
    pass  # the old dates were only an optimisation; the spread ones stay valid
