"""The status engine gives the very answers of the engine it was optimised from (issue 14).

10,000 carnets from the engine benchmark's synthetic population, varied so that
the rarer paths run too (doses out of order, a known pregnancy term, several
evaluation dates, doses after that date), are evaluated; every field of every
recommendation — status, date, label, mandatory, reason, declared count, rule,
source — is hashed per carnet and compared with ``data/engine_reference.txt``.

That file was written once by the engine of commit f209eab (before any speed
work), with
``.venv/bin/python -c 'from tests.test_engine_reference import write; write()'``. A hash per
carnet (8 hex digits, 90 kB) keeps the repository free of a frozen copy of the
engine; on a mismatch the test names the carnet and prints its answers. A change
of the calendar that is meant to change answers rewrites the file with the same
command (say so in the commit).
"""
from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta
from pathlib import Path

from bench.bench_engine import ON, population
from cvn.schedule import engine
from cvn.schedule.catalogue import products
from cvn.schedule.engine import DoseRecord, Person, evaluate

REFERENCE = Path(__file__).parent / "data" / "engine_reference.txt"
SIZE = 10_000


def cases():
    """Yield (person, doses, on) for the 10,000 reference carnets, deterministically."""
    rng = random.Random(14)
    for k, (person, doses) in enumerate(population(SIZE, seed=14)):
        on = ON + timedelta(days=(k % 7 - 3) * 61)
        if k % 5 == 0:
            doses = doses[:]
            rng.shuffle(doses)
        if k % 11 == 0 and doses:
            d = doses[rng.randrange(len(doses))]
            doses = [*doses, DoseRecord(d.date, d.diseases, d.product, True)]
        if "pregnant" in person.flags and k % 2 == 0:
            person = Person(person.birth_date, person.sex, person.flags, on + timedelta(days=rng.randint(-30, 250)))
        yield person, doses, on


def answers(person, doses, on) -> list[tuple]:
    """Return every field of the engine's answer for one carnet."""
    return [(r.disease, r.status, r.next_date, r.dose, r.mandatory, r.reason, r.declared_pending, r.rule, r.source)
            for r in evaluate(person, doses, on)]


def digest(rows) -> str:
    """Return the short hash of one carnet's answers."""
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:8]


def test_engine_gives_the_reference_answers_for_10000_carnets():
    expected = REFERENCE.read_text().split()
    assert len(expected) == SIZE
    wrong = []
    for k, case in enumerate(cases()):
        if digest(answers(*case)) != expected[k]:
            wrong.append(k)
    if wrong:
        person, doses, on = next(c for k, c in enumerate(cases()) if k == wrong[0])
        detail = "\n".join(map(repr, answers(person, doses, on)))
        raise AssertionError(f"{len(wrong)} carnets differ, first #{wrong[0]}: {person!r} on {on}, "
                             f"{len(doses)} doses\n{detail}")


def test_reference_cases_cover_the_rare_paths():
    seen = {"unsorted": 0, "same_day": 0, "term": 0, "after_on": 0, "declared": 0}
    for person, doses, on in cases():
        dates = [d.date for d in doses]
        seen["unsorted"] += dates != sorted(dates)
        seen["same_day"] += len(set(dates)) < len(dates)
        seen["term"] += person.pregnancy_due is not None
        seen["after_on"] += any(d > on for d in dates)
        seen["declared"] += any(not d.validated for d in doses)
    assert min(seen.values()) >= 15, seen


def test_reasons_are_composed_when_read_and_once():
    """The alert pass and the patientèle never read reasons: evaluate() leaves them uncomposed."""
    person, doses, on = next(c for c in cases() if len(c[1]) > 8)
    recs = evaluate(person, doses, on)
    lazy = [r for r in recs if not isinstance(r.why, str)]
    assert len(lazy) >= 3, [r.why for r in recs]
    for r in lazy:
        text = r.reason
        assert isinstance(text, str) and text.endswith(".") and "<function" not in text, text
        assert r.why is text  # composed once, then kept
    assert recs == evaluate(person, doses, on)  # equality compares the composed reasons


def test_forgetting_the_shared_answers_changes_no_answer():
    """Mutation runs empty the memos before each mutant (tests/mutation/selection.py)."""
    some = [c for _, c in zip(range(200), cases())]
    before = [answers(*c) for c in some]
    assert engine._UNDOSED and engine.C._bounds.cache_info().currsize and engine.C._season.cache_info().currsize
    engine.forget_shared_answers()
    assert not engine._UNDOSED and not engine.S._DATES
    # the season bounds too: a mutant of their computation must not be served the unmutated answer
    assert engine.C._bounds.cache_info().currsize == 0 == engine.C._season.cache_info().currsize
    assert [answers(*c) for c in some] == before


def test_answers_are_judged_once_where_they_can_be_shared(monkeypatch):
    """The engine's two shortcuts, seen from the judge: no answer changes, fewer are computed.

    A 76-year-old's second carnet of the same cohort judges only what still depends on
    the birth date (boosters, pertussis, pneumococcus, influenza, covid-19, zoster, RSV);
    diseases given by the same injections (tetanus and polio with diphtheria, mumps and
    rubella with measles) are judged once.
    """
    judged = []
    real = engine._judge
    monkeypatch.setattr(engine, "_judge", lambda prog, ctx, doses: judged.append(prog.code) or real(prog, ctx, doses))
    on = date(2026, 3, 2)
    engine.forget_shared_answers()
    first = evaluate(Person(date(1950, 3, 1), "F"), [], on)
    del judged[:]
    second = evaluate(Person(date(1950, 6, 1), "F"), [], on)
    assert judged == ["diphtheria", "pertussis", "pneumococcus", "influenza", "covid19", "zoster", "rsv"]
    engine.forget_shared_answers()
    monkeypatch.setattr(engine, "_judge", real)
    assert evaluate(Person(date(1950, 6, 1), "F"), [], on) == second and len(first) == len(second)
    monkeypatch.setattr(engine, "_judge", lambda prog, ctx, doses: judged.append(prog.code) or real(prog, ctx, doses))
    del judged[:]
    hexyon = products()["hexyon"]
    doses = [DoseRecord(date(2024, 4, 10), hexyon.diseases, "hexyon"), DoseRecord(date(2024, 6, 10), hexyon.diseases,
                                                                                 "hexyon")]
    infant = evaluate(Person(date(2024, 2, 10), "F"), doses, on)
    assert {"diphtheria", "measles"} <= set(judged) and not {"tetanus", "polio", "mumps", "rubella"} & set(judged)
    by = {r.disease: r for r in infant}
    assert (by["tetanus"].status, by["tetanus"].next_date) == (by["diphtheria"].status, by["diphtheria"].next_date)


def test_a_compiled_engine_is_not_older_than_its_source():
    """`make engine-native` compiles modules that shadow their .py: after an edit, rebuild or remove them."""
    for compiled in Path(engine.__file__).parent.glob("*.so"):
        source = compiled.with_name(compiled.name.split(".")[0] + ".py")
        assert compiled.stat().st_mtime >= source.stat().st_mtime, \
            f"{compiled.name} is older than {source.name}: run `make engine-native` (or `make engine-python`)"


def write() -> None:
    """Rewrite the reference file from the engine as it is."""
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text("\n".join(digest(answers(*case)) for case in cases()) + "\n")
