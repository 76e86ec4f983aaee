"""Epidemic forecast: the pure numerical core (numpy/scipy only) and, in service.py, the part
that reads areas from the database and stores runs.

>>> from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario, simulate
"""

from lianfang.forecast.engine import Trajectory, simulate
from lianfang.forecast.ensemble import Forecast, forecast
from lianfang.forecast.parameters import AGE_BANDS, DiseaseParameters
from lianfang.forecast.population import Metapopulation
from lianfang.forecast.scenario import FestivalReturn, Measure, Scenario

__all__ = [
    "AGE_BANDS",
    "DiseaseParameters",
    "FestivalReturn",
    "Forecast",
    "Measure",
    "Metapopulation",
    "Scenario",
    "Trajectory",
    "forecast",
    "simulate",
]
