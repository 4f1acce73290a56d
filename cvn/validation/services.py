"""Validation of declared doses by professionals with access."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from cvn.access import AccessLost, can_write
from cvn.audit import audit
from cvn.carnets.services import DoseError
from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import Access, Carnet, Dose, DoseRevision, DoseState, User


def _check(pro: User, carnet: Carnet, dose: Dose) -> None:
    if not can_write(pro, carnet):
        raise AccessLost()
    if dose.carnet_id != carnet.id or dose.deleted_at is not None:
        raise AccessLost()
    if dose.state != DoseState.DECLARED:
        raise DoseError("state", "Cette dose n’est plus en attente de validation.")


def _decide(pro: User, carnet: Carnet, dose: Dose, action: str, reason: str | None = None) -> None:
    now = utcnow()
    before = dose.snapshot()
    if action == "validate":
        dose.state, dose.validated_by_id, dose.validated_at = DoseState.VALIDATED, pro.id, now
        dose.rejection_reason = None
    else:
        dose.state, dose.rejection_reason = DoseState.REJECTED, reason
        dose.validated_by_id, dose.validated_at = pro.id, now  # who decided, and when
    db.session.add(DoseRevision(dose_id=dose.id, action=action, before=before, after=dose.snapshot(),
                                reason=reason, changed_by_id=pro.id, changed_at=now))
    carnet.last_activity_at = now
    audit(carnet, pro, f"dose.{action}", dose=dose.id)


def validate(pro: User, carnet: Carnet, dose: Dose) -> Dose:
    """Validate a declared dose: it now counts, vouched for by this professional."""
    _check(pro, carnet, dose)
    _decide(pro, carnet, dose, "validate")
    db.session.commit()
    return dose


def reject(pro: User, carnet: Carnet, dose: Dose, reason: str) -> Dose:
    """Reject a declared dose with a reason the owner will read."""
    _check(pro, carnet, dose)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DoseError("reason", "Indiquez au patient pourquoi cette dose est refusée.")
    _decide(pro, carnet, dose, "reject", reason[:500])
    db.session.commit()
    return dose


def validate_all(pro: User, carnet: Carnet) -> int:
    """Validate every declared dose of the carnet at once; return how many."""
    if not can_write(pro, carnet):
        raise AccessLost()
    doses = list(db.session.scalars(select(Dose).where(
        Dose.carnet_id == carnet.id, Dose.state == DoseState.DECLARED, Dose.deleted_at.is_(None))))
    for dose in doses:
        _decide(pro, carnet, dose, "validate")
    db.session.commit()
    return len(doses)


@dataclass
class Waiting:
    dose: Dose
    carnet: Carnet


def waiting_count(pro: User) -> int:
    """Count the declared doses waiting across the professional's patientèle (the nav's "À valider" badge)."""
    return db.session.scalar(
        select(func.count()).select_from(Dose).join(Access, Access.carnet_id == Dose.carnet_id)
        .where(Access.professional_id == pro.id, Access.open,
               Dose.state == DoseState.DECLARED, Dose.deleted_at.is_(None))) or 0


def queue(pro: User, limit: int = 200) -> list[Waiting]:
    """Return the declared doses waiting across the professional's patientèle, oldest first."""
    rows = db.session.execute(
        select(Dose, Carnet).join(Carnet, Carnet.id == Dose.carnet_id)
        .join(Access, Access.carnet_id == Carnet.id)
        .where(Access.professional_id == pro.id, Access.open,
               Dose.state == DoseState.DECLARED, Dose.deleted_at.is_(None))
        .order_by(Dose.recorded_at, Dose.id).limit(limit)).all()
    return [Waiting(dose, carnet) for dose, carnet in rows]
