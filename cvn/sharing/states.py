"""Where each carnet stands with its holder: not shared, invitation pending, owned."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import Invitation, InvitationTarget, Ownership


@dataclass(frozen=True)
class SharingState:
    """Where a carnet stands with its holder: not shared, invitation pending, owned."""

    kind: str  # "not_shared" | "pending" | "owned"
    until: date | None = None


NOT_SHARED = SharingState("not_shared")


def sharing_states(carnet_ids: list[int]) -> dict[int, SharingState]:
    """Return each carnet's state with its holder, in two queries for the whole page."""
    if not carnet_ids:
        return {}
    owned = set(db.session.scalars(select(Ownership.carnet_id).where(
        Ownership.carnet_id.in_(carnet_ids), Ownership.open)))
    now = utcnow()
    pending = dict(db.session.execute(
        select(Invitation.carnet_id, func.max(Invitation.expires_at))
        .where(Invitation.carnet_id.in_(carnet_ids), Invitation.target == InvitationTarget.HOLDER,
               Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
               Invitation.locked_at.is_(None), Invitation.expires_at > now)
        .group_by(Invitation.carnet_id)).all())
    states = {}
    for cid in carnet_ids:
        if cid in owned:
            states[cid] = SharingState("owned")
        elif cid in pending:
            # max() keeps the column's type, so the date comes back aware on both backends (tested)
            states[cid] = SharingState("pending", pending[cid])
        else:
            states[cid] = NOT_SHARED
    return states
