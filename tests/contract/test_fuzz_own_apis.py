"""`pruefstand fuzz` holds the mock to its own contracts: in-process and over HTTP, fixed seed, bounded budget.

Every Schemathesis check is on (status codes, schemas, content types, headers, negative data rejected, stateful
sequences along the links, ignored auth) plus the domain checks; positive-data acceptance for TMF622 only: the MaCo
contract cannot state the PI 25001 conditions or lokationsId-by-lokationsTyp, so those refusals are correct
(docs/DECISIONS.md, docs/HARDENING.md).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from pruefstand.mock_server.cli import main
from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import ADMIN_TOKEN, GUARD
from tests.contract.test_serve_process import serving, stop
from tests.fixtures.broken_items import items_app


# TMF622 (plain profile) states in its contract what it accepts (sort and hub query patterns, RFC 6902 operation
# members); its callbacks are pinned to the fuzzer's loopback listener: so every schema-valid request is accepted too.
@pytest.mark.parametrize(
    ("api", "extra"),
    [("maco", []), ("admin", []), ("tmf622", ["--include-positive-acceptance"]), ("quittung", [])],
)
def test_the_mock_in_process_has_no_findings(api: str, extra: list[str], tmp_path: Path) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    result = CliRunner().invoke(
        main,
        ["fuzz", api, "--seed", "1", "--max-examples", "15", "--junit", str(junit), "--report", str(report), *extra],
    )
    assert result.exit_code == 0, result.output
    assert "no findings" in result.output
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) >= 2
    assert "Result: **passed**" in report.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_mock_over_http_has_no_findings(tmp_path: Path) -> None:
    db = tmp_path / "fuzz.db"
    with serving(db, free_port()) as (base, proc):
        maco = CliRunner().invoke(
            main, ["fuzz", "maco", "--url", f"{base}/maco", "--max-examples", "10", "--with-mock-extensions"]
        )
        real_only = CliRunner().invoke(main, ["fuzz", "maco", "--url", f"{base}/maco", "--max-examples", "5"])
        tmf = CliRunner().invoke(
            main, ["fuzz", "tmf622", "--url", f"{base}/tmf-api/productOrderingManagement/v4", "--max-examples", "10"]
        )
        # the shared mock's default sandbox is left alone: the fuzzer worked in a sandbox of its own
        admin_get = functools.partial(httpx.get, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=GUARD)
        default_processes = admin_get(f"{base}/_admin/sandboxes/default/maco/processes").json()
        default_deliveries = admin_get(f"{base}/_admin/sandboxes/default/deliveries").json()
        default_requests = admin_get(f"{base}/_admin/sandboxes/default/requests").json()
        [fuzz_sandbox] = re.findall(r"in sandbox (fuzz-[0-9a-f]{8})", tmf.output)
        fuzz_deliveries = admin_get(f"{base}/_admin/sandboxes/{fuzz_sandbox}/deliveries").json()
        admin = CliRunner().invoke(
            main,
            [
                "fuzz",
                "admin",
                "--url",
                f"{base}/_admin",
                "--max-examples",
                "10",
                "-H",
                f"Authorization: Bearer {ADMIN_TOKEN}",
            ],
        )
        forgotten = CliRunner().invoke(main, ["fuzz", "quittung", "--url", base, "--max-examples", "5"])
        stop(proc, db)
    # a forgotten base path is named as such before the run starts, not reported as a heap of 404 findings
    assert forgotten.exit_code == 1, forgotten.output
    assert f"--url {base}: the contract's paths all answer 404" in forgotten.output
    assert "is the API's base path missing from --url?" in forgotten.output
    assert "FAIL " not in forgotten.output
    assert "cases" not in forgotten.output  # nothing was fuzzed
    assert maco.exit_code == 0, maco.output
    assert "GET /processes/{businessKey}" in maco.output
    assert real_only.exit_code == 0, real_only.output
    assert "GET /processes/{businessKey}" not in real_only.output  # a real MACO APP has no such operation
    server_log = db.with_suffix(".log").read_text(errors="replace")
    assert admin.exit_code == 0, admin.output + "\nserver log (tracebacks):\n" + _tracebacks(server_log)
    assert tmf.exit_code == 0, tmf.output
    assert (default_processes, default_deliveries, default_requests) == ([], [], [])
    assert {d["target"].split("/listener/")[0] for d in fuzz_deliveries} <= {"http://127.0.0.1:9/pruefstand-fuzz"}


def test_a_defect_fails_the_command_with_a_readable_report(tmp_path: Path) -> None:
    """The CLI against a server that breaks its contract: exit 1, the finding and how to reproduce it."""
    spec = Path(__file__).parents[1] / "fixtures" / "items.yaml"
    with serving_items("schema_break") as url:
        report = tmp_path / "r.md"
        result = CliRunner().invoke(
            main, ["fuzz", "--spec", str(spec), "--url", url, "--max-examples", "10", "--report", str(report)]
        )
    assert result.exit_code == 1, result.output
    assert "FAIL GET /items/{id}: Response violates schema" in result.output
    assert "Reproduce with:" in result.output
    assert "## GET /items/{id}: Response violates schema" in report.read_text(encoding="utf-8")


def _tracebacks(log: str) -> str:
    """The server's tracebacks and error lines, so a 5xx finding names its cause in the failure message."""
    lines = log.splitlines()
    kept = [line for line in lines if line.startswith(("Traceback", "  File", "    ")) or "Error" in line]
    return "\n".join(kept[-80:]) or "(none)"


def serving_items(defect: str) -> contextlib.AbstractContextManager[str]:
    """The fixture Items API on a real uvicorn server on 127.0.0.1; yields its base URL."""
    return serving_app(items_app(defect))


@contextlib.contextmanager
def serving_app(app: Any, port: int | None = None, **options: Any) -> Iterator[str]:
    """Any ASGI app on a real uvicorn server on 127.0.0.1 (a free port unless given), in a thread; yields its base
    URL (https when `options` name a certificate: uvicorn's ssl_* options)."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + GUARD
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"{'https' if options.get('ssl_certfile') else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=GUARD)
