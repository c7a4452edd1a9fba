"""`pruefstand serve --mappings DIR` as a WireMock user runs it: a folder in WireMock's `mappings/` layout loaded into
every sandbox, answered over real HTTP (faults cut the connection, delays hold the answer), and a broken mapping file
named before the server starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import ADMIN_TOKEN, GUARD
from tests.contract.test_serve_process import serving

pytestmark = pytest.mark.slow
MAPPINGS = Path(__file__).parents[1] / "fixtures" / "wiremock" / "mappings"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_a_mapping_folder_answers_over_http_in_every_sandbox_and_a_fault_cuts_the_connection(tmp_path: Path) -> None:
    mock = serving(tmp_path / "s.db", free_port(), "--mappings", str(MAPPINGS), "--workers", "1")
    with mock as (base, _), httpx.Client(base_url=base, timeout=GUARD) as client:
        for sandbox in ("default", "ci-1"):
            echoed = client.post("/echo/x1?q=y", json={"name": "N"}, headers={"X-Pruefstand-Sandbox": sandbox})
            assert echoed.json() == {"id": "x1", "q": "y", "name": "N", "method": "POST"}
        assert client.get("/todo/items").json() == {"items": ["Buy milk"]}
        assert client.post("/todo/items", content="Cancel newspaper subscription").status_code == 201
        assert len(client.get("/todo/items").json()["items"]) == 2
        assert len(client.get("/todo/items", headers={"X-Pruefstand-Sandbox": "ci-1"}).json()["items"]) == 1
        with pytest.raises(httpx.TransportError):
            client.get("/broken")
        listed = client.get("/_admin/sandboxes/ci-1/mappings", headers=ADMIN).json()
        assert listed["meta"]["total"] == 15
        journal = client.get("/_admin/sandboxes/default/requests?path=/broken", headers=ADMIN).json()
        assert journal[0]["fault"] == "CONNECTION_RESET_BY_PEER"
        assert journal[0]["stub"]


def test_a_broken_mapping_file_is_named_before_the_server_starts(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "ok.json").write_text('{"request": {"url": "/a"}, "response": {"status": 200}}', encoding="utf-8")
    (folder / "bad.json").write_text(
        '{"mappings": [{"request": {"url": "/b"}, "response": {"status": 200, "bodyFileName": "b.json"}}]}',
        encoding="utf-8",
    )
    started = subprocess.run(
        [sys.executable, "-m", "pruefstand.mock_server", "serve", "--db", ":memory:", "--port", str(free_port()),
         "--mappings", str(folder)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert started.returncode != 0
    assert f"{folder / 'bad.json'} mappings[0].response.bodyFileName: not supported" in started.stderr
