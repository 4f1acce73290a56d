"""A tiny smoke run of the mutation harness (`make mutate`): mutmut on a toy module, then the report.

The real run over the critical modules takes long and is not part of
``make test``; this checks that mutmut works here and that the report counts
killed and surviving mutants and explains listed survivors.
"""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.mutation import report


def test_mutmut_runs_and_the_report_scores_it(tmp_path):
    mutmut = Path(sys.executable).with_name("mutmut")
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "__init__.py").write_text("")
    (tmp_path / "toy" / "rule.py").write_text(textwrap.dedent('''
        def adult(age):
            return age >= 18


        def label(age):
            return "majeur" if adult(age) else "mineur"
    '''))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_rule.py").write_text(textwrap.dedent('''
        from toy.rule import adult, label


        def test_adult_boundary():
            assert adult(18) and not adult(17)


        def test_label_is_called():
            label(30)  # asserts nothing: its mutants survive
    '''))
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''
        [tool.mutmut]
        source_paths = ["toy"]
        pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]
    '''))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    subprocess.run([str(mutmut), "run", "--max-children", "1"], cwd=tmp_path, env=env, capture_output=True,
                   timeout=300, check=False)

    def runner(command):
        command = [str(mutmut)] + command[1:] if command[0] == "mutmut" else command
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False).stdout

    targets = [report.Target("toy.rule", "boundary", "zero", ["adult"]),
               report.Target("toy.rule", "label", 0.9, ["label"])]
    survivors = [{"module": "toy.rule", "function": "label", "line": 'return "XXmajeurXX" if adult(age) else "mineur"',
                  "reason": "wording only"}]
    judged = report.judge(runner(["mutmut", "results", "--all", "true"]), targets, survivors, runner)
    boundary, label = judged
    assert boundary.total >= 2 and boundary.killed == boundary.total and boundary.met
    assert label.survived and not label.met, "a test that asserts nothing lets mutants survive"
    assert [reason for _, reason in label.explained] == ["wording only"]
    assert "| boundary (`toy.rule`) |" in report.table(judged)
    shutil.rmtree(tmp_path / "mutants", ignore_errors=True)


def test_each_module_runs_its_target_functions_against_its_own_tests(tmp_path):
    """run.py asks mutmut for the target functions only; selection.py keeps the target's tests only."""
    from tests.mutation import run

    narrowed = [report.Target("cvn.x", "claim", "zero", ["claim", "_revoke"])]
    assert run.patterns(narrowed) == ["cvn.x.x_claim__mutmut_*", "cvn.x.x__revoke__mutmut_*"]
    assert run.patterns(narrowed + [report.Target("cvn.x", "all", 0.9)]) == ["cvn.x.*"]
    for name in ("test_a.py", "test_b.py"):
        (tmp_path / name).write_text("def test_one():\n    pass\n\n\ndef test_two():\n    pass\n")
    env = {**os.environ, "CVN_MUTATION_TESTS": "tests/test_a.py::test_two", "PYTHONPATH": str(Path.cwd())}
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.mutation.selection", "-p", "no:cacheprovider",
                          "-q", "--collect-only", "-c", os.devnull, str(tmp_path)], env=env, capture_output=True,
                         text=True, check=False).stdout
    assert "test_a.py::test_two" in out and "test_one" not in out and "test_b.py" not in out, out


def test_a_recheck_keeps_the_first_run_and_judges_its_survivors_again():
    from tests.mutation import report
    from tests.mutation.run import merge

    first = report.Target(module="m", what="w", goal=0.9, killed=90, explained=[("m.x__mutmut_1", "equal")],
                          survived=["m.x__mutmut_2", "m.x__mutmut_3", "m.x__mutmut_4"], other=2)
    # The recheck saw only those three: one now killed, one listed as harmless, one still alive.
    again = report.Target(module="m", what="w", goal=0.9, killed=1, explained=[("m.x__mutmut_3", "same")],
                          survived=["m.x__mutmut_4"], other=95)
    (merged,) = merge([first], [again])
    assert (merged.killed, len(merged.explained), merged.survived, merged.other) == (91, 2, ["m.x__mutmut_4"], 2)
    assert merged.total == first.total and round(merged.score, 3) == round(93 / 94, 3)


