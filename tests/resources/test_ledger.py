"""The stock ledger: balances follow movements, never go below zero, corrections are
counter-movements, every line is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth import chain
from lianfang.auth.choices import Role
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDenied
from lianfang.resources import ledger
from lianfang.resources.choices import FacilityType, MovementKind
from lianfang.resources.models import StockBalance, StockMovement
from tests.factories import OTHER_COUNTY_TOWN, TOWN, VILLAGE, actor_of
from tests.resources.factories import facility, item


def balance(session: Session, facility_id: int, item_id: int) -> int:
    return (
        session.scalar(
            select(StockBalance.balance).where(
                StockBalance.facility_id == facility_id, StockBalance.item_id == item_id
            )
        )
        or 0
    )


def ledger_sum(session: Session, facility_id: int, item_id: int) -> int:
    return (
        session.scalar(
            select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
                StockMovement.facility_id == facility_id, StockMovement.item_id == item_id
            )
        )
        or 0
    )


def test_movements_keep_the_balance_equal_to_the_ledger(session: Session) -> None:
    clinic = facility(session, "T-CLINIC", VILLAGE)
    centre = facility(session, "T-CENTRE", TOWN, FacilityType.township_centre)
    ibu = item(session, "ibuprofen")
    actor = actor_of(Role.village_worker)
    ledger.receive(session=session, actor=actor, facility_id=clinic.id, item_id=ibu.id, quantity=30)
    ledger.issue(
        session=session, actor=actor, facility_id=clinic.id, item_id=ibu.id, quantity=4, ward="门诊"
    )
    ledger.transfer(
        session=session, actor=SYSTEM, facility_id=clinic.id, to_facility_id=centre.id,
        item_id=ibu.id, quantity=6,
    )  # fmt: skip
    counted = ledger.count(
        session=session, actor=actor, facility_id=clinic.id, item_id=ibu.id, counted=18
    )
    assert counted is not None
    assert counted.kind is MovementKind.adjustment
    assert counted.quantity == -2
    assert counted.balance_after == 18
    assert balance(session, clinic.id, ibu.id) == 18 == ledger_sum(session, clinic.id, ibu.id)
    assert balance(session, centre.id, ibu.id) == 6 == ledger_sum(session, centre.id, ibu.id)
    events = session.scalars(
        select(AuditEvent.entity_type).where(AuditEvent.entity_type == "stock_movement")
    ).all()
    assert len(events) >= 5  # receipt, issue, two sides of the transfer, adjustment
    assert chain.verify(session).broken is None


def test_an_issue_beyond_the_balance_is_refused_and_writes_nothing(session: Session) -> None:
    clinic = facility(session, "T-CLINIC", VILLAGE)
    ox = item(session, "oximeter")
    ledger.receive(session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ox.id, quantity=2)
    before = session.scalar(select(func.count()).select_from(StockMovement))
    with pytest.raises(ConflictError, match="holds only 2"), session.begin_nested():
        ledger.issue(
            session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ox.id,
            quantity=3, ward="x",
        )  # fmt: skip
    assert balance(session, clinic.id, ox.id) == 2
    assert session.scalar(select(func.count()).select_from(StockMovement)) == before


def test_a_correction_reverses_both_sides_of_a_transfer_once(session: Session) -> None:
    a = facility(session, "T-A", VILLAGE)
    b = facility(session, "T-B", TOWN, FacilityType.township_centre)
    az = item(session, "azvudine")
    ledger.receive(session=session, actor=SYSTEM, facility_id=a.id, item_id=az.id, quantity=10)
    out, _ = ledger.transfer(
        session=session, actor=SYSTEM, facility_id=a.id, to_facility_id=b.id, item_id=az.id,
        quantity=7,
    )  # fmt: skip
    lines = ledger.reverse(session=session, actor=SYSTEM, movement_id=out.id, note="录错")
    assert sorted(m.quantity for m in lines) == [-7, 7]
    assert {m.kind for m in lines} == {MovementKind.correction}
    assert balance(session, a.id, az.id) == 10
    assert balance(session, b.id, az.id) == 0
    with pytest.raises(ConflictError, match="already corrected"):
        ledger.reverse(session=session, actor=SYSTEM, movement_id=out.id, note="again")
    with pytest.raises(InvalidInputError):
        ledger.reverse(session=session, actor=SYSTEM, movement_id=lines[0].id, note="x")


def test_a_correction_cannot_take_stock_that_was_issued(session: Session) -> None:
    clinic = facility(session, "T-CLINIC", VILLAGE)
    ibu = item(session, "ibuprofen")
    got = ledger.receive(
        session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ibu.id, quantity=5
    )
    ledger.issue(
        session=session, actor=SYSTEM, facility_id=clinic.id, item_id=ibu.id, quantity=3, ward="x"
    )
    with pytest.raises(ConflictError), session.begin_nested():
        ledger.reverse(session=session, actor=SYSTEM, movement_id=got.id, note="退回")
    assert balance(session, clinic.id, ibu.id) == 2


def test_scope_and_own_facility_rules(session: Session) -> None:
    far = facility(session, "T-FAR", OTHER_COUNTY_TOWN, FacilityType.township_centre)
    ibu = item(session, "ibuprofen")
    with pytest.raises(NotFoundError):  # another county: the town operator cannot see it
        ledger.receive(
            session=session, actor=actor_of(Role.town_operator), facility_id=far.id,
            item_id=ibu.id, quantity=1,
        )  # fmt: skip
    with pytest.raises(PermissionDenied, match="facilities you operate"):
        ledger.receive(
            session=session, actor=actor_of(Role.hospital_operator), facility_id=far.id,
            item_id=ibu.id, quantity=1,
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        ledger.receive(
            session=session, actor=actor_of(Role.viewer), facility_id=far.id, item_id=ibu.id,
            quantity=1,
        )  # fmt: skip
