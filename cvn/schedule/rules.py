"""Compile calendar.toml once into plain objects, with fast calendar arithmetic.

Dates are handled as proleptic ordinals (``date.toordinal()``). An age or an
interval is an offset ``(months, days)``; adding one to a date goes through a
table of month starts, so the engine never builds intermediate ``date`` objects.
"""
from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import lru_cache

from cvn.schedule.catalogue import DATA, FLAGS, diseases, products  # noqa: F401 (FLAGS re-exported)

KINDS = ("doses", "fixed_ages", "campaign", "pregnancy", "season")

BASE_YEAR = 1800
_MONTH_START: list[int] = []
_MONTH_LEN: list[int] = []
for _y in range(BASE_YEAR, 2401):
    for _m in range(1, 13):
        _first = date(_y, _m, 1).toordinal()
        _MONTH_START.append(_first)
        _MONTH_LEN.append((date(_y + (_m == 12), _m % 12 + 1, 1).toordinal()) - _first)


def month_index(d: date) -> int:
    """Return the index of the month of d in the month tables."""
    return (d.year - BASE_YEAR) * 12 + d.month - 1


def month_length(midx: int) -> int:
    """Return the number of days of the month at that index."""
    return _MONTH_LEN[midx]


def shift(midx: int, day: int, off: tuple[int, int]) -> int:
    """Return the ordinal of (month midx, day) moved by off, clamping to the month end."""
    i = midx + off[0]
    length = _MONTH_LEN[i]
    return _MONTH_START[i] + (day if day <= length else length) - 1 + off[1]


class AgeMemo(dict):
    """Map an age (months, days) to the ordinal of the day one person reaches it, computed on first use.

    A dict, so a known age costs one subscript and no Python call (the engine looks
    ages up about thirty times per carnet).
    """

    __slots__ = ("bidx", "bday")

    def __init__(self, bidx: int, bday: int):
        super().__init__()
        self.bidx, self.bday = bidx, bday

    def __missing__(self, off: tuple[int, int]) -> int:
        """Compute, keep and return the day that age is reached (shift(), inlined)."""
        i = self.bidx + off[0]
        length = _MONTH_LEN[i]
        day = self.bday
        a = self[off] = _MONTH_START[i] + (day if day <= length else length) - 1 + off[1]
        return a


def shift_ordinal(ordinal: int, off: tuple[int, int]) -> int:
    """Return the ordinal moved by off."""
    d = date.fromordinal(ordinal)
    return shift(month_index(d), d.day, off)


_PART = re.compile(r"(\d+)([ymwd])")


def parse_duration(text: str) -> tuple[int, int]:
    """Return "1y6m" / "6w" / "42d" as (months, days)."""
    text = str(text).strip()
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"durée invalide : {text!r}")
    months = days = 0
    for number, unit in parts:
        n = int(number)
        if unit == "y":
            months += 12 * n
        elif unit == "m":
            months += n
        elif unit == "w":
            days += 7 * n
        else:
            days += n
    return months, days


@lru_cache(maxsize=1024)
def duration_text(off: tuple[int, int]) -> str:
    """Return an offset in French words: "2 mois", "25 ans", "6 semaines"."""
    months, days = off
    if days == 0:
        if months >= 24 and months % 12 == 0:
            return f"{months // 12} ans"
        return f"{months} mois"
    if months == 0:
        return f"{days // 7} semaines" if days % 7 == 0 else f"{days} jours"
    return f"{duration_text((months, 0))} et {duration_text((0, days))}"


@lru_cache(maxsize=1024)
def range_text(low: tuple[int, int], high: tuple[int, int]) -> str:
    """Return an [low, high) range as French words, the end shown inclusive ("11 et 13 ans")."""
    months, days = high
    if days == 0 and months % 12 == 0 and low[1] == 0 and low[0] % 12 == 0 and low[0] >= 24:
        return f"{low[0] // 12} et {months // 12 - 1} ans"
    if days == 0 and low[1] == 0:
        return f"{low[0]} et {months - 1} mois"
    if months == 0 and low[0] == 0 and days % 7 == 0 and low[1] % 7 == 0:
        return f"{low[1] // 7} et {days // 7 - 1} semaines"
    return f"{duration_text(low)} et {duration_text(high)}"


