"""The pages a village doctor works through, as the server renders them (no JavaScript): the
follow-up form that keeps every value and names each field's problem, the confirmation at the
top, the people list as cards most urgent first, open alerts with reason and time."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.io import sheets
from lianfang.people import flows, followups, service
from lianfang.people.choices import ContactMethod
from lianfang.people.importing import import_table
from lianfang.people.models import FollowUp, Person
from lianfang.people.service import PeopleFilter
from lianfang.people.sheet import SPEC
from tests.factories import TOWN, VILLAGE, id_number
from tests.web.test_pages import sign_in
from tests.web.test_people_pages import HEADER, csrf_of


def register(session: Session) -> dict[str, Person]:
    """Four people of VILLAGE: red with someone in charge, red without, red whose check-in is
    overdue, and yellow."""
    rows = {
        "红有人管": f"{id_number('19400303', 41)},,{VILLAGE},不稳定,0,王医生",
        "红无人管": f"{id_number('19400404', 43)},,{VILLAGE},不稳定,0,",
        "红逾期": f"{id_number('19400505', 45)},,{VILLAGE},不稳定,0,王医生",
        "黄无人管": f"{id_number('19550606', 47)},,{VILLAGE},稳定,1,",
    }
    body = "".join(f"{name},{cells}\n" for name, cells in rows.items())
    import_table(
        session=session, actor=SYSTEM, table=sheets.read((HEADER + body).encode(), "p.csv", SPEC)
    )
    found = {p.name: p for p in session.scalars(select(Person).where(Person.name.in_(rows)))}
    contact = followups.Contact(
        method=ContactMethod.phone, contacted_at=timeutil.now() - timedelta(days=3)
    )
    flows.record_follow_up(
        session=session, actor=SYSTEM, person_id=found["红逾期"].id, contact=contact
    )
    session.flush()
    return found


def test_most_urgent_first_is_grade_then_overdue_then_most_guarantees_missing(
    session: Session,
) -> None:
    register(session)
    listed = service.list_people(
        session=session, actor=SYSTEM, f=PeopleFilter(area=VILLAGE), size=500
    )
    expected = ["红逾期", "红无人管", "红有人管", "黄无人管"]
    assert [p.name for p in listed.items if p.name in expected] == expected


def test_the_list_renders_cards_beside_the_table_with_overdue_in_red(
    client: TestClient, session: Session
) -> None:
    people = register(session)
    sign_in(client, Role.village_worker)
    page = client.get("/people").text
    cards = re.findall(r'<li class="person-card" data-person="(\d+)"', page)
    rows = re.findall(r'<tr data-person="(\d+)"', page)
    assert cards == rows  # the same people in the same order
    overdue = people["红逾期"]
    card = page[page.index(f'data-person="{overdue.id}" data-testid="person-card"') :]
    card = card[: card.index("</li>")]
    assert 'class="overdue"' in card
    assert "逾期 2 天" in card
    assert "缺：有人问、有药用、有医治" in card  # someone in charge; checked on, but overdue


def test_a_refused_follow_up_keeps_every_value_and_names_each_field(
    client: TestClient, session: Session
) -> None:
    person = register(session)["红无人管"]
    sign_in(client, Role.village_worker)
    page = client.get(f"/people/{person.id}").text
    form = {
        "csrf_token": csrf_of(page), "client_token": "7b3e0c55-1d52-4c1e-9a43-3f1c6d1f0a01",
        "method": "video", "temperature": "3x.5", "spo2": "45", "fever_days": "两",
        "notes": "家属代答", "symptom": ["cough", "fatigue"],
    }  # fmt: skip
    refused = client.post(f"/people/{person.id}/follow-ups", data=form)
    assert refused.status_code == 422
    html = refused.text
    assert 'id="fu-temperature-error"' in html
    assert "「3x.5」不是数字" in html
    assert 'id="fu-fever_days-error"' in html
    assert "「两」不是数字" in html
    assert html.count("autofocus") == 1  # the first problem only
    temperature = re.search(r'<input id="fu-temperature"[^>]*>', html)
    assert temperature is not None
    assert 'value="3x.5"' in temperature.group(0)
    assert 'aria-describedby="fu-temperature-error"' in temperature.group(0)
    assert "autofocus" in temperature.group(0)
    assert 'value="45"' in html
    assert ">家属代答</textarea>" in html
    assert re.search(r'value="video" checked', html)
    assert re.search(r'value="cough" checked', html)
    assert re.search(r'value="fatigue" checked', html)
    assert 'value="7b3e0c55-1d52-4c1e-9a43-3f1c6d1f0a01"' in html  # the same form, resent once

    form |= {"temperature": "36.8", "fever_days": "0"}  # SpO2 45 is a number out of range
    refused = client.post(f"/people/{person.id}/follow-ups", data=form)
    assert refused.status_code == 422
    spo2 = re.search(r'<label for="fu-spo2".*?</label>', refused.text, re.S)
    assert spo2 is not None
    assert "血氧饱和度应在 50–100% 之间" in spo2.group(0)
    assert "autofocus" in spo2.group(0)
    written = session.scalar(
        select(func.count()).select_from(FollowUp).where(FollowUp.person_id == person.id)
    )
    assert written == 0


def test_a_saved_follow_up_confirms_at_the_top_and_says_what_to_do(
    client: TestClient, session: Session
) -> None:
    person = register(session)["红有人管"]
    sign_in(client, Role.village_worker)
    csrf = csrf_of(client.get(f"/people/{person.id}").text)
    plain = {"csrf_token": csrf, "client_token": "a1", "method": "phone", "spo2": "97"}
    saved = client.post(f"/people/{person.id}/follow-ups", data=plain, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/people/{person.id}?saved=follow-up"
    assert 'data-testid="saved"' in client.get(saved.headers["location"]).text

    low = plain | {"client_token": "a2", "spo2": "91"}
    saved = client.post(f"/people/{person.id}/follow-ups", data=low, follow_redirects=False)
    location = saved.headers["location"]
    assert "#" not in location
    assert "saved=alert&alert=" in location
    html = client.get(location).text
    top = html[html.index('data-testid="alert-raised"') : html.index('data-testid="person-name"')]
    assert "已生成转诊提醒" in top
    assert "血氧饱和度 91% &lt; 93%" in top
    assert "尚未登记定点医院" in top
    assert "王医生" in top  # the person in charge
    assert top.index('data-testid="open-alert"') > 0  # the alert itself, before the person

    listed = client.get("/people").text
    alerts = listed[listed.index('data-testid="list-alerts"') : listed.index("people-filters")]
    assert "红有人管" in alerts
    assert "血氧饱和度 91% &lt; 93%" in alerts
    assert "提醒于" in alerts
    only = client.get("/people", params={"alert": "1"}).text
    assert "<th>提醒原因</th><th>提醒时间</th>" in only
    assert 'data-testid="list-alerts"' not in only  # the list itself is the alert list


def test_a_town_list_shows_only_alerts_in_scope(client: TestClient, session: Session) -> None:
    person = register(session)["红无人管"]
    flows.record_follow_up(
        session=session, actor=SYSTEM, person_id=person.id,
        contact=followups.Contact(method=ContactMethod.visit, spo2_pct=90),
    )  # fmt: skip
    sign_in(client, Role.town_operator)
    town = client.get("/people", params={"area": TOWN}).text
    assert "血氧饱和度 90% &lt; 93%" in town
    assert client.get("/people", params={"area": "320623100000"}).status_code == 403
