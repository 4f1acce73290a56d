"""The account page: identity, password, address, and the sessions and remembered devices."""
from __future__ import annotations

from flask import abort, flash, request, session
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from cvn import devices, sessions
from cvn.auth import factors, login as steps, services
from cvn.auth.forms import ChangeEmailForm, ChangePasswordForm
from cvn.auth.blueprint import bp
from cvn.clock import utcnow
from cvn.extensions import db
from cvn.models import RememberedDevice, WebSession
from cvn.web import render, see_other


@bp.route("/compte", methods=["GET", "POST"])
@login_required
def account():
    """Show the account and change its password or e-mail address."""
    user = current_user._get_current_object()
    password_form = ChangePasswordForm(prefix="pw")
    password_form.account = user
    email_form = ChangeEmailForm(prefix="em")
    status = 200
    action = request.form.get("action")
    if request.method == "POST" and action == "password":
        if password_form.validate_on_submit():
            try:
                services.change_password(user, password_form.current_password.data, password_form.password.data)
            except services.BadPassword:
                password_form.current_password.errors.append(_("Mot de passe actuel incorrect."))
                status = 422
            else:
                login_user(user)  # this session stays (under a new id), with the new auth version
                flash(_("Mot de passe modifié. Vos autres sessions et appareils mémorisés sont déconnectés."),
                      "success")
                return see_other("auth.account")
        else:
            status = 422
    elif request.method == "POST" and action == "email":
        if email_form.validate_on_submit():
            try:
                services.change_email(user, email_form.current_password.data, email_form.email.data)
            except services.BadPassword:
                email_form.current_password.errors.append(_("Mot de passe actuel incorrect."))
                status = 422
            except services.EmailTaken:
                email_form.email.errors.append(_("Cette adresse est déjà utilisée par un autre compte."))
                status = 409
            else:
                flash(_("Adresse e-mail modifiée. Confirmez-la avec le lien que nous venons de lui envoyer : "
                        "d’ici là, les alertes et les codes de connexion ne lui sont pas envoyés."), "success")
                return see_other("auth.account")
        else:
            status = 422
    elif request.method == "POST":
        status = 400
    return render("auth/account.html", password_form=password_form, email_form=email_form,
                  has_second_factor=factors.has_second_factor(user), status=status)


@bp.get("/compte/sessions")
@login_required
def sessions_page():
    """List the account's open sessions and remembered devices."""
    user = current_user._get_current_object()
    return render("auth/sessions.html", block="sessions", sessions=sessions.sessions_of(user),
                  devices=devices.devices_of(user), current_sid=session.sid, current_device=_current_device_id(),
                  label=devices.device_label, now=utcnow())


def _current_device_id() -> int | None:
    device = devices.device_from_request()
    return device.id if device is not None and device.user_id == current_user.id else None


@bp.post("/compte/sessions/<int:session_id>/terminer")
@login_required
def end_session(session_id: int):
    """End one of the account's sessions (this one logs out)."""
    row = db.session.scalar(select(WebSession).where(WebSession.id == session_id,
                                                     WebSession.user_id == current_user.id))
    if row is None:
        abort(404)
    if row.id == session.sid:
        return _log_out_here()
    db.session.delete(row)
    db.session.commit()
    flash(_("Session terminée : cet appareil devra se reconnecter."), "success")
    return see_other("auth.sessions_page")


@bp.post("/compte/sessions/terminer-autres")
@login_required
def end_other_sessions():
    """End every session of the account but this one."""
    ended = 0
    for row in sessions.sessions_of(current_user._get_current_object()):
        if row.id != session.sid:
            db.session.delete(row)
            ended += 1
    db.session.commit()
    flash(ngettext("%(num)s autre session terminée.", "%(num)s autres sessions terminées.", ended), "success")
    return see_other("auth.sessions_page")


@bp.post("/compte/appareils/<int:device_id>/oublier")
@login_required
def forget_device(device_id: int):
    """Forget a remembered device; the sessions it opened end too."""
    device = db.session.scalar(select(RememberedDevice).where(RememberedDevice.id == device_id,
                                                              RememberedDevice.user_id == current_user.id))
    if device is None:
        abort(404)
    here = device.id == _current_device_id()
    devices.forget_device(device)
    if here:
        session.clear_device_cookie = True
    db.session.commit()
    if here and session.sid is not None and db.session.scalar(
            select(WebSession.id).where(WebSession.id == session.sid)) is None:
        return _log_out_here()
    flash(_("Appareil oublié : il devra se reconnecter avec le mot de passe."), "success")
    return see_other("auth.sessions_page")


def _log_out_here():
    steps.log_out()
    flash(_("Vous êtes déconnecté."), "info")
    return see_other("main.home")
