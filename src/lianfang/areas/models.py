"""Tables of the administrative tree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lianfang.areas.choices import AreaLevel, CoordSource, PopulationSource
from lianfang.db.base import Base, choice_column
from lianfang.timeutil import utcnow


class Area(Base):
    """An official administrative division — province, city, county/district, town/street or
    village/community — named by its 12-digit statistical code."""

    __tablename__ = "area"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(String(12), ForeignKey("area.code"), index=True)
    level: Mapped[AreaLevel] = mapped_column(choice_column(AreaLevel), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    coord_source: Mapped[CoordSource | None] = mapped_column(choice_column(CoordSource))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    population: Mapped[AreaPopulation | None] = relationship(
        back_populates="area", uselist=False, lazy="raise"
    )


class AreaPopulation(Base):
    """Resident population of a village or community by age band, from a census or the demo."""

    __tablename__ = "area_population"

    area_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("area.code", ondelete="CASCADE"), primary_key=True
    )
    age_0_14: Mapped[int] = mapped_column(Integer)
    age_15_59: Mapped[int] = mapped_column(Integer)
    age_60_64: Mapped[int] = mapped_column(Integer)
    age_65_79: Mapped[int] = mapped_column(Integer)
    age_80_plus: Mapped[int] = mapped_column(Integer)
    source: Mapped[PopulationSource] = mapped_column(choice_column(PopulationSource))
    year: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship(back_populates="population", lazy="raise")


class AreaBoundary(Base):
    """The boundary polygon of a division as GeoJSON geometry (county level in the shipped data)."""

    __tablename__ = "area_boundary"

    area_code: Mapped[str] = mapped_column(
        String(12), ForeignKey("area.code", ondelete="CASCADE"), primary_key=True
    )
    geometry: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
