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

    @app.template_filter("datetime_fr")
    def datetime_fr(value: datetime | None) -> str:
        """Format a moment in local time ("12 mars 2025 à 14:05")."""
        if value is None:
            return ""
        return format_datetime(value, "d MMMM y 'à' HH:mm")
