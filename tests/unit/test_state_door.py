"""Flows touch state through one door per sandbox (docs/ARCHITECTURE.md, State): `store.unit_of_work(sandbox)` and
`store.view(sandbox)`; the store-wide calls (transactions over any sandboxes, reset, the outbox, the journals) are
for the admin API, the delivery worker and the HTTP layer. Cross-sandbox lookups of declared kinds (`locate`,
`sandboxes_with`) are the one exception."""

from __future__ import annotations

import ast
from pathlib import Path

FLOWS = Path(__file__).resolve().parents[2] / "mock_server" / "flows"
STORE_WIDE = {"transaction", "reset_sandbox", "outbox", "journal", "redeliver_dead", "claim_due", "put_many"}


def test_no_flow_opens_a_transaction_over_any_sandboxes_or_calls_store_wide_operations() -> None:
    found = []
    for path in sorted(FLOWS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in STORE_WIDE and _on_a_store(node.value):
                found.append(f"{path.relative_to(FLOWS)}:{node.lineno} .{node.attr}")
    assert found == []


def test_no_flow_reads_the_store_without_naming_the_sandbox_door() -> None:
    found = []
    for path in sorted(FLOWS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"get", "find", "count"} and _on_a_store(node.value):
                found.append(f"{path.relative_to(FLOWS)}:{node.lineno} .{node.attr}")
    assert found == []


def _on_a_store(value: ast.expr) -> bool:
    """`store.x`, `self._store.x`, `ctx.store.x`."""
    if isinstance(value, ast.Name):
        return value.id == "store"
    return isinstance(value, ast.Attribute) and value.attr in {"store", "_store"}
