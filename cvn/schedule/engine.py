"""The vaccination status engine: a person, their doses and a date in, one recommendation per disease out.

Pure functions over plain data: no Flask, no database. The rules are in
``data/calendar.toml`` (compiled once by :mod:`cvn.schedule.rules`); this module
walks them. Reasons are plain French and name the rule and the doses used.
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import date
from operator import itemgetter
from typing import Any, Iterable

from cvn.schedule import seasons as C
from cvn.schedule import series as S
from cvn.schedule.records import DoseRecord, Person, Recommendation
from cvn.schedule.rules import BASE_YEAR, FLAGS, calendar, duration_text, month_length
from cvn.schedule.series import COMPLETE, DONE, DUE, NOT_RECOMMENDED, NOT_YET, OVERDUE, PENDING, UP_TO_DATE, fmt

__all__ = ["DoseRecord", "FLAGS", "Person", "Recommendation", "STATUSES", "evaluate"]

STATUSES = (DUE, OVERDUE, UP_TO_DATE, NOT_YET, COMPLETE, NOT_RECOMMENDED)
_RANK = {OVERDUE: 0, DUE: 1, UP_TO_DATE: 2, NOT_YET: 2.5, COMPLETE: 3, NOT_RECOMMENDED: 4}
#: The word for each flag that stops a live vaccine (every contraindicated flag of the calendar has one: tested).
_WHY = {"pregnant": "grossesse", "immunocompromised": "immunodépression"}
NO_DOSE = " Aucune dose comptée."


#: answers that no longer depend on the birth date (no injection, every age limit passed),
#: by (birth cohort, sex, flags) then disease code
_UNDOSED: dict[tuple, dict] = {}
_new = object.__new__
_fromordinal = date.fromordinal
_by_date = itemgetter(0)
_set_dict = object.__setattr__


def forget_shared_answers() -> None:
    """Empty the engine's memos: answers shared between carnets, dates in words.

    For mutation runs: mutmut forks each mutant from a process that already ran the
    tests, so a memo the unmutated code filled would hide the mutant.
    """
    _UNDOSED.clear()
    S.forget_dates()
    C.forget_seasons()


def _recommendation(code, judged, waiting) -> Recommendation:
    """Build a Recommendation without the dataclass __init__ (hot path, same object)."""
    status, next_date, label, mandatory, reason, rule = judged
    r = _new(Recommendation)
    _set_dict(r, "__dict__", {"disease": code, "status": status,
                              "next_date": None if next_date is None else _fromordinal(next_date), "dose": label,
                              "mandatory": mandatory, "why": reason, "declared_pending": waiting, "rule": rule})
    return r


def text_of(why) -> str:
    """Return a reason's French text: reasons are composed only when read (hot path: most are never shown)."""
    return why if type(why) is str else why[0](*why[1:])


def _then(why, suffix: str) -> str:
    """Return a reason followed by more text."""
    return text_of(why) + suffix


def _tail(skipped) -> str:
    """Return the sentences naming the injections that were not counted, and why."""
    return "".join([f" Dose du {fmt(d[0])} non comptée ({why})." for d, why in skipped]) if skipped else ""


def _said(name: str, text, used, skipped) -> str:
    """Return « series. what comes next. doses counted. doses not counted »."""
    return f"{name}. {text_of(text)}.{_doses_text(used)}{_tail(skipped)}"


def _done(name: str, counted, skipped) -> str:
    """Return the reason of a finished series."""
    return f"{name}. Schéma terminé.{_doses_text(counted)}{_tail(skipped)}"


def _dropped(name: str, limit, counted, skipped) -> str:
    """Return the reason of a series no longer offered past an age (a season past names none)."""
    after = f" après {duration_text(limit)}" if limit else ""
    return f"{name}. Plus proposé{after}.{_doses_text(counted)}{_tail(skipped)}"


def _later(name: str, text, ctx: S.Ctx, rec: int, skipped) -> str:
    """Return the reason of a first dose more than a year away."""
    return f"{name}. Plus tard — à partir de {text or _age_text(ctx, rec)}, le {fmt(rec)}.{_tail(skipped)}"


def _doses_text(used) -> str:
    """Return the counted doses as a French sentence."""
    if not used:
        return NO_DOSE
    if len(used) == 1:
        return f" Dose comptée : {fmt(used[0][0])}."
    return " Doses comptées : " + ", ".join([fmt(d[0]) for d in used]) + "."


