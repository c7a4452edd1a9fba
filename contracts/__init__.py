"""pruefstand.contracts: load contracts and check messages against them. Knows nothing of the mock.

The names below are imported on first use (PEP 562), so a command that only reads a contract does not pay for the
validators' imports."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ContractError": "pruefstand.contracts.errors",
    "MalformedMessage": "pruefstand.contracts.errors",
    "SpecLoadError": "pruefstand.contracts.errors",
    "parse_json_body": "pruefstand.contracts.json_body",
    "DispatchingValidator": "pruefstand.contracts.message_validation",
    "SchemaValidator": "pruefstand.contracts.message_validation",
    "Violation": "pruefstand.contracts.message_validation",
    "json_path": "pruefstand.contracts.message_validation",
    "bundled_spec_path": "pruefstand.contracts.spec_catalog",
    "specs_root": "pruefstand.contracts.spec_catalog",
    "Spec": "pruefstand.contracts.spec_loader",
    "load_spec": "pruefstand.contracts.spec_loader",
}

if TYPE_CHECKING:
    from pruefstand.contracts.errors import ContractError, MalformedMessage, SpecLoadError
    from pruefstand.contracts.json_body import parse_json_body
    from pruefstand.contracts.message_validation import DispatchingValidator, SchemaValidator, Violation, json_path
    from pruefstand.contracts.spec_catalog import bundled_spec_path, specs_root
    from pruefstand.contracts.spec_loader import Spec, load_spec


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pruefstand.contracts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ContractError",
    "DispatchingValidator",
    "MalformedMessage",
    "SchemaValidator",
    "Spec",
    "SpecLoadError",
    "Violation",
    "bundled_spec_path",
    "json_path",
    "load_spec",
    "parse_json_body",
    "specs_root",
]
