"""E-mail alerts when a dose falls due: who opted in, what was announced, job locks."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cvn.clock import utcnow
from cvn.models.base import Base, UTCDateTime
from cvn.models.carnet import Carnet
from cvn.models.user import User


class AlertSubscription(Base):
    """An owner asked to be e-mailed when a dose of this carnet falls due."""

    __tablename__ = "alert_subscription"
    __table_args__ = (UniqueConstraint("carnet_id", "user_id", name="uq_alert_subscription_carnet_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carnet_id: Mapped[int] = mapped_column(ForeignKey("carnet.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the daily job last evaluated this carnet for this subscriber.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: First day anything announceable can appear without a change to the carnet
    #: (a due date coming within 14 days, or a weekly re-check at the latest).
    next_check_on: Mapped[date | None] = mapped_column(Date, index=True)

    carnet: Mapped[Carnet] = relationship()
    user: Mapped[User] = relationship()


class AlertSent(Base):
    """One announced due dose; the unique key makes each announcement happen once."""

    __tablename__ = "alert_sent"
    __table_args__ = (UniqueConstraint("carnet_id", "disease", "dose", "due_date", name="uq_alert_sent_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    carnet_id: Mapped[int] = mapped_column(ForeignKey("carnet.id", ondelete="CASCADE"))
    #: Disease code of the recommendation announced.
    disease: Mapped[str] = mapped_column(String(40))
    #: Dose label of the recommendation ("Dose 2/3", "Rappel 45 ans").
    dose: Mapped[str] = mapped_column(String(60))
    #: Date the dose became (or becomes) due.
    due_date: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobLock(Base):
    """A named lock so one scheduled job runs in one process at a time."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Local date of the last completed run (alerts look back to it).
    last_run_on: Mapped[date | None] = mapped_column(Date)
