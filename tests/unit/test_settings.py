"""Settings: defaults < TOML file < PRUEFSTAND_* environment < flags; wrong values named with their source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pruefstand.mock_server.flows.maco.settings import MacoSettings
from pruefstand.mock_server.flows.quittung.settings import QuittungSection
from pruefstand.mock_server.flows.tmf622.settings import Tmf622Settings
from pruefstand.mock_server.kernel.settings import ExtraApi, SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings(env={})
    assert (settings.host, settings.port, settings.db) == ("127.0.0.1", 8080, "pruefstand.db")
    assert settings.max_body_bytes == 1_048_576
    assert settings.section("maco", MacoSettings).token_lifetime == 900
    assert settings.section("maco", MacoSettings).strict_check_digits is False
    assert settings.section("maco", MacoSettings).idempotency == "conflict"


def test_layers_override_in_order(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text(
        'port = 9000\ndb = "from-file.db"\n[maco]\ntoken_lifetime = 60\nstrict_check_digits = true\n'
        '[[apis]]\nspec = "x.yaml"\nbase_path = "/x"\n',
        encoding="utf-8",
    )
    env = {"PRUEFSTAND_CONFIG": str(config), "PRUEFSTAND_DB": "from-env.db", "PRUEFSTAND_MACO_TOKEN_LIFETIME": "120"}
    settings = load_settings(env=env, overrides={"db": "from-flag.db", "port": None})
    assert settings.port == 9000  # file
    assert settings.section("maco", MacoSettings).token_lifetime == 120  # env beats file
    assert settings.db == "from-flag.db"  # flag beats env
    assert settings.section("maco", MacoSettings).strict_check_digits is True
    assert settings.extra_apis == (ExtraApi(Path("x.yaml"), "/x"),)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PRUEFSTAND_PORT": "eighty"}, "environment variable PRUEFSTAND_PORT: port must be int, got 'eighty'"),
        ({"PRUEFSTAND_MACO_IDEMPOTENCY": "maybe"}, "maco_idempotency must be one of ('conflict', 'payload')"),
    ],
)
def test_wrong_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env=env)
    assert message in str(caught.value)


def test_unknown_key_in_the_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text("prot = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"p.toml: unknown setting 'prot'"):
        load_settings(config, env={})


def test_workers_default_to_the_cpus_and_to_one_for_memory() -> None:
    assert 1 <= load_settings(env={}).effective_workers() <= 4
    assert load_settings(env={}, overrides={"workers": 3}).effective_workers() == 3
    assert load_settings(env={}, overrides={"workers": 3, "db": ":memory:"}).effective_workers() == 1


def test_an_admin_token_is_generated_when_none_is_set() -> None:
    first, second = load_settings(env={}).with_admin_token(), load_settings(env={}).with_admin_token()
    assert len(first.admin_token) >= 32
    assert first.admin_token != second.admin_token
    assert load_settings(env={"PRUEFSTAND_ADMIN_TOKEN": "t"}).with_admin_token().admin_token == "t"


def test_tmf622_and_quittung_tables_and_variables(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text(
        '[tmf622]\nstep_delay = 60\ncallback = "callback"\n[quittung]\nenergy_price_ct = "29.5"\nstrict = true\n',
        encoding="utf-8",
    )
    env = {"PRUEFSTAND_CONFIG": str(config), "PRUEFSTAND_TMF622_TIMEZONE": "UTC", "PRUEFSTAND_ID_SEED": "ci"}
    settings = load_settings(env=env)
    tmf622 = settings.section("tmf622", Tmf622Settings)
    quittung = settings.section("quittung", QuittungSection)
    assert (tmf622.step_delay, tmf622.callback, tmf622.timezone) == (60.0, "callback", "UTC")
    assert (quittung.energy_price_ct, quittung.strict, settings.id_seed) == ("29.5", True, "ci")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PRUEFSTAND_TMF622_BUYER_PROGRESS", "sometimes", "tmf622_buyer_progress must be one of ('auto', 'manual')"),
        ("PRUEFSTAND_TMF622_CALLBACK", "both", "tmf622_callback must be one of ('listener', 'callback')"),
        ("PRUEFSTAND_TMF622_TIMEZONE", "Mars/Olympus", "tmf622_timezone: unknown time zone 'Mars/Olympus'"),
        ("PRUEFSTAND_QUITTUNG_ENERGY_PRICE_CT", "-3", "quittung_energy_price_ct must be a decimal number >= 0"),
        ("PRUEFSTAND_QUITTUNG_BASE_PRICE_EUR", "zwölf", "quittung_base_price_eur must be a decimal number >= 0"),
        ("PRUEFSTAND_CLOCK_START", "2026-01-01T08:00:00", "clock_start must be an ISO 8601 date-time with a zone"),
    ],
)
def test_wrong_tmf622_quittung_and_reproducibility_settings_are_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(env={variable: value})
