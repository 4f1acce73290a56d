"""Carnet rules: open a carnet, record, correct and delete doses (audit in cvn.audit).

Every function that changes something writes its audit event and commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from cvn.access import AccessLost, permissions
from cvn.audit import audit
from cvn.clock import today, utcnow
from cvn.dates import french_date
from cvn.extensions import db
from cvn.inputs import clean_name
from cvn.models import Access, Carnet, Dose, DoseRevision, DoseState, Sex, User
from cvn.schedule.catalogue import diseases as known_diseases
from cvn.schedule.catalogue import fold, product_by_name, sort_diseases


class DoseError(ValueError):
    """A dose that breaks a rule; ``field`` names the form field to blame."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# --- Carnets -----------------------------------------------------------------

def search_key(last_name: str, first_names: str) -> str:
    """Return the folded "last first" string the patientèle search matches (invisible characters out)."""
    return fold(clean_name(f"{last_name} {first_names}"))


def find_duplicates(pro: User, last_name: str, first_names: str, birth_date: date) -> list[Carnet]:
    """Return the professional's carnets with the same name and birth date."""
    return list(db.session.scalars(
        select(Carnet).join(Access, Access.carnet_id == Carnet.id)
        .where(Access.professional_id == pro.id, Access.open,
               Carnet.search_name == search_key(last_name, first_names),
               Carnet.birth_date == birth_date)))


def create_carnet(pro: User, *, last_name: str, first_names: str, birth_date: date, sex: Sex) -> Carnet:
    """Open a carnet and give its creator an access to it."""
    if not pro.is_verified_professional:
        raise PermissionError("only verified professionals open carnets")
    if birth_date > today():
        raise DoseError("birth_date", "La date de naissance ne peut pas être dans le futur.")
    now = utcnow()
    last_name, first_names = clean_name(last_name), clean_name(first_names)
    carnet = Carnet(last_name=last_name, first_names=first_names, birth_date=birth_date,
                    sex=sex, search_name=search_key(last_name, first_names), created_at=now,
                    created_by_id=pro.id, last_activity_at=now)
    db.session.add(carnet)
    db.session.flush()
    db.session.add(Access(carnet_id=carnet.id, professional_id=pro.id, granted_at=now))
    audit(carnet, pro, "carnet.create")
    db.session.commit()
    return carnet


# --- Doses -------------------------------------------------------------------

@dataclass
class DoseInput:
    """What a form gives to record or correct a dose."""

    product: str
    diseases: list[str]
    administered_on: date
    lot_number: str = ""
    dose_label: str = ""
    injection_site: str = ""
    route: str = ""
    note: str = ""


def _resolve(carnet: Carnet, data: DoseInput) -> dict:
    """Check a dose against the rules; return the column values to store."""
    if data.administered_on > today():
        raise DoseError("administered_on", "La date de vaccination ne peut pas être dans le futur.")
    if data.administered_on < carnet.birth_date:
        raise DoseError("administered_on",
                        "La date de vaccination ne peut pas précéder la date de naissance "
                        f"({french_date(carnet.birth_date)}).")
    unknown = [d for d in data.diseases if d not in known_diseases()]
    if unknown:
        raise DoseError("diseases", "Maladie inconnue : " + ", ".join(unknown))
    name = " ".join((data.product or "").split())
    product = product_by_name(name) if name else None
    if product is not None:
        code, name, diseases = product.code, product.name, list(product.diseases)
    else:
        if not data.diseases:
            if name:
                raise DoseError("diseases", f"« {name} » n’est pas dans le catalogue : "
                                            "cochez les maladies que ce vaccin couvre.")
            raise DoseError("product", "Choisissez un vaccin, ou cochez au moins une maladie "
                                       "(dose d’un ancien carnet papier).")
        code, name, diseases = None, (name or None), sort_diseases(data.diseases)
    clean = lambda v: (" ".join(v.split()) or None) if isinstance(v, str) else None  # noqa: E731
    return dict(product_code=code, product_name=name, diseases=diseases,
                administered_on=data.administered_on, lot_number=clean(data.lot_number),
                dose_label=clean(data.dose_label), injection_site=data.injection_site or None,
                route=data.route or None, note=(data.note or "").strip() or None)


