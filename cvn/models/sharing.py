"""Invitations (hand-over and sharing links) and ownership of carnets."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cvn.clock import utcnow
from cvn.models.base import Base, EndableGrant, UTCDateTime, str_enum
from cvn.models.carnet import Carnet
from cvn.models.user import User



class InvitationTarget(str, enum.Enum):
    HOLDER = "holder"              # the holder or a parent: becomes an owner
    PROFESSIONAL = "professional"  # a professional: gets an access


class InvitationChannel(str, enum.Enum):
    EMAIL = "email"
    QR = "qr"
    LINK = "link"


class InvitationState(str, enum.Enum):
    PENDING = "pending"
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"
    LOCKED = "locked"


#: Wrong birth dates allowed before an invitation locks.
MAX_ATTEMPTS = 5


class Invitation(Base):
    """A one-time link to a carnet; its token exists only in the link (SHA-256 here)."""

    __tablename__ = "invitation"
    __table_args__ = (
        Index("ix_invitation_carnet", "carnet_id", "target"),
        # E-mailed invitations are counted per sender and per address (abuse limits).
        Index("ix_invitation_sender", "created_by_id", "created_at"),
        Index("ix_invitation_email", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carnet_id: Mapped[int] = mapped_column(ForeignKey("carnet.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    target: Mapped[InvitationTarget] = mapped_column(str_enum(InvitationTarget))
    channel: Mapped[InvitationChannel] = mapped_column(str_enum(InvitationChannel))
    #: Address the link was e-mailed to (e-mail channel only).
    email: Mapped[str | None] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when MAX_ATTEMPTS wrong birth dates were typed.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Wrong birth dates typed so far.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)

    carnet: Mapped[Carnet] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])

    def state(self, now: datetime) -> InvitationState:
        """Return the state at ``now`` (used, revoked and locked win over expiry)."""
        if self.used_at is not None:
            return InvitationState.USED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.locked_at is not None:
            return InvitationState.LOCKED
        if now >= self.expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    @property
    def remaining_attempts(self) -> int:
        return max(MAX_ATTEMPTS - (self.failed_attempts or 0), 0)


class Ownership(EndableGrant, Base):
    """A patient account owns a carnet (the holder, or each parent of a child)."""

    __tablename__ = "ownership"
    __table_args__ = (
        Index("uq_ownership_open", "carnet_id", "user_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("ix_ownership_user", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carnet_id: Mapped[int] = mapped_column(ForeignKey("carnet.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The invitation through which the carnet was claimed.
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"))

    carnet: Mapped[Carnet] = relationship()
    user: Mapped[User] = relationship()


class Archive(Base):
    """A professional's frozen copy of a carnet, taken when the owner ended their access.

    Medico-legal trace: ``content`` is canonical JSON of the carnet at that
    instant and ``sha256`` its digest; no code path updates a row.
    """

    __tablename__ = "archive"
    __table_args__ = (Index("ix_archive_professional", "professional_id", "frozen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The live carnet it was taken from (kept even if that carnet is deleted later).
    carnet_id: Mapped[int | None] = mapped_column(ForeignKey("carnet.id", ondelete="SET NULL"))
    professional_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    access_id: Mapped[int | None] = mapped_column(ForeignKey("carnet_access.id", ondelete="SET NULL"))
    #: The instant the share ended: the copy shows the carnet as it was then.
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who ended the share (an owner).
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: Canonical JSON (sorted keys, no spaces) of identity, doses and their states.
    content: Mapped[str] = mapped_column(Text)
    #: SHA-256 hex digest of ``content``, checked whenever the archive is shown.
    sha256: Mapped[str] = mapped_column(String(64))

    professional: Mapped[User] = relationship(foreign_keys=[professional_id])


@event.listens_for(Archive, "before_update")
def _archives_are_frozen(mapper, connection, target):
    raise RuntimeError("archives are frozen")
