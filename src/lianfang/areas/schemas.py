"""What the API returns for areas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel, CoordSource, PopulationSource


class AreaRef(BaseModel):
    """An area by code and name."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="12-digit official code")
    name: str
    level: AreaLevel

    @computed_field  # type: ignore[prop-decorator]
    @property
    def short_code(self) -> str:
        """The code without trailing zeros (32, 3206, 320612, 320612101, 320612101001)."""
        return codes.short(self.code)


class AreaRead(AreaRef):
    """An area with its place on the map."""

    parent_code: str | None
    lon: float | None = Field(None, description="longitude, WGS-84 degrees")
    lat: float | None = Field(None, description="latitude, WGS-84 degrees")
    coord_source: CoordSource | None = Field(
        None, description="surveyed, a published centroid, or placed for the demo"
    )


class PopulationRead(BaseModel):
    """Residents by age band, summed over the villages below an area."""

    age_0_14: int = 0
    age_15_59: int = 0
    age_60_64: int = 0
    age_65_79: int = 0
    age_80_plus: int = 0
    sources: list[PopulationSource] = Field(
        default_factory=list, description="census and/or synthetic demo figures"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return self.age_0_14 + self.age_15_59 + self.age_60_64 + self.age_65_79 + self.age_80_plus

    @computed_field  # type: ignore[prop-decorator]
    @property
    def aged_65_plus(self) -> int:
        return self.age_65_79 + self.age_80_plus

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share_65_plus(self) -> float | None:
        return round(self.aged_65_plus / self.total, 4) if self.total else None


class AreaCounts(BaseModel):
    """How many divisions of each level lie below an area."""

    counties: int = 0
    towns: int = 0
    villages: int = 0


class AreaDetail(BaseModel):
    """An area, the chain above it, what lies below it and its population."""

    area: AreaRead
    ancestors: list[AreaRef] = Field(description="from the province down to the parent")
    counts: AreaCounts
    population: PopulationRead | None


class AreaChild(AreaRead):
    """A child area with the counts and population below it."""

    counts: AreaCounts
    population: PopulationRead | None


class MapPoint(BaseModel):
    """A town or village on the map."""

    code: str
    name: str
    level: AreaLevel
    lon: float
    lat: float
    coord_source: CoordSource | None


class MapData(BaseModel):
    """What the area page draws: boundary polygons and points."""

    boundaries: dict[str, object] = Field(description="GeoJSON FeatureCollection")
    points: list[MapPoint]
    placed: bool = Field(description="true when any point was placed for the demo")


class LoadReport(BaseModel):
    """What a load changed."""

    inserted: int
    updated: int
    unchanged: int
    boundaries: int
    by_level: dict[str, int]
