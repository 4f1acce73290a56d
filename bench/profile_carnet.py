"""Profile one page under the bench dataset: SQL statements (count, time, slowest) and where Python spends.

Usage (the database seeded by ``bench_web``, same secret key)::

    CVN_BENCH_WEB_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_web \\
        .venv/bin/python -m bench.profile_carnet [--owner] [--htmx] [--path /pro/?q=dur] [-n 20]

Runs the page through the Flask test client in production mode (no HTTP, no
gunicorn), logged in through the real forms, ``-n`` times after one warm-up.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import time
from collections import defaultdict

import pyotp
from sqlalchemy import event, select

from bench.bench_web import SECRET
from cvn import create_app
from cvn.benchseed.services import PASSWORD, TOTP_SECRET
from cvn.config import normalize_database_url
from cvn.extensions import db
from cvn.models import Carnet

TOKEN = re.compile(r'id="csrf-token" data-token="([^"]+)"')


def _log_in(client, email: str, pro: bool) -> None:
    token = TOKEN.search(client.get("/connexion").get_data(as_text=True)).group(1)
    response = client.post("/connexion", data={"csrf_token": token, "email": email, "password": PASSWORD})
    if pro:
        token = TOKEN.search(client.get("/connexion/code").get_data(as_text=True)).group(1)
        response = client.post("/connexion/code", data={"csrf_token": token, "code": pyotp.TOTP(TOTP_SECRET).now()})
        if response.status_code != 303:  # that code was spent: the next one
            time.sleep(31 - time.time() % 30)
            token = TOKEN.search(client.get("/connexion/code").get_data(as_text=True)).group(1)
            response = client.post("/connexion/code", data={"csrf_token": token,
                                                            "code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.status_code == 303, f"log-in failed ({response.status_code})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owner", action="store_true", help="as the carnet's owner, not the professional")
    parser.add_argument("--htmx", action="store_true", help="as an htmx request (the fragment)")
    parser.add_argument("--path", default=None, help="another page than carnet 1")
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime …")
    parser.add_argument("--lines", type=int, default=35, help="profile lines printed")
    args = parser.parse_args()
    url = normalize_database_url(os.environ.get("CVN_BENCH_WEB_DATABASE_URL",
                                                "postgresql://postgres@127.0.0.1:5432/bench_web"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "CVN_ENV": "production",
                      "RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False, "CVN_SCHEDULER": False})
    client = app.test_client()
    with app.app_context():
        public_id = db.session.scalar(select(Carnet.public_id).where(Carnet.id == 1))
        engine = db.engine
    _log_in(client, "bench-owner1@exemple.fr" if args.owner else "bench-pro1@exemple.fr", not args.owner)
    path = args.path or f"/carnets/{public_id}"
    headers = {"HX-Request": "true"} if args.htmx else {}
    assert client.get(path, headers=headers).status_code == 200

    statements: dict[str, list[float]] = defaultdict(list)

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        statements[" ".join(statement.split())[:160]].append(time.perf_counter() - conn.info["t0"].pop())

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.n):
        client.get(path, headers=headers)
    profiler.disable()
    elapsed = (time.perf_counter() - started) / args.n
    sql_time = sum(sum(v) for v in statements.values()) / args.n
    count = sum(len(v) for v in statements.values()) / args.n
    print(f"{path}{' (htmx)' if args.htmx else ''} as {'owner' if args.owner else 'professional'}: "
          f"{elapsed * 1000:.1f} ms a request, {count:.0f} SQL statements taking {sql_time * 1000:.1f} ms")
    print("\nslowest statements (ms per request, times per request):")
    for text, times in sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  {sum(times) * 1000 / args.n:7.2f}  ×{len(times) / args.n:<4.0f} {text}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.lines)
    print("\n" + out.getvalue())


if __name__ == "__main__":
    main()
