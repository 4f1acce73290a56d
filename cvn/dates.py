"""Small pure date helpers (ages)."""
from __future__ import annotations

from datetime import date


def months_between(start: date, end: date) -> int:
    """Return the whole months from ``start`` to ``end``."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def age_label(birth: date, on: date) -> str:
    """Return a French age: "3 semaines", "8 mois", "4 ans"."""
    months = months_between(birth, on)
    if months < 1:
        weeks = max((on - birth).days // 7, 0)
        return f"{weeks} semaine{'s' if weeks > 1 else ''}" if weeks else "moins d’une semaine"
    if months < 24:
        return f"{months} mois"
    years = months // 12
    return f"{years} ans"


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")


def french_time(moment) -> str:
    """Return a time of day the French way: "16 h 02"."""
    return f"{moment:%H} h {moment:%M}"


def french_date(d: date) -> str:
    """Return a date as French prose: "1er avril 2026", "12 mars 2025"."""
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"
