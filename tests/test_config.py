from pathlib import Path

import pytest
from pydantic import ValidationError

from lianfang.config import Environment, Settings


def test_defaults_are_a_local_sqlite_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("LIANFANG_DATABASE_URL", "LIANFANG_ADMIN_PASSWORD", "LIANFANG_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///lianfang.db"
    assert settings.sqlite_path == Path("lianfang.db")
    assert settings.admin_password is None


def test_lianfang_toml_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lianfang.toml").write_text(
        'database_url = "postgresql://db.example/lf"\nport = 9000\nlanguage = "en"\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("LIANFANG_DATABASE_URL", raising=False)
    monkeypatch.setenv("LIANFANG_PORT", "9100")
    settings = Settings()
    assert settings.database_url == "postgresql://db.example/lf"
    assert settings.language == "en"
    assert settings.port == 9100


def test_unknown_keys_and_bad_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lianfang.toml").write_text('databse_url = "typo"\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="databse_url"):
        Settings()
    (tmp_path / "lianfang.toml").unlink()
    monkeypatch.setenv("LIANFANG_LANGUAGE", "fr")
    with pytest.raises(ValidationError, match="zh or en"):
        Settings()


def test_production_forces_secure_cookies_and_long_passwords(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(environment=Environment.production)
    assert settings.cookie_secure is True
    with pytest.raises(ValidationError, match="12 characters"):
        Settings(environment=Environment.production, admin_password="short-pw-1")
