"""``flask cvn calendar``: the review document is generated from the data the engine reads, and committed up to date."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from cvn.schedule.catalogue import DATA
from cvn.schedule.rules import load_raw
from cvn.schedule.review import calendar_command, calendar_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "calendrier.md"


def test_committed_review_document_is_up_to_date():
    """Regenerate with: flask cvn calendar > docs/calendrier.md"""
    assert DOC.read_text(encoding="utf-8") == calendar_markdown()


def test_command_prints_the_document():
    result = CliRunner().invoke(calendar_command)
    assert result.exit_code == 0
    assert result.stdout == calendar_markdown()


def test_every_series_rule_source_and_decision_is_in_the_document():
    doc = calendar_markdown()
    for series in load_raw()["series"]:
        assert f"`{series['id']}`" in doc
        assert series["source"] in doc
        for dose in series.get("dose", []) + [d for v in series.get("variant", []) for d in v.get("dose", [])]:
            assert f"| {dose['label']} |" in doc and dose["source"] in doc
    text = (DATA / "calendar.toml").read_text(encoding="utf-8")
    assert len(re.findall(r"\bDECISION\b", text)) == len(re.findall(r"\bDECISION\b", doc)) > 5


def test_seasons_are_named_with_their_dates():
    doc = calendar_markdown()
    assert "Saison 2025-2026 : du 14 octobre 2025 au 28 février 2026" in doc
    assert "Saison 2025-2026 : du 1er septembre 2025 au 31 janvier 2026" in doc
