"""Turn a fuzz run into JUnit XML (for CI), JSON Lines of every check (for machines) and Markdown (for people)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Iterator

from pruefstand.contracts.fuzz_records import CheckOutcome
from pruefstand.contracts.fuzzing import FuzzFinding, FuzzFinished


def _by_operation(finished: FuzzFinished) -> dict[str, list[FuzzFinding]]:
    grouped: dict[str, list[FuzzFinding]] = defaultdict(list)
    for finding in finished.findings:
        grouped[finding.operation].append(finding)
    return grouped


def junit_xml(finished: FuzzFinished, suite: str) -> str:
    """One test case per operation; each finding is a <failure> naming the check and how to reproduce it."""
    grouped = _by_operation(finished)
    failures = sum(1 for operation in finished.operations if grouped.get(operation))
    root = ET.Element("testsuites", name="pruefstand fuzz")
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(finished.operations)),
        failures=str(failures),
        errors=str(len(finished.errors)),
        time=f"{finished.seconds:.3f}",
    )
    for operation in finished.operations:
        case = ET.SubElement(node, "testcase", classname=suite, name=operation)
        for finding in grouped.get(operation, []):
            failure = ET.SubElement(case, "failure", type=finding.check, message=f"{finding.code} {finding.title}")
            failure.text = f"{finding.message}\n\nReproduce with:\n{finding.reproduce}\n"
    for error in finished.errors:
        ET.SubElement(ET.SubElement(node, "testcase", classname=suite, name="run"), "error", message=error)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def markdown(finished: FuzzFinished, title: str) -> str:
    verdict = "passed" if finished.ok else f"{len(finished.findings)} finding(s)"
    lines = [
        f"# Fuzz report: {title}",
        "",
        f"{len(finished.operations)} operations, {finished.cases} generated requests, {finished.seconds:.1f} s, "
        f"stopped: {finished.stop_reason}. Result: **{verdict}**.",
        "",
        "| operation | findings |",
        "|---|---|",
    ]
    grouped = _by_operation(finished)
    lines += [f"| `{op}` | {len(grouped.get(op, [])) or 'none'} |" for op in finished.operations]
    for finding in finished.findings:
        lines += [
            "",
            f"## {finding.operation}: {finding.title} ({finding.code}, check `{finding.check}`)",
            "",
            "```text",
            finding.message,
            "```",
            "",
            "Reproduce with:",
            "",
            "```bash",
            finding.reproduce,
            "```",
        ]
    if finished.errors:
        lines += ["", "## Errors", "", *(f"- {error}" for error in finished.errors)]
    return "\n".join(lines) + "\n"


def json_lines(outcomes: Iterable[CheckOutcome]) -> Iterator[str]:
    """One JSON object per check outcome (success, failure, skip, error), one per line."""
    for outcome in outcomes:
        yield json.dumps(outcome.as_dict(), ensure_ascii=False, sort_keys=True) + "\n"
