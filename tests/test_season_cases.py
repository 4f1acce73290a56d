"""Clinical cases at the edges of campaigns, seasons and pregnancy windows (cvn/schedule/seasons.py).

Written, like tests/test_clinical_cases.py (whose sources and helpers they share),
from the texts before running the engine, against the mutants mutation testing left
alive in the seasons module: each case sits on a boundary day (a season's opening
day, a campaign's last day, the 20-week day, the term) or on a minimum interval.
Sources besides those of test_clinical_cases:
  HAS-COV  HAS, stratégie de vaccination contre le Covid-19: at least 6 months after
           the last injection, 3 months from 80 years and for immunocompromised people;
  DEFAULT  calendar.toml's default season (a season not yet published: 2026-2027):
           an injection from 1 September counts for the season, campaign from 15
           October to 31 January.
Pregnancy arithmetic as in test_clinical_cases: a term on 01/03/2026 puts 20 weeks on
05/10/2025; a term on 29/09/2026 ends week 36 on 31/08/2026, a term on 30/09/2026 on
01/09/2026.

Also unit tests of the season arithmetic on rules the calendar does not use yet (a
campaign starting after the new year, a year-long season, a season inside one
year, a published season labelled by year): the module's contract, not the data's.
"""
from __future__ import annotations

from datetime import date

import pytest

from cvn.schedule import seasons as C
from cvn.schedule.rules import Series
from tests.test_clinical_cases import ANY, assert_case, case, dose

CASES = [
    # ---------------------------------------------------------------- flu: the season's opening day
    case("flu_dose_on_1_september_counts_for_the_new_season", "DEFAULT : une injection dès le 1er septembre compte",
         "1950-01-01", "2026-09-01", [dose("2026-09-01", "vaxigrip")],
         {"influenza": ("up_to_date", "2027-10-15", "Campagne 2027-2028", "dose de la saison faite")}),
    case("flu_child_first_dose_on_1_september_asks_the_second", "CAL25 § Grippe : 2 doses à 4 semaines avant 9 ans ; DEFAULT",
         "2020-06-01", "2026-09-15", [dose("2026-09-01", "vaxigrip")],
         {"influenza": ("up_to_date", "2026-09-29", "Dose 2/2", None)}, flags=("chronic_heart_lung",)),
    case("flu_child_second_dose_due_on_its_day", "CAL25 § Grippe : 2e dose 4 semaines après la 1re",
         "2020-06-01", "2025-11-17", [dose("2025-10-20", "vaxigrip")],
         {"influenza": ("due", "2025-11-17", "Dose 2/2", None)}, flags=("chronic_heart_lung",)),
    case("flu_child_second_dose_no_longer_asked_once_the_campaign_ended", "AMELI : fin le 28/02/2026",
         "2020-06-01", "2026-03-01", [dose("2025-10-20", "vaxigrip")],
         {"influenza": ("up_to_date", "2026-10-15", "Campagne 2026-2027", "dose de la saison faite")},
         flags=("chronic_heart_lung",)),
    # ---------------------------------------------------------------- Covid-19: minimum intervals
    case("covid_80_waits_3_months_after_the_last_dose", "HAS-COV : 3 mois à 80 ans et plus",
         "1944-01-01", "2025-10-20", [dose("2025-08-01", covers=("covid19",))],
         {"covid19": ("up_to_date", "2025-11-01", "Campagne 2025-2026", "3 mois après la dernière dose")}),
    case("covid_70_dose_in_june_puts_the_next_6_months_later", "HAS-COV : 6 mois après la dernière injection",
         "1955-01-01", "2026-07-01", [dose("2026-06-01", covers=("covid19",))],
         {"covid19": ("up_to_date", "2026-12-01", "Campagne 2026-2027", None)}),
    case("covid_70_six_months_ending_on_the_opening_day_names_the_campaign", "HAS-COV ; AMELI : 14/10/2025",
         "1955-01-01", "2025-11-01", [dose("2025-04-14", covers=("covid19",))],
         {"covid19": ("due", "2025-10-14", "Campagne 2025-2026", "du 14 octobre 2025 au 31 janvier 2026")}),
    case("covid_70_six_months_ending_after_the_campaign_waits_for_the_next", "HAS-COV ; AMELI : jusqu'au 31/01/2026",
         "1955-01-01", "2025-11-01", [dose("2025-08-01", covers=("covid19",))],
         {"covid19": ("up_to_date", "2026-10-15", "Campagne 2026-2027",
                      "plus : dose récente ; prochaine campagne le 15 octobre 2026")}),
    case("covid_campaign_over_on_1_february", "AMELI : Covid-19 2025-2026 jusqu'au 31/01/2026",
         "1955-01-01", "2026-02-01", [],
         {"covid19": ("up_to_date", "2026-10-15", "Campagne 2026-2027", "campagne terminée le 31 janvier 2026")}),
    # ---------------------------------------------------------------- pertussis in pregnancy: 20 weeks and the term
    case("pertussis_dose_on_the_20_week_day_counts", "HAS-C : à partir de 20 SA",
         "1995-04-01", "2025-12-15", [dose("2025-10-05", "boostrixtetra")],
         {"pertussis": ("up_to_date", None, "Dose de grossesse", "5 octobre 2025")},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_dose_the_day_before_20_weeks_does_not", "HAS-C : à partir de 20 SA",
         "1995-04-01", "2025-12-15", [dose("2025-10-04", "boostrixtetra")],
         {"pertussis": ("due", "2025-10-05", "Dose de grossesse", None)},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_dose_on_the_term_is_after_the_pregnancy", "HAS-C ; DECISION : le terme clôt la grossesse",
         "1995-04-01", "2026-03-05", [dose("2026-03-01", "boostrixtetra")],
         {"pertussis": ("overdue", "2025-10-05", "Dose de grossesse", None)},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_flag_alone_names_the_dose_that_counts", "HAS-C ; DECISION (21 semaines)",
         "1995-04-01", "2025-05-28", [dose("2025-01-10", "boostrixtetra")],
         {"pertussis": ("up_to_date", None, "Dose de grossesse", "Dose faite le 10 janvier 2025")},
         flags=("pregnant",)),
    # ---------------------------------------------------------------- maternal RSV: product, season edges
    case("maternal_rsv_dose_of_unknown_product_counts", "HAS-V ; calendar.toml : une injection sans produit compte",
         "1995-04-01", "2026-01-15", [dose("2026-01-05", covers=("rsv",))],
         {"rsv": ("up_to_date", None, "Dose de grossesse (Abrysvo)", "5 janvier 2026")},
         flags=("pregnant",), due="2026-03-01"),
    case("maternal_rsv_arexvy_does_not_count", "HAS-V : Abrysvo seul chez la femme enceinte",
         "1995-04-01", "2026-01-15", [dose("2026-01-05", "arexvy")],
         {"rsv": ("due", "2025-12-28", "Dose de grossesse (Abrysvo)", None)},
         flags=("pregnant",), due="2026-03-01"),
    case("maternal_rsv_without_term_on_the_season_first_day", "HAS-V ; DGS : à partir du 1er septembre 2025",
         "1995-04-01", "2025-09-01", [],
         {"rsv": ("due", None, "Dose de grossesse (Abrysvo)", "saison 2025-2026")}, flags=("pregnant",)),
    case("maternal_rsv_without_term_on_the_season_last_day", "HAS-V ; DGS : jusqu'au 31 janvier 2026",
         "1995-04-01", "2026-01-31", [],
         {"rsv": ("due", None, "Dose de grossesse (Abrysvo)", "saison 2025-2026")}, flags=("pregnant",)),
    case("maternal_rsv_without_term_after_the_season", "HAS-V ; DGS : jusqu'au 31 janvier 2026",
         "1995-04-01", "2026-02-01", [],
         {"rsv": ("not_yet", ANY, ANY, "75 ans")}, flags=("pregnant",)),
    case("maternal_rsv_window_ending_the_day_before_the_season", "HAS-V : 32-36 SA pendant la saison ; DEFAULT",
         "1995-04-01", "2026-06-01", [],
         {"rsv": ("not_yet", ANY, ANY, "75 ans")}, flags=("pregnant",), due="2026-09-29"),
    case("maternal_rsv_window_meeting_the_season_by_one_day", "HAS-V : 32-36 SA pendant la saison ; DEFAULT",
         "1995-04-01", "2026-06-01", [],
         {"rsv": ("up_to_date", "2026-09-01", "Dose de grossesse (Abrysvo)", "1er septembre 2026")},
         flags=("pregnant",), due="2026-09-30"),
]

