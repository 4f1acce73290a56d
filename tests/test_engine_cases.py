"""Clinical cases of the engine's own rules (cvn/schedule/engine.py): live-vaccine spacing, shared answers, overlays.

Written like tests/test_clinical_cases.py (its helpers and sources), the expected
answers from the texts first, against the mutants mutation testing left alive in
the engine module:
  CAL25  § Généralités: two live vaccines are given the same day or at least 28 days
         apart; a live vaccine given 1 to 27 days after another one does not count
         (measured from the last live vaccine that counted);
  HAS-C  pertussis in pregnancy from 20 weeks (SA).
"""
from __future__ import annotations

import pytest

from tests.test_clinical_cases import ANY, assert_case, case, dose

CASES = [
    # Three live vaccines within one calendar month: MMR on the 2nd counts; varicella 10 days
    # and yellow fever 20 days after it do not (each measured from the MMR, the last that counted).
    case("three_live_vaccines_in_one_month_only_the_first_counts",
         "CAL25 § Généralités : deux vaccins vivants le même jour ou à au moins 28 jours d'intervalle",
         "2000-03-01", "2025-07-01",
         [dose("2025-06-02", "priorix"), dose("2025-06-12", "varivax"), dose("2025-06-22", "stamaril")],
         {"measles": ("up_to_date", "2025-07-02", "Dose 2/2", None),
          "varicella": ("due", ANY, "Dose 1/2", "10 jours après un autre vaccin vivant"),
          "yellow_fever": ("due", ANY, "Dose unique", "20 jours après un autre vaccin vivant")}),
    # Two live vaccines one day apart, a third three months later: the second does not count,
    # the third (89 days after the yellow fever vaccine, the last that counted) does.
    case("live_vaccine_the_day_after_another_does_not_count_among_three",
         "CAL25 § Généralités : deux vaccins vivants le même jour ou à au moins 28 jours d'intervalle",
         "2000-03-01", "2025-04-20",
         [dose("2025-01-15", "stamaril"), dose("2025-01-16", "priorix"), dose("2025-04-15", "varivax")],
         {"yellow_fever": ("complete", None, None, None),
          "measles": ("overdue", "2001-03-01", "Dose 1/2", "vaccin vivant donné 1 jours après"),
          "varicella": ("up_to_date", "2025-05-13", "Dose 2/2", None)}),
    # A rubella-only line (the monovalent vaccine of the 1970s-80s) for a woman born before 1980:
    # measles, mumps and rubella share their series; measles, with no injection, takes the answer
    # shared by everyone of her cohort, and rubella must still be judged (it crashed: KeyError).
    case("rubella_only_dose_of_a_woman_born_before_1980",
         "CAL25 § ROR : 2 doses pour les personnes nées depuis 1980",
         "1975-05-01", "2026-11-30", [dose("1992-01-01", covers=("rubella",))],
         {"measles": ("not_recommended", None, None, "nées depuis 1980"),
          "rubella": ("not_recommended", None, None, "nées depuis 1980")}),
    # ---------------------------------------------------------------- the pregnancy overlay's reason
    case("pertussis_in_pregnancy_with_only_a_dose_before_20_weeks_counts_none", "HAS-C : à partir de 20 SA",
         "1995-04-01", "2025-12-15", [dose("2025-10-04", "boostrixtetra")],
         {"pertussis": ("due", "2025-10-05", "Dose de grossesse", "Aucune dose comptée.")},
         flags=("pregnant",), due="2026-03-01"),
]

PARAMS = [pytest.param(*c[1:], id=c[0]) for c in CASES]


@pytest.mark.parametrize("source, birth, on, doses, expect, sex, flags, due", PARAMS)
def test_engine_case(source, birth, on, doses, expect, sex, flags, due):
    assert_case(source, birth, on, doses, expect, sex, flags, due)
