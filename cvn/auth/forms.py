"""Account forms; every message is in French and shown beside its field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Regexp

from cvn.models import Profession

PASSWORD_MIN = 12

email_field = lambda label=_l("Adresse e-mail"): EmailField(  # noqa: E731
    label,
    validators=[
        InputRequired(_l("Saisissez une adresse e-mail.")),
        Length(max=254, message=_l("Adresse e-mail trop longue.")),
        Email(_l("Cette adresse e-mail n’est pas valide (exemple : nom@exemple.fr)."),
              check_deliverability=False),
    ],
    filters=[lambda v: v.strip() if isinstance(v, str) else v],
    render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
)


def new_password_field(label=_l("Mot de passe")) -> PasswordField:
    """Return a password field with the length rule."""
    return PasswordField(
        label,
        validators=[
            InputRequired(_l("Choisissez un mot de passe.")),
            Length(min=PASSWORD_MIN, max=128,
                   message=_l("Le mot de passe doit compter au moins %(n)s caractères.", n=PASSWORD_MIN)),
        ],
        description=_l("Au moins %(n)s caractères. Une phrase facile à retenir convient très bien.",
                       n=PASSWORD_MIN),
        render_kw={"autocomplete": "new-password", "minlength": PASSWORD_MIN},
    )


def name_field(label) -> StringField:
    """Return a required name field."""
    return StringField(
        label,
        validators=[InputRequired(_l("Ce champ est obligatoire.")),
                    Length(max=100, message=_l("100 caractères au maximum."))],
        filters=[lambda v: " ".join(v.split()) if isinstance(v, str) else v],
    )


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(_l("Mot de passe"),
                             validators=[InputRequired(_l("Saisissez votre mot de passe."))],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Rester connecté sur cet appareil"))


class PatientSignupForm(FlaskForm):
    first_name = name_field(_l("Prénom"))
    last_name = name_field(_l("Nom"))
    email = email_field()
    password = new_password_field()


class ProfessionalSignupForm(PatientSignupForm):
    profession = SelectField(
        _l("Profession"),
        choices=[],
        validators=[InputRequired(_l("Choisissez votre profession."))],
    )
    rpps = StringField(
        _l("Numéro RPPS"),
        validators=[InputRequired(_l("Saisissez votre numéro RPPS.")),
                    Regexp(r"^\d{11}$", message=_l("Le numéro RPPS compte exactement 11 chiffres."))],
        filters=[lambda v: "".join(v.split()) if isinstance(v, str) else v],
        description=_l("11 chiffres, inscrit sur votre carte CPS."),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 14},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels are lazy: build them at request time, in the request's locale.
        self.profession.choices = [SelectChoice("", _l("— Choisir —"))] + [
            SelectChoice(p.value, p.label) for p in Profession]


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(FlaskForm):
    password = new_password_field(_l("Nouveau mot de passe"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mot de passe actuel"),
                                     validators=[InputRequired(_l("Saisissez votre mot de passe actuel."))],
                                     render_kw={"autocomplete": "current-password"})
    password = new_password_field(_l("Nouveau mot de passe"))


class ChangeEmailForm(FlaskForm):
    email = email_field(_l("Nouvelle adresse e-mail"))
    current_password = PasswordField(_l("Mot de passe actuel"),
                                     validators=[InputRequired(_l("Saisissez votre mot de passe actuel."))],
                                     render_kw={"autocomplete": "current-password"})
