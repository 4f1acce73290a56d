"""Log-in (password, second step, passkey alone), log-out, sign-up, address confirmation, reset.

The account pages (sessions, methods) are in ``account_routes`` and
``methods_routes``, on the same blueprint.
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from cvn.auth import factors, login as steps, passkeys, services
from cvn.auth.blueprint import bp
from cvn.auth.forms import (CodeForm, ForgotPasswordForm, LoginForm, PatientSignupForm, ProfessionalSignupForm,
                            RecoveryCodeForm, ResetPasswordForm)
from cvn.clock import local_zone
from cvn.dates import french_time
from cvn.extensions import db, limiter, login_manager
from cvn.models import Profession, Role, User
from cvn.web import absolute_url, redirect_url, render, safe_next, see_other

#: Session key holding a reset token between the e-mailed link and the form.
RESET_KEY = "reset_token"
CONFIRM_KEY = "confirm_token"

login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the account bound to this server-side session, and only that one.

    Flask-Login's own remember cookie (from before server-side sessions) names
    an account but no session row is bound to it: it logs nobody in.
    """
    user_id, _sep, version = session_id.partition(".")
    bound = getattr(session, "user_id", None)
    if not user_id.isdigit() or not version.isdigit() or bound is None or int(user_id) != bound:
        return None
    user = db.session.get(User, bound)
    if user is None or user.auth_version != int(version):
        return None
    return user


def _after_login_target() -> str:
    """Return where to go after log-in or sign-up: ``next``, an invitation being claimed, or home."""
    if safe_next(request.args.get("next")):
        return safe_next(request.args.get("next"))
    if "claim_token" in session:
        return url_for("sharing.claim")
    return url_for("main.home")


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("10 per minute;40 per hour", methods=["POST"],
               error_message="Trop de tentatives de connexion.")
def login():
    """Log in with e-mail and password; an account with a second factor goes on to the code step."""
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            target = _after_login_target()
            if steps.begin(user, form.remember.data, target):
                return redirect_url(target)
            if steps.pending_state().get("method") == "email":
                factors.send_email_code(user)
            return see_other("auth.login_code")
        # Same words whether the account exists or not.
        form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render("auth/login.html", form=form, next=safe_next(request.args.get("next")),
                  passkeys_on=passkeys.available(), status=status)


def _lock_message(until) -> str:
    return _("Trop de codes erronés : la saisie des codes est bloquée pendant 15 minutes, jusqu’à %(t)s. "
             "Une clé d’accès reste utilisable.", t=french_time(until.astimezone(local_zone())))


@bp.route("/connexion/code", methods=["GET", "POST"])
@limiter.limit("10 per minute;30 per hour", methods=["POST"], error_message="Trop de codes essayés.")
@limiter.limit("10 per 10 minutes", methods=["POST"], key_func=steps.client_key,
               error_message="Trop de codes essayés pour ce compte.")
