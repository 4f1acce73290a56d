"""One-time secrets sent to a user (password reset and address confirmation links)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cvn.clock import utcnow
from cvn.models.base import Base, UTCDateTime, str_enum
from cvn.models.user import User


class TokenPurpose(str, enum.Enum):
    RESET_PASSWORD = "reset_password"
    CONFIRM_EMAIL = "confirm_email"


class AuthToken(Base):
    """A random token, stored only as its SHA-256; single use and expiring."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(
        str_enum(TokenPurpose, 30)
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def usable(self, now: datetime) -> bool:
        """Tell whether the token can still be used."""
        return self.used_at is None and now < self.expires_at
