"""Judge one series of the calendar for one person: what is counted, what comes next.

Each ``run_*`` function walks one kind of series over the injections of one disease
(tuples ``(ordinal, month index, day, product)``, sorted) and answers with a tuple:
``(DONE, next index, last counted dose, counted, not counted[, note])``,
``(ABANDONED, next index, last counted dose, counted, not counted, age limit)`` or
``(PENDING, status, next ordinal, label, sentence, counted, not counted)``; a sentence may be left
as ``(sentence, *arguments)``, composed only when the reason is read (``engine.text_of``).
"""
from __future__ import annotations

from datetime import date

from cvn.schedule.rules import AgeMemo, duration_text, month_index, month_length, shift, shift_ordinal

DUE, OVERDUE, UP_TO_DATE, COMPLETE, NOT_RECOMMENDED = "due", "overdue", "up_to_date", "complete", "not_recommended"
NOT_YET = "not_yet"
DONE, PENDING, ABANDONED = 0, 1, 2
FAR = 10**9

_DATES: dict[int, str] = {}
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def fmt(ordinal: int) -> str:
    """Return an ordinal as « 15 octobre 2026 » (« 1er » for the first; memoised: carnets share many dates)."""
    text = _DATES.get(ordinal)
    if text is None:
        d = date.fromordinal(ordinal)
        text = _DATES[ordinal] = f"{'1er' if d.day == 1 else d.day} {MONTHS[d.month - 1]} {d.year}"
    return text


def forget_dates() -> None:
    """Empty the memo of dates in words (see engine.forget_shared_answers)."""
    _DATES.clear()


class Ctx:
    """The person seen from one evaluation date, with memoised ages."""

    __slots__ = ("birth", "bidx", "bday", "on", "months", "sex", "flags", "cal", "ages", "due", "vname", "minor",
                 "not_yet_from")

    def __init__(self, birth: date, sex: str, flags, on: date, cal, due: date | None = None):
        #: expected term of the current pregnancy (ordinal), if known
        self.due = due.toordinal() if due is not None and "pregnant" in flags else None
        #: name of the variant last used by run_doses, when it has its own (adult catch-up)
        self.vname: str | None = None
        self.birth, self.bidx, self.bday = birth.toordinal(), month_index(birth), birth.day
        self.on, self.sex, self.cal = on.toordinal(), sex, cal
        self.ages = AgeMemo(self.bidx, self.bday)
        self.flags = flags if type(flags) is frozenset else frozenset(flags)
        # Whole months of age on that day, consistent with age(): on >= age((m, 0)) <=> months >= m.
        oidx = month_index(on)
        months = oidx - self.bidx
        if on.day < min(self.bday, month_length(oidx)):
            months -= 1
        self.months = months
        #: a minor: legal obligations apply (CSP L3111-2)
        self.minor = months < cal.mandatory_until[0]
        #: a first dose after this day is "not yet" (more than a year away)
        self.not_yet_from = shift(oidx, on.day, cal.not_yet_beyond)

    def reached(self, off: tuple[int, int]) -> bool:
        """Return whether the person has reached that age on the evaluation day."""
        if off[1] == 0:
            return self.months >= off[0]
        return self.on >= self.ages[off]

    def age(self, off: tuple[int, int]) -> int:
        """Return the ordinal of the day the person reaches that age."""
        return self.ages[off]


def status_of(on: int, rec: int, end: int | None) -> str:
    """Return up_to_date before rec, due until end (exclusive), overdue after."""
    if on < rec:
        return UP_TO_DATE
    return DUE if end is None or on < end else OVERDUE


def sentence(status: str, label: str, rec: int, basis: str) -> str:
    """Return the French sentence for a dose to come."""
    basis = f" ({basis})" if basis else ""
    # The date is when the dose becomes recommended, not a deadline: « à partir du », « depuis le ».
    if status == UP_TO_DATE:
        return f"{label} : à faire à partir du {fmt(rec)}{basis}"
    if status == DUE:
        return f"{label} : à faire maintenant, depuis le {fmt(rec)}{basis}"
    return f"{label} : en retard, à faire depuis le {fmt(rec)}{basis} ; rattrapage à faire"


