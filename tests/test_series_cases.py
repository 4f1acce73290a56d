"""Clinical cases of the dose series' rarer paths (cvn/schedule/series.py): travel boosters, adult fixed ages.

Written like tests/test_clinical_cases.py (its helpers and sources), expected answers
from the texts first, against the mutants mutation testing left alive in the series
module. Sources besides those of test_clinical_cases:
  VOY    Calendrier 2025, recommandations sanitaires aux voyageurs: typhoid, a booster
         every 3 years if the exposure goes on;
  IXIARO RCP Ixiaro (Japanese encephalitis): J0, J28, one booster 12 to 24 months after
         the primary series if the exposure goes on (no later booster set);
  HCSP   règles de transition vers le calendrier simplifié (2013): boosters at 25, 45,
         65 years then every 10 years; a fixed age within 5 years of the last booster is
         skipped; more than 25 years (15 from 65) between the last booster and the next
         fixed age: a booster now, then the fixed ages again.
Also unit tests of the fixed-age ladder on parameters the calendar does not use (a
longer maximum gap), where its "appointment missed, wait for the next one" path opens.
"""
from __future__ import annotations

from datetime import date

import pytest

from cvn.schedule import series as S
from cvn.schedule.rules import Series, calendar
from tests.test_clinical_cases import ANY, assert_case, case, dose

BOOSTER = "Rappel (si nouvelle exposition)"

CASES = [
    # ---------------------------------------------------------------- the schedule chosen by the first injection that counts
    case("mmr_dose_before_6_months_then_at_7_months_asks_three", "CAL25 § ROR : dès 6 mois, puis 2 doses à 12 et 16-18 mois",
         "2024-01-15", "2025-03-20", [dose("2024-06-10", "priorix"), dose("2024-08-15", "priorix")],
         {"measles": ("overdue", "2025-01-15", "Dose 2/3", None)}),
    case("adult_pertussis_dose_of_unknown_product_at_25_leaves_nothing_to_do",
         "CAL25 § Coqueluche : rappel dTcaP à 25 ans ; calendar.toml : injection de produit inconnu dès 16 ans",
         "1990-01-01", "2026-01-01", [dose("2015-01-01", covers=("diphtheria", "tetanus", "pertussis", "polio"))],
         {"pertussis": ("complete", None, ANY, None)}),
    case("pertussis_dose_on_the_20th_birthday_does_not_replace_the_25_year_dose",
         "CAL25 § Coqueluche : dTcaP à 25 ans, sauf rappel coquelucheux depuis moins de 5 ans",
         "1995-01-01", "2021-01-01", [dose("2015-01-01", "boostrixtetra")],
         {"pertussis": ("overdue", "2020-01-01", "Rappel 25 ans (dTcaP)", None)}),
    case("pertussis_dose_the_day_after_the_20th_birthday_stands_for_the_25_year_dose",
         "CAL25 § Coqueluche : rappel coquelucheux depuis moins de 5 ans à 25 ans",
         "1995-01-01", "2021-01-01", [dose("2015-01-02", "boostrixtetra")],
         {"pertussis": ("complete", None, ANY, "2 janvier 2015")}),
    # ---------------------------------------------------------------- travel boosters
    case("typhoid_next_booster_counts_from_the_last_booster", "VOY : rappel tous les 3 ans",
         "1980-01-01", "2023-01-01",
         [dose("2016-03-01", "typhim_vi"), dose("2019-03-01", "typhim_vi"), dose("2022-06-01", "typhim_vi")],
         {"typhoid": ("up_to_date", "2025-06-01", BOOSTER, "possible à partir du 1er juin 2025")}),
    case("typhoid_booster_not_pushed_once_3_years_passed", "VOY : rappel seulement si l'exposition se renouvelle",
         "1980-01-01", "2022-03-01", [dose("2019-03-01", "typhim_vi")],
         {"typhoid": ("not_recommended", None, None, "rappel possible depuis le 1er mars 2022")}),
    case("typhoid_booster_the_day_before_3_years", "VOY : rappel à 3 ans",
         "1980-01-01", "2022-02-28", [dose("2019-03-01", "typhim_vi")],
         {"typhoid": ("up_to_date", "2022-03-01", BOOSTER, None)}),
    case("japanese_encephalitis_booster_a_year_after_the_primary_series", "IXIARO : rappel 12 à 24 mois après",
         "1980-01-01", "2024-06-01", [dose("2024-01-10", "ixiaro"), dose("2024-02-07", "ixiaro")],
         {"japanese_encephalitis": ("up_to_date", "2025-02-07", BOOSTER, None)}),
    case("japanese_encephalitis_complete_after_its_booster", "IXIARO : un rappel, pas d'autre rappel établi",
         "1980-01-01", "2025-06-01",
         [dose("2024-01-10", "ixiaro"), dose("2024-02-07", "ixiaro"), dose("2025-03-01", "ixiaro")],
         {"japanese_encephalitis": ("complete", None, ANY, None)}),
]

PARAMS = [pytest.param(*c[1:], id=c[0]) for c in CASES]


@pytest.mark.parametrize("source, birth, on, doses, expect, sex, flags, due", PARAMS)
def test_series_case(source, birth, on, doses, expect, sex, flags, due):
    assert_case(source, birth, on, doses, expect, sex, flags, due)


