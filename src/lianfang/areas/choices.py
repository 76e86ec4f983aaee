"""Area levels and coordinate sources."""

from __future__ import annotations

from lianfang.choices import Choice


class AreaLevel(Choice):
    province = ("province", "省", "province", "#5470c6")
    city = ("city", "市", "city", "#5470c6")
    county = ("county", "县（市、区）", "county/district", "#91cc75")
    town = ("town", "乡镇（街道）", "town/street", "#fac858")
    village = ("village", "村（社区）", "village/community", "#ee6666")

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
    surveyed = ("surveyed", "实测坐标", "surveyed", "#3ba272")
    centroid = ("centroid", "公布的中心点", "published centroid", "#5470c6")
    placed = ("placed", "演示推算位置（非实测）", "placed for the demo (not surveyed)", "#fc8452")


class PopulationSource(Choice):
    census = ("census", "普查/统计数据", "census or statistics", "#3ba272")
    synthetic = ("synthetic", "演示合成数据", "synthetic demo data", "#fc8452")


AGE_BANDS: tuple[tuple[str, str, str], ...] = (
    ("age_0_14", "0–14岁", "0–14"),
    ("age_15_59", "15–59岁", "15–59"),
    ("age_60_64", "60–64岁", "60–64"),
    ("age_65_79", "65–79岁", "65–79"),
    ("age_80_plus", "80岁及以上", "80+"),
)