def _variant(s, ctx: Ctx, doses, i: int):
    """Return the first variant that fits the first injection (or today, without one); s has several."""
    variants = s.variants
    n = len(doses)
    lived = ctx.on - ctx.birth
    for v in variants:
        if v.flags is not None and not (v.flags & ctx.flags):
            continue
        if lived < v.from_days:  # too young for this variant, with or without an injection
            continue
        # The first injection that may count: one given before the first rule's minimum
        # age never chooses a schedule (an MMR dose at 5 months does not ask for 3 doses).
        j = i
        m = v.min0
        if m is not None and j < n and doses[j][0] - ctx.birth < v.min0_days:
            floor = ctx.ages[m]
            while j < n and doses[j][0] < floor:
                j += 1
        first = doses[j] if j < n else None
        if first is None:
            if v.dosed_only or v.products is not None:
                continue
            if v.next_within is not None:  # a catch-up schedule: only once the age is reached
                if not ctx.reached(v.first_from):
                    continue
                return v
            if v.first_to is not None:
                a0 = v.rules[0].age
                t = ctx.on if a0 is None else max(ctx.on, ctx.ages[a0])
                if not ctx.ages[v.first_from] <= t < ctx.ages[v.first_to]:
                    continue
        else:
            if v.products is not None and first[3] not in v.products:
                continue
            days = first[0] - ctx.birth
            if days < v.from_days:
                continue
            if v.first_to is not None:
                # Day counts settle most cases without computing the two ages.
                if days >= v.to_days_max:
                    continue
                if not (v.from_days_max <= days < v.to_days_min) and \
                        not ctx.ages[v.first_from] <= first[0] < ctx.ages[v.first_to]:
                    continue
            if v.next_within is not None and \
                    (j + 1 >= n or doses[j + 1][0] >= shift(first[1], first[2], v.next_within)):
                continue
        return v
    return variants[-1]


def _assumed_stop(s, ctx: Ctx, doses, i: int) -> int:
    """Return the index of the first injection showing the series was done earlier."""
    adult = ctx.ages[s.assumed_from] if s.assumed_from else FAR
    products = s.assumed_products
    for j in range(i, len(doses)):
        product = doses[j][3]
        if product in products:
            if s.booster_before is None or doses[j][0] >= ctx.ages[s.booster_before]:
                return j
        elif product is None and doses[j][0] >= adult:
            return j
    return len(doses)


