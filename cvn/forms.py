"""Form fields shared by several features."""
from __future__ import annotations

from datetime import date, datetime

from wtforms import DateField, SelectMultipleField, widgets

from cvn.inputs import YEAR_MESSAGE, year_in_range


class FrenchDateField(DateField):
    """A date field that accepts 2025-03-12 (date inputs) or 12/03/2025 (typed), in French."""

    widget = widgets.DateInput()

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        raw = valuelist[0].strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
            try:
                self.data = datetime.strptime(raw, fmt).date()
            except ValueError:
                continue
            if not year_in_range(self.data):
                self.data = None
                raise ValueError(f"Date invalide : {YEAR_MESSAGE}.")
            return
        self.data = None
        raise ValueError("Date invalide : choisissez-la dans le calendrier ou écrivez-la JJ/MM/AAAA.")

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.isoformat() if isinstance(self.data, date) else ""


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
