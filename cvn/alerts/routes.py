"""Owners turn e-mail alerts on or off; a signed link turns them off in one click."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cvn.access import get_carnet
from cvn.alerts import services
from cvn.extensions import csrf, limiter
from cvn.web import render, see_other

bp = Blueprint("alerts", __name__)


@bp.post("/carnets/<public_id>/alertes")
@login_required
def toggle(public_id: str):
    """Turn the owner's e-mail alerts on or off for this carnet."""
    carnet = get_carnet(public_id)
    wanted = request.form.get("alerts") == "on"
    services.subscribe(current_user, carnet, wanted)
    flash(_("Alertes par e-mail activées : vous serez prévenu de chaque nouvelle échéance.") if wanted
          else _("Alertes par e-mail désactivées."), "success")
    return see_other("carnets.show", public_id=carnet.public_id, _anchor="statut")


#: The body a mail client posts for a one-click unsubscribe (RFC 8058).
ONE_CLICK = ("List-Unsubscribe", "One-Click")


@bp.route("/alertes/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below: only a mail client's one-click POST goes without a CSRF token
@limiter.limit("30 per minute")
def unsubscribe(token: str):
    """Stop the alerts of the e-mail's carnet: a button (GET), or at once from a mail client (RFC 8058)."""
    if request.method == "GET":
        return render("alerts/unsubscribe.html", token=token, done=False)
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1] and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()  # the page's own button: a CSRF-protected form like every other
    carnet = services.unsubscribe_with(token)
    if carnet is None:
        return render("alerts/unsubscribe.html", token=token, invalid=True, status=400)
    return render("alerts/unsubscribe.html", token=token, done=True, first_names=carnet.first_names)
