"""The status engine against the French calendar, and the ``forecast`` command.

Every expected status and date below was worked out by hand from the rules in
cvn/schedule/data/calendar.toml (ages, intervals, tolerance of one month before
2 years and one year after, exclusive window ends); the comment of each case
shows the arithmetic.
"""
from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest
from click.testing import CliRunner

from cvn.schedule.catalogue import diseases, products
from cvn.schedule.engine import DoseRecord, Person, Recommendation, evaluate
from cvn.schedule.forecast import forecast_command

D = date.fromisoformat


def dose(when: str, product: str | None = None, covers: tuple[str, ...] = (), validated: bool = True) -> DoseRecord:
    """Return a dose by product code (its diseases from the catalogue) or by diseases."""
    covered = tuple(covers) or products()[product].diseases
    return DoseRecord(D(when), covered, product, validated)


def hexa(*dates: str) -> list[DoseRecord]:
    return [dose(d, "hexyon") for d in dates]


DTP = ("diphtheria", "tetanus", "polio")
MMR = ("measles", "mumps", "rubella")

# (id, birth, sex, flags, doses, on, {disease: (status, next_date or None)})
CASES = [
    # ---- infant series, on time and late
    ("newborn_waits_for_2_months", "2025-03-10", "F", (), [], "2025-04-01",
     {**{d: ("up_to_date", "2025-05-10") for d in DTP}, "pertussis": ("up_to_date", "2025-05-10"),
      "hib": ("up_to_date", "2025-05-10"), "hepatitis_b": ("up_to_date", "2025-05-10"),
      "pneumococcus": ("up_to_date", "2025-05-10"), "rotavirus": ("up_to_date", "2025-05-10"),
      "meningococcus_b": ("up_to_date", "2025-06-10"),        # 3 months
      "meningococcus_acwy": ("up_to_date", "2025-09-10"),     # 6 months (born 2025)
      "meningococcus_c": ("up_to_date", "2025-09-10"),        # covered by the ACWY series
      "measles": ("up_to_date", "2026-03-10")}),              # 12 months
    ("first_dose_due_within_a_month", "2025-03-10", "F", (), [], "2025-05-20",
     {"diphtheria": ("due", "2025-05-10"), "rotavirus": ("due", "2025-05-10")}),
    ("first_dose_still_due_on_last_day", "2025-03-10", "M", (), [], "2025-06-09",
     {"diphtheria": ("due", "2025-05-10")}),                  # tolerance ends 10/06 (exclusive)
    ("first_dose_overdue_after_a_month", "2025-03-10", "M", (), [], "2025-06-10",
     {"diphtheria": ("overdue", "2025-05-10")}),
    ("second_dose_at_4_months", "2025-03-10", "F", (), hexa("2025-05-10"), "2025-06-01",
     {"diphtheria": ("up_to_date", "2025-07-10"), "hib": ("up_to_date", "2025-07-10"),
      "hepatitis_b": ("up_to_date", "2025-07-10")}),
    ("late_first_dose_pushes_the_second", "2025-01-15", "F", (), hexa("2025-05-20"), "2025-06-01",
     {"diphtheria": ("up_to_date", "2025-07-20")}),           # max(4 months 15/05, 20/05 + 2 months)
    ("late_series_resumes_at_dose_2", "2024-01-05", "M", (), hexa("2024-03-05"), "2025-01-10",
     {"diphtheria": ("overdue", "2024-05-05"), "pertussis": ("overdue", "2024-05-05")}),
    ("caught_up_dose_2_then_6_months_to_dose_3", "2024-01-05", "M", (), hexa("2024-03-05", "2024-12-01"),
     "2025-01-10", {"diphtheria": ("up_to_date", "2025-06-01")}),  # 01/12/2024 + 6 months > 11 months
    ("infant_series_done_next_booster_at_6", "2020-02-01", "F", (),
     hexa("2020-04-01", "2020-06-01", "2021-01-01"), "2023-01-01",
     {"diphtheria": ("up_to_date", "2026-02-01"), "pertussis": ("up_to_date", "2026-02-01"),
      "hib": ("complete", None), "hepatitis_b": ("complete", None)}),
    ("booster_at_6_due_for_a_year", "2019-03-01", "M", (), hexa("2019-05-01", "2019-07-01", "2020-02-01"),
     "2025-06-01", {"diphtheria": ("due", "2025-03-01")}),
    ("missed_6_year_booster_merges_into_11_13", "2013-01-10", "F", (),
     hexa("2013-03-10", "2013-05-10", "2013-12-10"), "2024-03-01",
     {"diphtheria": ("due", "2024-01-10"), "pertussis": ("due", "2024-01-10")}),
    ("adolescent_booster_overdue_after_13", "2013-01-10", "F", (),
     hexa("2013-03-10", "2013-05-10", "2013-12-10"), "2027-06-01",
     {"diphtheria": ("overdue", "2024-01-10")}),              # window 11-13 ends 10/01/2027
    ("hib_catch_up_single_dose_at_3", "2022-01-01", "M", (), [], "2025-01-10",
     {"hib": ("overdue", "2023-01-01")}),
    ("hib_not_after_5", "2022-01-01", "M", (), [], "2027-02-01", {"hib": ("not_recommended", None)}),
    ("hepatitis_b_two_doses_with_adult_vaccine_at_12", "2012-01-01", "F", (),
     [dose("2024-06-01", "engerix_b20")], "2024-09-01", {"hepatitis_b": ("up_to_date", "2024-12-01")}),
    ("rotarix_series_complete", "2025-01-01", "F", (), [dose("2025-03-01", "rotarix"), dose("2025-04-01", "rotarix")],
     "2025-05-01", {"rotavirus": ("complete", None)}),
    ("rotateq_third_dose_due", "2025-01-01", "F", (), [dose("2025-03-01", "rotateq"), dose("2025-04-01", "rotateq")],
     "2025-05-10", {"rotavirus": ("due", "2025-05-01")}),
    ("rotavirus_not_started_by_16_weeks", "2024-06-01", "M", (), [], "2024-10-01",
     {"rotavirus": ("not_recommended", None)}),
    ("bcg_for_a_child_at_risk", "2025-01-01", "M", ("bcg_risk",), [], "2025-02-10",
     {"tuberculosis": ("due", "2025-02-01")}),
    ("bcg_not_without_risk", "2025-01-01", "M", (), [], "2025-02-10", {"tuberculosis": ("not_recommended", None)}),
    ("bcg_contraindicated_when_immunocompromised", "2025-01-01", "M", ("bcg_risk", "immunocompromised"), [],
     "2025-02-10", {"tuberculosis": ("not_recommended", None)}),
    # ---- measles, mumps, rubella
    ("mmr_complete_after_two_doses", "2019-05-01", "F", (),
     [dose("2020-05-01", "priorix"), dose("2020-09-15", "priorix")], "2025-01-01",
     {d: ("complete", None) for d in MMR}),
    ("mmr_second_dose_window_16_18_months", "2023-06-01", "M", (), [dose("2024-06-03", "priorix")], "2024-10-15",
     {d: ("due", "2024-10-01") for d in MMR}),
    ("mmr_dose_before_12_months_needs_two_more", "2023-01-10", "F", (), [dose("2023-09-01", "priorix")],
     "2024-01-20", {"measles": ("due", "2024-01-10")}),
    ("mmr_catch_up_for_adult_born_1990", "1990-04-01", "M", (), [], "2025-01-01",
     {"measles": ("overdue", "1991-04-01")}),
    ("mmr_not_for_born_before_1980", "1975-06-01", "F", (), [], "2025-01-01",
     {"measles": ("not_recommended", None)}),
    ("mmr_contraindicated_in_pregnancy", "1995-02-01", "F", ("pregnant",), [dose("1996-02-05", "priorix")],
     "2025-01-01", {"rubella": ("not_recommended", None)}),
    # ---- meningococci: the 2025 change
    ("born_2025_acwy_at_6_months_menb_late", "2025-02-01", "F", (), [], "2025-08-10",
     {"meningococcus_acwy": ("due", "2025-08-01"), "meningococcus_c": ("due", "2025-08-01"),
      "meningococcus_b": ("overdue", "2025-05-01")}),
    ("born_2025_acwy_done_next_at_11", "2025-02-01", "F", (),
     [dose("2025-08-01", "nimenrix"), dose("2026-02-03", "nimenrix")], "2026-06-01",
     {"meningococcus_acwy": ("up_to_date", "2036-02-01"), "meningococcus_c": ("complete", None)}),
    ("born_2024_menc_at_5_months_then_acwy_at_12", "2024-06-15", "M", (), [dose("2024-11-15", "neisvac")],
     "2025-03-01", {"meningococcus_c": ("up_to_date", "2025-06-15"),
                    "meningococcus_acwy": ("up_to_date", "2025-06-15")}),
    ("born_sept_2023_acwy_catch_up_from_2025", "2023-09-20", "F", (),
     [dose("2024-02-20", "neisvac"), dose("2024-09-20", "neisvac")], "2025-02-10",
     {"meningococcus_c": ("complete", None), "meningococcus_acwy": ("overdue", "2025-01-01"),
      "meningococcus_b": ("overdue", "2023-12-20")}),
    ("born_march_2023_menb_recommended_until_2", "2023-03-01", "M", (), [], "2025-01-10",
     {"meningococcus_b": ("overdue", "2023-06-01")}),
    ("born_march_2023_menb_not_after_2", "2023-03-01", "M", (), [], "2025-03-02",
     {"meningococcus_b": ("not_recommended", None)}),
    ("teenager_acwy_dose_11_14", "2012-05-05", "F", (), [], "2025-01-15",
     {"meningococcus_acwy": ("due", "2023-05-05")}),
    ("acwy_catch_up_at_16", "2012-05-05", "F", (), [], "2028-06-01", {"meningococcus_acwy": ("overdue", "2023-05-05")}),
    ("acwy_not_after_24", "2012-05-05", "F", (), [], "2037-06-01", {"meningococcus_acwy": ("not_recommended", None)}),
    # ---- adult dTP re-alignment
    ("dtp_age_33_last_at_30_next_45", "1990-03-01", "M", (), [dose("2020-05-01", "revaxis")], "2023-06-01",
     {d: ("up_to_date", "2035-03-01") for d in DTP}),
    ("dtp_age_43_last_at_40_skips_45", "1980-03-01", "F", (), [dose("2020-06-01", "revaxis")], "2023-06-01",
     {"diphtheria": ("up_to_date", "2045-03-01")}),
    ("dtp_last_exactly_5_years_before_45_skips_it", "1980-03-01", "F", (), [dose("2020-03-01", "revaxis")],
     "2023-06-01", {"diphtheria": ("up_to_date", "2045-03-01")}),  # « plus de cinq ans » required
    ("dtp_age_35_last_at_18_now", "1990-03-01", "M", (), [dose("2008-03-15", "revaxis")], "2025-04-01",
     {"diphtheria": ("overdue", "2015-03-01"), "pertussis": ("overdue", "2015-03-01")}),
    ("dtp_age_35_after_catch_up_next_45", "1990-03-01", "M", (),
     [dose("2008-03-15", "revaxis"), dose("2025-04-01", "repevax")], "2025-05-01",
     {"diphtheria": ("up_to_date", "2035-03-01"), "pertussis": ("complete", None)}),
    ("dtp_age_43_catch_up_then_65", "1982-01-10", "F", (),
     [dose("2000-01-20", "revaxis"), dose("2025-02-01", "revaxis")], "2025-03-01",
     {"diphtheria": ("up_to_date", "2047-01-10")}),
    ("dtp_due_at_45", "1980-05-10", "M", (), [dose("2005-06-01", "revaxis")], "2025-08-01",
     {"diphtheria": ("due", "2025-05-10")}),
    ("dtp_after_65_skips_65_goes_to_75", "1950-02-01", "F", (), [dose("2012-03-01", "revaxis")], "2024-06-01",
     {"diphtheria": ("up_to_date", "2025-02-01")}),
    ("dtp_elderly_more_than_15_years", "1940-02-01", "M", (), [dose("2000-01-01", "revaxis")], "2024-06-01",
     {"diphtheria": ("overdue", "2005-02-01")}),
    # ---- pertussis in pregnancy
    ("pregnant_needs_pertussis_dose", "1995-02-01", "F", ("pregnant",), [dose("2020-03-01", "repevax")],
     "2025-01-10", {"pertussis": ("due", None)}),
    ("pregnant_pertussis_dose_given", "1995-02-01", "F", ("pregnant",),
     [dose("2020-03-01", "repevax"), dose("2024-11-20", "boostrixtetra")], "2025-01-10",
     {"pertussis": ("up_to_date", None)}),
    # ---- HPV: 2 or 3 doses by age at the first
    ("hpv_first_at_12_second_6_months_later", "2012-05-05", "F", (), [dose("2024-09-01", "gardasil9")], "2025-01-15",
     {"hpv": ("up_to_date", "2025-03-01")}),
    ("hpv_two_doses_complete", "2012-05-05", "F", (),
     [dose("2024-09-01", "gardasil9"), dose("2025-03-10", "gardasil9")], "2025-06-01", {"hpv": ("complete", None)}),
    ("hpv_first_at_16_three_doses", "2008-05-05", "M", (),
     [dose("2024-09-01", "gardasil9"), dose("2024-11-05", "gardasil9")], "2025-01-15",
     {"hpv": ("up_to_date", "2025-03-05")}),
    ("hpv_second_dose_too_early_does_not_count", "2012-05-05", "M", (),
     [dose("2024-09-01", "gardasil9"), dose("2024-12-01", "gardasil9")], "2025-01-15",
     {"hpv": ("up_to_date", "2025-03-01")}),
    ("hpv_waits_for_11", "2015-01-01", "F", (), [], "2025-06-01", {"hpv": ("up_to_date", "2026-01-01")}),
    ("hpv_catch_up_at_20", "2005-01-01", "M", (), [], "2025-06-01", {"hpv": ("overdue", "2016-01-01")}),
    ("hpv_not_after_26", "1998-01-01", "F", (), [], "2025-06-01", {"hpv": ("not_recommended", None)}),
    # ---- zoster
    ("zoster_due_from_65", "1958-03-01", "F", (), [], "2025-01-10", {"zoster": ("due", "2023-03-01")}),
    ("zoster_second_dose_2_to_6_months", "1958-03-01", "F", (), [dose("2024-11-05", "shingrix")], "2025-01-10",
     {"zoster": ("due", "2025-01-05")}),
    ("zoster_second_dose_late_is_overdue", "1958-03-01", "F", (), [dose("2024-11-05", "shingrix")], "2025-07-01",
     {"zoster": ("overdue", "2025-01-05")}),
    ("zoster_complete", "1958-03-01", "F", (), [dose("2024-11-05", "shingrix"), dose("2025-01-20", "shingrix")],
     "2025-03-01", {"zoster": ("complete", None)}),
    ("zoster_immunocompromised_from_18", "1985-01-01", "M", ("immunocompromised",), [], "2025-01-10",
     {"zoster": ("due", "2003-01-01")}),
    ("zoster_waits_for_65", "1975-01-01", "M", (), [], "2025-01-10", {"zoster": ("not_yet", "2040-01-01")}),
    # ---- adult pneumococcus
    ("pneumococcus_due_from_65", "1958-03-01", "M", (), [], "2025-01-10", {"pneumococcus": ("due", "2023-03-01")}),
    ("pneumococcus_5_years_after_ppsv23", "1955-03-01", "F", (), [dose("2022-05-01", "pneumovax")], "2025-01-10",
     {"pneumococcus": ("due", "2023-05-01")}),  # HAS 2023: 1 year after a PPSV23 alone (5 years was wrong)
    ("pneumococcus_pcv20_complete", "1955-03-01", "F", (), [dose("2024-01-10", "prevenar20")], "2025-01-10",
     {"pneumococcus": ("complete", None)}),
    ("pneumococcus_asplenia_from_18", "1985-01-01", "M", ("asplenia",), [], "2025-01-10",
     {"pneumococcus": ("due", "2003-01-01")}),
    ("pneumococcus_infant_done_next_at_65", "2020-01-01", "F", (),
     [dose("2020-03-01", "prevenar13"), dose("2020-05-01", "prevenar13"), dose("2020-12-01", "prevenar13")],
     "2023-01-01", {"pneumococcus": ("up_to_date", "2085-01-01")}),
    # ---- RSV
    ("rsv_due_from_75", "1948-06-01", "F", (), [], "2025-01-10", {"rsv": ("due", "2023-06-01")}),
    ("rsv_from_65_with_heart_or_lung_disease", "1957-01-01", "M", ("chronic_heart_lung",), [], "2025-01-10",
     {"rsv": ("due", "2022-01-01")}),
    ("rsv_waits_for_75", "1957-01-01", "M", (), [], "2025-01-10", {"rsv": ("not_yet", "2032-01-01")}),
    ("rsv_one_dose_complete", "1948-06-01", "F", (), [dose("2024-10-01", "abrysvo")], "2025-01-10",
     {"rsv": ("complete", None)}),
    ("rsv_infant_waits_for_season", "2025-03-15", "F", (), [], "2025-08-01", {"rsv": ("up_to_date", "2025-09-01")}),
    ("rsv_infant_due_in_season", "2025-03-15", "F", (), [], "2025-10-01", {"rsv": ("due", "2025-09-01")}),
    ("rsv_infant_born_in_season", "2025-11-10", "M", (), [], "2025-11-20", {"rsv": ("due", "2025-11-10")}),
    ("rsv_infant_protected_next_at_75", "2025-03-15", "F", (), [dose("2025-09-20", "beyfortus")], "2025-10-01",
     {"rsv": ("up_to_date", "2100-03-15")}),
    # ---- yearly influenza and Covid-19
    ("influenza_due_during_campaign", "1955-01-01", "F", (), [], "2025-11-03", {"influenza": ("due", "2025-10-14")}),
    ("influenza_done_this_season", "1955-01-01", "F", (), [dose("2025-10-20", "vaxigrip")], "2025-11-03",
     {"influenza": ("up_to_date", "2026-10-15")}),
    ("influenza_last_season_dose_waits_for_campaign", "1955-01-01", "F", (), [dose("2024-10-20", "vaxigrip")],
     "2025-09-20", {"influenza": ("up_to_date", "2025-10-14")}),
    ("influenza_campaign_over", "1955-01-01", "M", (), [], "2025-03-01", {"influenza": ("up_to_date", "2025-10-14")}),
    ("influenza_not_at_40_first_campaign_at_65", "1985-01-01", "M", (), [], "2025-11-03",
     {"influenza": ("not_recommended", "2050-01-01")}),
    ("influenza_pregnancy", "1995-01-01", "F", ("pregnant",), [], "2025-11-03", {"influenza": ("due", "2025-10-14")}),
    ("influenza_child_2_17", "2020-05-01", "M", (), [], "2025-11-03", {"influenza": ("due", "2025-10-14")}),
    ("covid_6_months_after_last_dose", "1955-01-01", "F", (), [dose("2025-06-01", "comirnaty")], "2025-11-03",
     {"covid19": ("up_to_date", "2025-12-01")}),
    ("covid_spring_dose_at_85", "1940-01-01", "M", (), [dose("2025-10-20", "comirnaty")], "2026-04-20",
     {"covid19": ("due", "2026-04-15")}),
    # ---- travel and optional vaccines
    ("travel_vaccines_not_recommended_without_dose", "1990-01-01", "F", (), [], "2025-01-10",
     {d: ("not_recommended", None) for d in ("yellow_fever", "typhoid", "japanese_encephalitis",
                                             "tick_borne_encephalitis", "rabies", "hepatitis_a", "varicella")}),
    ("travel_vaccines_described_once_given", "1990-01-01", "F", (),
     [dose("2024-01-10", "typhim_vi"), dose("2020-01-01", "stamaril"), dose("2024-06-01", "havrix")], "2025-01-10",
     {"typhoid": ("up_to_date", "2027-01-10"), "yellow_fever": ("complete", None),
      "hepatitis_a": ("due", "2024-12-01")}),
    ("typhoid_booster_only_before_new_trip", "1990-01-01", "F", (), [dose("2024-01-10", "typhim_vi")], "2027-06-01",
     {"typhoid": ("not_recommended", None)}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_calendar_case(case):
    _, birth, sex, flags, doses, on, expected = case
    got = {r.disease: r for r in evaluate(Person(D(birth), sex, frozenset(flags)), doses, D(on))}
    for disease, (status, next_date) in expected.items():
        rec = got[disease]
        assert (rec.status, rec.next_date) == (status, next_date and D(next_date)), rec.reason
        assert rec.reason and rec.declared_pending == 0


def test_enough_cases():
    assert len(CASES) >= 40


def test_one_recommendation_per_disease_in_order():
    recs = evaluate(Person(D("2024-02-10"), "F"), hexa("2024-04-10"), D("2025-01-15"))
    assert [r.disease for r in recs] == list(diseases())
    assert all(isinstance(r, Recommendation) for r in recs)
    assert dataclasses.is_dataclass(recs[0]) and recs[0] == dataclasses.replace(recs[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        recs[0].status = "due"


def test_labels_mandatory_and_reason_name_the_rule_and_doses():
    person = Person(D("2024-01-05"), "M")
    got = {r.disease: r for r in evaluate(person, hexa("2024-03-05"), D("2025-01-10"))}
    dip = got["diphtheria"]
    assert dip.dose == "Dose 2/3" and dip.mandatory
    assert "Primovaccination du nourrisson" in dip.reason and "5 mars 2024" in dip.reason
    assert "5 mai 2024" in dip.reason and "retard" in dip.reason
    assert got["rotavirus"].mandatory is False
    assert got["meningococcus_b"].mandatory  # born after 1 July 2023
    adult = {r.disease: r for r in evaluate(Person(D("1980-03-01"), "F"), [dose("2020-06-01", "revaxis")],
                                            D("2023-06-01"))}
    assert adult["diphtheria"].dose == "Rappel 65 ans" and not adult["diphtheria"].mandatory
    assert "45 ans sauté" in adult["diphtheria"].reason and "1er juin 2020" in adult["diphtheria"].reason
    hpv = {r.disease: r for r in evaluate(Person(D("2012-05-05"), "M"),
                                          [dose("2024-09-01", "gardasil9"), dose("2024-12-01", "gardasil9")],
                                          D("2025-01-15"))}["hpv"]
    assert hpv.dose == "Dose 2/2" and "1er décembre 2024 non comptée" in hpv.reason


def test_declared_doses_do_not_count_but_are_announced():
    person = Person(D("2025-03-10"), "F")
    doses = [dose("2025-05-12", "hexyon", validated=False)]
    got = {r.disease: r for r in evaluate(person, doses, D("2025-05-20"))}
    for disease in ("diphtheria", "tetanus", "pertussis", "polio", "hib", "hepatitis_b"):
        assert (got[disease].status, got[disease].next_date) == ("due", D("2025-05-10"))
        assert got[disease].declared_pending == 1
        assert "1 dose déclarée en attente de validation" in got[disease].reason
    assert got["measles"].declared_pending == 0
    validated = {r.disease: r for r in evaluate(person, [dose("2025-05-12", "hexyon")], D("2025-05-20"))}
    assert validated["diphtheria"].next_date == D("2025-07-12")


def test_future_doses_and_same_day_duplicates_are_ignored():
    person = Person(D("2025-03-10"), "F")
    twice = [dose("2025-05-10", "hexyon"), dose("2025-05-10", covers=DTP)]
    got = {r.disease: r for r in evaluate(person, twice + [dose("2025-07-10", "hexyon")], D("2025-06-01"))}
    assert (got["diphtheria"].dose, got["diphtheria"].next_date) == ("Dose 2/3", D("2025-07-10"))


def test_pregnancy_flag_is_ignored_for_men():
    got = {r.disease: r for r in evaluate(Person(D("1995-02-01"), "M", frozenset({"pregnant"})),
                                          [dose("2020-03-01", "repevax")], D("2025-01-10"))}
    assert got["pertussis"].status == "complete"


# ---------------------------------------------------------------- the forecast command

EXAMPLE = {"birth_date": "2024-02-10", "sex": "F", "on": "2025-01-15", "flags": [],
           "doses": [{"date": "2024-04-10", "product": "Hexyon"},
                     {"date": "2025-02-12", "diseases": ["measles", "mumps", "rubella"]}]}


def run(payload) -> object:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return CliRunner().invoke(forecast_command, input=text)


def test_forecast_happy_path():
    result = run(EXAMPLE)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["on"] == "2025-01-15"
    recs = out["recommendations"]
    assert [r["disease"] for r in recs] == list(diseases())
    assert set(recs[0]) == {"disease", "status", "next_date", "dose", "mandatory", "reason", "declared_pending",
                            "rule", "source"}
    by = {r["disease"]: r for r in recs}
    # Hexyon at 2 months, D2 at 4 months (10/06/2024) + 1 month of tolerance: overdue.
    assert by["pertussis"] == {**by["pertussis"], "status": "overdue", "next_date": "2024-06-10",
                               "dose": "Dose 2/3", "mandatory": True}
    # The MMR dose is after "on": not counted; D1 at 12 months.
    assert (by["measles"]["status"], by["measles"]["next_date"]) == ("up_to_date", "2025-02-10")
    assert by["yellow_fever"]["next_date"] is None
    assert "é" in result.stdout  # ensure_ascii=False


def test_forecast_defaults_products_by_code_and_declared_doses():
    from cvn.clock import today

    payload = {"birth_date": "2024-02-10", "sex": "M",
               "doses": [{"date": "2024-04-10", "product": "infanrix hexa"},
                         {"date": "2024-06-10", "product": "hexyon", "validated": False}]}
    result = run(payload)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["on"] == today().isoformat()
    by = {r["disease"]: r for r in out["recommendations"]}
    assert by["diphtheria"]["declared_pending"] == 1 and by["diphtheria"]["dose"] == "Dose 2/3"


@pytest.mark.parametrize("payload, field", [
    ("not json", "entrée"),
    ("[1, 2]", "entrée"),
    ({"sex": "F"}, "birth_date"),
    ({**EXAMPLE, "birth_date": "2024-13-01"}, "birth_date"),
    ({**EXAMPLE, "birth_date": "10/02/2024"}, "birth_date"),
    ({**EXAMPLE, "sex": "X"}, "sex"),
    ({**EXAMPLE, "on": "2025-02-30"}, "on"),
    ({**EXAMPLE, "on": "2020-01-01"}, "on"),
    ({**EXAMPLE, "flags": ["smoker"]}, "flags[0]"),
    ({**EXAMPLE, "sex": "M", "flags": ["asplenia", "pregnant"]}, "flags[1]"),
    ({**EXAMPLE, "flags": "pregnant"}, "flags"),
    ({**EXAMPLE, "flag": ["pregnant"]}, "flag"),
    ({**EXAMPLE, "doses": {"date": "2024-04-10"}}, "doses"),
    ({**EXAMPLE, "doses": ["Hexyon"]}, "doses[0]"),
    ({**EXAMPLE, "doses": [{"product": "Hexyon"}]}, "doses[0].date"),
    ({**EXAMPLE, "doses": [{"date": "2024-4-10", "product": "Hexyon"}]}, "doses[0].date"),
    ({**EXAMPLE, "doses": [{"date": "2024-01-10", "product": "Hexyon"}]}, "doses[0].date"),
    ({**EXAMPLE, "doses": [EXAMPLE["doses"][0], {"date": "2024-06-10", "product": "Foo"}]}, "doses[1].product"),
    ({**EXAMPLE, "doses": [{"date": "2024-06-10", "diseases": ["measles", "flu"]}]}, "doses[0].diseases[1]"),
    ({**EXAMPLE, "doses": [{"date": "2024-06-10", "diseases": []}]}, "doses[0].diseases"),
    ({**EXAMPLE, "doses": [{"date": "2024-06-10"}]}, "doses[0]"),
    ({**EXAMPLE, "doses": [{"date": "2024-06-10", "product": "Hexyon", "validated": "yes"}]}, "doses[0].validated"),
    ({**EXAMPLE, "doses": [{"date": "2024-06-10", "product": "Hexyon", "lot": "A1"}]}, "doses[0].lot"),
])
def test_forecast_bad_input_exits_2_naming_the_field(payload, field):
    result = run(payload)
    assert result.exit_code == 2
    assert result.stdout == ""
    message = result.stderr.rstrip("\n")
    assert "\n" not in message and message.startswith(f"{field}:"), message


def test_forecast_unknown_product_message():
    payload = {**EXAMPLE, "doses": [EXAMPLE["doses"][0], {"date": "2024-06-10", "product": "Foo"}]}
    assert run(payload).stderr.strip() == "doses[1].product: produit inconnu « Foo »"


def test_a_later_reason_without_its_own_words_says_the_age_in_years_or_months():
    """The fallback of « Plus tard — à partir de … » when a rule has no age text of its own."""
    from cvn.schedule import engine
    from cvn.schedule.rules import calendar
    from cvn.schedule.series import Ctx

    ctx = Ctx(date(2000, 3, 15), "F", frozenset(), date(2026, 3, 2), calendar())
    at = date.toordinal
    assert engine._age_text(ctx, at(date(2065, 3, 15))) == "65 ans"
    assert engine._age_text(ctx, at(date(2065, 3, 14))) == "64 ans"
    assert engine._age_text(ctx, at(date(2002, 3, 15))) == "2 ans"
    assert engine._age_text(ctx, at(date(2002, 3, 14))) == "23 mois"
    assert engine._age_text(ctx, at(date(2001, 2, 15))) == "11 mois"
    skipped = [((at(date(2026, 1, 5)), 0, 5, "priorix"), "trop tôt")]
    assert engine._later("Zona", None, ctx, at(date(2065, 3, 15)), skipped) == (
        "Zona. Plus tard — à partir de 65 ans, le 15 mars 2065. Dose du 5 janvier 2026 non comptée (trop tôt).")
    assert engine._later("Zona", "65 ans révolus", ctx, at(date(2065, 3, 15)), []) == (
        "Zona. Plus tard — à partir de 65 ans révolus, le 15 mars 2065.")


@pytest.mark.parametrize("a, b, better", [
    (("overdue", 5), ("due", 1), True), (("due", 1), ("overdue", 5), False),       # the more urgent state wins
    (("due", 1), ("due", 9), False),                                                # same state, not up to date: keep
    (("up_to_date", 3), ("up_to_date", 5), True), (("up_to_date", 5), ("up_to_date", 3), False),
    (("up_to_date", 5), ("up_to_date", 5), False),                                  # the same day: keep the first
    (("up_to_date", 3), ("up_to_date", None), True), (("up_to_date", None), ("up_to_date", 3), False),
])
def test_an_overlay_replaces_the_answer_only_when_more_urgent_or_sooner(a, b, better):
    from cvn.schedule import engine
    def full(x):
        return (x[0], x[1], "label", False, "", "rule")

    assert engine._better(full(a), full(b)) is better
