"""The named request examples a contract documents (the published MaCo triggers, TMF622 orders, ...)."""

from __future__ import annotations

from typing import Any

from pruefstand.contracts.spec_loader import Spec


def request_examples_of(spec: Spec, operation_id: str) -> dict[str, Any]:
    """Every named request example of an operation, by name (values as the contract writes them).

    Raises KeyError naming the unknown operation."""
    operation = spec.operation(operation_id)
    content = operation.get("requestBody", {}).get("content", {})
    return {key: value["value"] for media in content.values() for key, value in media.get("examples", {}).items()}
