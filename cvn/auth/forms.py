"""Account forms; every message is in French and shown beside its field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Regexp, ValidationError

from cvn.auth import passwords
from cvn.models import Profession

PASSWORD_MIN = passwords.MIN_LENGTH


class StrongPassword:
    """Refuse a weak password, with the reason in French beside the field.

    The account's own words come from the form's ``email``, ``first_name`` and
    ``last_name`` fields (sign-up) or from ``form.account`` (change, reset).
    """

    @staticmethod
    def _value(form, name: str) -> str:
        field = getattr(form, name, None)
        if field is not None and field.data:
            return field.data
        return getattr(getattr(form, "account", None), name, "") or ""

    def __call__(self, form, field):
        names = (self._value(form, "first_name"), self._value(form, "last_name"))
        reason = passwords.problem(field.data or "", self._value(form, "email"), names)
        if reason:
            raise ValidationError(reason)

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
            Length(min=PASSWORD_MIN, max=passwords.MAX_LENGTH,
                   message=_l("Le mot de passe doit compter au moins %(n)s caractères.", n=PASSWORD_MIN)),
            StrongPassword(),
        ],
        description=_l("Au moins %(n)s caractères, difficile à deviner, sans votre nom ni votre adresse. "
                       "Une phrase de quatre mots sans rapport entre eux convient très bien.", n=PASSWORD_MIN),
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
    remember = BooleanField(_l("Rester connecté sur cet appareil"),
                            description=_l("30 jours au plus, annulable depuis « Mon compte ». Sur un compte "
                                           "professionnel, seul le code n’est plus demandé : le mot de passe "
                                           "l’est après 30 minutes d’inactivité."))


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


class CodeForm(FlaskForm):
    code = StringField(_l("Code à 6 chiffres"),
                       validators=[InputRequired(_l("Saisissez le code.")),
                                   Length(max=20, message=_l("Ce code est trop long."))],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 20,
                                  "pattern": "[0-9 ]*"})


class RecoveryCodeForm(FlaskForm):
    code = StringField(_l("Code de secours"),
                       validators=[InputRequired(_l("Saisissez un de vos codes de secours.")),
                                   Length(max=40, message=_l("Ce code est trop long."))],
                       description=_l("16 caractères, par exemple ABCD-EFGH-JKMN-PQRS. Chaque code ne sert qu’une fois."),
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "maxlength": 40})


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(_l("Mot de passe"), validators=[InputRequired(_l("Saisissez votre mot de passe."))],
                             render_kw={"autocomplete": "current-password"})


class PasskeyNameForm(FlaskForm):
    name = StringField(_l("Nom de la clé d’accès"),
                       validators=[InputRequired(_l("Donnez un nom à cette clé d’accès.")),
                                   Length(max=60, message=_l("60 caractères au maximum."))],
                       description=_l("Pour la reconnaître, par exemple « iPhone de Claire » ou « Tablette du cabinet »."),
                       filters=[lambda v: " ".join(v.split()) if isinstance(v, str) else v])


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
