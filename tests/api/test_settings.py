"""Settings from ``ANNOPLAN_*`` environment variables."""

from __future__ import annotations

import pytest

from annoplan.api.settings import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_environment({})
    assert settings.api_keys == ()
    assert settings.database_url == "sqlite:///annoplan.db"
    assert settings.max_body_bytes == 2 * 1024 * 1024


def test_keys_are_comma_separated_and_trimmed() -> None:
    settings = Settings.from_environment({"ANNOPLAN_API_KEYS": " a , b,,c "})
    assert settings.api_keys == ("a", "b", "c")
    assert len(settings.key_digests) == 3


def test_numbers_and_urls() -> None:
    settings = Settings.from_environment(
        {
            "ANNOPLAN_DATABASE_URL": "postgresql+psycopg://annoplan@db/annoplan",
            "ANNOPLAN_MAX_BODY_BYTES": "1_000_000",
            "ANNOPLAN_MAX_PLAN_WORK": "5000000",
            "ANNOPLAN_MAX_CONCURRENT_COMPUTATIONS": "4",
        }
    )
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert (settings.max_body_bytes, settings.max_plan_work, settings.max_concurrent_computations) == (
        1_000_000,
        5_000_000,
        4,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ANNOPLAN_MAX_BODY_BYTES", "2MB"), ("ANNOPLAN_MAX_BODY_BYTES", "0"), ("ANNOPLAN_MAX_PLAN_WORK", "-1")],
)
def test_invalid_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_environment({variable: value})
