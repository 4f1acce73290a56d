"""Web load: gunicorn (2 workers, production settings) under wrk, each page as a ratio to the bare layout.

The dataset is ``flask cvn bench-seed`` (200 professionals, 100,000 carnets,
about 1.5 million doses) in CVN_BENCH_WEB_DATABASE_URL (PostgreSQL; seeded once,
then reused), else a temporary SQLite file at CVN_BENCH_WEB_SCALE (0.1 by default,
written to web-sqlite.json/.md, the README left alone).
For each target: the floor (``/hors-ligne``, anonymous) then the target, three
rounds, medians; requests/s, p50/p95/p99 and the ratio to the floor of the same
run. Figures from a shared machine are noisy: the ratios are what count.
Results: bench/results/web.json and web.md; the README's table is refreshed.
"""
from __future__ import annotations

import http.client
import os
import statistics
import subprocess  # nosec B404  # flask db upgrade / bench-seed, fixed argument lists
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import webreport
from bench.webload import ROOT, Browser, Server, run_wrk, wrk_available

#: The bench database's key: the seed seals the professionals' TOTP secrets with it.
SECRET = "bench-web-only-secret-key-0123456789abcdef0123456789abcdef"
FLOOR_PATH = "/hors-ligne"


@dataclass(frozen=True)
class Target:
    """One URL under load. Add a line to TARGETS to measure another page or fragment."""

    key: str
    label: str
    path: str
    role: str = "pro"  # pro | owner | visitor (the log-in form's CSRF cookie only)
    method: str = "GET"
    htmx: bool = False
    connections: int = 4
    expect: int = 200
    form: dict = field(default_factory=dict)


TARGETS = [
    Target("pro_carnet", "Carnet, professional (20 doses)", "/carnets/{carnet}"),
    Target("owner_carnet", "Carnet, owner (20 doses)", "/carnets/{carnet}", role="owner"),
    Target("carnet_fragment", "Carnet, htmx fragment (dose list)", "/carnets/{carnet}", htmx=True),
    Target("patientele", "Patientèle, page 1", "/pro/"),
    Target("search", "Patientèle, search \"dur\"", "/pro/?q=dur"),
    Target("search_fragment", "Search \"dur\", htmx fragment", "/pro/?q=dur", htmx=True),
    Target("patientele_1c", "Patientèle, page 1 (1 connection)", "/pro/", connections=1),
    Target("search_1c", "Search \"dur\" (1 connection)", "/pro/?q=dur", connections=1),
    Target("login", "Log-in (POST, owner)", "/connexion", role="visitor", method="POST", expect=303,
           form={"email": "bench-owner2@exemple.fr"}),
]


def goals(results: dict) -> dict[str, tuple[str, bool | None]]:
    """Return each target's goal from the issue and whether this run meets it."""
    by = results["targets"]
    out = {}
    for key in ("pro_carnet", "owner_carnet"):
        if key in by:
            r = by[key]
            out[key] = ("≥ 0.5 × floor, p95 < 15 ms", r["ratio"] >= 0.5 and r["p95_ms"] < 15)
    for key in ("patientele_1c", "search_1c"):
        if key in by:
            out[key] = ("p95 < 10 ms at 1 connection", by[key]["p95_ms"] < 10)
    if "search_fragment" in by and "search" in by:
        share = by["search"]["rps"] / by["search_fragment"]["rps"] if by["search_fragment"]["rps"] else 9
        out["search_fragment"] = (f"cost ≤ ½ the full page (here {share:.2f})", share <= 0.5)
    return out


def _env(url: str, instance: str) -> dict[str, str]:
    return {"CVN_DATABASE_URL": url, "CVN_SECRET_KEY": SECRET, "CVN_INSTANCE_PATH": instance,
            "FLASK_APP": "wsgi", "CVN_MAIL_DELIVERY": "outbox", "CVN_RATELIMIT_STORAGE_URL": "memory://"}


