"""``lianfang directive`` and ``lianfang tasks`` as a user runs them, on a real SQLite file: a
county directive cascaded to its villages, a village worker's task done with a note, the roll-up
counting it, and ``lianfang worker --once`` escalating what is overdue on a later day."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lianfang.auth.choices import Role
from lianfang.db.engine import make_engine, make_sessionmaker, transaction
from lianfang.dispatch.models import Task
from tests.cli.test_cli import lianfang, one_line_error
from tests.factories import COUNTY, TOWN, VILLAGE, make_user

ENV = {"LIANFANG_TODAY": "2022-12-20", "LIANFANG_LANG": "en"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('dispatch') / 'cli.db'}"
    result = lianfang("init", db=url, env={"LIANFANG_ADMIN_PASSWORD": "cli-admin-password"})
    assert result.returncode == 0, result.stderr
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        make_user(session, username="town", role=Role.town_operator, area_code=TOWN)
        make_user(session, username="doctor", role=Role.village_worker, area_code=VILLAGE)
    engine.dispose()
    return url


def test_issue_carry_out_show_and_escalate(db: str) -> None:
    made = lianfang(
        "directive", "new", "--title", "摸排重点人群", "--text", "逐户摸排", "--area", COUNTY[:6],
        "--to-level", "village", "--deadline", "2022-12-22", "--target", TOWN[:9], "--json",
        db=db, env=ENV,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    detail = json.loads(made.stdout)
    directive_id = detail["directive"]["id"]
    assert detail["rollup"]["counts"]["not_started"] == detail["rollup"]["counts"]["total"] > 1

    mine = lianfang("tasks", "mine", "--user", "doctor", "--json", db=db, env=ENV)
    assert mine.returncode == 0, mine.stderr
    (task,) = json.loads(mine.stdout)
    assert task["area_code"] == VILLAGE
    early = lianfang(
        "tasks", "act", str(task["id"]), "complete", "--user", "doctor", db=db, env=ENV
    )
    assert "cannot take the step" in one_line_error(early)
    for step, extra in (("accept", []), ("complete", ["--note", "已摸排 63 户"])):
        done = lianfang("tasks", "act", str(task["id"]), step, "--user", "doctor", *extra,
                        db=db, env=ENV)  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert "done" in done.stdout
    own = lianfang("tasks", "act", str(task["id"]), "verify", "--user", "doctor", db=db, env=ENV)
    assert "may not verify" in one_line_error(own)
    checked = lianfang("tasks", "act", str(task["id"]), "verify", "--user", "town", db=db, env=ENV)
    assert "verified" in checked.stdout, checked.stderr

    shown = lianfang("directive", "show", str(directive_id), "--area", TOWN[:9], "--json",
                     db=db, env=ENV)  # fmt: skip
    rows = {r["area_code"]: r for r in json.loads(shown.stdout)["rollup"]["rows"]}
    assert rows[VILLAGE]["counts"]["done"] == 1
    assert rows[VILLAGE]["owner"] is not None
    table = lianfang("directive", "show", str(directive_id), db=db, env=ENV)
    assert table.returncode == 0, table.stderr
    assert "not started" in table.stdout

    later = ENV | {"LIANFANG_TODAY": "2022-12-24"}
    ran = lianfang("worker", "--once", "--json", db=db, env=later)
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout)
    open_villages = detail["rollup"]["counts"]["total"] - 1
    assert outcome["ran"]["dispatch.escalate"] == open_villages
    again = json.loads(lianfang("worker", "--once", "--json", "--job", "dispatch.escalate",
                                db=db, env=later).stdout)  # fmt: skip
    assert again["ran"] == {"dispatch.escalate": 0}
    engine = make_engine(db)
    with transaction(make_sessionmaker(engine)) as session:
        escalated = session.scalars(select(Task.area_code).where(
            Task.directive_id == directive_id, Task.escalated_at.is_not(None))).all()  # fmt: skip
    engine.dispose()
    assert VILLAGE not in escalated
    assert len(escalated) == open_villages
    town = json.loads(
        lianfang("tasks", "mine", "--user", "town", "--json", db=db, env=later).stdout
    )
    assert {t["area_code"] for t in town} == set(escalated)  # the town task is split: not a leaf


def test_bad_input_is_one_line(db: str) -> None:
    late = lianfang("directive", "new", "--title", "x", "--area", COUNTY[:6], "--to-level",
                    "town", "--deadline", "2022-12-01", db=db, env=ENV)  # fmt: skip
    assert "2022-12-01" in one_line_error(late)
    bad = lianfang("directive", "new", "--title", "x", "--area", COUNTY[:6], "--to-level",
                   "town", "--deadline", "tomorrow", db=db, env=ENV)  # fmt: skip
    assert "--deadline" in one_line_error(bad)
    nobody = lianfang("tasks", "mine", "--user", "nobody", db=db, env=ENV)
    assert "nobody" in one_line_error(nobody)
