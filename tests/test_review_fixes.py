"""Fixes from the walk-through review (/work/notes/review.md): each test names its item."""
from __future__ import annotations

from datetime import date

import pytest

from cvn.status.services import Group, overview
from tests.html import one, text

ON = date(2026, 11, 30)


def group(status: str, next_date: date | None) -> Group:
    return Group(["measles"], status, next_date, None, False, "", 0)


def test_1_the_next_appointment_is_now_when_something_is_due():
    seen = overview([group("due", date(2026, 10, 15)), group("up_to_date", date(2036, 6, 14))], ON)
    assert seen.now and seen.next_date == ON
    seen = overview([group("overdue", date(2025, 1, 1)), group("not_yet", date(2027, 1, 1))], ON)
    assert seen.now and seen.next_date == ON


def test_1_the_next_appointment_is_the_earliest_future_date_when_nothing_is_due():
    seen = overview([group("up_to_date", date(2036, 6, 14)), group("not_yet", date(2027, 3, 1)),
                     group("complete", None)], ON)
    assert not seen.now and seen.next_date == date(2027, 3, 1)


@pytest.fixture
def pro(create_professional):
    return create_professional(first_name="Claire", last_name="Martin")


def test_1_the_header_says_now_when_doses_are_late(auth, client, pro, create_carnet):
    carnet = create_carnet(pro)
    auth.login(pro)
    line = text(one(client.get(f"/carnets/{carnet.public_id}"), "#status-line"))
    assert "en retard" in line
    assert line.endswith("prochain rendez-vous : dès maintenant")
