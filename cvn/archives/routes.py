"""Owners stop a share; professionals read their frozen archives."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cvn.access import get_carnet, is_owner, professional_required
from cvn.archives import services
from cvn.extensions import db
from cvn.models import Access
from cvn.web import render, see_other

bp = Blueprint("archives", __name__)


def _owned_access(public_id: str, access_id: int):
    carnet = get_carnet(public_id)
    access = db.session.get(Access, access_id)
    if (not is_owner(current_user, carnet) or access is None or access.carnet_id != carnet.id
            or not access.open):
        abort(404)
    return carnet, access


@bp.route("/carnets/<public_id>/acces/<int:access_id>/arreter", methods=["GET", "POST"])
@login_required
def end_access(public_id: str, access_id: int):
    """Confirm, then end a professional's access (they keep a frozen copy)."""
    carnet, access = _owned_access(public_id, access_id)
    if request.method == "POST":
        services.end_access(current_user, carnet, access)
        flash(_("Partage arrêté : %(name)s n’a plus accès à ce carnet. Il en garde une copie figée à ce jour.",
                name=access.professional.display_name), "success")
        return see_other("carnets.section", public_id=carnet.public_id, section="partage", _anchor="professionnels")
    return render("archives/confirm_end.html", carnet=carnet, access=access)


@bp.get("/pro/archives")
@professional_required
def index():
    """List the professional's archived carnets."""
    return render("archives/index.html", archives=services.archives_of(current_user))


@bp.get("/pro/archives/<int:archive_id>")
@professional_required
def show(archive_id: int):
    """Show one archived carnet, read-only, with its integrity checked."""
    shown = services.open_archive(current_user, archive_id)
    if shown is None:
        abort(404)
    return render("archives/show.html", shown=shown)