def _date(text: str | None) -> int | None:
    """Return an ISO date as an ordinal (None stays None)."""
    return date.fromisoformat(str(text)).toordinal() if text else None


def _month_day(text: str) -> tuple[int, int]:
    """Return "MM-DD" as (month, day), checking it is a real day."""
    month, day = (int(x) for x in str(text).split("-"))
    date(2000, month, day)  # validates
    return month, day


def _opt(raw: dict, key: str) -> tuple[int, int] | None:
    """Return the duration under key, or None."""
    return parse_duration(raw[key]) if raw.get(key) else None


def _set(raw: dict, key: str) -> frozenset[str] | None:
    """Return the list under key as a frozenset, or None when absent or empty."""
    return frozenset(raw[key]) if raw.get(key) else None


class Rule:
    """One dose of a series: when it is recommended and when an injection counts."""

    __slots__ = ("label", "age", "win_to", "open", "after", "after_to", "min_age", "min_interval",
                 "superseded_at", "reuse_from", "products", "after_poly", "after_other", "infant", "age_text",
                 "after_text", "source", "from_text", "min_days", "min_gap_days")

    def __init__(self, raw: dict, infant_age: tuple[int, int]):
        self.label = raw["label"]
        self.source = raw.get("source", "")
        window = raw.get("window")
        self.open = bool(raw.get("from_age"))
        self.age = parse_duration(window[0]) if window else _opt(raw, "age") or _opt(raw, "from_age")
        self.win_to = parse_duration(window[1]) if window else None
        after_window = raw.get("after_window")
        self.after = parse_duration(after_window[0]) if after_window else _opt(raw, "after")
        self.after_to = parse_duration(after_window[1]) if after_window else None
        if self.after_to:
            self.after_text = f"entre {range_text(self.after, self.after_to)}"
        else:
            self.after_text = duration_text(self.after) if self.after else ""
        self.min_age = _opt(raw, "min_age")
        #: a day count from birth past which the minimum age is surely reached (31-day months)
        self.min_days = self.min_age[0] * 31 + self.min_age[1] + 1 if self.min_age else 0
        self.min_interval = _opt(raw, "min_interval") or self.after
        #: a day count past the previous dose beyond which the minimum interval is surely respected
        self.min_gap_days = self.min_interval[0] * 31 + self.min_interval[1] if self.min_interval else 0
        self.superseded_at = _opt(raw, "superseded_at")
        reuse = _opt(raw, "reuse_within")
        self.reuse_from = (self.age[0] - reuse[0], 0) if reuse and self.age else None
        self.products = _set(raw, "products")
        self.after_poly = _opt(raw, "after_polysaccharide")
        self.after_other = _opt(raw, "after_other_product")
        self.infant = self.age is not None and self.age < infant_age
        #: the recommended age in words, for « Plus tard — à partir de 65 ans »
        self.from_text = duration_text(self.age) if self.age else None
        if window:
            self.age_text = f"entre {range_text(self.age, self.win_to)}"
        elif self.open:
            self.age_text = f"dès {duration_text(self.age)}"
        elif self.age:
            self.age_text = f"à {duration_text(self.age)}"
        else:
            self.age_text = ""


