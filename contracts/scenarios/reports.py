"""Reports of scenario runs: JUnit XML for CI, Markdown with a Mermaid sequence diagram of what actually happened,
and JSON for tools."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from pruefstand.contracts.scenarios.events import FAILED, SKIPPED, Exchange, ScenarioFinished

MOCK_PARTICIPANT = "System under test"
PUSH_PARTICIPANT = "Listener under test"


def junit_xml(runs: Sequence[ScenarioFinished]) -> str:
    root = ET.Element("testsuites", name="pruefstand replay")
    for run in runs:
        steps = run.steps
        suite = ET.SubElement(
            root,
            "testsuite",
            name=run.scenario.name,
            tests=str(len(steps)),
            failures=str(sum(s.outcome == FAILED for s in steps)),
            skipped=str(sum(s.outcome == SKIPPED for s in steps)),
            time=f"{run.seconds:.3f}",
            file=str(run.scenario.path),
        )
        for step in steps:
            case = ET.SubElement(suite, "testcase", classname=run.scenario.name, name=f"{step.index + 1}. {step.name}")
            if step.outcome == FAILED:
                ET.SubElement(
                    case, "failure", message=step.problems[0] if step.problems else "failed"
                ).text = "\n".join(step.problems)
            elif step.outcome == SKIPPED:
                ET.SubElement(case, "skipped", message=step.note)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _label(text: str) -> str:
    """Mermaid message text: no characters that end or break the statement."""
    return text.replace(";", ",").replace("#", "").replace("\n", " ")


def mermaid(run: ScenarioFinished) -> str:
    """The exchange that actually happened: one participant per actor, the system under test, arrows per message."""
    lines = ["sequenceDiagram"]
    actors = list(dict.fromkeys(e.actor for step in run.steps for e in step.exchanges if not (e.incoming or e.pushed)))
    listens = any(e.incoming for step in run.steps for e in step.exchanges)
    pushes = any(e.pushed for step in run.steps for e in step.exchanges)
    if pushes:
        lines.append("    participant pruefstand as pruefstand (pushes events)")
    for actor in actors:
        lines.append(f"    participant {actor}")
    lines.append(f"    participant SUT as {PUSH_PARTICIPANT if pushes and not actors else MOCK_PARTICIPANT}")
    if listens:
        lines.append("    participant listener as Listener (pruefstand)")
    for step in run.steps:
        first = actors[0] if actors else ("pruefstand" if pushes else "SUT")
        lines.append(f"    Note over {first},SUT: {step.index + 1}. {_label(step.name)}")
        for exchange in step.exchanges:
            call = f"{exchange.method} {_label(exchange.path)} ({exchange.operation})"
            if exchange.incoming:  # the system under test sent it to the listener
                lines += [f"    SUT->>listener: {call}", f"    listener-->>SUT: {exchange.status}"]
            elif exchange.pushed:  # pruefstand sent it to the listener under test
                lines += [f"    pruefstand->>SUT: {call}", f"    SUT-->>pruefstand: {exchange.status}"]
            else:
                lines += [
                    f"    {exchange.actor}->>SUT: {call}",
                    f"    SUT-->>{exchange.actor}: {exchange.status}{_summary(exchange)}",
                ]
        if step.outcome != "passed":
            lines.append(f"    Note right of SUT: {step.outcome.upper()}: {_label((step.problems or (step.note,))[0])}")
    return "\n".join(lines)


def _summary(exchange: Exchange) -> str:
    body = exchange.response_body
    if isinstance(body, dict):
        for key in ("businessKey", "errorCode", "id", "state"):
            if key in body:
                return f" {key}={_label(str(body[key]))}"
    return ""


def markdown(runs: Sequence[ScenarioFinished]) -> str:
    lines = ["# Scenario report", ""]
    for run in runs:
        lines += [
            f"## {run.scenario.name}: {run.outcome}",
            "",
            f"File `{run.scenario.path}`" + (f"; documented in {run.scenario.source}" if run.scenario.source else ""),
            "",
            "| # | step | outcome | detail |",
            "|---|---|---|---|",
        ]
        for step in run.steps:
            detail = "; ".join(step.problems) or step.note
            lines.append(f"| {step.index + 1} | {step.name} | {step.outcome} | {detail.replace('|', '/')} |")
        lines += ["", "```mermaid", mermaid(run), "```", ""]
    return "\n".join(lines)


def as_json(runs: Sequence[ScenarioFinished]) -> str:
    def step(s: Any) -> dict[str, Any]:
        return {
            "index": s.index,
            "name": s.name,
            "kind": s.kind,
            "outcome": s.outcome,
            "problems": list(s.problems),
            "note": s.note,
            "exchanges": [
                {
                    "actor": e.actor,
                    "api": e.api,
                    "operation": e.operation,
                    "method": e.method,
                    "path": e.path,
                    "request": e.request_body,
                    "status": e.status,
                    "response": e.response_body,
                    "seconds": e.seconds,
                }
                for e in s.exchanges
            ],
        }

    data = [
        {
            "name": r.scenario.name,
            "file": str(r.scenario.path),
            "outcome": r.outcome,
            "seconds": r.seconds,
            "steps": [step(s) for s in r.steps],
        }
        for r in runs
    ]
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
