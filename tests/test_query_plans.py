"""Query plans on PostgreSQL: the patientèle follows the professional's accesses, never scans every carnet.

On a seeded dataset (``flask cvn bench-seed --scale 0.2``: 20,000 carnets, the
first professional keeping 400), the statements ``patientele()`` runs for page 1
and for a name search are captured as the app sends them (same connection
settings), then ``EXPLAIN``ed: no node may be a sequential scan of ``carnet``.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from cvn.pro.services import patientele
from cvn.config import finish
from cvn.extensions import db
from cvn.models import Base, User
from tests.conftest import TEST_DATABASE_URL

postgres_only = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgres"),
                                   reason="query plans are checked on PostgreSQL")


def test_each_postgresql_connection_prices_random_reads_as_memory_or_ssd():
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db", "CVN_PG_RANDOM_PAGE_COST": "1.1"}
    finish(config)
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == "-c random_page_cost=1.1"
    tuned = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db", "CVN_PG_RANDOM_PAGE_COST": "2"}
    finish(tuned)
    assert tuned["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == "-c random_page_cost=2"
    with pytest.raises(ValueError):  # only a number reaches the connection's options
        finish({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db", "CVN_PG_RANDOM_PAGE_COST": "1 -c x=y"})
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    finish(sqlite)
    assert "connect_args" not in sqlite["SQLALCHEMY_ENGINE_OPTIONS"]


def scans(plan: dict) -> list[tuple[str, str]]:
    """Return (node type, relation) for every node of an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan.get("Node Type"), plan.get("Relation Name"))]
    for child in plan.get("Plans", []):
        found += scans(child)
    return found


def captured(run) -> list[tuple[str, dict]]:
    """Run ``run()`` and return the SELECT statements it sent that read ``carnet``."""
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "carnet." in statement:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return sent


@pytest.fixture
def seeded(runner):
    """Seed 20,000 carnets; empty the tables after with one TRUNCATE (row-by-row deletes take minutes)."""
    assert runner.invoke(args=["cvn", "bench-seed", "--scale", "0.2"]).exit_code == 0
    yield
    db.session.rollback()
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} CASCADE"))
    db.session.commit()


@postgres_only
def test_patientele_and_its_search_never_scan_the_carnet_table(seeded):
    pro = db.session.scalar(select(User).where(User.email == "bench-pro1@exemple.fr"))
    statements = captured(lambda: (patientele(pro), patientele(pro, "dur"), patientele(pro, "dur elo")))
    assert len(statements) >= 3
    for statement, parameters in statements:
        plan = db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                                       parameters).scalar()[0]["Plan"]
        nodes = scans(plan)
        assert ("Seq Scan", "carnet") not in nodes, (statement, nodes)
    # The first page really is this professional's 25 newest carnets.
    page = patientele(pro)
    assert len(page.rows) == 25 and page.has_next