class Variant:
    """An alternative list of doses, chosen by the first injection, the age or the flags."""

    __slots__ = ("first_from", "first_to", "products", "flags", "dosed_only", "until", "rules", "source",
                 "next_within", "name", "min0", "min0_days", "from_days", "from_days_max", "to_days_min",
                 "to_days_max")

    def __init__(self, raw: dict, infant_age: tuple[int, int]):
        first = raw.get("first_dose_age")
        self.first_from = parse_duration(first[0]) if first else None
        self.first_to = parse_duration(first[1]) if first else None
        self.products = _set(raw, "first_dose_products")
        self.flags = _set(raw, "flags_any")
        self.dosed_only = bool(raw.get("dosed_only"))
        self.until = _opt(raw, "until")
        #: catch-up pattern: chosen only if the 2nd injection follows the 1st within this (or none yet)
        self.next_within = _opt(raw, "next_dose_within")
        #: French name shown instead of the series' when this variant is used
        self.name = raw.get("name")
        self.rules = tuple(Rule(r, infant_age) for r in raw.get("dose", ()))
        self.source = raw.get("source", "")
        #: minimum age of the first rule, and a day count past which any date has reached it
        self.min0 = self.rules[0].min_age if self.rules else None
        self.min0_days = self.min0[0] * 31 + self.min0[1] + 1 if self.min0 else 0
        #: a day count below which no date has reached first_from (28-day months: a lower bound)
        self.from_days = self.first_from[0] * 28 + self.first_from[1] if self.first_from else 0
        self.from_days_max = self.first_from[0] * 31 + self.first_from[1] + 1 if self.first_from else 0
        self.to_days_min = self.first_to[0] * 28 + self.first_to[1] if self.first_to else 0
        self.to_days_max = self.first_to[0] * 31 + self.first_to[1] + 1 if self.first_to else 0



class Eligible:
    """One group a campaign is for (entries are alternatives)."""

    __slots__ = ("from_age", "to_age", "flags", "min_interval", "who", "who_cap", "source")

    def __init__(self, raw: dict):
        self.from_age = _opt(raw, "from_age")
        self.to_age = _opt(raw, "to_age")
        self.flags = _set(raw, "flags_any")
        self.min_interval = _opt(raw, "min_interval")
        self.who = raw.get("who", "")
        self.who_cap = self.who[:1].upper() + self.who[1:]
        self.source = raw.get("source", "")


