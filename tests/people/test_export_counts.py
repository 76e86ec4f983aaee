"""Every export holds exactly the people the list shows: for several filter combinations, the row
count of each export (CSV and xlsx, masked and unmasked, pages and API, at once and in the
background) equals the list's total, and the list's export links and full-export form carry the
filters just applied through the filter form."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lianfang import timeutil
from lianfang.auth import chain
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.demo import people as demo_people
from lianfang.io import sheets
from lianfang.people import exporting
from lianfang.people.models import ExportJob, Person
from lianfang.people.sheet import SPEC
from tests.conftest import bearer
from tests.factories import OTHER_TOWN, TOWN, VILLAGE_2
from tests.people.test_audit_rows import events_since, newest_id
from tests.web.test_pages import sign_in
from tests.web.test_people_pages import csrf_of

REASON = "核对签约名单"
PAGE_TO_API = {"grade": "grade", "missing": "missing", "overdue": "overdue", "alert": "alert_open",
               "q": "q", "area": "area"}  # fmt: skip


@pytest.fixture
def registry(session: Session) -> list[Person]:
    """The town's generated key population (red, yellow, green; some overdue, some alerts), and
    another town's, which no export of the town may hold."""
    for town in (TOWN, OTHER_TOWN):
        demo_people.generate(
            session=session, actor=SYSTEM, seed=7, share=0.01, prefix=town[:9],
            today=timeutil.today(),
        )  # fmt: skip
    session.flush()
    return list(session.scalars(select(Person).where(Person.area_code.startswith(TOWN[:9]))))


def combinations(people: list[Person]) -> list[dict[str, str]]:
    """Filters as the filter form sends them (a name searched is a surname of the town)."""
    surname = max({p.name[0] for p in people}, key=lambda s: sum(p.name[0] == s for p in people))
    return [
        {},
        {"grade": "red"},
        {"grade": "yellow", "missing": "checked_on"},
        {"missing": "in_charge"},
        {"overdue": "1"},
        {"alert": "1"},
        {"area": VILLAGE_2},
        {"q": surname},
        {"grade": "red", "overdue": "1", "q": surname},
    ]


def rows_of(data: bytes, file_format: str) -> list[list[str]]:
    """The data rows of an exported sheet, read back as an import would."""
    return sheets.read(data, f"export.{file_format}", SPEC).rows


def listed(client: TestClient, filters: dict[str, str]) -> tuple[int, str]:
    """The list's total ("共 N 人") and what the filter form's answer holds (table and exports)."""
    params = {"area": TOWN} | filters
    answer = client.get(
        "/people", params=params, headers={"HX-Request": "true", "HX-Target": "people-table"}
    )
    assert answer.status_code == 200, answer.text
    total = re.search(r'data-testid="people-total">([^<]*)<', answer.text)
    assert total is not None
    return int(re.sub(r"\D", "", total.group(1))), answer.text


def fields_of(fragment: str, testid: str) -> dict[str, str]:
    """The hidden fields of a form in a page."""
    form = re.search(rf'<form[^>]*data-testid="{testid}".*?</form>', fragment, re.S)
    assert form is not None, testid
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.group(0))
        if name != "csrf_token"
    }


def run_started(client: TestClient, session: Session) -> None:
    """Make the exports the app was asked to start, as the background process does, on the
    test's connection (the test's rows are not committed for any other)."""
    factory = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )  # fmt: skip
    while client.app.state.started_exports:  # type: ignore[attr-defined]
        exporting.run(factory, client.app.state.started_exports.pop(0))  # type: ignore[attr-defined]
    session.expire_all()


@pytest.fixture
def town_client(client: TestClient, registry: list[Person]) -> TestClient:
    sign_in(client, Role.town_operator)
    return client


def test_every_export_holds_the_lists_total(
    town_client: TestClient, session: Session, registry: list[Person]
) -> None:
    client = town_client
    api = bearer(client, Role.town_operator)
    seen: set[int] = set()
    for filters in combinations(registry):
        total, fragment = listed(client, filters)
        seen.add(total)
        assert f"导出 {total:,} 人" in fragment, filters
        counts: dict[str, int] = {}
        for file_format in ("csv", "xlsx"):
            # the masked links the list shows, followed as they are
            link = re.search(rf'data-testid="export-{file_format}" href="([^"]+)"', fragment)
            assert link is not None, (filters, file_format)
            masked = client.get(html.unescape(link.group(1)))
            assert masked.status_code == 200, masked.text
            counts[f"web masked {file_format}"] = len(rows_of(masked.content, file_format))
            # the full-export form as the list renders it
            form = fields_of(fragment, "export-full")
            full = client.post(
                "/people/export",
                data=form | {"reason": REASON, "format": file_format,
                             "csrf_token": csrf_of(client.get("/people").text)},
            )  # fmt: skip
            assert full.status_code == 200, full.text
            counts[f"web full {file_format}"] = len(rows_of(full.content, file_format))
            params = {PAGE_TO_API[k]: v for k, v in ({"area": TOWN} | filters).items()}
            params |= {"overdue": "true"} if "overdue" in filters else {}
            params |= {"alert_open": "true"} if "alert" in filters else {}
            for reveal in (False, True):
                extra = {"reveal": "true", "reason": REASON} if reveal else {}
                answer = client.get(
                    "/api/people/export", params=params | extra | {"format": file_format},
                    headers=api,
                )  # fmt: skip
                assert answer.status_code == 200, answer.text
                name = f"api {'full' if reveal else 'masked'} {file_format}"
                counts[name] = len(rows_of(answer.content, file_format))
        assert counts == dict.fromkeys(counts, total), (filters, total, counts)
    assert len(seen) >= 6, seen  # the combinations really narrow the list differently


