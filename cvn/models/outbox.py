"""Outgoing e-mail, written in the same transaction as the change that causes it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cvn.clock import utcnow
from cvn.models.base import Base, UTCDateTime, str_enum
from cvn.outbox.sealing import unseal


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry (7 days of retries): an administrator may resend it


class OutboxMessage(Base):
    """One e-mail to deliver; the delivery job moves it from pending to sent."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    #: Text body, or its Fernet token while ``sealed`` (read it through ``body_text``).
    stored_text: Mapped[str] = mapped_column("body_text", Text)
    #: HTML body, or its Fernet token while ``sealed`` (read it through ``body_html``).
    stored_html: Mapped[str | None] = mapped_column("body_html", Text)
    #: True while the bodies are encrypted: they carry a one-time link not yet delivered.
    sealed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Extra e-mail headers sent as they are (List-Unsubscribe …).
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, 20),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Last SMTP error (technical text only; never the message body).
    last_error: Mapped[str | None] = mapped_column(String(500))

    @property
    def body_text(self) -> str:
        """Return the text body in clear."""
        return unseal(self.stored_text) if self.sealed else self.stored_text

    @property
    def body_html(self) -> str | None:
        """Return the HTML body in clear."""
        return unseal(self.stored_html) if self.sealed else self.stored_html
