"""Jinja filters and globals: French dates, the static asset version."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime


def init_app(app: Flask) -> None:
    """Register CVN's template filters."""

    @app.template_filter("date_fr")
    def date_fr(value: date | datetime | None, style: str = "long") -> str:
        """Format a date the French way ("12 mars 2025")."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, "d MMMM y" if style == "long" else "dd/MM/y")
        return format_date(value, "d MMMM y" if style == "long" else "dd/MM/y")

    @app.template_filter("age")
    def age(birth: date) -> str:
        """Return the holder's age today ("8 mois", "4 ans")."""
        from cvn.clock import today
        from cvn.dates import age_label

        return age_label(birth, today())

    @app.template_filter("disease")
    def disease(code: str) -> str:
        """Return a disease's French label."""
        from cvn.schedule.catalogue import disease_label

        return disease_label(code)

    @app.template_filter("fromjson")
    def fromjson(text: str):
        """Parse JSON (archived carnets)."""
        import json

        return json.loads(text)

    @app.template_filter("isodate")
    def isodate(text: str) -> date:
        """Parse an ISO date string."""
        return date.fromisoformat(text)

    @app.template_filter("datetime_fr")
    def datetime_fr(value: datetime | None) -> str:
        """Format a moment in local time ("12 mars 2025 à 14:05")."""
        if value is None:
            return ""
        return format_datetime(value, "d MMMM y 'à' HH:mm")

    @app.context_processor
    def labels():
        from cvn.carnets.forms import ROUTE_LABELS, SITE_LABELS

        from cvn.clock import today

        from cvn.status.services import FLAGS, STATUS_LABELS

        return {"SITE_LABELS": SITE_LABELS, "ROUTE_LABELS": ROUTE_LABELS, "FLAGS": FLAGS,
                "STATUS_LABELS": STATUS_LABELS, "today_iso": today().isoformat()}
