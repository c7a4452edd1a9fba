"""The named request examples the bundled contracts document (the published MaCo triggers, TMF622 orders, ...)."""

from __future__ import annotations

import copy
from typing import Any

from pruefstand.contracts.spec_catalog import BUNDLED_APIS, bundled_spec_path
from pruefstand.contracts.spec_loader import load_spec


def request_examples(api: str, operation_id: str) -> dict[str, Any]:
    """Every named request example of an operation of a bundled API, by name (values as the contract writes them).

    Raises KeyError naming what is unknown (the API, or the operation)."""
    found = next((a for a in BUNDLED_APIS if a.name == api), None)
    if found is None:
        raise KeyError(f"no bundled API {api!r}; known: {', '.join(a.name for a in BUNDLED_APIS)}")
    operation = load_spec(bundled_spec_path(found.spec)).operation(operation_id)
    content = operation.get("requestBody", {}).get("content", {})
    return {key: value["value"] for media in content.values() for key, value in media.get("examples", {}).items()}


def request_example(api: str, operation_id: str, name: str) -> Any:
    """A fresh copy of one named request example (change it freely). KeyError names what it has instead."""
    examples = request_examples(api, operation_id)
    if name not in examples:
        raise KeyError(f"{operation_id} has no example {name!r}; it has: {', '.join(examples) or 'none'}")
    return copy.deepcopy(examples[name])
