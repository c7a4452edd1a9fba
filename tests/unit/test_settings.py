"""Settings: defaults < TOML file < PRUEFSTAND_* environment < flags; wrong values named with their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.settings import ExtraApi, SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings(env={})
    assert (settings.host, settings.port, settings.db) == ("127.0.0.1", 8080, "pruefstand.db")
    assert settings.max_body_bytes == 1_048_576
    assert settings.maco.token_lifetime == 900
    assert settings.maco.strict_check_digits is False
    assert settings.maco.idempotency == "conflict"


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
    assert settings.maco.token_lifetime == 120  # env beats file
    assert settings.db == "from-flag.db"  # flag beats env
    assert settings.maco.strict_check_digits is True
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
