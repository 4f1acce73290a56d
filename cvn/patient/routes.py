"""The patient space: "Mes carnets"."""
from __future__ import annotations

from flask import Blueprint

from cvn.access import patient_required
from cvn.web import render

bp = Blueprint("patient", __name__, url_prefix="/mes-carnets")


@bp.get("/")
@patient_required
def home():
    """List the carnets the patient owns."""
    return render("patient/home.html")
