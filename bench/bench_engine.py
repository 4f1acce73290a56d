"""Status engine: carnets evaluated per second on one core (target ≥ 20,000).

A synthetic population (infants, children, adults, elderly) with dose histories
drawn from the French calendar — on time, late, missing, declared but not yet
validated, a few travel vaccines — is evaluated on one date; every carnet gets one
recommendation per disease. Reports the best of a few rounds, and the mix.
"""
from __future__ import annotations

import random
import time
from datetime import date, timedelta

from cvn.schedule.catalogue import products
from cvn.schedule import engine
from cvn.schedule.engine import DoseRecord, Person, evaluate
from cvn.schedule.rules import month_index, shift

ON = date(2026, 11, 16)
CARNETS = 20_000
ROUNDS = 3
#: share of each age band in the population
BANDS = (("nourrissons (0-2 ans)", 0, 2, 0.25), ("enfants (2-17 ans)", 2, 18, 0.25),
         ("adultes (18-64 ans)", 18, 65, 0.30), ("65 ans et plus", 65, 95, 0.20))


def _at(birth: date, months: int, rng: random.Random, late: int = 30) -> date:
    """Return the date at that age, a little late (sometimes much later)."""
    base = date.fromordinal(shift(month_index(birth), birth.day, (months, 0)))
    delay = rng.randint(0, late) if rng.random() < 0.85 else rng.randint(late, 12 * late)
    return base + timedelta(days=delay)


def _plan(birth: date, sex: str, rng: random.Random) -> list[tuple[int, str]]:
    """Return (age in months, product) of what a person born then was offered in France."""
    y = birth.year
    plan: list[tuple[int, str]] = []
    if y >= 2013:
        hexa = rng.choice(("infanrix_hexa", "hexyon", "vaxelis"))
        plan += [(2, hexa), (4, hexa), (11, hexa)]
    elif y >= 2000:
        plan += [(2, "infanrix_hexa"), (3, "pentavac"), (4, "infanrix_hexa"), (17, "pentavac")]
    elif y >= 1992:
        plan += [(2, "pentavac"), (3, "pentavac"), (4, "pentavac"), (17, "pentavac")]
        if rng.random() < 0.3:
            plan += [(2, "engerix_b10"), (3, "engerix_b10"), (9, "engerix_b10")]
    else:
        plan += [(3, "tetravac"), (4, "tetravac"), (5, "tetravac"), (17, "tetravac")]
    if y >= 2003:
        plan += [(2, "prevenar13"), (4, "prevenar13"), (11, "prevenar13")]
    if y >= 1980:
        plan.append((12, "priorix"))
        if y >= 1996:
            plan.append((rng.choice((17, 72)), "mmrvaxpro"))
    if y >= 2025:
        plan += [(6, "nimenrix"), (12, "nimenrix")]
    elif birth >= date(2016, 8, 1):
        plan += [(5, "neisvac"), (12, "neisvac")]
    elif y >= 2009:
        plan.append((12, "neisvac"))
    if birth >= date(2021, 1, 1) and rng.random() < (0.95 if birth >= date(2023, 7, 1) else 0.7):
        plan += [(3, "bexsero"), (5, "bexsero"), (12, "bexsero")]
    if y >= 2022 and rng.random() < 0.5:
        rotarix = rng.random() < 0.6
        plan += [(2, "rotarix"), (3, "rotarix")] if rotarix else [(2, "rotateq"), (3, "rotateq"), (4, "rotateq")]
    if birth >= date(2023, 2, 1) and rng.random() < 0.7:
        plan.append((rng.randint(0, 7), "beyfortus"))
    plan += [(72, "tetravac"), (rng.randint(132, 156), "boostrixtetra")]
    if (sex == "F" and y >= 1993 and rng.random() < 0.35) or (y >= 2010 and rng.random() < 0.3):
        start = rng.randint(132, 190)
        plan += [(start, "gardasil9"), (start + 6, "gardasil9")] if start < 180 else \
            [(start, "gardasil9"), (start + 2, "gardasil9"), (start + 6, "gardasil9")]
    if y >= 2011 and rng.random() < 0.4:
        plan.append((rng.randint(132, 178), "nimenrix"))
    for months in (300, 540, 780, 900, 1020):
        if rng.random() < 0.6:
            plan.append((months, "repevax" if months == 300 else "revaxis"))
    if rng.random() < 0.35:
        plan += [(786, "shingrix"), (789, "shingrix")]
    if rng.random() < 0.3:
        plan.append((rng.randint(780, 900), "prevenar20"))
    if rng.random() < 0.25:
        plan.append((rng.randint(900, 960), "abrysvo"))
    if rng.random() < 0.1:
        trip = rng.randint(240, 600)
        plan += [(trip, "stamaril"), (trip, "typhim_vi"), (trip, "havrix"), (trip + 8, "havrix")]
    return plan


