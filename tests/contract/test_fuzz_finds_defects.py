"""`pruefstand fuzz` reports each kind of defect, and nothing where the implementation keeps its contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from pruefstand.contracts import load_spec
from pruefstand.contracts.fuzzing import FuzzFinished, FuzzOptions, FuzzTarget, fuzz
from tests.fixtures.broken_items import items_app

SPEC = Path(__file__).parents[1] / "fixtures" / "items.yaml"


def run(defect: str) -> FuzzFinished:
    target = FuzzTarget(spec=load_spec(SPEC), app=items_app(defect))
    events = list(fuzz(target, FuzzOptions(seed=3, max_examples=25)))
    finished = events[-1]
    assert isinstance(finished, FuzzFinished)
    return finished


def test_an_implementation_that_keeps_its_contract_has_no_findings() -> None:
    finished = run("none")
    assert finished.findings == ()
    assert finished.errors == ()
    assert set(finished.operations) == {"POST /items", "GET /items/{id}", "DELETE /items/{id}"}
    assert finished.cases > 50


@pytest.mark.parametrize(
    ("defect", "check", "operation"),
    [
        ("wrong_status", "status_code_conformance", "POST /items"),
        ("schema_break", "response_schema_conformance", "GET /items/{id}"),
        ("server_error_on_edge", "not_a_server_error", "POST /items"),
        ("use_after_free", "use_after_free", "DELETE /items/{id}"),
        ("accepts_invalid", "negative_data_rejection", "POST /items"),
        ("id_reused_after_delete", "IdentifiersAreNeverReused", "POST /items"),
    ],
)
def test_each_defect_is_reported(defect: str, check: str, operation: str) -> None:
    finished = run(defect)
    found = {(f.check, f.operation) for f in finished.findings}
    assert any(c == check for c, _ in found), found
    assert not finished.ok
    finding = next(f for f in finished.findings if f.check == check)
    assert finding.reproduce.startswith("curl ")
    assert finding.message
    del operation
