"""Ready-made scenarios for Nantong's winter 2022–23, used by the page and the CLI default."""

from __future__ import annotations

from datetime import date

from lianfang.forecast.scenario import FestivalReturn, Measure, Scenario

WAVE_START = date(2022, 12, 1)
FESTIVAL = FestivalReturn(
    start=date(2023, 1, 7), end=date(2023, 1, 21), returnees_per_1000=60.0, infected_share=0.05
)
"""Spring Festival 2023 fell on 22 January; the return (春运) ran from 7 January."""


def baseline() -> Scenario:
    """No extra measures; migrant workers return for the Spring Festival."""
    return Scenario(name="无额外措施 no extra measures", start=WAVE_START, festival=FESTIVAL)


def protect_the_vulnerable() -> Scenario:
    """Antivirals to red-grade people, home oximetry for the elderly, surge beds, fewer contacts
    from mid-December (防重症关口前移)."""
    return Scenario(
        name="抗病毒药+指夹式血氧仪+扩容 antivirals, oximeters, surge beds",
        start=WAVE_START,
        festival=FESTIVAL,
        measures=(
            Measure(
                "防重症关口前移",
                date(2022, 12, 15),
                antiviral_coverage=0.8,
                oximetry_coverage=0.7,
                surge_beds=2000,
                contact_factor=0.85,
            ),
        ),
    )


PRESETS = {"baseline": baseline, "protect": protect_the_vulnerable}
