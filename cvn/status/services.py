"""The bridge from stored carnets to the pure status engine (cvn.schedule.engine)."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import String, Text, cast, select, type_coerce

from cvn.access import AccessLost, can_record
from cvn.audit import audit
from cvn.clock import today, utcnow
from cvn.extensions import db
from cvn.models import Carnet, Dose, DoseState, User
from cvn.schedule.engine import DoseRecord, Person, Recommendation, evaluate
from cvn.schedule.catalogue import FLAG_LABELS

#: Situations a holder may have, with their French labels (order = display order).
FLAGS = FLAG_LABELS

STATUS_LABELS = {
    "overdue": "En retard",
    "due": "À faire",
    "up_to_date": "À jour",
    "not_yet": "Plus tard",
    "complete": "Terminé",
    "not_recommended": "Non recommandé actuellement",
}


class SituationError(ValueError):
    """A situation that cannot be recorded (the message is French, for the page)."""


def person_of(carnet: Carnet) -> Person:
    """Return the engine's view of the holder."""
    flags = frozenset(carnet.flags or ())
    return Person(birth_date=carnet.birth_date, sex=carnet.sex.value, flags=flags,
                  pregnancy_due=carnet.pregnancy_due_on if "pregnant" in flags else None)


def parse_due_date(text: str, on: date) -> date | None:
    """Return the expected term typed in the form (AAAA-MM-JJ), or None when empty; refuse an implausible one."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        due = date.fromisoformat(text)
    except ValueError:
        raise SituationError("Date prévue d'accouchement invalide : utilisez le format JJ/MM/AAAA.") from None
    if not on - timedelta(days=28) <= due <= on + timedelta(weeks=44):
        raise SituationError("Date prévue d'accouchement impossible : elle doit être dans les 10 prochains mois "
                             "(ou passée de moins de 4 semaines).")
    return due


def cached_list(cache: dict, raw: str | None) -> tuple:
    """Decode a stored JSON list once per distinct text (a few products and flag sets repeat endlessly)."""
    if raw is None:
        return ()
    value = cache.get(raw)
    if value is None:
        value = cache[raw] = tuple(json.loads(raw))
    return value


def records_by_carnet(carnet_ids: list[int]) -> dict[int, list[DoseRecord]]:
    """Return the engine's dose records of many carnets in one query (no ORM objects).

    Deleted and rejected doses are left out; declared ones come with validated=False.
    Diseases come as JSON text, decoded once per distinct value.
    """
    grouped: dict[int, list[DoseRecord]] = defaultdict(list)
    if carnet_ids:
        validated = DoseState.VALIDATED.value
        cache: dict[str, tuple] = {}
        rows = db.session.execute(
            select(Dose.carnet_id, Dose.administered_on, cast(Dose.diseases, Text), Dose.product_code,
                   type_coerce(Dose.state, String))
            .where(Dose.carnet_id.in_(carnet_ids), Dose.deleted_at.is_(None),
                   Dose.state != DoseState.REJECTED)).tuples()
        for carnet_id, on, diseases, product, state in rows:
            grouped[carnet_id].append(DoseRecord(date=on, diseases=cached_list(cache, diseases), product=product,
                                                 validated=state == validated))
    return grouped


def status_from_doses(carnet: Carnet, doses: list[Dose], on: date | None = None) -> list[Recommendation]:
    """Return the recommendations from doses already loaded (no query): rejected ones are left out."""
    records = [DoseRecord(date=d.administered_on, diseases=tuple(d.diseases), product=d.product_code,
                          validated=d.state == DoseState.VALIDATED)
               for d in doses if d.deleted_at is None and d.state != DoseState.REJECTED]
    return evaluate(person_of(carnet), records, on or today())


def status_of(carnet: Carnet, on: date | None = None) -> list[Recommendation]:
    """Return one recommendation per disease for the carnet (validated doses count)."""
    return evaluate(person_of(carnet), records_by_carnet([carnet.id])[carnet.id], on or today())


URGENCY = {"overdue": 0, "due": 1, "up_to_date": 2, "not_yet": 3, "complete": 4, "not_recommended": 5}


@dataclass
class Group:
    """Recommendations that read the same (one series covering several diseases)."""

    diseases: list[str]
    status: str
    next_date: date | None
    dose: str | None
    mandatory: bool
    reason: str
    declared_pending: int
    rule: str | None = None
    source: str = ""


def grouped(recommendations: list[Recommendation]) -> list[Group]:
    """Merge diseases whose recommendation is the same (e.g. the six of a hexavalent series), most urgent first."""
    groups: dict[tuple, Group] = {}
    for rec in recommendations:
        key = (rec.status, rec.next_date, rec.dose, rec.mandatory, rec.reason)
        if key in groups:
            groups[key].diseases.append(rec.disease)
            groups[key].declared_pending = max(groups[key].declared_pending, rec.declared_pending)
        else:
            groups[key] = Group([rec.disease], rec.status, rec.next_date, rec.dose, rec.mandatory, rec.reason,
                                rec.declared_pending, rec.rule, rec.source)
    return sorted(groups.values(), key=lambda g: (URGENCY.get(g.status, 6), g.next_date or date.max))


@dataclass(frozen=True)
class Summary:
    """What a list row shows: how many diseases need a dose."""

    overdue: int
    due: int

    @property
    def needs(self) -> int:
        return self.overdue + self.due


@dataclass(frozen=True)
class Overview:
    """The carnet header's line: how many series are overdue or due, and the next appointment.

    ``next_date`` is the earliest date something is due: ``on`` itself (``now``) when a
    series is due or overdue, else the first future date a dose becomes recommended.
    """

    overdue: int
    due: int
    next_date: date | None
    now: bool = False


def overview(groups: list[Group], on: date | None = None) -> Overview:
    """Count the overdue and due series and find the earliest date something is due (``on`` if due now)."""
    on = on or today()
    overdue = sum(g.status == "overdue" for g in groups)
    due = sum(g.status == "due" for g in groups)
    if overdue or due:
        return Overview(overdue=overdue, due=due, next_date=on, now=True)
    upcoming = [g.next_date for g in groups
                if g.status in ("up_to_date", "complete", "not_yet") and g.next_date and g.next_date > on]
    return Overview(overdue=overdue, due=due, next_date=min(upcoming) if upcoming else None)


def summarize(recommendations: list[Recommendation]) -> Summary:
    """Count the vaccinations needed, one per series (a hexavalent dose counts once, not six times)."""
    groups = grouped(recommendations)
    return Summary(overdue=sum(g.status == "overdue" for g in groups), due=sum(g.status == "due" for g in groups))


def summaries(carnets: list[Carnet], on: date | None = None) -> dict[int, Summary]:
    """Return a summary per carnet, loading the doses of all of them in one query."""
    on = on or today()
    records = records_by_carnet([c.id for c in carnets])
    return {c.id: summarize(evaluate(person_of(c), records[c.id], on)) for c in carnets}


def set_flags(user: User, carnet: Carnet, flags: list[str], due_text: str = "") -> None:
    """Record the holder's situations and the expected term of a pregnancy (owners and professionals)."""
    if not can_record(user, carnet):
        raise AccessLost()
    clean = [f for f in FLAGS if f in set(flags)]
    if carnet.sex.value == "M" and "pregnant" in clean:
        clean.remove("pregnant")
    due = parse_due_date(due_text, today()) if "pregnant" in clean else None
    if clean == list(carnet.flags or []) and due == carnet.pregnancy_due_on:
        return
    carnet.flags = clean
    carnet.pregnancy_due_on = due
    carnet.last_activity_at = utcnow()
    audit(carnet, user, "carnet.flags", flags=clean, pregnancy_due_on=due.isoformat() if due else None)
    db.session.commit()
