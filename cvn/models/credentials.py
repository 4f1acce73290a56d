"""Second factors and passkeys: what an account can log in with besides its password."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cvn.clock import utcnow
from cvn.models.base import Base, UTCDateTime


class Passkey(Base):
    """A WebAuthn credential (passkey): enough on its own to log in."""

    __tablename__ = "passkey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    #: The credential id chosen by the authenticator, base64url.
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    #: COSE public key the authenticator's signatures are checked with.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Name the user gave it ("iPhone de Claire").
    name: Mapped[str] = mapped_column(String(60))
    #: Transports the browser reported (usb, internal, hybrid…), comma-separated.
    transports: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TotpCredential(Base):
    """An authenticator app (TOTP, RFC 6238), one per account."""

    __tablename__ = "totp_credential"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    #: The base32 secret, encrypted (AES-GCM, key derived from CVN_SECRET_KEY).
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last 30-second time step accepted: a code is never accepted twice.
    last_step: Mapped[int] = mapped_column(Integer, default=0)


class EmailCode(Base):
    """A 6-digit log-in code sent by e-mail: 10 minutes, 5 tries, stored as an HMAC."""

    __tablename__ = "email_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    """One of ten single-use recovery codes (80 bits), stored as SHA-256."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
