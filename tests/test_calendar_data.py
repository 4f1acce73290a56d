"""calendar.toml is complete and consistent with the catalogue (diseases, products, flags)."""
from __future__ import annotations

import re

import pytest

from cvn.schedule.catalogue import DATA, diseases, products
from cvn.schedule.rules import FLAGS, KINDS, Calendar, calendar, load_raw, parse_duration

RAW = load_raw()
SERIES = RAW["series"]


def _rules():
    """Yield (where, table) for every table that states a rule and must cite a source."""
    yield "settings", RAW["settings"]
    for s in SERIES:
        yield s["id"], s
        for j, d in enumerate(s.get("dose", ())):
            yield f"{s['id']}.dose[{j}]", d
        for k, v in enumerate(s.get("variant", ())):
            yield f"{s['id']}.variant[{k}]", v
            for j, d in enumerate(v.get("dose", ())):
                yield f"{s['id']}.variant[{k}].dose[{j}]", d
        for k, e in enumerate(s.get("eligible", ())):
            yield f"{s['id']}.eligible[{k}]", e


def test_every_rule_has_a_source():
    missing = [where for where, table in _rules() if not str(table.get("source", "")).strip()]
    assert not missing


def test_every_dose_has_a_french_label():
    for where, table in _rules():
        if ".dose[" in where:
            assert table.get("label"), where


def test_every_disease_code_exists_and_every_disease_has_a_rule():
    known = set(diseases())
    used = {code for s in SERIES for code in s["diseases"]}
    assert used <= known, used - known
    assert used == known, known - used


def test_every_product_referenced_exists():
    catalogue = set(products())
    referenced = set()
    for where, table in _rules():
        referenced |= set(table.get("products", ())) | set(table.get("first_dose_products", ()))
    assert referenced and referenced <= catalogue, referenced - catalogue


def test_every_flag_referenced_is_known():
    referenced = set()
    for _, table in _rules():
        referenced |= set(table.get("flags_any", ())) | set(table.get("contraindicated_flags", ()))
    assert referenced <= set(FLAGS), referenced - set(FLAGS)
    assert set(FLAGS) == {"pregnant", "immunocompromised", "chronic_heart_lung", "asplenia", "complement_deficiency",
                          "hiv", "msm", "bcg_risk"}


def test_every_contraindicating_flag_has_its_word_in_the_reason():
    from cvn.schedule.engine import _WHY

    contraindicating = {flag for _, table in _rules() for flag in table.get("contraindicated_flags", ())}
    assert contraindicating and contraindicating <= set(_WHY), contraindicating - set(_WHY)


def test_series_ids_unique_kinds_known_and_ages_parse():
    ids = [s["id"] for s in SERIES]
    assert len(ids) == len(set(ids))
    assert {s.get("kind", "doses") for s in SERIES} <= set(KINDS)
    age_keys = ("age", "from_age", "to_age", "after", "min_age", "min_interval", "superseded_at", "reuse_within",
                "after_polysaccharide", "until", "start_before", "booster_every", "lookback", "every",
                "skip_within", "max_gap", "late_age", "max_gap_late", "assumed_done_from")
    for where, table in _rules():
        for key in age_keys:
            if key in table:
                parse_duration(table[key])
        for key in ("window", "after_window", "first_dose_age"):
            if key in table:
                low, high = (parse_duration(x) for x in table[key])
                assert low < high, f"{where}.{key}"


def test_calendar_compiles_with_one_program_per_disease():
    compiled = Calendar(RAW)
    assert [p.code for p in compiled.programs] == list(diseases())
    assert calendar() is calendar()  # parsed once per process


def test_open_points_are_settled_in_the_data_file():
    text = (DATA / "calendar.toml").read_text(encoding="utf-8")
    for point in range(1, 6):
        assert re.search(rf"DECISION \(open point {point}", text), point


@pytest.mark.parametrize("series_id, mandatory_from", [
    ("dtp_infant", None), ("pertussis_infant", "2018-01-01"), ("hib", "2018-01-01"),
    ("hepatitis_b", "2018-01-01"), ("pneumococcus_infant", "2018-01-01"), ("meningococcus_c", "2018-01-01"),
    ("mmr", "2018-01-01"), ("meningococcus_b", "2023-07-01"),
])
def test_mandatory_infant_vaccinations(series_id, mandatory_from):
    s = next(s for s in SERIES if s["id"] == series_id)
    if mandatory_from is None:
        assert s["mandatory"] is True
    else:
        assert s["mandatory_born_from"] == mandatory_from
