"""Portability: FHIR export, certificate, import preview and confirmation, data ZIP, on a large carnet.

A patient-created carnet with 60 declared doses; an import file of 500 distinct
Immunizations (the most one file may hold; about 0.1 MB). Through the test client
(no network). Runs on SQLite, and on PostgreSQL too when CVN_BENCH_DATABASE_URL is set.
"""
from __future__ import annotations

import io
import json
import time
from datetime import date, timedelta

from flask_migrate import upgrade

from bench.bench_auth import PASSWORD, _app, _describe, _samples
from bench.data import on_each_backend
from cvn.carnets import services as carnets
from cvn.extensions import db
from cvn.models import Role, Sex, User
from cvn.patient.services import create_own_carnet

BIRTH = date(1950, 1, 1)


def import_file(n: int = 500) -> bytes:
    """Return a JSON list of ``n`` Immunizations on distinct dates."""
    day = date(1960, 1, 1)
    return json.dumps([{"resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": "Vaxigrip"},
                        "patient": {"reference": "Patient/1"},
                        "occurrenceDateTime": (day + timedelta(days=30 * i)).isoformat(), "lotNumber": f"L{i}"}
                       for i in range(n)]).encode()


def measure(url: str) -> tuple[dict[str, list[float]], int]:
    from tests.conftest import _drop_everything

    _drop_everything(url)
    app = _app(url)
    with app.app_context():
        upgrade()
        user = User(email="owner@exemple.fr", first_name="Ana", last_name="Owner", role=Role.PATIENT,
                    is_admin=False, auth_version=0, code_failures=0)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        carnet = create_own_carnet(user, last_name="Owner", first_names="Ana", birth_date=BIRTH, sex=Sex.FEMALE)
        for i in range(60):
            carnets.record_dose(user, carnet, carnets.DoseInput("Boostrixtetra", [], date(1951, 1, 1)
                                                                + timedelta(days=365 * i)))
        empty = create_own_carnet(user, last_name="Owner", first_names="Bea", birth_date=BIRTH, sex=Sex.FEMALE)
        client = app.test_client()
        client.post("/connexion", data={"email": user.email, "password": PASSWORD})
        base, target = f"/carnets/{carnet.public_id}", f"/carnets/{empty.public_id}"
        raw = import_file()

        def preview():
            return client.post(target + "/import", data={"file": (io.BytesIO(raw), "f.json")},
                               content_type="multipart/form-data")

        results = {
            "FHIR export, 60 doses": _samples(lambda: client.get(base + "/export.fhir.json"), 15),
            "certificate page, 60 doses": _samples(lambda: client.get(base + "/attestation"), 15),
            "import preview, 500 doses": _samples(preview, 5),
            "data ZIP, 2 carnets": _samples(lambda: client.get("/compte/mes-donnees.zip"), 5),
        }
        page = preview().get_data(as_text=True)
        pending = page.split('name="pending" type="hidden" value="')[1].split('"')[0]
        t0 = time.perf_counter()
        client.post(target + "/import/confirmer", data={"pending": pending})
        results["import confirmation, 500 doses (once)"] = [(time.perf_counter() - t0) * 1000] * 4
        added = len(carnets.live_doses(empty))
        db.session.remove()
        db.engine.dispose()
    return results, added


def run(url: str, label: str) -> None:
    results, added = measure(url)
    print(f"  {label} ({len(import_file())/1e6:.2f} MB import file, {added} doses imported):")
    for key, samples in results.items():
        print(f"    {key:<38} {_describe(samples)}")


def main() -> None:
    on_each_backend(run)


if __name__ == "__main__":
    main()
