"""Clinical cases of the dose series (cvn/schedule/series.py): the schedule chosen at its boundaries, rarer paths.

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
DTP = ("diphtheria", "tetanus", "polio")
PCV = "Dose unique (vaccin conjugué 20 ou 21-valent)"

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
    # ---------------------------------------------------------------- the schedule chosen at its boundaries
    case("hib_first_dose_at_exactly_6_weeks_starts_the_infant_schedule",
         "CAL25 § Hib : 2, 4 et 11 mois ; RCP (vaccins hexavalents) : dès 6 semaines",
         "2015-03-15", "2016-05-30", [dose("2015-04-26", covers=("hib",))],
         {"hib": ("overdue", "2015-07-15", "Dose 2/3", "Dose comptée : 26 avril 2015")}),
    case("hepatitis_b_dose_on_the_day_of_birth_starts_the_infant_schedule",
         "CAL25 § Hépatite B : 2, 4 et 11 mois ; calendar.toml : 1re dose de la naissance à 12 mois",
         "2015-03-15", "2015-03-15", [dose("2015-03-15", covers=("hepatitis_b",))],
         {"hepatitis_b": ("up_to_date", "2015-07-15", "Dose 2/3", "Dose comptée : 15 mars 2015")}),
    # A yellow fever dose before 6 months never counts, whatever the schedule, and the next is
    # not asked for before 6 months.
    case("yellow_fever_dose_on_the_day_of_birth_waits_for_6_months",
         "CAL25 § Fièvre jaune : enfants vaccinés avant 2 ans, 2 doses ; RCP Stamaril : pas avant 6 mois",
         "2015-03-15", "2015-03-15", [dose("2015-03-15", "stamaril")],
         {"yellow_fever": ("up_to_date", "2015-09-15", "Dose 1/2",
                           "à faire à partir du 15 septembre 2015 (dès 6 mois). Aucune dose comptée. "
                           "Dose du 15 mars 2015 non comptée (avant l'âge minimal de 6 mois)")}),
    case("yellow_fever_dose_at_5_months_asked_again_on_the_6_month_day",
         "CAL25 § Fièvre jaune : enfants vaccinés avant 2 ans, 2 doses ; RCP Stamaril : pas avant 6 mois",
         "2015-03-15", "2015-09-15", [dose("2015-08-15", "stamaril")],
         {"yellow_fever": ("due", "2015-09-15", "Dose 1/2", "à faire maintenant, depuis le 15 septembre 2015. Aucune")}),
    case("yellow_fever_dose_at_5_months_of_a_child_living_with_hiv",
         "CAL25 § Fièvre jaune : personnes vivant avec le VIH, 2 doses ; RCP Stamaril : pas avant 6 mois",
         "2021-03-15", "2024-06-01", [dose("2021-08-15", "stamaril")],
         {"yellow_fever": ("due", "2024-06-01", "Dose 1/2",
                           "à faire maintenant, depuis le 1er juin 2024. Aucune dose comptée. "
                           "Dose du 15 août 2021 non comptée (avant l'âge minimal de 6 mois)")}, flags=("hiv",)),
    case("yellow_fever_dose_at_5_months_then_a_single_dose_at_3_years",
         "CAL25 § Fièvre jaune : dose unique ; RCP Stamaril : pas avant 6 mois",
         "2021-03-15", "2024-06-01", [dose("2021-08-15", "stamaril")],
         {"yellow_fever": ("due", "2024-06-01", "Dose unique", "non comptée (avant l'âge minimal de 6 mois)")}),
    # The adult catch-up (DECISION, calendar.toml): a second injection within a year of the first.
    case("dtp_adult_catch_up_second_dose_the_day_before_a_year",
         "CAL25 § Diphtérie-tétanos-poliomyélite, rattrapage de l'adulte : M0, M2, M8-M12 ; calendar.toml (DECISION)",
         "2015-03-15", "2032-09-10",
         [dose("2031-03-15", covers=DTP), dose("2032-03-14", covers=DTP), dose("2032-09-10", covers=DTP)],
         {"diphtheria": ("up_to_date", "2032-09-14", "Dose 3/3 du rattrapage",
                         "Dose du 10 septembre 2032 non comptée (moins de 6 mois après la précédente)")}),
    case("dtp_second_adult_injection_exactly_a_year_later_is_a_booster",
         "calendar.toml (DECISION) : une seconde injection dans l'année ; HCSP : rappel à 25 ans",
         "2015-01-31", "2032-01-31", [dose("2031-01-31", covers=DTP), dose("2032-01-31", covers=DTP)],
         {"diphtheria": ("up_to_date", "2040-01-31", "Rappel 25 ans", "supposée faite")}),
    # An injection of unknown product from 16 years proves the primary series (DECISION).
    case("dtp_injection_of_unknown_product_on_the_16th_birthday_proves_the_primary_series",
         "calendar.toml (DECISION) : injection de produit inconnu dès 16 ans ; HCSP : rappel à 25 ans",
         "2005-06-01", "2026-11-30", [dose("2021-06-01", covers=DTP)],
         {"diphtheria": ("up_to_date", "2030-06-01", "Rappel 25 ans", "supposée faite")}),
    case("dtp_injection_of_unknown_product_the_day_before_16_years_is_a_first_dose",
         "calendar.toml (DECISION) : injection de produit inconnu dès 16 ans",
         "2005-06-01", "2026-11-30", [dose("2021-05-31", covers=DTP)],
         {"diphtheria": ("overdue", "2021-07-31", "Dose 2/3", "Dose comptée : 31 mai 2021")}),
    case("dtp_full_dose_vaccine_at_20_proves_nothing",
         "calendar.toml (DECISION) : seule une injection de produit inconnu dès 16 ans témoigne d'une primovaccination",
         "2000-01-01", "2020-06-01", [dose("2020-01-01", "tetravac")],
         {"diphtheria": ("overdue", "2020-03-01", "Dose 2/3", "Dose comptée : 1er janvier 2020")}),
    # ---------------------------------------------------------------- birth cohorts, first and last day
    case("mmr_catch_up_for_someone_born_on_1_january_1980", "CAL25 § ROR : 2 doses pour toute personne née depuis 1980",
         "1980-01-01", "2026-11-30", [], {"measles": ("overdue", "1981-01-01", "Dose 1/2", None)}),
    case("mmr_not_for_someone_born_on_31_december_1979", "CAL25 § ROR : personnes nées depuis 1980",
         "1979-12-31", "2026-11-30", [], {"measles": ("not_recommended", None, None, "nées depuis 1980")}),
    case("meningococcus_acwy_at_6_and_12_months_from_the_2025_cohort",
         "CAL25 § Méningocoques : ACWY à 6 et 12 mois pour les enfants nés depuis le 1er janvier 2025",
         "2025-01-01", "2025-04-01", [],
         {"meningococcus_c": ("up_to_date", "2025-07-01", "Dose 1/2", "ACWY du nourrisson")}),
    case("meningococcus_c_at_5_months_the_day_before_the_2025_cohort",
         "CAL25 § Méningocoques : MenC à 5 et 12 mois pour les enfants nés avant 2025",
         "2024-12-31", "2025-04-01", [],
         {"meningococcus_c": ("up_to_date", "2025-05-31", "Dose 1/2", "Méningocoque C")}),
    # ---------------------------------------------------------------- dates and bases of the next dose
    case("pneumococcus_conjugate_a_year_after_a_polysaccharide_alone",
         "HAS-P : VPC20 au moins 1 an après un VPP23 seul", "1970-05-01", "2020-09-01", [dose("2020-06-01", "pneumovax")],
         {"pneumococcus": ("up_to_date", "2021-06-01", PCV,
                           "(12 mois après la dose d'un autre vaccin le 1er juin 2020). Aucune dose comptée. Dose du "
                           "1er juin 2020 non comptée (vaccin qui ne convient pas pour cette dose)")},
         flags=("chronic_heart_lung",)),
    case("pneumococcus_conjugate_5_years_after_a_sequential_polysaccharide",
         "HAS-P : VPC20 au moins 5 ans après un schéma séquentiel VPC13 puis VPP23", "1970-05-01", "2022-01-01",
         [dose("2018-01-10", "prevenar13"), dose("2018-03-15", "pneumovax")],
         {"pneumococcus": ("up_to_date", "2023-03-15", PCV,
                           "(5 ans après le vaccin polyosidique du 15 mars 2018, donné après un vaccin conjugué)")},
         flags=("chronic_heart_lung",)),
    # When the wait after another vaccine ends on the 65th birthday, the age is the reason.
    case("pneumococcus_wait_after_another_vaccine_ending_at_65_names_the_age",
         "HAS-P : VPC20 dès 65 ans, au moins 1 an après un VPP23", "1960-05-01", "2024-12-01",
         [dose("2024-05-01", "pneumovax")], {"pneumococcus": ("up_to_date", "2025-05-01", PCV, "(dès 65 ans)")}),
    case("pneumococcus_wait_after_a_polysaccharide_ending_at_65_names_the_age",
         "HAS-P : VPC20 dès 65 ans, au moins 5 ans après un VPP23 donné après un VPC13", "1960-05-01", "2024-12-01",
         [dose("2018-03-01", "prevenar13"), dose("2020-05-01", "pneumovax")],
         {"pneumococcus": ("up_to_date", "2025-05-01", PCV, "(dès 65 ans)")}),
    case("meningococcus_acwy_catch_up_at_12_months_on_the_day_it_opened",
         "CAL25 § Méningocoques : rattrapage ACWY obligatoire à 12 mois à partir du 1er janvier 2025",
         "2024-01-01", "2024-10-01", [],
         {"meningococcus_acwy": ("up_to_date", "2025-01-01", "Dose unique (12 mois)", "(à 12 mois)")}),
    case("meningococcus_acwy_catch_up_more_than_a_year_away_names_the_age_it_will_be",
         "CAL25 § Méningocoques : rattrapage ACWY à partir du 1er janvier 2025 ; DECISION : « plus tard » à un an ou plus",
         "2023-08-01", "2023-12-01", [],
         {"meningococcus_acwy": ("not_yet", "2025-01-01", "Dose unique (12 mois)",
                                 "Plus tard — à partir de 17 mois, le 1er janvier 2025.")}),
    case("hpv_first_dose_exactly_a_year_away_is_for_later", "CAL25 § HPV : dès 11 ans ; DECISION : « plus tard » à un an ou plus",
         "2015-06-01", "2025-06-01", [],
         {"hpv": ("not_yet", "2026-06-01", "Dose 1/2", "Plus tard — à partir de 11 ans, le 1er juin 2026.")}),
    case("hpv_first_dose_a_year_less_a_day_away", "CAL25 § HPV : entre 11 et 14 ans",
         "2015-06-01", "2025-06-02", [], {"hpv": ("up_to_date", "2026-06-01", "Dose 1/2", "(entre 11 et 14 ans)")}),
    # The pneumococcal catch-up stops at 2 years: a second dose that would fall on the 2nd birthday is not asked.
    case("pneumococcus_catch_up_second_dose_falling_on_the_2nd_birthday_is_not_asked",
         "CAL25 § Pneumocoque : rattrapage jusqu'à 23 mois, 2 doses à 2 mois d'intervalle ; HAS-P : dès 65 ans",
         "2020-01-15", "2021-12-01", [dose("2021-11-15", "prevenar13")],
         {"pneumococcus": ("up_to_date", "2085-01-15", PCV, "Dose comptée : 15 novembre 2021")}),
    case("pneumococcus_catch_up_second_dose_the_day_before_the_2nd_birthday",
         "CAL25 § Pneumocoque : rattrapage jusqu'à 23 mois, 2 doses à 2 mois d'intervalle",
         "2020-01-15", "2021-12-01", [dose("2021-11-14", "prevenar13")],
         {"pneumococcus": ("up_to_date", "2022-01-14", "Dose 2/2 (rattrapage)", None)}),
    # A dose whose window closes the day it opens (MMR 2 by 18 months, i.e. before 19, a month after a
    # first dose at 18) gets the infant month of tolerance: due that day, not overdue.
    case("mmr_second_dose_due_on_the_day_its_window_closes", "CAL25 § ROR : 2e dose entre 16 et 18 mois, 1 mois après la 1re",
         "2020-01-15", "2021-08-15", [dose("2021-07-15", "priorix")],
         {"measles": ("due", "2021-08-15", "Dose 2/2", None)}),
    # A dose without an age falling on the 2nd birthday gets the adult year of tolerance.
    case("hepatitis_b_catch_up_dose_due_on_the_2nd_birthday_has_a_year_of_tolerance",
         "CAL25 § Hépatite B : rattrapage ; calendar.toml : tolérance d'un mois avant 2 ans, d'un an ensuite",
         "2020-01-15", "2022-02-16", [dose("2021-12-15", covers=("hepatitis_b",))],
         {"hepatitis_b": ("due", "2022-01-15", "Dose 2/3", None)}),
    case("meningococcus_b_first_dose_on_the_2nd_birthday_starts_nothing", "CAL25 § Méningocoque B : à débuter avant 2 ans",
         "2023-03-01", "2025-04-01", [dose("2025-03-01", "bexsero")],
         {"meningococcus_b": ("not_recommended", None, None, "Plus proposé après 2 ans")}),
    case("meningococcus_b_first_dose_the_day_before_2_years", "CAL25 § Méningocoque B : à débuter avant 2 ans",
         "2023-03-01", "2025-04-01", [dose("2025-02-28", "bexsero")],
         {"meningococcus_b": ("up_to_date", "2025-04-28", "Dose 2/3", None)}),
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
