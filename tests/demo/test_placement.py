import numpy as np
import pytest
import shapely

from lianfang.demo.placement import Town, host_shape, place_county, sample_inside

SQUARE = shapely.box(120.0, 32.0, 120.5, 32.5)
L_SHAPE = shapely.Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])


def test_samples_lie_inside_the_shape() -> None:
    points = sample_inside(L_SHAPE, 500, np.random.default_rng(3))
    assert points.shape == (500, 2)
    assert shapely.contains_xy(L_SHAPE, points[:, 0], points[:, 1]).all()


def test_every_town_and_village_is_placed_inside_and_deterministically() -> None:
    towns = [Town("a", 12), Town("b", 5), Town("c", 0), Town("d", 30)]
    first = place_county(L_SHAPE, towns, np.random.default_rng(9))
    again = place_county(L_SHAPE, towns, np.random.default_rng(9))
    assert first == again
    seats, villages = first
    assert set(seats) == {"a", "b", "c", "d"}
    assert [len(villages[t.code]) for t in towns] == [12, 5, 0, 30]
    everything = list(seats.values()) + [p for ps in villages.values() for p in ps]
    xy = np.array(everything)
    assert shapely.contains_xy(L_SHAPE, xy[:, 0], xy[:, 1]).all()
    assert len(set(everything)) == len(everything)


def test_town_seats_are_spread_out() -> None:
    towns = [Town(str(i), 3) for i in range(9)]
    seats, _ = place_county(SQUARE, towns, np.random.default_rng(1))
    xy = np.array(list(seats.values()))
    gaps = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) + np.eye(9)
    # nine evenly spread seats in a 0.5° square lie about 0.17° apart; random ones nearly touch
    assert gaps.min() > 0.08


def test_villages_sit_nearer_their_own_town_than_most_others() -> None:
    towns = [Town(str(i), 10) for i in range(6)]
    seats, villages = place_county(SQUARE, towns, np.random.default_rng(2))
    own = 0
    total = 0
    codes = list(seats)
    centres = np.array([seats[c] for c in codes])
    for code, points in villages.items():
        for point in points:
            nearest = codes[int(((centres - np.array(point)) ** 2).sum(1).argmin())]
            own += nearest == code
            total += 1
    assert own / total > 0.9


def test_a_zone_without_a_boundary_lies_within_its_neighbours() -> None:
    left = shapely.box(0, 0, 1, 1)
    right = shapely.box(1, 0, 2, 1)
    shape = host_shape(None, [left, right], (1.0, 0.5), villages=40)
    assert shapely.union_all([left, right]).contains(shape)
    assert shape.area > 0
    assert host_shape(left, [right], (1.0, 0.5), 5) is left


def test_an_empty_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sample_inside(shapely.Polygon(), 5, np.random.default_rng(0))
