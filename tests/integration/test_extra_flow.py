"""A flow defined in a test folder (tests/fixtures/extra_flow: a contract, a mount, an admin fragment, a settings
section, a scenario) is served, administered, configured, fuzzed and replayed without a line changed in the kit:
registering it is PRUEFSTAND_FLOWS=tests.fixtures.extra_flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from pruefstand.contracts.fuzzing import FuzzFinished, FuzzOptions
from pruefstand.contracts.fuzzing import fuzz as run_fuzz
from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.cli import main
from pruefstand.mock_server.commands.fuzz_target import in_process_target
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.kernel.settings import load_settings
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN
from tests.fixtures.extra_flow import FLOW, NotesSettings

MODULE = "tests.fixtures.extra_flow"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv(registry.FLOWS_ENV, MODULE)
    return {registry.FLOWS_ENV: MODULE}


@pytest.mark.usefixtures("registered")
def test_given_the_extra_flow_registered_then_the_registry_lists_it_after_the_kits_own() -> None:
    names = [info.name for info in registry.flows()]
    assert names == ["maco", "quittung", "tmf622", "notes"]
    assert registry.api("notes").base_path == "/notes-api"
    assert registry.flow_of("notes") is FLOW


def test_when_it_is_served_then_notes_are_kept_per_sandbox_and_its_errors_take_its_own_shape(
    registered: dict[str, str],
) -> None:
    settings = load_settings(env=registered, overrides={"db": ":memory:", "admin_token": ADMIN_TOKEN})
    with TestClient(create_app(settings, store=SQLiteStore(":memory:"))) as client:
        created = client.post("/notes-api/notes", json={"text": "milk"}, headers={"X-Pruefstand-Sandbox": "a"})
        assert created.status_code == 201, created.text
        note = created.json()
        assert note == {"id": "n1", "text": "milk"}
        assert client.get(f"/notes-api/notes/{note['id']}", headers={"X-Pruefstand-Sandbox": "a"}).json() == note
        missing = client.get(f"/notes-api/notes/{note['id']}")  # another sandbox
        assert (missing.status_code, missing.json()) == (404, {"problem": "no note 'n1'"})
        refused = client.post("/notes-api/notes", json={"txt": "milk"})
        assert refused.status_code == 400
        assert "text" in refused.json()["problem"]
        counted = client.get("/_admin/sandboxes/a/notes/count", headers=ADMIN)
        assert counted.json() == {"sandbox": "a", "count": 1}
        assert client.get("/_admin/sandboxes/a/notes/count").status_code == 401  # the admin API's own security
        assert client.delete("/_admin/sandboxes/a", headers=ADMIN).json()["removed"] >= 1
        assert client.get("/_admin/sandboxes/a/notes/count", headers=ADMIN).json()["count"] == 0
        assert client.get("/notes-api/openapi.json").json()["info"]["title"] == "Notes (a test flow)"
        assert "/sandboxes/{sandbox}/notes/count" in client.get("/_admin/openapi.json").json()["paths"]
        assert client.app.services.of("notes", "notes").count("default") == 0  # type: ignore[attr-defined]


def test_its_settings_section_reads_from_the_environment_and_reaches_the_flow(registered: dict[str, str]) -> None:
    env = {**registered, "PRUEFSTAND_NOTES_MAX_LENGTH": "3"}
    settings = load_settings(env=env, overrides={"db": ":memory:", "admin_token": ADMIN_TOKEN})
    assert settings.section("notes", NotesSettings) == NotesSettings(max_length=3)
    with TestClient(create_app(settings, store=SQLiteStore(":memory:"))) as client:
        refused = client.post("/notes-api/notes", json={"text": "four"})
        assert (refused.status_code, refused.json()) == (
            422,
            {"problem": "$.text: 4 characters, at most 3 (setting notes_max_length)"},
        )


def test_it_is_fuzzed_in_process_without_findings(registered: dict[str, str]) -> None:
    target = in_process_target("notes", load_settings(env=registered), {})
    options = FuzzOptions(seed=3, max_examples=10)
    [finished] = [e for e in run_fuzz(target, options) if isinstance(e, FuzzFinished)]
    assert finished.findings == ()
    assert finished.errors == ()
    assert finished.cases > 10


def test_its_scenario_is_listed_linted_and_replayed(registered: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    folder = str(Path(FLOW.scenarios))
    replayed = runner.invoke(main, ["replay", folder, "--json", str(tmp_path / "r.json")], env=registered)
    assert replayed.exit_code == 0, replayed.output
    assert "1 scenario(s): 1 passed" in replayed.output
    linted = runner.invoke(main, ["lint"], env=registered)
    assert linted.exit_code == 0, linted.output
    assert "Notes: a note is stored" in linted.output
    copied = runner.invoke(main, ["scenarios", "copy", str(tmp_path / "mine"), "--flow", "notes"], env=registered)
    assert copied.exit_code == 0, copied.output
    assert (tmp_path / "mine" / "scenarios" / "roundtrip.yaml").is_file()


def test_the_cli_choices_come_from_the_registry(registered: dict[str, str]) -> None:
    shown = CliRunner().invoke(main, ["example", "notes", "create_note", "shopping"], env=registered)
    assert shown.exit_code == 0, shown.output
    assert '"text": "milk and bread"' in shown.output
