"""Write the web load results: JSON, a Markdown table, and the README's copy of that table."""
from __future__ import annotations

import json
import re
from pathlib import Path

BEGIN, END = "<!-- bench:web -->", "<!-- /bench:web -->"


def _met(goal: dict | None) -> str:
    if not goal:
        return ""
    mark = "atteint" if goal["met"] else "**manqué**"
    return f"{goal['goal']} : {mark}"


def markdown(results: dict) -> str:
    """Return the results as a Markdown table with the run's conditions above it."""
    data = results["dataset"]
    lines = [
        f"Mesure du {results['when']} — {data['database']}, {_n(data['carnets'])} carnets, {_n(data['doses'])} doses "
        f"(carnet mesuré : {data['carnet_doses']} doses) ; gunicorn {results['workers']} workers (réglages de "
        f"production), wrk {results['seconds']:g} s par mesure, plancher `{results['floor']}` et cible "
        f"alternés, {results['rounds']} tours, médianes ; machine de {results['cpus']} cœurs partagée : "
        "les débits bruts sont bruités, les rapports au plancher comptent.",
        "",
        "| cible | conn. | req/s | plancher req/s | rapport | p50 ms | p95 ms | p99 ms | erreurs | objectif |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    goals = results.get("goals", {})
    for key, r in results["targets"].items():
        lines.append(f"| {r['label']} (`{r['method']} {_short(r['path'])}`{', htmx' if r['htmx'] else ''}) "
                     f"| {r['connections']} | {r['rps']:.0f} | {r['floor_rps']:.0f} | {r['ratio']:.2f} "
                     f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} "
                     f"| {_met(goals.get(key))} |")
    rss = results["worker_peak_rss_mb"]
    lines += ["", f"Mémoire : pic RSS d’un worker {rss:.0f} Mo (objectif ≤ 150 Mo : "
                  f"{'atteint' if rss <= 150 else '**manqué**'})."]
    return "\n".join(lines) + "\n"


def _n(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def _short(path: str) -> str:
    """Hide the carnet's public id in the table (it changes with the seed)."""
    return re.sub(r"/carnets/[^/?]+", "/carnets/…", path)


def write(results: dict, outdir: Path, readme: Path | None = None, name: str = "web") -> None:
    """Write ``name``.json and ``name``.md into ``outdir``; refresh the README's table between its markers."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / f"{name}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    table = markdown(results)
    (outdir / f"{name}.md").write_text(table, encoding="utf-8")
    if readme is not None and readme.exists():
        text = readme.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            readme.write_text(f"{head}{BEGIN}\n{table}{END}{tail}", encoding="utf-8")
