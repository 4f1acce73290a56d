"""The professional space: home (patientèle) and the waiting page."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user, login_required

from cvn.access import professional_required
from cvn.web import render

bp = Blueprint("pro", __name__, url_prefix="/pro")


@bp.get("/")
@professional_required
def home():
    """Show the professional's home."""
    return render("pro/home.html")


@bp.get("/en-attente")
@login_required
def pending():
    """Tell an unverified professional that the account waits for verification."""
    if not current_user.is_professional:
        abort(403)
    if current_user.is_verified_professional:
        return redirect(url_for("pro.home"))
    return render("pro/pending.html")