def _history(birth: date, sex: str, rng: random.Random) -> list[tuple[date, str]]:
    """Return the (date, product) a carnet of someone born then plausibly holds."""
    age = (ON - birth).days // 365
    result = []
    for months, product in _plan(birth, sex, rng):
        if rng.random() < 0.92:
            when = _at(birth, months, rng)
            if when <= ON:
                result.append((when, product))
    if age >= 65 or rng.random() < 0.1:
        for season in range(ON.year - 3, ON.year + 1):
            if rng.random() < 0.7:
                result.append((date(season, 10, 20) + timedelta(days=rng.randint(0, 60)), "vaxigrip"))
            if age >= 65 and rng.random() < 0.4:
                result.append((date(season, 10, 20) + timedelta(days=rng.randint(0, 60)), "comirnaty"))
    if age >= 18:
        # Adults' carnets hold their recent doses, and the older ones only when a paper
        # carnet was transcribed.
        transcribed = rng.random() < 0.7
        recent = date(ON.year - rng.randint(5, 15), 1, 1)
        result = [d for d in result if transcribed or d[0] >= recent]
    return sorted(r for r in result if r[0] <= ON)


def population(size: int = CARNETS, seed: int = 6) -> list[tuple[Person, list[DoseRecord]]]:
    """Return a reproducible synthetic population of carnets."""
    rng = random.Random(seed)
    catalogue = products()
    carnets = []
    for _, low, high, share in BANDS:
        for _ in range(int(size * share)):
            birth = ON - timedelta(days=rng.randint(low * 365, high * 365 - 1))
            flags = set()
            if rng.random() < 0.08:
                flags.add(rng.choice(("immunocompromised", "chronic_heart_lung", "asplenia", "bcg_risk")))
            sex = rng.choice("FM")
            if sex == "F" and 18 <= (ON - birth).days // 365 < 42 and rng.random() < 0.05:
                flags.add("pregnant")
            doses = [DoseRecord(when, catalogue[code].diseases, code, rng.random() > 0.05)
                     for when, code in _history(birth, sex, rng)]
            carnets.append((Person(birth, sex, frozenset(flags)), doses))
    rng.shuffle(carnets)
    return carnets


def measure(carnets) -> float:
    """Return the carnets per second of one pass over the population (CPU time: the machine is shared)."""
    t0 = time.process_time()
    for person, doses in carnets:
        evaluate(person, doses, ON)
    return len(carnets) / (time.process_time() - t0)


def implementation() -> str:
    """Return which engine is loaded: compiled by `make engine-native`, or pure Python."""
    return "compilé (mypyc)" if not engine.__file__.endswith(".py") else "Python pur"


def _band(person: Person) -> str:
    """Return the name of the age band of the person."""
    years = (ON - person.birth_date).days / 365.25
    return next(name for name, low, high, _ in BANDS if low <= years < high)


def main() -> None:
    """Print carnets per second, overall and by age band."""
    carnets = population()
    doses = sum(len(d) for _, d in carnets) / len(carnets)
    first = evaluate(*carnets[0], ON)
    rates = [measure(carnets) for _ in range(ROUNDS)]
    statuses: dict[str, int] = {}
    for person, d in carnets[:2000]:
        for rec in evaluate(person, d, ON):
            statuses[rec.status] = statuses.get(rec.status, 0) + 1
    print(f"moteur : {implementation()}")
    print(f"{len(carnets):,} carnets, {doses:.1f} doses en moyenne, {len(first)} maladies chacun, au {ON:%d/%m/%Y}")
    print("statuts (2 000 carnets) : " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    for name, *_ in BANDS:
        group = [c for c in carnets if _band(c[0]) == name]
        band_doses = sum(len(d) for _, d in group) / len(group)
        rate = max(measure(group) for _ in range(ROUNDS))
        print(f"  {name:<22} {len(group):>6,} carnets, {band_doses:4.1f} doses : {rate:,.0f} carnets/s")
    print(f"meilleur passage : {max(rates):,.0f} carnets/s ; passages : " + ", ".join(f"{r:,.0f}" for r in rates))
    print(f"objectif 20 000 carnets/s : {'atteint' if max(rates) >= 20_000 else 'NON atteint'}")


if __name__ == "__main__":
    main()
