"""Forms to open a carnet and to record, correct or delete a dose."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from cvn.forms import CheckboxesField, FrenchDateField
from cvn.schedule.catalogue import diseases

squash = lambda v: " ".join(v.split()) if isinstance(v, str) else v  # noqa: E731

INJECTION_SITES = [
    ("", _l("— Non précisé —")),
    ("deltoid_left", _l("Deltoïde gauche")), ("deltoid_right", _l("Deltoïde droit")),
    ("thigh_left", _l("Cuisse gauche")), ("thigh_right", _l("Cuisse droite")),
    ("arm_left", _l("Bras gauche")), ("arm_right", _l("Bras droit")),
    ("oral", _l("Voie orale")), ("nasal", _l("Nasale")), ("other", _l("Autre")),
]
ROUTES = [
    ("", _l("— Non précisée —")), ("im", _l("Intramusculaire")), ("sc", _l("Sous-cutanée")),
    ("id", _l("Intradermique")), ("oral", _l("Orale")), ("nasal", _l("Nasale")),
]
SITE_LABELS = dict(INJECTION_SITES)
ROUTE_LABELS = dict(ROUTES)


def _choices(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


class CarnetForm(FlaskForm):
    last_name = StringField(_l("Nom"), validators=[InputRequired(_l("Saisissez le nom du titulaire.")),
                                                   Length(max=100, message=_l("100 caractères au maximum."))],
                            filters=[squash], render_kw={"autocomplete": "off"})
    first_names = StringField(_l("Prénom(s)"), validators=[
        InputRequired(_l("Saisissez le ou les prénoms du titulaire.")),
        Length(max=150, message=_l("150 caractères au maximum."))], filters=[squash],
        render_kw={"autocomplete": "off"})
    birth_date = FrenchDateField(_l("Date de naissance"), validators=[
        InputRequired(_l("Saisissez la date de naissance."))])
    sex = RadioField(_l("Sexe"), choices=[SelectChoice("F", _l("Féminin")), SelectChoice("M", _l("Masculin"))],
                     validators=[InputRequired(_l("Indiquez le sexe du titulaire."))])
    #: Set after the professional saw the warning about a possible duplicate.
    confirm_duplicate = BooleanField(_l("Je confirme : c’est une autre personne"))


class DoseForm(FlaskForm):
    product = StringField(_l("Vaccin"), validators=[Optional(), Length(max=120)], filters=[squash],
                          description=_l("Tapez quelques lettres : la liste propose les vaccins utilisés en France. "
                                         "Laissez vide pour une dose d’un ancien carnet dont le vaccin est inconnu."),
                          render_kw={"autocomplete": "off", "list": "catalogue-produits"})
    diseases = CheckboxesField(_l("Maladies couvertes"), choices=[],
                               description=_l("Seulement si le vaccin est inconnu ou hors catalogue."))
    administered_on = FrenchDateField(_l("Date de la vaccination"), validators=[
        InputRequired(_l("Saisissez la date de la vaccination."))])
    lot_number = StringField(_l("Numéro de lot"), validators=[Optional(), Length(max=40, message=_l("40 caractères au maximum."))],
                             filters=[squash], render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    dose_label = StringField(_l("Dose (facultatif)"), validators=[Optional(), Length(max=60)], filters=[squash],
                             description=_l("Par exemple « Dose 1 », « Rappel 6 ans »."))
    injection_site = SelectField(_l("Site d’injection"), choices=[], validators=[Optional()])
    route = SelectField(_l("Voie d’administration"), choices=[], validators=[Optional()])
    note = TextAreaField(_l("Remarque"), validators=[Optional(), Length(max=1000, message=_l("1000 caractères au maximum."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.diseases.choices = [SelectChoice(d.code, d.label) for d in diseases().values()]
        self.injection_site.choices = _choices(INJECTION_SITES)
        self.route.choices = _choices(ROUTES)


class DeleteDoseForm(FlaskForm):
    reason = TextAreaField(_l("Motif de la suppression"), validators=[Length(max=500)], filters=[squash])
