"""Tables a county can analyse, through the TestClient: headers that sort on the server, the
ranking of every town, page numbers with a jump box and totals, thousands separators."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang import i18n
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth.choices import Role
from lianfang.web import people_pages
from lianfang.web.pages import page_numbers
from tests.factories import (
    COUNTY,
    OTHER_COUNTY_TOWN,
    OTHER_TOWN,
    TOWN,
)
from tests.people.test_ranking import towns
from tests.web.test_pages import sign_in

__all__ = ["towns"]  # the fixture, shared with the service tests


def codes_of(page: str) -> list[str]:
    return re.findall(r'<tr data-code="(\d{12})"', page)


def aria_sort(page: str, key: str) -> str:
    found = re.search(rf'aria-sort="(\w+)" data-sort="{key}"', page)
    assert found is not None, key
    return found.group(1)


def sort_link(page: str, key: str) -> str:
    found = re.search(rf'data-sort="{key}"><a href="([^"]+)"', page)
    assert found is not None, key
    return found.group(1).replace("&amp;", "&")


def test_a_header_click_orders_the_coverage_table_on_the_server(
    client: TestClient, session: Session, towns: str
) -> None:
    sign_in(client, Role.district_operator)
    plain = client.get("/people/coverage", params={"area": COUNTY})
    assert aria_sort(plain.text, "code") == "ascending"
    assert codes_of(plain.text) == sorted(codes_of(plain.text))
    link = sort_link(plain.text, "medicine")
    assert link == "/people/coverage?area=320623&sort=medicine&order=desc"
    ordered = client.get(link)
    assert codes_of(ordered.text)[:2] == [OTHER_TOWN, TOWN]  # 2 missing, then 1
    assert aria_sort(ordered.text, "medicine") == "descending"
    assert aria_sort(ordered.text, "code") == "none"
    again = sort_link(ordered.text, "medicine")  # the same header once more: the other way
    assert again == "/people/coverage?area=320623&sort=medicine&order=asc"
    rising = client.get(again)
    assert aria_sort(rising.text, "medicine") == "ascending"
    assert codes_of(rising.text)[-2:] == [TOWN, OTHER_TOWN]
    assert sort_link(rising.text, "red").endswith("sort=red&order=desc")
    refused = client.get("/people/coverage", params={"area": COUNTY, "sort": "bogus"})
    assert refused.status_code == 400
    assert "bogus" in refused.text


def test_missing_counts_split_red_from_yellow_and_the_share_is_labelled(
    client: TestClient, session: Session, towns: str
) -> None:
    sign_in(client, Role.city_commander)
    page = client.get("/people/coverage", params={"area": OTHER_COUNTY_TOWN}).text
    red = re.search(r'data-testid="missing-red-medicine">[^<]*?(\d+)</a>', page)
    yellow = re.search(r'data-testid="missing-yellow-medicine">[^<]*?(\d+)</a>', page)
    assert red is not None
    assert yellow is not None
    assert (red.group(1), yellow.group(1)) == ("1", "1")
    assert "占红黄人员" in page  # the share's column says what it is a share of
    assert 'data-testid="gap-medicine">67%<' in page
    assert "/people?area=320612001001&amp;grade=red&amp;missing=medicine" in page


def test_the_city_ranks_all_its_towns_one_click_from_coverage(
    client: TestClient, session: Session, towns: str
) -> None:
    sign_in(client, Role.city_commander)
    coverage = client.get("/people/coverage").text
    found = re.search(r'href="([^"]+)" data-testid="rank-medicine"', coverage)
    assert found is not None
    link = found.group(1).replace("&amp;", "&")
    assert link == "/people/ranking?area=3206&level=town&sort=medicine_pct&order=desc"
    ranking = client.get(link)
    assert ranking.status_code == 200
    rows = codes_of(ranking.text)
    assert rows[:3] == [OTHER_TOWN, OTHER_COUNTY_TOWN, TOWN]
    for code in rows:
        assert f'href="/people/coverage?area={code}" data-testid="area-link"' in ranking.text
    towns_in_city = (
        session.scalar(
            select(func.count()).where(Area.level == AreaLevel.town, Area.code.startswith("3206"))
        )
        or 0
    )
    pages = -(-towns_in_city // people_pages.RANKING_PAGE)
    assert len(rows) == min(towns_in_city, people_pages.RANKING_PAGE)
    assert f"共 {towns_in_city} 个区划 · 第 1 / {pages} 页" in ranking.text
    last = client.get(link + f"&page={pages}")
    assert len(codes_of(last.text)) == towns_in_city - (pages - 1) * people_pages.RANKING_PAGE
    assert not set(codes_of(last.text)) & set(rows)
    beyond = client.get(link + "&page=999", follow_redirects=False)
    assert beyond.status_code == 303
    assert beyond.headers["location"].endswith(f"page={pages}")
    villages = client.get(
        "/people/ranking", params={"area": COUNTY, "level": "village", "sort": "red"}
    )
    assert codes_of(villages.text)[0][:6] == COUNTY[:6]


def test_people_list_pages_show_numbers_a_jump_box_and_the_total(
    client: TestClient, session: Session, towns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people_pages, "PAGE_SIZE", 1)
    sign_in(client, Role.city_commander)
    page = client.get("/people", params={"area": "3206", "page": 5}).text
    assert "共 10 人 · 第 5 / 10 页" in page
    shown = re.findall(r'data-testid="page-(\d+)"', page)
    assert shown == ["1", "3", "4", "6", "7", "10"]  # first, around the current, last
    assert page.count("…") == 2
    assert 'aria-current="page" data-testid="page-current">5<' in page
    jump = re.search(r'<form method="get" action="(/people)" class="jump".*?</form>', page, re.S)
    assert jump is not None
    assert 'name="area" value="320600000000"' in jump.group(0)
    assert 'max="10"' in jump.group(0)
    reds = client.get("/people", params={"area": "3206", "grade": "red", "page": 2}).text
    assert "/people?area=320600000000&amp;grade=red&amp;page=3" in reds
    assert 'name="grade" value="red"' in reds
    past = client.get("/people", params={"area": "3206", "page": 40}, follow_redirects=False)
    assert past.status_code == 303
    assert past.headers["location"] == "/people?area=320600000000&page=10"


def test_page_numbers_keep_the_ends_and_the_neighbours() -> None:
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 4) == [1, 2, 3, 4]
    assert page_numbers(1, 1975) == [1, 2, 3, None, 1975]
    assert page_numbers(1000, 1975) == [1, None, 998, 999, 1000, 1001, 1002, None, 1975]
    assert page_numbers(4, 10) == [1, 2, 3, 4, 5, 6, None, 10]  # no … for a single gap of none


def test_numbers_are_grouped_in_both_languages() -> None:
    for language in i18n.LANGUAGES:
        assert i18n.number(1973600, language=language) == "1,973,600"
        assert i18n.number(1234.5, 1, language=language) == "1,234.5"
        assert i18n.percent(0.4058, language=language) == "41%"
    assert i18n.number(None) == i18n.percent(None) == "—"
