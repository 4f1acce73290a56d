""""Choix de la méthode de connexion": passkeys, authenticator app, e-mail code, recovery codes.

Every change asks for the password (or a passkey) typed within the last five
minutes — not the log-in itself — and sends a notice e-mail in the same
transaction. A professional cannot remove their last second factor.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, jsonify, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from cvn.auth import factors, login as steps, passkeys, services
from cvn.auth.forms import CodeForm, ConfirmPasswordForm, PasskeyNameForm
from cvn.auth.blueprint import bp
from cvn.clock import utcnow
from cvn.extensions import db, limiter
from cvn.models import Passkey, TotpCredential
from cvn.sharing.qr import qr_svg
from cvn.web import redirect_url, render, safe_next, see_other

TOTP_KEY = "totp_enrolment"
CODES_KEY = "recovery_codes_shown"


def identity_confirmed(view):
    """Ask for the password (or a passkey) again unless it was typed in the last five minutes."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if steps.recently_confirmed():
            return view(*args, **kwargs)
        return _confirm_first()

    return wrapper


def _confirm_first():
    """Answer with the way to the identity confirmation (JSON for the passkey scripts)."""
    if request.is_json:
        return jsonify(error=_("Confirmez d’abord votre identité."),
                       reauth=url_for("auth.confirm_identity", next=url_for("auth.methods"))), 401
    target = request.full_path.rstrip("?") if request.method == "GET" else url_for("auth.methods")
    return redirect_url(url_for("auth.confirm_identity", next=target))


def _user():
    return current_user._get_current_object()


def _keep_last_factor(change: str) -> bool:
    """Refuse to remove a professional's or an administrator's last second factor; True when it may go on."""
    user = _user()
    if not (user.is_professional or user.is_admin):
        return True
    remaining = (factors.has_totp(user) and change != "totp") or \
        (user.email_code_enabled_at is not None and change != "email") or \
        (len(factors.passkeys_of(user)) > (1 if change == "passkey" else 0))
    if not remaining:
        flash(_("Un compte professionnel ou administrateur garde au moins une deuxième étape : ajoutez-en une "
                "autre avant de retirer celle-ci."), "error")
    return bool(remaining)


def _after_enrolment(change: str):
    """Send the notice; give ten recovery codes if the account has none left; commit and go on."""
    user = _user()
    services.notify_methods_changed(user, change)
    if factors.recovery_codes_left(user) == 0:
        session[CODES_KEY] = factors.new_recovery_codes(user)
    db.session.commit()
    if CODES_KEY in session:
        return see_other("auth.recovery_codes")
    return see_other("auth.methods")


@bp.get("/compte/methodes")
@login_required
def methods():
    """Show the log-in methods of the account and what can be changed."""
    user = _user()
    return render("auth/methods.html", passkeys=factors.passkeys_of(user), totp=factors.has_totp(user),
                  codes_left=factors.recovery_codes_left(user), has_second=factors.has_second_factor(user),
                  required=user.is_professional or user.is_admin, passkeys_on=passkeys.available(), name_form=PasskeyNameForm(prefix="nouvelle", formdata=None),
                  confirmed=steps.recently_confirmed())


@bp.route("/compte/confirmer", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per 10 minutes", methods=["POST"], error_message="Trop de tentatives.")
def confirm_identity():
    """Type the password again (or use a passkey) before changing a log-in method."""
    form = ConfirmPasswordForm()
    target = safe_next(request.args.get("next")) or url_for("auth.methods")
    status = 200
    if form.validate_on_submit():
        if _user().check_password(form.password.data):
            steps.confirm_identity()
            return redirect_url(target)
        form.password.errors.append(_("Mot de passe incorrect."))
        status = 422
    elif request.method == "POST":
        status = 422
    return render("auth/confirm_identity.html", form=form, next=target, passkeys_on=passkeys.available(),
                  has_passkeys=bool(factors.passkeys_of(_user())), status=status)


@bp.post("/compte/confirmer/cle/options")
@login_required
def confirm_identity_passkey_options():
    """Give the browser the options to confirm the identity with one of the account's passkeys."""
    return passkeys.authentication_options(_user()), 200, {"Content-Type": "application/json"}


@bp.post("/compte/confirmer/cle")
@login_required
@limiter.limit("10 per 10 minutes", error_message="Trop de tentatives.")
def confirm_identity_passkey():
    """Confirm the identity with a passkey of this account."""
    payload = request.get_json(silent=True) or {}
    try:
        passkeys.authenticate(str(payload.get("credential", "")), _user())
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return jsonify(error=str(error)), 401
    db.session.commit()
    steps.confirm_identity()
    return jsonify(redirect=safe_next(payload.get("next")) or url_for("auth.methods"))


# --- Authenticator app ---------------------------------------------------------------

@bp.route("/compte/methodes/application", methods=["GET", "POST"])
@login_required
@identity_confirmed
@limiter.limit("10 per 10 minutes", methods=["POST"], error_message="Trop de codes essayés.")
def totp_enrol():
    """Add an authenticator app: scan the QR code (or type the secret), then type its code."""
    user = _user()
    secret = session.get(TOTP_KEY)
    if request.method == "GET" or not secret:
        secret = factors.new_totp_secret()
        session[TOTP_KEY] = secret
    form = CodeForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        step = factors.totp_step(secret, form.code.data)
        if step is not None:
            replaced = factors.has_totp(user)
            factors.enrol_totp(user, secret, step)
            session.pop(TOTP_KEY, None)
            flash(_("Application d’authentification enregistrée : elle vous donnera le code à chaque connexion."),
                  "success")
            return _after_enrolment("totp_replaced" if replaced else "totp_added")
        form.code.errors.append(_("Ce code ne correspond pas. Vérifiez l’heure du téléphone et saisissez le "
                                  "code affiché maintenant."))
        status = 422
    elif request.method == "POST":
        status = 422
    uri = factors.provisioning_uri(user, secret)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render("auth/totp.html", form=form, qr=qr_svg(uri, _("QR code à scanner avec l’application")),
                  secret=grouped, status=status)


@bp.post("/compte/methodes/application/retirer")
@login_required
@identity_confirmed
def totp_remove():
    """Remove the authenticator app."""
    user = _user()
    credential = db.session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))
    if credential is None:
        return see_other("auth.methods")
    if not _keep_last_factor("totp"):
        return see_other("auth.methods")
    db.session.delete(credential)
    services.notify_methods_changed(user, "totp_removed")
    db.session.commit()
    flash(_("Application d’authentification retirée."), "success")
    return see_other("auth.methods")


