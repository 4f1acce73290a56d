"""A tiny run of the web load harness (`make bench`): gunicorn + wrk on a small SQLite dataset.

Checks the harness works end to end (seed, log-ins through the real forms,
alternated floor/target runs, JSON + Markdown), not the speed. Skipped when wrk
is missing, unless CVN_REQUIRE_WRK=1 (CI installs it and sets that).
"""
from __future__ import annotations

import json
import os

import pytest

from bench import bench_web, webload, webreport

pytestmark = pytest.mark.skipif(not webload.wrk_available() and os.environ.get("CVN_REQUIRE_WRK") != "1",
                                reason="wrk is not installed (apt-get install wrk)")

SMOKE = [t for t in bench_web.TARGETS if t.key in ("pro_carnet", "search_fragment", "login")]


def test_the_harness_measures_each_target_against_the_floor(tmp_path):
    assert webload.wrk_available(), "CVN_REQUIRE_WRK=1 but wrk is missing"
    results = bench_web.run(f"sqlite:///{tmp_path}/bench.sqlite3", scale=0.002, seconds=1, rounds=1,
                            targets=SMOKE, outdir=tmp_path / "results")
    assert results["dataset"]["carnets"] == 200 and results["dataset"]["carnet_doses"] == 20
    assert set(results["targets"]) == {"pro_carnet", "search_fragment", "login"}
    for figures in results["targets"].values():
        assert figures["rps"] > 0 and figures["floor_rps"] > 0 and figures["errors"] == 0
        assert figures["ratio"] == pytest.approx(figures["rps"] / figures["floor_rps"], abs=2e-3)
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert results["targets"]["search_fragment"]["htmx"] is True
    assert results["worker_peak_rss_mb"] > 20
    assert results["goals"]["pro_carnet"]["goal"].startswith("≥ 0.5")
    written = json.loads((tmp_path / "results" / "web.json").read_text())
    assert written["targets"]["login"]["method"] == "POST"
    table = (tmp_path / "results" / "web.md").read_text()
    assert table.count("\n| ") == 4  # header + 3 targets


def test_the_readme_table_is_replaced_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Titre\n\n{webreport.BEGIN}\nancienne table\n{webreport.END}\n\nSuite.\n")
    results = {"when": "2026-11-30 14:00 UTC", "workers": 2, "seconds": 5, "rounds": 3, "cpus": 2,
               "floor": "/hors-ligne", "worker_peak_rss_mb": 160.0,
               "dataset": {"database": "postgresql", "carnets": 100000, "doses": 1500000, "carnet_doses": 20},
               "targets": {"pro_carnet": {"label": "Carnet", "method": "GET", "path": "/carnets/abc", "htmx": False,
                                          "connections": 4, "rps": 48.0, "floor_rps": 1580.0, "ratio": 0.03,
                                          "p50_ms": 81.0, "p95_ms": 95.0, "p99_ms": 120.0, "errors": 0}},
               "goals": {"pro_carnet": {"goal": "≥ 0.5 × floor", "met": False}}}
    webreport.write(results, tmp_path / "out", readme)
    text = readme.read_text()
    assert "ancienne table" not in text and text.startswith("# Titre") and text.endswith("Suite.\n")
    assert "| Carnet (`GET /carnets/…`) | 4 | 48 | 1580 | 0.03 |" in text
    assert "100\u202f000 carnets" in text and "**missed**" in text
