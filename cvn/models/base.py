"""Declarative base shared by every model, and the column types they use."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic revisions are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as naive UTC; give back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Base class of all CVN models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls, length: int = 20) -> Enum:
    """Return a portable enum column type storing the members' values as strings."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class EndableGrant:
    """A grant (an access, an ownership) that runs until ``ended_at`` is set.

    ``open`` is the one criterion, in Python (``grant.open``) and in SQL
    (``where(Access.open)``): nobody retypes ``ended_at IS NULL``.
    """

    ended_at: datetime | None

    @hybrid_property
    def open(self) -> bool:
        """Tell whether the grant is still running."""
        return self.ended_at is None

    @open.inplace.expression
    @classmethod
    def _open_expression(cls):
        return cls.ended_at.is_(None)