def _judge(prog, ctx: S.Ctx, doses):
    """Return (status, next ordinal, label, mandatory, reason, rule id) for one disease."""
    i, prev, counted, outcome, first_skipped, notes = 0, None, [], None, None, []
    poly_last = None
    if prog.polysaccharide:
        conjugate = False
        for d in doses:
            if d[3] in ctx.cal.polysaccharide:
                if conjugate:  # a polysaccharide after a conjugate vaccine: sequential schedule
                    poly_last = d[0]
            else:
                conjugate = True
    dosed = bool(doses)
    flags = ctx.flags
    for s in prog.chain:
        if s.conditional and ((s.only_flags is not None and s.only_flags.isdisjoint(flags))
                              or not S.applies(s, ctx, dosed)):
            first_skipped = first_skipped or s
            continue
        kind = s.kind
        if kind == "doses":
            out = S.run_doses(s, ctx, doses, i, prev, poly_last)
        elif kind == "fixed_ages":
            out = S.run_ladder(s, ctx, doses[i:], prev)
        elif kind == "campaign":
            out = C.run_campaign(s, ctx, doses, False)
        else:
            out = C.run_season(s, ctx, doses, i, prev)
        outcome = (s, out)
        if out[0] == PENDING:
            break
        i, prev = out[1], out[2]
        counted += out[3]
        if len(out) == 6 and out[0] == DONE:
            notes.append(out[5])
    result = _conclude(ctx, outcome, counted, first_skipped)
    if notes:
        result = result[:4] + ((_then, result[4], "".join(notes)), result[5])
    for s in prog.overlays:
        if (s.only_flags is not None and s.only_flags.isdisjoint(flags)) or \
                (s.conditional and not S.applies(s, ctx, dosed)):
            continue
        out = C.run_pregnancy(s, ctx, doses) if s.kind == "pregnancy" else C.run_campaign(s, ctx, doses, True)
        if out is None:
            continue
        tail = "" if out[5] else NO_DOSE
        other = (out[1], out[2], out[3], (ctx.minor and s.is_mandatory(ctx.birth)), f"{s.name}. {out[4]}.{tail}", s.id)
        if s.kind == "pregnancy" or _better(other, result):
            # The dose of this pregnancy replaces any other for the disease (the pertussis
            # dose of pregnancy is also the adult booster; maternal RSV protects the baby).
            result = other
    return result


def _better(a, b) -> bool:
    """Return whether answer a is more urgent than b (or, both up to date, comes sooner)."""
    ra, rb = _RANK[a[0]], _RANK[b[0]]
    if ra != rb:
        return ra < rb
    return ra == 2 and a[1] is not None and (b[1] is None or a[1] < b[1])


def _age_text(ctx: S.Ctx, ordinal: int) -> str:
    """Return the person's age on that day in French words (« 65 ans », « 11 mois »)."""
    d = date.fromordinal(ordinal)
    idx = (d.year - BASE_YEAR) * 12 + d.month - 1
    months = idx - ctx.bidx - (d.day < min(ctx.bday, month_length(idx)))
    return f"{months // 12} ans" if months >= 24 else f"{months} mois"


def _conclude(ctx: S.Ctx, outcome, counted, first_skipped):
    """Turn the outcome of the last series judged into (status, next ordinal, label, mandatory, reason, rule)."""
    if outcome is None:
        return (NOT_RECOMMENDED, None, None, False,
                f"Non recommandé pour cette personne. {first_skipped.name} : pour les "
                f"{first_skipped.who or 'personnes concernées'}.", first_skipped.id)
    s, out = outcome
    state = out[0]
    name = (ctx.vname or s.name) if s.named else s.name
    skipped = out[6] if state == PENDING else out[4]
    if state == DONE:
        return (COMPLETE, None, None, (ctx.minor and s.is_mandatory(ctx.birth)), (_done, name, counted, skipped), s.id)
    if state != PENDING:
        return (NOT_RECOMMENDED, None, None, False, (_dropped, name, out[5], counted + out[3], skipped), s.id)
    status, rec, label, text, used = out[1], out[2], out[3], out[4], out[5]
    if status == NOT_YET:
        return (NOT_YET, rec, label, False, (_later, name, text, ctx, rec, skipped), s.id)
    if s.contraindicated and status in (DUE, OVERDUE) and s.contraindicated & ctx.flags:
        why = ", ".join(sorted(_WHY[f] for f in s.contraindicated & ctx.flags))
        return (NOT_RECOMMENDED, None, None, False,
                f"{name}. {label} : contre-indiqué pour l'instant ({why}).{_doses_text(counted + used)}", s.id)
    mandatory = status != NOT_RECOMMENDED and (ctx.minor and s.is_mandatory(ctx.birth))
    return (status, rec, label, mandatory, (_said, name, text, used or counted[-1:], skipped), s.id)


def _too_close(lives, gap: int) -> bool:
    """Return whether two live vaccines were given on different days less than gap days apart."""
    if len(lives) == 2:
        return 0 < abs(lives[0][0][0] - lives[1][0][0]) < gap
    days = sorted({item[0] for item, _ in lives})
    return any(0 < b - a < gap for a, b in zip(days, days[1:]))


