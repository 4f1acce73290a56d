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


def _history(birth: date, rng: random.Random) -> list[tuple[date, str]]:
    """Return (date, product) pairs a person of that birth date plausibly received."""
    plan: list[tuple[int, str]] = []
    hexa = rng.choice(("infanrix_hexa", "hexyon", "vaxelis"))
    plan += [(2, hexa), (4, hexa), (11, hexa), (2, "prevenar13"), (4, "prevenar13"), (11, "prevenar13")]
    plan += [(12, "priorix"), (17, "mmrvaxpro")]
    if birth >= date(2023, 7, 1):
        plan += [(3, "bexsero"), (5, "bexsero"), (12, "bexsero")]
    plan += [(6, "nimenrix"), (12, "nimenrix")] if birth.year >= 2025 else [(5, "neisvac"), (12, "neisvac")]
    if rng.random() < 0.5:
        plan += [(2, "rotarix"), (3, "rotarix")]
    if rng.random() < 0.5:
        plan.append((rng.randint(0, 6), "beyfortus"))
    plan += [(72, "tetravac"), (135, "boostrixtetra")]
    if rng.random() < 0.45:
        plan += [(134, "gardasil9"), (141, "gardasil9")]
    if rng.random() < 0.3:
        plan.append((150, "nimenrix"))
    plan += [(300, "repevax"), (540, "revaxis"), (780, "revaxis"), (900, "revaxis")]
    if rng.random() < 0.35:
        plan += [(786, "shingrix"), (790, "shingrix")]
    if rng.random() < 0.4:
        plan.append((792, "prevenar20"))
    if rng.random() < 0.3:
        plan.append((905, "abrysvo"))
    if rng.random() < 0.1:
        trip = rng.randint(240, 480)
        plan += [(trip, "stamaril"), (trip, "typhim_vi"), (trip, "havrix"), (trip + 8, "havrix")]
    result = []
    for months, product in plan:
        if rng.random() < 0.9:
            when = _at(birth, months, rng)
            if when <= ON:
                result.append((when, product))
    age = (ON - birth).days // 365
    if age >= 65 or rng.random() < 0.1:
        for season in range(ON.year - 3, ON.year + 1):
            if rng.random() < 0.7:
                result.append((date(season, 10, 20) + timedelta(days=rng.randint(0, 60)), "vaxigrip"))
            if age >= 65 and rng.random() < 0.4:
                result.append((date(season, 10, 20) + timedelta(days=rng.randint(0, 60)), "comirnaty"))
    # Adults often record only recent doses: drop most of the childhood in their carnets.
    if age >= 18:
        keep_from = date(ON.year - rng.randint(5, 25), 1, 1)
        result = [d for d in result if d[0] >= keep_from or rng.random() < 0.2]
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
                     for when, code in _history(birth, rng)]
            carnets.append((Person(birth, sex, frozenset(flags)), doses))
    rng.shuffle(carnets)
    return carnets


def measure(carnets) -> float:
    """Return the carnets per second of one pass over the population."""
    t0 = time.perf_counter()
    for person, doses in carnets:
        evaluate(person, doses, ON)
    return len(carnets) / (time.perf_counter() - t0)


def main() -> None:
    carnets = population()
    doses = sum(len(d) for _, d in carnets) / len(carnets)
    first = evaluate(*carnets[0], ON)
    rates = [measure(carnets) for _ in range(ROUNDS)]
    statuses: dict[str, int] = {}
    for person, d in carnets[:2000]:
        for rec in evaluate(person, d, ON):
            statuses[rec.status] = statuses.get(rec.status, 0) + 1
    print(f"{len(carnets):,} carnets, {doses:.1f} doses en moyenne, {len(first)} maladies chacun, au {ON:%d/%m/%Y}")
    print("statuts (2 000 carnets) : " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"meilleur passage : {max(rates):,.0f} carnets/s ; passages : " + ", ".join(f"{r:,.0f}" for r in rates))
    print(f"objectif 20 000 carnets/s : {'atteint' if max(rates) >= 20_000 else 'NON atteint'}")


if __name__ == "__main__":
    main()
