"""Print the mutation score of each critical target and fail when a goal is missed.

Reads what ``mutmut run`` left (``mutmut results --all true`` and ``mutmut
show``), groups mutants by the targets of ``targets.toml`` and explains the
survivors listed in ``survivors.toml``. Usage: ``python -m tests.mutation.report``
scores what the last ``mutmut run`` left; ``make mutate`` goes through run.py). Exit code 1 when a goal is missed.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: mutmut statuses: caught by the suite, or not (a mutant no test runs is not caught).
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests"}
NAME = re.compile(r"^\s*(?P<name>[\w.]+)__mutmut_(?P<n>\d+): (?P<status>[\w ]+)$")


@dataclass
class Target:
    module: str
    what: str
    goal: str | float
    functions: list[str] = field(default_factory=list)
    #: Test files run against this target's mutants (``make mutate``; see selection.py).
    tests: list[str] = field(default_factory=list)
    killed: int = 0
    explained: list[tuple[str, str]] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)
    other: int = 0
    #: ``mutmut show`` of each surviving mutant (kept by run.py).
    diffs: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict) -> "Target":
        return cls(**{**data, "explained": [tuple(e) for e in data["explained"]]})

    def owns(self, module: str, function: str) -> bool:
        return module == self.module and (not self.functions or function in self.functions)

    @property
    def total(self) -> int:
        return self.killed + len(self.explained) + len(self.survived) + self.other

    @property
    def score(self) -> float:
        judged = self.killed + len(self.explained) + len(self.survived)
        return (self.killed + len(self.explained)) / judged if judged else 1.0

    @property
    def met(self) -> bool:
        if self.goal == "zero":
            return not self.survived
        return self.score >= float(self.goal)


def split(name: str) -> tuple[str, str]:
    """Return (module, function) of a mutant key such as ``cvn.access.x_open_access``."""
    module, _, mangled = name.rpartition(".")
    function = mangled[2:] if mangled.startswith("x_") else mangled
    if "ǁ" in function:  # methods: x_Class__ǁmethod
        function = function.split("ǁ")[-1]
    return module, function


def mutated_lines(key: str, runner) -> list[str]:
    """Return the lines a mutant adds, as ``mutmut show`` prints them.

    A mutant that only deletes (an argument alone on its line) adds none: its lines
    are then the deleted ones, each prefixed with "-", as survivors.toml lists them.
    """
    diff = runner(["mutmut", "show", key]).splitlines()
    added = [line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")]
    return added or ["-" + line[1:].strip() for line in diff if line.startswith("-") and not line.startswith("---")]


def load_targets(path: Path = HERE / "targets.toml") -> list[Target]:
    return [Target(**{k: v for k, v in t.items()}) for t in tomllib.loads(path.read_text())["target"]]


def load_survivors(path: Path = HERE / "survivors.toml") -> list[dict]:
    return tomllib.loads(path.read_text()).get("survivor", [])


def judge(results: str, targets: list[Target], survivors: list[dict], runner) -> list[Target]:
    """Sort each mutant of ``mutmut results --all true`` into its target."""
    for line in results.splitlines():
        match = NAME.match(line)
        if not match:
            continue
        key = f"{match['name']}__mutmut_{match['n']}"
        module, function = split(match["name"])
        owner = next((t for t in targets if t.owns(module, function)), None)
        if owner is None:
            continue
        status = match["status"].strip()
        if status in KILLED:
            owner.killed += 1
        elif status in SURVIVED:
            added = mutated_lines(key, runner)
            reason = next((s["reason"] for s in survivors if s["module"] == module and s["function"] == function
                           and any(s["line"] == line for line in added)), None)
            if reason:
                owner.explained.append((key, reason))
            else:
                owner.survived.append(key)
        else:  # not checked, timeout, suspicious, no tests…
            owner.other += 1
    return targets


def table(targets: list[Target]) -> str:
    rows = ["| target | mutants | killed | harmless (listed) | surviving | score | goal |",
            "|---|---|---|---|---|---|---|"]
    for t in targets:
        goal = "none survives" if t.goal == "zero" else f"≥ {float(t.goal):.0%}"
        rows.append(f"| {t.what} (`{t.module}`) | {t.total} | {t.killed} | {len(t.explained)} | "
                    f"{len(t.survived)} | {t.score:.1%} | {goal} {'✓' if t.met else '✗'} |")
    return "\n".join(rows)


def run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout


def main(argv: list[str] | None = None) -> int:
    targets = judge(run(["mutmut", "results", "--all", "true"]), load_targets(), load_survivors(), run)
    print(table(targets))
    for t in targets:
        for key in t.survived:
            print(f"\nSURVIVED {key}:\n" + run(["mutmut", "show", key]))
    return 0 if all(t.met for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
