"""The pytest plugin's fixtures, as a partner's test suite would use them (registered through the entry point)."""

from __future__ import annotations

from starlette.testclient import TestClient

from mock_server.settings import Settings


def test_the_fixtures_give_a_fresh_mock_a_token_and_the_admin_api(
    pruefstand_client: TestClient,
    pruefstand_maco_auth: dict[str, str],
    pruefstand_admin_auth: dict[str, str],
    pruefstand_settings: Settings,
    example: object,
) -> None:
    body = example("Z41_Marktlokation")  # type: ignore[operator]
    started = pruefstand_client.post("/maco/inbound", json=body, headers=pruefstand_maco_auth)
    assert started.status_code == 201
    processes = pruefstand_client.get("/_admin/sandboxes/default/maco/processes", headers=pruefstand_admin_auth)
    assert [p["businessKey"] for p in processes.json()] == [started.json()["businessKey"]]
    assert pruefstand_settings.db == ":memory:"
