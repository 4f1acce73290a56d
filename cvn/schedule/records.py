"""The engine's plain records: a person, a dose, a recommendation (kept apart so the engine may be compiled)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cvn.schedule.rules import calendar


@dataclass(frozen=True)
class Person:
    birth_date: date
    sex: str                      # "F" or "M"
    flags: frozenset[str] = frozenset()
    pregnancy_due: date | None = None  # expected term of the current pregnancy (with the "pregnant" flag)


@dataclass(frozen=True)
class DoseRecord:
    date: date
    diseases: tuple[str, ...]     # disease codes this dose covers
    product: str | None = None    # catalogue product code, if known
    validated: bool = True        # only validated doses count


@dataclass(frozen=True)
class Recommendation:
    disease: str                  # disease code
    status: str                   # "due" | "overdue" | "up_to_date" | "not_yet" | "complete" | "not_recommended"
    next_date: date | None
    dose: str | None              # French label, e.g. "Dose 2/3", "Rappel 45 ans", "Rappel annuel"
    mandatory: bool
    reason: str                   # plain French: names the rule and the doses it used (« 15 octobre 2026 »)
    declared_pending: int = 0     # declared (not validated) doses waiting for this disease
    rule: str | None = None       # id of the calendar series that gave the answer (clinician detail)

    @property
    def source(self) -> str:
        """Return the official source of the rule that gave the answer."""
        series = calendar().by_id.get(self.rule or "")
        return series.source if series else ""
