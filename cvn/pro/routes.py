"""The professional space: the patientèle (search, pages) and the waiting page."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required

from cvn.access import professional_required
from cvn.pro.services import patientele
from cvn.clock import today
from cvn.inputs import page_number, year_in_range
from cvn.web import render

bp = Blueprint("pro", __name__, url_prefix="/pro")


def _parse_date(raw: str):
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(raw.strip(), fmt).date()
        except ValueError:
            continue
        return parsed if year_in_range(parsed) else None
    return None


@bp.get("/")
@professional_required
def home():
    """List the professional's carnets; search by name and/or birth date (as you type)."""
    query = request.args.get("q", "").strip()[:100]
    raw_date = request.args.get("naissance", "").strip()
    birth_date = _parse_date(raw_date) if raw_date else None
    date_error = bool(raw_date) and birth_date is None
    page = page_number(request.args.get("page"))
    result = patientele(current_user, query, birth_date, page=page)
    return render("pro/home.html", block="patientele", result=result, q=query, naissance=raw_date,
                  date_error=date_error, today=today(), status=400 if date_error else 200)


@bp.get("/en-attente")
@login_required
def pending():
    """Tell an unverified professional that the account waits for verification."""
    if not current_user.is_professional:
        abort(403)
    if current_user.is_verified_professional:
        return redirect(url_for("pro.home"))
    return render("pro/pending.html")
