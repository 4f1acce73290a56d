"""Build the benchmark dataset: 200 professionals, 100,000 carnets, about 1.5 million doses.

Deterministic (one seeded ``random.Random``, fixed dates, explicit ids): two runs
give the same rows. Rows go in by bulk: ``COPY … FROM STDIN`` on PostgreSQL,
``executemany`` on SQLite, a few thousand carnets at a time, so the whole set
loads in minutes. What it holds, at ``scale=1``:

- 200 verified professionals ``bench-pro{n}@exemple.fr`` with an authenticator app
  (:data:`TOTP_SECRET`); the first keeps 2,000
  carnets (a busy practice), the others share the rest;
- 100,000 carnets, 5 to 25 doses each (mean 15) following the French infant
  schedule, then boosters and yearly flu; carnet 1 has exactly 20;
- owners for 60 % of the carnets (``bench-owner{n}@exemple.fr``, two carnets
  each, like a parent), their last dose often only declared, half of them
  subscribed to alerts;
- 3 % of the carnets were shared with a second professional whose access the
  owner ended: an ended access and its frozen archive (canonical JSON + SHA-256).

Every account's password is :data:`PASSWORD`.
"""
from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select, text
from werkzeug.security import generate_password_hash

from cvn.archives.services import canonical, digest
from cvn.auth.factors import enrol_totp
from cvn.carnets.services import search_key
from cvn.extensions import db
from cvn.models import Carnet, User
from cvn.schedule.catalogue import products

PASSWORD = "bench-cvn-2026"
#: Every professional's authenticator-app secret (sealed with the app's SECRET_KEY, so the web
#: processes reading this database must run with the key the seed ran with).
TOTP_SECRET = "BENCHCVNPROTOTPSECRETXYZ23456722"
#: The instant the dataset describes (fixed, so two runs give the same rows).
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
CARNETS, PROFESSIONALS, FIRST_PRO_CARNETS = 100_000, 200, 2_000
#: Carnets loaded per batch (one COPY per table per batch).
BATCH = 5_000

LAST = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
        "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
        "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
        "Müller", "Nguyen", "Da Silva", "Benali", "Hoarau", "Le Gall", "Ménard", "Chevalier",
        "Garnier", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Gauthier", "Perrin",
        "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson"]
FIRST = ["Éloïse", "Léa", "Chloé", "Inès", "Zoé", "Jade", "Louise", "Hélène", "Gabriel", "Léo",
         "Raphaël", "Noé", "Jules", "Adam", "Lucas", "Maël", "Anaïs", "Agnès", "Loïc", "Jérôme",
         "François", "Amélie", "Cécile", "Éric", "Noémie", "Thaïs", "Camille", "Manon", "Hugo",
         "Arthur", "Alice", "Paul", "Emma", "Nathan", "Sarah", "Tom", "Julie", "Marc", "Anne"]
#: (age in days, product code): the infant schedule, childhood and adult boosters.
SCHEDULE = [(61, "hexyon"), (61, "prevenar13"), (122, "hexyon"), (122, "prevenar13"), (152, "neisvac"),
            (335, "hexyon"), (335, "prevenar13"), (365, "priorix"), (365, "neisvac"), (487, "priorix"),
            (2190, "tetravac"), (4020, "boostrixtetra"), (4020, "gardasil9"), (4200, "gardasil9"),
            (9130, "repevax"), (16430, "revaxis"), (23730, "revaxis")]
SITES = ["deltoid_left", "deltoid_right", "thigh_left", "thigh_right"]


