"""Forecast jobs that cannot hurt the server: inputs checked at the request, a bounded queue that
says how many runs are ahead, runs orphaned by a stopped server failed with a reason, people
told a message while the log (never stderr's raw traceback) keeps the details.

The queue and the orphans are tested on real server processes (uvicorn in a thread, and
``lianfang serve`` killed with SIGKILL), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lianfang.api.app import create_app
from lianfang.auth.choices import Role
from lianfang.auth.scope import SYSTEM
from lianfang.config import Settings
from lianfang.db.engine import make_sessionmaker, transaction
from lianfang.forecast import service, worker
from lianfang.forecast.models import ForecastRun, RunKind, RunStatus
from lianfang.pii import mask_id
from tests.conftest import BACKENDS, PG_URL, bearer, empty_database, seeded_engine
from tests.factories import COUNTY, OTHER_TOWN, PASSWORD, TOWN, VILLAGE, id_number, role_username
from tests.serving import call, free_port, serving
from tests.web.test_pages import sign_in

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 240


T = TypeVar("T")


def until(what: Callable[[], T | None], timeout: float = WAIT_S, every: float = 0.2) -> T:
    """Poll ``what`` until it gives something other than None (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s")
        time.sleep(every)


# --- inputs are checked at the request -------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"r0": 100}, "r0"),
        ({"r0": "many"}, "r0"),
        ({"latent_days": 1e9}, "latent_days"),
        ({"asymptomatic_fraction": [0.5, 0.3, 0.3, 0.2]}, "asymptomatic_fraction"),
        ({"vaccinated": [0.5, 0.3, 0.3, 0.2, 1.5]}, "vaccinated"),
        ({"market_every_days": 2.5}, "market_every_days"),
        ({"latent_days": 0}, "latent_days"),  # the core's own rule, asked on the way in
        ({"village_share": 0.9, "town_share": 0.2}, "village_share"),
        ({"R0": 2.5}, "R0"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it_and_nothing_is_queued(
    client: TestClient, session: Session, parameters: dict[str, object], field: str
) -> None:
    before = session.scalar(select(func.count()).select_from(ForecastRun))
    answer = client.post(
        "/api/forecast/runs",
        headers=bearer(client, Role.admin),
        json={"area_code": TOWN, "days": 30, "parameters": parameters},
    )
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["message"]
    assert client.app.state.started_forecasts == []  # type: ignore[attr-defined]
    assert session.scalar(select(func.count()).select_from(ForecastRun)) == before


def test_a_fits_days_and_cut_off_are_checked_at_the_request(client: TestClient) -> None:
    headers = bearer(client, Role.admin)
    series = ("v.csv", "date,visits\n2022-12-01,3\n2022-12-02,5\n", "text/csv")
    for data, field in (
        ({"area_code": TOWN, "days": "-1"}, "days"),
        ({"area_code": TOWN, "days": "1000"}, "days"),
        ({"area_code": TOWN, "until": "soon"}, "until"),
    ):
        answer = client.post(
            "/api/forecast/fits", headers=headers, data=data, files={"series": series}
        )
        assert answer.status_code == 422, answer.text
        assert field in answer.json()["message"]


def test_the_pages_forms_are_checked_like_the_api(client: TestClient) -> None:
    sign_in(client, Role.city_commander)
    page = client.get(f"/forecast?area={TOWN}")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": csrf, "area_code": TOWN, "days": "3", "members": "0"}
    answer = client.post("/forecast", data=form)
    assert answer.status_code == 422
    assert "days" in answer.text
    answer = client.post(
        "/forecast/fit",
        data={"csrf_token": csrf, "area_code": TOWN, "until": "2023-02-30"},
        files={"series": ("v.csv", "date,visits\n2022-12-01,3\n", "text/csv")},
    )
    assert answer.status_code == 422
    assert "until" in answer.text
    assert client.app.state.started_forecasts == []  # type: ignore[attr-defined]


# --- the queue says where a run is ------------------------------------------------------------


def test_a_queued_run_says_how_many_are_ahead(client: TestClient) -> None:
    headers = bearer(client, Role.district_operator)  # this server computes none (conftest)
    answers = [
        client.post("/api/forecast/runs", headers=headers, json={"area_code": VILLAGE, "days": 30})
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [202] * 4
    assert [a.json()["queued_ahead"] for a in answers] == [0, 1, 2, 3]
    assert answers[0].json()["progress_text"] == "排队中，下一个开始"
    assert answers[3].json()["progress_text"] == "排队中，前面还有 3 个"
    last = answers[3].json()["id"]
    english = client.get(f"/api/forecast/runs/{last}", headers=headers | {"Accept-Language": "en"})
    assert english.json()["progress_text"] == "queued, 3 ahead"
    listed = client.get("/api/forecast/runs", headers=headers, params={"area": VILLAGE}).json()
    assert [r["queued_ahead"] for r in listed] == [3, 2, 1, 0]  # newest first
    sign_in(client, Role.district_operator)
    page = client.get(f"/forecast/runs/{last}")
    assert "排队中，前面还有 3 个" in page.text
    assert "排队中，前面还有 3 个" in client.get(f"/forecast/runs/{last}/progress").text
    assert "排队中，前面还有 3 个" in client.get(f"/forecast?area={VILLAGE}").text


def test_failed_runs_show_a_message_not_a_traceback(client: TestClient, session: Session) -> None:
    headers = bearer(client, Role.admin)
    run_id = client.post(
        "/api/forecast/runs", headers=headers, json={"area_code": VILLAGE, "days": 30}
    ).json()["id"]
    run = session.get(ForecastRun, run_id)
    assert run is not None
    service.fail(session=session, run=run, reason=service.interrupted(run))
    legacy = service.create_run(
        session=session, actor=SYSTEM, code=VILLAGE, kind=RunKind.forecast, inputs={}
    )
    service.mark(session=session, run=legacy, status=RunStatus.failed)
    legacy.error = "TypeError: __init__() got an unexpected keyword argument 'x'\nTraceback ..."
    session.flush()
    zh = client.get(f"/api/forecast/runs/{run_id}", headers=headers).json()
    en = client.get(f"/api/forecast/runs/{run_id}", headers=headers | {"Accept-Language": "en"})
    assert zh["error"] == "计算这次运行时服务器停止了（已完成 0%）；请重新开始"
    assert en.json()["error"].startswith("the server stopped while this run was being computed")
    old = client.get(f"/api/forecast/runs/{legacy.id}", headers=headers).json()["error"]
    assert "TypeError" not in old
    assert "Traceback" not in old
    sign_in(client, Role.admin)
    page = client.get(f"/forecast/runs/{legacy.id}").text
    assert "TypeError" not in page
    assert "计算失败" in page


def test_the_server_processes_of_one_host_share_the_limit(session: Session) -> None:
    """`serve --workers N`: each process has a queue, and a claim counts every run computing on
    the host, so N processes still compute at most ``forecast_jobs`` runs at once."""

    def new_run(worker: str | None = None) -> ForecastRun:
        return service.create_run(
            session=session, actor=SYSTEM, code=VILLAGE, kind=RunKind.forecast, inputs={},
            worker=worker,
        )  # fmt: skip

    computing = new_run(worker="here:101")  # claimed by another server process on this host
    elsewhere = new_run(worker="there:7")  # and one on another machine
    waiting = new_run()
    assert {computing.status, elsewhere.status} == {RunStatus.running}
    assert service.claim_next(session=session, worker="here:102", limit=1) is None
    claimed = service.claim_next(session=session, worker="here:102", limit=2)
    assert claimed is not None
    assert claimed.id == waiting.id
    assert claimed.worker == "here:102"
    new_run()
    assert service.claim_next(session=session, worker="here:103", limit=2) is None
    assert service.claim_next(session=session, worker="there:8", limit=2) is not None


# --- a real server: the bounded queue, orphans, the worker's log ------------------------------


@dataclass(frozen=True)
class Served:
    """A seeded database of one back end, committed to (this module's own)."""

    url: str
    engine: Engine

    def run(self, run_id: int) -> ForecastRun:
        with Session(self.engine) as session:
            run = session.get(ForecastRun, run_id)
            assert run is not None
            return run

    def runs(self, ids: list[int]) -> list[ForecastRun]:
        with Session(self.engine) as session:
            found = session.scalars(select(ForecastRun).where(ForecastRun.id.in_(ids)))
            return sorted(found, key=lambda r: r.id)


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    name = "jobs" if request.param == "sqlite" else f"{make_url(PG_URL).database}_jobs"
    url = empty_database(request.param, tmp_path_factory, name)
    engine = seeded_engine(url)
    yield Served(url, engine)
    engine.dispose()


def token(base: str, role: Role = Role.admin) -> dict[str, str]:
    answer = call(
        "POST",
        f"{base}/api/auth/token",
        body={"username": role_username(role), "password": PASSWORD},
    )
    assert answer.status == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_the_server_computes_at_most_forecast_jobs_runs_at_once(served: Served) -> None:
    app = create_app(Settings(database_url=served.url, forecast_jobs=2), served.engine)
    with serving(app) as base:
        headers = token(base)
        ids = []
        for _ in range(5):
            answer = call(
                "POST",
                f"{base}/api/forecast/runs",
                body={"area_code": OTHER_TOWN, "days": 60},
                headers=headers,
            )
            assert answer.status == 202, answer.text
            ids.append(answer.json()["id"])
        most = 0
        seen_queued: set[int] = set()

        def finished() -> bool | None:
            nonlocal most
            runs = served.runs(ids)
            most = max(most, sum(r.status is RunStatus.running for r in runs))
            seen_queued.update(r.id for r in runs if r.status is RunStatus.queued)
            return True if all(r.status is RunStatus.done for r in runs) else None

        until(finished, every=0.05)
    assert most == 2  # two at a time, never more
    assert ids[-1] in seen_queued  # the last waited its turn
    runs = served.runs(ids)
    assert [r.started_at is not None for r in runs] == [True] * 5
    starts = [r.started_at for r in runs]
    assert starts == sorted(starts)  # oldest first  # type: ignore[type-var]


def _serve_process(served: Served, port: int, jobs: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "LIANFANG_DATABASE_URL": served.url,
        "LIANFANG_FORECAST_JOBS": str(jobs),
        "PYTHONPATH": str(ROOT / "src"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "lianfang", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool | None:
        try:
            return True if call("GET", f"{base}/login", timeout=2).status == 200 else None
        except OSError:
            return None

    try:
        until(answering, timeout=60)
    except AssertionError:
        process.kill()
        raise AssertionError(process.communicate(timeout=10)[1].decode()[-3000:]) from None
    return process


def _gone(pid: int) -> bool:
    return not service._alive(pid)


def test_a_killed_server_leaves_no_run_computing_for_ever(served: Served) -> None:
    port = free_port()
    server = _serve_process(served, port, jobs=1)
    base = f"http://127.0.0.1:{port}"
    try:
        headers = token(base)
        long = call(
            "POST",
            f"{base}/api/forecast/runs",
            body={"area_code": COUNTY, "days": 120, "members": 200},
            headers=headers,
        ).json()["id"]
        waiting = call(
            "POST",
            f"{base}/api/forecast/runs",
            body={"area_code": VILLAGE, "days": 30},
            headers=headers,
        ).json()
        assert waiting["status"] == "queued"

        def computing() -> ForecastRun | None:
            run = served.run(long)
            return run if run.status is RunStatus.running and run.progress > 0 else None

        running = until(computing)
        detail = json.loads(running.progress_detail or "{}")  # what the worker reported so far
        assert detail["unit"] == "members"
        assert detail["scenario"] == 1
        assert 0 < detail["done"] < detail["total"] == 200
        shown = call("GET", f"{base}/api/forecast/runs/{long}", headers=headers).json()
        assert shown["progress_text"].startswith("计算中 · 情景 1 / 2")
        assert served.run(waiting["id"]).status is RunStatus.queued
        worker_pid = int((running.worker or "").rpartition(":")[2])
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    until(lambda: True if _gone(worker_pid) else None, timeout=30)  # it died with the server
    assert served.run(long).status is RunStatus.running  # nobody has said otherwise yet
    app = create_app(Settings(database_url=served.url, forecast_jobs=1), served.engine)
    with serving(app) as base:
        failed = until(
            lambda: served.run(long) if served.run(long).status is RunStatus.failed else None
        )
        answer = call("GET", f"{base}/api/forecast/runs/{long}", headers=token(base)).json()
        assert answer["error"].startswith("计算这次运行时服务器停止了")
        assert json.loads(failed.error or "")["en"].startswith("the server stopped")
        done = until(  # the run that was still queued is computed in its turn
            lambda: True if served.run(waiting["id"]).status is RunStatus.done else None
        )
        assert done
        # a worker that dies on its own (out of memory, killed) fails its run too
        victim = call(
            "POST",
            f"{base}/api/forecast/runs",
            body={"area_code": COUNTY, "days": 120, "members": 200},
            headers=token(base),
        ).json()["id"]
        computing_victim = until(
            lambda: (
                served.run(victim)
                if served.run(victim).status is RunStatus.running
                and served.run(victim).progress > 0
                else None
            )
        )
        os.kill(int((computing_victim.worker or "").rpartition(":")[2]), signal.SIGKILL)
        killed = until(
            lambda: served.run(victim) if served.run(victim).status is RunStatus.failed else None
        )
        assert "-9" in json.loads(killed.error or "")["en"]


def test_the_workers_log_has_the_traceback_and_no_id_numbers(served: Served) -> None:
    number = id_number("19450203", 5)
    with transaction(make_sessionmaker(served.engine)) as session:
        run = service.queue(
            session=session,
            actor=SYSTEM,
            code=VILLAGE,
            kind=RunKind.forecast,
            inputs=service.forecast_inputs(
                days=30, members=0, seed=0, scenarios=[{"name": "x", "start": number}]
            ),
        )
        run_id = run.id
    script = (
        "from lianfang.db import background; from lianfang.forecast import flows; "
        f"background.run_in_process(flows.compute, {served.url!r}, {run_id})"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script],
        env=os.environ | {"PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1
    assert "Traceback" in finished.stderr
    assert f"forecast run {run_id} failed" in finished.stderr
    assert number not in finished.stderr
    assert mask_id(number) in finished.stderr
    failed = served.run(run_id)
    assert failed.status is RunStatus.failed
    reason = json.loads(failed.error or "")
    assert number not in failed.error  # type: ignore[operator]
    assert "Traceback" not in reason["en"]
    assert reason["en"].startswith("the stored inputs of this run cannot be computed")


def test_progress_is_reported_in_days_or_members(client: TestClient, session: Session) -> None:
    headers = bearer(client, Role.admin)
    factory = sessionmaker(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    for body, unit, total in (
        ({"area_code": VILLAGE, "days": 30}, "days", 30),  # one deterministic run: days
        ({"area_code": TOWN, "days": 30, "members": 70}, "members", 70),  # two batches
    ):
        run_id = client.post("/api/forecast/runs", headers=headers, json=body).json()["id"]
        shares: list[float] = []
        worker.execute(factory, run_id, workers=1, tick=shares.append)
        assert shares == sorted(shares)
        assert len(set(shares)) > 2  # progress between the start and the end
        read = client.get(f"/api/forecast/runs/{run_id}", headers=headers).json()
        assert read["status"] == "done"
        assert read["progress_detail"] == {
            "scenario": 2,
            "scenarios": 2,
            "name": read["inputs"]["scenarios"][1]["name"],
            "done": total,
            "total": total,
            "unit": unit,
        }


def test_an_idle_queue_looks_without_taking_the_write_lock(engine: Engine) -> None:
    import sqlite3

    from lianfang.forecast.flows import JobQueue

    queue = JobQueue(str(engine.url), make_sessionmaker(engine), limit=1)
    other = None
    if engine.dialect.name == "sqlite":  # a long writer holds SQLite's one write lock
        other = sqlite3.connect(str(engine.url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        queue.step()  # nothing is queued: it reads, and neither waits nor fails
        assert time.monotonic() - started < 2.0
        assert queue.running == {}
    finally:
        if other is not None:
            other.execute("ROLLBACK")
            other.close()
