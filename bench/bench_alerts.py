"""Daily alerts job: 100,000 opted-in carnets in under 30 seconds (target).

Builds 100,000 carnets with doses and an owner subscribed to each, then times
the first run of the job (every due dose new: evaluation, announcements, outbox
messages), the next day's run (only carnets whose check date came, or that
changed), and a forced pass re-evaluating every carnet.
Runs on SQLite, and on PostgreSQL too when CVN_BENCH_DATABASE_URL is set.
"""
from __future__ import annotations

import os
import time
from datetime import date, datetime, timedelta, timezone

from flask_migrate import upgrade
from sqlalchemy import func, insert, select, update

from bench.data import make_professional, on_each_backend, populate
from cvn import create_app
from cvn.alerts.services import run_daily
from cvn.extensions import db
from cvn.models import AlertSubscription, Carnet, Ownership, Role, User

TOTAL = int(os.environ.get("CVN_BENCH_ALERTS_CARNETS", "100000"))
ON = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 7, tzinfo=timezone.utc)


def _owners_and_subscriptions(total: int) -> None:
    """Give every carnet an owner (one per 2 carnets) subscribed to alerts."""
    owners = [dict(email=f"owner{i}@exemple.fr", first_name="Owner", last_name=str(i), role=Role.PATIENT.value,
                   is_admin=False, auth_version=1, password_hash="x") for i in range(total // 2 + 1)]
    for start in range(0, len(owners), 5000):
        db.session.execute(insert(User.__table__), owners[start:start + 5000])
    first_owner = db.session.scalar(select(func.min(User.id)).where(User.email.like("owner%")))
    ids = list(db.session.scalars(select(Carnet.id).order_by(Carnet.id)))
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        db.session.execute(insert(Ownership.__table__), [
            dict(carnet_id=cid, user_id=first_owner + i // 2, since=NOW) for i, cid in enumerate(chunk, start)])
        db.session.execute(insert(AlertSubscription.__table__), [
            dict(carnet_id=cid, user_id=first_owner + i // 2, created_at=NOW) for i, cid in enumerate(chunk, start)])
    db.session.commit()


def run(url: str, label: str) -> None:
    from tests.conftest import _drop_everything

    _drop_everything(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "CVN_ENV": "testing",
                      "SECRET_KEY": "bench", "CVN_SCHEDULER": False, "CVN_BASE_URL": "https://cvn.example"})
    with app.app_context():
        upgrade()
        me = make_professional(1)
        db.session.commit()
        populate(TOTAL, {me.id: 1000}, doses_per_carnet=4)
        _owners_and_subscriptions(TOTAL)
        t0 = time.perf_counter()
        first = run_daily(ON)
        t1 = time.perf_counter()
        nxt = run_daily(ON + timedelta(days=1))
        t2 = time.perf_counter()
        db.session.execute(update(AlertSubscription).values(next_check_on=None))  # force a full pass
        db.session.commit()
        run_daily(ON + timedelta(days=1))
        t3 = time.perf_counter()
        print(f"  {label}: {TOTAL:,} carnets — first run {t1 - t0:.1f} s ({first.announced:,} announcements, "
              f"{first.messages:,} messages); next day {t2 - t1:.1f} s ({nxt.carnets:,} carnets looked at, "
              f"{nxt.messages} messages); every carnet re-evaluated {t3 - t2:.1f} s "
              f"({TOTAL / (t3 - t2):,.0f} carnets/s); target < 30 s")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    on_each_backend(run)


if __name__ == "__main__":
    main()
