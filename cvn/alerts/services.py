"""Opt-in e-mail alerts when a dose falls due, and the daily job that sends them.

Each announcement (carnet, disease, dose, due date) is inserted into
``alert_sent`` under a unique key with "insert … on conflict do nothing
returning": only the process that inserts it writes the message, in the same
transaction. So a job run twice, or by two workers at once, never announces the
same dose twice, and nothing is lost if it stops half-way.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cvn.access import AccessLost, is_owner
from cvn.audit import audit
from cvn.clock import today, utcnow
from cvn.extensions import db
from cvn.models import AlertSent, AlertSubscription, Carnet, JobLock, Ownership, User
from cvn.outbox.services import queue_mail
from cvn.schedule.catalogue import disease_label
from cvn.schedule.engine import evaluate
from cvn.schedule.engine import Person
from cvn.status.services import records_by_carnet
from cvn.web import absolute_url

#: Doses due within this many days are announced ahead.
AHEAD = timedelta(days=14)
#: A carnet nothing points to is re-evaluated at least this often (age-based changes).
RECHECK = timedelta(days=7)
BATCH = 1000
JOB = "alerts"


# --- Subscriptions ------------------------------------------------------------

def is_subscribed(user: User, carnet: Carnet) -> bool:
    return db.session.scalar(select(AlertSubscription.id).where(
        AlertSubscription.carnet_id == carnet.id, AlertSubscription.user_id == user.id)) is not None


def subscribe(user: User, carnet: Carnet, on: bool) -> None:
    """Turn alerts on or off for this owner and carnet."""
    if not is_owner(user, carnet):
        raise AccessLost()
    current = db.session.scalar(select(AlertSubscription).where(
        AlertSubscription.carnet_id == carnet.id, AlertSubscription.user_id == user.id))
    if on and current is None:
        db.session.add(AlertSubscription(carnet_id=carnet.id, user_id=user.id, created_at=utcnow()))
        audit(carnet, user, "alerts.on")
    elif not on and current is not None:
        db.session.delete(current)
        audit(carnet, user, "alerts.off")
    db.session.commit()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="cvn-alerts-unsubscribe")


def unsubscribe_token(carnet_id: int, user_id: int) -> str:
    """Return the signed token of a one-click unsubscribe link."""
    return _serializer().dumps([carnet_id, user_id])


def one_click_headers(unsubscribe_link: str) -> dict[str, str]:
    """Return the headers that let a mail client unsubscribe in one click (RFC 8058)."""
    return {"List-Unsubscribe": f"<{unsubscribe_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def unsubscribe_with(token: str) -> Carnet | None:
    """Stop the alerts named by a signed token; return the carnet, or None if the token is bad."""
    try:
        carnet_id, user_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    carnet = db.session.get(Carnet, carnet_id)
    user = db.session.get(User, user_id)
    if carnet is None or user is None:
        return None
    subscription = db.session.scalar(select(AlertSubscription).where(
        AlertSubscription.carnet_id == carnet_id, AlertSubscription.user_id == user_id))
    if subscription is not None:
        db.session.delete(subscription)
        audit(carnet, user, "alerts.off")
        db.session.commit()
    return carnet


# --- The daily job ------------------------------------------------------------

def _known_keys(carnet_ids: list[int]) -> set[tuple]:
    """Return the announcements already made for these carnets (most days, all of them)."""
    table = AlertSent.__table__
    return set(db.session.execute(select(table.c.carnet_id, table.c.disease, table.c.dose, table.c.due_date)
                                  .where(table.c.carnet_id.in_(carnet_ids))).tuples())


def _insert_new(keys: set[tuple]) -> list[tuple]:
    """Insert announcements; return the keys this process inserted.

    "On conflict do nothing returning" under the unique key: a key a concurrent
    worker inserted after our read of the known keys is not returned here, so
    only one process writes its message.
    """
    if not keys:
        return []
    table = AlertSent.__table__
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (insert(table).on_conflict_do_nothing(index_elements=["carnet_id", "disease", "dose", "due_date"])
                 .returning(table.c.carnet_id, table.c.disease, table.c.dose, table.c.due_date))
    now = utcnow()
    rows = [{"carnet_id": k[0], "disease": k[1], "dose": k[2], "due_date": k[3], "sent_at": now}
            for k in sorted(keys)]
    return [tuple(r) for r in db.session.connection().execute(statement, rows)]


def acquire(name: str, minutes: int = 30, not_ran_on: date | None = None) -> bool:
    """Take a named job lock for a while; False if another process holds it.

    With ``not_ran_on``, also False when the job already completed a run for that day.
    """
    now = utcnow()
    if db.session.get(JobLock, name) is None:
        try:
            db.session.add(JobLock(name=name, locked_until=None))
            db.session.commit()
        except Exception:
            db.session.rollback()
    taken = db.session.execute(
        update(JobLock).where(JobLock.name == name,
                              (JobLock.locked_until.is_(None)) | (JobLock.locked_until < now),
                              *([(JobLock.last_run_on.is_(None)) | (JobLock.last_run_on < not_ran_on)]
                                if not_ran_on else []))
        .values(locked_until=now + timedelta(minutes=minutes))).rowcount
    db.session.commit()
    return taken == 1


def release(name: str, ran_on: date | None = None) -> None:
    values = {"locked_until": None}
    if ran_on is not None:
        values["last_run_on"] = ran_on
    db.session.execute(update(JobLock).where(JobLock.name == name).values(**values))
    db.session.commit()


@dataclass
class RunStats:
    carnets: int = 0
    announced: int = 0
    messages: int = 0
    skipped: bool = False


def weekly_recheck(carnet_id: int, on: date) -> date:
    """Return the carnet's next weekly re-check day after ``on``.

    Each carnet has its own weekday (its id modulo 7), so the weekly re-checks
    of carnets subscribed on the same day are spread over the seven days:
    no day is a full pass.
    """
    return on + timedelta(days=(carnet_id - on.toordinal()) % 7 or 7)


def due_items(person: Person, records, on: date, recheck: date | None = None):
    """Return what to announce (due, overdue, or due within 14 days) and the next day to look again.

    Without a change to the carnet, nothing new can be announced before the
    earliest future due date minus 14 days, nor (for age-based changes the
    calendar gives no date for) later than ``recheck`` (at most a week away).
    """
    items, next_check = [], recheck or on + RECHECK
    for rec in evaluate(person, records, on):
        if rec.next_date is None or rec.status == "complete":
            continue
        if rec.next_date - AHEAD > on:
            next_check = min(next_check, rec.next_date - AHEAD)
        elif rec.status != "not_recommended":
            items.append(rec)
    return items, next_check


def run_daily(on: date | None = None, once_a_day: bool = False) -> RunStats:
    """Announce newly due doses of opted-in carnets, one message per owner per carnet.

    ``once_a_day`` (the scheduler's runs): skip when a run for that day completed,
    so several schedulers run the job once.
    """
    on = on or today()
    stats = RunStats()
    if not acquire(JOB, not_ran_on=on if once_a_day else None):
        stats.skipped = True
        return stats
    try:
        last_id = 0
        while True:
            # Only carnets that may have something new: a check date reached, or a change since.
            carnet_ids = list(db.session.scalars(
                select(AlertSubscription.carnet_id).join(Carnet, Carnet.id == AlertSubscription.carnet_id)
                .where(AlertSubscription.carnet_id > last_id,
                       or_(AlertSubscription.next_check_on.is_(None), AlertSubscription.next_check_on <= on,
                           AlertSubscription.checked_at.is_(None),
                           Carnet.last_activity_at > AlertSubscription.checked_at))
                .group_by(AlertSubscription.carnet_id).order_by(AlertSubscription.carnet_id).limit(BATCH)))
            if not carnet_ids:
                break
            last_id = carnet_ids[-1]
            _run_batch(carnet_ids, on, stats)
        release(JOB, ran_on=on)
    except Exception:
        db.session.rollback()
        release(JOB)
        raise
    return stats


def _run_batch(carnet_ids: list[int], on: date, stats: RunStats) -> None:
    people = {cid: Person(birth, getattr(sex, "value", sex), frozenset(flags or ()),
                          due if "pregnant" in (flags or ()) else None)
              for cid, birth, sex, flags, due in db.session.execute(
                  select(Carnet.id, Carnet.birth_date, Carnet.sex, Carnet.flags, Carnet.pregnancy_due_on)
                  .where(Carnet.id.in_(carnet_ids))).tuples()}
    records = records_by_carnet(carnet_ids)
    candidates, checks = {}, []
    for cid in carnet_ids:
        stats.carnets += 1
        items, next_check = due_items(people[cid], records[cid], on, weekly_recheck(cid, on))
        checks.append({"cid": cid, "at": utcnow(), "next": next_check})
        for rec in items:
            candidates[(cid, rec.disease, rec.dose or "", rec.next_date)] = rec
    # Reads end here; the writes below are one transaction (checks, keys, messages).
    new = set(candidates) - _known_keys(carnet_ids) if candidates else set()
    table = AlertSubscription.__table__
    db.session.connection().execute(
        update(table).where(table.c.carnet_id == bindparam("cid"))
        .values(checked_at=bindparam("at"), next_check_on=bindparam("next")), checks)
    fresh: dict[int, list] = defaultdict(list)
    for key in _insert_new(new):
        fresh[key[0]].append(candidates[key])
    if not fresh:
        db.session.commit()
        return  # most days: everything due was announced already
    # Subscribers who still own the carnet, for the carnets with something new only.
    subscribers: dict[int, list[User]] = defaultdict(list)
    for carnet_id, user in db.session.execute(
            select(AlertSubscription.carnet_id, User).join(User, User.id == AlertSubscription.user_id)
            .join(Ownership, (Ownership.carnet_id == AlertSubscription.carnet_id)
                  & (Ownership.user_id == AlertSubscription.user_id) & Ownership.open)
            .where(AlertSubscription.carnet_id.in_(list(fresh)),
                   User.email_confirmed_at.is_not(None))).tuples():  # never to an unconfirmed address
        subscribers[carnet_id].append(user)
    named = {c.id: c for c in db.session.scalars(select(Carnet).where(Carnet.id.in_(list(fresh))))}
    for cid, recs in fresh.items():
        carnet = named[cid]
        recs.sort(key=lambda r: (r.next_date, r.disease))
        for user in subscribers[cid]:
            unsubscribe_link = absolute_url("alerts.unsubscribe", token=unsubscribe_token(cid, user.id))
            queue_mail(user.email, f"Vaccination à prévoir pour {carnet.first_names}", "alert_due",
                       headers=one_click_headers(unsubscribe_link),
                       user=user, carnet=carnet, items=recs, labels=disease_label,
                       carnet_link=absolute_url("carnets.show", public_id=carnet.public_id),
                       unsubscribe_link=unsubscribe_link)
            stats.messages += 1
        stats.announced += len(recs)
    db.session.commit()