def _ladder(**changes) -> Series:
    """Return the adult fixed-age boosters (dtp_adult) of the calendar, with some parameters changed."""
    from cvn.schedule.rules import load_raw

    raw = next(s for s in load_raw()["series"] if s["id"] == "dtp_adult")
    return Series({**raw, **changes}, (24, 0))


def _booster(when: date) -> tuple:
    """Return an injection as the engine hands it to the series (ordinal, month index, day, product)."""
    return (when.toordinal(), S.month_index(when), when.day, None)


def _judge_ladder(s, birth: date, on: date, boosters):
    status, rec, label, text, used = S.run_ladder(s, S.Ctx(birth, "F", frozenset(), on, calendar()),
                                                   [_booster(b) for b in boosters], None)[1:6]
    return status, date.fromordinal(rec), label, text, used


def test_ladder_without_any_booster_starts_at_25_years():
    """HCSP: the first fixed age is 25 years; the reason says no booster is recorded."""
    status, rec, label, text, used = _judge_ladder(_ladder(), date(2000, 1, 1), date(2024, 6, 1), [])
    assert (status, rec, label, used) == (S.UP_TO_DATE, date(2025, 1, 1), "Rappel 25 ans", [])
    assert text == "Rappel 25 ans : à faire à partir du 1er janvier 2025 (aucun rappel enregistré)"


def test_ladder_without_any_booster_long_past_25_is_a_booster_now():
    """HCSP: no booster at all and the 25-year appointment past: a booster now, then the fixed ages."""
    status, rec, label, text, used = _judge_ladder(_ladder(), date(1990, 1, 1), date(2026, 6, 1), [])
    assert (status, rec, label, used) == (S.OVERDUE, date(2015, 1, 1), "Rappel 25 ans", [])
    assert "(aucun rappel enregistré)" in text and "prochain rendez-vous à âge fixe (45 ans)" in text


def test_ladder_a_missed_appointment_waits_for_the_next_when_the_gap_allows():
    """With a 30-year maximum gap (the calendar's is 25), a booster at 35 and the 45-year appointment missed:

    35 + 30 = 65, not beyond the 65-year appointment, so it waits for it. (With the
    calendar's parameters this path never opens: see the fixed-age cases.)
    """
    s = _ladder(max_gap="30y")
    status, rec, label, text, used = _judge_ladder(s, date(1970, 1, 1), date(2017, 6, 1), [date(2005, 1, 1)])
    assert (status, rec, label) == (S.UP_TO_DATE, date(2035, 1, 1), "Rappel 65 ans")
    assert text == "Rappel 65 ans : à faire à partir du 1er janvier 2035. Rendez-vous de 45 ans manqué"
    assert [u[0] for u in used] == [date(2005, 1, 1).toordinal()]
    # One day more than the gap allows: a booster now.
    status, *_ = _judge_ladder(s, date(1970, 1, 1), date(2017, 6, 1), [date(2004, 12, 31)])
    assert status == S.OVERDUE


def test_ladder_the_day_a_fixed_age_booster_becomes_overdue():
    """HCSP, worked example 35/18 (booster now, then 45) shifted: a booster at 22, the 45-year appointment.

    Due for a year from the 45th birthday (the calendar's tolerance), then the
    25-year gap rule speaks: more than 25 years from the last booster to 65.
    """
    s, birth, boosters = _ladder(), date(1980, 1, 1), [date(2002, 1, 1)]
    status, rec, label, text, _ = _judge_ladder(s, birth, date(2025, 12, 31), boosters)
    assert (status, rec, label) == (S.DUE, date(2025, 1, 1), "Rappel 45 ans")
    assert "Rendez-vous de 25 ans sauté" in text
    status, rec, label, text, _ = _judge_ladder(s, birth, date(2026, 1, 1), boosters)
    assert (status, rec, label) == (S.OVERDUE, date(2025, 1, 1), "Rappel 45 ans")
    assert "Plus de 25 ans séparent le dernier rappel du prochain rendez-vous à âge fixe (65 ans)" in text


def test_ladder_on_a_fixed_age_birthday_that_age_is_the_next_appointment():
    """HCSP: on the 65th birthday, with the 45-year appointment missed, the next fixed age is 65 (today)."""
    status, _, _, text, _ = _judge_ladder(_ladder(), date(1961, 1, 1), date(2026, 1, 1), [date(1983, 1, 1)])
    assert status == S.OVERDUE and "prochain rendez-vous à âge fixe (65 ans)" in text


def test_the_person_s_flags_are_kept_as_a_frozen_set_whatever_they_are_given_as():
    """The engine keys shared answers by the flags: a list or a set given by a caller must become a frozenset."""
    for given in (["pregnant"], {"pregnant"}, frozenset({"pregnant"})):
        ctx = S.Ctx(date(1995, 4, 1), "F", given, date(2025, 6, 1), calendar())
        assert type(ctx.flags) is frozenset and ctx.flags == {"pregnant"}
    assert S.Ctx(date(1995, 4, 1), "F", frozenset(), date(2025, 6, 1), calendar()).vname is None
