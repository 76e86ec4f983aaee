"""The language switch comes back to the same page with the same query (web/language.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from lianfang.auth.choices import Role
from lianfang.web.language import switch_link
from tests.web.test_pages import sign_in


def _next_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["next"][0]


def test_the_switch_keeps_the_path_and_every_filter() -> None:
    link = switch_link("en", "/people", "area=320623000000&grade=red&missing=medicine&q=%E5%91%A8")
    assert link.startswith("/lang/en?next=")
    assert _next_of(link) == "/people?area=320623000000&grade=red&missing=medicine&q=%E5%91%A8"


def test_the_switch_drops_a_lang_in_the_query_and_keeps_blank_values() -> None:
    assert _next_of(switch_link("zh", "/people/coverage", "lang=en&area=320623")) == (
        "/people/coverage?area=320623"
    )
    assert _next_of(switch_link("zh", "/people", "area=3206&q=")) == "/people?area=3206&q="
    assert _next_of(switch_link("en", "/areas/3206", "")) == "/areas/3206"
    assert _next_of(switch_link("en", "/people/coverage", "lang=zh")) == "/people/coverage"


def test_the_page_links_the_switch_to_itself_and_the_switch_comes_back(
    client: TestClient,
) -> None:
    sign_in(client, Role.district_operator)
    page = client.get("/people/coverage?area=320623&grade=red")
    assert 'href="/lang/en?next=%2Fpeople%2Fcoverage%3Farea%3D320623%26grade%3Dred"' in page.text
    answer = client.get(
        "/lang/en?next=%2Fpeople%2Fcoverage%3Farea%3D320623%26grade%3Dred", follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/people/coverage?area=320623&grade=red"
    english = client.get(answer.headers["location"])
    assert "Four-guarantee coverage" in english.text
    assert "如东县" in english.text  # the county's name is data; the page stayed on the county