class Series:
    """One schedule of the calendar for one or more diseases."""

    __slots__ = ("id", "kind", "name", "diseases", "mandatory", "mandatory_from", "born_from",
                 "born_before", "sex", "flags", "who", "optional", "applies_if_dosed",
                 "contraindicated", "start_before", "until", "not_before", "booster_every",
                 "booster_count", "overlay", "assumed_flag", "assumed_products", "assumed_from",
                 "variants", "label", "source",
                 "ages", "ladder", "every", "skip", "max_gap", "late_age", "max_gap_late", "who_all",
                 "opens", "start", "end", "min_interval", "eligible", "lookback", "conditional", "by_age",
                 "booster_before", "seasons", "count_products", "first_dose_before", "named", "only_flags", "weeks", "two_doses_before", "two_doses_gap", "decision")

    def __init__(self, raw: dict, infant_age: tuple[int, int]):
        self.id = raw["id"]
        self.kind = raw.get("kind", "doses")
        if self.kind not in KINDS:
            raise ValueError(f"series {self.id}: unknown kind {self.kind!r}")
        self.name = raw["name"]
        self.diseases = tuple(raw["diseases"])
        self.mandatory = bool(raw.get("mandatory"))
        self.mandatory_from = _date(raw.get("mandatory_born_from"))
        self.born_from = _date(raw.get("born_from"))
        self.born_before = _date(raw.get("born_before"))
        self.sex = raw.get("sex")
        self.flags = _set(raw, "flags_any")
        self.who = raw.get("who", "")
        self.optional = bool(raw.get("optional"))
        self.applies_if_dosed = bool(raw.get("applies_if_dosed"))
        self.contraindicated = frozenset(raw.get("contraindicated_flags", ()))
        self.start_before = _opt(raw, "start_before")
        self.until = _opt(raw, "until")
        self.not_before = _date(raw.get("not_before"))
        self.booster_every = _opt(raw, "booster_every")
        self.booster_count = raw.get("booster_count")
        self.overlay = bool(raw.get("overlay"))
        self.assumed_flag = raw.get("assumed_done_by_flag")
        self.assumed_products: frozenset[str] | None = None  # filled by Calendar
        self.assumed_from = _opt(raw, "assumed_done_from")
        self.label = raw.get("label", "")
        self.source = raw.get("source", "")
        if "dose" in raw:
            self.variants = (Variant({"dose": raw["dose"], "source": self.source}, infant_age),)
        else:
            self.variants = tuple(Variant(v, infant_age) for v in raw.get("variant", ()))
        #: flags without which the series never applies (no exception once dosed): a fast check
        self.only_flags = self.flags if self.flags and not self.applies_if_dosed else None
        #: some variant has its own name (shown in reasons instead of the series')
        self.named = any(v.name for v in self.variants)
        if self.kind == "doses" and not self.variants:
            raise ValueError(f"series {self.id}: no dose")
        self.ages = self.ladder = tuple(parse_duration(a) for a in raw.get("ages", ()))
        self.every = _opt(raw, "every")
        self.skip = _opt(raw, "skip_within")
        self.max_gap = _opt(raw, "max_gap")
        self.late_age = _opt(raw, "late_age")
        self.max_gap_late = _opt(raw, "max_gap_late")
        self.opens = _month_day(raw["season_opens"]) if "season_opens" in raw else None
        self.start = _month_day(raw.get("campaign_start") or raw["season_start"]) \
            if ("campaign_start" in raw or "season_start" in raw) else None
        self.end = _month_day(raw.get("campaign_end") or raw["season_end"]) \
            if ("campaign_end" in raw or "season_end" in raw) else None
        self.min_interval = _opt(raw, "min_interval")
        self.eligible = tuple(Eligible(e) for e in raw.get("eligible", ()))
        self.who_all = ", ".join(e.who for e in self.eligible)
        #: groups a person enters by age alone (first eligible campaign of someone too young)
        self.by_age = tuple(e for e in self.eligible if e.flags is None and e.from_age is not None)
        self.lookback = _opt(raw, "lookback")
        #: reduced-dose booster products do not count (nor prove the series) before this age
        self.booster_before = _opt(raw, "booster_products_count_from")
        #: an injection at or after this age cannot start the series (it goes to the next one)
        self.first_dose_before = _opt(raw, "first_dose_before")
        #: published seasons: opening year → (opens, start, end exclusive, name)
        self.seasons = {}
        for season in raw.get("season", ()):
            start, last = date.fromisoformat(str(season["start"])), date.fromisoformat(str(season["last_day"]))
            year = int(season["name"][:4])
            opens = date.fromisoformat(str(season["counts_from"])) if season.get("counts_from") else start
            self.seasons[year] = (opens.toordinal(), start.toordinal(), last.toordinal() + 1, season["name"])
        #: pregnancy window in weeks of amenorrhoea [from, to)
        self.weeks = tuple(parse_duration(w) for w in raw["weeks"]) if raw.get("weeks") else None
        self.two_doses_before = _opt(raw, "two_doses_first_time_before")
        self.two_doses_gap = _opt(raw, "two_doses_gap")
        self.decision = raw.get("decision", "")
        #: pregnancy series: only these products count (None: any product of the disease)
        self.count_products = _set(raw, "products")
        #: whether the series is for some people only (cohort, sex, flags, optional)
        self.conditional = bool(self.born_from or self.born_before or self.sex or self.flags or self.optional)

    def is_mandatory(self, birth: int) -> bool:
        """Return whether this series is an obligation for someone born on that ordinal."""
        return self.mandatory or (self.mandatory_from is not None and birth >= self.mandatory_from)


