"""The patient space: "Mes carnets"."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from cvn.access import patient_required
from cvn.sharing.services import owned_carnets
from cvn.web import render

bp = Blueprint("patient", __name__, url_prefix="/mes-carnets")


@bp.get("/")
@patient_required
def home():
    """List the carnets the patient owns."""
    return render("patient/home.html", carnets=owned_carnets(current_user))