def prepare(url: str, scale: float, instance: str) -> None:
    """Build the schema and seed the dataset unless the database already holds it."""
    env = {**os.environ, **_env(url, instance)}
    env.pop("CVN_ENV", None)
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)  # nosec B603
    seeded = subprocess.run([flask, "cvn", "bench-seed", "--scale", str(scale)], cwd=ROOT, env=env,  # nosec
                            capture_output=True, text=True)
    if seeded.returncode != 0 and "déjà des carnets" not in seeded.stdout + seeded.stderr:
        raise RuntimeError("bench-seed a échoué :\n" + seeded.stdout + seeded.stderr)


def dataset(url: str, instance: str) -> dict:
    """Return what the database holds (carnets, doses) and the ids the targets need."""
    from sqlalchemy import func, select

    from cvn import create_app
    from cvn.extensions import db
    from cvn.models import Carnet, Dose

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "CVN_ENV": "testing",
                      "CVN_SCHEDULER": False})
    with app.app_context():
        info = {"carnets": db.session.scalar(select(func.count()).select_from(Carnet)),
                "doses": db.session.scalar(select(func.count()).select_from(Dose)),
                "carnet": db.session.scalar(select(Carnet.public_id).where(Carnet.id == 1)),
                "carnet_doses": db.session.scalar(select(func.count()).select_from(Dose).where(Dose.carnet_id == 1)),
                "database": db.engine.dialect.name}
        db.session.remove()
        db.engine.dispose()
    return info


def _headers(target: Target, cookies: dict[str, str]) -> dict[str, str]:
    headers = {"Cookie": cookies[target.role]} if cookies.get(target.role) else {}
    if target.htmx:
        headers["HX-Request"] = "true"
    if target.method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers


def run(url: str, scale: float = 1.0, seconds: float = 5.0, rounds: int = 3, targets=None,
        outdir: Path | None = None, readme: Path | None = None, name: str = "web") -> dict:
    """Seed if needed, serve with gunicorn, load every target; write and return the results."""
    from urllib.parse import urlencode

    from cvn.benchseed.services import PASSWORD, TOTP_SECRET

    targets = targets or TARGETS
    with tempfile.TemporaryDirectory() as instance:
        started = time.perf_counter()
        prepare(url, scale, instance)
        info = dataset(url, instance)
        seed_seconds = time.perf_counter() - started
        server = Server({**_env(url, instance), "CVN_ENV": "production", "CVN_BASE_URL": "https://localhost",
                         # Limits would answer 429 to a load tool: counted per process they measure nothing here.
                         "CVN_RATELIMIT_ENABLED": "0"})
        server.start()
        try:
            pro, owner, visitor = Browser(server.port), Browser(server.port), Browser(server.port)
            pro.log_in("bench-pro1@exemple.fr", PASSWORD, TOTP_SECRET)
            owner.log_in("bench-owner1@exemple.fr", PASSWORD)
            token = visitor.token()
            cookies = {"pro": pro.cookie_header(), "owner": owner.cookie_header(), "visitor": visitor.cookie_header()}
            measured = {}
            for target in targets:
                path = target.path.format(carnet=info["carnet"])
                body = urlencode({"csrf_token": token, "password": PASSWORD, **target.form}) if target.form else ""
                headers = _headers(target, cookies)
                status, page = _send(server.port, target.method, path, headers, body)
                if status != target.expect:
                    raise RuntimeError(f"{target.key}: {target.method} {path} answered {status}, not {target.expect}")
                run_wrk(server.port, target.method, path, headers, body, min(1.0, seconds), target.connections)
                floors, loads = [], []
                for _round in range(rounds):
                    floors.append(run_wrk(server.port, "GET", FLOOR_PATH, {}, "", seconds, target.connections))
                    loads.append(run_wrk(server.port, target.method, path, headers, body, seconds,
                                         target.connections))
                measured[target.key] = _summary(target, path, floors, loads, len(page.encode()))
                print(f"  {target.label:<42} {measured[target.key]['rps']:8.1f} req/s  "
                      f"×{measured[target.key]['ratio']:.2f}  p95 {measured[target.key]['p95_ms']:.1f} ms",
                      flush=True)
        finally:
            server.stop()
    results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "dataset": info,
               "seed_or_check_seconds": round(seed_seconds, 1), "workers": server.workers, "seconds": seconds,
               "rounds": rounds, "cpus": os.cpu_count(), "floor": FLOOR_PATH,
               "worker_peak_rss_mb": round(max(server.peak_rss.values(), default=0) / 2**20, 1),
               "targets": measured}
    results["goals"] = {k: {"goal": g, "met": m} for k, (g, m) in goals(results).items()}
    if outdir is not None:
        webreport.write(results, outdir, readme, name)
    return results


