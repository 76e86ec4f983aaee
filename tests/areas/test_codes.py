import pytest

from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.errors import InvalidInputError


@pytest.mark.parametrize(
    ("raw", "full", "level"),
    [
        ("32", "320000000000", AreaLevel.province),
        ("3206", "320600000000", AreaLevel.city),
        ("320612", "320612000000", AreaLevel.county),
        ("320612101", "320612101000", AreaLevel.town),
        ("320612101001", "320612101001", AreaLevel.village),
        ("320600000000", "320600000000", AreaLevel.city),
        (" 320623 ", "320623000000", AreaLevel.county),
    ],
)
def test_every_form_of_a_code_names_the_same_area(raw: str, full: str, level: AreaLevel) -> None:
    assert codes.normalise(raw) == full
    assert codes.level_of(full) is level
    assert codes.normalise(codes.short(full)) == full


@pytest.mark.parametrize(
    "raw", ["", "3", "320", "32061", "3206121010011", "32a6", "００", "3200", "320600", "00"]
)
def test_malformed_codes_are_refused_with_the_code_in_the_message(raw: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        codes.normalise(raw)
    assert repr(raw) in caught.value.en


def test_parents_and_containment() -> None:
    village = "320612101001"
    assert codes.parent_of(village) == "320612101000"
    assert codes.parent_of("320612101000") == "320612000000"
    assert codes.parent_of("320612000000") == "320600000000"
    assert codes.parent_of("320600000000") == "320000000000"
    assert codes.parent_of("320000000000") is None
    assert codes.contains("320612000000", village)
    assert not codes.contains("320613000000", village)
