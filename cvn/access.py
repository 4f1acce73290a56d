"""Who may enter which space, and the one policy for every carnet route.

Role mismatches answer 403 with a page that says which space it is; anonymous
visitors are sent to log in; a carnet the user may not see answers 404. A
verified professional without a second factor (or a passkey) reaches no carnet
and no professional page: every such request leads to the log-in methods page.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from cvn.auth.factors import needs_second_factor
from cvn.extensions import db, login_manager
from cvn.models import Access, Carnet, DoseState, Ownership
from cvn.web import redirect_url

#: What a professional without a second factor may still open: the account pages and the app shell.
OPEN_WITHOUT_SECOND_FACTOR = {"static", "main.home", "main.manifest", "main.service_worker", "main.offline",
                              "main.health", "pro.pending", "portability.verify", "privacy.privacy",
                              "privacy.legal"}


def _to_enrolment():
    """Answer with a redirect to the log-in methods page (which says why)."""
    return redirect_url(url_for("auth.methods"))


def enforce_second_factor():
    """Before every request: lead a verified professional without a second factor to enrolment."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_WITHOUT_SECOND_FACTOR or endpoint.startswith(("auth.", "outbox.")):
        return None
    if needs_second_factor(current_user):
        return _to_enrolment()
    return None


def professional_required(view):
    """Allow verified professionals; send unverified ones to the waiting page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_professional:
            abort(403)
        if not current_user.is_verified_professional:
            return redirect(url_for("pro.pending"), code=303)
        if needs_second_factor(current_user):
            return _to_enrolment()
        return view(*args, **kwargs)

    return wrapper


def patient_required(view):
    """Allow patient accounts only."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_patient:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    """Allow administrators only."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


# --- Carnets: the one policy every carnet route goes through -----------------

def open_access(user, carnet) -> Access | None:
    """Return the professional's open access to the carnet, if any."""
    if not user.is_authenticated or not user.is_verified_professional:
        return None
    return db.session.scalar(select(Access).where(
        Access.carnet_id == carnet.id, Access.professional_id == user.id, Access.ended_at.is_(None)))


def is_owner(user, carnet) -> bool:
    """Tell whether the user (a patient account) owns the carnet."""
    if not user.is_authenticated or not user.is_patient:
        return False
    return db.session.scalar(select(Ownership.id).where(
        Ownership.carnet_id == carnet.id, Ownership.user_id == user.id, Ownership.ended_at.is_(None))) is not None


def can_read(user, carnet) -> bool:
    """Tell whether the user may read the live carnet: its owners and professionals with access."""
    return open_access(user, carnet) is not None or is_owner(user, carnet)


def can_write(user, carnet) -> bool:
    """Tell whether the user works on the carnet as a professional: record, correct, validate."""
    return open_access(user, carnet) is not None


def can_record(user, carnet) -> bool:
    """Tell whether the user may record a dose (validated for professionals, declared for owners).

    The same people as :func:`can_read`: everyone who may read a live carnet
    may add to it, each in their own way.
    """
    return can_read(user, carnet)


def can_edit_dose(user, carnet, dose) -> bool:
    """Tell whether the user may correct or delete this dose.

    Professionals with access: any dose. Owners: their own declared (or
    rejected) doses, until a professional validates them.
    """
    if can_write(user, carnet):
        return True
    return (is_owner(user, carnet) and dose.recorded_by_id == user.id
            and dose.state in (DoseState.DECLARED, DoseState.REJECTED))


def get_carnet(public_id: str) -> Carnet:
    """Return the carnet if the current user may read it; else 404.

    A carnet the user may not see answers 404, not 403, so its existence does
    not leak. What the user may then do in it is the services' check
    (:func:`can_write`, :func:`can_record`, :func:`can_edit_dose`).
    A verified professional without a second factor is sent to enrolment first.
    """
    if needs_second_factor(current_user):
        abort(_to_enrolment())
    carnet = db.session.scalar(select(Carnet).where(Carnet.public_id == public_id))
    if carnet is None or not can_read(current_user, carnet):
        abort(404)
    return carnet
