"""Two (or many) clerks issuing the last units at the same moment: exactly as many issues
succeed as there were units, on real concurrent connections of SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.scope import SYSTEM
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.db.migrate import upgrade
from lianfang.errors import ConflictError
from lianfang.resources import ledger
from lianfang.resources.models import Facility, StockBalance, StockMovement
from tests.conftest import BACKENDS, empty_database
from tests.resources.factories import facility, item

CLERKS = 8
UNITS = 3


@pytest.fixture(scope="module", params=BACKENDS)
def race_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of its own (the clerks commit), holding one clinic."""
    url = empty_database(request.param, tmp_path_factory, name="lf_resources_race")
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        for code, level, parent in (
            ("320000000000", AreaLevel.province, None),
            ("320600000000", AreaLevel.city, "320000000000"),
        ):
            session.add(Area(code=code, parent_code=parent, level=level, name=code,
                             lon=120.9, lat=32.0))  # fmt: skip
        session.flush()
        facility(session, "RACE", "320600000000")
    yield engine
    engine.dispose()


def test_the_last_units_go_to_exactly_as_many_clerks(race_engine: Engine) -> None:
    factory = make_sessionmaker(race_engine)
    with transaction(factory) as session:
        place = session.scalar(select(Facility).where(Facility.code == "RACE"))
        assert place is not None
        thing = item(session, "oximeter")
        ledger.receive(
            session=session, actor=SYSTEM, facility_id=place.id, item_id=thing.id, quantity=UNITS
        )
        place_id, item_id = place.id, thing.id
    start = threading.Barrier(CLERKS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def clerk(n: int) -> None:
        start.wait()
        try:
            with transaction(factory) as session:
                ledger.issue(
                    session=session, actor=SYSTEM, facility_id=place_id, item_id=item_id,
                    quantity=1, ward=f"clerk {n}",
                )  # fmt: skip
            result = "issued"
        except ConflictError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(CLERKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["issued"] * UNITS + ["refused"] * (CLERKS - UNITS)
    with factory() as session:
        held = session.scalar(
            select(StockBalance.balance).where(
                StockBalance.facility_id == place_id, StockBalance.item_id == item_id
            )
        )
        issued = session.scalar(
            select(func.count()).where(
                StockMovement.facility_id == place_id, StockMovement.quantity == -1
            )
        )
        total = session.scalar(
            select(func.sum(StockMovement.quantity)).where(StockMovement.facility_id == place_id)
        )
    assert held == 0 == total
    assert issued == UNITS
