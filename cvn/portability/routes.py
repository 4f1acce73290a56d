"""FHIR export and import of a carnet, its certificate, and the certificate's public verification."""
from __future__ import annotations

import json
import secrets

from flask import Blueprint, abort, current_app, flash, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from cvn.access import get_carnet, is_owner, professional_required
from cvn.clock import today
from cvn.errors import render_error
from cvn.french import ngettext
from cvn.portability import certificate, services
from cvn.portability.fhir import FHIR_JSON
from cvn.portability.forms import ConfirmImportForm, ImportForm
from cvn.portability.importer import MAX_BYTES, Planned, Refused, preview
from cvn.sharing.qr import qr_svg
from cvn.web import render, see_other

bp = Blueprint("portability", __name__)

#: Session key of the import waiting for confirmation (the session lives server-side, encrypted).
PENDING_KEY = "fhir_import"
TOO_BIG = "Le fichier dépasse 1 Mo : l’import accepte 1 Mo au plus. Exportez moins de doses à la fois."


def _download(data: dict, name: str):
    response = current_app.response_class(json.dumps(data, ensure_ascii=False, indent=2), mimetype=FHIR_JSON)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """Say in French that an upload is too big (the body is refused before any view runs)."""
    return render_error(413, TOO_BIG)


@bp.get("/carnets/<public_id>/export.fhir.json")
@login_required
def export(public_id: str):
    """Download the carnet as a FHIR R4 Bundle (owners and professionals with access)."""
    carnet = get_carnet(public_id)
    data = services.export_carnet(current_user, carnet)
    return _download(data, services.filename(carnet.last_name, carnet.first_names, today()))


@bp.get("/pro/archives/<int:archive_id>/export.fhir.json")
@professional_required
def export_archive(archive_id: int):
    """Download one of the professional's frozen copies as FHIR (freeze time and SHA-256 in ``meta``)."""
    archive = services.archive_of(current_user, archive_id)
    if archive is None:
        abort(404)
    holder = json.loads(archive.content)["holder"]
    return _download(services.archive_bundle(archive), services.filename(
        holder["last_name"], holder["first_names"], archive.frozen_at.date(), "archive.fhir.json"))


def _owned(public_id: str):
    carnet = get_carnet(public_id)
    if not is_owner(current_user, carnet):
        abort(404)
    return carnet


@bp.route("/carnets/<public_id>/import", methods=["GET", "POST"])
@login_required
def import_file(public_id: str):
    """Upload a FHIR file and see what it would add, what it duplicates and what is refused."""
    carnet = _owned(public_id)
    form = ImportForm()
    status, refused, shown = 200, None, None
    if form.validate_on_submit():
        raw = form.file.data.read(MAX_BYTES + 1)
        try:
            shown = preview(raw, carnet.birth_date, services.existing_keys(carnet), today(), carnet.first_names)
        except Refused as error:
            refused, status = error.message, 422
        else:
            pending = secrets.token_urlsafe(16)
            session[PENDING_KEY] = {"carnet": carnet.public_id, "id": pending,
                                    "doses": [line.planned.to_dict() for line in shown.added]}
            return render("portability/import.html", carnet=carnet, form=form, preview=shown,
                          confirm=ConfirmImportForm(pending=pending))
    elif request.method == "POST":
        status = 422
    return render("portability/import.html", carnet=carnet, form=form, refused=refused, status=status,
                  preview=None, confirm=None)


@bp.post("/carnets/<public_id>/import/confirmer")
@login_required
def import_confirm(public_id: str):
    """Add the previewed doses, each declared; the pending import is then forgotten."""
    carnet = _owned(public_id)
    form = ConfirmImportForm()
    pending = session.get(PENDING_KEY) or {}
    if not form.validate_on_submit() or pending.get("carnet") != carnet.public_id or (
            pending.get("id") != form.pending.data):
        flash(_("Aucun import en attente pour ce carnet : choisissez à nouveau le fichier."), "error")
        return see_other("portability.import_file", public_id=carnet.public_id)
    session.pop(PENDING_KEY, None)
    added = services.apply_import(current_user, carnet, [Planned.from_dict(d) for d in pending["doses"]])
    flash(ngettext("%(num)s dose importée, déclarée en attente de validation par un professionnel de santé.",
                   "%(num)s doses importées, déclarées en attente de validation par un professionnel de santé.",
                   len(added)), "success")
    return see_other("carnets.section", public_id=carnet.public_id, section="doses")


@bp.get("/carnets/<public_id>/attestation")
@login_required
def certificate_page(public_id: str):
    """Show the printable certificate with its verification QR code."""
    carnet = get_carnet(public_id)
    issued = certificate.issue(current_user, carnet)
    return render("portability/certificate.html", cert=issued,
                  qr=qr_svg(issued.link, _("QR code de vérification de l’attestation")))


@bp.get("/verifier/<token>")
def verify(token: str):
    """Say whether a certificate still matches its carnet (public: initials, birth year, date only)."""
    verdict = certificate.verify(token[:500])
    if verdict is None:
        return render_error(404, _("Ce lien de vérification n’a pas été émis par ce service."))
    return render("portability/verify.html", verdict=verdict)