# --- E-mail code ----------------------------------------------------------------------

@bp.post("/compte/methodes/email/activer")
@login_required
@identity_confirmed
def email_code_on():
    """Turn on the 6-digit code by e-mail (the address must be confirmed)."""
    user = _user()
    if user.email_confirmed_at is None:
        flash(_("Confirmez d’abord votre adresse e-mail : nous n’envoyons pas de code à une adresse non "
                "confirmée."), "error")
        return see_other("auth.methods")
    if user.email_code_enabled_at is None:
        user.email_code_enabled_at = utcnow()
        flash(_("Code par e-mail activé."), "success")
        return _after_enrolment("email_added")
    return see_other("auth.methods")


@bp.post("/compte/methodes/email/retirer")
@login_required
@identity_confirmed
def email_code_off():
    """Turn off the code by e-mail."""
    user = _user()
    if user.email_code_enabled_at is not None and _keep_last_factor("email"):
        user.email_code_enabled_at = None
        services.notify_methods_changed(user, "email_removed")
        db.session.commit()
        flash(_("Code par e-mail désactivé."), "success")
    return see_other("auth.methods")


# --- Passkeys ---------------------------------------------------------------------------

@bp.post("/compte/methodes/cles/options")
@login_required
@identity_confirmed
def passkey_options():
    """Give the browser the options to create a passkey for this account."""
    if not passkeys.available():
        abort(404)
    return passkeys.registration_options(_user()), 200, {"Content-Type": "application/json"}


@bp.post("/compte/methodes/cles")
@login_required
@identity_confirmed
@limiter.limit("10 per 10 minutes", error_message="Trop de tentatives.")
def passkey_add():
    """Store the passkey the browser created, under the name the user gave."""
    payload = request.get_json(silent=True) or {}
    form = PasskeyNameForm(data={"name": payload.get("name", "")}, meta={"csrf": False})
    if not form.validate():
        return jsonify(error=" ".join(str(e) for e in form.name.errors)), 422
    try:
        passkeys.register(_user(), str(payload.get("credential", "")), form.name.data)
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return jsonify(error=str(error)), 422
    flash(_("Clé d’accès « %(name)s » ajoutée : vous pouvez vous connecter avec elle seule.", name=form.name.data),
          "success")
    response = _after_enrolment("passkey_added")
    return jsonify(redirect=response.headers.get("Location") or response.headers.get("HX-Redirect"))


def _own_passkey(passkey_id: int) -> Passkey:
    passkey = db.session.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == current_user.id))
    if passkey is None:
        abort(404)
    return passkey


@bp.post("/compte/methodes/cles/<int:passkey_id>/renommer")
@login_required
def passkey_rename(passkey_id: int):
    """Rename a passkey (a label only: no confirmation needed)."""
    passkey = _own_passkey(passkey_id)
    form = PasskeyNameForm()
    if form.validate_on_submit():
        passkey.name = form.name.data
        db.session.commit()
        flash(_("Clé d’accès renommée."), "success")
    else:
        flash(" ".join(form.name.errors) or _("Nom invalide."), "error")
    return see_other("auth.methods")


@bp.post("/compte/methodes/cles/<int:passkey_id>/retirer")
@login_required
def passkey_remove(passkey_id: int):
    """Remove a passkey: it no longer opens the account."""
    passkey = _own_passkey(passkey_id)  # another account's passkey: 404, not a confirmation leading to 404
    if not steps.recently_confirmed():
        return _confirm_first()
    if _keep_last_factor("passkey"):
        name = passkey.name
        db.session.delete(passkey)
        services.notify_methods_changed(_user(), "passkey_removed")
        db.session.commit()
        flash(_("Clé d’accès « %(name)s » retirée.", name=name), "success")
    return see_other("auth.methods")


# --- Recovery codes ---------------------------------------------------------------------

@bp.post("/compte/methodes/codes-de-secours")
@login_required
@identity_confirmed
def recovery_codes_new():
    """Replace the recovery codes by ten new ones (the old ones stop working)."""
    user = _user()
    if not factors.has_second_factor(user):
        return see_other("auth.methods")
    session[CODES_KEY] = factors.new_recovery_codes(user)
    services.notify_methods_changed(user, "recovery_new")
    db.session.commit()
    return see_other("auth.recovery_codes")


@bp.get("/compte/methodes/codes-de-secours")
@login_required
def recovery_codes():
    """Show the new recovery codes, once."""
    codes = session.pop(CODES_KEY, None)
    if not codes:
        flash(_("Les codes de secours ne s’affichent qu’une fois. Générez-en de nouveaux si vous les avez perdus."),
              "info")
        return see_other("auth.methods")
    return render("auth/recovery_codes.html", codes=codes)
