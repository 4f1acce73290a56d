"""Operator pages: professionals waiting for verification, e-mails given up on."""
from __future__ import annotations

from flask import Blueprint, abort, flash
from flask_babel import gettext as _
from sqlalchemy import select

from cvn.access import admin_required
from cvn.auth.services import verify_professional
from cvn.extensions import db
from cvn.french import de
from cvn.models import Role, User
from cvn.outbox import services as outbox
from cvn.web import render, see_other

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/professionnels")
@admin_required
def professionals():
    """List professionals waiting for verification, oldest first."""
    pending = db.session.scalars(
        select(User).where(User.role == Role.PROFESSIONAL, User.verified_at.is_(None))
        .order_by(User.created_at)
    ).all()
    return render("admin/professionals.html", pending=pending)


@bp.post("/professionnels/<int:user_id>/verifier")
@admin_required
def verify(user_id: int):
    """Verify one professional account."""
    user = db.session.get(User, user_id)
    if user is None or not verify_professional(user):
        abort(404)
    flash(_("Compte %(de_name)s vérifié.", de_name=de(user.display_name)), "success")
    return see_other("admin.professionals")


@bp.get("/e-mails-en-echec")
@admin_required
def failed_mail():
    """List the e-mails given up on after 7 days of retries, newest first."""
    return render("admin/failed_mail.html", messages=outbox.failed_messages(), state=outbox.state())


@bp.post("/e-mails-en-echec/<int:message_id>/renvoyer")
@admin_required
def resend_mail(message_id: int):
    """Queue a failed e-mail again: the delivery job sends it within a minute."""
    message = outbox.resend(message_id)
    if message is None:
        abort(404)
    flash(_("L’e-mail « %(subject)s » pour %(to)s est remis dans la file d’envoi.",
            subject=message.subject, to=message.recipient), "success")
    return see_other("admin.failed_mail")
