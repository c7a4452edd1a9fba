"""Hostile input at every operation that takes a body, of every served API, walked from the served contracts (not
a hand list): each class of malformed request gets a 4xx in its API's own error shape, never a 5xx, and nothing is
stored. Also the request head: oversized headers, a trailing slash with a forged Host."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.commands.api_specs import spec_of
from pruefstand.mock_server.kernel import registry
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, get_token, make_settings

JSON = {"Content-Type": "application/json"}
HOSTILE: dict[str, tuple[bytes, dict[str, str]]] = {
    "no content type": (b'{"a": 1}', {}),
    "integer of 5,000 digits": (b'{"a": ' + b"9" * 5000 + b"}", JSON),
    "lone surrogate in a value": (b'{"a": "\\ud800"}', JSON),
    "lone surrogate in a key": (b'{"\\udfff": 1}', JSON),
    "invalid UTF-8": (b'{"a": "\xff\xfe"}', JSON),
    "malformed JSON": (b'{"a": ', JSON),
    "nested 10,000 deep": (b"[" * 10_000 + b"]" * 10_000, JSON),
    "NaN": (b'{"a": NaN}', JSON),
    "text/plain": (b"hello", {"Content-Type": "text/plain"}),
    "odd media type": (b'{"a": 1}', {"Content-Type": "application/x-evil; charset=ebcdic"}),
    "U+0000 in a value": (b'{"a": "x\\u0000y"}', JSON),
    "U+0000 in a key": (b'{"a\\u0000": 1}', JSON),
    "a credential-looking field, cut": (b'{"password": "' + b"s" * 3000, JSON),
}
SHAPES = {
    "maco": {"errorCode", "message"},
    "tmf622": {"code", "reason", "message", "status", "@type"},
    "quittung": {"err"},
    "admin": {"type", "title", "status", "detail"},
    "token": {"error", "error_description"},
}


def body_operations() -> list[tuple[str, str, str]]:
    """(api, method, path) of every operation with a request body in the served contracts."""
    found = []
    for api in registry.apis(served=True):
        if api.resolve != "all":  # v5 has its own routes and hostile-input tests (test_tmf622_v5.py)
            continue
        document = spec_of(api.name).document
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "requestBody" in operation:
                    concrete = path.replace("{sandbox}", "default")
                    while "{" in concrete:
                        start = concrete.index("{")
                        concrete = concrete[:start] + "x" + concrete[concrete.index("}") + 1 :]
                    found.append((api.name, method.upper(), api.base_path + concrete))
    return found


OPERATIONS = body_operations()


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, dict[str, str]]]:
    db = tmp_path_factory.mktemp("hostile") / "state.db"
    settings = make_settings()
    with TestClient(create_app(settings, store=SQLiteStore(db)), raise_server_exceptions=False) as client:
        token = get_token(client, settings)
        yield client, db, {"maco": f"Bearer {token}", "admin": f"Bearer {ADMIN_TOKEN}"}


def rows(db: Path) -> dict[str, int]:
    """The state's rows, without the request journal (which records the refused request, as it should)."""
    with sqlite3.connect(db) as conn:
        return {
            "records": conn.execute("SELECT COUNT(*) FROM records WHERE kind != 'journal'").fetchone()[0],
            "outbox": conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0],
            "counters": conn.execute("SELECT COUNT(*) FROM counters WHERE name != 'journal'").fetchone()[0],
        }


def test_the_walk_covers_every_api() -> None:
    assert {api for api, _, _ in OPERATIONS} == {"maco", "tmf622", "quittung", "admin"}
    assert len(OPERATIONS) >= 20


@pytest.mark.parametrize("hostile", list(HOSTILE))
@pytest.mark.parametrize(("api", "method", "path"), OPERATIONS)
def test_hostile_bodies_get_a_4xx_in_the_apis_own_shape_and_store_nothing(
    mock: tuple[TestClient, Path, dict[str, str]], api: str, method: str, path: str, hostile: str
) -> None:
    client, db, auth = mock
    content, headers = HOSTILE[hostile]
    headers = {**headers, "X-Pruefstand-Sandbox": "hostile"}
    if api in auth:
        headers["Authorization"] = auth[api]
    before = rows(db)
    answer = client.request(method, path, content=content, headers=headers)
    assert 400 <= answer.status_code < 500, f"{method} {path} with {hostile}: {answer.status_code} {answer.text[:300]}"
    shape = "token" if path.endswith("/oauth/token") else api
    body: dict[str, Any] = answer.json()
    assert SHAPES[shape] <= set(body), f"{method} {path} with {hostile}: {body}"
    assert rows(db) == before, f"{method} {path} with {hostile} stored something"


def test_oversized_headers_are_refused_with_431(mock: tuple[TestClient, Path, dict[str, str]]) -> None:
    client, _, _ = mock
    answer = client.get("/tmf-api/productOrderingManagement/v4/productOrder", headers={"X-Big": "a" * 70_000})
    assert answer.status_code == 431
    assert answer.json()["message"].startswith("Request Header Fields Too Large: ")


def test_a_trailing_slash_answers_as_the_path_and_never_redirects_to_the_host_header(
    mock: tuple[TestClient, Path, dict[str, str]],
) -> None:
    client, _, _ = mock
    answer = client.get(
        "/tmf-api/productOrderingManagement/v4/productOrder/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert answer.status_code == 200
    assert "location" not in answer.headers
    assert answer.json() == client.get("/tmf-api/productOrderingManagement/v4/productOrder").json()


def test_a_huge_bad_value_is_named_not_echoed_whole(mock: tuple[TestClient, Path, dict[str, str]]) -> None:
    client, _, _ = mock
    answer = client.post("/tmf-api/productOrderingManagement/v4/productOrder", json={"productOrderItem": "x" * 900_000})
    assert answer.status_code == 400
    assert len(answer.content) < 4_000
    assert "more characters cut" in answer.json()["message"]


def test_an_empty_sandbox_header_is_refused_not_taken_for_the_default(
    mock: tuple[TestClient, Path, dict[str, str]],
) -> None:
    client, db, _ = mock
    before = rows(db)
    answer = client.post("/tmf-api/productOrderingManagement/v4/productOrder", headers={"X-Pruefstand-Sandbox": ""},
                         json={"productOrderItem": [{"id": "1", "action": "add"}]})  # fmt: skip
    assert answer.status_code == 400
    assert "header X-Pruefstand-Sandbox: '' is not a sandbox name" in answer.json()["message"]
    assert rows(db) == before


@pytest.mark.parametrize(("path", "body"), [
    ("/v2.0/quittung/prepare", {"accountCode": "A1", "data": {"name": "a\u0000b"}}),
    ("/tmf-api/productOrderingManagement/v4/productOrder",
     {"description": "x\u0000", "productOrderItem": [{"id": "1", "action": "add"}]}),
    ("/tmf-api/productOrderingManagement/v4/productOrder",
     {"productOrderItem": [{"id": "1", "action": "add", "note\u0000": 1}]}),
])  # fmt: skip
def test_a_nul_character_in_a_string_is_refused_naming_where(
    mock: tuple[TestClient, Path, dict[str, str]], path: str, body: dict[str, Any]
) -> None:
    client, db, _ = mock
    before = rows(db)
    answer = client.post(path, json=body, headers={"X-Pruefstand-Sandbox": "hostile"})
    assert answer.status_code == 400
    assert "holds the character U+0000 (NUL)" in answer.text
    assert rows(db) == before
