"""`push_events`: pruefstand plays the seller and pushes the seed's KUE-LE notifications to a buyer's listener under
test (`replay --push-to URL`). A conforming listener passes; one that fails an event or answers what the listener
contract does not document fails at that step, saying what was expected and what came."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pruefstand.contracts.spec_catalog import scenarios_root
from pruefstand.mock_server.cli import main
from tests.contract.test_fuzz_own_apis import serving_app

PUSH = scenarios_root() / "tmf622" / "push_termination_by_seller.yaml"


class BuyerListener:
    """A buyer's listener: records each event; answers 201, except `answers` says otherwise for the n-th event."""

    def __init__(self, answers: dict[int, int] | None = None) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answers = answers or {}

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.received.append((request.url.path, await request.json()))
            status = self.answers.get(len(self.received), 201)
            return (
                JSONResponse({"code": str(status), "reason": "refused"}, status_code=status)
                if status >= 400
                else (Response(status_code=status))
            )

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[tuple[BuyerListener, str]]:
    receiver = BuyerListener(getattr(request, "param", None))
    with serving_app(receiver.app()) as url:
        yield receiver, url + "/buyer"


def test_a_conforming_listener_receives_the_seed_sequence_and_the_report_draws_it(
    listener: tuple[BuyerListener, str], tmp_path: Path
) -> None:
    receiver, url = listener
    report = tmp_path / "push.md"
    result = CliRunner().invoke(main, ["replay", str(PUSH), "--push-to", url, "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert [path for path, _ in receiver.received] == [
        "/buyer/listener/productOrderCreateEvent",
        *["/buyer/listener/productOrderStateChangeEvent"] * 2,
        "/buyer/listener/productOrderAttributeValueChangeEvent",
        *["/buyer/listener/productOrderStateChangeEvent"] * 2,
        "/buyer/listener/productOrderAttributeValueChangeEvent",
        "/buyer/listener/productOrderStateChangeEvent",
    ]
    states = [body["event"]["productOrder"]["state"] for _, body in receiver.received]
    assert states == [
        "acknowledged",
        "acknowledged",
        "accepted",
        "accepted",
        "inProgress",
        "completed",
        "completed",
        "closed",
    ]
    closed = receiver.received[-1][1]["event"]["productOrder"]
    assert closed["stateChangeReason"] == {"code": "0010", "description": "Auftrag ausgeführt."}
    assert [h["state"] for h in closed["stateChangeHistory"]] == ["acknowledged", "accepted", "inProgress", "completed"]
    diagram = report.read_text(encoding="utf-8").split("```mermaid\n")[1].split("```")[0]
    assert "    participant pruefstand as pruefstand (pushes events)\n" in diagram
    assert "    participant SUT as Listener under test\n" in diagram
    assert "    pruefstand->>SUT: POST /listener/productOrderCreateEvent (listenProductOrderCreateEvent)\n" in diagram
    assert diagram.count("    SUT-->>pruefstand: 201") == 8


@pytest.mark.parametrize("listener", [{3: 500}], indirect=True)
def test_a_listener_that_fails_an_event_fails_at_that_step(listener: tuple[BuyerListener, str]) -> None:
    receiver, url = listener
    result = CliRunner().invoke(main, ["replay", str(PUSH), "--push-to", url])
    assert result.exit_code == 1
    assert "FAIL 3. pruefstand (the seller) sends (4) StateChange accepted 0000" in result.output
    assert "event 1 (listenProductOrderStateChangeEvent): answer 500 is not documented" in result.output
    assert "skip 4." in result.output
    assert len(receiver.received) == 3  # nothing pushed after the failing step


@pytest.mark.parametrize("listener", [{1: 200}], indirect=True)
def test_a_listener_answering_what_the_contract_does_not_document_fails(listener: tuple[BuyerListener, str]) -> None:
    _, url = listener
    result = CliRunner().invoke(main, ["replay", str(PUSH), "--push-to", url])
    assert result.exit_code == 1
    assert "FAIL 1." in result.output
    assert "answer 200 is not documented for listenProductOrderCreateEvent (201, 204, 400)" in result.output


def test_without_push_to_the_push_steps_are_skipped_and_say_how_to_run_them() -> None:
    result = CliRunner().invoke(main, ["replay", str(PUSH)])
    assert result.exit_code == 0
    assert result.output.count("no listener to push to: run with --push-to URL") == 8


def test_lint_names_the_file_step_and_key_of_a_push_to_an_unknown_operation(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: b\napis: [tmf622-listener]\nsteps:\n- name: push\n  push_events:\n    api: tmf622-listener\n"
        "    events:\n    - operation: listenNothing\n      body: {}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["lint", str(broken)])
    assert result.exit_code == 1
    assert "steps[0].push_events.events[0].operation" in result.output
    assert "no operation 'listenNothing'" in result.output


def test_a_seller_whose_events_do_not_arrive_fails_the_termination_at_the_first_await(tmp_path: Path) -> None:
    """The mock set to post events to the callback as is: the buyer's listener gets nothing at /listener/…, so the
    termination scenario fails at step 5, naming the event it waited for, and skips the rest."""
    text = (scenarios_root() / "tmf622" / "termination_by_seller.yaml").read_text(encoding="utf-8")
    short = tmp_path / "termination.yaml"
    short.write_text(text.replace("within: 15", "within: 2"), encoding="utf-8")
    result = CliRunner().invoke(main, ["replay", str(short)], env={"PRUEFSTAND_TMF622_CALLBACK": "callback"})
    assert result.exit_code == 1
    assert "FAIL 5. (2, 3) the buyer receives ProductOrderCreateEvent and StateChange acknowledged" in result.output
    assert "event 1 at /listener/productOrderCreateEvent: not received" in result.output
    assert "skip 6." in result.output


def _identifiers(report: Path) -> list[Any]:
    """What a run assigned and signed: order ids, receipt numbers, event times, signatures."""
    found: list[Any] = []
    for run in json.loads(report.read_text(encoding="utf-8")):
        for step in run["steps"]:
            for exchange in step["exchanges"]:
                answer = exchange["response"]
                if isinstance(answer, str) and answer.startswith("0x"):
                    found.append(answer)
                if isinstance(answer, dict):
                    found += [answer.get(k) for k in ("id", "orderDate", "signature", "raw") if k in answer]
                request = exchange["request"]
                if exchange["api"] == "tmf622-listener" and isinstance(request, dict):
                    found += [request.get("eventId"), request.get("eventTime")]
    return found


def test_in_process_runs_repeat_themselves_identifier_for_identifier(tmp_path: Path) -> None:
    scenarios = [str(scenarios_root() / "tmf622" / "termination_by_seller.yaml"), str(scenarios_root() / "quittung")]
    runs = []
    for name, extra in (("a", []), ("b", []), ("real", ["--real-time"])):
        report = tmp_path / f"{name}.json"
        result = CliRunner().invoke(main, ["replay", *scenarios, "--json", str(report), *extra])
        assert result.exit_code == 0, result.output
        runs.append(_identifiers(report))
    seeded, again, real = runs
    assert len(seeded) > 20
    assert seeded == again
    assert "2022-05-11T10:30:00+02:00" in seeded  # the order's date: the scenario sets the seed's clock
    assert seeded != real
