"""Settings: flag over environment over default, and refusals that name both."""

from __future__ import annotations

import pytest

from serving.errors import SettingsError
from serving.settings import ServiceSettings, resolve_settings


def test_defaults_without_flags_or_environment() -> None:
    settings = resolve_settings({}, {})
    assert settings == ServiceSettings()
    assert settings.model == "models/house-price"
    assert settings.cors_origins == []
    assert settings.strict_categories is False


def test_environment_fills_unset_flags_and_flags_win() -> None:
    environ = {"HPP_PORT": "9000", "HPP_WORKERS": "2", "HPP_STRICT_CATEGORIES": "true"}
    settings = resolve_settings({"port": 9100, "workers": None}, environ)
    assert settings.port == 9100
    assert settings.workers == 2
    assert settings.strict_categories is True


def test_cors_origins_from_a_comma_separated_variable() -> None:
    environ = {"HPP_CORS_ORIGINS": "https://a.example, https://b.example,"}
    settings = resolve_settings({}, environ)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_blank_variable_counts_as_unset() -> None:
    assert resolve_settings({}, {"HPP_PORT": "  "}).port == 8000


@pytest.mark.parametrize(
    ("flags", "environ", "says"),
    [
        ({"port": 70000}, {}, "invalid --port (or $HPP_PORT): Expected `int` <= 65535"),
        ({}, {"HPP_MAX_BATCH": "0"}, "invalid --max-batch (or $HPP_MAX_BATCH)"),
        ({}, {"HPP_CORS_ORIGINS": ""}, None),
        ({"log_level": "loud"}, {}, "invalid --log-level (or $HPP_LOG_LEVEL)"),
        ({}, {"HPP_MAX_BODY_BYTES": "12"}, "Expected `int` >= 1024"),
    ],
    ids=["port_range", "batch_zero", "empty_list", "log_level", "body_too_small"],
)
def test_bad_values_name_the_flag_and_variable(
    flags: dict[str, object], environ: dict[str, str], says: str | None
) -> None:
    if says is None:
        resolve_settings(flags, environ)
        return
    with pytest.raises(SettingsError) as caught:
        resolve_settings(flags, environ)
    assert says in str(caught.value)
