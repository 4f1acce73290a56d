"""Server-side sessions and remembered devices.

The browser holds only a random 256-bit id; the table holds its SHA-256 and the
session's data encrypted with a key derived from that id (see ``cvn.sessions``),
so a copy of the table opens no session and reveals no one-time token.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cvn.clock import utcnow
from cvn.models.base import Base, UTCDateTime


class RememberedDevice(Base):
    """A browser the user asked to remember ("Rester connecté"), for 30 days at most.

    Its cookie carries a random token; only the token's SHA-256 is stored.
    Deleting the row (log-out on that device, "Oublier cet appareil", a
    password change or reset) makes the cookie worthless.
    """

    __tablename__ = "remembered_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The browser's User-Agent when remembered (shown as "Chrome sur Android").
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Fixed at creation (30 days later); never extended.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    """One browser session, anonymous or bound to an account."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 hex of the cookie's random id (the id itself is never stored).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    #: The remembered device that opened or skipped the code step for this session, if any.
    device_id: Mapped[int | None] = mapped_column(ForeignKey("remembered_device.id", ondelete="CASCADE"),
                                                  index=True)
    #: How the account logged in: password, password+totp, password+email, password+recovery,
    #: password+passkey, passkey, device.
    method: Mapped[str | None] = mapped_column(String(30))
    #: Nonce + AES-GCM ciphertext of the session's JSON data.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Absolute end, whatever the activity.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Inactivity allowed before the session ends, in seconds.
    idle_seconds: Mapped[int] = mapped_column(Integer)