def test_a_mutant_that_only_deletes_a_line_is_listed_by_that_line():
    from tests.mutation import report

    shown = {"m.x_f__mutmut_1": "--- m.py\n+++ m.py\n@@ -1,3 +1,2 @@\n     or_(a,\n-        b,\n         c)\n",
             "m.x_f__mutmut_2": "--- m.py\n+++ m.py\n@@ -1 +1 @@\n-    b,\n+    None,\n"}
    results = "    m.x_f__mutmut_1: survived\n    m.x_f__mutmut_2: survived\n"
    listed = [{"module": "m", "function": "f", "line": "-b,", "reason": "b is implied by a"}]
    (target,) = report.judge(results, [report.Target(module="m", what="w", goal=0.9)], listed,
                             lambda command: shown[command[-1]])
    # the deletion matches "-b,"; the replacement adds "None,", which is not listed
    assert target.explained == [("m.x_f__mutmut_1", "b is implied by a")]
    assert target.survived == ["m.x_f__mutmut_2"]


#: Decorated functions allowed in a mutation target: they hold no rule of their own.
UNMUTATED_ON_PURPOSE = {("cvn.access", "wrapper")}  # _guarded's wrapper: calls the rule, then the view


def test_no_rule_of_a_target_hides_in_a_decorated_function():
    """mutmut skips decorated functions: a rule written in one would never be mutated, and its score would lie."""
    import ast
    import importlib.util

    found = set()
    for target in report.load_targets():
        path = Path(importlib.util.find_spec(target.module).origin)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    not (isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")) for d in node.decorator_list):
                found.add((target.module, node.name))
    assert found == UNMUTATED_ON_PURPOSE


def test_a_mutation_run_starts_every_test_with_the_engine_memos_empty(monkeypatch):
    """Else only the first test needing a memoised answer would be mapped to its function's mutants."""
    from datetime import date

    from cvn.schedule import engine
    from cvn.schedule.engine import Person, evaluate
    from tests.mutation import selection

    def filled():
        evaluate(Person(date(1950, 3, 1), "F"), [], date(2026, 3, 2))
        return bool(engine._UNDOSED) and engine.C._bounds.cache_info().currsize > 0

    monkeypatch.delenv("CVN_MUTATION_TESTS", raising=False)
    assert filled()
    selection.pytest_runtest_setup(None)
    assert engine._UNDOSED, "outside a mutation run the plugin changes nothing"
    monkeypatch.setenv("CVN_MUTATION_TESTS", "tests/test_clinical_cases.py")
    selection.pytest_runtest_setup(None)
    assert not engine._UNDOSED and engine.C._bounds.cache_info().currsize == 0 and not engine.S._DATES


def test_a_resumed_run_keeps_the_mutants_an_interrupted_run_left(monkeypatch, tmp_path):
    """``--resume`` keeps ``mutants/`` and names only the mutants without a verdict (mutmut reruns any it is given)."""
    import json
    from types import SimpleNamespace

    from tests.mutation import run

    meta = tmp_path / "mutants" / "cvn" / "x.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"cvn.x.x_a__mutmut_1": 1, "cvn.x.x_a__mutmut_2": None,
                                                     "cvn.x.x_b__mutmut_1": None, "cvn.y.x_a__mutmut_1": None}}))
    assert run.unjudged(["cvn.x.*"], tmp_path) == ["cvn.x.x_a__mutmut_2", "cvn.x.x_b__mutmut_1"]
    assert run.unjudged(["cvn.x.x_a__mutmut_*"], tmp_path) == ["cvn.x.x_a__mutmut_2"]

    removed, commands = [], []
    real_rmtree = run.shutil.rmtree
    monkeypatch.setattr(run, "ROOT", tmp_path)
    monkeypatch.setattr(run.shutil, "rmtree", lambda path, **kw: removed.append(path) if path == tmp_path / "mutants"
                        else real_rmtree(path, **kw))
    monkeypatch.setattr(run.subprocess, "run", lambda command, **kw: commands.append(command) or SimpleNamespace(stdout=""))
    targets = [report.Target("cvn.x", "all", 0.9, tests=["tests/test_x.py"])]
    run.run_module("cvn.x", targets, 2, resume=True)
    assert not removed
    assert ["mutmut", "run", "--max-children", "2", "cvn.x.x_a__mutmut_2", "cvn.x.x_b__mutmut_1"] in commands
    run.run_module("cvn.x", targets, 1)
    assert removed == [tmp_path / "mutants"] and ["mutmut", "run", "--max-children", "1", "cvn.x.*"] in commands