def run_doses(s, ctx: Ctx, doses, i: int, prev, poly_last):
    """Count injections into the dose rules of a series; say what comes next."""
    n = len(doses)
    v = s.variants[0] if len(s.variants) == 1 else _variant(s, ctx, doses, i)
    if s.named:
        ctx.vname = v.name
    rules = v.rules
    ages = ctx.ages
    until = v.until or s.until
    until_ord = ages[until] if until else FAR
    k, other = 0, None
    used: list = []
    skipped: list = []
    stop = n if s.assumed_products is None or v.next_within is not None else _assumed_stop(s, ctx, doses, i)
    booster = s.assumed_products if s.booster_before is not None else None
    if s.first_dose_before is not None and i < stop and doses[i][0] >= ages[s.first_dose_before]:
        # An injection at that age cannot start this series: it goes to the next one.
        return (ABANDONED, i, prev, used, skipped, s.first_dose_before)
    count = len(rules)
    while k < count:
        r = rules[k]
        nxt = doses[i] if i < stop and doses[i][0] < until_ord else None
        if r.superseded_at is not None and (nxt[0] if nxt else ctx.on) >= ages[r.superseded_at]:
            k += 1
            continue
        if r.reuse_from is not None and prev is not None and prev[0] > ages[r.reuse_from]:
            k += 1
            continue
        if nxt is None:
            break
        i += 1
        if len(nxt) > 4:
            skipped.append((nxt, nxt[4]))
        elif booster is not None and nxt[3] in booster and nxt[0] < ages[s.booster_before]:
            skipped.append((nxt, "vaccin de rappel à dose réduite en antigènes, qui ne remplace pas "
                                 f"une dose de primovaccination avant {duration_text(s.booster_before)}"))
        elif r.min_age is not None and nxt[0] - ctx.birth < r.min_days and nxt[0] < ages[r.min_age]:
            skipped.append((nxt, f"avant l'âge minimal de {duration_text(r.min_age)}"))
        elif prev is not None and r.min_interval is not None and nxt[0] - prev[0] < r.min_gap_days and \
                nxt[0] < shift(prev[1], prev[2], r.min_interval):
            skipped.append((nxt, f"moins de {duration_text(r.min_interval)} après la précédente"))
        elif r.products is not None and nxt[3] is not None and nxt[3] not in r.products:
            skipped.append((nxt, "vaccin qui ne convient pas pour cette dose"))
            other = nxt
        else:
            used.append(nxt)
            prev = nxt
            k += 1
    if k == count:
        if s.booster_every is None:
            return (DONE, i, prev, used, skipped)
        return _run_boosters(s, ctx, doses, i, prev, used)
    if stop < n:
        note = (f" {s.name} : supposée faite, un rappel en témoigne"
                f" (vaccin de rappel, ou injection après {duration_text(s.assumed_from)}).")
        if v.next_within is None and len(s.variants) > 1 and k == 0:
            note += (" S'il n'y a jamais eu de vaccination dans l'enfance, un rattrapage est nécessaire :"
                     " 2e dose 2 mois après, 3e dose 8 à 12 mois après la 1re.")
        return (DONE, stop, prev, used, skipped, note)
    on = ctx.on
    if not used and s.start_before is not None and on >= ages[s.start_before]:
        return (ABANDONED, i, prev, used, skipped, s.start_before)
    if on >= until_ord:
        return (ABANDONED, i, prev, used, skipped, until)
    r = rules[k]
    if r.age is not None:
        rec, basis = ages[r.age], r.age_text
    elif r.min_age is not None and ages[r.min_age] > on:  # never asked for before its minimum age
        rec, basis = ages[r.min_age], f"dès {duration_text(r.min_age)}"
    else:
        rec, basis = on, ""
    if prev is not None and r.after is not None:
        t = shift(prev[1], prev[2], r.after)
        if t > rec or r.age is None:
            rec = t
            basis = f"{r.after_text} après la dose précédente"
    if s.not_before is not None and s.not_before > rec:
        rec, basis = s.not_before, f"pas avant le {fmt(s.not_before)}"
    if r.after_other is not None and other is not None:
        t = shift(other[1], other[2], r.after_other)
        if t > rec:
            rec, basis = t, f"{duration_text(r.after_other)} après la dose d'un autre vaccin le {fmt(other[0])}"
    if r.after_poly is not None and poly_last is not None:
        t = shift_ordinal(poly_last, r.after_poly)
        if t > rec:
            rec, basis = t, (f"{duration_text(r.after_poly)} après le vaccin polyosidique du {fmt(poly_last)}, "
                             "donné après un vaccin conjugué")
    if rec >= until_ord:
        return (ABANDONED, i, prev, used, skipped, until)
    if not doses and rec >= ctx.not_yet_from:
        # Never started and more than a year away: "not yet" (the sentence is the age, if known).
        return (PENDING, NOT_YET, rec, r.label, r.from_text if r.age is not None and rec == ages[r.age] else None,
                used, skipped)
    end = None
    if not r.open:
        if r.win_to is not None:
            end = ages[r.win_to]
        if r.after_to is not None and prev is not None:
            t = shift(prev[1], prev[2], r.after_to)
            end = t if end is None or t < end else end
        if end is None or end <= rec:
            cal = ctx.cal
            infant = r.infant if r.age is not None else rec < ages[cal.infant_age]
            end = shift_ordinal(rec, cal.tolerance_infant if infant else cal.tolerance)
        if end > until_ord:
            end = until_ord
    status = status_of(on, rec, end)
    # The sentence is composed only if the reason is read (see engine.text_of).
    return (PENDING, status, rec, r.label, (sentence, status, r.label, rec, basis), used, skipped)


