"""Who may enter which space. Carnet-level rules join this module later.

Role mismatches answer 403 with a page that says which space it is; anonymous
visitors are sent to log in.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, redirect, url_for
from flask_login import current_user

from cvn.extensions import login_manager


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