def test_background_exports_hold_the_lists_total(
    town_client: TestClient, session: Session, registry: list[Person]
) -> None:
    client = town_client
    client.app.state.settings.export_background_rows = 0  # type: ignore[attr-defined]
    api = bearer(client, Role.town_operator)
    for filters in combinations(registry)[1:5]:
        total, fragment = listed(client, filters)
        assert 'data-testid="export-background"' in fragment
        csrf = csrf_of(client.get("/people").text)
        form = fields_of(fragment, "export-background")
        started = client.post(
            "/people/exports", data=form | {"format": "csv", "csrf_token": csrf},
            follow_redirects=False,
        )  # fmt: skip
        assert started.status_code == 303, started.text
        page = started.headers["location"]
        waiting = client.get(page)
        assert 'hx-trigger="every 1s"' in waiting.text  # the page polls until it is made
        run_started(client, session)
        done = client.get(page, headers={"HX-Request": "true"})
        assert 'data-status="done"' in done.text
        assert "hx-trigger" not in done.text
        link = re.search(r'data-testid="export-download" href="([^"]+)"', done.text)
        assert link is not None
        assert len(rows_of(client.get(link.group(1)).content, "csv")) == total, filters
        full = client.post(
            "/people/export",
            data=fields_of(fragment, "export-full")
            | {"reason": REASON, "format": "xlsx", "csrf_token": csrf},
            follow_redirects=False,
        )  # the unmasked form goes to the background too
        assert full.status_code == 303, full.text
        run_started(client, session)
        job_id = int(full.headers["location"].rsplit("/", 1)[1])
        read = client.get(f"/api/people/exports/{job_id}", headers=api).json()
        assert (read["status"], read["rows"], read["masked"]) == ("done", total, False)
        made = client.get(read["download_url"], headers=api)
        assert len(rows_of(made.content, "xlsx")) == total, filters


def test_a_background_export_is_its_requesters_only_audited_and_deletable(
    client: TestClient, session: Session, registry: list[Person]
) -> None:
    client.app.state.settings.export_background_rows = 10  # type: ignore[attr-defined]
    town = bearer(client, Role.town_operator)
    county = bearer(client, Role.district_operator)
    before = newest_id(session)
    refused = client.get("/api/people/export", params={"area": TOWN}, headers=town)
    assert refused.status_code == 400  # too large to make while the request waits
    assert f"{len(registry):,}" in refused.json()["message_zh"]
    assert "/api/people/exports" in refused.json()["message_zh"]
    body = {"area": TOWN, "grade": ["red"], "reveal": True, "reason": REASON}
    started = client.post("/api/people/exports", json=body, headers=town)
    assert started.status_code == 202, started.text
    job = started.json()
    assert (job["status"], job["masked"], job["download_url"]) == ("queued", False, None)
    assert client.get(f"/api/people/exports/{job['id']}/file", headers=town).status_code == 400
    run_started(client, session)
    done = client.get(f"/api/people/exports/{job['id']}", headers=town).json()
    assert (done["status"], done["progress"]) == ("done", 1.0)
    assert done["rows"] == sum(p.grade.value == "red" for p in registry)
    # another user, even one whose area holds the town, neither sees nor downloads it
    for url in (f"/api/people/exports/{job['id']}", done["download_url"]):
        assert client.get(url, headers=county).status_code == 404
    assert [j["id"] for j in client.get("/api/people/exports", headers=county).json()] == []
    audited = [
        (e.action.value, json.loads(e.detail or "{}"))
        for e in events_since(session, before) if e.entity_type == "person"
    ]  # fmt: skip
    assert [(a, d["job"], d["rows"], d["reason"]) for a, d in audited] == [
        ("reveal", job["id"], done["rows"], REASON)
    ]
    assert client.delete(f"/api/people/exports/{job['id']}", headers=county).status_code == 404
    assert client.delete(f"/api/people/exports/{job['id']}", headers=town).status_code == 204
    assert client.get(done["download_url"], headers=town).status_code == 404
    deleted = [e for e in events_since(session, before) if e.entity_type == "export_job"]
    assert [(e.action.value, e.entity_id) for e in deleted] == [("delete", str(job["id"]))]
    # a masked one that expired is gone for its requester too
    sign_in(client, Role.town_operator)
    answer = client.get("/people/export", params={"area": TOWN, "format": "csv"})
    assert 'data-testid="export-start"' in answer.text  # the link offers the background
    expired = client.post("/api/people/exports", json={"area": TOWN}, headers=town).json()
    stored = session.get(ExportJob, expired["id"])
    assert stored is not None
    stored.expires_at = timeutil.utcnow() - timedelta(minutes=1)
    session.flush()
    assert client.get(f"/api/people/exports/{expired['id']}", headers=town).status_code == 404
    assert chain.verify(session).broken is None
