"""The patient space: "Mes carnets"."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from cvn.access import patient_required
from cvn.sharing.services import owned_carnets
from cvn.status.services import summaries
from cvn.web import render

bp = Blueprint("patient", __name__, url_prefix="/mes-carnets")


@bp.get("/")
@patient_required
def home():
    """List the carnets the patient owns."""
    carnets = owned_carnets(current_user)
    return render("patient/home.html", carnets=carnets, summaries=summaries(carnets))