def _space_live(lives, per, gap: int) -> None:
    """Mark a live vaccine given 1 to gap-1 days after a counted live vaccine: it does not count."""
    lives.sort(key=lambda x: x[0][0])
    counted = None
    for item, codes in lives:
        o = item[0]
        if counted is None or o == counted or o - counted >= gap:
            counted = o
            continue
        why = (f"vaccin vivant donné {o - counted} jours après un autre vaccin vivant : "
               f"deux vaccins vivants se font le même jour ou à au moins {gap} jours d'intervalle")
        bad = item + (why,)
        for code in codes:
            bucket = per.get(code)
            if bucket is not None:
                # equality, not identity: a compiled engine (make engine-native) re-boxes tuples
                per[code] = [bad if x == item else x for x in bucket]


def evaluate(person: Person, doses: Iterable[DoseRecord], on: date) -> list[Recommendation]:
    """One recommendation per disease code, in diseases.toml order."""
    cal = calendar()
    ctx = S.Ctx(person.birth_date, person.sex, person.flags, on, cal, person.pregnancy_due)
    on_ord = ctx.on
    per: dict[str, list] = {}
    declared: dict[str, int] = {}
    last, ordered, same_day = 0, True, False
    live, live_diseases, lives = cal.live, cal.live_diseases, None
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
        product = d.product
        item = (o, (when.year - BASE_YEAR) * 12 + when.month - 1, when.day, product)
        if (product in live) if product is not None else not live_diseases.isdisjoint(d.diseases):
            if lives is None:
                lives = []
            lives.append((item, d.diseases))
        for code in d.diseases:
            bucket = per.get(code)
            if bucket is None:
                per[code] = [item]
            else:
                bucket.append(item)
    if lives is not None and len(lives) > 1 and _too_close(lives, cal.live_gap[1]):
        _space_live(lives, per, cal.live_gap[1])
    if not ordered or same_day:
        for group in per.values():
            if len(group) > 1:
                group.sort(key=_by_date)
                for j in range(len(group) - 1, 0, -1):
                    if group[j][0] == group[j - 1][0]:  # two injections the same day count once
                        del group[j]
    result: list[Recommendation] = []
    append = result.append
    kept: dict[int | None, tuple] = {}
    undosed = None
    months = ctx.months
    for prog in cal.programs:
        code = prog.code
        ds = per.get(code)
        judged = None
        if ds is None:
            ds = []
            limit = prog.undosed_limit
            passed = limit is not None and (months >= limit[0] if limit[1] == 0 else ctx.reached(limit)) \
                and (prog.flag_any is None or prog.flag_any.isdisjoint(ctx.flags))
            if passed or prog.all_conditional:
                # No injection and either every age limit passed, or no series is for this
                # person: the answer depends only on the birth cohort, sex and flags; it is
                # computed once and shared.
                if undosed is None:
                    key = (bisect_right(cal.cohorts, ctx.birth), person.sex, ctx.flags, ctx.due is not None)
                    undosed = _UNDOSED.get(key)
                    if undosed is None:
                        undosed = _UNDOSED[key] = {}
                known: Any = undosed.get(code if passed else prog.index)  # (answer, Recommendation) or False
                if known is None:
                    if passed or not any(S.applies(s, ctx, False) for s in prog.all_series):
                        judged = _judge(prog, ctx, ds)
                        # shared by other carnets: its reason is composed now, not from this person's context
                        judged = judged[:4] + (text_of(judged[4]), judged[5])
                        known = (judged, _recommendation(code, judged, 0))
                    else:
                        known = False
                    undosed[code if passed else prog.index] = known
                if known:
                    if code not in declared:
                        append(known[1])
                        continue
                    judged = known[0]
        if judged is None:
            # A disease judged like an earlier one reuses its answer for the same injections; the
            # earlier one may have had none and taken the shared answer above (nothing kept then).
            earlier = kept.get(prog.same_as)
            if earlier is not None and earlier[0] == ds:
                judged = earlier[1]
            else:
                judged = _judge(prog, ctx, ds)
            if prog.shared:
                kept[prog.index] = (ds, judged)
        status, rec, label, mandatory, reason, rule = judged
        waiting = declared.get(code, 0) if declared else 0
        if waiting:
            reason = (_then, reason, f" {waiting} dose déclarée en attente de validation, non prise en compte."
                      if waiting == 1 else f" {waiting} doses déclarées en attente de validation, non prises en compte.")
        r = _new(Recommendation)
        _set_dict(r, "__dict__", {"disease": code, "status": status,
                                  "next_date": None if rec is None else _fromordinal(rec), "dose": label,
                                  "mandatory": mandatory, "why": reason, "declared_pending": waiting,
                                  "rule": rule})
        append(r)
    return result
