"""Forms of the FHIR import: the upload, then the confirmation of the preview."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField


class ImportForm(FlaskForm):
    file = FileField(_l("Fichier FHIR (.json)"), validators=[FileRequired(_l("Choisissez le fichier à importer."))],
                     description=_l("Un Bundle FHIR R4 ou une liste de ressources Immunization, 1 Mo au plus "
                                    "(500 vaccinations au plus)."),
                     render_kw={"accept": ".json,application/json,application/fhir+json"})


class ConfirmImportForm(FlaskForm):
    #: Names the pending import kept in the server-side session (no health data in the form).
    pending = HiddenField()
