"""Run mutmut on each critical module against its own tests, then print the score table.

``make mutate`` runs this. For each module of ``targets.toml`` (or those whose
name contains one of the arguments), it starts a fresh ``mutmut run`` limited to
the target functions, with ``CVN_MUTATION_TESTS`` naming the target's test
files (see ``selection.py``) and a migrated SQLite database copied for each
mutant instead of migrated again. Scores are saved in
``mutants-scores/<module>.json`` so modules can be run one at a time; the table
covers every module scored so far. Exit code 1 when a goal is missed.

Usage: ``python -m tests.mutation.run [--max-children N] [--recheck | --resume] [module ...]``
(``--recheck``: after writing a test, run the last run's survivors of one module
again, in the ``mutants/`` it left; ``--resume``: go on with an interrupted run of
one module, say with more workers).
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.mutation import report

ROOT = report.HERE.parent.parent
SCORES = ROOT / "mutants-scores"


def patterns(targets: list[report.Target]) -> list[str]:
    """Return mutmut's selection for these targets: whole modules, or their functions."""
    if any(not t.functions for t in targets):
        return [f"{targets[0].module}.*"]
    return [f"{t.module}.x_{name}__mutmut_*" for t in targets for name in t.functions]


def unjudged(selection: list[str], root: Path) -> list[str]:
    """Return the mutants of this selection an interrupted run left without a verdict (from mutmut's .meta files)."""
    names = []
    for meta in sorted((root / "mutants").rglob("*.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code is None and any(fnmatch.fnmatchcase(name, pattern) for pattern in selection):
                names.append(name)
    return names


def run_module(module: str, targets: list[report.Target], max_children: int,
               recheck: list[str] | None = None, resume: bool = False) -> list[report.Target]:
    """Mutate one module, run its targets' tests, and judge the mutants.

    With ``recheck`` (mutant names), keep the last run of this module and run
    only those mutants again, against the tests as they are now. With ``resume``,
    keep the ``mutants/`` an interrupted run of this module left: mutmut runs only
    the mutants it had not judged yet.
    """
    tests = sorted({test for t in targets for test in t.tests})
    if not recheck and not resume:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CVN_MUTATION_TESTS": " ".join(tests),
               "CVN_TEST_SQLITE_TEMPLATE": str(Path(tmp) / "migrated.sqlite3"),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("CVN_TEST_DATABASE_URL", None)  # mutation runs on SQLite
        print(f"== {module}: mutants of {len(targets)} target(s) against {len(tests)} test files or tests", flush=True)
        # mutmut runs again every mutant named: a resumed run names those still without a verdict
        chosen = recheck or (unjudged(patterns(targets), ROOT) if resume else patterns(targets))
        subprocess.run(["mutmut", "run", "--max-children", str(max_children), *chosen],
                       cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def runner(command):
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False).stdout

    judged = report.judge(runner(["mutmut", "results", "--all", "true"]), targets, report.load_survivors(), runner)
    for target in judged:
        target.diffs = {key: runner(["mutmut", "show", key]) for key in target.survived}
    return judged


def merge(last: list[report.Target], again: list[report.Target]) -> list[report.Target]:
    """Return the last run's scores with its survivors judged again (a recheck judges those only)."""
    merged = []
    for old in last:
        new = next(t for t in again if t.what == old.what)
        rechecked = set(old.survived)
        explained = [e for e in new.explained if e[0] in rechecked]
        survived = [key for key in new.survived if key in rechecked]
        merged.append(report.Target(
            module=old.module, what=old.what, goal=old.goal, functions=old.functions, tests=new.tests,
            # a rechecked mutant no longer surviving nor listed as harmless was killed by the tests as they are now
            killed=old.killed + len(rechecked) - len(explained) - len(survived),
            explained=old.explained + explained, survived=survived, other=old.other,
            diffs={key: diff for key, diff in new.diffs.items() if key in rechecked}))
    return merged


def save(module: str, targets: list[report.Target]) -> None:
    SCORES.mkdir(exist_ok=True)
    (SCORES / f"{module}.json").write_text(json.dumps([t.as_dict() for t in targets], ensure_ascii=False, indent=1))


def load_all() -> list[report.Target]:
    """Return every target scored so far, in the order of targets.toml."""
    scored = {}
    for path in SCORES.glob("*.json"):
        for data in json.loads(path.read_text()):
            scored[(data["module"], data["what"])] = report.Target.from_dict(data)
    return [scored[(t.module, t.what)] for t in report.load_targets() if (t.module, t.what) in scored]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--recheck", action="store_true",
                        help="run again only the last run's survivors of one module (still in mutants/)")
    parser.add_argument("--resume", action="store_true",
                        help="go on with an interrupted run of one module (its mutants/ kept), with as many workers as asked")
    parser.add_argument("modules", nargs="*", help="run only the modules whose name contains one of these")
    args = parser.parse_args(argv)
    by_module: dict[str, list[report.Target]] = {}
    for target in report.load_targets():
        by_module.setdefault(target.module, []).append(target)
    for module, targets in by_module.items():
        if args.modules and not any(part in module for part in args.modules):
            continue
        if args.recheck:
            last = [t for t in load_all() if t.module == module]
            survivors = [key for t in last for key in t.survived]
            if survivors:
                save(module, merge(last, run_module(module, targets, args.max_children, recheck=survivors)))
            continue
        save(module, run_module(module, targets, args.max_children, resume=args.resume))
    targets = load_all()
    print(report.table(targets))
    for target in targets:
        for key, diff in target.diffs.items():
            print(f"\nSURVIVED {key}:\n{diff}")
    return 0 if all(t.met for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
