"""The patientèle: the professional's carnets, searched and paged, with their states."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from cvn.extensions import db
from cvn.inputs import MAX_PAGE, strip_invisible
from cvn.models import Access, Carnet, Dose, DoseState, User
from cvn.schedule.catalogue import fold
from cvn.sharing.states import NOT_SHARED, SharingState, sharing_states
from cvn.status.services import Summary, summaries


@dataclass
class Row:
    """One line of the patientèle."""

    carnet: Carnet
    pending: int
    sharing: SharingState = NOT_SHARED
    summary: Summary | None = None


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
            .where(Access.professional_id == pro.id, Access.open))
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
    states = sharing_states([c.id for c in carnets])
    status = summaries(carnets)
    return Page([Row(c, counts.get(c.id, 0), states[c.id], status[c.id]) for c in carnets],
                page, per_page, has_next)


