"""Patientèle: list and search stay flat from 12,500 to 100,000 carnets in the database.

The professional under test keeps the same 2,000 carnets (a centre 10,000) at
both sizes; only the rest of the table grows. Reports the median time of each
query and the ratio: near 1 means the cost follows the patientèle, not the table.
Runs on SQLite, and on PostgreSQL too when CVN_BENCH_DATABASE_URL is set.
"""
from __future__ import annotations

import statistics
import time

from flask_migrate import upgrade
from sqlalchemy import select

from bench.data import make_professional, on_each_backend, populate
from cvn import create_app
from cvn.pro.services import patientele
from cvn.extensions import db
from cvn.models import Carnet

SIZES = (12_500, 100_000)
#: The professional under test keeps 2,000 carnets; a big centre keeps 10,000.
MINE, CENTRE = 2_000, 10_000


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "CVN_ENV": "testing",
                       "SECRET_KEY": "bench", "CVN_SCHEDULER": False})


def _reset(url: str) -> None:
    from tests.conftest import _drop_everything

    _drop_everything(url)


def _median_ms(fn, repeat: int = 15) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def measure(url: str, total: int) -> dict[str, float]:
    _reset(url)
    app = _app(url)
    with app.app_context():
        upgrade()
        me, centre = make_professional(1), make_professional(2)
        db.session.commit()
        populate(total, {me.id: MINE, centre.id: CENTRE})
        a_birth = db.session.scalar(select(Carnet.birth_date).limit(1))
        results = {
            "page 1": _median_ms(lambda: patientele(me)),
            "page 5": _median_ms(lambda: patientele(me, page=5)),
            "name 'eloise'": _median_ms(lambda: patientele(me, "eloise")),
            "name 'dur elo'": _median_ms(lambda: patientele(me, "dur elo")),
            "birth date": _median_ms(lambda: patientele(me, birth_date=a_birth)),
            "centre page 1": _median_ms(lambda: patientele(centre)),
            "centre 'martin'": _median_ms(lambda: patientele(centre, "martin")),
        }
        db.session.remove()
        db.engine.dispose()
    return results


def run(url: str, label: str) -> None:
    small, large = (measure(url, n) for n in SIZES)
    print(f"  {label}: median ms at {SIZES[0]:,} → {SIZES[1]:,} carnets (ratio)")
    for key in small:
        print(f"    {key:<18} {small[key]:7.2f} → {large[key]:7.2f}   ×{large[key] / small[key]:.2f}")


def main() -> None:
    on_each_backend(run)


if __name__ == "__main__":
    main()
