"""The bridge from stored carnets to the pure status engine (cvn.schedule.engine)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from cvn.carnets.services import AccessLost, audit
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


def records_by_carnet(carnet_ids: list[int]) -> dict[int, list[DoseRecord]]:
    """Return the engine's dose records of many carnets in one query (no ORM objects).

    Deleted and rejected doses are left out; declared ones come with validated=False.
    """
    grouped: dict[int, list[DoseRecord]] = defaultdict(list)
    if carnet_ids:
        validated = DoseState.VALIDATED.value
        rows = db.session.execute(
            select(Dose.carnet_id, Dose.administered_on, Dose.diseases, Dose.product_code, Dose.state)
            .where(Dose.carnet_id.in_(carnet_ids), Dose.deleted_at.is_(None),
                   Dose.state != DoseState.REJECTED)).tuples()
        for carnet_id, on, diseases, product, state in rows:
            grouped[carnet_id].append(DoseRecord(date=on, diseases=tuple(diseases), product=product,
                                                 validated=getattr(state, "value", state) == validated))
    return grouped


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
    from cvn.access import can_record

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
