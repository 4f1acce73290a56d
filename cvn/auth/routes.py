"""Sign-up, log-in, log-out, forgotten password and the account page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from cvn.auth import services
from cvn.auth.forms import (ChangeEmailForm, ChangePasswordForm, ForgotPasswordForm, LoginForm,
                            PatientSignupForm, ProfessionalSignupForm, ResetPasswordForm)
from cvn.extensions import db, limiter, login_manager
from cvn.models import Profession, Role, User
from cvn.web import absolute_url, redirect_url, render, safe_next, see_other

bp = Blueprint("auth", __name__)

#: Session key holding a reset token between the e-mailed link and the form.
RESET_KEY = "reset_token"

login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the account of a session; an old auth version (password changed) logs out."""
    user_id, _sep, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.auth_version != int(version):
        return None
    return user


#: Session keys that survive log-in and sign-up (an invitation being claimed).
KEPT_ACROSS_LOGIN = ("claim_token",)


def _fresh_session() -> None:
    """Start a new session at log-in (no fixation), keeping an invitation being claimed."""
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


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
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            _fresh_session()
            login_user(user, remember=form.remember.data)
            return redirect_url(_after_login_target())
        # Same words whether the account exists or not.
        form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render("auth/login.html", form=form, next=safe_next(request.args.get("next")),
                  status=status)


@bp.post("/deconnexion")
def logout():
    """Log out (a POST, so no page can log you out by a link)."""
    logout_user()
    session.clear()
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
    next_url = safe_next(request.args.get("next"))
    status = 200
    if form.validate_on_submit():
        try:
            user = services.register(
                email=form.email.data, password=form.password.data,
                first_name=form.first_name.data, last_name=form.last_name.data, role=role,
                profession=Profession(form.profession.data) if role == Role.PROFESSIONAL else None,
                rpps=form.rpps.data if role == Role.PROFESSIONAL else None,
            )
        except services.EmailTaken:
            form.email.errors.append(_("Un compte existe déjà avec cette adresse. "
                                       "Connectez-vous ou utilisez « Mot de passe oublié »."))
            status = 409
        else:
            _fresh_session()
            login_user(user)
            flash(_("Bienvenue ! Votre compte est créé."), "success")
            return redirect_url(_after_login_target())
    elif request.method == "POST":
        status = 422
    return render(template, form=form, next=next_url, status=status)


@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"],
               error_message="Trop de demandes de réinitialisation.")
def forgot_password():
    """Send a reset link; the answer is the same whether the account exists or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
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
    """Choose a new password with the token kept in the session."""
    raw = session.get(RESET_KEY)
    if not raw or services.find_reset_token(raw) is None:
        session.pop(RESET_KEY, None)
        return render("auth/reset_invalid.html", status=410)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.reset_password(raw, form.password.data)
        session.pop(RESET_KEY, None)
        if user is None:
            return render("auth/reset_invalid.html", status=410)
        logout_user()
        flash(_("Votre mot de passe a été modifié. Connectez-vous avec le nouveau."), "success")
        return see_other("auth.login")
    return render("auth/reset.html", form=form, status=422 if request.method == "POST" else 200)


@bp.route("/compte", methods=["GET", "POST"])
@login_required
def account():
    """Show the account and change its password or e-mail address."""
    password_form = ChangePasswordForm(prefix="pw")
    email_form = ChangeEmailForm(prefix="em")
    status = 200
    action = request.form.get("action")
    if request.method == "POST" and action == "password":
        if password_form.validate_on_submit():
            try:
                services.change_password(current_user._get_current_object(), password_form.current_password.data,
                                         password_form.password.data)
            except services.BadPassword:
                password_form.current_password.errors.append(_("Mot de passe actuel incorrect."))
                status = 422
            else:
                login_user(current_user._get_current_object())  # keep this session (its auth version changed)
                flash(_("Mot de passe modifié. Vos autres appareils sont déconnectés."), "success")
                return see_other("auth.account")
        else:
            status = 422
    elif request.method == "POST" and action == "email":
        if email_form.validate_on_submit():
            try:
                services.change_email(current_user._get_current_object(), email_form.current_password.data,
                                      email_form.email.data)
            except services.BadPassword:
                email_form.current_password.errors.append(_("Mot de passe actuel incorrect."))
                status = 422
            except services.EmailTaken:
                email_form.email.errors.append(_("Cette adresse est déjà utilisée par un autre compte."))
                status = 409
            else:
                flash(_("Adresse e-mail modifiée."), "success")
                return see_other("auth.account")
        else:
            status = 422
    elif request.method == "POST":
        status = 400
    return render("auth/account.html", password_form=password_form, email_form=email_form,
                  status=status)
