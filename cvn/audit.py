"""The audit trail: who read or changed which carnet, and when (append-only).

A kernel module: it knows the models, the clock and the session, nothing above.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import after_this_request, has_request_context
from sqlalchemy import and_, exists, insert, literal, select
from sqlalchemy.orm import selectinload

from cvn.clock import utcnow
from cvn.extensions import db
from cvn.inputs import MAX_PAGE
from cvn.models import AuditEvent, Carnet, User

#: A second read of the same carnet by the same account within this time is the same consultation.
READ_WINDOW = timedelta(minutes=5)
#: Events shown on one page of the trail.
PER_PAGE = 20


def audit(carnet: Carnet, actor: User | None, action: str, **detail) -> AuditEvent:
    """Add an audit event to the session (the caller commits)."""
    event = AuditEvent(carnet_id=carnet.id, actor_id=actor.id if actor else None, at=utcnow(),
                       action=action, detail=detail or None)
    db.session.add(event)
    return event


def record_read(carnet: Carnet, actor: User) -> None:
    """Write a read event (one per account and carnet within READ_WINDOW) and commit it.

    One INSERT … SELECT … WHERE NOT EXISTS statement. In a request the commit
    comes once the answer is built (before it is sent, so nothing is shown
    unaudited), and the page's own reads share its transaction; it keeps the
    carnet and the account loaded. A request that fails records no read.
    """
    now = utcnow()
    recent = exists().where(and_(AuditEvent.carnet_id == carnet.id, AuditEvent.actor_id == actor.id,
                                 AuditEvent.action == "carnet.read", AuditEvent.at > now - READ_WINDOW))
    columns = select(literal(carnet.id), literal(actor.id), literal(now, AuditEvent.at.type),
                     literal("carnet.read")).where(~recent)
    session = db.session()
    session.execute(insert(AuditEvent).from_select(["carnet_id", "actor_id", "at", "action"], columns))
    if has_request_context():
        after_this_request(_commit_read)
    else:
        _commit_read()


def _commit_read(response=None):
    """Commit the read event, keeping what the session holds loaded; hand the response on."""
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
    return response


@dataclass
class TrailPage:
    """One page of a carnet's audit trail, newest first."""

    events: list[AuditEvent]
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def audit_trail(carnet: Carnet, limit: int | None = PER_PAGE) -> list[AuditEvent]:
    """Return the carnet's newest audit events first (``limit=None``: all of them)."""
    query = (select(AuditEvent).where(AuditEvent.carnet_id == carnet.id)
             .options(selectinload(AuditEvent.actor))
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def trail_page(carnet: Carnet, page: int = 1, per_page: int = PER_PAGE) -> TrailPage:
    """Return one page of the carnet's audit trail (two queries: events, their actors)."""
    page = min(max(page, 1), MAX_PAGE)
    events = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.carnet_id == carnet.id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)))
    return TrailPage(events[:per_page], page, len(events) > per_page)
