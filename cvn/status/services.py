"""The bridge from stored carnets to the pure status engine (cvn.schedule.engine)."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, Text, cast, select, type_coerce

from cvn.carnets.services import AccessLost, audit
from cvn.clock import today, utcnow
from cvn.extensions import db
from cvn.models import Carnet, Dose, DoseState, User
from cvn.schedule.engine import DoseRecord, Person, Recommendation, evaluate

#: Situations a holder may have, with their French labels (order = display order).
FLAGS = {
    "pregnant": "Grossesse en cours",
    "immunocompromised": "Immunodépression (maladie ou traitement)",
    "chronic_heart_lung": "Maladie chronique cardiaque ou respiratoire",
    "asplenia": "Asplénie (absence ou dysfonctionnement de la rate)",
    "bcg_risk": "Enfant exposé à un risque élevé de tuberculose",
}

STATUS_LABELS = {
    "overdue": "En retard",
    "due": "À faire",
    "up_to_date": "À jour",
    "complete": "Terminé",
    "not_recommended": "Non recommandé actuellement",
}


def person_of(carnet: Carnet) -> Person:
    """Return the engine's view of the holder."""
    return Person(birth_date=carnet.birth_date, sex=carnet.sex.value, flags=frozenset(carnet.flags or ()))


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


def status_of(carnet: Carnet, on: date | None = None) -> list[Recommendation]:
    """Return one recommendation per disease for the carnet (validated doses count)."""
    return evaluate(person_of(carnet), records_by_carnet([carnet.id])[carnet.id], on or today())


URGENCY = {"overdue": 0, "due": 1, "up_to_date": 2, "complete": 3, "not_recommended": 4}


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
                                rec.declared_pending)
    return sorted(groups.values(), key=lambda g: (URGENCY.get(g.status, 5), g.next_date or date.max))


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


def set_flags(user: User, carnet: Carnet, flags: list[str]) -> None:
    """Record the holder's situations (owners and professionals with access)."""
    from cvn.access import can_record

    if not can_record(user, carnet):
        raise AccessLost()
    clean = [f for f in FLAGS if f in set(flags)]
    if carnet.sex.value == "M" and "pregnant" in clean:
        clean.remove("pregnant")
    if clean == list(carnet.flags or []):
        return
    carnet.flags = clean
    carnet.last_activity_at = utcnow()
    audit(carnet, user, "carnet.flags", flags=clean)
    db.session.commit()
