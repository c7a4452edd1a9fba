"""`pruefstand proxy`: a real upstream on loopback with a planted deviation; the proxy forwards unchanged, reports
the deviation live and in its journal, records the exchanges, and the recording replays green against the upstream."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.cli import main
from pruefstand.mock_server.serving.process_hygiene import free_port
from pruefstand.mock_server.store import SQLiteStore
from tests.conftest import GUARD, make_settings
from tests.contract.test_fuzz_own_apis import serving_app

ITEMS = Path(__file__).resolve().parents[1] / "fixtures" / "items.yaml"


def items_upstream() -> Starlette:
    """The items contract, implemented; an item named `broken…` comes back with an attribute the contract forbids."""
    items: dict[str, dict[str, Any]] = {}
    numbers = itertools.count(1)

    async def create(request: Request) -> Response:
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return Response(status_code=400)
        item = {"id": f"item-{next(numbers):04d}-{len(items)}", "name": body["name"]}
        items[item["id"]] = item
        shown = {**item, "colour": "red"} if item["name"].startswith("broken") else item  # the planted deviation
        return JSONResponse(shown, status_code=201)

    async def read(request: Request) -> Response:
        item = items.get(request.path_params["id"])
        return JSONResponse(item) if item else Response(status_code=404)

    async def delete(request: Request) -> Response:
        return Response(status_code=204 if items.pop(request.path_params["id"], None) else 404)

    return Starlette(
        routes=[
            Route("/items", create, methods=["POST"]),
            Route("/items/{id}", read, methods=["GET"]),
            Route("/items/{id}", delete, methods=["DELETE"]),
        ]
    )


@contextmanager
def proxy_process(upstream: str, *extra: str) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    command = [sys.executable, "-m", "pruefstand.mock_server", "proxy", "--spec", str(ITEMS), "--upstream", upstream,
               "--port", str(port), *extra]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output: dict[str, str] = {}
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + GUARD
        while True:
            try:
                httpx.get(f"{url}/_proxy/requests", timeout=2)
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.1)
        yield url, output
    finally:
        process.send_signal(signal.SIGINT)
        output["out"], output["err"] = process.communicate(timeout=GUARD)


def partner_session(proxy: str) -> dict[str, Any]:
    """What a partner's client does, through the proxy."""
    with httpx.Client(base_url=proxy, timeout=GUARD) as client:
        created = client.post("/items", json={"name": "widget"}, headers={"X-Tenant": "t1"})
        item = created.json()
        read = client.get(f"/items/{item['id']}")
        refused = client.post("/items", json={"name": 5})
        broken = client.post("/items", json={"name": "broken-1"})
        deleted = client.delete(f"/items/{item['id']}")
        unknown = client.get("/nothing/here")
    return {"created": created, "item": item, "read": read, "refused": refused, "broken": broken,
            "deleted": deleted, "unknown": unknown}  # fmt: skip


def test_the_proxy_forwards_reports_records_and_the_recording_replays(tmp_path: Path) -> None:
    record = tmp_path / "rec" / "items.yaml"
    with serving_app(items_upstream()) as upstream, proxy_process(upstream, "--record", str(record)) as (proxy, output):
        seen = partner_session(proxy)
        journal = httpx.get(f"{proxy}/_proxy/requests").json()
        broken_only = httpx.get(f"{proxy}/_proxy/requests", params={"violations": "true"}).json()
    # forwarded unchanged, both ways: the client got what the upstream answered, the deviation included
    assert seen["created"].status_code == 201
    assert seen["item"]["name"] == "widget"
    assert seen["read"].json() == seen["item"]
    assert seen["refused"].status_code == 400
    assert seen["broken"].status_code == 201
    assert seen["broken"].json()["colour"] == "red"
    assert seen["deleted"].status_code == 204
    assert seen["unknown"].status_code == 404
    # the journal: every exchange, newest first, with what broke the contract and where
    assert [e["operation"] for e in journal] == [None, "deleteItem", "createItem", "createItem", "getItem",
                                                 "createItem"]  # fmt: skip
    [unknown, deviation, invalid] = broken_only
    assert deviation["violations"]["answer"] == ["$.colour: is not in the contract here"]
    assert deviation["violations"]["request"] == []
    assert invalid["violations"]["request"] == ["$.name: 5 is not of type 'string'"]
    assert unknown["violations"]["request"] == ["GET /nothing/here: no operation in the contract has this path"]
    # live: one line per exchange, each problem under it
    assert "POST /items -> 201" in output["out"]
    assert "answer:  $.colour: is not in the contract here" in output["out"]
    assert "6 exchange(s): 2 request(s) and 1 answer(s) broke the contract" in output["err"]
    assert f"--spec items={ITEMS} --api-url items={upstream}" in output["err"]
    # the recording: the exchanges that worked, the server's id as a variable, the invalid request marked as such
    scenario = yaml.safe_load(record.read_text(encoding="utf-8"))
    steps = [step["request"] for step in scenario["steps"]]
    assert [s["operation"] for s in steps] == ["createItem", "getItem", "createItem", "deleteItem"]
    assert steps[0]["save"] == {"id": "$.id"}
    assert steps[0]["headers"] == {"x-tenant": "t1"}
    assert steps[0]["expect"] == {"status": 201, "subset": {"name": "widget"}}
    assert steps[1]["path"] == {"id": "{{ id }}"}
    assert steps[3]["path"] == {"id": "{{ id }}"}
    assert steps[2]["request_valid"] is False
    assert steps[2]["body"] == {"name": 5}
    assert "the answer broke the contract ($.colour: is not in the contract here)" in scenario["description"]
    assert "GET /nothing/here -> 404: no operation of the contract" in scenario["description"]
    assert record.stat().st_mode & 0o777 == 0o600

    with serving_app(items_upstream()) as fresh:  # a fresh upstream makes up its own ids
        replayed = CliRunner().invoke(main, ["replay", str(record), "--spec", f"items={ITEMS}",
                                             "--api-url", f"items={fresh}"])  # fmt: skip
    assert replayed.exit_code == 0, replayed.output
    assert "1 scenario(s): 1 passed, 0 failed" in replayed.output


