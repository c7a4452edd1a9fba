"""Hostile and broken requests get a 4xx in the API's own error shape, never a 500, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import Services
from pruefstand.mock_server.flows.maco.records import PROCESS_KIND
from tests.conftest import make_settings

JSON = {"Content-Type": "application/json"}


def deep(levels: int) -> bytes:
    return b'{"stammdaten":' * levels + b"{}" + b"}" * levels


CASES: list[tuple[str, bytes, dict[str, str], int, str]] = [
    (
        "malformed JSON",
        b'{"zusatzdaten": ',
        JSON,
        400,
        "Malformed request: body is not valid JSON: Expecting value",
    ),
    ("trailing garbage", b"{}}", JSON, 400, "Malformed request: body is not valid JSON: Extra data"),
    ("invalid UTF-8", b'{"a": "\xff\xfe"}', JSON, 400, "Malformed request: body is not valid UTF-8"),
    (
        "wrong content type",
        b"<xml/>",
        {"Content-Type": "application/xml"},
        415,
        "Invalid Content-type (application/xml)",
    ),
    (
        "form instead of JSON",
        b"a=1",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "Invalid Content-type",
    ),
    ("nested too deep", deep(65), JSON, 400, "Malformed request: body is nested deeper than 64 levels"),
    (
        "nested beyond the parser",
        b"[" * 500_000 + b"]" * 500_000,
        JSON,
        400,
        "Malformed request: body is nested deeper",
    ),
    ("empty body", b"", JSON, 400, "Validation Failed"),
    ("JSON null", b"null", JSON, 400, "Validation Failed: $: a JSON body is required"),
    ("JSON array", b"[]", JSON, 400, "Validation Failed: $: [] is not of type 'object'"),
    (
        "number out of range",
        b'{"a": 1e999999}',
        JSON,
        400,
        "Malformed request: body is not valid JSON: number 1e999999",
    ),
    ("NaN", b'{"a": NaN}', JSON, 400, "Malformed request: body is not valid JSON: NaN is not a JSON number"),
    ("Infinity", b'{"a": -Infinity}', JSON, 400, "Malformed request: body is not valid JSON: -Infinity is not a JSON"),
]


@pytest.mark.parametrize(("label", "body", "headers", "status", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_an_event_fail_and_stores_nothing(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    label: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    response = client.post("/maco/inbound", content=body, headers={**auth, **headers})

    assert response.status_code == status, (label, response.text)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errorCode"] == str(status)
    assert response.json()["message"].startswith(message), response.json()["message"]
    assert services.store.find("default", PROCESS_KIND) == []


def test_body_over_the_limit_is_413_before_it_is_read(client: TestClient, auth: dict[str, str]) -> None:
    body = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    response = client.post("/maco/inbound", content=body, headers={**auth, **JSON})
    assert response.status_code == 413
    assert response.json() == {
        "errorCode": "413",
        "message": f"Payload Too Large: body of {len(body)} bytes exceeds the limit of 1048576 bytes",
    }


def test_the_body_limit_is_configurable(example: Callable[[str], dict[str, Any]]) -> None:
    from pruefstand.mock_server.app import create_app
    from pruefstand.mock_server.store import SQLiteStore
    from tests.conftest import get_token

    settings = make_settings(max_body_bytes=500)
    with create_app(settings, store=SQLiteStore(":memory:")).test_client() as client:
        headers = {"Authorization": f"Bearer {get_token(client, settings)}", **JSON}
        response = client.post("/maco/inbound", content=json.dumps(example("Z41_Marktlokation")), headers=headers)
    assert response.status_code == 413


def test_a_chunked_body_over_the_limit_is_stopped_while_streaming(client: TestClient, auth: dict[str, str]) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 32768
        yield b"{}"

    response = client.post("/maco/inbound", content=chunks(), headers={**auth, **JSON})
    assert response.status_code == 413
    assert response.json()["errorCode"] == "413"


def test_a_chunked_body_within_the_limit_is_read(
    client: TestClient, auth: dict[str, str], example: Callable[[str], dict[str, Any]]
) -> None:
    payload = json.dumps(example("Z41_Marktlokation")).encode()
    response = client.post("/maco/inbound", content=iter([payload[:100], payload[100:]]), headers={**auth, **JSON})
    assert response.status_code == 201, response.text


def test_unknown_path_and_method_answer_in_the_api_shape(client: TestClient, auth: dict[str, str]) -> None:
    missing = client.get("/maco/nothing-here", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"errorCode": "404", "message": "Not Found"}
    wrong_method = client.get("/maco/inbound", headers=auth)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errorCode"] == "405"


def test_malformed_sandbox_header_is_refused(client: TestClient, settings: Any) -> None:
    from tests.conftest import token_form

    response = client.post("/maco/oauth/token", data=token_form(settings), headers={"X-Pruefstand-Sandbox": "../x"})
    assert response.status_code == 400
    assert "X-Pruefstand-Sandbox" in response.json()["error_description"]


def test_admin_errors_are_problem_json(client: TestClient, admin: dict[str, str]) -> None:
    unauthorised = client.delete("/_admin/sandboxes/default")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["content-type"] == "application/problem+json"
    bad = client.post("/_admin/sandboxes/default/clock/advance", json={"seconds": -5}, headers=admin)
    assert bad.status_code == 400
    assert bad.json()["title"] == "Bad Request"
    assert "$.seconds: -5 is less than the minimum of 0" in bad.json()["detail"]
    wrong_token = client.get("/_admin/sandboxes/default/clock", headers={"Authorization": "Bearer nope"})
    assert wrong_token.status_code == 401
    assert wrong_token.json()["detail"] == "admin token is not valid"
