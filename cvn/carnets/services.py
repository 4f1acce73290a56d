"""Carnet rules: create, find (patientèle), record, correct and delete doses, audit.

Every function that changes something writes its audit event and commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from cvn.clock import today, utcnow
from cvn.extensions import db
from cvn.inputs import MAX_PAGE, clean_name, strip_invisible
from cvn.models import Access, AuditEvent, Carnet, Dose, DoseRevision, DoseState, Sex, User
from cvn.schedule.catalogue import diseases as known_diseases
from cvn.schedule.catalogue import fold, product_by_name, sort_diseases


class DoseError(ValueError):
    """A dose that breaks a rule; ``field`` names the form field to blame."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class AccessLost(Exception):
    """The user no longer has access to this carnet."""


# --- Audit -------------------------------------------------------------------

def audit(carnet: Carnet, actor: User | None, action: str, **detail) -> AuditEvent:
    """Add an audit event to the session (the caller commits)."""
    event = AuditEvent(carnet_id=carnet.id, actor_id=actor.id if actor else None, at=utcnow(),
                       action=action, detail=detail or None)
    db.session.add(event)
    return event


def record_read(carnet: Carnet, actor: User) -> None:
    """Write a read event and commit it."""
    audit(carnet, actor, "carnet.read")
    db.session.commit()


def audit_trail(carnet: Carnet, limit: int | None = 20) -> list[AuditEvent]:
    """Return the carnet's newest audit events first."""
    query = select(AuditEvent).where(AuditEvent.carnet_id == carnet.id).order_by(
        AuditEvent.at.desc(), AuditEvent.id.desc())
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


# --- Carnets -----------------------------------------------------------------

def search_key(last_name: str, first_names: str) -> str:
    """Return the folded "last first" string the patientèle search matches (invisible characters out)."""
    return fold(clean_name(f"{last_name} {first_names}"))


def find_duplicates(pro: User, last_name: str, first_names: str, birth_date: date) -> list[Carnet]:
    """Return the professional's carnets with the same name and birth date."""
    return list(db.session.scalars(
        select(Carnet).join(Access, Access.carnet_id == Carnet.id)
        .where(Access.professional_id == pro.id, Access.ended_at.is_(None),
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


@dataclass(frozen=True)
class SharingState:
    """Where a carnet stands with its holder: not shared, invitation pending, owned."""

    kind: str  # "not_shared" | "pending" | "owned"
    until: date | None = None


NOT_SHARED = SharingState("not_shared")


@dataclass
class Row:
    """One line of the patientèle."""

    carnet: Carnet
    pending: int
    sharing: SharingState = NOT_SHARED
    summary: object = None  # cvn.status.services.Summary


@dataclass
class Page:
    rows: list[Row]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def patientele(pro: User, query: str = "", birth_date: date | None = None,
               page: int = 1, per_page: int = 25) -> Page:
    """Return one page of the professional's carnets, newest activity first.

    Search: every word of ``query`` must start a word of the holder's name,
    ignoring case and accents ("eloise dur" finds "Éloïse DURAND"). Two queries
    per page whatever its size: the carnets, then their pending-dose counts.
    """
    page = min(max(page, 1), MAX_PAGE)
    stmt = (select(Carnet).join(Access, Access.carnet_id == Carnet.id)
            .where(Access.professional_id == pro.id, Access.ended_at.is_(None)))
    for word in fold(strip_invisible(query)).split()[:5]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(or_(Carnet.search_name.like(f"{escaped}%", escape="\\"),
                              Carnet.search_name.like(f"% {escaped}%", escape="\\")))
    if birth_date is not None:
        stmt = stmt.where(Carnet.birth_date == birth_date)
    stmt = stmt.order_by(Carnet.last_activity_at.desc(), Carnet.id.desc())
    carnets = list(db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page + 1)))
    has_next = len(carnets) > per_page
    carnets = carnets[:per_page]
    counts = dict(db.session.execute(
        select(Dose.carnet_id, func.count()).where(
            Dose.carnet_id.in_([c.id for c in carnets]), Dose.state == DoseState.DECLARED,
            Dose.deleted_at.is_(None)).group_by(Dose.carnet_id)).all()) if carnets else {}
    from cvn.sharing.services import sharing_states

    from cvn.status.services import summaries

    states = sharing_states([c.id for c in carnets])
    status = summaries(carnets)
    return Page([Row(c, counts.get(c.id, 0), states[c.id], status[c.id]) for c in carnets],
                page, per_page, has_next)


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
                        f"({carnet.birth_date.strftime('%d/%m/%Y')}).")
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
    from cvn.access import can_record

    if not can_record(user, carnet):
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
    from cvn.access import can_edit_dose

    if not can_edit_dose(user, carnet, dose):
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


def live_doses(carnet: Carnet) -> list[Dose]:
    """Return the carnet's doses (not deleted), oldest first."""
    return list(db.session.scalars(
        select(Dose).where(Dose.carnet_id == carnet.id, Dose.deleted_at.is_(None))
        .order_by(Dose.administered_on, Dose.id)))


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
        .where(Dose.carnet_id == carnet.id)
        .order_by(DoseRevision.changed_at.desc(), DoseRevision.id.desc())))