def login_code():
    """Second step: a code from the app, an e-mailed code, a recovery code, or a passkey."""
    user = steps.pending_user()
    if user is None:
        flash(_("Reprenez la connexion depuis le début : elle doit se terminer dans les 10 minutes."), "info")
        return see_other("auth.login")
    methods = factors.login_methods(user)
    wanted = request.args.get("methode")
    if wanted in methods + ["secours"] and request.method == "GET":
        steps.set_pending_method(wanted)
    method = steps.pending_state().get("method")
    if method not in methods + ["secours"]:
        method = methods[0] if methods else "secours"
    form = RecoveryCodeForm() if method == "secours" else CodeForm()
    status = 200
    locked = factors.locked_until(user)
    if request.method == "POST" and method != "passkey" and form.validate_on_submit():
        verify = {"totp": lambda: factors.verify_totp(user, form.code.data),
                  "email": lambda: factors.verify_email_code(user, form.code.data),
                  "secours": lambda: factors.use_recovery_code(user, form.code.data)}[method]
        try:
            factors.check_code(user, verify)
        except factors.CodeLocked as error:
            locked, status = error.until, 429
        except factors.WrongCode as error:
            form.code.errors.append(ngettext(
                "Code incorrect. Il vous reste %(num)s essai avant un blocage de 15 minutes.",
                "Code incorrect. Il vous reste %(num)s essais avant un blocage de 15 minutes.", error.remaining))
            status = 422
        else:
            label = {"totp": "password+totp", "email": "password+email", "secours": "password+recovery"}[method]
            if method == "secours":
                services.notify_methods_changed(user, "recovery_used")
            target = steps.finish_pending(user, label)  # a new session: flash after it
            if method == "secours":
                flash(_("Code de secours accepté. Il vous en reste %(n)s : générez-en de nouveaux depuis "
                        "« Mon compte » s’il en reste peu.", n=factors.recovery_codes_left(user)), "warning")
            return redirect_url(target)
    elif request.method == "POST":
        status = 429 if locked else 422
    return render("auth/login_code.html", form=form, user=user, method=method, methods=methods,
                  locked=_lock_message(locked) if locked else None, passkeys_on=passkeys.available(),
                  status=status)


@bp.post("/connexion/code/email")
@limiter.limit("5 per 10 minutes", error_message="Trop de codes demandés.")
@limiter.limit("5 per 10 minutes", key_func=steps.client_key, error_message="Trop de codes demandés pour ce compte.")
def send_login_code():
    """E-mail a new 6-digit code to the account half-way through log-in."""
    user = steps.pending_user()
    if user is None:
        return see_other("auth.login")
    if "email" in factors.login_methods(user) and factors.send_email_code(user):
        steps.set_pending_method("email")
        flash(_("Un nouveau code vient de vous être envoyé. Il est valable 10 minutes."), "success")
    return see_other("auth.login_code")


@bp.post("/connexion/cle/options")
@limiter.limit("20 per minute", error_message="Trop de tentatives.")
def passkey_login_options():
    """Give the browser the options to sign in with a passkey (alone, or as the second step)."""
    return passkeys.authentication_options(steps.pending_user()), 200, {"Content-Type": "application/json"}


@bp.post("/connexion/cle")
@limiter.limit("10 per minute;30 per hour", error_message="Trop de tentatives.")
@limiter.limit("10 per 10 minutes", key_func=steps.client_key, error_message="Trop de tentatives pour ce compte.")
def passkey_login():
    """Log in with a passkey: alone (it is two factors) or after the password."""
    payload = request.get_json(silent=True) or {}
    pending = steps.pending_user()
    try:
        user = passkeys.authenticate(str(payload.get("credential", "")), pending)
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return jsonify(error=str(error)), 401
    if pending is not None:
        target = steps.finish_pending(user, "password+passkey")
    else:
        target = _after_login_target()
        steps.complete(user, "passkey", remember=bool(payload.get("remember")))
    return jsonify(redirect=target)


@bp.post("/deconnexion")
def logout():
    """Log out (a POST, so no page can log you out by a link): the session and this device are forgotten."""
    steps.log_out()
    flash(_("Vous êtes déconnecté."), "info")
    return see_other("main.home")


@bp.get("/inscription")
def signup():
    """Let the visitor choose between a patient and a professional account."""
    return render("auth/signup_choice.html", next=safe_next(request.args.get("next")))


@bp.route("/inscription/patient", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], error_message="Trop d’inscriptions depuis cette adresse.")
def signup_patient():
    """Create a patient account."""
    return _signup(PatientSignupForm(), Role.PATIENT, "auth/signup_patient.html")


@bp.route("/inscription/professionnel", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], error_message="Trop d’inscriptions depuis cette adresse.")
def signup_professional():
    """Create a professional account (unverified until an administrator checks it)."""
    return _signup(ProfessionalSignupForm(), Role.PROFESSIONAL, "auth/signup_professional.html")


