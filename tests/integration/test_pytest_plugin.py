"""The pytest plugin's fixtures, as a partner's test suite would use them (registered through the entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.kernel.settings import Settings


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


def test_a_host_suite_with_warnings_as_errors_passes_with_the_plugin_installed(tmp_path: Path) -> None:
    """A partner's own suite (filterwarnings = error) that does not use the mock, and one test that does: the
    plugin loads without importing the mock, and the fixtures raise no warning of the mock's libraries."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n", encoding="utf-8")
    (tmp_path / "test_host.py").write_text(
        "import sys\n\n"
        "def test_unrelated():\n"
        "    assert 'connexion' not in sys.modules and 'pruefstand.mock_server.app' not in sys.modules\n\n"
        "def test_with_the_mock(pruefstand_client):\n"
        "    assert pruefstand_client.get('/healthz').status_code == 200\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(Path(sys.executable).parent / "pytest"), "-q", "-p", "no:cacheprovider", "test_host.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_pruefstand_verify_counts_what_was_sent_and_fails_with_the_near_misses(
    pruefstand_client: TestClient, pruefstand_maco_auth: dict[str, str], pruefstand_verify: Any, example: Any
) -> None:
    body = example("Z41_Marktlokation")
    assert pruefstand_client.post("/maco/inbound", json=body, headers=pruefstand_maco_auth).status_code == 201
    prozess_id = body["zusatzdaten"]["prozessId"]
    by_id = ("$.zusatzdaten.prozessId", prozess_id)
    found = pruefstand_verify(method="POST", path="/maco/inbound", body_json_path=by_id, count=1)
    assert found[0]["url"] == "/maco/inbound"
    pruefstand_verify(method="POST", path="/maco/inbound", body_json={"zusatzdaten": {"prozessId": prozess_id}},
                      ignore_extra=True)  # fmt: skip
    with pytest.raises(AssertionError) as missed:
        pruefstand_verify(method="POST", path="/maco/inbond", count=1)
    message = str(missed.value)
    assert "expected 1 request(s)" in message
    assert "POST /maco/inbound" in message
    assert "urlPath: expected /maco/inbond, got /maco/inbound" in message
    with pytest.raises(AssertionError, match="expected 2 request"):
        pruefstand_verify(method="POST", path="/maco/inbound", count=2)
