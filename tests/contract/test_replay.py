"""`pruefstand replay`: the shipped scenarios pass in-process and over HTTP; a wrong target fails at the right step
with what was expected and what came; lint rejects malformed scenarios naming file, step and key."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pruefstand.contracts.scenarios import ScenarioError, load_scenario
from pruefstand.contracts.spec_catalog import scenarios_root
from pruefstand.mock_server.cli import main
from pruefstand.mock_server.commands.api_specs import all_specs
from pruefstand.mock_server.serving.process_hygiene import free_port
from tests.conftest import ADMIN_TOKEN
from tests.contract.test_fuzz_own_apis import serving_app
from tests.contract.test_serve_process import serving, stop

SCENARIOS = scenarios_root()
Z41 = SCENARIOS / "maco" / "berechnungsformel_z41_accepted.yaml"


def test_every_shipped_scenario_passes_in_process_and_the_reports_show_it(tmp_path: Path) -> None:
    junit, report, as_json = tmp_path / "j.xml", tmp_path / "r.md", tmp_path / "r.json"
    result = CliRunner().invoke(
        main, ["replay", str(SCENARIOS), "--junit", str(junit), "--report", str(report), "--json", str(as_json)]
    )
    assert result.exit_code == 0, result.output
    shipped = len(list(SCENARIOS.rglob("*.yaml")))
    # the push scenario plays the seller towards a listener under test: without --push-to none of its steps can run
    expected = f"{shipped} scenario(s): {shipped - 1} passed, 0 failed, 1 skipped (no step could run here)"
    assert expected in result.output
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == shipped
    assert all(s.get("failures") == "0" for s in suites)
    runs = json.loads(as_json.read_text(encoding="utf-8"))
    z41 = next(r for r in runs if r["file"].endswith("berechnungsformel_z41_accepted.yaml"))
    assert [s["outcome"] for s in z41["steps"]] == ["passed", "passed", "passed"]
    assert z41["steps"][0]["exchanges"][1]["status"] == 201
    markdown = report.read_text(encoding="utf-8")
    diagram = (
        markdown.split("## START_BERECHNUNGSFORMEL, Marktlokation, Z41")[1].split("```mermaid\n")[1].split("```")[0]
    )
    assert diagram.startswith("sequenceDiagram\n")
    assert "    participant backend\n    participant admin\n    participant SUT as System under test" in diagram
    assert "    backend->>SUT: POST /oauth/token (login)\n    SUT-->>backend: 200" in diagram
    assert "    backend->>SUT: POST /inbound (inbound)\n    SUT-->>backend: 201 businessKey=" in diagram
    assert "    admin->>SUT: GET /sandboxes/scn-" in diagram


@pytest.mark.slow
def test_the_shipped_scenarios_pass_against_serve_over_http(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with serving(db, free_port()) as (base, proc):
        as_mock = CliRunner().invoke(
            main,
            ["replay", str(SCENARIOS), "--url", base, "--mock", "--listen", "127.0.0.1:0"],
            env={"PRUEFSTAND_ADMIN_TOKEN": ADMIN_TOKEN},
        )
        as_real = CliRunner().invoke(main, ["replay", str(Z41), "--url", base])
        wrong_base = CliRunner().invoke(main, ["replay", str(Z41), "--api-url", f"maco={base}"])  # /maco forgotten
        stop(proc, db)
    assert wrong_base.exit_code == 1
    assert f"nothing answers at {base}/oauth/token; is the API's base path right" in wrong_base.output
    assert as_mock.exit_code == 0, as_mock.output
    assert as_real.exit_code == 0, as_real.output
    assert "skip 3. the process is readable with the derived Prüfidentifikator 25001" in as_real.output
    assert "look the process up in the MACO APP back office by its businessKey" in as_real.output
    assert "ok   3." not in as_real.output


def test_a_server_that_answers_a_wrong_field_fails_at_that_step(tmp_path: Path) -> None:
    async def token(_request: Request) -> JSONResponse:
        return JSONResponse({"access_token": "t", "token_type": "Bearer", "expires_in": 900})

    async def inbound(_request: Request) -> JSONResponse:
        return JSONResponse({"businessKey": "4c7170ed-3518-41ee-8582-39ab65b00107", "message": "ok"}, status_code=201)

    wrong = Starlette(
        routes=[Route("/oauth/token", token, methods=["POST"]), Route("/inbound", inbound, methods=["POST"])]
    )
    with serving_app(wrong) as url:
        result = CliRunner().invoke(
            main, ["replay", str(Z41), "--api-url", f"maco={url}", "--json", str(tmp_path / "r.json")]
        )
    assert result.exit_code == 1, result.output
    steps = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))[0]["steps"]
    assert steps[0]["outcome"] == "failed"
    [problem] = steps[0]["problems"]
    assert problem.startswith("$.message: expected to match '^received event START_BERECHNUNGSFORMEL with id ")
    assert problem.endswith("started process with businessKey [0-9a-f-]{36}$', got 'ok'")
    assert [s["outcome"] for s in steps[1:]] == ["skipped", "skipped"]


def test_a_server_that_breaks_the_contract_is_reported_whatever_the_step_expects() -> None:
    async def token(_request: Request) -> JSONResponse:
        return JSONResponse({"access_token": "t", "token_type": "Bearer", "expires_in": 900})

    async def inbound(_request: Request) -> JSONResponse:
        return JSONResponse({"businessKey": "not-a-uuid"}, status_code=201)

    broken = Starlette(
        routes=[Route("/oauth/token", token, methods=["POST"]), Route("/inbound", inbound, methods=["POST"])]
    )
    with serving_app(broken) as url:
        result = CliRunner().invoke(main, ["replay", str(Z41), "--api-url", f"maco={url}"])
    assert result.exit_code == 1
    assert "answer breaks the contract: $: 'message' is a required property" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\napis: [maco]\nsteps: []\n", "steps: [] should be non-empty"),
        (
            "name: x\napis: [maco]\nactors: {b: {api: maco}}\nsteps:\n  - name: s\n    request: {actor: b}\n",
            "steps[0].request: 'operation' is a required property",
        ),
        (
            "name: x\napis: [maco]\nactors: {b: {api: maco}}\nsteps:\n"
            "  - name: s\n    request: {actor: c, operation: inbound}\n",
            "steps[0].request.actor: unknown actor 'c'",
        ),
        (
            "name: x\napis: [maco]\nactors: {b: {api: maco}}\nsteps:\n"
            "  - name: s\n    request: {actor: b, operation: nope}\n",
            "steps[0].request.operation: no operation 'nope' in MACO APP trigger API",
        ),
        (
            "name: x\napis: [maco]\nactors: {b: {api: maco}}\nsteps:\n"
            "  - name: s\n    request: {actor: b, operation: inbound, example: Z99}\n",
            "steps[0].request.example: inbound has no example 'Z99'",
        ),
        (
            "name: x\napis: [tmf]\nsteps:\n  - name: s\n    request: {actor: b, operation: x}\n",
            "apis: unknown API 'tmf'",
        ),
        (
            "name: x\napis: [maco]\nsteps:\n  - name: s\n    request: {actor: b, operation: x}\n    surprise: 1\n",
            "steps[0]: Additional properties are not allowed ('surprise' was unexpected)",
        ),
    ],
)
def test_lint_rejects_malformed_scenarios_naming_file_step_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    specs = all_specs()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, specs)
    assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)
    result = CliRunner().invoke(main, ["lint", str(path)])
    assert result.exit_code == 1
    assert f"FAIL  {path}: {message}" in result.output


CALLBACK = SCENARIOS / "maco" / "backend_callback.yaml"


def _await_variant(tmp_path: Path, *, set_backend: bool, pruefi: str) -> Path:
    import yaml

    data = yaml.safe_load(CALLBACK.read_text(encoding="utf-8"))
    if not set_backend:
        data["steps"] = data["steps"][1:]
    data["steps"][-2]["await_events"]["within"] = 1
    data["steps"][-2]["await_events"]["events"][0]["expect"]["subset"]["transaktionsdaten"]["pruefidentifikator"] = (
        pruefi
    )
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_an_event_that_never_comes_fails_the_await_step_saying_so(tmp_path: Path) -> None:
    path = _await_variant(tmp_path, set_backend=False, pruefi="25001")
    result = CliRunner().invoke(main, ["replay", str(path), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    steps = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))[0]["steps"]
    assert steps[1]["kind"] == "await_events"
    assert steps[1]["problems"] == ["event 1 at /updateProcessData: not received"]


def test_an_event_with_a_wrong_field_fails_saying_what_was_expected_and_what_came(tmp_path: Path) -> None:
    path = _await_variant(tmp_path, set_backend=True, pruefi="99999")
    result = CliRunner().invoke(main, ["replay", str(path), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    steps = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))[0]["steps"]
    assert steps[2]["problems"] == [
        "event 1 at /updateProcessData: received one, but $.transaktionsdaten.pruefidentifikator: "
        "expected '99999', got '25001'"
    ]
    assert steps[3]["outcome"] == "skipped"


def test_a_scenario_whose_steps_were_all_skipped_is_reported_as_skipped_not_passed(tmp_path: Path) -> None:
    only_mock = tmp_path / "only_mock.yaml"
    only_mock.write_text(
        "name: only mock steps\n"
        "apis: [admin]\n"
        "actors:\n"
        "  seller:\n"
        "    api: admin\n"
        "steps:\n"
        "- name: the seller's clock stands still\n"
        "  mock:\n"
        "    actor: seller\n"
        "    operation: get_clock\n"
        "    path: {sandbox: x}\n"
        "    expect: {status: 200}\n"
        "  instead: nothing to check against a real system\n",
        encoding="utf-8",
    )
    with serving_app(Starlette()) as url:  # a real system (it answers), where none of the mock's steps can run
        result = CliRunner().invoke(main, ["replay", str(only_mock), "--url", url])
    assert result.exit_code == 0, result.output
    assert "1 scenario(s): 0 passed, 0 failed, 1 skipped (no step could run here)" in result.output
