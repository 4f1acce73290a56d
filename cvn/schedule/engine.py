"""The vaccination status engine: a person, their doses and a date in, one recommendation per disease out.

Pure functions over plain data: no Flask, no database. The rules are in
``data/calendar.toml`` (compiled once by :mod:`cvn.schedule.rules`); this module
walks them. Reasons are plain French and name the rule and the doses used.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Iterable

from cvn.schedule import series as S
from cvn.schedule.rules import BASE_YEAR, FLAGS, calendar, duration_text
from cvn.schedule.series import COMPLETE, DONE, DUE, NOT_RECOMMENDED, OVERDUE, PENDING, UP_TO_DATE, fmt

__all__ = ["DoseRecord", "FLAGS", "Person", "Recommendation", "STATUSES", "evaluate"]

STATUSES = (DUE, OVERDUE, UP_TO_DATE, COMPLETE, NOT_RECOMMENDED)
_RANK = {OVERDUE: 0, DUE: 1, UP_TO_DATE: 2, COMPLETE: 3, NOT_RECOMMENDED: 4}
_WHY = {"pregnant": "grossesse", "immunocompromised": "immunodépression"}


@dataclass(frozen=True)
class Person:
    birth_date: date
    sex: str                      # "F" or "M"
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DoseRecord:
    date: date
    diseases: tuple[str, ...]     # disease codes this dose covers
    product: str | None = None    # catalogue product code, if known
    validated: bool = True        # only validated doses count


@dataclass(frozen=True)
class Recommendation:
    disease: str                  # disease code
    status: str                   # "due" | "overdue" | "up_to_date" | "complete" | "not_recommended"
    next_date: date | None
    dose: str | None              # French label, e.g. "Dose 2/3", "Rappel 45 ans", "Rappel annuel"
    mandatory: bool
    reason: str                   # plain French: names the rule and the doses it used (dates dd/mm/yyyy)
    declared_pending: int = 0     # declared (not validated) doses waiting for this disease


#: answers that no longer depend on the birth date (no injection, every age limit passed),
#: by (birth cohort, sex, flags) then disease code
_UNDOSED: dict[tuple, dict[str, tuple]] = {}
_new = object.__new__
_fromordinal = date.fromordinal
_by_date = itemgetter(0)
_set_dict = object.__setattr__


def _recommendation(code, status, next_date, label, mandatory, reason, waiting) -> Recommendation:
    """Build a Recommendation without the dataclass __init__ (hot path, same object)."""
    r = _new(Recommendation)
    _set_dict(r, "__dict__", {"disease": code, "status": status, "next_date": next_date, "dose": label,
                              "mandatory": mandatory, "reason": reason, "declared_pending": waiting})
    return r


def _doses_text(used) -> str:
    """Return the counted doses as a French sentence."""
    if not used:
        return " Aucune dose comptée."
    if len(used) == 1:
        return f" Dose comptée : {fmt(used[0][0])}."
    return " Doses comptées : " + ", ".join([fmt(d[0]) for d in used]) + "."


def _judge(prog, ctx: S.Ctx, doses):
    """Return (status, next ordinal, label, mandatory, reason) for one disease."""
    i, prev, counted, outcome, first_skipped, notes = 0, None, [], None, None, []
    poly_last = None
    if prog.polysaccharide:
        for d in doses:
            if d[3] in ctx.cal.polysaccharide:
                poly_last = d[0]
    dosed = bool(doses)
    for s in prog.chain:
        if s.conditional and not S.applies(s, ctx, dosed):
            first_skipped = first_skipped or s
            continue
        kind = s.kind
        if kind == "doses":
            out = S.run_doses(s, ctx, doses, i, prev, poly_last)
        elif kind == "fixed_ages":
            out = S.run_ladder(s, ctx, doses[i:], prev)
        elif kind == "campaign":
            out = S.run_campaign(s, ctx, doses, False)
        else:
            out = S.run_season(s, ctx, doses, i, prev)
        outcome = (s, out)
        if out[0] == PENDING:
            break
        i, prev = out[1], out[2]
        counted += out[3]
        if len(out) == 6 and out[0] == DONE:
            notes.append(out[5])
    result = _conclude(ctx, outcome, counted, first_skipped)
    if notes:
        result = result[:4] + (result[4] + "".join(notes),)
    for s in prog.overlays:
        if s.conditional and not S.applies(s, ctx, dosed):
            continue
        out = S.run_pregnancy(s, ctx, doses) if s.kind == "pregnancy" else S.run_campaign(s, ctx, doses, True)
        if out is None:
            continue
        other = (out[1], out[2], out[3], s.is_mandatory(ctx.birth), f"{s.name}. {out[4]}.{_doses_text(out[5])}")
        if _better(other, result):
            result = other
    return result


def _better(a, b) -> bool:
    """Return whether answer a is more urgent than b (or, both up to date, comes sooner)."""
    ra, rb = _RANK[a[0]], _RANK[b[0]]
    if ra != rb:
        return ra < rb
    return ra == 2 and a[1] is not None and (b[1] is None or a[1] < b[1])


def _conclude(ctx: S.Ctx, outcome, counted, first_skipped):
    """Turn the outcome of the last series judged into (status, next ordinal, label, mandatory, reason)."""
    if outcome is None:
        return (NOT_RECOMMENDED, None, None, False,
                f"Non recommandé pour cette personne. {first_skipped.name} : pour les "
                f"{first_skipped.who or 'personnes concernées'}.")
    s, out = outcome
    state = out[0]
    skipped = out[6] if state == PENDING else out[4]
    tail = "".join([f" Dose du {fmt(d[0])} non comptée ({why})." for d, why in skipped]) if skipped else ""
    if state == DONE:
        return (COMPLETE, None, None, s.is_mandatory(ctx.birth),
                f"{s.name}. Schéma terminé.{_doses_text(counted)}{tail}")
    if state != PENDING:
        limit = f" après {duration_text(out[5])}" if out[5] else ""
        return (NOT_RECOMMENDED, None, None, False,
                f"{s.name}. Plus proposé{limit}.{_doses_text(counted + out[3])}{tail}")
    status, rec, label, text, used = out[1], out[2], out[3], out[4], out[5]
    if s.contraindicated and status in (DUE, OVERDUE) and s.contraindicated & ctx.flags:
        why = ", ".join(sorted(_WHY.get(f, f) for f in s.contraindicated & ctx.flags))
        return (NOT_RECOMMENDED, None, None, False,
                f"{s.name}. {label} : contre-indiqué pour l'instant ({why}).{_doses_text(counted + used)}")
    mandatory = status != NOT_RECOMMENDED and s.is_mandatory(ctx.birth)
    return (status, rec, label, mandatory, f"{s.name}. {text}.{_doses_text(used or counted[-1:])}{tail}")


def evaluate(person: Person, doses: Iterable[DoseRecord], on: date) -> list[Recommendation]:
    """One recommendation per disease code, in diseases.toml order."""
    cal = calendar()
    ctx = S.Ctx(person.birth_date, person.sex, person.flags, on, cal)
    on_ord = ctx.on
    per: dict[str, list] = {}
    declared: dict[str, int] = {}
    last, ordered, same_day = 0, True, False
    for d in doses:
        when = d.date
        o = when.toordinal()
        if o > on_ord:
            continue
        if not d.validated:
            for code in d.diseases:
                declared[code] = declared.get(code, 0) + 1
            continue
        if o <= last:
            ordered = ordered and o == last
            same_day = same_day or o == last
        last = o
        item = (o, (when.year - BASE_YEAR) * 12 + when.month - 1, when.day, d.product)
        for code in d.diseases:
            bucket = per.get(code)
            if bucket is None:
                per[code] = [item]
            else:
                bucket.append(item)
    if not ordered or same_day:
        for code, ds in per.items():
            if len(ds) > 1:
                ds.sort(key=_by_date)
                for j in range(len(ds) - 1, 0, -1):
                    if ds[j][0] == ds[j - 1][0]:  # two injections the same day count once
                        del ds[j]
    result: list[Recommendation] = []
    append = result.append
    kept: dict[int, tuple] = {}
    undosed = None
    months = ctx.months
    for prog in cal.programs:
        code = prog.code
        ds = per.get(code)
        judged = None
        if ds is None:
            ds = []
            limit = prog.undosed_limit
            if limit is not None and (months >= limit[0] if limit[1] == 0 else ctx.reached(limit)):
                # No injection and every age limit passed: the answer depends only on which
                # series apply (birth cohort, sex, flags); it is computed once and shared.
                if undosed is None:
                    key = (bisect_right(cal.cohorts, ctx.birth), person.sex, ctx.flags)
                    undosed = _UNDOSED.get(key)
                    if undosed is None:
                        undosed = _UNDOSED[key] = {}
                known = undosed.get(code)
                if known is None:
                    judged = _judge(prog, ctx, ds)
                    known = undosed[code] = (judged, _recommendation(code, *judged, 0))
                if code not in declared:
                    append(known[1])
                    continue
                judged = known[0]
        if judged is None:
            same = prog.same_as
            if same is not None and kept[same][0] == ds:
                judged = kept[same][1]
            else:
                judged = _judge(prog, ctx, ds)
            if prog.shared:
                kept[prog.index] = (ds, judged)
        status, rec, label, mandatory, reason = judged
        waiting = declared.get(code, 0) if declared else 0
        if waiting:
            reason += (f" {waiting} dose déclarée en attente de validation, non prise en compte." if waiting == 1
                       else f" {waiting} doses déclarées en attente de validation, non prises en compte.")
        r = _new(Recommendation)
        _set_dict(r, "__dict__", {"disease": code, "status": status,
                                  "next_date": None if rec is None else _fromordinal(rec), "dose": label,
                                  "mandatory": mandatory, "reason": reason, "declared_pending": waiting})
        append(r)
    return result
