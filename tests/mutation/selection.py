"""A pytest plugin for mutation runs: collect only the test files of the target under test.

``make mutate`` runs mutmut once per module with ``CVN_MUTATION_TESTS`` set to
the target's test files (space-separated, from ``targets.toml``); mutmut's
stats pass and every mutant then run those files only. Unset, it changes nothing.
"""
from __future__ import annotations

import os
from pathlib import Path


def pytest_ignore_collect(collection_path: Path, config):
    """Skip the test files not named for this run."""
    wanted = os.environ.get("CVN_MUTATION_TESTS", "").split()
    if not wanted or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    return True if collection_path.name not in {Path(w).name for w in wanted} else None
