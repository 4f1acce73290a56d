"""A carnet (vaccination record), who may see it, its doses and their history."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cvn.clock import utcnow
from cvn.models.base import Base, EndableGrant, UTCDateTime, str_enum
from cvn.models.user import User



def new_public_id() -> str:
    """Return a random, unguessable identifier for URLs (128 bits)."""
    return secrets.token_urlsafe(16)


class Sex(str, enum.Enum):
    FEMALE = "F"
    MALE = "M"

    @property
    def label(self) -> str:
        return {"F": "Féminin", "M": "Masculin"}[self.value]


class Carnet(Base):
    """The vaccination record of one person (the *holder*)."""

    __tablename__ = "carnet"
    __table_args__ = (
        Index("ix_carnet_search", "search_name"),
        Index("ix_carnet_birth_date", "birth_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Identifier used in URLs, so carnets cannot be enumerated.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    #: Holder's last name (nom de naissance or d'usage), as written by the professional.
    last_name: Mapped[str] = mapped_column(String(100))
    #: Holder's first name(s).
    first_names: Mapped[str] = mapped_column(String(150))
    #: Holder's birth date: ages, due dates and the claim check all rest on it.
    birth_date: Mapped[date] = mapped_column(Date)
    #: Holder's sex at the civil registry (some recommendations depend on it).
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 1))
    #: "last first" folded (no case, no accents) for the patientèle search.
    search_name: Mapped[str] = mapped_column(String(260))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: Situations that change recommendations: pregnant, immunocompromised,
    #: chronic_heart_lung, asplenia, complement_deficiency, hiv, msm, bcg_risk (set by owners or professionals).
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Expected term (date prévue d'accouchement) of the current pregnancy, with the
    #: "pregnant" flag: dates the pertussis (20-36 weeks) and maternal RSV doses.
    pregnancy_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: Last change to the carnet or its doses: orders the patientèle.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    doses: Mapped[list["Dose"]] = relationship(back_populates="carnet", order_by="Dose.administered_on")

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name.upper()}"


class Access(EndableGrant, Base):
    """A professional's access to a carnet: from ``granted_at`` until ``ended_at``."""

    __tablename__ = "carnet_access"
    __table_args__ = (
        # One open access per (carnet, professional); closed ones stay as history.
        Index("uq_carnet_access_open", "carnet_id", "professional_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("ix_carnet_access_professional", "professional_id", "ended_at"),
        # The patientèle starts here: a professional's open accesses with their carnet ids.
        Index("ix_carnet_access_open_professional", "professional_id", "carnet_id",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carnet_id: Mapped[int] = mapped_column(ForeignKey("carnet.id", ondelete="CASCADE"), index=True)
    professional_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    carnet: Mapped[Carnet] = relationship()
    professional: Mapped[User] = relationship()


class DoseState(str, enum.Enum):
    VALIDATED = "validated"  # recorded or confirmed by a professional: counts
    DECLARED = "declared"    # recorded by the owner, waiting for a professional
    REJECTED = "rejected"    # a professional refused it, with a reason


class Dose(Base):
    """One vaccination act (or immunisation product) in a carnet."""

    __tablename__ = "dose"
    __table_args__ = (Index("ix_dose_carnet_state", "carnet_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carnet_id: Mapped[int] = mapped_column(ForeignKey("carnet.id", ondelete="CASCADE"))
    #: Catalogue product code; None for a free-text product or diseases only.
    product_code: Mapped[str | None] = mapped_column(String(40))
    #: Product name as recorded (catalogue name or free text); None if unknown.
    product_name: Mapped[str | None] = mapped_column(String(120))
    #: Disease codes this dose protects against (see schedule/data/diseases.toml).
    diseases: Mapped[list[str]] = mapped_column(JSON)
    #: Date the dose was given.
    administered_on: Mapped[date] = mapped_column(Date)
    #: Manufacturer's lot number (traceability, recalls).
    lot_number: Mapped[str | None] = mapped_column(String(40))
    #: Free label of the dose in its series ("Dose 1", "Rappel 6 ans").
    dose_label: Mapped[str | None] = mapped_column(String(60))
    #: Injection site (deltoid, thigh …).
    injection_site: Mapped[str | None] = mapped_column(String(30))
    #: Route of administration (intramuscular, subcutaneous, oral …).
    route: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    #: Whether the dose counts (validated), waits (declared) or was refused.
    state: Mapped[DoseState] = mapped_column(str_enum(DoseState))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why a professional rejected a declared dose.
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    #: Soft delete: the dose leaves the carnet but stays in its history.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    delete_reason: Mapped[str | None] = mapped_column(String(500))

    carnet: Mapped[Carnet] = relationship(back_populates="doses")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    deleted_by: Mapped[User | None] = relationship(foreign_keys=[deleted_by_id])

    def snapshot(self) -> dict:
        """Return the dose's medical content as plain data (for history and archives)."""
        return {
            "product_code": self.product_code, "product_name": self.product_name,
            "diseases": list(self.diseases or []),
            "administered_on": self.administered_on.isoformat() if self.administered_on else None,
            "lot_number": self.lot_number, "dose_label": self.dose_label,
            "injection_site": self.injection_site, "route": self.route, "note": self.note,
            "state": self.state.value if self.state else None,
        }


class DoseRevision(Base):
    """One change to a dose, kept forever: what it was, what it became, who, why."""

    __tablename__ = "dose_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("dose.id", ondelete="CASCADE"), index=True)
    #: "create", "update", "delete", "validate", "reject".
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(500))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    dose: Mapped[Dose] = relationship()
    changed_by: Mapped[User | None] = relationship()


class AuditEvent(Base):
    """Who read or changed which carnet, and when. Append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_carnet_at", "carnet_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carnet_id: Mapped[int] = mapped_column(ForeignKey("carnet.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What happened: "carnet.create", "carnet.read", "dose.create", "dose.update", …
    action: Mapped[str] = mapped_column(String(40))
    #: A few words of context (a dose id, a product name) — never a copy of the carnet.
    detail: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper, connection, target):
    raise RuntimeError("audit events are append-only")
