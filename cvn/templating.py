"""Jinja filters and globals: French dates, ages, disease labels."""
from __future__ import annotations

import json
from datetime import date, datetime

from flask import Flask

from cvn import french
from cvn.clock import local_zone, today
from cvn.dates import age_label, french_date, french_time
from cvn.schedule.catalogue import disease_label


def init_app(app: Flask) -> None:
    """Register CVN's template filters (and the French plural and elision helpers)."""
    french.install(app.jinja_env)

    @app.template_filter("date_fr")
    def date_fr(value: date | datetime | None, style: str = "long") -> str:
        """Format a date the French way ("1er avril 2026", or 01/04/2026 when short).

        A datetime is first put in the service's time zone. Hand-written rather
        than Babel's: the alert job formats hundreds of thousands of dates.
        """
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(local_zone()).date()
        return french_date(value) if style == "long" else value.strftime("%d/%m/%Y")

    @app.template_filter("age")
    def age(birth: date) -> str:
        """Return the holder's age today ("8 mois", "4 ans")."""
        return age_label(birth, today())

    @app.template_filter("disease")
    def disease(code: str) -> str:
        """Return a disease's French label."""
        return disease_label(code)

    @app.template_filter("fromjson")
    def fromjson(text: str):
        """Parse JSON (archived carnets)."""
        return json.loads(text)

    @app.template_filter("isodate")
    def isodate(text: str) -> date:
        """Parse an ISO date string."""
        return date.fromisoformat(text)

    @app.template_filter("datetime_fr")
    def datetime_fr(value: datetime | None) -> str:
        """Format a moment in local time ("12 mars 2025 à 14 h 05")."""
        if value is None:
            return ""
        local = value.astimezone(local_zone())
        return f"{french_date(local.date())} à {french_time(local)}"

    @app.template_filter("duration_fr")
    def duration_fr(seconds: int) -> str:
        """Say a duration in the largest whole unit ("3 jours", "5 heures", "moins d’une minute")."""
        for size, one, many in ((86400, "jour", "jours"), (3600, "heure", "heures"), (60, "minute", "minutes")):
            if seconds >= size:
                n = int(seconds // size)
                return f"{n} {one if n == 1 else many}"
        return "moins d’une minute"
