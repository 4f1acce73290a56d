"""Export a carnet (or a professional's frozen copy) as FHIR R4, and import declared doses from FHIR.

Every export and every import writes its audit event; an import adds all its
doses in one transaction, each *declared*, or none.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime

from sqlalchemy import select

from cvn.access import AccessLost, is_owner
from cvn.audit import audit
from cvn.carnets.services import live_doses
from cvn.clock import today, utcnow
from cvn.extensions import db
from cvn.models import Archive, Carnet, Dose, DoseRevision, DoseState, User
from cvn.portability import fhir
from cvn.portability.importer import Planned
from cvn.schedule.catalogue import fold
from cvn.status.services import status_of


def holder_of(carnet: Carnet) -> fhir.Holder:
    return fhir.Holder(carnet.public_id, carnet.last_name, carnet.first_names, carnet.birth_date, carnet.sex.value)


def dose_views(carnet: Carnet) -> list[fhir.DoseView]:
    """Return the carnet's live doses as the export shows them."""
    views = []
    for dose in live_doses(carnet):
        by = dose.validated_by
        views.append(fhir.DoseView(
            key=fhir.stable_id(carnet.public_id, "dose", str(dose.id)), state=dose.state.value,
            administered_on=dose.administered_on, diseases=list(dose.diseases or []),
            product_code=dose.product_code, product_name=dose.product_name, lot_number=dose.lot_number,
            dose_label=dose.dose_label, injection_site=dose.injection_site, route=dose.route, note=dose.note,
            recorded_at=dose.recorded_at, validated_by=by.display_name if by else None,
            validated_by_rpps=by.rpps if by else None, rejection_reason=dose.rejection_reason))
    return views


def carnet_bundle(carnet: Carnet) -> dict:
    """Return the live carnet as a FHIR Bundle, with the engine's forecast for today."""
    return fhir.bundle(holder_of(carnet), dose_views(carnet), status_of(carnet), utcnow())


def export_carnet(user: User, carnet: Carnet) -> dict:
    """Return the carnet's FHIR Bundle and write the export to its audit trail."""
    result = carnet_bundle(carnet)
    audit(carnet, user, "carnet.export", format="fhir")
    db.session.commit()
    return result


def archive_bundle(archive: Archive) -> dict:
    """Return a professional's frozen copy as a FHIR Bundle (freeze time and SHA-256 in ``meta``)."""
    data = json.loads(archive.content)
    holder = data["holder"]
    key = f"archive-{archive.id}"
    views = [fhir.DoseView(
        key=fhir.stable_id(key, "dose", str(d.get("id"))), state=d["state"],
        administered_on=date.fromisoformat(d["administered_on"]), diseases=list(d.get("diseases") or []),
        product_code=d.get("product_code"), product_name=d.get("product_name"), lot_number=d.get("lot_number"),
        dose_label=d.get("dose_label"), injection_site=d.get("injection_site"), route=d.get("route"),
        note=d.get("note"), recorded_at=datetime.fromisoformat(d["recorded_at"]) if d.get("recorded_at") else None,
        validated_by=d.get("validated_by"), rejection_reason=d.get("rejection_reason"))
        for d in data.get("doses", [])]
    return fhir.bundle(fhir.Holder(key, holder["last_name"], holder["first_names"],
                                   date.fromisoformat(holder["birth_date"]), holder["sex"]),
                       views, [], archive.frozen_at, frozen=(archive.frozen_at, archive.sha256))


def filename(last_name: str, first_names: str, when: date, suffix: str = "fhir.json") -> str:
    """Return a download name such as ``carnet-durand-eloise-2026-03-02.fhir.json`` (ASCII only)."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(f"{last_name} {first_names}")).strip("-")[:60] or "carnet"
    return f"carnet-{slug}-{when.isoformat()}.{suffix}"


# --- Import ------------------------------------------------------------------

def existing_keys(carnet: Carnet) -> set[tuple[str, tuple[str, ...]]]:
    """Return (date, diseases) of the carnet's live doses: what an import would duplicate."""
    return {(d.administered_on.isoformat(), tuple(sorted(d.diseases or []))) for d in live_doses(carnet)}


def apply_import(user: User, carnet: Carnet, planned: list[Planned]) -> list[Dose]:
    """Add the planned doses as declared doses, skipping any that now duplicates one; one transaction."""
    if not is_owner(user, carnet):
        raise AccessLost()
    seen = existing_keys(carnet)
    now, added = utcnow(), []
    for item in planned:
        if item.key in seen or item.administered_on > today() or item.administered_on < carnet.birth_date:
            continue
        seen.add(item.key)
        dose = Dose(carnet_id=carnet.id, recorded_by_id=user.id, recorded_at=now, state=DoseState.DECLARED,
                    product_code=item.product_code, product_name=item.product_name, diseases=list(item.diseases),
                    administered_on=item.administered_on, lot_number=item.lot_number, dose_label=item.dose_label,
                    injection_site=item.injection_site, route=item.route, note=item.note)
        db.session.add(dose)
        added.append(dose)
    db.session.flush()
    for dose in added:
        db.session.add(DoseRevision(dose_id=dose.id, action="create", before=None, after=dose.snapshot(),
                                    reason="import FHIR", changed_by_id=user.id, changed_at=now))
    if added:
        carnet.last_activity_at = now
    audit(carnet, user, "dose.import", count=len(added))
    db.session.commit()
    return added


def archive_of(pro: User, archive_id: int) -> Archive | None:
    """Return one of the professional's archives."""
    archive = db.session.scalar(select(Archive).where(Archive.id == archive_id, Archive.professional_id == pro.id))
    return archive
