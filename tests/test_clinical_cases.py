"""Clinical cases written from the official texts, before running the engine (issue 11).

Each case names its source; the expected status, date and dose come from that text,
not from the engine. Sources quoted:
  CAL25  Calendrier des vaccinations et recommandations vaccinales 2025 (ministère
         chargé de la santé), the sections named in each case;
  CSP    Code de la santé publique, art. L3111-2 (obligations of children) and
         décret n° 2024-694 du 5 juillet 2024 (meningococci, from 01/01/2025);
  HAS-P  HAS, stratégie de vaccination contre les pneumocoques chez l'adulte (2023)
         and avis Prevenar 20 chez l'enfant (2024);
  HAS-C  HAS, recommandation coqueluche chez la femme enceinte (avril 2022);
  HAS-V  HAS, recommandation Abrysvo (VRS, femme enceinte, 2024); DGS, campagnes
         nirsevimab 2024-2025 (15 septembre) and 2025-2026 (1er septembre);
  AMELI  Assurance maladie / ministère: grippe 2024-2025 du 15/10/2024 au 28/02/2025
         (prolongée), 2025-2026 du 14/10/2025 au 28/02/2026 (prolongée le 27/01/2026),
         Covid-19 2025-2026 du 14/10/2025 au 31/01/2026;
  RCP    product summaries (Repevax, Boostrixtetra, Revaxis: rappel only; live
         vaccines: same day or 4 weeks apart, CAL25 § Généralités).
Pregnancy arithmetic (DECISION in calendar.toml): the expected term (date prévue
d'accouchement) is at 41 weeks of amenorrhoea, so a term on 01/03/2026 puts 20 weeks
on 05/10/2025, 32 weeks on 28/12/2025 and the end of week 36 on 31/01/2026.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from cvn.schedule.catalogue import products
from cvn.schedule.engine import DoseRecord, Person, evaluate

D = date.fromisoformat
ANY = object()


def dose(when: str, product: str | None = None, covers: tuple[str, ...] = ()) -> DoseRecord:
    """Return a validated dose by product code or by diseases."""
    return DoseRecord(D(when), tuple(covers) or products()[product].diseases, product, True)


def case(cid, source, birth, on, doses, expect, sex="F", flags=(), due=None):
    """Return one parametrised case; expect maps disease → (status, next date, dose label or ANY, reason part)."""
    return (cid, source, birth, on, doses, expect, sex, flags, due)


MMR = ("measles", "mumps", "rubella")
CASES = [
    # ---------------------------------------------------------------- booster products in infants
    case("repevax_at_2_months_is_not_an_infant_dose", "CAL25 § Diphtérie-tétanos-poliomyélite ; RCP Repevax (rappel)",
         "2025-01-10", "2025-04-01", [dose("2025-03-10", "repevax")],
         {"diphtheria": ("due", "2025-03-10", "Dose 1/3",
                         "non comptée (vaccin de rappel à dose réduite en antigènes, qui ne remplace pas"),
          "pertussis": ("due", "2025-03-10", "Dose 1/3", "non comptée")}),
    case("boostrixtetra_as_11_month_booster_does_not_finish", "CAL25 § Diphtérie ; RCP Boostrixtetra (rappel dès 4 ans)",
         "2025-01-10", "2026-01-05",
         [dose("2025-03-10", "hexyon"), dose("2025-05-12", "hexyon"), dose("2025-12-10", "boostrixtetra")],
         {"diphtheria": ("due", "2025-12-10", "Dose 3/3 (rappel 11 mois)", "non comptée"),
          "hib": ("due", "2025-12-10", "Dose 3/3 (rappel)", None)}),
    case("revaxis_at_3_years_does_not_prove_a_primary_series", "CAL25 § Diphtérie ; RCP Revaxis",
         "2021-06-01", "2025-06-01", [dose("2024-06-01", "revaxis")],
         {"diphtheria": ("overdue", "2021-08-01", "Dose 1/3", "non comptée"),
          "polio": ("overdue", "2021-08-01", "Dose 1/3", None)}),
    case("repevax_at_6_years_proves_an_earlier_primary_series", "CAL25 § Diphtérie : rappel à 6 ans puis 11-13 ans",
         "2018-03-01", "2025-03-01", [dose("2024-03-01", "repevax")],
         {"diphtheria": ("up_to_date", "2029-03-01", "Rappel 11-13 ans", None)}),
    # ---------------------------------------------------------------- minimum age and interval
    case("hexavalent_at_5_weeks_does_not_count", "CAL25 § Diphtérie : 1re injection au plus tôt à 6 semaines",
         "2025-01-01", "2025-03-05", [dose("2025-02-05", "hexyon")],
         {"diphtheria": ("due", "2025-03-01", "Dose 1/3", "non comptée"),
          "hib": ("due", "2025-03-01", "Dose 1/3", None)}),
    case("hexavalent_at_6_weeks_counts", "CAL25 § Diphtérie : au plus tôt à 6 semaines",
         "2025-01-01", "2025-03-05", [dose("2025-02-12", "hexyon")],
         {"diphtheria": ("up_to_date", "2025-05-01", "Dose 2/3", None)}),
    case("second_dose_three_weeks_after_does_not_count", "CAL25 § Diphtérie : 2e injection 2 mois après (au moins 1 mois)",
         "2025-01-01", "2025-04-01", [dose("2025-03-01", "hexyon"), dose("2025-03-20", "hexyon")],
         {"diphtheria": ("up_to_date", "2025-05-01", "Dose 2/3", "non comptée")}),
    case("mmr_before_6_months_ignored_and_no_third_dose", "CAL25 § ROR : dose avant 12 mois possible dès 6 mois",
         "2024-01-15", "2025-02-01", [dose("2024-06-15", "priorix"), dose("2025-01-15", "priorix")],
         {"measles": ("up_to_date", "2025-05-15", "Dose 2/2", "non comptée")}),
    case("mmr_at_7_months_asks_three_doses", "CAL25 § ROR : une 1re dose avant 12 mois, puis 2 doses",
         "2024-01-15", "2025-02-01", [dose("2024-08-15", "priorix"), dose("2025-01-15", "priorix")],
         {"measles": ("up_to_date", "2025-05-15", "Dose 3/3", None)}),
    case("mmr_second_dose_three_weeks_after_does_not_count", "CAL25 § ROR : au moins 1 mois entre 2 doses",
         "2024-01-15", "2025-03-01", [dose("2025-01-15", "priorix"), dose("2025-02-05", "priorix")],
         {"measles": ("up_to_date", "2025-05-15", "Dose 2/2", "non comptée")}),
    # ---------------------------------------------------------------- live vaccines
    case("varicella_14_days_after_mmr_does_not_count", "CAL25 § Généralités : deux vaccins vivants le même jour ou à 4 semaines d'intervalle",
         "2000-03-01", "2025-03-01", [dose("2025-01-15", "priorix"), dose("2025-01-29", "varivax")],
         {"varicella": ("due", ANY, "Dose 1/2", "28 jours"),
          "measles": ("due", "2025-02-15", "Dose 2/2", None)}),
    case("varicella_same_day_as_mmr_counts", "CAL25 § Généralités : vaccins vivants le même jour",
         "2000-03-01", "2025-01-20", [dose("2025-01-15", "priorix"), dose("2025-01-15", "varivax")],
         {"varicella": ("up_to_date", "2025-02-12", "Dose 2/2", None)}),
    case("yellow_fever_28_days_after_mmr_counts", "CAL25 § Généralités : au moins 28 jours",
         "2000-03-01", "2025-03-01", [dose("2025-01-15", "priorix"), dose("2025-02-12", "stamaril")],
         {"yellow_fever": ("complete", None, None, None)}),
    case("yellow_fever_27_days_after_mmr_does_not_count", "CAL25 § Généralités : au moins 28 jours",
         "2000-03-01", "2025-03-01", [dose("2025-01-15", "priorix"), dose("2025-02-11", "stamaril")],
         {"yellow_fever": ("due", ANY, "Dose unique", "vaccin vivant")}),
    # Three live vaccines: each is measured from the last one that counted (MMR 0, yellow fever +35, varicella +40).
    case("third_live_vaccine_5_days_after_the_second_does_not_count",
         "CAL25 § Généralités : deux vaccins vivants le même jour ou à au moins 28 jours d'intervalle",
         "2000-03-01", "2025-04-01",
         [dose("2025-02-24", "varivax"), dose("2025-01-15", "priorix"), dose("2025-02-19", "stamaril")],
         {"yellow_fever": ("complete", None, None, None),
          "varicella": ("due", ANY, "Dose 1/2", "5 jours après un autre vaccin vivant")}),
    # Exactly 28 days counts: MMR 0, yellow fever +28 (counts), varicella +33 (5 days after it: does not).
    case("live_vaccine_28_days_after_the_last_counted_one_counts_and_resets_the_clock",
         "CAL25 § Généralités : au moins 28 jours (4 semaines)",
         "2000-03-01", "2025-04-01",
         [dose("2025-01-15", "priorix"), dose("2025-02-12", "stamaril"), dose("2025-02-17", "varivax")],
         {"yellow_fever": ("complete", None, None, None),
          "varicella": ("due", ANY, "Dose 1/2", "5 jours après un autre vaccin vivant")}),
    # A paper carnet's line without a product: what it covers decides whether it is live.
    case("measles_dose_without_product_14_days_after_yellow_fever_does_not_count",
         "CAL25 § Généralités : deux vaccins vivants le même jour ou à au moins 28 jours d'intervalle ; § ROR",
         "2000-03-01", "2025-03-01", [dose("2025-01-15", "stamaril"), dose("2025-01-29", covers=MMR)],
         {"measles": ("overdue", "2001-03-01", "Dose 1/2", "vaccin vivant donné 14 jours après")}),
    case("mmr_14_days_after_bcg_does_not_count", "CAL25 § Généralités ; § ROR",
         "2010-03-01", "2025-03-01", [dose("2025-01-01", "bcg"), dose("2025-01-15", "priorix")],
         {"measles": ("overdue", ANY, "Dose 1/2", "28 jours")}, flags=("bcg_risk",)),
    case("rotavirus_is_excepted_from_live_spacing", "CAL25 § Généralités : le vaccin rotavirus (oral) fait exception",
         "2025-01-01", "2025-03-20", [dose("2025-02-01", "bcg"), dose("2025-02-15", "rotarix")],
         {"rotavirus": ("up_to_date", "2025-04-01", "Dose 2/2", None)}, flags=("bcg_risk",)),
    # The flu campaign's opening day is part of the campaign (2025-26: from 14 October 2025).
    case("flu_the_day_before_the_campaign_opens_is_not_yet_due", "DGS, campagne de vaccination antigrippale 2025-2026 : ouverture le 14 octobre 2025",
         "1950-05-01", "2025-10-13", [],
         {"influenza": ("up_to_date", "2025-10-14", "Campagne 2025-2026", "à partir du 14 octobre 2025")}),
    case("flu_is_due_on_the_campaign_s_opening_day", "DGS, campagne antigrippale 2025-2026 : ouverture le 14 octobre 2025",
         "1950-05-01", "2025-10-14", [],
         {"influenza": ("due", "2025-10-14", "Campagne 2025-2026", None)}),
    case("flu_dose_on_the_opening_day_counts_for_the_season", "DGS, campagne antigrippale 2025-2026 : ouverture le 14 octobre 2025",
         "1950-05-01", "2025-11-01", [dose("2025-10-14", "vaxigrip")],
         {"influenza": ("up_to_date", ANY, "Campagne 2026-2027", "dose de la saison faite")}),
    # ---------------------------------------------------------------- adults: catch-up, no infant schedule, no obligation
    # A tetanus-only dose (« VAT » of old carnets) is a tetanus booster, not a diphtheria or polio one.
    case("tetanus_only_booster_counts_for_tetanus_alone", "CAL25 § Diphtérie-tétanos-poliomyélite : rappels à 25, 45 et 65 ans",
         "1970-03-01", "2026-03-02", [dose("1995-05-01", "revaxis"), dose("2024-01-10", covers=("tetanus",))],
         {"tetanus": ("up_to_date", "2035-03-01", "Rappel 65 ans", "10 janvier 2024"),
          "diphtheria": ("overdue", "2015-03-01", "Rappel 45 ans", None),
          "polio": ("overdue", "2015-03-01", "Rappel 45 ans", None)}, sex="M"),
    case("empty_carnet_at_66_gets_the_adult_catch_up", "CAL25 § Rattrapage de l'adulte : dTcaP, puis dTP à 2 mois et 8 à 12 mois",
         "1959-05-01", "2025-06-01", [],
         {"diphtheria": ("due", ANY, "Dose 1/3 du rattrapage", None),
          "tetanus": ("due", ANY, "Dose 1/3 du rattrapage", None)}),
    case("adult_catch_up_after_m0_m2_asks_the_m8_dose", "CAL25 § Rattrapage de l'adulte (M0 dTcaP, M2 et M8-12 dTP)",
         "1985-01-01", "2025-04-01", [dose("2025-01-10", "boostrixtetra"), dose("2025-03-10", "revaxis")],
         {"diphtheria": ("up_to_date", "2025-09-10", "Dose 3/3 du rattrapage", None)}),
    case("adult_catch_up_m8_late_is_overdue", "CAL25 § Rattrapage de l'adulte : 8 à 12 mois après la 1re",
         "1985-01-01", "2026-02-10", [dose("2025-01-10", "boostrixtetra"), dose("2025-03-10", "revaxis")],
         {"diphtheria": ("overdue", "2025-09-10", "Dose 3/3 du rattrapage", None)}),
    case("adult_catch_up_done_goes_to_fixed_ages", "CAL25 § Diphtérie : rappels de l'adulte à 45, 65 ans",
         "1985-01-01", "2026-03-01",
         [dose("2025-01-10", "boostrixtetra"), dose("2025-03-10", "revaxis"), dose("2025-10-10", "revaxis")],
         {"diphtheria": ("up_to_date", "2050-01-01", "Rappel 65 ans", None)}),
    # ---------------------------------------------------------------- obligations (children only)
    case("infant_2024_eleven_obligations", "CSP L3111-2 ; décret 2024-694",
         "2024-03-01", "2025-01-01", [],
         {"diphtheria": ("overdue", "2024-05-01", "Dose 1/3", None),
          "pertussis": ("overdue", "2024-05-01", "Dose 1/3", None),
          "meningococcus_b": ("overdue", "2024-06-01", "Dose 1/3", None)}),
    case("born_2017_pertussis_not_mandatory", "CSP L3111-2 (11 obligations pour les enfants nés depuis le 01/01/2018)",
         "2017-06-01", "2018-01-05", [],
         {"pertussis": ("overdue", "2017-08-01", "Dose 1/3", None)}),
    # ---------------------------------------------------------------- pregnancy: pertussis
    case("pertussis_dose_before_this_pregnancy_does_not_count", "HAS-C : une dose à chaque grossesse, dès 20 SA",
         "1995-04-01", "2025-12-01", [dose("2024-05-01", "boostrixtetra")],
         {"pertussis": ("due", "2025-10-05", "Dose de grossesse", "20 et 36 semaines")},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_dose_at_25_weeks_counts", "HAS-C : entre 20 et 36 SA",
         "1995-04-01", "2025-12-15", [dose("2025-11-10", "boostrixtetra")],
         {"pertussis": ("up_to_date", None, "Dose de grossesse", "10 novembre 2025")},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_before_20_weeks_waits", "HAS-C : à partir de 20 SA",
         "1995-04-01", "2025-09-01", [],
         {"pertussis": ("up_to_date", "2025-10-05", "Dose de grossesse", None)},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_on_20_weeks_is_due", "HAS-C : à partir de 20 SA",
         "1995-04-01", "2025-10-05", [],
         {"pertussis": ("due", "2025-10-05", "Dose de grossesse", None)},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_after_36_weeks_is_overdue", "HAS-C : idéalement entre 20 et 36 SA",
         "1995-04-01", "2026-02-01", [],
         {"pertussis": ("overdue", "2025-10-05", "Dose de grossesse", None)},
         flags=("pregnant",), due="2026-03-01"),
    case("pertussis_flag_alone_dose_21_weeks_ago_counts", "HAS-C ; DECISION : sans date, une dose des 21 dernières semaines compte",
         "1995-04-01", "2025-05-28", [dose("2025-01-01", "boostrixtetra")],
         {"pertussis": ("up_to_date", None, "Dose de grossesse", None)}, flags=("pregnant",)),
    case("pertussis_flag_alone_dose_21_weeks_and_a_day_ago_does_not", "HAS-C ; DECISION (21 semaines)",
         "1995-04-01", "2025-05-29", [dose("2025-01-01", "boostrixtetra")],
         {"pertussis": ("due", None, "Dose de grossesse", None)}, flags=("pregnant",)),
    case("mmr_stays_contraindicated_in_pregnancy", "CAL25 § ROR : vaccins vivants contre-indiqués pendant la grossesse",
         "1995-04-01", "2025-12-01", [dose("1996-04-01", "priorix")],
         {"measles": ("not_recommended", None, None, "grossesse")},
         flags=("pregnant",), due="2026-03-01"),
    # ---------------------------------------------------------------- pregnancy: maternal RSV
    case("maternal_rsv_due_at_32_weeks_in_season", "HAS-V : Abrysvo entre 32 et 36 SA, de septembre à janvier",
         "1995-04-01", "2025-09-25", [],
         {"rsv": ("due", "2025-09-18", "Dose de grossesse (Abrysvo)", "32")}, flags=("pregnant",), due="2025-11-20"),
    case("maternal_rsv_waits_for_32_weeks", "HAS-V : entre 32 et 36 SA",
         "1995-04-01", "2025-12-01", [],
         {"rsv": ("up_to_date", "2025-12-28", "Dose de grossesse (Abrysvo)", None)}, flags=("pregnant",), due="2026-03-01"),
    case("maternal_rsv_done", "HAS-V : une dose",
         "1995-04-01", "2025-10-15", [dose("2025-09-20", "abrysvo")],
         {"rsv": ("up_to_date", None, "Dose de grossesse (Abrysvo)", "20 septembre 2025")},
         flags=("pregnant",), due="2025-11-20"),
    case("maternal_rsv_not_in_season", "HAS-V : pendant la saison seulement (nirsevimab sinon)",
         "1995-04-01", "2025-05-20", [],
         {"rsv": ("not_yet", ANY, ANY, "75 ans")}, flags=("pregnant",), due="2025-07-15"),
    # ---------------------------------------------------------------- risk groups: meningococci
    case("asplenia_adult_menb", "CAL25 § Méningocoque B : personnes aspléniques ou avec déficit en complément, à tout âge",
         "1995-01-01", "2025-06-01", [], {"meningococcus_b": ("due", ANY, "Dose 1/2", None)}, flags=("asplenia",)),
    case("asplenia_adult_menacwy", "CAL25 § Méningocoques ACWY : personnes aspléniques, à tout âge",
         "1960-01-01", "2025-06-01", [], {"meningococcus_acwy": ("due", ANY, "Dose 1/2", None)}, flags=("asplenia",)),
    case("asplenia_child_10_menb", "CAL25 § Méningocoque B : à tout âge en cas d'asplénie",
         "2015-01-01", "2025-06-01", [], {"meningococcus_b": ("due", ANY, "Dose 1/2", None)}, flags=("asplenia",)),
    case("complement_deficiency_menb", "CAL25 § Méningocoque B : déficit en complément",
         "2005-01-01", "2025-06-01", [], {"meningococcus_b": ("due", ANY, "Dose 1/2", None)},
         flags=("complement_deficiency",)),
    case("asplenia_menb_second_dose_a_month_later", "CAL25 § Méningocoque B (Bexsero : 2 doses à 1 mois au moins)",
         "1995-01-01", "2025-01-20", [dose("2025-01-10", "bexsero")],
         {"meningococcus_b": ("up_to_date", "2025-02-10", "Dose 2/2", None)}, flags=("asplenia",)),
    case("no_risk_adult_no_menb", "CAL25 § Méningocoque B : pas de recommandation générale chez l'adulte",
         "1995-01-01", "2025-06-01", [], {"meningococcus_b": ("not_recommended", None, None, None)}),
    # ---------------------------------------------------------------- risk groups: pneumococcus
    case("at_risk_infant_3_plus_1_second_dose_at_3_months", "CAL25 § Pneumocoque : nourrissons à risque, 2, 3, 4 mois et 11 mois",
         "2025-01-10", "2025-03-20", [dose("2025-03-10", "prevenar13")],
         {"pneumococcus": ("up_to_date", "2025-04-10", "Dose 2/4", None)}, flags=("immunocompromised",)),
    case("at_risk_infant_booster_after_three", "CAL25 § Pneumocoque : rappel à 11 mois",
         "2025-01-10", "2025-06-01",
         [dose("2025-03-10", "prevenar13"), dose("2025-04-10", "prevenar13"), dose("2025-05-10", "prevenar13")],
         {"pneumococcus": ("up_to_date", "2025-12-10", "Dose 4/4 (rappel)", None)}, flags=("immunocompromised",)),
    case("not_at_risk_infant_second_dose_at_4_months", "CAL25 § Pneumocoque : 2 et 4 mois",
         "2025-01-10", "2025-03-20", [dose("2025-03-10", "prevenar13")],
         {"pneumococcus": ("up_to_date", "2025-05-10", "Dose 2/3", None)}),
    case("at_risk_child_5_after_infant_series_pcv20", "HAS-P : enfants à risque de 2 à 17 ans, une dose de VPC20",
         "2020-01-10", "2025-06-01",
         [dose("2020-03-10", "prevenar13"), dose("2020-05-10", "prevenar13"), dose("2020-12-10", "prevenar13")],
         {"pneumococcus": ("due", ANY, "Dose unique (vaccin conjugué 20-valent)", None)}, flags=("asplenia",)),
    case("at_risk_child_10_unvaccinated", "HAS-P : enfants à risque de 2 à 17 ans",
         "2015-01-10", "2025-06-01", [],
         {"pneumococcus": ("due", ANY, "Dose unique (vaccin conjugué 20-valent)", None)}, flags=("chronic_heart_lung",)),
    case("child_5_not_at_risk_no_pneumococcus", "CAL25 § Pneumocoque : après 2 ans, seulement les groupes à risque",
         "2020-01-10", "2025-06-01", [], {"pneumococcus": ("not_yet", ANY, ANY, "65 ans")}),
    case("adult_after_ppsv23_only_waits_one_year", "HAS-P : VPC20 au moins 1 an après un VPP23 seul",
         "1950-01-01", "2025-01-01", [dose("2024-06-01", "pneumovax")],
         {"pneumococcus": ("up_to_date", "2025-06-01", ANY, None)}),
    case("adult_after_pcv13_and_ppsv23_waits_five_years", "HAS-P : 5 ans après le VPP23 d'un schéma séquentiel",
         "1950-01-01", "2025-01-01", [dose("2020-01-01", "prevenar13"), dose("2021-01-01", "pneumovax")],
         {"pneumococcus": ("up_to_date", "2026-01-01", ANY, None)}),
    case("adult_after_pcv13_only_waits_one_year", "HAS-P : VPC20 au moins 1 an après un VPC13",
         "1950-01-01", "2025-01-01", [dose("2024-06-01", "prevenar13")],
         {"pneumococcus": ("up_to_date", "2025-06-01", ANY, "12 mois après la dose d'un autre vaccin le 1er juin 2024")}),
    # ---------------------------------------------------------------- influenza: first vaccination before 9 years
    case("first_flu_before_9_two_doses", "CAL25 § Grippe : 2 doses à 4 semaines d'intervalle à la 1re vaccination avant 9 ans",
         "2020-06-01", "2025-11-01", [], {"influenza": ("due", "2025-10-14", "Dose 1/2", None)},
         flags=("chronic_heart_lung",)),
    case("first_flu_before_9_second_dose_4_weeks", "CAL25 § Grippe : 2e dose 4 semaines après",
         "2020-06-01", "2025-11-01", [dose("2025-10-20", "vaxigrip")],
         {"influenza": ("up_to_date", "2025-11-17", "Dose 2/2", None)}, flags=("chronic_heart_lung",)),
    case("first_flu_before_9_both_doses_done", "CAL25 § Grippe",
         "2020-06-01", "2025-12-01", [dose("2025-10-20", "vaxigrip"), dose("2025-11-17", "vaxigrip")],
         {"influenza": ("up_to_date", ANY, ANY, "17 novembre 2025")}, flags=("chronic_heart_lung",)),
    case("flu_at_9_one_dose", "CAL25 § Grippe : une dose à partir de 9 ans",
         "2016-06-01", "2025-11-01", [], {"influenza": ("due", "2025-10-14", "Campagne 2025-2026", None)},
         flags=("chronic_heart_lung",)),
    case("flu_child_vaccinated_last_season_one_dose", "CAL25 § Grippe : 2 doses seulement à la 1re vaccination",
         "2020-06-01", "2025-11-01", [dose("2024-11-01", "vaxigrip"), dose("2024-12-01", "vaxigrip")],
         {"influenza": ("due", "2025-10-14", "Campagne 2025-2026", None)}, flags=("chronic_heart_lung",)),
    # ---------------------------------------------------------------- seasons as data
    case("flu_2025_26_extended_to_28_february", "AMELI : campagne 2025-2026 prolongée jusqu'au 28/02/2026",
         "1950-01-01", "2026-02-20", [], {"influenza": ("due", "2025-10-14", "Campagne 2025-2026", "2025-2026")}),
    case("flu_2025_26_over_on_1_march", "AMELI : fin le 28/02/2026",
         "1950-01-01", "2026-03-01", [], {"influenza": ("up_to_date", ANY, "Campagne 2026-2027", None)}),
    case("flu_2025_26_opens_14_october", "AMELI : ouverture le 14/10/2025",
         "1950-01-01", "2025-10-13", [], {"influenza": ("up_to_date", "2025-10-14", "Campagne 2025-2026", None)}),
    case("flu_2025_26_due_on_14_october", "AMELI : ouverture le 14/10/2025",
         "1950-01-01", "2025-10-14", [], {"influenza": ("due", "2025-10-14", "Campagne 2025-2026", None)}),
    case("flu_2024_25_extended_to_28_february", "AMELI : campagne 2024-2025 du 15/10/2024, prolongée au 28/02/2025",
         "1950-01-01", "2025-02-27", [], {"influenza": ("due", "2024-10-15", "Campagne 2024-2025", None)}),
    case("covid_2025_26_ends_31_january", "AMELI : Covid-19 2025-2026 jusqu'au 31/01/2026",
         "1950-01-01", "2026-02-10", [], {"covid19": ("up_to_date", ANY, ANY, None)}),
    case("nirsevimab_2025_opens_1_september", "HAS-V ; DGS : campagne 2025-2026 à partir du 1er septembre 2025",
         "2025-08-15", "2025-09-01", [], {"rsv": ("due", "2025-09-01", "Dose unique (nirsevimab)", None)}),
    case("nirsevimab_2025_day_before", "DGS : à partir du 1er septembre 2025",
         "2025-08-15", "2025-08-31", [], {"rsv": ("up_to_date", "2025-09-01", "Dose unique (nirsevimab)", None)}),
    case("nirsevimab_2024_opens_15_september", "DGS : campagne 2024-2025 à partir du 15 septembre 2024",
         "2024-06-01", "2024-09-14", [], {"rsv": ("up_to_date", "2024-09-15", "Dose unique (nirsevimab)", None)}),
    case("nirsevimab_born_in_season_due_at_birth", "HAS-V : nés pendant la saison, dès la naissance",
         "2025-10-01", "2025-10-03", [], {"rsv": ("due", "2025-10-01", "Dose unique (nirsevimab)", None)}),
    # ---------------------------------------------------------------- leap day and month end births
    case("leap_day_birth_12_months_on_28_february", "CAL25 § ROR : 12 mois (anniversaire au 28 février)",
         "2024-02-29", "2025-02-01", [], {"measles": ("up_to_date", "2025-02-28", "Dose 1/2", None)}),
    case("leap_day_birth_2_months", "CAL25 § Diphtérie : 2 mois",
         "2024-02-29", "2024-04-01", [], {"diphtheria": ("up_to_date", "2024-04-29", "Dose 1/3", None)}),
    case("month_end_birth_2_months_on_28_february", "CAL25 § Diphtérie : 2 mois (fin de mois)",
         "2024-12-31", "2025-02-01", [], {"diphtheria": ("up_to_date", "2025-02-28", "Dose 1/3", None)}),
    case("month_end_birth_4_months_on_30_april", "CAL25 § Diphtérie : 4 mois (fin de mois)",
         "2024-12-31", "2025-03-10", [dose("2025-02-28", "hexyon")],
         {"diphtheria": ("up_to_date", "2025-04-30", "Dose 2/3", None)}),
    # ---------------------------------------------------------------- the fourth state, "not yet"
    case("zoster_at_30_is_not_yet", "CAL25 § Zona : à partir de 65 ans",
         "1995-03-01", "2025-06-01", [], {"zoster": ("not_yet", "2060-03-01", ANY, "65 ans")}),
    case("hpv_for_a_baby_is_not_yet", "CAL25 § Papillomavirus : 11 ans",
         "2025-01-01", "2025-06-01", [], {"hpv": ("not_yet", "2036-01-01", ANY, "11 ans")}),
    case("zoster_at_64_and_a_half_is_up_to_date", "CAL25 § Zona : 65 ans (moins d'un an)",
         "1960-12-01", "2025-06-01", [], {"zoster": ("up_to_date", "2025-12-01", "Dose 1/2", None)}),
    # ---------------------------------------------------------------- yellow fever second dose
    case("yellow_fever_before_2_years_second_dose_at_6", "CAL25 § Fièvre jaune : 2e dose à partir de 6 ans si 1re avant 2 ans",
         "2020-01-01", "2025-01-01", [dose("2021-01-01", "stamaril")],
         {"yellow_fever": ("up_to_date", "2026-01-01", "Dose 2/2", None)}),
    case("yellow_fever_hiv_second_dose_10_years", "CAL25 § Fièvre jaune : personnes vivant avec le VIH, 2e dose 10 ans après",
         "1980-01-01", "2025-01-01", [dose("2015-06-01", "stamaril")],
         {"yellow_fever": ("up_to_date", "2025-06-01", "Dose 2/2", None)}, flags=("hiv",)),
]


def _run(birth, on, doses, sex, flags, due):
    person = Person(D(birth), sex, frozenset(flags), D(due) if due else None)
    return {r.disease: r for r in evaluate(person, doses, D(on))}


PARAMS = [pytest.param(*c[1:], id=c[0]) for c in CASES]


def assert_case(source, birth, on, doses, expect, sex, flags, due):
    """Check the engine's answer for one case against what the case expects, disease by disease."""
    assert source  # every case names its official source
    got = _run(birth, on, doses, sex, flags, due)
    for disease, (status, next_date, label, part) in expect.items():
        r = got[disease]
        seen = (r.status, r.next_date, r.dose)
        assert r.status == status, (disease, seen, r.reason)
        if next_date is not ANY:
            assert r.next_date == (D(next_date) if next_date else None), (disease, seen, r.reason)
        if label is not ANY:
            assert r.dose == label, (disease, seen, r.reason)
        if part:
            assert part in r.reason, (disease, r.reason)


