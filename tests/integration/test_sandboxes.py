"""Two pipelines sharing one mock never see each other's data; a sandbox is reset on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from pruefstand.mock_server.app import Services
from pruefstand.mock_server.flows.maco.records import PROCESS_KIND
from pruefstand.mock_server.kernel.settings import Settings
from tests.conftest import get_token

SEED_ID = "00505688-E4A2-1EDF-A0C2-C81842E2515E"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_given_two_sandboxes_then_each_sees_only_its_processes_and_keys_do_not_collide(
    client: TestClient,
    settings: Settings,
    example: Callable[[str], dict[str, Any]],
    services: Services,
    admin: dict[str, str],
) -> None:
    token_a, token_b = get_token(client, settings, "pipeline-a"), get_token(client, settings, "pipeline-b")

    a = client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=bearer(token_a))
    b = client.post("/maco/inbound", json=example("Z34_Marktlokation"), headers=bearer(token_b))

    # Same prozessId and sender with another payload: a conflict in one sandbox, independent in two.
    assert a.status_code == b.status_code == 201
    assert a.json()["businessKey"] != b.json()["businessKey"]
    listed_a = client.get(f"/_admin/sandboxes/pipeline-a/maco/processes?prozessId={SEED_ID}", headers=admin).json()
    assert [p["businessKey"] for p in listed_a] == [a.json()["businessKey"]]
    other = client.get(f"/_admin/sandboxes/pipeline-b/maco/processes/{a.json()['businessKey']}", headers=admin)
    assert other.status_code == 404
    assert services.store.find("default", PROCESS_KIND) == []


def test_the_header_picks_the_sandbox_and_the_token_only_authenticates(
    client: TestClient, settings: Settings, example: Callable[[str], dict[str, Any]], services: Services
) -> None:
    token = get_token(client, settings, "pipeline-a")
    in_b = client.post(
        "/maco/inbound",
        json=example("Z41_Marktlokation"),
        headers={**bearer(token), "X-Pruefstand-Sandbox": "pipeline-b"},
    )
    in_a = client.post("/maco/inbound", json=example("Z34_Marktlokation"), headers=bearer(token))
    assert in_b.status_code == in_a.status_code == 201
    assert [p["businessKey"] for p in services.store.find("pipeline-b", PROCESS_KIND)] == [in_b.json()["businessKey"]]
    assert [p["businessKey"] for p in services.store.find("pipeline-a", PROCESS_KIND)] == [in_a.json()["businessKey"]]


def test_reset_removes_one_sandbox_only(
    client: TestClient,
    settings: Settings,
    example: Callable[[str], dict[str, Any]],
    admin: dict[str, str],
    services: Services,
) -> None:
    token_a, token_b = get_token(client, settings, "pipeline-a"), get_token(client, settings, "pipeline-b")
    client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=bearer(token_a))
    kept = client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=bearer(token_b)).json()

    reset = client.delete("/_admin/sandboxes/pipeline-a", headers=admin)

    assert reset.status_code == 200
    # the token and the process (it keeps its digest), and the journal's page when it was flushed before the reset
    assert reset.json()["sandbox"] == "pipeline-a"
    assert reset.json()["removed"] in (2, 3)
    assert services.store.find("pipeline-a", "journal") == []
    assert services.store.find("pipeline-a", PROCESS_KIND) == []
    assert [p["businessKey"] for p in services.store.find("pipeline-b", PROCESS_KIND)] == [kept["businessKey"]]
    again = client.post("/maco/inbound", json=example("Z41_Marktlokation"), headers=bearer(token_a))
    assert again.status_code == 401  # its token went with the sandbox


def test_clocks_are_per_sandbox(client: TestClient, admin: dict[str, str]) -> None:
    frozen = client.put(
        "/_admin/sandboxes/pipeline-a/clock",
        json={"now": "2030-01-01T00:00:00Z", "frozen": True},
        headers=admin,
    )
    advanced = client.post("/_admin/sandboxes/pipeline-a/clock/advance", json={"seconds": 90}, headers=admin)
    other = client.get("/_admin/sandboxes/pipeline-b/clock", headers=admin)

    assert frozen.json() == {"sandbox": "pipeline-a", "now": "2030-01-01T00:00:00Z", "frozen": True}
    assert advanced.json()["now"] == "2030-01-01T00:01:30Z"
    assert other.json()["frozen"] is False
    assert not other.json()["now"].startswith("2030")


def test_the_clock_refuses_times_outside_its_range(client: TestClient, admin: dict[str, str]) -> None:
    early = client.put(
        "/_admin/sandboxes/a/clock", json={"now": "0252-08-04T19:39:43.20-00:46", "frozen": False}, headers=admin
    )
    assert early.status_code == 400
    assert early.json()["detail"].startswith("Validation Failed: $.now: 0252-08-04T")
    client.put("/_admin/sandboxes/a/clock", json={"now": "8999-12-31T00:00:00Z", "frozen": True}, headers=admin)
    late = client.post("/_admin/sandboxes/a/clock/advance", json={"seconds": 86400 * 2}, headers=admin)
    assert late.status_code == 400
    assert late.json()["detail"] == "Validation Failed: $.seconds: moves the clock past 9000"


def test_a_405_names_every_method_of_the_path(client: TestClient, admin: dict[str, str]) -> None:
    response = client.options("/_admin/sandboxes/a/clock", headers=admin)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT, HEAD"
    token = client.request("TRACE", "/maco/oauth/token")
    assert token.status_code == 405
    assert token.headers["allow"] == "POST"
    assert token.json()["error"] == "invalid_request"


def test_the_clock_refuses_nan(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/_admin/sandboxes/a/clock/advance",
        content=b'{"seconds": NaN}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Malformed request: body is not valid JSON: NaN is not a JSON number"
