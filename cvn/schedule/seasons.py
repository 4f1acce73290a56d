"""Judge the seasonal series of the calendar: yearly campaigns, the infant's first RSV season, pregnancy.

Same conventions as :mod:`cvn.schedule.series` (ordinals, answer tuples). Seasons are
data: a season published in calendar.toml has its own dates, others follow the
series' default month-days.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from cvn.schedule.rules import duration_text, shift, shift_ordinal
from cvn.schedule.series import ABANDONED, DONE, DUE, NOT_RECOMMENDED, OVERDUE, PENDING, UP_TO_DATE, Ctx, fmt, \
    sentence


def _md(year: int, md) -> int:
    """Return the ordinal of (month, day) in that year."""
    return date(year, md[0], md[1]).toordinal()


def _compute_bounds(s, year: int) -> tuple[int, int, int, str, str]:
    """Return (opens, start, end, label, season name) of the season of s opening in that year.

    A season published in the data file (its own dates) wins over the default rule.
    """
    published = s.seasons.get(year)
    if published is not None:
        opens, start, end, name = published
        return opens, start, end, s.label.format(season=name, year=date.fromordinal(start).year), name
    opens = _md(year, s.opens)
    start_year = year + (s.start < s.opens)
    start = _md(start_year, s.start)
    end = _md(start_year + (s.end <= s.start), s.end)
    return opens, start, end, s.label.format(season=f"{year}-{year + 1}", year=start_year), f"{year}-{year + 1}"


def _compute_season(s, on: int) -> tuple[int, tuple, tuple]:
    """Return (year, this season, next season) for the season of s holding that day."""
    year = date.fromordinal(on).year
    if on < _bounds(s, year)[0]:
        year -= 1
    return year, _bounds(s, year), _bounds(s, year + 1)


# Memoised by wrapping rather than decorating, so that mutation testing (which skips
# decorated functions) reaches the computations; forget_seasons() empties the memos.
_bounds = lru_cache(maxsize=512)(_compute_bounds)
_season = lru_cache(maxsize=512)(_compute_season)


def forget_seasons() -> None:
    """Empty the memos of season bounds (see engine.forget_shared_answers)."""
    _bounds.cache_clear()
    _season.cache_clear()


def _first_campaign(s, ctx: Ctx) -> int | None:
    """Return when the person first becomes eligible by age alone (None if never)."""
    rec = None
    for e in s.by_age:
        birthday = ctx.ages[e.from_age]
        if birthday > ctx.on:
            year = date.fromordinal(birthday).year - 1
            bounds = _bounds(s, year)
            if birthday >= bounds[2]:
                bounds = _bounds(s, year + 1)
            t = bounds[1] if bounds[1] > birthday else birthday
            rec = t if rec is None or t < rec else rec
    return rec


def run_campaign(s, ctx: Ctx, doses, overlay: bool):
    """Judge a yearly campaign: due during it unless a dose was given this season."""
    on, flags = ctx.on, ctx.flags
    groups = []
    for e in s.eligible:
        if (e.flags is None or e.flags & flags) and (e.from_age is None or ctx.reached(e.from_age)) \
                and (e.to_age is None or not ctx.reached(e.to_age)):
            groups.append(e)
    last = doses[-1] if doses else None
    used = [last] if last else []
    if not groups:
        if overlay:
            return None
        rec = _first_campaign(s, ctx)
        text = f"Recommandée pour : {s.who_all}"
        if rec is not None:
            text += f" ; première campagne concernée le {fmt(rec)}"
        return (PENDING, NOT_RECOMMENDED, rec, None, text, used, ())
    year, (opens, start, end, label, _), (_, n_start, _, n_label, _) = _season(s, on)
    gap = s.min_interval
    for e in groups:
        if e.min_interval is not None and (gap is None or e.min_interval < gap):
            gap = e.min_interval
    who = groups[0].who_cap
    if s.two_doses_before is not None and not ctx.reached(s.two_doses_before) \
            and (not doses or doses[0][0] >= opens):
        # First vaccination of a child under 9: two doses, four weeks apart.
        this = [d for d in doses if d[0] >= opens]
        if len(this) < 2 and on < end:
            first = not this
            label2 = "Dose 1/2" if first else "Dose 2/2"
            rec = start if first else shift(this[0][1], this[0][2], s.two_doses_gap)
            why = (f"première vaccination avant {duration_text(s.two_doses_before)} : 2 doses à "
                   f"{duration_text(s.two_doses_gap)} d'intervalle, {label.lower()}")
            if not first:
                why += f", {duration_text(s.two_doses_gap)} après la 1re dose"
            status = UP_TO_DATE if on < rec else DUE
            return (PENDING, status, rec, label2, sentence(status, label2, rec, why), this, ())
    if last is not None and last[0] >= opens:
        rec = n_start if gap is None else max(n_start, shift(last[1], last[2], gap))
        text = f"{who} : dose de la saison faite ; prochaine campagne le {fmt(rec)}"
        return (PENDING, UP_TO_DATE, rec, n_label, text, used, ())
    rec, basis = start, f"{groups[0].who}, {label.lower()} du {fmt(start)} au {fmt(end - 1)}"
    if gap is not None and last is not None:
        t = shift(last[1], last[2], gap)
        if t > rec:
            rec, basis = t, f"{groups[0].who}, {duration_text(gap)} après la dernière dose"
    if rec < end and on < end:
        status = UP_TO_DATE if on < rec else DUE
        return (PENDING, status, rec, label, sentence(status, label, rec, basis), used, ())
    done = f"campagne terminée le {fmt(end - 1)}" if on >= end else "dose récente"
    return (PENDING, UP_TO_DATE, n_start, n_label, f"{who} : {done} ; prochaine campagne le {fmt(n_start)}",
            used, ())


def run_season(s, ctx: Ctx, doses, i: int, prev):
    """Judge the infant RSV immunisation: one dose during the first season of life."""
    # The first season always ends by the first birthday.
    if ctx.months >= 12 and (i >= len(doses) or doses[i][0] >= ctx.ages[(12, 0)]):
        return (ABANDONED, i, prev, [], [], None)
    year = date.fromordinal(ctx.birth).year
    _, start, end, _, name = _bounds(s, year - 1)
    if ctx.birth >= end:
        _, start, end, _, name = _bounds(s, year)
    if i < len(doses) and doses[i][0] < end:
        return (DONE, i + 1, doses[i], [doses[i]], [])
    if ctx.on >= end:
        return (ABANDONED, i, prev, [], [], None)
    rec = max(start, ctx.birth)
    status = UP_TO_DATE if ctx.on < rec else DUE
    basis = f"première saison du VRS ({name}), jusqu'au {fmt(end - 1)}"
    return (PENDING, status, rec, s.label, sentence(status, s.label, rec, basis), [], ())


def run_pregnancy(s, ctx: Ctx, doses):
    """Judge the dose of this pregnancy, between two stages in weeks of amenorrhoea.

    With the expected term, the stages are dates (term = 41 weeks, DECISION in the
    data file); with the flag alone, a dose given within the look-back period counts.
    A series with seasons (maternal RSV) is proposed only when its window meets one.
    """
    on, due = ctx.on, ctx.due
    product_ok = s.count_products
    if due is None:
        if s.seasons:
            _, start, end, _, name = _season_of(s, on)
            if on < start:  # between two seasons (the season found holds or follows today)
                return None
            text = (f"{s.label} : à faire entre {_weeks(s.weeks)} de grossesse, pendant la saison {name} "
                    f"(jusqu'au {fmt(end - 1)}) ; indiquez la date prévue d'accouchement pour connaître les dates")
            return (PENDING, DUE, None, s.label, text, [], ())
        since = shift_ordinal(on, (-s.lookback[0], -s.lookback[1]))
        if doses and doses[-1][0] >= since:
            return (PENDING, UP_TO_DATE, None, s.label,
                    f"Dose faite le {fmt(doses[-1][0])}, comptée pour cette grossesse (moins de "
                    f"{duration_text(s.lookback)} avant aujourd'hui)", [doses[-1]], ())
        return (PENDING, DUE, None, s.label,
                f"{s.label} à faire entre {_weeks(s.weeks)} de grossesse ; indiquez la date prévue "
                "d'accouchement pour connaître les dates", [], ())
    conception = due - 287
    low, high = conception + s.weeks[0][1], conception + s.weeks[1][1]
    if s.seasons:
        # Only the season holding or following the window's first day can meet the window:
        # the one before it ended before that day.
        _, start, end, _, name = _season_of(s, low)
        low2, high2 = max(low, start), min(high, end)
        if low2 >= high2:
            return None
        low, high = low2, high2
    for d in reversed(doses):
        if d[0] >= low and d[0] < due and (product_ok is None or d[3] is None or d[3] in product_ok):
            return (PENDING, UP_TO_DATE, None, s.label,
                    f"Dose faite le {fmt(d[0])}, pendant cette grossesse", [d], ())
    window = f"entre {_weeks(s.weeks)} de grossesse, soit du {fmt(low)} au {fmt(high - 1)}"
    if on < low:
        return (PENDING, UP_TO_DATE, low, s.label, f"{s.label} : à faire {window}", [], ())
    status = DUE if on < high else OVERDUE
    return (PENDING, status, low, s.label, sentence(status, s.label, low, window), [], ())


def _weeks(weeks) -> str:
    """Return a [from, to) window in weeks as French words, the end inclusive: « 20 et 36 semaines »."""
    return f"{weeks[0][1] // 7} et {weeks[1][1] // 7 - 1} semaines"


def _season_of(s, day: int):
    """Return the bounds of the season of s that holds or follows that day."""
    year = date.fromordinal(day).year
    for y in (year - 1, year):
        bounds = _bounds(s, y)
        if day < bounds[2]:
            return bounds
    return _bounds(s, year + 1)