@pytest.mark.parametrize("source, birth, on, doses, expect, sex, flags, due", PARAMS)
def test_clinical_case(source, birth, on, doses, expect, sex, flags, due):
    assert_case(source, birth, on, doses, expect, sex, flags, due)


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60


# ---------------------------------------------------------------- obligations by age (CSP L3111-2)

@pytest.mark.parametrize("birth, on, mandatory", [
    ("2008-06-01", "2026-05-31", True),    # 17 years: still a child's legal obligation
    ("2008-06-01", "2026-06-01", False),   # 18 years: an adult, never mandatory
    ("1959-05-01", "2025-06-01", False),
    ("2024-03-01", "2025-01-01", True),    # an infant: the 11 obligations
])
def test_mandatory_only_for_children(birth, on, mandatory):
    got = _run(birth, on, [], "M", (), None)
    assert got["diphtheria"].mandatory is mandatory
    if not mandatory:
        assert not any(r.mandatory for r in got.values())


def test_adult_reasons_never_show_the_infant_schedule():
    """CAL25: the infant schedule (2, 4, 11 months) is not the one proposed to an adult."""
    got = _run("1959-05-01", "2025-06-01", [], "M", (), None)
    for code in ("diphtheria", "tetanus", "polio"):
        assert "2, 4 et 11 mois" not in got[code].reason
        assert "1959" not in got[code].reason


