"""Area levels and coordinate sources."""

from __future__ import annotations

from lianfang.choices import Choice
from lianfang.i18n import Text, _, pgettext


class AreaLevel(Choice):
    province = ("province", _("province"), "#5470c6")
    city = ("city", _("city"), "#5470c6")
    county = ("county", _("county/district"), "#91cc75")
    town = ("town", _("town/street"), "#fac858")
    village = ("village", _("village/community"), "#ee6666")

    @property
    def depth(self) -> int:
        """0 for a province, 4 for a village."""
        return list(AreaLevel).index(self)

    @property
    def child(self) -> AreaLevel | None:
        """The level one below, None for a village."""
        levels = list(AreaLevel)
        return levels[self.depth + 1] if self.depth + 1 < len(levels) else None


class CoordSource(Choice):
    surveyed = ("surveyed", _("surveyed"), "#3ba272")
    centroid = ("centroid", _("published centroid"), "#5470c6")
    placed = ("placed", _("placed for the demo (not surveyed)"), "#fc8452")


class PopulationSource(Choice):
    census = ("census", _("census or statistics"), "#3ba272")
    synthetic = ("synthetic", _("synthetic demo data"), "#fc8452")


AGE_BANDS: tuple[tuple[str, Text], ...] = (
    ("age_0_14", pgettext("age band", "0–14")),
    ("age_15_59", pgettext("age band", "15–59")),
    ("age_60_64", pgettext("age band", "60–64")),
    ("age_65_79", pgettext("age band", "65–79")),
    ("age_80_plus", pgettext("age band", "80+")),
)
