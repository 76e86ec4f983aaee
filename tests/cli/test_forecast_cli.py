"""``lianfang forecast`` as a user runs it: on the demo world, with files."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.cli.test_cli import lianfang, one_line_error

TOWN = "320623001"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('fc') / 'demo.db'}"
    built = lianfang(
        "demo", "--no-serve", db=url, env={"LIANFANG_ADMIN_PASSWORD": "pw-long-enough"}
    )
    assert built.returncode == 0, built.stderr
    return url


@pytest.fixture(scope="module")
def forecast_json(demo_db: str) -> dict:  # type: ignore[type-arg]
    result = lianfang("forecast", "run", "--area", TOWN, "--days", "80", "--json", db=demo_db)
    assert result.returncode == 0, result.stderr
    data: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return data


def test_forecast_run_prints_peaks_per_village(demo_db: str, forecast_json: dict) -> None:  # type: ignore[type-arg]
    assert len(forecast_json["scenarios"]) == 2
    assert len(forecast_json["scenarios"][0]["peaks"]) == 31 + 1
    table = lianfang("forecast", "run", "--area", TOWN, "--days", "40", db=demo_db)
    assert table.returncode == 0
    assert "高峰日" in table.stdout
    assert "合计 all" in table.stdout


def test_forecast_fit_recovers_the_curve_it_is_given(
    demo_db: str,
    forecast_json: dict,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    scenario = forecast_json["scenarios"][0]
    visits = np.array(scenario["bands"]["visits"]["median"][-1])
    rng = np.random.default_rng(3)
    observed = rng.poisson(visits)
    start = date.fromisoformat(scenario["start"])
    lines = ["date,visits"] + [
        f"{start + timedelta(days=i)},{v}" for i, v in enumerate(observed) if i % 9 != 4
    ]  # some days not reported
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    until = (start + timedelta(days=45)).isoformat()
    result = lianfang(
        "forecast",
        "fit",
        "--area",
        TOWN,
        "--series",
        str(path),
        "--until",
        until,
        "--json",
        db=demo_db,
    )
    assert result.returncode == 0, result.stderr
    fitted = json.loads(result.stdout)
    _value, low, high = fitted["estimates"]["r0"]
    assert low <= 3.0 <= high  # the default R0 that produced the series
    assert fitted["quality"]["visits"]["forecast_coverage_90"] >= 0.6
    (outcome,) = fitted["scenarios"]  # and what follows, as a run reports it, per village
    assert len(outcome["peaks"]) == 31 + 1
    assert outcome["peaks"][-1]["peak_hospital_census"] > 0
    table = lianfang("forecast", "show", str(fitted["run"]), db=demo_db)
    assert table.returncode == 0, table.stderr
    assert "r0" in table.stdout
    assert "高峰日" in table.stdout


def test_a_stored_run_is_shown_and_reproduced(demo_db: str, forecast_json: dict) -> None:  # type: ignore[type-arg]
    from lianfang.forecast.engine import RUN_FORMAT

    run = forecast_json["run"]
    shown = lianfang("forecast", "show", str(run), "--json", db=demo_db)
    assert shown.returncode == 0, shown.stderr
    stored = json.loads(shown.stdout)
    assert stored["scenarios"] == forecast_json["scenarios"]
    assert (stored["kind"], stored["status"]) == ("forecast", "done")
    assert stored["format_version"] == RUN_FORMAT
    quick = json.loads(
        lianfang("forecast", "run", "--area", TOWN, "--days", "30", "--ensemble", "3",
                 "--json", db=demo_db).stdout
    )["run"]  # fmt: skip
    again = lianfang("forecast", "rerun", str(quick), db=demo_db, env={"LIANFANG_LANG": "en"})
    assert again.returncode == 0, again.stderr
    assert f"reproduces run #{quick}" in again.stdout.replace("\n", " ")


def test_a_run_of_another_format_is_refused_in_one_line(demo_db: str) -> None:
    from sqlalchemy import create_engine, text

    quick = json.loads(
        lianfang("forecast", "run", "--area", TOWN, "--days", "20", "--json", db=demo_db).stdout
    )["run"]
    engine = create_engine(demo_db)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE forecast_run SET format_version = 99, package_version = '0.0.1' "
                 "WHERE id = :id"), {"id": quick},
        )  # fmt: skip
    engine.dispose()
    refused = lianfang("forecast", "rerun", str(quick), db=demo_db, env={"LIANFANG_LANG": "en"})
    line = one_line_error(refused)
    assert "made by lianfang 0.0.1 with run format 99" in line


def test_bad_inputs_get_one_line(demo_db: str, tmp_path: Path) -> None:
    series = tmp_path / "bad.csv"
    series.write_text("date,visits\n2022-12-01,5\n2022-13-02,7\n", encoding="utf-8")
    error = lianfang("forecast", "fit", "--area", TOWN, "--series", str(series), db=demo_db)
    assert error.returncode == 1
    assert "第 3 行「date」列" in error.stderr
    scenario = tmp_path / "s.json"
    scenario.write_text(
        '{"name": "x", "measures": [{"name": "m", "start": "2022-12-01", "contact_factor": -1}]}',
        encoding="utf-8",
    )
    bad = lianfang("forecast", "run", "--area", TOWN, "--scenario", str(scenario), db=demo_db)
    assert "contact_factor" in one_line_error(bad)
    empty = lianfang("forecast", "run", "--area", "3201", db=demo_db)
    assert empty.returncode == 1


def test_a_run_is_adopted_and_its_demand_read_for_a_village(demo_db: str) -> None:
    # A run of its own, made after any fit the other tests made (a later fit makes it stale).
    made = lianfang("forecast", "run", "--area", TOWN, "--days", "40", "--json", db=demo_db)
    assert made.returncode == 0, made.stderr
    forecast_json = json.loads(made.stdout)
    run = forecast_json["run"]
    none = lianfang("forecast", "adopted", "--area", TOWN + "001", db=demo_db)
    assert none.returncode == 1
    adopted = lianfang("forecast", "adopt", str(run), "--scenario", "1", db=demo_db)
    assert adopted.returncode == 0, adopted.stderr
    answer = lianfang("forecast", "adopted", "--area", TOWN + "001", "--json", db=demo_db)
    assert answer.returncode == 0, answer.stderr
    found = json.loads(answer.stdout)
    assert (found["run_id"], found["adopted_area_code"]) == (run, TOWN + "000")
    assert found["scenario"] == forecast_json["scenarios"][1]["name"]
    assert found["stale"] is False
    medians = found["demand"]["antiviral_courses"]["median"]
    town = forecast_json["group_codes"].index(TOWN + "001")
    assert medians == forecast_json["scenarios"][1]["bands"]["antiviral_courses"]["median"][town]
    table = lianfang("forecast", "adopted", "--area", TOWN, db=demo_db)
    assert table.returncode == 0, table.stderr
    assert "oxygen_cylinders" in table.stdout


def test_a_later_fit_makes_an_adopted_run_stale(demo_db: str, tmp_path: Path) -> None:
    made = lianfang("forecast", "run", "--area", TOWN, "--days", "30", "--json", db=demo_db)
    run = json.loads(made.stdout)["run"]
    assert lianfang("forecast", "adopt", str(run), db=demo_db).returncode == 0
    start = date.fromisoformat(json.loads(made.stdout)["scenarios"][0]["start"])
    series = tmp_path / "later.csv"
    series.write_text(
        "date,visits\n" + "".join(f"{start + timedelta(days=i)},{5 + i}\n" for i in range(20)),
        encoding="utf-8",
    )
    fitted = lianfang("forecast", "fit", "--area", TOWN, "--series", str(series), db=demo_db)
    assert fitted.returncode == 0, fitted.stderr
    answer = lianfang("forecast", "adopted", "--area", TOWN, "--json", db=demo_db,
                      env={"LIANFANG_LANG": "en"})  # fmt: skip
    found = json.loads(answer.stdout)
    assert found["stale"] is True
    assert any("made later" in reason for reason in found["stale_reasons"]), found["stale_reasons"]
