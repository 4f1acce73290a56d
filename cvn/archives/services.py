"""Stopping a share and the frozen archives it leaves.

Ending a professional's access and writing their archived copy happen in one
transaction. The copy is canonical JSON with its SHA-256; nothing updates it
(an ORM hook refuses), and the digest is checked each time it is shown.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from cvn.access import AccessLost, forget_permissions, is_owner
from cvn.audit import audit
from cvn.carnets.services import live_doses
from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import Access, Archive, Carnet, User


def canonical(data: dict) -> str:
    """Return the one JSON text of ``data`` (sorted keys, no spaces) that gets hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def snapshot(carnet: Carnet, at) -> dict:
    """Return the carnet as it is now: identity, live doses with their states."""
    def name(user):
        return user.display_name if user else None

    return {
        "frozen_at": at.isoformat(),
        "holder": {"last_name": carnet.last_name, "first_names": carnet.first_names,
                   "birth_date": carnet.birth_date.isoformat(), "sex": carnet.sex.value},
        "doses": [
            {**dose.snapshot(), "id": dose.id, "recorded_by": name(dose.recorded_by),
             "recorded_at": dose.recorded_at.isoformat(), "validated_by": name(dose.validated_by),
             "validated_at": dose.validated_at.isoformat() if dose.validated_at else None,
             "rejection_reason": dose.rejection_reason}
            for dose in live_doses(carnet)
        ],
    }


def accesses(carnet: Carnet) -> list[Access]:
    """Return the open professional accesses of a carnet, oldest first."""
    return list(db.session.scalars(select(Access).where(
        Access.carnet_id == carnet.id, Access.open).order_by(Access.granted_at)))


def end_access(owner: User, carnet: Carnet, access: Access) -> Archive:
    """End a professional's access and write their frozen copy, in one transaction."""
    if not is_owner(owner, carnet) or access.carnet_id != carnet.id or not access.open:
        raise AccessLost()
    now = utcnow()
    access.ended_at = now
    content = canonical(snapshot(carnet, now))
    archive = Archive(carnet_id=carnet.id, professional_id=access.professional_id, access_id=access.id,
                      frozen_at=now, ended_by_id=owner.id, content=content, sha256=digest(content))
    db.session.add(archive)
    # The name as it was then: the journal reads « … a arrêté le partage avec Dr X » without a lookup per line.
    audit(carnet, owner, "access.end", professional=access.professional_id,
          professional_name=access.professional.display_name)
    db.session.commit()
    forget_permissions()
    return archive


@dataclass
class ShownArchive:
    archive: Archive
    data: dict
    intact: bool


def archives_of(pro: User) -> list[Archive]:
    """Return the professional's archived carnets, newest first."""
    return list(db.session.scalars(select(Archive).where(Archive.professional_id == pro.id)
                                   .order_by(Archive.frozen_at.desc(), Archive.id.desc())))


def open_archive(pro: User, archive_id: int) -> ShownArchive | None:
    """Return one of the professional's archives, with its digest checked."""
    archive = db.session.get(Archive, archive_id)
    if archive is None or archive.professional_id != pro.id:
        return None
    return ShownArchive(archive, json.loads(archive.content), digest(archive.content) == archive.sha256)
