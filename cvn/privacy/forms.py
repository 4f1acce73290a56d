"""The account deletion form: the password again, and an explicit confirmation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, InputRequired


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Mot de passe"), validators=[InputRequired(_l("Saisissez votre mot de passe."))],
                             render_kw={"autocomplete": "current-password"})
    confirm = BooleanField(_l("Je comprends que mon compte et les carnets que personne d’autre ne suit seront "
                              "supprimés définitivement."),
                           validators=[DataRequired(_l("Cochez la case pour confirmer la suppression."))])