class Program:
    """Everything the calendar says about one disease: the chain and the overlays."""

    __slots__ = ("code", "label", "chain", "overlays", "key", "same_as", "optional", "polysaccharide",
                 "undosed_limit", "index", "shared", "flag_any", "all_series", "all_conditional")

    def __init__(self, code: str, label: str, series: list[Series]):
        self.code = code
        self.label = label
        self.index, self.shared = 0, False  # set by Calendar
        self.chain = tuple(s for s in series if not s.overlay)
        self.overlays = tuple(s for s in series if s.overlay)
        self.key = tuple(s.id for s in series)
        #: index of an earlier program with the very same series (diphtheria → tetanus, polio)
        self.same_as: int | None = None
        #: only optional series: without injections the answer never changes
        self.optional = all(s.optional for s in series)
        #: whether an injection may be a polysaccharide vaccine that delays the next one
        self.polysaccharide = any(r.after_poly for s in series for v in s.variants for r in v.rules)
        #: age from which, without injections, every series has given up: the answer is then fixed
        self.all_series = tuple(series)
        #: every series is for some people only: without injections, one may apply to nobody here
        self.all_conditional = all(s.conditional for s in series)
        #: flags of the series for some groups only: with one of them the answer is never shared
        flagged = [f for s in series if s.flags for f in s.flags]
        self.flag_any = frozenset(flagged) if flagged else None
        self.undosed_limit = self._undosed_limit()

    def _undosed_limit(self) -> tuple[int, int] | None:
        """Return the age past which, without injections, every series has given up (None if never)."""
        if self.overlays:
            return None
        limit = (0, 0)
        for s in self.chain:
            if s.kind != "doses":
                return None
            ends = [x for x in (s.until, s.start_before, *(v.until for v in s.variants)) if x]
            if not ends:
                if s.optional or s.flags:
                    continue
                return None
            limit = max(limit, *ends)
        return limit


class Calendar:
    """The compiled calendar: one program per disease, in display order."""

    def __init__(self, raw: dict):
        settings = raw["settings"]
        self.infant_age = parse_duration(settings["infant_age"])
        #: legal obligations bind minors only (CSP L3111-2): no "mandatory" from this age
        self.mandatory_until = parse_duration(settings.get("mandatory_until", "18y"))
        #: a recommendation never started whose date is further than this shows "not yet"
        self.not_yet_beyond = parse_duration(settings.get("not_yet_beyond", "1y"))
        self.tolerance_infant = parse_duration(settings["tolerance_infant"])
        self.tolerance = parse_duration(settings["tolerance"])
        self.series = [Series(s, self.infant_age) for s in raw["series"]]
        known = diseases()
        for s in self.series:
            unknown = [d for d in s.diseases if d not in known]
            if unknown:
                raise ValueError(f"series {s.id}: unknown disease(s) {unknown}")
        self.programs = [Program(code, d.label, [s for s in self.series if code in s.diseases])
                         for code, d in known.items()]
        for j, prog in enumerate(self.programs):
            prog.index = j
            prog.same_as = next((k for k in range(j) if self.programs[k].key == prog.key), None)
        shared = {p.same_as for p in self.programs if p.same_as is not None}
        for prog in self.programs:
            #: a later disease may reuse this one's answer (same series, same injections)
            prog.shared = prog.index in shared
        #: birth dates where some series starts or stops applying, or becomes mandatory
        self.cohorts = sorted({d for s in self.series
                               for d in (s.born_from, s.born_before, s.mandatory_from) if d})
        catalogue = products().values()
        self.polysaccharide = frozenset(p.code for p in catalogue if "polysaccharide" in p.flags)
        #: live attenuated vaccines (rotavirus, oral, excepted in the data): same day or 28 days apart
        self.live = frozenset(p.code for p in catalogue if "live" in p.flags)
        self.live_diseases = frozenset(settings.get("live_diseases", ()))
        self.live_gap = parse_duration(settings.get("live_gap", "28d"))
        self.by_id = {s.id: s for s in self.series}
        for s in self.series:
            if s.assumed_flag:
                s.assumed_products = frozenset(p.code for p in catalogue if s.assumed_flag in p.flags)



def load_raw() -> dict:
    """Return calendar.toml as parsed TOML (for tests and reviews)."""
    return tomllib.loads((DATA / "calendar.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def calendar() -> Calendar:
    """Return the compiled calendar (parsed once per process)."""
    return Calendar(load_raw())
