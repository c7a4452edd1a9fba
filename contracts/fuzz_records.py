"""What a fuzz run keeps of each scenario, secrets masked: every check's outcome (JSON Lines) and the exchanges of
failing cases with the steps that led to them (cassettes)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from schemathesis.engine import Status

from pruefstand.contracts.secret_mask import SecretMask


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    operation: str
    phase: str
    check: str
    status: str  # success, failure, skip, error (Schemathesis' statuses)
    case_id: str
    method: str
    url: str
    response_status: int | None
    code: str = ""
    title: str = ""
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = {
            "operation": self.operation,
            "phase": self.phase,
            "check": self.check,
            "status": self.status,
            "case": self.case_id,
            "request": {"method": self.method, "url": self.url},
            "response": {"status": self.response_status},
        }
        if self.status == "failure":
            data["failure"] = {"code": self.code, "title": self.title, "message": self.message}
        return data


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer, as sent and received (credential headers and known secrets masked)."""

    operation: str
    started: float  # seconds since the epoch
    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    status: int | None
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    elapsed: float
    failed_checks: tuple[str, ...]  # empty for a step that led to the failing case


def check_outcomes(recorder: Any, phase: str, mask: SecretMask) -> tuple[CheckOutcome, ...]:
    outcomes = []
    for case_id, nodes in recorder.checks.items():
        interaction = recorder.interactions.get(case_id)
        method = interaction.request.method if interaction else ""
        url = mask.text(interaction.request.uri) if interaction else ""
        status = interaction.response.status_code if interaction and interaction.response is not None else None
        for node in nodes:
            failure = node.failure_info.failure if node.failure_info is not None else None
            outcomes.append(
                CheckOutcome(
                    operation=recorder.label,
                    phase=phase,
                    check=node.name,
                    status=str(node.status.value),
                    case_id=case_id,
                    method=method,
                    url=url,
                    response_status=status,
                    code=failure.code if failure else "",
                    title=mask.text(str(failure.title)) if failure else "",
                    message=mask.text(str(failure.message).strip()) if failure else "",
                )
            )
    return tuple(outcomes)


def failing_exchanges(recorder: Any, mask: SecretMask) -> tuple[Exchange, ...]:
    """For each case with a failed check: the exchanges of its ancestors (a stateful sequence's earlier steps), then
    its own; each exchange once, in the order they happened."""
    chosen: list[str] = []
    for case_id, nodes in recorder.checks.items():
        if not any(node.status == Status.FAILURE for node in nodes):
            continue
        lineage = []
        current: str | None = case_id
        while current is not None and current in recorder.cases:
            lineage.append(current)
            current = recorder.cases[current].parent_id
        chosen.extend(c for c in reversed(lineage) if c not in chosen)
    exchanges = []
    for case_id in chosen:
        interaction = recorder.interactions.get(case_id)
        if interaction is None:
            continue
        failed = tuple(node.name for node in recorder.checks.get(case_id, ()) if node.status == Status.FAILURE)
        exchanges.append(_exchange(recorder.label, interaction, failed, mask))
    exchanges.sort(key=lambda e: e.started)
    return tuple(exchanges)


def _exchange(operation: str, interaction: Any, failed: tuple[str, ...], mask: SecretMask) -> Exchange:
    request, response = interaction.request, interaction.response
    return Exchange(
        operation=operation,
        started=float(interaction.timestamp),
        method=request.method,
        url=mask.text(request.uri),
        request_headers=_headers(request.headers, mask),
        request_body=_masked(request.body, mask),
        status=response.status_code if response is not None else None,
        response_headers=_headers(response.headers, mask) if response is not None else (),
        response_body=_masked(response.content, mask) or b"" if response is not None else b"",
        elapsed=float(response.elapsed) if response is not None else 0.0,
        failed_checks=failed,
    )


def _headers(headers: Any, mask: SecretMask) -> tuple[tuple[str, str], ...]:
    pairs = [(name, value) for name, values in headers.items() for value in values]
    cleaned = [(name, mask.headers({name: value})[name]) for name, value in pairs]
    return tuple(cleaned)


def _masked(body: bytes | None, mask: SecretMask) -> bytes | None:
    if body is None:
        return None
    try:
        return mask.text(body.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return body


def body_text(body: bytes) -> tuple[str, str | None]:
    """A body as HAR keeps it: text when it is UTF-8, else base64 (with the encoding named)."""
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"
