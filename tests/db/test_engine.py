import pytest

from lianfang.db.engine import make_engine, normalise_url
from lianfang.errors import DatabaseUnavailableError, InvalidInputError


def test_plain_postgresql_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        normalise_url(url)


def test_an_unreachable_server_is_named_without_its_password() -> None:
    with pytest.raises(DatabaseUnavailableError) as caught:
        make_engine("postgresql://someone:secret@127.0.0.1:1/nothing")
    assert "127.0.0.1:1" in caught.value.en
    assert "secret" not in caught.value.en
