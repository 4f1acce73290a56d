"""Account rules: sign-up, log-in, password reset, e-mail change, verification.

Each function that changes something commits once (one transaction per action);
e-mails go into the outbox inside that same transaction.
"""
from __future__ import annotations

from datetime import timedelta

from cvn.web import absolute_url
from sqlalchemy import select, update

from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import AuthToken, Profession, Role, TokenPurpose, User
from cvn.models.user import DUMMY_HASH
from cvn.outbox.services import queue_mail
from cvn.tokens import hash_token, new_token
from werkzeug.security import check_password_hash

RESET_VALIDITY = timedelta(hours=1)


class EmailTaken(Exception):
    """An account already uses this e-mail address."""


class BadPassword(Exception):
    """The current password given does not match."""


def normalize_email(email: str) -> str:
    """Return the e-mail in the form it is stored (trimmed, lower-case)."""
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    """Return the account with this e-mail, whatever its case."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def register(*, email: str, password: str, first_name: str, last_name: str, role: Role,
             profession: Profession | None = None, rpps: str | None = None) -> User:
    """Create an account; a professional starts unverified."""
    email = normalize_email(email)
    if find_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(email=email, first_name=first_name, last_name=last_name, role=role,
                profession=profession if role == Role.PROFESSIONAL else None,
                rpps=rpps if role == Role.PROFESSIONAL else None, is_admin=False, auth_version=0)
    user.set_password(password)
    db.session.add(user)
    if role == Role.PROFESSIONAL:
        _notify_admins_of_pending(user)
    try:
        db.session.commit()
    except Exception as exc:  # a concurrent sign-up with the same address
        db.session.rollback()
        from sqlalchemy.exc import IntegrityError

        if isinstance(exc, IntegrityError):
            raise EmailTaken(email) from exc
        raise
    return user


def _notify_admins_of_pending(user: User) -> None:
    """Tell administrators that a professional waits for verification."""
    for admin in db.session.scalars(select(User).where(User.is_admin.is_(True))):
        queue_mail(admin.email, "Un professionnel attend la vérification de son compte",
                   "pending_professional", admin=admin, professional=user,
                   link=absolute_url("admin.professionals"))


def authenticate(email: str, password: str) -> User | None:
    """Return the account if the credentials match; take as long either way."""
    user = find_by_email(email)
    if user is None:
        check_password_hash(DUMMY_HASH, password)
        return None
    return user if user.check_password(password) else None


def request_password_reset(email: str, link_for) -> None:
    """Send a reset link (valid one hour) if an account has this address."""
    user = find_by_email(email)
    if user is None:
        return
    raw, digest = new_token()
    now = utcnow()
    db.session.add(AuthToken(user=user, purpose=TokenPurpose.RESET_PASSWORD, token_hash=digest,
                             created_at=now, expires_at=now + RESET_VALIDITY))
    queue_mail(user.email, "Réinitialiser votre mot de passe", "reset_password",
               user=user, link=link_for(raw), expires_at=now + RESET_VALIDITY)
    db.session.commit()


def find_reset_token(raw: str) -> AuthToken | None:
    """Return the reset token if it exists and can still be used."""
    token = db.session.scalar(select(AuthToken).where(
        AuthToken.token_hash == hash_token(raw), AuthToken.purpose == TokenPurpose.RESET_PASSWORD))
    if token is None or not token.usable(utcnow()):
        return None
    return token


def reset_password(raw: str, password: str) -> User | None:
    """Set a new password with a reset token; None if it is unknown, used or expired.

    The token is consumed with a conditional UPDATE, so two concurrent uses
    cannot both succeed.
    """
    token = find_reset_token(raw)
    if token is None:
        return None
    now = utcnow()
    consumed = db.session.execute(
        update(AuthToken)
        .where(AuthToken.id == token.id, AuthToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if consumed != 1:
        db.session.rollback()
        return None
    user = token.user
    user.set_password(password)
    queue_mail(user.email, "Votre mot de passe a été modifié", "password_changed", user=user)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password after checking the current one."""
    if not user.check_password(current):
        raise BadPassword()
    user.set_password(new)
    queue_mail(user.email, "Votre mot de passe a été modifié", "password_changed", user=user)
    db.session.commit()


def change_email(user: User, password: str, new_email: str) -> None:
    """Change the e-mail address after checking the password; warn the old address."""
    if not user.check_password(password):
        raise BadPassword()
    new_email = normalize_email(new_email)
    if new_email == user.email:
        return
    existing = find_by_email(new_email)
    if existing is not None:
        raise EmailTaken(new_email)
    old = user.email
    user.email = new_email
    queue_mail(old, "Votre adresse e-mail a été modifiée", "email_changed", user=user, new_email=new_email)
    db.session.commit()


def verify_professional(user: User) -> bool:
    """Mark a professional as verified; False if it is not a professional."""
    if not user.is_professional:
        return False
    if user.verified_at is None:
        user.verified_at = utcnow()
        queue_mail(user.email, "Votre compte professionnel est vérifié", "professional_verified",
                   user=user, link=absolute_url("main.home"))
        db.session.commit()
    return True