def _run_boosters(s, ctx: Ctx, doses, i: int, prev, used):
    """Judge the boosters of a travel vaccine, worth giving only before a new exposure."""
    boosters = len(doses) - i
    last = doses[-1] if boosters else prev
    if s.booster_count is not None and boosters >= s.booster_count:
        return (DONE, len(doses), last, used + list(doses[i:]), [])
    due = shift(last[1], last[2], s.booster_every)
    label = "Rappel (si nouvelle exposition)"
    if ctx.on < due:
        text = (f"{label} possible à partir du {fmt(due)}, {duration_text(s.booster_every)} "
                "après la dernière dose")
        return (PENDING, UP_TO_DATE, due, label, text, used, ())
    text = (f"Protection de la dose du {fmt(last[0])} à renouveler seulement avant une nouvelle "
            f"exposition (rappel possible depuis le {fmt(due)})")
    return (PENDING, NOT_RECOMMENDED, None, None, text, used, ())


def run_ladder(s, ctx: Ctx, doses, prev):
    """Judge the adult boosters at fixed ages, with the official re-alignment rules."""
    last = doses[-1] if doses else prev
    ages = s.ladder
    skipped_age = None
    if last is None:
        fixed = ages[0]
    else:
        floor = shift(last[1], last[2], s.skip)
        j = 0
        while True:
            fixed = ages[j] if j < len(ages) else (ages[-1][0] + s.every[0] * (j - len(ages) + 1), 0)
            a = ctx.ages[fixed]
            if a > floor:
                break
            if a > last[0]:
                skipped_age = fixed
            j += 1
    rec = ctx.ages[fixed]
    label = f"Rappel {fixed[0] // 12} ans"
    since = "" if last else "aucun rappel enregistré"
    note = ""
    if skipped_age is not None:
        note = (f". Rendez-vous de {skipped_age[0] // 12} ans sauté : le dernier rappel date de "
                f"{duration_text(s.skip)} ou moins")
    used = [last] if last else []
    on = ctx.on
    end = shift_ordinal(rec, ctx.cal.tolerance)
    if on < end:
        status = status_of(on, rec, end)
        return (PENDING, status, rec, label, sentence(status, label, rec, since) + note, used, ())
    nxt = fixed
    while ctx.ages[nxt] < on:
        nxt = next((a for a in ages if a > nxt), None) or (nxt[0] + s.every[0], 0)
    gap = s.max_gap if nxt <= s.late_age else s.max_gap_late
    if last is None or shift(last[1], last[2], gap) < ctx.ages[nxt]:
        text = (sentence(OVERDUE, label, rec, since) + f". Plus de {duration_text(gap)} séparent le dernier "
                f"rappel du prochain rendez-vous à âge fixe ({nxt[0] // 12} ans) : rappel dès maintenant, "
                "puis retour aux âges fixes")
        return (PENDING, OVERDUE, rec, label, text, used, ())
    label = f"Rappel {nxt[0] // 12} ans"
    text = sentence(UP_TO_DATE, label, ctx.ages[nxt], since) + f". Rendez-vous de {fixed[0] // 12} ans manqué"
    return (PENDING, UP_TO_DATE, ctx.ages[nxt], label, text, used, ())


def applies(s, ctx: Ctx, dosed: bool) -> bool:
    """Return whether the series is for this person (cohort, sex, flags, optional)."""
    if s.born_from is not None and ctx.birth < s.born_from:
        return False
    if s.born_before is not None and ctx.birth >= s.born_before:
        return False
    if s.sex and ctx.sex != s.sex:
        return False
    if s.optional and not dosed:
        return False
    return s.flags is None or bool(s.flags & ctx.flags) or (s.applies_if_dosed and dosed)