_SLASH_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")
_UNEXPLAINED = re.compile(r"\b(SA|VPC20|VPP23|révolus)\b")


@pytest.mark.parametrize("source, birth, on, doses, expect, sex, flags, due", PARAMS)
def test_reasons_use_one_date_format_and_no_bare_abbreviation(source, birth, on, doses, expect, sex, flags, due):
    for r in _run(birth, on, doses, sex, flags, due).values():
        assert not _SLASH_DATE.search(r.reason), r.reason
        assert not _UNEXPLAINED.search(r.reason), r.reason
        for counted in re.findall(r"Doses? comptées? : ([^.]*)\.", r.reason):
            for day in counted.split(", "):
                assert r.reason.count(day) == 1, r.reason  # a counted dose is named with its date once
        if "dTcaP" in r.reason:
            assert r.reason.index("coqueluche") < r.reason.index("dTcaP"), r.reason


def test_a_skipped_dose_never_drives_a_rule():
    """CAL25 § ROR: an MMR dose at 5 months is not counted, so no 3-dose schedule follows."""
    got = _run("2024-01-15", "2025-02-01", [dose("2024-06-15", "priorix"), dose("2025-01-15", "priorix")],
               "F", (), None)
    assert got["measles"].dose == "Dose 2/2"
    assert "Dose 3/3" not in got["measles"].reason


def test_recommendation_carries_the_rule_and_its_source():
    got = _run("2025-01-01", "2025-03-05", [], "F", (), None)
    assert got["diphtheria"].rule == "dtp_infant"
    assert "Calendrier 2025" in got["diphtheria"].source


def test_pertussis_not_mandatory_for_children_born_before_2018():
    """CSP L3111-2: pertussis is an obligation only for children born from 01/01/2018."""
    got = _run("2017-06-01", "2018-01-05", [], "F", (), None)
    assert got["pertussis"].mandatory is False
    assert got["diphtheria"].mandatory is True
