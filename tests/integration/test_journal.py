"""The request journal: what partners sent and what the mock answered, per sandbox, bounded, browsable and filtered
through the admin API, with one console line per request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.http.journal import Journal
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import ADMIN_TOKEN, make_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TMF = "/tmf-api/productOrderingManagement/v4"
ORDER = {"productOrderItem": [{"id": "1", "action": "add"}]}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with create_app(make_settings(journal_size=5), store=SQLiteStore(":memory:")).test_client() as test_client:
        yield test_client


def journal(client: TestClient, sandbox: str = "j", **filters: Any) -> list[dict[str, Any]]:
    answer = client.get(f"/_admin/sandboxes/{sandbox}/requests", params=filters, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_each_request_and_answer_is_recorded_with_the_first_problem_and_no_credentials(client: TestClient) -> None:
    sandbox = {"X-Pruefstand-Sandbox": "j"}
    created = client.post(f"{TMF}/productOrder", json=ORDER, headers={**sandbox, "Authorization": "Bearer s3cret"})
    client.post(f"{TMF}/productOrder", json={"productOrderItem": []}, headers=sandbox)
    client.get(f"{TMF}/productOrder/nope", params={"fields": "state"}, headers=sandbox)
    client.get("/_admin/sandboxes/j/clock", headers=ADMIN)  # the admin API is not journaled
    newest, refused, ok = journal(client)
    assert (ok["method"], ok["path"], ok["status"], ok["sandbox"]) == ("POST", f"{TMF}/productOrder", 201, "j")
    assert ok["request"]["body"] == '{"productOrderItem":[{"id":"1","action":"add"}]}'
    assert created.json()["id"] in ok["response"]["body"]
    assert ok["response"]["headers"]["location"] == created.headers["Location"]
    assert ok["request"]["headers"]["authorization"] == "(not kept)"
    assert "s3cret" not in str(ok)
    assert "problem" not in ok
    assert refused["status"] == 400
    assert refused["problem"] == "Validation Failed: $.productOrderItem: [] should be non-empty"
    assert (newest["status"], newest["query"]) == (404, "fields=state")
    assert newest["problem"] == "no productOrder with id 'nope'"
    assert ok["seq"] < refused["seq"] < newest["seq"]
    assert newest["ms"] >= 0


def test_filters_the_ring_bound_and_sandboxes(client: TestClient) -> None:
    for n in range(7):
        client.post(f"{TMF}/productOrder", json=ORDER if n % 2 else {}, headers={"X-Pruefstand-Sandbox": "j"})
    client.get(f"{TMF}/productOrder", headers={"X-Pruefstand-Sandbox": "other"})
    kept = journal(client)
    assert [e["seq"] for e in kept] == [7, 6, 5, 4, 3]  # the newest five (journal_size=5)
    assert {e["status"] for e in journal(client, failed=True)} == {400}
    assert [e["status"] for e in journal(client, failed=False)] == [201, 201]
    assert [e["seq"] for e in journal(client, status=201, limit=1)] == [6]
    assert journal(client, method="get") == []
    assert [e["method"] for e in journal(client, "other", path="productOrder")] == ["GET"]
    assert journal(client, path="hub") == []
    assert client.get("/_admin/sandboxes/j/requests", params={"limit": 0}, headers=ADMIN).status_code == 400


def test_a_long_body_is_cut_and_one_console_line_names_the_problem(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    long_text = "x" * 5000
    with caplog.at_level(logging.INFO, logger="pruefstand.requests"):
        client.post(f"{TMF}/productOrder", json={**ORDER, "description": 7, "note": [{"text": long_text}]},
                    headers={"X-Pruefstand-Sandbox": "j"})  # fmt: skip
    [entry] = journal(client)
    assert len(entry["request"]["body"]) < 2100
    assert entry["request"]["body"].endswith("…(cut)")
    [line] = [r.getMessage() for r in caplog.records if r.name == "pruefstand.requests"]
    assert line.startswith(f"POST {TMF}/productOrder sandbox=j 400 ")
    assert "$.description" in line


def test_two_processes_on_one_store_share_one_journal(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    first = create_app(make_settings(db=db), store=SQLiteStore(db))
    second = create_app(make_settings(db=db), store=SQLiteStore(db))
    with first.test_client() as a, second.test_client() as b:
        a.post(f"{TMF}/productOrder", json=ORDER, headers={"X-Pruefstand-Sandbox": "j"})
        b.post(f"{TMF}/productOrder", json=ORDER, headers={"X-Pruefstand-Sandbox": "j"})
        a.get(f"{TMF}/productOrder", headers={"X-Pruefstand-Sandbox": "j"})  # recorded by a, read through b
        a.get("/_admin/sandboxes/j/requests", headers=ADMIN)  # a writes what it recorded
        seen = journal(b)
    assert sorted(e["seq"] for e in seen) == [1, 2, 3]  # one numbering for both
    assert [e["method"] for e in seen] == ["GET", "POST", "POST"]


@pytest.mark.parametrize("shut_down", ["executor", "none"])
def test_the_journal_loop_writes_what_is_pending_when_the_loop_takes_no_more_threads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, shut_down: str
) -> None:
    """asyncio.run ending an app whose lifespan never ended shuts the loop's executor down under the journal's loop:
    what is pending is written there and then, and the loop ends without a traceback."""
    store = SQLiteStore(tmp_path / "journal.db")
    journal = Journal(store)
    journal.record({"at": "2026-12-01T16:00:00Z", "sandbox": "j", "method": "GET", "path": "/x", "status": 200})

    async def run() -> None:
        stop = asyncio.Event()
        if shut_down == "executor":
            executor = ThreadPoolExecutor()
            asyncio.get_running_loop().set_default_executor(executor)
            executor.shutdown()
        else:
            asyncio.get_running_loop().call_later(0.05, stop.set)
        await asyncio.wait_for(journal.run_forever(stop, every=0.01), 5)

    with caplog.at_level(logging.ERROR):
        asyncio.run(run())
    try:
        assert [e["path"] for e in journal.entries("j")] == ["/x"]
        assert "writing the request journal failed" not in caplog.text
    finally:
        store.close()


def test_credentials_of_a_token_exchange_are_never_kept_or_printed(caplog: pytest.LogCaptureFixture) -> None:
    from pruefstand.mock_server.flows.maco.settings import MacoSettings
    from pruefstand.mock_server.kernel.settings import Settings

    settings = make_settings(maco_client_secret="planted-client-secret", maco_password="planted-password")
    maco = settings.section("maco", MacoSettings)
    form = {"grant_type": "password", "client_id": maco.client_id, "client_secret": maco.client_secret,
            "username": maco.username, "password": maco.password}  # fmt: skip
    assert isinstance(settings, Settings)
    with (
        caplog.at_level(logging.INFO, logger="pruefstand.requests"),
        create_app(settings, store=SQLiteStore(":memory:")).test_client() as client,
    ):
        sandbox = {"X-Pruefstand-Sandbox": "j"}
        token = client.post("/maco/oauth/token", data=form, headers=sandbox).json()["access_token"]
        client.get(f"{TMF}/productOrder", params={"access_token": token, "limit": "1"}, headers=sandbox)
        client.post(f"{TMF}/productOrder", content=f'{{"note": [{{"text": "x"}}], "password": "planted-{"y" * 3000}',
                    headers={**sandbox, "Content-Type": "application/json"})  # fmt: skip
        entries = journal(client)
    kept = str(entries)
    for secret in ("planted-client-secret", "planted-password", token, "planted-yyy"):
        assert secret not in kept
        assert secret not in caplog.text
    issued, listed = entries[2], entries[1]
    assert issued["request"]["body"] == (
        f"grant_type=password&client_id={maco.client_id}&client_secret=(not+kept)&username={maco.username}"
        "&password=(not+kept)"  # what is no credential stays
    )
    assert '"access_token": "(not kept)"' in issued["response"]["body"]
    assert '"token_type": "Bearer"' in issued["response"]["body"]
    assert listed["query"] == "access_token=(not+kept)&limit=1"
