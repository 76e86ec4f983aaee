"""The run page's adopt button, and the planning forecast with its stale flag on the pages."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lianfang.auth.choices import Role
from lianfang.forecast.models import ForecastRun
from lianfang.timeutil import utcnow
from tests.factories import TOWN
from tests.forecast.test_adoption import finished
from tests.web.test_pages import sign_in


def test_a_commander_adopts_a_run_on_its_page_and_the_pages_flag_it_stale(
    client: TestClient, session: Session
) -> None:
    run_id = finished(client, session, TOWN, 30)
    home = sign_in(client, Role.town_operator)
    page = client.get(f"/forecast/runs/{run_id}").text
    assert 'data-testid="adopt-form"' not in page  # a town operator may not adopt
    client.cookies.clear()
    home = sign_in(client, Role.district_operator)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert token is not None
    page = client.get(f"/forecast/runs/{run_id}").text
    assert 'data-testid="adopt-form"' in page
    answer = client.post(
        f"/forecast/runs/{run_id}/adopt",
        data={"csrf_token": token.group(1), "scenario": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get(f"/forecast/runs/{run_id}").text
    assert 'data-testid="adopted"' in page
    assert 'data-testid="planning-forecast"' in page
    assert 'data-testid="plan-stale"' not in page
    run = session.get(ForecastRun, run_id)
    assert run is not None
    run.finished_at = utcnow() - timedelta(days=9)
    session.flush()
    village = client.get("/forecast?area=320623001001").text  # inside the adopted town
    assert 'data-testid="plan-stale"' in village
    assert "9" in re.search(r'plan-stale-reasons">(.*?)</p>', village, re.S).group(1)  # type: ignore[union-attr]
