"""Leaving with one's data: download it, delete the account; the privacy and legal notice pages."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cvn.auth import login as steps
from cvn.clock import today
from cvn.french import ngettext
from cvn.privacy import services
from cvn.privacy.forms import DeleteAccountForm
from cvn.web import render, see_other

bp = Blueprint("privacy", __name__)


@bp.get("/compte/mes-donnees.zip")
@login_required
def download():
    """Download the account's data: account JSON, every owned carnet as FHIR, their audit trails."""
    user = current_user._get_current_object()
    response = current_app.response_class(services.data_zip(user), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="cvn-mes-donnees-{today().isoformat()}.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/compte/supprimer", methods=["GET", "POST"])
@login_required
def delete_account():
    """Confirm with the password, then delete the account (professionals are told whom to ask)."""
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    status = 200
    if request.method == "POST":
        if user.is_professional:
            status = 403
        elif form.validate_on_submit():
            try:
                result = services.delete_account(user, form.password.data)
            except services.BadPassword:
                form.password.errors.append(_("Mot de passe incorrect."))
                status = 422
            else:
                steps.log_out()
                flash(_("Votre compte est supprimé.") + " "
                      + ngettext("%(num)s carnet supprimé,", "%(num)s carnets supprimés,", result.deleted) + " "
                      + ngettext("%(num)s conservé pour ses autres titulaires ou professionnels.",
                                 "%(num)s conservés pour leurs autres titulaires ou professionnels.", result.kept),
                      "success")
                return see_other("main.home")
        else:
            status = 422
    return render("privacy/delete.html", form=form, status=status)


@bp.get("/confidentialite")
def privacy():
    """Say who processes which data, why, for how long, and how to exercise each right."""
    return render("privacy/privacy.html")


@bp.get("/mentions-legales")
def legal():
    """Show the legal notice."""
    return render("privacy/legal.html")