@dataclass
class Summary:
    """How many rows of each kind were written."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n


class Loader:
    """Bulk-write tuples into tables: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self):
        self.postgres = db.engine.dialect.name == "postgresql"
        self.summary = Summary()

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        raw = db.session.connection().connection.driver_connection
        names = ", ".join(columns)
        if self.postgres:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.cursor().executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                                     [tuple(_sqlite(v) for v in row) for row in rows])
        self.summary.add(table, len(rows))

    def finish(self) -> None:
        """Move the id sequences past the explicit ids, and refresh the planner's statistics."""
        if self.postgres:
            for table in ("user_account", "carnet", "carnet_access", "dose", "ownership", "archive",
                          "alert_subscription"):
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        db.session.commit()
        if self.postgres:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def _sqlite(value):
    """Give SQLite dates and datetimes in the text form SQLAlchemy stores."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


USER_COLUMNS = ("id", "email", "password_hash", "first_name", "last_name", "role", "is_admin", "profession",
                "rpps", "verified_at", "created_at", "auth_version", "email_confirmed_at", "code_failures")
CARNET_COLUMNS = ("id", "public_id", "last_name", "first_names", "birth_date", "sex", "search_name",
                  "created_at", "created_by_id", "flags", "last_activity_at")
ACCESS_COLUMNS = ("id", "carnet_id", "professional_id", "granted_at", "ended_at")
DOSE_COLUMNS = ("id", "carnet_id", "product_code", "product_name", "diseases", "administered_on",
                "lot_number", "dose_label", "injection_site", "route", "state", "recorded_by_id",
                "recorded_at", "validated_by_id", "validated_at")
OWNERSHIP_COLUMNS = ("id", "carnet_id", "user_id", "since")
SUBSCRIPTION_COLUMNS = ("id", "carnet_id", "user_id", "created_at")
ARCHIVE_COLUMNS = ("id", "carnet_id", "professional_id", "access_id", "frozen_at", "ended_by_id",
                   "content", "sha256")


class Seeder:
    """Generate the rows batch by batch with one seeded random source."""

    def __init__(self, scale: float, seed: int):
        self.rng = random.Random(seed)
        self.carnets = max(10, round(CARNETS * scale))
        self.pros = max(3, round(PROFESSIONALS * scale))
        self.first_pro_carnets = max(5, min(self.carnets // 2, round(FIRST_PRO_CARNETS * scale)))
        self.password_hash = generate_password_hash(PASSWORD, method="scrypt")
        self.loader = Loader()
        self.ids = {"user": self.pros, "access": 0, "dose": 0, "ownership": 0, "archive": 0, "subscription": 0}
        self.names: dict[int, str] = {}
        self.catalogue = products()

    def next_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def public_id(self) -> str:
        return base64.urlsafe_b64encode(self.rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")

    def professionals(self) -> None:
        rows = []
        for n in range(1, self.pros + 1):
            first, last = FIRST[n % len(FIRST)], f"Bench{n}"
            self.names[n] = f"Dr {first} {last}"
            rows.append((n, f"bench-pro{n}@exemple.fr", self.password_hash, first, last, "professional", False,
                         "medecin", f"{10_000_000_000 + n}", _naive(NOW - timedelta(days=400)),
                         _naive(NOW - timedelta(days=400)), 1, _naive(NOW - timedelta(days=400)), 0))
        self.loader.write("user_account", USER_COLUMNS, rows)
        for n in range(1, self.pros + 1):
            enrol_totp(db.session.get(User, n), TOTP_SECRET, 0)
        db.session.flush()

    def pro_of(self, carnet_id: int) -> int:
        """Return the professional who keeps this carnet (the first keeps the first carnets)."""
        if carnet_id <= self.first_pro_carnets:
            return 1
        return 2 + carnet_id % (self.pros - 1)

    def doses_for(self, birth: date, count: int) -> list[tuple[date, str]]:
        """Return ``count`` (date, product code) pairs a holder born on ``birth`` plausibly had."""
        age = (NOW.date() - birth).days
        given = [(birth + timedelta(days=d), code) for d, code in SCHEDULE if d < age][:count]
        year = NOW.year - 1
        while len(given) < count:
            day = date(year, 10, 15 + self.rng.randrange(0, 40) // 3)
            if day <= birth:
                break
            given.append((day, "vaxigrip" if year % 3 else "comirnaty"))
            year -= 1
        return sorted(given)

    def batch(self, first: int, last: int) -> None:
        rng, rows = self.rng, {k: [] for k in ("user", "carnet", "access", "dose", "own", "sub", "archive")}
        for cid in range(first, last + 1):
            last_name, first_names = rng.choice(LAST), rng.choice(FIRST)
            birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 31_000))
            if cid == 1:  # the carnet the load benchmark opens: an adult with 20 doses
                birth = date(1988, 5, 14)
            pro = self.pro_of(cid)
            created = NOW - timedelta(days=rng.randrange(30, 900))
            activity = NOW - timedelta(minutes=rng.randrange(0, 400_000))
            rows["carnet"].append((cid, self.public_id(), last_name, first_names, birth, rng.choice("FM"),
                                   search_key(last_name, first_names), _naive(created), pro, "[]",
                                   _naive(activity)))
            rows["access"].append((self.next_id("access"), cid, pro, _naive(created), None))
            owner = self.owner_for(cid, rows) if cid == 1 or rng.random() < 0.6 else None
            count = 20 if cid == 1 else rng.randint(5, 25)
            doses, plan = [], self.doses_for(birth, count)
            for k, (day, code) in enumerate(plan):
                product = self.catalogue[code]
                declared = owner is not None and k == len(plan) - 1 and rng.random() < 0.5
                by = owner if declared else pro
                at = _naive(datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=10))
                dose = (self.next_id("dose"), cid, product.code, product.name, json.dumps(list(product.diseases)),
                        day, f"L{rng.randrange(10_000, 99_999)}", None, rng.choice(SITES), "im",
                        "declared" if declared else "validated", by, at,
                        None if declared else pro, None if declared else at)
                doses.append(dose)
            rows["dose"] += doses
            if owner is not None and rng.random() < 0.05:
                self.ended_access(cid, owner, (last_name, first_names, birth), doses, rows)
        for key, table, columns in (("user", "user_account", USER_COLUMNS), ("carnet", "carnet", CARNET_COLUMNS),
                                    ("access", "carnet_access", ACCESS_COLUMNS), ("dose", "dose", DOSE_COLUMNS),
                                    ("own", "ownership", OWNERSHIP_COLUMNS),
                                    ("sub", "alert_subscription", SUBSCRIPTION_COLUMNS),
                                    ("archive", "archive", ARCHIVE_COLUMNS)):
            self.loader.write(table, columns, rows[key])

    def owner_for(self, cid: int, rows: dict) -> int:
        """Return the owner account of this carnet (a new one every second owned carnet)."""
        if self.ids["ownership"] % 2 == 0:
            n = self.ids["ownership"] // 2 + 1
            uid = self.next_id("user")
            self.names[uid] = f"Parent{n} Bench"
            rows["user"].append((uid, f"bench-owner{n}@exemple.fr", self.password_hash, f"Parent{n}", "Bench",
                                 "patient", False, None, None, None, _naive(NOW - timedelta(days=300)), 1,
                                 _naive(NOW - timedelta(days=300)), 0))
        else:
            uid = self.ids["user"]
        rows["own"].append((self.next_id("ownership"), cid, uid, _naive(NOW - timedelta(days=200))))
        if self.rng.random() < 0.5:
            rows["sub"].append((self.next_id("subscription"), cid, uid, _naive(NOW - timedelta(days=100))))
        return uid

    def ended_access(self, cid: int, owner: int, holder: tuple, doses: list[tuple], rows: dict) -> None:
        """Give the carnet a second professional whose access the owner ended, and its archive."""
        pro = 2 + (cid * 7) % (self.pros - 1)
        if pro == self.pro_of(cid):
            pro = 2 + (pro - 1) % (self.pros - 1)
        frozen = NOW - timedelta(days=self.rng.randrange(1, 100))
        access_id = self.next_id("access")
        rows["access"].append((access_id, cid, pro, _naive(frozen - timedelta(days=150)), _naive(frozen)))
        last_name, first_names, birth = holder
        kept = [d for d in doses if d[12] <= _naive(frozen)]
        content = canonical({
            "frozen_at": frozen.isoformat(),
            "holder": {"last_name": last_name, "first_names": first_names, "birth_date": birth.isoformat(),
                       "sex": rows["carnet"][-1][5]},
            "doses": [{"id": d[0], "product_code": d[2], "product_name": d[3], "diseases": json.loads(d[4]),
                       "administered_on": d[5].isoformat(), "lot_number": d[6], "dose_label": d[7],
                       "injection_site": d[8], "route": d[9], "note": None, "state": d[10],
                       "recorded_by": self.names.get(d[11]),
                       "recorded_at": d[12].replace(tzinfo=timezone.utc).isoformat(),
                       "validated_by": self.names.get(d[13]) if d[13] else None,
                       "validated_at": d[14].replace(tzinfo=timezone.utc).isoformat() if d[14] else None,
                       "rejection_reason": None} for d in kept],
        })
        rows["archive"].append((self.next_id("archive"), cid, pro, access_id, _naive(frozen), owner,
                                content, digest(content)))


def seed(scale: float = 1.0, seed_value: int = 14, progress=None) -> Summary:
    """Write the dataset into an empty database; return the row counts."""
    if db.session.scalar(select(func.count()).select_from(Carnet)):
        raise ValueError("La base contient déjà des carnets : bench-seed remplit une base vide.")
    seeder = Seeder(scale, seed_value)
    seeder.professionals()
    for first in range(1, seeder.carnets + 1, BATCH):
        last = min(first + BATCH - 1, seeder.carnets)
        seeder.batch(first, last)
        db.session.commit()
        if progress:
            progress(last, seeder.carnets)
    seeder.loader.finish()
    return seeder.loader.summary
