"""The engine's plain records: a person, a dose, a recommendation (kept apart so the engine may be compiled)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

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


@dataclass(frozen=True, eq=False)
class Recommendation:
    disease: str                  # disease code
    status: str                   # "due" | "overdue" | "up_to_date" | "not_yet" | "complete" | "not_recommended"
    next_date: date | None
    dose: str | None              # French label, e.g. "Dose 2/3", "Rappel 45 ans", "Rappel annuel"
    mandatory: bool
    #: the reason as the engine left it: its text, or how to compose it (see ``reason``)
    why: Any = field(repr=False)
    declared_pending: int = 0     # declared (not validated) doses waiting for this disease
    rule: str | None = None       # id of the calendar series that gave the answer (clinician detail)

    @property
    def reason(self) -> str:
        """Return the reason in plain French: names the rule and the doses it used (« 15 octobre 2026 »).

        The engine composes it only when read: the alert pass and the patientèle
        read statuses and dates of thousands of carnets and never their reasons.
        """
        why = self.why
        if type(why) is not str:
            why = why[0](*why[1:])
            object.__setattr__(self, "why", why)
        return why

    def _key(self) -> tuple:
        """Return what two equal recommendations share (the reason's text included)."""
        return (self.disease, self.status, self.next_date, self.dose, self.mandatory, self.reason,
                self.declared_pending, self.rule)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recommendation) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Recommendation(disease={self.disease!r}, status={self.status!r}, next_date={self.next_date!r}, "
                f"dose={self.dose!r}, mandatory={self.mandatory!r}, reason={self.reason!r}, "
                f"declared_pending={self.declared_pending!r}, rule={self.rule!r})")

    @property
    def source(self) -> str:
        """Return the official source of the rule that gave the answer."""
        series = calendar().by_id.get(self.rule or "")
        return series.source if series else ""
