import numpy as np
import pytest

from lianfang.demo.population import CITY_SHARES, allocate, city_bands, is_community


@pytest.mark.parametrize("total", [0, 1, 7, 1_000_003])
def test_allocation_is_exact(total: int) -> None:
    parts = allocate(total, np.array([0.2, 0.3, 0.5, 1e-9]))
    assert int(parts.sum()) == total
    assert (parts >= 0).all()


def test_allocation_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        allocate(5, np.zeros(3))


def test_counties_keep_their_totals_and_the_city_its_age_structure() -> None:
    rng = np.random.default_rng(4)
    totals = [900_000, 400_000, 1_200_000]
    flags = [[False] * 200, [True] * 60 + [False] * 20, [True] * 150 + [False] * 150]
    matrices = city_bands(totals, flags, rng)
    assert [int(m.sum()) for m in matrices] == totals
    assert [m.shape for m in matrices] == [(200, 5), (80, 5), (300, 5)]
    city = sum(m.sum(axis=0) for m in matrices)
    assert np.allclose(city / city.sum(), CITY_SHARES, atol=1e-4)
    share_65 = [m[:, 3:].sum() / m.sum() for m in matrices]
    assert share_65[0] > share_65[2] > share_65[1]  # the rural county is the oldest


def test_communities_are_told_from_villages_by_name() -> None:
    assert is_community("盐垣社区居委会")
    assert not is_community("新立村委会")
