"""A pytest plugin for mutation runs: collect only the tests of the target under test.

``make mutate`` runs mutmut once per module with ``CVN_MUTATION_TESTS`` set to
the target's tests (space-separated, from ``targets.toml``): test files, or
single tests as ``tests/test_x.py::test_name``. mutmut's stats pass and every
mutant then run those only, each test with the engine's memos emptied first. Unset, it
changes nothing.
"""
from __future__ import annotations

import os
from pathlib import Path


def _wanted() -> list[str]:
    return os.environ.get("CVN_MUTATION_TESTS", "").split()


def pytest_runtest_setup(item):
    """In a mutation run, start each test with the engine's memos empty.

    Two reasons. mutmut forks every mutant from a process that already ran the
    tests: answers the unmutated engine memoised (shared between carnets, dates in
    words, season bounds) would otherwise be served to the mutant and hide it. And
    mutmut runs, for each mutant, only the tests that called its function during
    its stats pass: with memos kept from one test to the next, only the first test
    to need an answer calls the function, and every other test that depends on it
    would never be run against its mutants.
    """
    if _wanted():
        from cvn.schedule.engine import forget_shared_answers
        forget_shared_answers()


def pytest_ignore_collect(collection_path: Path, config):
    """Skip the test files not named for this run."""
    wanted = _wanted()
    if not wanted or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    return True if collection_path.name not in {Path(w.split("::")[0]).name for w in wanted} else None


def pytest_collection_modifyitems(config, items):
    """In a file named with single tests, keep those tests only."""
    wanted = _wanted()
    chosen: dict[str, set[str]] = {}
    for entry in wanted:
        path, _, name = entry.partition("::")
        if name:
            chosen.setdefault(Path(path).name, set()).add(name)
    if chosen:
        items[:] = [item for item in items if item.path.name not in chosen
                    or item.originalname in chosen[item.path.name]]
