"""A sheet's village column takes a village's name where it is unique in the user's area, and
the template lists the user's villages (people/villages.py)."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM, Actor
from lianfang.errors import ImportFileError
from lianfang.io import sheets
from lianfang.people import villages
from lianfang.people.importing import import_table
from lianfang.people.models import Person
from lianfang.people.sheet import SPEC
from tests.conftest import bearer
from tests.factories import TOWN, id_number
from tests.web.test_pages import sign_in

HEADER = "姓名,身份证号,村(居)代码\n"
TOWN_ACTOR = Actor(user_id=None, username="town", role=Role.town_operator, area_code=TOWN)


def table(body: str, name: str = "people.csv") -> sheets.Table:
    return sheets.read((HEADER + body).encode(), name, SPEC)


def _names_under(session: Session, prefix: str) -> dict[str, list[str]]:
    """Village codes by registered name under a prefix, read straight from the area table."""
    rows = session.execute(
        select(Area.name, Area.code).where(
            Area.level == AreaLevel.village, Area.code.startswith(prefix)
        )
    )
    out: dict[str, list[str]] = {}
    for name, code in rows:
        out.setdefault(name, []).append(code)
    return out


XINQIAO = ["320612103214", "320614107201", "320623110211", "320681101212"]
"""The villages of Nantong registered as 新桥村委会 or 新桥村村委会 (the shipped divisions), by
hand: 新桥社区居委会 and 新桥镇村委会 are other places."""


def test_the_forms_of_a_registered_name_by_hand() -> None:
    assert villages.forms("新桥村委会") == {"新桥村委会", "新桥村", "新桥"}
    assert villages.forms("新桥村村委会") == {"新桥村村委会", "新桥村", "新桥"}
    assert villages.forms("朝阳社区居委会") == {"朝阳社区居委会", "朝阳社区", "朝阳"}
    assert villages.forms("新桥镇村委会") == {"新桥镇村委会", "新桥镇村", "新桥镇"}
    assert villages.forms("村委会") == {"村委会"}


def _shared(session: Session) -> tuple[str, list[str], str]:
    """A registered name borne by several villages of the city, one of them in the town: (name,
    the city's villages of that name, the town's one)."""
    city = _names_under(session, "3206")
    town = _names_under(session, codes.short(TOWN))
    for name, found in sorted(city.items()):
        if len(found) > 1 and len(town.get(name, [])) == 1:
            return name, sorted(found), town[name][0]
    pytest.fail("no village name of the town is shared with another town")


def test_the_example_of_the_issue(session: Session) -> None:
    """新桥村 names four villages of the city: the error names each with county and town."""
    with pytest.raises(ImportFileError) as caught:
        import_table(
            session=session, actor=SYSTEM, table=table(f"辛,{id_number('19450101', 19)},新桥村\n")
        )
    [problem] = caught.value.rows
    message = problem.text.in_language("zh")
    assert "「新桥村」在您的区域内有 4 个：" in message
    for code in XINQIAO:
        assert f"（{code}）" in message
    assert "如东县" in message
    assert "320685100007" not in message  # 新桥社区


def test_a_name_unique_in_the_town_imports_as_its_village(session: Session) -> None:
    name, _, in_town = _shared(session)
    number = id_number("19450101", 5)
    result = import_table(session=session, actor=TOWN_ACTOR, table=table(f"甲,{number},{name}\n"))
    assert result.created == 1
    stored = session.scalar(select(Person.area_code).where(Person.id_number == number))
    assert stored == in_town


def test_a_name_several_villages_bear_is_an_error_naming_each(session: Session) -> None:
    name, found, _ = _shared(session)
    number = id_number("19450101", 7)
    before = session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(ImportFileError) as caught:
        import_table(session=session, actor=SYSTEM, table=table(f"乙,{number},{name}\n"))
    [problem] = caught.value.rows
    assert (problem.row, problem.column) == (2, "村(居)代码")
    message = problem.text.in_language("zh")
    assert f"「{name}」在您的区域内有 {len(found)} 个：" in message
    for code in found[: villages.SHOWN_CANDIDATES]:
        assert f"（{code}）" in message
    assert "如东县掘港街道" in message  # each candidate with its county and town
    assert f"{len(found)} villages in your area are named '{name}'" in problem.text.in_language(
        "en"
    )
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_an_area_given_to_the_import_narrows_the_names(session: Session) -> None:
    name, _, in_town = _shared(session)
    number = id_number("19450101", 9)
    result = import_table(
        session=session, actor=SYSTEM, table=table(f"丙,{number},{name}\n"), area=TOWN
    )
    assert result.created == 1
    assert session.scalar(select(Person.area_code).where(Person.id_number == number)) == in_town


def test_an_unknown_name_and_a_name_outside_the_area_are_errors(session: Session) -> None:
    outside = next(
        name
        for name, found in sorted(_names_under(session, "320612").items())
        if name not in _names_under(session, codes.short(TOWN))
    )
    body = f"丁,{id_number('19450101', 11)},不存在村\n戊,{id_number('19450101', 13)},{outside}\n"
    with pytest.raises(ImportFileError) as caught:
        import_table(session=session, actor=TOWN_ACTOR, table=table(body))
    messages = {p.row: p.text.in_language("zh") for p in caught.value.rows}
    assert messages[2].endswith(
        "您的区域内没有名为「不存在村」的村(居)；请填写12位代码（见模板中的村(居)名单）"
    )
    assert f"「{outside}」" in messages[3]  # another county's village is not found by name


def test_names_and_codes_mix_in_one_xlsx(session: Session) -> None:
    name, _, in_town = _shared(session)
    other = next(c for c in sorted(_names_under(session, codes.short(TOWN)).values())[0])
    rows = [["姓名", "身份证号", "村(居)代码"], ["己", id_number("19450101", 15), f" {name} "],
            ["庚", id_number("19450101", 17), other]]  # fmt: skip
    data = _xlsx(rows)
    result = import_table(
        session=session, actor=TOWN_ACTOR, table=sheets.read(data, "people.xlsx", SPEC)
    )
    assert result.created == 2
    assert result.villages == {in_town, other}


def _xlsx(rows: list[list[str]]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True}) as book:
        sheet = book.add_worksheet()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    return out.getvalue()


def test_the_template_lists_the_users_villages(session: Session) -> None:
    data = villages.template(session=session, actor=TOWN_ACTOR)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names[:2] == ["重点人群", "村(居)名单"]
    rows = book.get_sheet_by_name("村(居)名单").to_python()
    assert rows[0] == ["村(居)", "乡镇(街道)", "县(市、区)", "村(居)代码"]
    expected = sorted(
        (code, name) for name, found in _names_under(session, codes.short(TOWN)).items()
        for code in found
    )  # fmt: skip
    assert [(str(r[3]), r[0]) for r in rows[1:]] == expected
    town = session.get(Area, TOWN)
    assert town is not None
    assert {(r[1], r[2]) for r in rows[1:]} == {(town.name, "如东县")}
    notes = book.get_sheet_by_index(2).to_python()
    assert any("村(居)名称" in str(cell) for row in notes for cell in row)


def test_the_template_of_an_area_outside_scope_is_refused(session: Session) -> None:
    from lianfang.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        villages.template(session=session, actor=TOWN_ACTOR, area="320612")


def test_the_api_template_lists_the_callers_villages_and_the_api_import_takes_names(
    client: TestClient, session: Session
) -> None:
    town = bearer(client, Role.town_operator)
    answer = client.get("/api/people/template", headers=town)
    assert answer.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(answer.content))
    listed = book.get_sheet_by_name("村(居)名单").to_python()[1:]
    assert {str(r[3])[:9] for r in listed} == {TOWN[:9]}
    name, _, in_town = _shared(session)
    number = id_number("19450101", 21)
    files = {"file": ("named.csv", (HEADER + f"癸,{number},{name}\n").encode(), "text/csv")}
    imported = client.post("/api/people/import", files=files, headers=town)
    assert imported.status_code == 200, imported.text
    assert session.scalar(select(Person.area_code).where(Person.id_number == number)) == in_town
    county = bearer(client, Role.district_operator)
    narrowed = client.get("/api/people/template", params={"area": TOWN}, headers=county)
    assert narrowed.status_code == 200
    narrowed_book = CalamineWorkbook.from_filelike(io.BytesIO(narrowed.content))
    assert len(narrowed_book.get_sheet_by_name("村(居)名单").to_python()) == len(listed) + 1
    refused = client.get("/api/people/template", params={"area": "320612"}, headers=county)
    assert refused.status_code == 403


def test_the_web_import_takes_a_name_and_its_template_lists_villages(
    client: TestClient, session: Session
) -> None:
    sign_in(client, Role.town_operator)
    template = client.get("/people/import/template")
    book = CalamineWorkbook.from_filelike(io.BytesIO(template.content))
    assert "村(居)名单" in book.sheet_names
    form = client.get("/people/import")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    body = HEADER + f"子,{id_number('19450101', 23)},新桥村\n"
    answer = client.post(
        "/people/import",
        data={"csrf_token": csrf.group(1)},
        files={"upload": ("named.csv", body.encode(), "text/csv")},
    )
    assert answer.status_code == 422  # 新桥村 is not a village of 掘港街道
    assert "您的区域内没有名为「新桥村」的村(居)" in answer.text