def _signup(form, role: Role, template: str):
    """Create the account, or tell the address's owner; the answer is the same page either way."""
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        target = _after_login_target()
        with services.even_time():
            user = services.register(
                email=form.email.data, password=form.password.data,
                first_name=form.first_name.data, last_name=form.last_name.data, role=role,
                profession=Profession(form.profession.data) if role == Role.PROFESSIONAL else None,
                rpps=form.rpps.data if role == Role.PROFESSIONAL else None,
            )
            # Rendered before logging in, so the page is the same for a new and a taken address.
            page = render("auth/signup_sent.html", email=services.normalize_email(form.email.data), target=target,
                          hide_nav=True)
            if user is not None:
                steps.complete(user, "password")
        return page
    return render(template, form=form, next=next_url, status=422 if request.method == "POST" else 200)


@bp.get("/compte/adresse/<token>")
def confirm_link(token: str):
    """Take the confirmation token out of the URL (history, Referer) into the session."""
    session[CONFIRM_KEY] = token[:100]
    return redirect(url_for("auth.confirm_email"), code=303)


@bp.route("/compte/adresse", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def confirm_email():
    """Confirm the address with the token held in the session (a button, so mail scanners do not)."""
    raw = session.get(CONFIRM_KEY)
    if not raw:
        return render("auth/confirm_invalid.html", status=410)
    if request.method == "POST":
        user = services.confirm_email(raw)
        session.pop(CONFIRM_KEY, None)
        if user is None:
            return render("auth/confirm_invalid.html", status=410)
        flash(_("Adresse e-mail confirmée : %(email)s.", email=user.email), "success")
        return see_other("auth.account" if current_user.is_authenticated else "auth.login")
    return render("auth/confirm.html")


@bp.post("/compte/adresse/renvoyer")
@limiter.limit("5 per hour", error_message="Trop de liens demandés.")
def resend_confirmation():
    """Send a new confirmation link to the account's address."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if services.resend_confirmation(current_user._get_current_object()):
        flash(_("Un nouveau lien de confirmation a été envoyé à %(email)s.", email=current_user.email), "success")
    return see_other("auth.account")


@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"],
               error_message="Trop de demandes de réinitialisation.")
def forgot_password():
    """Send a reset link; the same answer, work and time whether the account exists or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with services.even_time():
            services.request_password_reset(
                form.email.data, lambda raw: absolute_url("auth.reset_link", token=raw))
        return render("auth/forgot_sent.html", email=form.email.data)
    return render("auth/forgot.html", form=form, status=422 if request.method == "POST" else 200)


@bp.get("/mot-de-passe/lien/<token>")
def reset_link(token: str):
    """Take the token out of the URL (history, Referer) into the session."""
    if services.find_reset_token(token) is None:
        return render("auth/reset_invalid.html", status=410)
    session[RESET_KEY] = token
    return redirect(url_for("auth.reset_password"), code=303)


@bp.route("/mot-de-passe/nouveau", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reset_password():
    """Choose a new password with the token kept in the session; every session of the account ends."""
    raw = session.get(RESET_KEY)
    token = services.find_reset_token(raw) if raw else None
    if token is None:
        session.pop(RESET_KEY, None)
        return render("auth/reset_invalid.html", status=410)
    form = ResetPasswordForm()
    form.account = token.user
    if form.validate_on_submit():
        user = services.reset_password(raw, form.password.data)
        if user is None:
            session.pop(RESET_KEY, None)
            return render("auth/reset_invalid.html", status=410)
        steps.log_out()
        flash(_("Votre mot de passe a été modifié. Connectez-vous avec le nouveau."), "success")
        return see_other("auth.login")
    return render("auth/reset.html", form=form, status=422 if request.method == "POST" else 200)


@bp.app_context_processor
def passkey_context():
    """Give templates the origin passkeys work on (the buttons show only there)."""
    return {"passkey_origin": passkeys.relying_party()[1]}

