"""Daily alerts job: 100,000 opted-in carnets in under 30 seconds (target).

Builds 100,000 carnets with doses and an owner subscribed to each, then times
one run of the job (evaluation, announcements, outbox messages) and a second
run the same day (nothing new). Reports seconds and carnets per second.
Runs on SQLite, and on PostgreSQL too when CVN_BENCH_DATABASE_URL is set.
"""
from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone

from flask_migrate import upgrade
from sqlalchemy import func, insert, select

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
        second = run_daily(ON)
        t2 = time.perf_counter()
        print(f"  {label}: {TOTAL:,} carnets — first run {t1 - t0:.1f} s "
              f"({TOTAL / (t1 - t0):,.0f} carnets/s; {first.announced:,} announcements, "
              f"{first.messages:,} messages); same day again {t2 - t1:.1f} s ({second.messages} messages); "
              f"target < 30 s")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    on_each_backend(run)


if __name__ == "__main__":
    main()