def test_a_recording_with_the_broken_answer_fails_on_replay_naming_it(tmp_path: Path) -> None:
    record = tmp_path / "items-all.yaml"
    with serving_app(items_upstream()) as upstream:
        with proxy_process(upstream, "--record", str(record), "--record-broken") as (proxy, _):
            assert httpx.post(f"{proxy}/items", json={"name": "broken-2"}, timeout=GUARD).status_code == 201
        replayed = CliRunner().invoke(main, ["replay", str(record), "--spec", f"items={ITEMS}",
                                             "--api-url", f"items={upstream}"])  # fmt: skip
    assert replayed.exit_code == 1
    assert "answer breaks the contract: $.colour: is not in the contract here" in replayed.output


def test_an_unreachable_upstream_is_a_502_in_the_journal() -> None:
    with proxy_process(f"http://127.0.0.1:{free_port()}") as (proxy, _):
        answer = httpx.get(f"{proxy}/items/x", timeout=GUARD)
        [entry] = httpx.get(f"{proxy}/_proxy/requests").json()
    assert answer.status_code == 502
    assert "could not be reached" in answer.json()["message"]
    assert entry["status"] == 502
    assert "could not be reached" in entry["violations"]["answer"][0]


def test_the_proxy_records_wiremock_mappings_that_serve_answers_as_the_upstream_gave_them(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    with (
        serving_app(items_upstream()) as upstream,
        proxy_process(upstream, "--record-mappings", str(folder)) as (
            proxy,
            output,
        ),
        httpx.Client(base_url=proxy, timeout=GUARD) as client,
    ):
        created = client.post("/items", json={"name": "widget"})
        item = created.json()
        first = client.get(f"/items/{item['id']}")
        client.delete(f"/items/{item['id']}")
        second = client.get(f"/items/{item['id']}")  # the same request, another answer: a scenario
    files = sorted(folder.glob("*.json"))
    assert len(files) == 4
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in files)
    mapping = json.loads(files[0].read_text(encoding="utf-8"))
    widget = {"equalToJson": {"name": "widget"}, "ignoreArrayOrder": True}
    assert mapping["request"] == {"method": "POST", "url": "/items", "bodyPatterns": [widget]}
    assert mapping["response"]["status"] == 201
    assert mapping["response"]["jsonBody"] == item
    assert "4 exchange(s) written as stub mappings" in output["err"]
    # served as WireMock would serve them: the scenario gives the answers in the order they came
    settings = make_settings(mappings=str(folder))
    with TestClient(create_app(settings, store=SQLiteStore(":memory:"))) as mock:
        assert mock.post("/items", json={"name": "widget"}).json() == item
        assert mock.post("/items", json={"name": "other"}).status_code != 201  # not recorded
        assert mock.get(f"/items/{item['id']}").json() == first.json()
        assert mock.delete(f"/items/{item['id']}").status_code == 204
        assert mock.get(f"/items/{item['id']}").status_code == second.status_code == 404
