from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from lianfang.areas import service
from lianfang.areas.choices import AreaLevel, CoordSource, PopulationSource
from lianfang.areas.files import JIANGSU
from lianfang.areas.loading import load_directory
from lianfang.areas.models import Area, AreaPopulation
from lianfang.auth.choices import AuditAction, Role
from lianfang.auth.models import AuditEvent
from lianfang.auth.scope import SYSTEM
from lianfang.demo.world import census_totals
from lianfang.errors import ImportFileError, NotFoundError, PermissionDenied
from tests.factories import COUNTY, OTHER_COUNTY_TOWN, OTHER_TOWN, TOWN, actor_of

NANTONG_COUNTIES = {
    "通州区",
    "崇川区",
    "海门区",
    "如东县",
    "南通经济技术开发区",
    "启东市",
    "如皋市",
    "海安市",
}


def test_nantong_has_its_real_divisions(session: Session) -> None:
    info = service.detail(session=session, actor=SYSTEM, code="3206")
    assert info.area.name == "南通市"
    assert [a.name for a in info.ancestors] == ["江苏省"]
    assert (info.counts.counties, info.counts.towns, info.counts.villages) == (8, 136, 2005)
    kids = service.children(session=session, actor=SYSTEM, code="320600000000")
    assert {k.name for k in kids} == NANTONG_COUNTIES


def test_population_matches_the_census_and_rolls_up(session: Session) -> None:
    kids = service.children(session=session, actor=SYSTEM, code="3206")
    totals = census_totals()
    for kid in kids:
        assert kid.population is not None
        assert kid.population.total == totals[kid.code]
    city = service.detail(session=session, actor=SYSTEM, code="3206").population
    assert city is not None
    assert city.total == 7_726_635
    assert city.share_65_plus == pytest.approx(0.227, abs=0.002)
    towns = service.children(session=session, actor=SYSTEM, code=COUNTY)
    county = next(k for k in kids if k.code == COUNTY)
    assert sum(t.population.total for t in towns if t.population) == county.population.total  # type: ignore[union-attr]


def test_every_village_has_placed_coordinates_and_is_marked_placed(session: Session) -> None:
    missing = session.scalar(
        select(func.count())
        .select_from(Area)
        .where(
            Area.code.like("3206%"),
            Area.level.in_([AreaLevel.town, AreaLevel.village]),
            Area.lon.is_(None),
        )
    )
    assert missing == 0
    data = service.map_data(session=session, actor=SYSTEM, code="3206")
    assert data.placed is True
    assert len(data.points) == 136 + 2005
    assert len(data.boundaries["features"]) == 7  # type: ignore[arg-type]  # 开发区 has no polygon


def test_loading_again_changes_nothing(session: Session) -> None:
    report = load_directory(session=session, actor=SYSTEM, within="3206")
    assert report.inserted == 0
    assert report.updated == 0
    assert report.unchanged == 1 + 1 + 8 + 136 + 2005


def test_a_bad_row_writes_nothing_and_names_file_row_column(
    session: Session, tmp_path: Path
) -> None:
    for name in ("cities", "areas", "streets"):
        (tmp_path / f"{name}.csv").write_bytes(
            __import__("gzip").decompress((JIANGSU / f"{name}.csv.gz").read_bytes())
        )
    (tmp_path / "villages.csv").write_text(
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '320623001999,"新村",320623001,32,3206,320623\n'
        '32062300199,"短码村",320623001,32,3206,320623\n'
        '320623001998,"错上级村",320623002,32,3206,320623\n',
        encoding="utf-8",
    )
    before = session.scalar(select(func.count()).select_from(Area))
    with pytest.raises(ImportFileError) as caught:
        load_directory(session=session, actor=SYSTEM, directory=tmp_path, within="3206")
    rows = caught.value.rows
    assert [(r.sheet, r.row, r.column) for r in rows] == [
        ("villages.csv", 3, "code"),
        ("villages.csv", 4, "streetCode"),
    ]
    assert "villages.csv 第 3 行「code」列" in caught.value.zh
    assert session.scalar(select(func.count()).select_from(Area)) == before


def test_a_missing_column_is_named(tmp_path: Path, session: Session) -> None:
    (tmp_path / "cities.csv").write_text("code,title\n3299,x\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="name"):
        load_directory(session=session, actor=SYSTEM, directory=tmp_path)


def test_scope_limits_reading(session: Session) -> None:
    town_operator = actor_of(Role.town_operator)
    assert service.detail(session=session, actor=town_operator, code=TOWN).area.code == TOWN
    for elsewhere in (OTHER_TOWN, OTHER_COUNTY_TOWN, COUNTY, "3206"):
        with pytest.raises(PermissionDenied):
            service.detail(session=session, actor=town_operator, code=elsewhere)
        with pytest.raises(PermissionDenied):
            service.children(session=session, actor=town_operator, code=elsewhere)
        with pytest.raises(PermissionDenied):
            service.map_data(session=session, actor=town_operator, code=elsewhere)


def test_search_only_finds_areas_in_scope(session: Session) -> None:
    everywhere = service.search(session=session, actor=SYSTEM, query="街道", limit=100)
    assert any(a.code.startswith("320612") for a in everywhere)
    district = actor_of(Role.district_operator)
    found = service.search(session=session, actor=district, query="街道", limit=100)
    assert found
    assert all(a.code.startswith("320623") for a in found)
    by_code = service.search(session=session, actor=SYSTEM, query="320623", limit=5)
    assert by_code[0].code == COUNTY
    assert service.search(session=session, actor=district, query="%", limit=5) == []


def test_unknown_code_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="3299"):
        service.detail(session=session, actor=SYSTEM, code="3299")


def test_coordinates_import_is_all_or_nothing(session: Session) -> None:
    with pytest.raises(NotFoundError):
        service.set_coordinates(
            session=session,
            actor=SYSTEM,
            points={TOWN: (121.1, 32.3), "320623999000": (121.0, 32.0)},
            source=CoordSource.surveyed,
            label="t.csv",
        )
    count = service.set_coordinates(
        session=session,
        actor=SYSTEM,
        points={TOWN: (121.1, 32.3)},
        source=CoordSource.surveyed,
        label="t.csv",
    )
    assert count == 1
    town = session.get(Area, TOWN)
    assert town is not None
    assert (town.lon, town.lat, town.coord_source) == (121.1, 32.3, CoordSource.surveyed)


def test_population_import_replaces_and_is_audited(session: Session) -> None:
    village = "320623001001"
    service.set_population(
        session=session,
        actor=SYSTEM,
        bands={village: [1, 2, 3, 4, 5]},
        source=PopulationSource.census,
        year=2022,
    )
    row = session.get(AreaPopulation, village)
    assert row is not None
    assert (row.age_80_plus, row.source, row.year) == (5, PopulationSource.census, 2022)
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None
    assert last.action is AuditAction.update
    assert last.entity_type == "area_population"


def test_only_managers_change_areas(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        service.set_coordinates(
            session=session,
            actor=actor_of(Role.city_commander),
            points={},
            source=CoordSource.surveyed,
            label="x",
        )


def test_children_cost_a_fixed_number_of_queries(session: Session) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        for code in ("3206", COUNTY, TOWN):
            statements.clear()
            service.children(session=session, actor=SYSTEM, code=code)
            assert 3 <= len(statements) <= 4, statements  # area, children, counts, population
    finally:
        event.remove(connection, "before_cursor_execute", count)