PARAMS = [pytest.param(*c[1:], id=c[0]) for c in CASES]


@pytest.mark.parametrize("source, birth, on, doses, expect, sex, flags, due", PARAMS)
def test_season_case(source, birth, on, doses, expect, sex, flags, due):
    assert_case(source, birth, on, doses, expect, sex, flags, due)


def _series(**fields) -> Series:
    """Return a campaign series of made-up dates ("MM-DD"), compiled as the calendar's are."""
    raw = {"id": "made_up", "diseases": ["influenza"], "kind": "campaign", "name": "Campagne", "label": "Campagne {season}",
           "season_opens": "09-01", "campaign_start": "10-15", "campaign_end": "02-01", **fields}
    return Series(raw, (24, 0))


def _days(bounds) -> tuple:
    return tuple(date.fromordinal(b) for b in bounds[:3]) + tuple(bounds[3:])


def test_a_campaign_starting_after_the_new_year_starts_the_year_after_it_opens():
    s = _series(season_opens="12-01", campaign_start="01-15", campaign_end="03-01")
    assert _days(C._compute_bounds(s, 2026)) == (date(2026, 12, 1), date(2027, 1, 15), date(2027, 3, 1),
                                                 "Campagne 2026-2027", "2026-2027")


def test_a_season_ending_on_its_start_day_lasts_a_year():
    s = _series(season_opens="09-01", campaign_start="09-01", campaign_end="09-01")
    assert _days(C._compute_bounds(s, 2026))[:3] == (date(2026, 9, 1), date(2026, 9, 1), date(2027, 9, 1))


def test_a_published_season_labelled_by_year_takes_its_start_year():
    s = _series(label="Printemps {year}", season=[{"name": "2027", "start": "2027-04-01", "last_day": "2027-06-30"}])
    assert _days(C._compute_bounds(s, 2027)) == (date(2027, 4, 1), date(2027, 4, 1), date(2027, 7, 1),
                                                 "Printemps 2027", "2027")


def test_the_season_of_a_day_after_an_in_year_season_is_next_years():
    """A season inside one year (spring): a day after its end belongs to next year's season."""
    s = _series(season_opens="03-01", campaign_start="04-15", campaign_end="06-16", label="Printemps {year}")
    C.forget_seasons()
    assert _days(C._season_of(s, date(2026, 5, 1).toordinal()))[:3] == (date(2026, 3, 1), date(2026, 4, 15),
                                                                         date(2026, 6, 16))
    assert _days(C._season_of(s, date(2026, 7, 1).toordinal())) == (date(2027, 3, 1), date(2027, 4, 15),
                                                                    date(2027, 6, 16), "Printemps 2027", "2027-2028")
    assert _days(C._season_of(s, date(2026, 1, 10).toordinal()))[:3] == (date(2026, 3, 1), date(2026, 4, 15),
                                                                         date(2026, 6, 16))
