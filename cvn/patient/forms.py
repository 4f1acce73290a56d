"""The form a patient fills to open a carnet for themselves or a child."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from cvn.carnets.forms import CarnetForm


class OwnCarnetForm(CarnetForm):
    relation = RadioField(_l("Ce carnet est"), choices=[
        SelectChoice("self", _l("le mien")),
        SelectChoice("child", _l("celui de mon enfant (ou d’une personne dont j’ai la charge)"))],
        default="self", validators=[InputRequired(_l("Dites pour qui est ce carnet."))])
