"""Accounts: patients, professionals and administrators."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_babel import gettext as _
from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from cvn.clock import utcnow
from cvn.models.base import Base, UTCDateTime, str_enum

#: A hash to check against when no account matches, so timing reveals nothing.
DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method="scrypt")


class Role(str, enum.Enum):
    """What an account is for."""

    PATIENT = "patient"
    PROFESSIONAL = "professional"


class Profession(str, enum.Enum):
    """Health professions allowed to manage vaccination records in France."""

    MEDECIN = "medecin"
    INFIRMIER = "infirmier"
    PHARMACIEN = "pharmacien"
    SAGE_FEMME = "sage_femme"

    @property
    def label(self) -> str:
        """Return the French label of the profession."""
        return {
            "medecin": _("Médecin"),
            "infirmier": _("Infirmier·e"),
            "pharmacien": _("Pharmacien·ne"),
            "sage_femme": _("Sage-femme"),
        }[self.value]


class User(UserMixin, Base):
    """An account. The e-mail is stored lower-cased, so uniqueness is case-insensitive."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Health profession (professionals only).
    profession: Mapped[Profession | None] = mapped_column(
        str_enum(Profession, 20)
    )
    #: Répertoire partagé des professionnels de santé number, 11 digits (professionals only).
    rpps: Mapped[str | None] = mapped_column(String(11))
    #: When an administrator checked the professional's identity; None = unverified.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Bumped when the password changes, which logs out every other session.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    #: When the owner of the address opened the confirmation link; alerts and log-in
    #: codes are sent only to a confirmed address.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set while "code par e-mail" is one of the account's second factors.
    email_code_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Wrong log-in codes in a row (authenticator, e-mail or recovery code).
    code_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: Code entry is refused until then (after five wrong codes in a row).
    code_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def get_id(self) -> str:
        """Return the session id: the account id and its auth version."""
        return f"{self.id}.{self.auth_version}"

    def set_password(self, password: str) -> None:
        """Hash and store a new password (scrypt) and end the other sessions."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.auth_version = (self.auth_version or 0) + 1

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_professional(self) -> bool:
        return self.role == Role.PROFESSIONAL

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_verified_professional(self) -> bool:
        return self.is_professional and self.verified_at is not None

    @property
    def display_name(self) -> str:
        """Return the name shown to others ("Dr Martin" for a doctor)."""
        name = f"{self.first_name} {self.last_name}".strip()
        if self.profession == Profession.MEDECIN:
            return f"Dr {name}"
        return name
