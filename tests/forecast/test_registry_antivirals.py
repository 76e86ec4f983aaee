"""Antiviral demand and the antivirals measure follow the registry's red-grade people per
village; 35% of people aged 65+ where no registry is loaded."""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianfang.auth.scope import SYSTEM
from lianfang.forecast import (
    DiseaseParameters,
    Measure,
    Metapopulation,
    Scenario,
    service,
    simulate,
)
from lianfang.forecast.severity import outcomes
from lianfang.people import service as people
from lianfang.people.choices import ChangeSource, Grade
from lianfang.people.models import Person
from tests.factories import TOWN, VILLAGE, VILLAGE_2, id_number

OLD = [0, 0, 0, 800, 200]  # only people aged 65+
MOSTLY_OLD = [0, 60, 0, 800, 200]  # the first infections appear among the 15–59


def test_the_share_of_65_plus_eligible_is_red_grade_people_where_registered() -> None:
    pop = Metapopulation.from_arrays(
        ["a", "b", "c", "d"], [OLD, OLD, OLD, [500, 2000, 300, 0, 0]], [0, 0, 1, 1], [0] * 4,
        high_risk=[None, 0, 250, 40],
    )  # fmt: skip
    assert np.allclose(pop.high_risk_share(), [0.35, 0.0, 0.25, 0.0])  # d: nobody aged 65+
    capped = Metapopulation.from_arrays(["a"], [OLD], high_risk=[5000])
    assert capped.high_risk_share().tolist() == [1.0]
    assert Metapopulation.from_arrays(["a"], [OLD]).high_risk_share().tolist() == [0.35]


def test_demand_and_the_measure_follow_each_village_share() -> None:
    pop = Metapopulation.from_arrays(
        ["none", "zero", "all"], [MOSTLY_OLD] * 3, [0, 0, 0], [0, 0, 0],
        high_risk=[None, 0, 1000],
    )  # fmt: skip
    start = date(2022, 12, 1)
    plain = Scenario(start=start, seed_per_100k=200)
    treated = Scenario(
        start=start, seed_per_100k=200,
        measures=(Measure("av", start, antiviral_coverage=1.0, antiviral_effect=0.5),),
    )  # fmt: skip
    params = DiseaseParameters()
    base, cut = simulate(pop, params, plain, 90), simulate(pop, params, treated, 90)
    assert np.allclose(base.symptomatic, cut.symptomatic)  # antivirals change no transmission
    courses = outcomes(base, params)["antiviral_courses"]
    assert np.allclose(courses, base.elderly_symptomatic * [0.35, 0.0, 1.0])
    for name in ("admissions_at_onset", "icu_at_onset", "deaths_at_onset"):
        before, after = getattr(base, name).sum(axis=0), getattr(cut, name).sum(axis=0)
        assert np.allclose(before, before[0])  # three identical villages, one epidemic
        # the cut is coverage × effect × each village's eligible share of its 65+ cases
        none, zero, every = before - after
        assert zero == 0.0
        assert 0 < every < 0.5 * before[2]  # half of the 65+ cases' events; the young keep theirs
        assert abs(none - 0.35 * every) <= 1e-9 * every


def test_the_service_counts_red_grade_people_per_registered_village(session: Session) -> None:
    for index, (village, grade) in enumerate(
        [(VILLAGE, Grade.red), (VILLAGE, Grade.red), (VILLAGE, Grade.yellow),
         (VILLAGE_2, Grade.green)]
    ):  # fmt: skip
        person, _ = people.save_cells(
            session=session, actor=SYSTEM, source=ChangeSource.api,
            cells={"name": f"甲{index}", "id_number": id_number("19400101", 21 + 2 * index),
                   "area_code": village},
        )  # fmt: skip
        person.grade = grade
    session.flush()
    model = service.population_for(session=session, actor=SYSTEM, code=TOWN)
    registered = dict(
        session.execute(
            select(Person.area_code, func.count()).where(Person.area_code.startswith(TOWN[:9]))
            .group_by(Person.area_code)
        ).all()
    )  # fmt: skip
    assert set(registered) == {VILLAGE, VILLAGE_2}
    red = dict(
        session.execute(
            select(Person.area_code, func.count())
            .where(Person.area_code.startswith(TOWN[:9]), Person.grade == Grade.red)
            .group_by(Person.area_code)
        ).all()
    )  # fmt: skip
    assert red == {VILLAGE: 2}
    high_risk = model.population.high_risk
    assert high_risk is not None
    for code, value in zip(model.population.codes, high_risk, strict=True):
        if code in registered:
            assert value == red.get(code, 0), code
        else:
            assert np.isnan(value), code
    stored = model.as_inputs()["high_risk"]
    assert [None if np.isnan(v) else v for v in high_risk] == stored