def record_dose(user: User, carnet: Carnet, data: DoseInput) -> Dose:
    """Record a dose: validated at once when a professional records it, declared when an owner does."""
    if not permissions(user, carnet).record:
        raise AccessLost()
    values = _resolve(carnet, data)
    now = utcnow()
    by_pro = user.is_verified_professional
    dose = Dose(carnet_id=carnet.id, recorded_by_id=user.id, recorded_at=now,
                state=DoseState.VALIDATED if by_pro else DoseState.DECLARED,
                validated_by_id=user.id if by_pro else None, validated_at=now if by_pro else None,
                **values)
    db.session.add(dose)
    db.session.flush()
    db.session.add(DoseRevision(dose_id=dose.id, action="create", before=None, after=dose.snapshot(),
                                changed_by_id=user.id, changed_at=now))
    carnet.last_activity_at = now
    audit(carnet, user, "dose.create", dose=dose.id, product=dose.product_name)
    db.session.commit()
    return dose


def get_dose(carnet: Carnet, dose_id: int) -> Dose | None:
    """Return a live (not deleted) dose of this carnet."""
    dose = db.session.get(Dose, dose_id)
    if dose is None or dose.carnet_id != carnet.id or dose.deleted_at is not None:
        return None
    return dose


def _require_edit(user: User, carnet: Carnet, dose: Dose) -> None:
    if not permissions(user, carnet).can_edit(dose):
        raise AccessLost()


def update_dose(user: User, carnet: Carnet, dose: Dose, data: DoseInput) -> Dose:
    """Correct a dose; the before/after pair is kept as a revision.

    A professional's correction validates the dose; an owner's correction of a
    declared or rejected dose declares it again.
    """
    _require_edit(user, carnet, dose)
    values = _resolve(carnet, data)
    before = dose.snapshot()
    for key, value in values.items():
        setattr(dose, key, value)
    after = dose.snapshot()
    if after == before:
        db.session.rollback()
        return dose
    now = utcnow()
    if user.is_verified_professional:
        # The corrected content is vouched for by the professional who corrected it.
        dose.state, dose.validated_by_id, dose.validated_at = DoseState.VALIDATED, user.id, now
    else:
        dose.state, dose.rejection_reason = DoseState.DECLARED, None
    after = dose.snapshot()
    db.session.add(DoseRevision(dose_id=dose.id, action="update", before=before, after=after,
                                changed_by_id=user.id, changed_at=now))
    carnet.last_activity_at = now
    audit(carnet, user, "dose.update", dose=dose.id)
    db.session.commit()
    return dose


def delete_dose(user: User, carnet: Carnet, dose: Dose, reason: str) -> None:
    """Remove a dose from the carnet; a validated dose needs a reason. Kept in history."""
    _require_edit(user, carnet, dose)
    reason = " ".join((reason or "").split())
    if dose.state == DoseState.VALIDATED and not reason:
        raise DoseError("reason", "Indiquez pourquoi cette dose validée est supprimée.")
    now = utcnow()
    db.session.add(DoseRevision(dose_id=dose.id, action="delete", before=dose.snapshot(), after=None,
                                reason=reason or None, changed_by_id=user.id, changed_at=now))
    dose.deleted_at, dose.deleted_by_id, dose.delete_reason = now, user.id, reason or None
    carnet.last_activity_at = now
    audit(carnet, user, "dose.delete", dose=dose.id)
    db.session.commit()


def live_doses(carnet: Carnet, people: bool = True) -> list[Dose]:
    """Return the carnet's doses (not deleted), oldest first, with who recorded and validated them.

    One query whatever the number of doses (the accounts are joined). ``people=False``: without
    the accounts, for the status and the header, which only count and evaluate the doses.
    """
    query = (select(Dose).where(Dose.carnet_id == carnet.id, Dose.deleted_at.is_(None))
             .order_by(Dose.administered_on, Dose.id))
    if people:
        query = query.options(joinedload(Dose.recorded_by), joinedload(Dose.validated_by))
    return list(db.session.scalars(query))


def doses_by_disease(doses: list[Dose]) -> list[tuple[str, list[Dose]]]:
    """Group doses under each disease they cover, in the calendar's disease order."""
    groups: dict[str, list[Dose]] = {}
    for dose in doses:
        for code in dose.diseases:
            groups.setdefault(code, []).append(dose)
    return [(code, groups[code]) for code in sort_diseases(groups)]


def revisions(carnet: Carnet) -> list[DoseRevision]:
    """Return every dose revision of the carnet, newest first."""
    return list(db.session.scalars(
        select(DoseRevision).join(Dose, Dose.id == DoseRevision.dose_id)
        .where(Dose.carnet_id == carnet.id).options(selectinload(DoseRevision.changed_by))
        .order_by(DoseRevision.changed_at.desc(), DoseRevision.id.desc())))
