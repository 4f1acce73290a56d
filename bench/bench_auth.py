"""Accounts: no timing oracle on reset and sign-up, and what server-side sessions cost per request.

Measures, through the test client (no network), the median and spread of:
- a reset request for an address with an account vs. one without;
- a sign-up with a new address vs. one that already has an account;
- a logged-in page (the session row read, and the account) vs. a static file (no session).
The answers should be indistinguishable by time: the difference of medians is
printed next to each pair, with the spread (interquartile range) it hides in.
Runs on SQLite, and on PostgreSQL too when CVN_BENCH_DATABASE_URL is set.
"""
from __future__ import annotations

import itertools
import statistics
import time

from flask_migrate import upgrade

from bench.data import on_each_backend
from cvn import create_app
from cvn.extensions import db
from cvn.models import Role, User

PASSWORD = "correct horse battery"
REPEAT = 25


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "CVN_ENV": "testing",
                       "SECRET_KEY": "bench-secret-key-0123456789-abcdef", "CVN_SCHEDULER": False,
                       "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "CVN_BASE_URL": "http://cvn.test"})


def _samples(fn, repeat: int = REPEAT) -> list[float]:
    fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _describe(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=4)
    return f"median {statistics.median(samples):7.1f} ms (IQR {q[0]:.1f}–{q[2]:.1f})"


def measure(url: str) -> dict[str, list[float]]:
    from tests.conftest import _drop_everything

    _drop_everything(url)
    app = _app(url)
    counter = itertools.count()
    with app.app_context():
        upgrade()
        user = User(email="known@exemple.fr", first_name="Ana", last_name="Known", role=Role.PATIENT,
                    is_admin=False, auth_version=0, code_failures=0)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        client = app.test_client()

        def signup(email):
            client.post("/inscription/patient", data={"first_name": "Léa", "last_name": "Roux", "email": email,
                                                      "password": PASSWORD})
            client.post("/deconnexion")

        results = {
            "reset, account exists": _samples(lambda: client.post("/mot-de-passe/oublie",
                                                                  data={"email": "known@exemple.fr"})),
            "reset, no account": _samples(lambda: client.post("/mot-de-passe/oublie",
                                                              data={"email": "nobody@exemple.fr"})),
            "sign-up, new address": _samples(lambda: signup(f"new{next(counter)}@exemple.fr")),
            "sign-up, taken address": _samples(lambda: signup("known@exemple.fr")),
        }
        reader = app.test_client()
        reader.post("/connexion", data={"email": "known@exemple.fr", "password": PASSWORD})
        results["logged-in page (/compte)"] = _samples(lambda: reader.get("/compte"), 50)
        results["static file (no session)"] = _samples(lambda: reader.get("/static/css/cvn.css"), 50)
        db.session.remove()
        db.engine.dispose()
    return results


def run(url: str, label: str) -> None:
    results = measure(url)
    print(f"  {label}:")
    for key, samples in results.items():
        print(f"    {key:<28} {_describe(samples)}")
    for a, b in (("reset, account exists", "reset, no account"), ("sign-up, new address", "sign-up, taken address")):
        diff = statistics.median(results[a]) - statistics.median(results[b])
        print(f"    difference of medians, {a.split(',')[0]}: {diff:+.1f} ms")


def main() -> None:
    on_each_backend(run)


if __name__ == "__main__":
    main()
