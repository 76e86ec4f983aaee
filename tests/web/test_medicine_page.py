"""The public medicine page (/medicine) as the server renders it: no sign-in, the places that
report an item in stock nearest first with distance and report time, a place found by name or
by position, no personal data anywhere, and the rate limit the API has, refused with a friendly
page (429, Retry-After) through the house's error mapping."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.ratelimit import TokenBucket
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.people import service as people
from lianfang.people.choices import ChangeSource
from lianfang.resources import ledger, lookup
from lianfang.resources.choices import FacilityType
from lianfang.resources.models import Facility, StockBalance
from lianfang.resources.schemas import FacilityCreate
from lianfang.resources.service import create_facility
from lianfang.web.medicine_pages import reported_ago
from tests.factories import VILLAGE, id_number, role_username
from tests.resources.factories import item

MOBILE = "13912345678"
LANDLINE = "0513-84512345"
PERSON = "钱秀英"


def area(session: Session, code: str) -> Area:
    found = session.get(Area, code)
    assert found is not None
    return found


def stocked(session: Session, code: str, phone: str, quantity: int, hours_ago: float) -> Facility:
    """A pharmacy of the first village holding ibuprofen, its stock reported hours ago."""
    place = create_facility(
        session=session, actor=SYSTEM,
        data=FacilityCreate(code=code, name=f"公开{code}", type=FacilityType.pharmacy,
                            area_code=VILLAGE, phone=phone, hours="08:00-20:00"),
    )  # fmt: skip
    ibu = item(session, "ibuprofen")
    ledger.receive(
        session=session, actor=SYSTEM, facility_id=place.id, item_id=ibu.id, quantity=quantity
    )
    session.execute(
        update(StockBalance)
        .where(StockBalance.facility_id == place.id)
        .values(moved_at=timeutil.now() - timedelta(hours=hours_ago))
    )
    return place


def cards(page: str) -> list[str]:
    return re.findall(r'<li class="place-card[^"]*"(.*?)</li>', page, re.S)


def test_anyone_sees_the_places_with_the_item_nearest_first(
    client: TestClient, session: Session
) -> None:
    fresh = stocked(session, "PUB-FRESH", LANDLINE, 80, 3)
    old = stocked(session, "PUB-OLD", MOBILE, 4, 50)
    people.save_cells(
        session=session, actor=SYSTEM, source=ChangeSource.api,
        cells={"name": PERSON, "id_number": id_number("19400101", 3), "area_code": VILLAGE,
               "phone": MOBILE},
    )  # fmt: skip
    answer = client.get("/medicine", params={"item": "ibuprofen", "near": VILLAGE})
    assert answer.status_code == 200, answer.text
    page = answer.text
    shown = cards(page)
    kms = [float(k) for k in re.findall(r'data-km="([\d.]+)"', page)]
    assert len(shown) == len(kms) > 2
    assert kms == sorted(kms)
    assert "公里" in page
    mine = next(c for c in shown if fresh.name in c)
    assert "3 小时前上报" in mine
    assert "充足" in mine
    assert LANDLINE in mine
    assert "08:00-20:00" in mine
    assert 'data-testid="place-stale"' not in mine
    theirs = next(c for c in shown if old.name in c)
    assert "2 天前上报" in theirs
    assert "少量" in theirs
    assert 'data-testid="place-stale"' in theirs
    # no personal data: no person, no mobile number, no user, no quantity
    assert PERSON not in page
    assert MOBILE not in page
    assert MOBILE[:3] + "****" not in page
    assert not any(role_username(r) in page for r in Role)
    assert 'data-testid="who"' not in page
    assert "/logout" not in page
    assert ">80<" not in page
    assert ">4<" not in page


def test_a_name_finds_the_place_or_lists_those_it_fits(
    client: TestClient, session: Session
) -> None:
    village = area(session, VILLAGE)
    one = client.get(
        "/medicine", params={"item": "paracetamol", "q": village.name}, follow_redirects=False
    )
    fits = lookup.places(session=session, actor=lookup.PUBLIC, query=village.name)
    if len(fits) == 1:
        assert one.status_code == 303
        assert f"near={VILLAGE}" in one.headers["location"]
    else:
        assert VILLAGE in [p.code for p in fits]
        assert f"near={VILLAGE}" in one.text
    town = client.get("/medicine", params={"item": "paracetamol", "q": "镇"})
    assert town.status_code == 200
    assert 'data-testid="medicine-choices"' in town.text
    assert "如东县" in town.text  # a town named with its county
    none = client.get("/medicine", params={"q": "没有这个地方"})
    assert 'data-testid="medicine-no-place"' in none.text
    # the place kept in the form, a changed name searched anew
    changed = client.get(
        "/medicine", params={"q": "栟茶镇", "near": VILLAGE}, follow_redirects=False
    )
    assert changed.status_code == 303
    assert "near=320623100000" in changed.headers["location"]


def test_a_position_finds_the_nearest_village_and_measures_from_there(
    client: TestClient, session: Session
) -> None:
    village = area(session, VILLAGE)
    assert village.lon is not None
    assert village.lat is not None
    stocked(session, "PUB-POS", LANDLINE, 60, 1)
    at: dict[str, str | float] = {"lon": village.lon + 0.001, "lat": village.lat}
    page = client.get("/medicine", params={"item": "ibuprofen", **at})
    assert page.status_code == 200, page.text
    assert f"您附近的布洛芬（{village.name}）" in page.text
    answer = client.get("/api/public/medicine", params={"item": "ibuprofen", **at})
    assert answer.status_code == 200, answer.text
    assert answer.json()["near"] == VILLAGE
    here = next(r for r in answer.json()["results"] if r["name"] == "公开PUB-POS")
    assert 0 < here["km"] < 1  # a tenth of a kilometre east of the village's centre
    assert client.get("/api/public/medicine", params={"item": "ibuprofen", "lon": 120}
                      ).status_code == 400  # fmt: skip
    far = client.get("/api/public/medicine", params={"item": "ibuprofen", "lon": 10, "lat": 10})
    assert far.status_code == 400
    assert far.json()["message_zh"] == "此位置附近没有已知的村（社区）"


def test_the_page_offers_medicines_and_kits_and_speaks_english(
    client: TestClient, session: Session
) -> None:
    page = client.get("/medicine").text
    assert "布洛芬" in page
    assert "红色药包" in page
    assert "指夹式血氧仪" not in page  # equipment is not offered
    english = client.get("/medicine", params={"lang": "en", "near": VILLAGE}).text
    assert "Where to get medicine" in english
    assert "布洛芬 (ibuprofen)" in english
    login = client.get("/login").text
    assert 'href="/medicine"' in login


def test_over_the_limit_a_friendly_page_answers_429_through_the_error_mapping(
    client: TestClient,
) -> None:
    client.app.state.public_bucket = TokenBucket(2)  # type: ignore[attr-defined]
    assert client.get("/medicine").status_code == 200
    api = client.get("/api/public/medicine", params={"item": "ibuprofen", "near": VILLAGE})
    assert api.status_code == 200  # the page and the API draw on one budget per address
    page = client.get("/medicine", params={"item": "ibuprofen", "near": VILLAGE})
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) >= 1
    assert "请稍候" in page.text
    assert re.search(r"本地址查询过于频繁，请 \d+ 秒后再试", page.text)
    assert 'href="/medicine?item=ibuprofen&amp;near=' in page.text  # try again
    refused = client.get("/api/public/medicine", params={"item": "ibuprofen", "near": VILLAGE})
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == str(int(refused.headers["Retry-After"]))
    operation = client.app.openapi()["paths"]["/api/public/medicine"]["get"]  # type: ignore[attr-defined]
    assert "429" in operation["responses"]


def test_report_times_read_as_minutes_hours_or_days() -> None:
    now = timeutil.now()
    assert reported_ago(now - timedelta(minutes=20), now).in_language("zh") == "20 分钟前上报"
    assert reported_ago(now - timedelta(hours=5), now).in_language("en") == "reported 5 h ago"
    assert reported_ago(now - timedelta(days=3), now).in_language("zh") == "3 天前上报"


def test_a_mobile_number_is_never_a_public_phone(session: Session) -> None:
    assert lookup.public_phone(MOBILE) == ""
    assert lookup.public_phone(f"药房 {MOBILE}") == ""
    assert lookup.public_phone(LANDLINE) == LANDLINE