def _send(port: int, method: str, path: str, headers: dict, body: str) -> tuple[int, str]:
    """Send the target's request once, as wrk will (same headers and body); return status and page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    page = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, page


def _summary(target: Target, path: str, floors: list[dict], loads: list[dict], size: int) -> dict:
    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    # Rounded first, so the ratio is the one a reader computes from the figures shown beside it.
    floor_rps, rps = round(med(floors, "rps"), 1), round(med(loads, "rps"), 1)
    return {"label": target.label, "method": target.method, "path": path, "htmx": target.htmx,
            "connections": target.connections, "rps": round(rps, 1), "floor_rps": round(floor_rps, 1),
            "ratio": round(rps / floor_rps, 4) if floor_rps else 0.0,
            "p50_ms": round(med(loads, "p50_us") / 1000, 2), "p95_ms": round(med(loads, "p95_us") / 1000, 2),
            "p99_ms": round(med(loads, "p99_us") / 1000, 2),
            "floor_p95_ms": round(med(floors, "p95_us") / 1000, 2),
            "errors": sum(r["errors_status"] + r["errors_socket"] for r in loads), "response_bytes": size,
            "rounds": [{"floor_rps": round(f["rps"], 1), "rps": round(r["rps"], 1)} for f, r in zip(floors, loads)]}


def main() -> None:
    if not wrk_available():
        print("  wrk absent (apt-get install wrk) : mesure web sautée.")
        return
    url = os.environ.get("CVN_BENCH_WEB_DATABASE_URL", "").strip()
    seconds = float(os.environ.get("CVN_BENCH_WEB_SECONDS", "5"))
    here = Path(__file__).resolve().parent
    targets, out = selected(os.environ.get("CVN_BENCH_WEB_TARGETS", ""))
    # A selection writes its own files (web-<keys>.json/.md) and leaves the README's full table alone.
    readme = ROOT / "README.md" if targets is None else None
    if url:
        from cvn.config import normalize_database_url

        run(normalize_database_url(url), 1.0, seconds, targets=targets, outdir=here / "results", readme=readme,
            name=out)
        return
    scale = float(os.environ.get("CVN_BENCH_WEB_SCALE", "0.1"))
    with tempfile.TemporaryDirectory() as tmp:
        print(f"  SQLite, échelle {scale} (CVN_BENCH_WEB_DATABASE_URL=postgresql://… pour la mesure régionale)")
        # Beside the regional results, never over them nor in the README.
        run(f"sqlite:///{tmp}/bench_web.sqlite3", scale, seconds, targets=targets, outdir=here / "results",
            name=out.replace("web", "web-sqlite", 1))


def selected(keys: str) -> tuple[list[Target] | None, str]:
    """Return the targets named in ``keys`` (comma-separated, e.g. ``pro_carnet,owner_carnet``) and the
    results' file name; no keys: every target (None) and ``web``."""
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    if not wanted:
        return None, "web"
    unknown = set(wanted) - {t.key for t in TARGETS}
    if unknown:
        raise SystemExit(f"cibles inconnues : {', '.join(sorted(unknown))} (voir TARGETS dans bench/bench_web.py)")
    return [t for t in TARGETS if t.key in wanted], "web-" + "-".join(wanted)


if __name__ == "__main__":
    main()
