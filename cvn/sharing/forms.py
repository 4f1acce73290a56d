"""Forms to send an invitation and to claim one."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import AnyOf, InputRequired

from cvn.auth.forms import email_field
from cvn.forms import FrenchDateField


class EmailInviteForm(FlaskForm):
    email = email_field(_l("Adresse e-mail du patient"))

    @classmethod
    def for_target(cls, target: str, by_owner: bool = False, **kwargs) -> "EmailInviteForm":
        """Return the form of one sharing panel (its own prefix and label)."""
        form = cls(prefix="inv" if target == "holder" else "invpro", **kwargs)
        if target != "holder":
            form.email.label.text = _l("Adresse e-mail du professionnel")
        elif by_owner:
            form.email.label.text = _l("Adresse e-mail de l’autre parent")
        return form


class CodeInviteForm(FlaskForm):
    """Create an invitation shown as a QR code or as a link to copy."""

    channel = HiddenField(validators=[AnyOf(["qr", "link"], message=_l("Moyen de partage inconnu."))])


class ClaimForm(FlaskForm):
    birth_date = FrenchDateField(_l("Date de naissance du titulaire du carnet"),
                                 validators=[InputRequired(_l("Saisissez la date de naissance du titulaire."))],
                                 description=_l("Celle de la personne vaccinée (votre enfant, par exemple)."))
    attest = BooleanField(validators=[InputRequired(_l("Cochez cette case pour continuer."))])
