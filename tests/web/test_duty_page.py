"""The duty-roster page: the week grid with tonight highlighted, arranging someone (and a refusal
shown on the page), who is on duty now and tonight, a handover note, an import whose bad row is
named, masking for a viewer, and no forms for those who may not arrange."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lianfang import timeutil
from lianfang.auth.choices import Role
from tests.factories import TOWN, VILLAGE
from tests.web.test_pages import sign_in
from tests.web.test_people_pages import csrf_of


def arrange(client: TestClient, page: str, **fields: str) -> object:
    data = {"csrf_token": csrf_of(page), "area_code": TOWN, "on_date": str(timeutil.today()),
            "shift": "night", "role": "leader", "back": TOWN} | fields  # fmt: skip
    return client.post("/duty", data=data)


def test_arrange_see_tonight_and_hand_over(client: TestClient) -> None:
    sign_in(client, Role.town_operator)
    page = client.get(f"/duty?area={TOWN}")
    assert page.status_code == 200
    assert 'data-testid="duty-form"' in page.text
    assert page.text.count('data-testid="duty-row"') > 5  # the town and its villages
    made = arrange(client, page.text, name="陈建国", phone="13912340001")
    assert made.status_code == 200, made.text  # followed to the roster again  # type: ignore[attr-defined]
    shown = client.get(f"/duty?area={TOWN}").text
    assert "陈建国" in shown
    tonight = shown.split('data-testid="duty-tonight"')[1].split("</ul>")[0]
    assert "陈建国" in tonight
    assert "13912340001" in tonight
    refused = arrange(client, shown, name="李四", phone="13912340002")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "陈建国" in refused.text  # type: ignore[attr-defined]
    village = client.get(f"/duty?area={VILLAGE}").text  # the town covers the village
    assert "陈建国" in village.split('data-testid="duty-tonight"')[1].split("</ul>")[0]
    note = client.post("/duty/handovers", data={
        "csrf_token": csrf_of(shown), "area_code": TOWN, "on_date": str(timeutil.today()),
        "shift": "day", "text": "三组周玉兰夜间再随访"})  # fmt: skip
    assert "三组周玉兰夜间再随访" in note.text


def test_an_import_with_a_bad_row_names_it(client: TestClient) -> None:
    sign_in(client, Role.town_operator)
    page = client.get(f"/duty?area={TOWN}").text
    csv = f"区划代码,日期,班次,岗位,姓名\n{TOWN},2023-01-12,早班,值班员,王五\n".encode()
    answer = client.post("/duty/import", data={"csrf_token": csrf_of(page), "back": TOWN},
                         files={"file": ("roster.csv", csv, "text/csv")})  # fmt: skip
    assert answer.status_code == 422
    problems = answer.text.split('data-testid="duty-problems"')[1].split("</ul>")[0]
    assert "第 2 行" in problems
    assert "班次" in problems


def test_a_viewer_sees_masked_phones_and_no_forms(client: TestClient) -> None:
    sign_in(client, Role.town_operator)
    arrange(client, client.get(f"/duty?area={TOWN}").text, name="陈建国", phone="13912340001")
    client.cookies.clear()
    sign_in(client, Role.viewer)
    page = client.get(f"/duty?area={TOWN}").text
    assert "139****0001" in page
    assert "13912340001" not in page
    assert 'data-testid="duty-form"' not in page
    assert 'data-testid="handover-form"' not in page
