"""A crowd on a real server (uvicorn, the application's own pool), on SQLite and PostgreSQL.

Not timed: these check that every request of a burst gets its answer (no "database is locked",
no pool time-out, no 500) and that every write it reports was made exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lianfang.api.app import create_app
from lianfang.api.deps import SESSION_COOKIE
from lianfang.auth import service as auth
from lianfang.auth.choices import AuditAction, Role
from lianfang.auth.models import AuditEvent
from lianfang.config import Settings
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.ids import MAX_ID
from lianfang.people.models import CoverageCell, FollowUp, Person
from tests.conftest import BACKENDS, PG_URL, empty_database, seeded_engine
from tests.factories import PASSWORD, VILLAGE, id_number, role_username
from tests.serving import Answer, call, serving
from tests.web.test_pages import sign_in

T = TypeVar("T")


@dataclass(frozen=True)
class Crowd:
    """A served, seeded database of one back end."""

    base: str
    engine: Engine

    def count(self, statement: object) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(statement) or 0)  # type: ignore[call-overload]

    def token(self, role: Role) -> dict[str, str]:
        answer = call(
            "POST",
            f"{self.base}/api/auth/token",
            body={"username": role_username(role), "password": PASSWORD},
        )
        assert answer.status == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture(scope="module", params=BACKENDS)
def crowd(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crowd]:
    """The application served by uvicorn on a seeded database of its own (what this module
    writes is committed), with its default pool."""
    name = "crowd" if request.param == "sqlite" else f"{make_url(PG_URL).database}_crowd"
    url = empty_database(request.param, tmp_path_factory, name)
    engine = seeded_engine(url)
    with serving(create_app(Settings(database_url=url), engine)) as base:
        yield Crowd(base, engine)
    engine.dispose()


def together(count: int, job: Callable[[int], T]) -> list[T]:
    """Run ``job(i)`` for i < count in as many threads, released at the same moment."""
    start = threading.Barrier(count)

    def run(index: int) -> T:
        start.wait()
        return job(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def statuses(answers: list[Answer]) -> Counter[int]:
    return Counter(a.status for a in answers)


def audited(crowd: Crowd, action: AuditAction, username: str) -> int:
    return crowd.count(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.username == username)
    )


def test_forty_sign_ins_at_once_all_succeed_and_all_are_audited(crowd: Crowd) -> None:
    username = role_username(Role.village_worker)
    signed, failed = (
        audited(crowd, AuditAction.sign_in, username),
        audited(crowd, AuditAction.sign_in_failed, username),
    )

    def sign_in(index: int) -> Answer:
        password = PASSWORD if index < 40 else "not-the-password"
        body = {"username": username, "password": password}
        return call("POST", f"{crowd.base}/api/auth/token", body=body)

    answers = together(50, sign_in)
    assert statuses(answers[:40]) == {200: 40}, [a.text for a in answers if a.status != 200][:3]
    assert statuses(answers[40:]) == {401: 10}
    assert audited(crowd, AuditAction.sign_in, username) == signed + 40
    assert audited(crowd, AuditAction.sign_in_failed, username) == failed + 10


def test_twenty_page_loads_at_once_all_answer(crowd: Crowd) -> None:
    with transaction(make_sessionmaker(crowd.engine)) as session:
        user = auth.get_user(session=session, username=role_username(Role.city_commander))
        assert user is not None
        cookie = auth.open_session(session=session, user=user, hours=1, ip=None).cookie
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    answers = together(20, lambda _: call("GET", f"{crowd.base}/areas/320623001", headers=headers))
    assert statuses(answers) == {200: 20}
    assert all("掘港" in a.text for a in answers)


def _register(crowd: Crowd, headers: dict[str, str], number: str) -> Answer:
    body = {"name": "并发测试", "id_number": number, "area_code": VILLAGE, "vaccine_doses": 1}
    return call("POST", f"{crowd.base}/api/people", body=body, headers=headers)


def test_thirty_follow_ups_at_once_all_succeed(crowd: Crowd) -> None:
    headers = crowd.token(Role.town_operator)
    person = _register(crowd, headers, id_number("19400301", 11)).json()
    url = f"{crowd.base}/api/people/{person['id']}/follow-ups"
    answers = together(
        30,
        lambda i: call(
            "POST", url, headers=headers, body={"method": "phone", "spo2_pct": 96 + i % 4}
        ),
    )
    assert statuses(answers) == {201: 30}, [a.text for a in answers if a.status != 201][:3]
    rows = select(func.count()).select_from(FollowUp).where(FollowUp.person_id == person["id"])
    assert crowd.count(rows) == 30
    # the village's roll-up was rebuilt by one writer at a time: it counts each person once
    persons = crowd.count(select(func.count()).where(Person.area_code == VILLAGE))
    cells = select(func.sum(CoverageCell.persons)).where(CoverageCell.area_code == VILLAGE)
    assert crowd.count(cells) == persons


def test_one_client_token_sent_twenty_times_at_once_records_one_follow_up(crowd: Crowd) -> None:
    headers = crowd.token(Role.town_operator)
    person = _register(crowd, headers, id_number("19400302", 13)).json()
    url = f"{crowd.base}/api/people/{person['id']}/follow-ups"
    body = {"method": "visit", "spo2_pct": 90, "client_token": "crowd-token-1"}
    answers = together(20, lambda _: call("POST", url, headers=headers, body=body))
    assert statuses(answers) == {201: 20}, [a.text for a in answers if a.status != 201][:3]
    assert len({a.json()["follow_up"]["id"] for a in answers}) == 1
    assert len({a.json()["alert"]["id"] for a in answers}) == 1  # SpO2 90: one alert, not 20
    rows = select(func.count()).where(FollowUp.client_token == "crowd-token-1")
    assert crowd.count(rows) == 1


def test_one_id_number_registered_twenty_times_at_once_makes_one_person(crowd: Crowd) -> None:
    headers = crowd.token(Role.town_operator)
    number = id_number("19400303", 15)
    answers = together(20, lambda _: _register(crowd, headers, number))
    counted = statuses(answers)
    assert set(counted) <= {201, 409}, [a.text for a in answers if a.status not in (201, 409)]
    assert counted[201] >= 1
    for conflict in (a for a in answers if a.status == 409):
        assert "person (id_number)" in conflict.json()["message_en"]
        assert number not in conflict.text
    assert crowd.count(select(func.count()).where(Person.id_number == number)) == 1


def test_a_page_needs_one_connection(crowd: Crowd) -> None:
    """With a pool of one, a page that opened a second connection would wait and answer 503."""
    url = crowd.engine.url.render_as_string(hide_password=False)
    small = make_engine(url, pool_size=1, pool_timeout_s=2)
    app = create_app(Settings(database_url=url), small)
    try:
        with TestClient(app) as client:
            sign_in(client, Role.viewer)
            for path in ("/", "/areas/320623001", f"/people/{MAX_ID}", "/no-such-page"):
                answer = client.get(path)
                assert answer.status_code in (200, 404), (path, answer.status_code)
                assert answer.status_code != 503
    finally:
        small.dispose()


async def _request_threads() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


@pytest.mark.parametrize("jobs", [False, True])
def test_each_request_thread_finds_a_connection_beside_the_jobs_one(
    crowd: Crowd, jobs: bool
) -> None:
    """As many request threads as pooled connections, less the one the periodic jobs hold when
    they run inside the server: a request on a thread never waits for a connection."""
    url = crowd.engine.url.render_as_string(hide_password=False)
    small = make_engine(url, pool_size=3)
    app = create_app(Settings(database_url=url, jobs=jobs), small)
    try:
        with TestClient(app) as client:
            assert client.portal is not None
            assert client.portal.call(_request_threads) == (2 if jobs else 3)
    finally:
        small.dispose()
